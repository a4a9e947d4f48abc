//! Real scans with reader masks: a folder in the `sij-stir` layout, or a manifest.
//!
//! **Folder**: every sub-folder holding `stir.nii.gz` (or `stir.nii`) is a subject named after
//! the folder, with its atlas `region.nii.gz` (or `.nii`) and its reader masks
//! `oedema_R<reader><session>.nii.gz` (one digit each: `oedema_R21.nii.gz` is reader 2's first
//! session), and the readers' reference region of normal marrow `normal_marrow.nii.gz` when
//! there is one ([`super::marrow_check`]). Other files are ignored. A subject without masks is
//! run but not scored.
//!
//! **Manifest**: a tab-separated file with the header `subject scan atlas reader session mask`
//! (in any order; other columns are ignored), one row per mask; paths are relative to the
//! manifest's folder (absolute paths are kept). An optional `normal_marrow` column names the
//! readers' normal-marrow region (empty or `-`: none). A subject's rows repeat its scan and atlas; a
//! row with an empty (or `-`) reader, session and mask lists a subject without masks. Readers
//! are named `R<reader>` (`1` and `R1` both give `R1`). Blank lines and lines starting with
//! `#` are skipped.

use crate::error::{Error, Result};
use crate::io;
use crate::tsv::{self, Tsv};
use crate::volume::Grid;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One reader's masks of one subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderMasks {
    /// `R1`, `R2`, ...
    pub reader: String,
    /// Session name and mask, in session order (the first is the reader's truth).
    pub sessions: Vec<(String, PathBuf)>,
}

/// One subject: a scan, its atlas and its readers' masks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// Subject name (the folder's, or the manifest's `subject`).
    pub name: String,
    /// The STIR scan.
    pub scan: PathBuf,
    /// The atlas.
    pub atlas: PathBuf,
    /// Readers in order (`R1` before `R2`); empty for a subject that is not scored.
    pub readers: Vec<ReaderMasks>,
    /// The readers' reference region of normal marrow, when the dataset gives one.
    pub normal_marrow: Option<PathBuf>,
}

/// Orders session and reader names numerically when both are numbers.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn reader_name(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix(['R', 'r']) {
        Some(rest) if !rest.is_empty() => format!("R{rest}"),
        _ => format!("R{t}"),
    }
}

fn group(masks: BTreeMap<String, Vec<(String, PathBuf)>>) -> Vec<ReaderMasks> {
    let mut readers: Vec<ReaderMasks> = masks
        .into_iter()
        .map(|(reader, mut sessions)| {
            sessions.sort_by(|a, b| natural(&a.0, &b.0));
            ReaderMasks { reader, sessions }
        })
        .collect();
    readers.sort_by(|a, b| natural(&a.reader[1..], &b.reader[1..]));
    readers
}

/// The subjects of a folder or a manifest (told apart by `path` being a folder), sorted by name.
///
/// # Errors
/// [`Error::Io`] when the folder or manifest cannot be read; [`Error::Dataset`] when it holds no
/// subject, a subject lacks its atlas, or a manifest row is malformed or contradicts another.
pub fn read_dataset(path: &Path) -> Result<Vec<Subject>> {
    let subjects = if path.is_dir() { read_folder(path)? } else { read_manifest(path)? };
    if subjects.is_empty() {
        return Err(Error::Dataset {
            path: path.to_path_buf(),
            message: "no subject inside (a folder needs sub-folders with stir.nii.gz; a manifest needs rows)".into(),
        });
    }
    Ok(subjects)
}

fn first_existing(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// `oedema_R21.nii.gz` -> (`R2`, `1`).
fn mask_name(file: &str) -> Option<(String, String)> {
    let stem = file.strip_suffix(".nii.gz").or_else(|| file.strip_suffix(".nii"))?;
    let code = stem.strip_prefix("oedema_R")?.as_bytes();
    (code.len() == 2 && code.iter().all(u8::is_ascii_digit))
        .then(|| (format!("R{}", code[0] as char), (code[1] as char).to_string()))
}

fn read_folder(dir: &Path) -> Result<Vec<Subject>> {
    let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subs.sort();
    let mut out = Vec::new();
    for d in subs {
        let Some(scan) = first_existing(&d, &["stir.nii.gz", "stir.nii"]) else { continue };
        let atlas = first_existing(&d, &["region.nii.gz", "region.nii"]).ok_or_else(|| Error::Dataset {
            path: d.clone(),
            message: "has stir.nii.gz but no region.nii.gz (the atlas)".into(),
        })?;
        let mut masks: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
        for e in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let p = e.map_err(|e| Error::io(&d, e))?.path();
            if let Some((reader, session)) = p.file_name().and_then(|n| n.to_str()).and_then(mask_name) {
                // `.nii` and `.nii.gz` of the same mask: keep one (the first seen after sorting).
                let list = masks.entry(reader).or_default();
                if !list.iter().any(|(s, _)| *s == session) {
                    list.push((session, p));
                }
            }
        }
        let name = d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let normal_marrow = first_existing(&d, &["normal_marrow.nii.gz", "normal_marrow.nii"]);
        out.push(Subject { name, scan, atlas, readers: group(masks), normal_marrow });
    }
    Ok(out)
}

