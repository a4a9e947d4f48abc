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
    /// Folders this set created, innermost first (`dir` and any missing parents).
    created: Vec<PathBuf>,
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
        let created: Vec<PathBuf> =
            dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(Path::to_path_buf).collect();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let staging = dir.join(format!(".crmo-map-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        if let Err(e) = std::fs::create_dir(&staging) {
            remove_empty(&created);
            return Err(Error::io(&staging, e));
        }
        Ok(OutputSet { dir: dir.to_path_buf(), staging, created_dir, created, files: Vec::new(), committed: false })
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

/// Removes the folders (innermost first) while they are empty: a failed run leaves no folder
/// it made, not even the parents of `--out`.
fn remove_empty(created: &[PathBuf]) {
    for d in created {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            if self.created_dir {
                remove_empty(&self.created);
            }
        }
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
}
