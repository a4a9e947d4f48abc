//! What a unit's outputs were made from: the software, the parameters and the inputs'
//! hashes, plus each output's size and hash. Written last into the unit's new folder (so it
//! is swapped in with the outputs it describes); a rerun skips a unit whose record matches
//! what it would do now and whose outputs are all there, intact.

use crate::error::{Error, Result};
use crate::io::hex;
use crate::pipeline::Params;
use crate::review;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One file, by its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// What it is (`scan`, `atlas`, `labels`, `staging`) or its path inside the unit folder.
    pub name: String,
    /// Where it was read (inputs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Size in bytes (a folder: the sum of its files).
    pub bytes: u64,
    /// SHA-256 (a folder: of its files' names and hashes, in order).
    pub sha256: String,
}

/// What a unit's outputs depend on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    /// Software name.
    pub software: String,
    /// Its version.
    pub version: String,
    /// The detection parameters.
    pub parameters: serde_json::Value,
    /// The inputs.
    pub inputs: Vec<FileRecord>,
}

/// A unit's provenance record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// What the outputs were made from.
    #[serde(flatten)]
    pub basis: Basis,
    /// The outputs, paths relative to the unit's folder.
    pub outputs: Vec<FileRecord>,
}

/// The detection parameters as the record keeps them.
pub fn parameters_json(p: &Params) -> serde_json::Value {
    serde_json::json!({
        "method": p.method.as_str(),
        "z_threshold": p.z_threshold,
        "min_volume_mm3": p.min_volume_mm3,
        "connectivity": p.connectivity.count(),
        "parcellate": p.parcellate,
        "local": p.local,
    })
}

/// The SHA-256 of scan and atlas as a run computed them while it read them (its report's).
#[derive(Clone, Copy, Debug)]
pub struct ReadDigests<'a> {
    /// The scan file's.
    pub scan: &'a str,
    /// The atlas file's (not used for a folder of masks, whose report digest is its own).
    pub atlas: &'a str,
}

impl Basis {
    /// The basis of a run on these inputs now: hashes every input.
    ///
    /// # Errors
    /// [`Error::Io`] when an input cannot be read.
    pub fn of(inputs: &super::Inputs, params: &Params, staging: Option<&Path>) -> Result<Basis> {
        Basis::build(inputs, params, staging, None)
    }

    /// The basis of a run that has read scan and atlas: their digests are the run's own
    /// (`read`), so that they are hashed once and the record names the bytes the run used;
    /// the other inputs are hashed here. The same record as [`Basis::of`] for unchanged inputs.
    ///
    /// # Errors
    /// [`Error::Io`] when an input cannot be read.
    pub fn as_read(
        inputs: &super::Inputs,
        params: &Params,
        staging: Option<&Path>,
        read: ReadDigests,
    ) -> Result<Basis> {
        Basis::build(inputs, params, staging, Some(read))
    }

    fn build(
        inputs: &super::Inputs,
        params: &Params,
        staging: Option<&Path>,
        read: Option<ReadDigests>,
    ) -> Result<Basis> {
        let scan = match read {
            Some(r) => known_input("scan", &inputs.scan, r.scan)?,
            None => hash_input("scan", &inputs.scan)?,
        };
        let atlas = match read {
            Some(r) if !inputs.atlas.is_dir() => known_input("atlas", &inputs.atlas, r.atlas)?,
            _ => hash_input("atlas", &inputs.atlas)?,
        };
        let mut files = vec![scan, atlas];
        match &inputs.labels {
            Some(p) if p.exists() => files.push(hash_input("labels", p)?),
            Some(name) => files.push(named("labels", &name.display().to_string())),
            None => {}
        }
        files.push(match staging {
            Some(p) => hash_input("staging", p)?,
            None => named("staging", crate::staging::DEFAULT_JSON),
        });
        Ok(Basis {
            software: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            parameters: parameters_json(params),
            inputs: files,
        })
    }
}

/// A record of something that is not a file (a built-in table, the shipped configuration).
fn named(name: &str, content: &str) -> FileRecord {
    let sha256 = crate::io::sha256_hex(content.as_bytes());
    FileRecord { name: name.into(), path: None, bytes: content.len() as u64, sha256 }
}

