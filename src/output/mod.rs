//! All-or-nothing output folders.
//!
//! A run's outputs are written into a hidden folder beside the destination
//! (`.crmo-map-new-<name>-<host>.<pid>`) and, once every file is complete, swapped in as a
//! whole ([`publish::swap_in`]: one `renameat2(RENAME_EXCHANGE)`), so that the destination
//! holds either the complete previous outputs or the complete new ones at every moment, kill -9
//! included. That needs a destination that holds nothing but this set's outputs (a folder
//! given to crmo-map's outputs, as `--out` is meant to be); when it holds other files (the
//! demo's `input/`, an evaluation's `runs/`), the outputs are renamed into it one by one
//! instead, each subfolder whole. If anything fails before the end, the staged files are
//! removed, and so are the folders this run created: a failed run leaves nothing behind.
//! Leftovers of killed runs are removed by the next run into the same place.

pub mod publish;
pub mod run_files;

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A set of files being written into one folder.
pub struct OutputSet {
    dir: PathBuf,
    staging: PathBuf,
    /// The staging folder is beside `dir` (so the set can be swapped in whole), not inside it.
    beside: bool,
    /// Folders this run created (the destination or its parents), deepest first.
    created: Vec<PathBuf>,
    files: Vec<PathBuf>,
    committed: bool,
}

/// The missing ancestors of `dir` (deepest first), then creates them.
fn create_parents(dir: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<PathBuf> =
        dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(Path::to_path_buf).collect();
    if let Some(top) = missing.first() {
        std::fs::create_dir_all(top).map_err(|e| Error::io(top, e))?;
    }
    Ok(missing)
}

/// Whether `dir` may be swapped as a whole: not a symbolic link, not the working folder or
/// one of its parents, and not itself a folder being staged (a cohort unit's, which is
/// swapped in whole later).
fn swappable(dir: &Path) -> bool {
    if dir.file_name().is_some_and(|n| publish::is_temporary(&n.to_string_lossy())) {
        return false;
    }
    let is_link = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    if is_link || is_mount_point(dir) {
        return false;
    }
    let holds_cwd = match (std::fs::canonicalize(dir), std::env::current_dir()) {
        (Ok(d), Ok(cwd)) => cwd.starts_with(d),
        _ => false,
    };
    dir.file_name().is_some() && !holds_cwd
}

/// Whether `dir` is on another file system than its parent (a mounted volume, as a BIDS
/// App's output folder in a container often is): nothing can be renamed over it.
#[cfg(unix)]
fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(d), Ok(p)) => d.dev() != p.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_mount_point(_: &Path) -> bool {
    false
}