fn read_manifest(path: &Path) -> Result<Vec<Subject>> {
    let tsv = Tsv::read(path)?;
    let bad = |message: String| tsv.error(message);
    let base = path.parent().unwrap_or(Path::new(""));
    let needs = "subject, scan, atlas, reader, session, mask";
    let idx = ["subject", "scan", "atlas", "reader", "session", "mask"].map(|c| tsv.column(c, needs).map(Some));
    let [a, b, c, d, e, f] = idx;
    let idx = [a?, b?, c?, d?, e?, f?];
    let marrow_col = tsv.find("normal_marrow");
    struct Acc {
        scan: PathBuf,
        atlas: PathBuf,
        masks: BTreeMap<String, Vec<(String, PathBuf)>>,
        normal_marrow: Option<PathBuf>,
    }
    let mut subjects: BTreeMap<String, Acc> = BTreeMap::new();
    for (line_no, fields) in &tsv.rows {
        let get = |i: Option<usize>| tsv::cell(fields, i);
        let [subject, scan, atlas] = [0, 1, 2].map(|k| get(idx[k]));
        let (Some(subject), Some(scan), Some(atlas)) = (subject, scan, atlas) else {
            return Err(bad(format!("line {line_no}: subject, scan and atlas are required")));
        };
        let (scan, atlas) = (base.join(scan), base.join(atlas));
        let acc = subjects.entry(subject.to_string()).or_insert_with(|| Acc {
            scan: scan.clone(),
            atlas: atlas.clone(),
            masks: BTreeMap::new(),
            normal_marrow: None,
        });
        if acc.scan != scan || acc.atlas != atlas {
            return Err(bad(format!("line {line_no}: subject {subject} has another scan or atlas on an earlier line")));
        }
        if let Some(m) = get(marrow_col).map(|m| base.join(m)) {
            if acc.normal_marrow.as_ref().is_some_and(|old| *old != m) {
                return Err(bad(format!(
                    "line {line_no}: subject {subject} has another normal_marrow on an earlier line"
                )));
            }
            acc.normal_marrow = Some(m);
        }
        match (get(idx[3]), get(idx[4]), get(idx[5])) {
            (None, None, None) => {}
            (Some(reader), Some(session), Some(mask)) => {
                let list = acc.masks.entry(reader_name(reader)).or_default();
                if list.iter().any(|(s, _)| s == session) {
                    return Err(bad(format!(
                        "line {line_no}: subject {subject} reader {reader} session {session} is listed twice"
                    )));
                }
                list.push((session.to_string(), base.join(mask)));
            }
            _ => return Err(bad(format!("line {line_no}: reader, session and mask go together (all or none)"))),
        }
    }
    Ok(subjects
        .into_iter()
        .map(|(name, a)| Subject {
            name,
            scan: a.scan,
            atlas: a.atlas,
            readers: group(a.masks),
            normal_marrow: a.normal_marrow,
        })
        .collect())
}

