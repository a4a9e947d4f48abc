//! All-or-nothing output folders.
//!
//! Outputs are first written into a hidden staging folder inside the destination and renamed
//! into place only once every file is complete. If anything fails before that, the staging
//! folder is removed, and so is the destination if this run created it: a failed run leaves
//! nothing behind.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A set of files being written into one folder.
pub struct OutputSet {
    dir: PathBuf,
    staging: PathBuf,
    created_dir: bool,
    files: Vec<PathBuf>,
    committed: bool,
}

impl OutputSet {
    /// Starts writing into `dir` (created, with its parents, if missing).
    ///
    /// # Errors
    /// [`Error::Io`] when the folder cannot be created.
    pub fn new(dir: &Path) -> Result<OutputSet> {
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let staging = dir.join(format!(".crmo-map-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        if let Err(e) = std::fs::create_dir(&staging) {
            if created_dir {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(Error::io(&staging, e));
        }
        Ok(OutputSet { dir: dir.to_path_buf(), staging, created_dir, files: Vec::new(), committed: false })
    }

    /// The destination folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a file named `name` is staged (for writers that want a path).
    pub fn staged_path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// Stages a file with the given bytes.
    ///
    /// # Errors
    /// [`Error::Io`] naming the final path when the write fails.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.staging.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(self.dir.join(name), e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(self.dir.join(name), e))?;
        self.files.push(PathBuf::from(name));
        Ok(())
    }

    /// Moves every staged file into place.
    ///
    /// # Errors
    /// [`Error::Io`] when a rename fails.
    pub fn commit(mut self) -> Result<()> {
        for f in &self.files {
            let to = self.dir.join(f);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::rename(self.staging.join(f), &to).map_err(|e| Error::io(&to, e))?;
        }
        self.committed = true;
        let _ = std::fs::remove_dir_all(&self.staging);
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            if self.created_dir {
                let _ = std::fs::remove_dir(&self.dir);
            }
        }
    }
}

/// Where each of a run's outputs goes inside the output folder.
///
/// `run` writes its native names (`report.json`, `lesions.nii.gz`, ...) at the folder's top;
/// a BIDS derivative names them by the scan's entities and puts the maps and tables in
/// `anat/` and the pictures and review page in `figures/`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OutputNames {
    /// The names `crmo-map run` documents, at the top of the folder.
    #[default]
    Native,
    /// BIDS derivative names with this prefix (`sub-01` or `sub-01_ses-1`).
    Bids {
        /// The entities every file name starts with.
        prefix: String,
    },
}

impl OutputNames {
    /// The path (relative to the output folder) of the output whose native name is `native`.
    pub fn place(&self, native: &str) -> String {
        let OutputNames::Bids { prefix } = self else { return native.to_string() };
        let p = prefix;
        if let Some(rest) = native.strip_prefix("review/") {
            return format!("figures/review/{rest}");
        }
        for (stem, desc) in [("lesions.", "lesions"), ("regions.", "regions")] {
            if let Some(ext) = native.strip_prefix(stem) {
                if ext != "png" && ext != "csv" {
                    return format!("anat/{p}_desc-{desc}_dseg.{ext}");
                }
            }
        }
        match native {
            "report.json" => format!("anat/{p}_desc-crmomap_report.json"),
            "lesions.csv" => format!("anat/{p}_desc-crmomap_lesions.csv"),
            "overview.png" => format!("figures/{p}_desc-overview.png"),
            "regions.png" => format!("figures/{p}_desc-regions.png"),
            "review.html" => format!("figures/{p}_review.html"),
            other => format!("anat/{p}_{other}"),
        }
    }

    /// The overview picture as the review page links it (relative to the page's folder).
    pub fn overview_from_review(&self) -> String {
        let (page, overview) = (self.place("review.html"), self.place("overview.png"));
        let dir = Path::new(&page).parent().unwrap_or(Path::new(""));
        Path::new(&overview).strip_prefix(dir).map_or(overview.clone(), |p| p.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_left_when_not_committed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/b");
        {
            let mut set = OutputSet::new(&out).unwrap();
            set.add("x.txt", b"hello").unwrap();
        }
        assert!(!out.exists());
        let mut set = OutputSet::new(&out).unwrap();
        set.add("x.txt", b"hello").unwrap();
        set.add("sub/y.txt", b"y").unwrap();
        set.commit().unwrap();
        assert_eq!(std::fs::read(out.join("x.txt")).unwrap(), b"hello");
        assert_eq!(std::fs::read(out.join("sub/y.txt")).unwrap(), b"y");
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }

    #[test]
    fn bids_names_follow_the_derivatives_layout() {
        let n = OutputNames::Bids { prefix: "sub-01_ses-2".into() };
        assert_eq!(n.place("lesions.nii.gz"), "anat/sub-01_ses-2_desc-lesions_dseg.nii.gz");
        assert_eq!(n.place("lesions.tsv"), "anat/sub-01_ses-2_desc-lesions_dseg.tsv");
        assert_eq!(n.place("regions.label.txt"), "anat/sub-01_ses-2_desc-regions_dseg.label.txt");
        assert_eq!(n.place("lesions.csv"), "anat/sub-01_ses-2_desc-crmomap_lesions.csv");
        assert_eq!(n.place("report.json"), "anat/sub-01_ses-2_desc-crmomap_report.json");
        assert_eq!(n.place("regions.png"), "figures/sub-01_ses-2_desc-regions.png");
        assert_eq!(n.place("review/data.js"), "figures/review/data.js");
        assert_eq!(n.overview_from_review(), "sub-01_ses-2_desc-overview.png");
        assert_eq!(OutputNames::Native.place("lesions.tsv"), "lesions.tsv");
        assert_eq!(OutputNames::Native.overview_from_review(), "overview.png");
    }
}