/// The record of an input file whose SHA-256 is known: its size is read from the file system.
fn known_input(name: &str, path: &Path, sha256: &str) -> Result<FileRecord> {
    let bytes = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    Ok(FileRecord { name: name.into(), path: Some(path.display().to_string()), bytes, sha256: sha256.into() })
}

fn hash_input(name: &str, path: &Path) -> Result<FileRecord> {
    let (bytes, sha256) = hash_path(path)?;
    Ok(FileRecord { name: name.into(), path: Some(path.display().to_string()), bytes, sha256 })
}

/// Size and SHA-256 of a file, or of a folder's files (names and hashes, sorted).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn hash_path(path: &Path) -> Result<(u64, String)> {
    if !path.is_dir() {
        return hash_file(path);
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let (mut total, mut h) = (0, Sha256::new());
    for p in names {
        let (bytes, sha) = hash_file(&p)?;
        total += bytes;
        h.update(format!("{}\t{sha}\n", p.file_name().unwrap_or_default().to_string_lossy()).as_bytes());
    }
    Ok((total, hex(&h.finalize())))
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let (mut h, mut buf, mut total) = (Sha256::new(), vec![0u8; 1 << 20], 0u64);
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok((total, hex(&h.finalize())));
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
}

/// Every file under `dir`, as paths relative to it, sorted.
///
/// # Errors
/// [`Error::Io`] when a folder cannot be listed.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        for e in std::fs::read_dir(&here).map_err(|e| Error::io(&here, e))? {
            let e = e.map_err(|e| Error::io(&here, e))?;
            let r = rel.join(e.file_name());
            if e.file_type().map_err(|x| Error::io(e.path(), x))?.is_dir() {
                stack.push(r);
            } else {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

impl FileRecord {
    /// An output's record from the bytes written to `name` (its path inside the unit folder).
    pub fn written(name: &str, bytes: &[u8]) -> FileRecord {
        FileRecord { name: name.into(), path: None, bytes: bytes.len() as u64, sha256: digest(bytes) }
    }
}

/// SHA-256 of `bytes`; the review page's bundled files (the same in every unit, the viewer
/// alone 2 MB) are hashed once per process and recognised by their bytes.
fn digest(bytes: &[u8]) -> String {
    static BUNDLED: OnceLock<Vec<(&'static [u8], String)>> = OnceLock::new();
    let bundled = BUNDLED.get_or_init(|| review::bundled().iter().map(|&b| (b, crate::io::sha256_hex(b))).collect());
    match bundled.iter().find(|(b, _)| *b == bytes) {
        Some((_, sha256)) => sha256.clone(),
        None => crate::io::sha256_hex(bytes),
    }
}

impl Provenance {
    /// The record of `dir` (a unit's new folder) against `basis` from its outputs' records
    /// made as they were written, when these name exactly the files under `dir`; otherwise
    /// (something else is there) every file is read back ([`Provenance::record`]).
    ///
    /// # Errors
    /// [`Error::Io`] when `dir` cannot be listed or a file read.
    pub fn of_written(dir: &Path, basis: Basis, mut written: Vec<FileRecord>) -> Result<Provenance> {
        written.sort_by(|a, b| Path::new(&a.name).cmp(Path::new(&b.name)));
        let present: Vec<String> = files_under(dir)?.iter().map(|p| p.display().to_string()).collect();
        if written.iter().map(|o| &o.name).eq(present.iter()) {
            return Ok(Provenance { basis, outputs: written });
        }
        Provenance::record(dir, basis)
    }

    /// Records every file under `dir` (a unit's new folder) against `basis`.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read.
    pub fn record(dir: &Path, basis: Basis) -> Result<Provenance> {
        let outputs = files_under(dir)?
            .into_iter()
            .map(|rel| {
                let (bytes, sha256) = hash_file(&dir.join(&rel))?;
                Ok(FileRecord { name: rel.display().to_string(), path: None, bytes, sha256 })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Provenance { basis, outputs })
    }

    /// Reads a record; `None` when it is missing or unreadable (the unit is then redone).
    pub fn read(path: &Path) -> Option<Provenance> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Whether the unit folder `dir` holds exactly these outputs, intact, made from `basis`.
    pub fn is_current(&self, dir: &Path, basis: &Basis, own_name: &str) -> bool {
        if self.basis != *basis {
            return false;
        }
        let Ok(present) = files_under(dir) else { return false };
        let listed: Vec<PathBuf> = self.outputs.iter().map(|o| PathBuf::from(&o.name)).collect();
        let present: Vec<PathBuf> = present.into_iter().filter(|p| p != Path::new(own_name)).collect();
        present == listed
            && self
                .outputs
                .iter()
                .all(|o| hash_file(&dir.join(&o.name)).is_ok_and(|(b, s)| b == o.bytes && s == o.sha256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scan and an atlas in `dir` (their bytes `scan` and `atlas`) as a unit's inputs, and
    /// the unit's output folder there (not made).
    fn inputs_in(dir: &Path) -> (super::super::Inputs, PathBuf) {
        let (scan, atlas) = (dir.join("s.nii"), dir.join("a.nii"));
        std::fs::write(&scan, b"scan").unwrap();
        std::fs::write(&atlas, b"atlas").unwrap();
        (super::super::Inputs { scan, atlas, labels: None }, dir.join("out"))
    }

    #[test]
    fn a_record_is_current_until_an_input_or_output_changes() {
        let t = tempfile::tempdir().unwrap();
        let (inputs, out) = inputs_in(t.path());
        let scan = inputs.scan.clone();
        std::fs::create_dir_all(out.join("anat")).unwrap();
        std::fs::write(out.join("anat/x.tsv"), b"x").unwrap();
        let basis = Basis::of(&inputs, &Params::default(), None).unwrap();
        let rec = Provenance::record(&out, basis.clone()).unwrap();
        assert_eq!(rec.outputs.len(), 1);
        let own = "anat/p.json";
        std::fs::write(out.join(own), serde_json::to_vec(&rec).unwrap()).unwrap();
        let back = Provenance::read(&out.join(own)).unwrap();
        assert_eq!(back, rec);
        assert!(back.is_current(&out, &basis, own));
        let other = Params { min_volume_mm3: 5.0, ..Params::default() };
        assert!(!back.is_current(&out, &Basis::of(&inputs, &other, None).unwrap(), own));
        std::fs::write(out.join("anat/x.tsv"), b"y").unwrap();
        assert!(!back.is_current(&out, &basis, own));
        std::fs::write(out.join("anat/x.tsv"), b"x").unwrap();
        std::fs::write(out.join("stray"), b"").unwrap();
        assert!(!back.is_current(&out, &basis, own));
        std::fs::remove_file(out.join("stray")).unwrap();
        std::fs::write(&scan, b"scan2").unwrap();
        assert!(!back.is_current(&out, &Basis::of(&inputs, &Params::default(), None).unwrap(), own));
    }

    #[test]
    fn records_from_what_was_read_and_written_match_records_read_back() {
        let t = tempfile::tempdir().unwrap();
        let (inputs, out) = inputs_in(t.path());
        let (p, hex) = (Params::default(), crate::io::sha256_hex);
        let read = ReadDigests { scan: &hex(b"scan"), atlas: &hex(b"atlas") };
        let basis = Basis::of(&inputs, &p, None).unwrap();
        assert_eq!(Basis::as_read(&inputs, &p, None, read).unwrap(), basis);
        let files: [(&str, &[u8]); 3] = [("figures/b.png", b"png"), ("anat/x.tsv", b"x"), ("anat/a-b.json", b"{}")];
        for (name, bytes) in files {
            std::fs::create_dir_all(out.join(name).parent().unwrap()).unwrap();
            std::fs::write(out.join(name), bytes).unwrap();
        }
        let written = || files.iter().map(|(n, b)| FileRecord::written(n, b)).collect::<Vec<_>>();
        for b in review::bundled() {
            assert_eq!(FileRecord::written("r", b).sha256, crate::io::sha256_hex(b));
        }
        let from_disk = Provenance::record(&out, basis.clone()).unwrap();
        assert_eq!(Provenance::of_written(&out, basis.clone(), written()).unwrap(), from_disk);
        // A file the run did not report is found by reading the folder back.
        std::fs::write(out.join("anat/stray"), b"?").unwrap();
        let with_stray = Provenance::of_written(&out, basis, written()).unwrap();
        assert!(with_stray.outputs.iter().any(|o| o.name == "anat/stray"));
    }
}