/// The binary mask (any non-zero voxel) at `path`, which must lie on `grid`, the grid of the
/// scan at `scan` (so that a mismatch names the mask at fault).
///
/// # Errors
/// The mask cannot be read, or [`Error::Dataset`] naming it when its grid differs.
pub fn read_mask(path: &Path, grid: &Grid, scan: &Path) -> Result<Vec<bool>> {
    let v = io::read_labels(path)?.volume;
    if !v.grid.same_as(grid) {
        return Err(Error::Dataset {
            path: path.to_path_buf(),
            message: format!(
                "mask grid {:?} differs from the grid {:?} of the scan {}",
                v.grid.dims,
                grid.dims,
                scan.display()
            ),
        });
    }
    Ok(v.data.iter().map(|&l| l != 0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn folder_layout_as_sij_stir() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        for f in ["stir.nii.gz", "region.nii.gz", "normal_marrow.nii.gz", "oedema_R12.nii.gz", "oedema_R11.nii.gz"] {
            touch(&d.join("sub-1").join(f));
        }
        touch(&d.join("sub-1/oedema_R21.nii.gz"));
        touch(&d.join("sub-1/oedema_R3x.nii.gz"));
        for f in ["stir.nii.gz", "region.nii.gz"] {
            touch(&d.join("sub-0").join(f));
        }
        touch(&d.join("notes/readme.txt"));
        let s = read_dataset(d).unwrap();
        assert_eq!(s.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["sub-0", "sub-1"]);
        assert!(s[0].readers.is_empty() && s[0].normal_marrow.is_none());
        assert!(s[1].normal_marrow.as_ref().is_some_and(|m| m.ends_with("sub-1/normal_marrow.nii.gz")));
        let r = &s[1].readers;
        assert_eq!(r.iter().map(|r| r.reader.as_str()).collect::<Vec<_>>(), ["R1", "R2"]);
        assert_eq!(r[0].sessions.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["1", "2"]);
        assert!(r[0].sessions[0].1.ends_with("sub-1/oedema_R11.nii.gz"));
        // A scan without its atlas is an error naming the folder.
        touch(&d.join("sub-2/stir.nii.gz"));
        let e = read_dataset(d).unwrap_err().to_string();
        assert!(e.contains("sub-2") && e.contains("region"), "{e}");
        assert!(read_dataset(&d.join("notes")).is_err());
    }

    #[test]
    fn a_mask_on_another_grid_is_an_error_naming_it() {
        use crate::io::WriteOptions;
        use crate::volume::{Affine, Volume};
        let t = tempfile::tempdir().unwrap();
        let grid = |n: usize| Grid { dims: [n, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let path = t.path().join("normal_marrow.nii.gz");
        let v = Volume { grid: grid(2), data: vec![1u8, 1] };
        std::fs::write(&path, io::encode(&v, &WriteOptions::labels(1), None, true)).unwrap();
        assert_eq!(read_mask(&path, &grid(2), Path::new("stir.nii.gz")).unwrap(), [true, true]);
        let e = read_mask(&path, &grid(3), Path::new("stir.nii.gz")).unwrap_err().to_string();
        assert!(e.contains("normal_marrow.nii.gz") && e.contains("grid"), "{e}");
    }

    #[test]
    fn manifest_rows() {
        let t = tempfile::tempdir().unwrap();
        let m = t.path().join("m.tsv");
        std::fs::write(
            &m,
            "# comment\nsubject\tscan\tatlas\treader\tsession\tmask\tnormal_marrow\n\
             a\ta/s.nii.gz\ta/r.nii.gz\t2\tb\ta/m2b.nii.gz\ta/nm.nii.gz\n\
             a\ta/s.nii.gz\ta/r.nii.gz\tR10\ta\ta/m10.nii.gz\t-\n\
             a\ta/s.nii.gz\ta/r.nii.gz\t2\ta\t/abs/m2a.nii.gz\ta/nm.nii.gz\n\
             \n\
             b\tb/s.nii.gz\t/x/r.nii.gz\t-\t-\t-\n",
        )
        .unwrap();
        let s = read_dataset(&m).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].scan, t.path().join("a/s.nii.gz"));
        let names: Vec<&str> = s[0].readers.iter().map(|r| r.reader.as_str()).collect();
        assert_eq!(names, ["R2", "R10"]);
        assert_eq!(s[0].readers[0].sessions[0], ("a".to_string(), PathBuf::from("/abs/m2a.nii.gz")));
        assert!(s[1].readers.is_empty() && s[1].atlas == Path::new("/x/r.nii.gz"));
        assert_eq!(s[0].normal_marrow, Some(t.path().join("a/nm.nii.gz")));
        assert_eq!(s[1].normal_marrow, None);
        for (text, want) in [
            ("subject\tscan\tatlas\treader\tmask\n", "session"),
            ("subject\tscan\tatlas\treader\tsession\tmask\na\ts\tr\t1\t\tm\n", "all or none"),
            ("subject\tscan\tatlas\treader\tsession\tmask\na\ts\tr\t1\t1\tm\na\ts2\tr\t1\t2\tm\n", "another scan"),
            ("subject\tscan\tatlas\treader\tsession\tmask\na\ts\tr\t1\t1\tm\na\ts\tr\t1\t1\tm\n", "twice"),
            ("subject\tscan\tatlas\treader\tsession\tmask\n", "no subject"),
            (
                "subject\tscan\tatlas\treader\tsession\tmask\tnormal_marrow\na\ts\tr\t1\t1\tm\tn1\na\ts\tr\t1\t2\tm\tn2\n",
                "another normal_marrow",
            ),
        ] {
            std::fs::write(&m, text).unwrap();
            let e = read_dataset(&m).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}
