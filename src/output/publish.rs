//! Putting a unit's outputs into place all at once.
//!
//! A unit's outputs are written into a fresh hidden folder beside its destination
//! (`.crmo-map-new-<leaf>-<host>.<pid>`) and swapped in with one `renameat2(RENAME_EXCHANGE)`
//! on Linux, so that a reader, or a kill -9 at any moment, sees either the complete old
//! outputs or the complete new ones. Where the exchange is not supported the old folder is
//! first renamed aside (`.crmo-map-old-...`); a crash between the two renames leaves no
//! destination and the old folder aside, which [`recover`] puts back. Small files (the dataset
//! description, status tables) go through a temporary name and a rename. Leftovers of a
//! process that no longer runs are removed by the next run.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const NEW: &str = ".crmo-map-new-";
const OLD: &str = ".crmo-map-old-";
const TMP: &str = ".crmo-map-tmp-";
const STAGING: &str = ".crmo-map-staging-";

/// `<host>.<pid>` of this process: what its temporary names end in.
fn owner() -> String {
    format!("{}.{}", host(), std::process::id())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().replace(['/', '.'], "_"))
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether the process that owns a temporary name (ending in `<host>.<pid>`) is gone: on this
/// host and no longer running. Names from other hosts are left to their own runs.
fn abandoned(name: &str) -> bool {
    let Some((rest, pid)) = name.rsplit_once('.') else { return false };
    let Ok(pid) = pid.parse::<i32>() else { return false };
    if !rest.ends_with(&format!("-{}", host())) || pid <= 0 {
        return false;
    }
    if pid as u32 == std::process::id() {
        // This process's own: in use by another of its threads, or cleaned by its owner.
        return false;
    }
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn leaf(dest: &Path) -> String {
    dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parent(dest: &Path) -> &Path {
    dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A fresh, empty folder to write `dest`'s new contents into (its parents are created).
///
/// # Errors
/// [`Error::Io`] when it cannot be created.
pub fn fresh_dir(dest: &Path) -> Result<PathBuf> {
    let dir = parent(dest).join(format!("{NEW}{}-{}", leaf(dest), owner()));
    std::fs::create_dir_all(parent(dest)).map_err(|e| Error::io(parent(dest), e))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

/// Replaces `dest` (a folder, possibly absent) by `new` in one step.
///
/// # Errors
/// [`Error::Io`] naming `dest` when a rename fails; `dest` then holds its old contents.
pub fn swap_in(new: &Path, dest: &Path) -> Result<()> {
    let io = |e| Error::io(dest, e);
    if std::fs::symlink_metadata(dest).is_err() {
        return std::fs::rename(new, dest).map_err(io);
    }
    if exchange(new, dest).is_ok() {
        // `new` now holds the old outputs.
        let _ = std::fs::remove_dir_all(new);
        return Ok(());
    }
    let aside = parent(dest).join(format!("{OLD}{}-{}", leaf(dest), owner()));
    std::fs::rename(dest, &aside).map_err(io)?;
    if let Err(e) = std::fs::rename(new, dest) {
        let _ = std::fs::rename(&aside, dest);
        return Err(io(e));
    }
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Cleans up after killed runs around `dest`: puts back an old folder renamed aside when
/// `dest` is missing, and removes the abandoned new, old and temporary entries of `dest`.
///
/// # Errors
/// [`Error::Io`] when the parent folder cannot be listed or an old folder cannot be put back.
pub fn recover(dest: &Path) -> Result<()> {
    let dir = parent(dest);
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    let leaf = leaf(dest);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(kind) = [NEW, OLD, TMP].into_iter().find(|k| name.starts_with(k)) else { continue };
        let of_dest = name[kind.len()..].starts_with(&format!("{leaf}-"));
        if !of_dest || !abandoned(&name) {
            continue;
        }
        if kind == OLD && std::fs::symlink_metadata(dest).is_err() {
            std::fs::rename(entry.path(), dest).map_err(|e| Error::io(dest, e))?;
        } else if entry.path().is_dir() {
            let _ = std::fs::remove_dir_all(entry.path());
        } else {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// A fresh, empty hidden folder inside `dir` to stage files in (when `dir`'s parent cannot
/// hold one).
///
/// # Errors
/// [`Error::Io`] when it cannot be created.
pub fn staging_inside(dir: &Path) -> Result<PathBuf> {
    let staging = dir.join(format!("{STAGING}{}", owner()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
    Ok(staging)
}

/// Removes the abandoned staging folders inside `dir` (of runs that no longer run).
pub fn recover_inside(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(STAGING) && abandoned(&name) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes the abandoned temporary files (of [`write_file`]) directly inside `dir`.
pub fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TMP) && abandoned(&name) && entry.path().is_file() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether `name` is one of the hidden temporary names of this module.
pub fn is_temporary(name: &str) -> bool {
    [NEW, OLD, TMP, STAGING].iter().any(|k| name.starts_with(k))
}

/// Writes a small file through a temporary name and a rename.
///
/// # Errors
/// [`Error::Io`] naming `path`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = parent(path).join(format!("{TMP}{}-{}", leaf(path), owner()));
    let result = std::fs::create_dir_all(parent(path))
        .and_then(|_| std::fs::write(&tmp, bytes))
        .and_then(|_| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn swap_replaces_a_folder_whole() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("sub-01");
        write(&dest, "old.txt", "old");
        let new = fresh_dir(&dest).unwrap();
        write(&new, "new.txt", "new");
        swap_in(&new, &dest).unwrap();
        assert_eq!(names(&dest), ["new.txt"]);
        assert_eq!(names(t.path()), ["sub-01"]);
        let new = fresh_dir(t.path().join("sub-02").as_path()).unwrap();
        swap_in(&new, &t.path().join("sub-02")).unwrap();
        assert_eq!(names(t.path()), ["sub-01", "sub-02"]);
    }

    #[test]
    fn recovery_puts_back_the_old_folder_of_a_crash_between_renames() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("sub-01");
        // A dead process (pid 0 is never a user process; use one beyond pid_max instead).
        let dead = format!("{}.{}", host(), 4_194_304 + 7);
        write(&t.path().join(format!("{OLD}sub-01-{dead}")), "old.txt", "old");
        write(&t.path().join(format!("{NEW}sub-01-{dead}")), "half.txt", "half");
        write(t.path(), &format!("{TMP}x.tsv-{dead}"), "x");
        // Another host's leftovers are not ours to remove.
        write(&t.path().join(format!("{NEW}sub-01-otherhost.1")), "a", "a");
        recover(&dest).unwrap();
        assert_eq!(names(&dest), ["old.txt"]);
        let left = names(t.path());
        assert_eq!(left, [format!("{NEW}sub-01-otherhost.1"), format!("{TMP}x.tsv-{dead}"), "sub-01".into()]);
        recover(&t.path().join("x.tsv")).unwrap();
        assert!(!t.path().join(format!("{TMP}x.tsv-{dead}")).exists());
        write(t.path(), &format!("{TMP}y.json-{dead}"), "y");
        sweep(t.path());
        assert!(!t.path().join(format!("{TMP}y.json-{dead}")).exists());
        // A staging folder a killed run left inside an output folder; a live one stays.
        write(&dest.join(format!("{STAGING}{dead}")), "half.nii.gz", "x");
        let live = staging_inside(&dest).unwrap();
        recover_inside(&dest);
        assert!(!dest.join(format!("{STAGING}{dead}")).exists());
        assert!(live.is_dir());
    }

    #[test]
    fn small_files_are_replaced_atomically() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("logs/status.tsv");
        write_file(&p, b"a").unwrap();
        write_file(&p, b"b").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"b");
        assert_eq!(names(&t.path().join("logs")), ["status.tsv"]);
    }
}