impl OutputSet {
    /// Starts writing into `dir` (created, with its parents, when the set is committed).
    ///
    /// # Errors
    /// [`Error::Io`] when the staging folder cannot be created.
    pub fn new(dir: &Path) -> Result<OutputSet> {
        publish::recover(dir)?;
        publish::recover_inside(dir);
        let created = create_parents(dir.parent().unwrap_or(Path::new("")))?;
        let mut set = OutputSet {
            dir: dir.to_path_buf(),
            staging: PathBuf::new(),
            beside: false,
            created,
            files: Vec::new(),
            committed: false,
        };
        if swappable(dir) {
            if let Ok(staging) = publish::fresh_dir(dir) {
                set.staging = staging;
                set.beside = true;
                return Ok(set);
            }
        }
        // Stage inside the destination instead.
        if !dir.exists() {
            std::fs::create_dir(dir).map_err(|e| Error::io(dir, e))?;
            set.created.insert(0, dir.to_path_buf());
        }
        set.staging = publish::staging_inside(dir)?;
        Ok(set)
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

    /// The top-level names of the set (files, and the first folder of nested files).
    fn top_names(&self) -> BTreeSet<String> {
        self.files
            .iter()
            .filter_map(|f| f.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    }

    /// Whether the destination holds something that is not this set's (nor a leftover): a
    /// name the set does not write, or writes as a file where a folder is, or the reverse.
    fn holds_others(&self) -> bool {
        let ours = self.top_names();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return false };
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let same_kind = e.path().is_dir() == self.staging.join(&name).is_dir();
            !publish::is_temporary(&name) && (!ours.contains(&name) || !same_kind)
        })
    }

    /// Checks, before anything is moved, that every entry can replace what is at its place.
    ///
    /// # Errors
    /// [`Error::Output`] naming the first entry in the way (a folder where a file goes, or
    /// the reverse).
    fn check_places(&self) -> Result<()> {
        for name in self.top_names() {
            let (from, to) = (self.staging.join(&name), self.dir.join(&name));
            if let Ok(m) = std::fs::symlink_metadata(&to) {
                if m.is_dir() != from.is_dir() {
                    let (is, goes) = if m.is_dir() { ("a folder", "a file") } else { ("a file", "a folder") };
                    return Err(Error::Output { path: to, message: format!("is {is} where crmo-map writes {goes}") });
                }
            }
        }
        Ok(())
    }

    /// Puts every staged file into place: the whole set at once when the destination holds
    /// nothing else, else entry by entry.
    ///
    /// # Errors
    /// [`Error::Io`] when a rename fails.
    pub fn commit(mut self) -> Result<()> {
        if self.beside && !self.holds_others() {
            if let Ok(m) = std::fs::metadata(&self.dir) {
                let _ = std::fs::set_permissions(&self.staging, m.permissions());
            }
            publish::swap_in(&self.staging, &self.dir)?;
        } else {
            self.commit_entries()?;
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        self.committed = true;
        Ok(())
    }

    /// Renames each top-level entry of the staging folder into the destination; a folder
    /// replaces the old one whole (no stale files of an earlier run stay in it).
    fn commit_entries(&mut self) -> Result<()> {
        self.check_places()?;
        if !self.dir.exists() {
            std::fs::create_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
            self.created.insert(0, self.dir.clone());
        }
        for name in self.top_names() {
            let (from, to) = (self.staging.join(&name), self.dir.join(&name));
            if from.is_dir() && to.is_dir() {
                publish::swap_in(&from, &to)?;
            } else {
                std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
            }
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.staging);
        for d in &self.created {
            // Only when empty: a folder created here holds nothing of anyone else's.
            let _ = std::fs::remove_dir(d);
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
        assert_eq!(std::fs::read_dir(tmp.path().join("a")).unwrap().count(), 1, "nothing left beside the outputs");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn mounted_folders_are_not_swapped() {
        assert!(is_mount_point(Path::new("/proc")));
        let tmp = tempfile::tempdir().unwrap();
        assert!(!is_mount_point(tmp.path()));
        assert!(swappable(&tmp.path().join("out")) && !swappable(Path::new("/proc")));
    }

    #[test]
    fn a_failed_set_removes_the_parents_it_created() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let mut set = OutputSet::new(&tmp.path().join("x/y/z")).unwrap();
            set.add("a.txt", b"a").unwrap();
        }
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_rerun_replaces_the_whole_set_and_keeps_other_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let write = |files: &[&str]| {
            let mut set = OutputSet::new(&out).unwrap();
            for f in files {
                set.add(f, f.as_bytes()).unwrap();
            }
            set.commit().unwrap();
        };
        write(&["r.json", "review/lesion-1.png", "review/lesion-2.png"]);
        write(&["r.json", "review/lesion-1.png"]);
        assert!(!out.join("review/lesion-2.png").exists(), "a stale file of the earlier run stayed");
        // With a file that is not the set's, the set goes in entry by entry and the file stays.
        std::fs::write(out.join("notes.txt"), b"mine").unwrap();
        write(&["r.json", "review/lesion-3.png"]);
        assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
        let mut review: Vec<_> =
            std::fs::read_dir(out.join("review")).unwrap().map(|e| e.unwrap().file_name()).collect();
        review.sort();
        assert_eq!(review, ["lesion-3.png"]);
        let mut all: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        all.sort();
        assert_eq!(all, ["notes.txt", "r.json", "review"]);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
        // A folder where a file goes: refused before anything moves.
        std::fs::remove_file(out.join("r.json")).unwrap();
        std::fs::create_dir(out.join("r.json")).unwrap();
        let mut set = OutputSet::new(&out).unwrap();
        set.add("r.json", b"x").unwrap();
        set.add("review/lesion-4.png", b"x").unwrap();
        let err = set.commit().unwrap_err().to_string();
        assert!(err.contains("r.json: is a folder where crmo-map writes a file"), "{err}");
        assert!(out.join("review/lesion-3.png").exists(), "the old set changed");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
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
