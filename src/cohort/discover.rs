//! Finding a cohort's scans: a BIDS dataset searched by entities, or a manifest.
//!
//! A *unit* is one subject, or one session of a subject: one STIR scan with its atlas. Units
//! whose inputs cannot be found are kept, with the reason, so that they are reported as
//! failed while the others go on.

use super::manifest;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The default STIR pattern inside a unit's `anat/` folder.
pub const DEFAULT_STIR_PATTERN: &str = "*_acq-STIR_T2w.nii.gz";
/// The default atlas pattern inside the atlas folder's `sub-X[/ses-Y]/anat/`; `{entities}` is
/// the scan's name up to its last `_` (`sub-01_ses-1_acq-STIR`), `{subject}` and `{session}`
/// the labels.
pub const DEFAULT_ATLAS_PATTERN: &str = "{entities}*_dseg.nii.gz";
/// The default atlas folder, relative to the BIDS dataset.
pub const DEFAULT_ATLAS_DIR: &str = "derivatives/totalsegmentator";

/// One scan's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// The STIR scan.
    pub scan: PathBuf,
    /// Its atlas (a label volume or a folder of masks).
    pub atlas: PathBuf,
    /// Its label table; `None` reads the names from the atlas.
    pub labels: Option<PathBuf>,
}

/// One subject or session of the cohort.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Subject label, without `sub-`.
    pub subject: String,
    /// Session label, without `ses-`.
    pub session: Option<String>,
    /// Its inputs, or why they could not be found.
    pub inputs: std::result::Result<Inputs, String>,
}

impl Unit {
    /// `sub-01` or `sub-01_ses-1`: the unit's name and every output file's prefix.
    pub fn key(&self) -> String {
        unit_key(&self.subject, self.session.as_deref())
    }

    /// `sub-01` or `sub-01/ses-1`: the unit's folder inside the output folder.
    pub fn rel_dir(&self) -> PathBuf {
        let sub = PathBuf::from(format!("sub-{}", self.subject));
        match &self.session {
            Some(s) => sub.join(format!("ses-{s}")),
            None => sub,
        }
    }
}

/// `sub-01` or `sub-01_ses-1` of a subject and session label.
pub fn unit_key(subject: &str, session: Option<&str>) -> String {
    match session {
        Some(s) => format!("sub-{subject}_ses-{s}"),
        None => format!("sub-{subject}"),
    }
}

/// Where and how to look in a BIDS dataset.
#[derive(Clone, Debug)]
pub struct BidsLayout {
    /// The dataset (holds `dataset_description.json` and `sub-*/`).
    pub dir: PathBuf,
    /// STIR file pattern inside `anat/` (`*` and `?` wildcards).
    pub stir_pattern: String,
    /// Folder of the atlases, laid out as the dataset (`sub-X[/ses-Y]/anat/`).
    pub atlas_dir: PathBuf,
    /// Atlas pattern (see [`DEFAULT_ATLAS_PATTERN`]).
    pub atlas_pattern: String,
    /// One label table for every atlas; else a BIDS `_dseg.tsv` beside the atlas, else the
    /// atlas's own names.
    pub labels: Option<PathBuf>,
}

impl BidsLayout {
    /// The defaults for the dataset `dir`.
    pub fn new(dir: &Path) -> BidsLayout {
        BidsLayout {
            dir: dir.to_path_buf(),
            stir_pattern: DEFAULT_STIR_PATTERN.into(),
            atlas_dir: dir.join(DEFAULT_ATLAS_DIR),
            atlas_pattern: DEFAULT_ATLAS_PATTERN.into(),
            labels: None,
        }
    }
}

/// Which units to take (labels with or without their `sub-` / `ses-`); empty takes all.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Subject labels.
    pub participants: Vec<String>,
    /// Session labels.
    pub sessions: Vec<String>,
}

impl Selection {
    fn wants(list: &[String], prefix: &str, label: &str) -> bool {
        list.is_empty() || list.iter().any(|l| l.strip_prefix(prefix).unwrap_or(l) == label)
    }

    /// Whether the unit is selected.
    pub fn takes(&self, subject: &str, session: Option<&str>) -> bool {
        Selection::wants(&self.participants, "sub-", subject)
            && session.map_or(true, |s| Selection::wants(&self.sessions, "ses-", s))
    }

    /// Labels asked for that no unit has (named in an error).
    fn unmatched(&self, units: &[Unit]) -> Vec<String> {
        let missing = |list: &[String], prefix: &str, have: &dyn Fn(&Unit, &str) -> bool| {
            list.iter()
                .map(|l| l.strip_prefix(prefix).unwrap_or(l).to_string())
                .filter(|l| !units.iter().any(|u| have(u, l)))
                .map(|l| format!("{prefix}{l}"))
                .collect::<Vec<_>>()
        };
        let mut out = missing(&self.participants, "sub-", &|u, l| u.subject == l);
        out.extend(missing(&self.sessions, "ses-", &|u, l| u.session.as_deref() == Some(l)));
        out
    }
}

/// The units of a BIDS dataset, sorted by key.
///
/// # Errors
/// [`Error::Dataset`] when `dir` is not a BIDS dataset, or a selected label is absent.
pub fn bids_units(layout: &BidsLayout, selection: &Selection) -> Result<Vec<Unit>> {
    let dir = &layout.dir;
    let bad = |message: String| Error::Dataset { path: dir.clone(), message };
    if !dir.join("dataset_description.json").is_file() {
        return Err(bad("not a BIDS dataset (no dataset_description.json)".into()));
    }
    let mut units = Vec::new();
    for (subject, sub_dir) in labelled_dirs(dir, "sub-")? {
        let sessions = labelled_dirs(&sub_dir, "ses-")?;
        if sessions.is_empty() {
            if selection.takes(&subject, None) {
                units.push(bids_unit(layout, subject.clone(), None, &sub_dir));
            }
            continue;
        }
        for (session, ses_dir) in sessions {
            if selection.takes(&subject, Some(&session)) {
                units.push(bids_unit(layout, subject.clone(), Some(session), &ses_dir));
            }
        }
    }
    let unmatched = selection.unmatched(&units);
    if !unmatched.is_empty() {
        return Err(bad(format!("no such participant or session: {}", unmatched.join(", "))));
    }
    if units.is_empty() {
        return Err(bad("no sub-* folder".into()));
    }
    units.sort_by_key(Unit::key);
    Ok(units)
}

/// The units of a manifest, selected and sorted by key.
///
/// # Errors
/// As `manifest::read` (an unreadable or malformed manifest), and a selected label that no row has.
pub fn manifest_units(path: &Path, selection: &Selection, labels: Option<&Path>) -> Result<Vec<Unit>> {
    let mut units: Vec<Unit> = manifest::read(path)?
        .into_iter()
        .filter(|u| selection.takes(&u.subject, u.session.as_deref()))
        .map(|mut u| {
            if let (Ok(inputs), Some(l)) = (&mut u.inputs, labels) {
                inputs.labels.get_or_insert_with(|| l.to_path_buf());
            }
            u
        })
        .collect();
    let unmatched = selection.unmatched(&units);
    if !unmatched.is_empty() {
        let message = format!("no such participant or session: {}", unmatched.join(", "));
        return Err(Error::Dataset { path: path.to_path_buf(), message });
    }
    units.sort_by_key(Unit::key);
    Ok(units)
}

/// Sub-folders named `{prefix}{label}`, as (label, path), sorted.
///
/// # Errors
/// [`Error::Io`] when `dir` cannot be listed.
pub(super) fn labelled_dirs(dir: &Path, prefix: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let label = name.strip_prefix(prefix).filter(|l| is_label(l));
        if let (Some(label), true) = (label, entry.path().is_dir()) {
            out.push((label.to_string(), entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A BIDS label: letters and digits only.
pub fn is_label(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn bids_unit(layout: &BidsLayout, subject: String, session: Option<String>, dir: &Path) -> Unit {
    let inputs = find_inputs(layout, &subject, session.as_deref(), dir);
    Unit { subject, session, inputs }
}

fn find_inputs(
    layout: &BidsLayout,
    subject: &str,
    session: Option<&str>,
    dir: &Path,
) -> std::result::Result<Inputs, String> {
    let scan = one_match(&dir.join("anat"), &layout.stir_pattern, "STIR scan")?;
    let name = scan.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let entities = name.rsplit_once('_').map_or(name.as_str(), |(e, _)| e);
    let pattern = layout
        .atlas_pattern
        .replace("{entities}", entities)
        .replace("{subject}", subject)
        .replace("{session}", session.unwrap_or(""));
    let rel = dir.strip_prefix(&layout.dir).unwrap_or(dir);
    let atlas = one_match(&layout.atlas_dir.join(rel).join("anat"), &pattern, "atlas")?;
    let labels = layout.labels.clone().or_else(|| dseg_table(&atlas));
    Ok(Inputs { scan, atlas, labels })
}

/// The BIDS look-up table beside a `_dseg.nii[.gz]` atlas, when there is one.
fn dseg_table(atlas: &Path) -> Option<PathBuf> {
    let name = atlas.file_name()?.to_str()?;
    let stem = name.strip_suffix(".nii.gz").or_else(|| name.strip_suffix(".nii"))?;
    let tsv = atlas.with_file_name(format!("{stem}.tsv"));
    tsv.is_file().then_some(tsv)
}

/// The one entry of `dir` matching `pattern`, or why there is not exactly one.
fn one_match(dir: &Path, pattern: &str, what: &str) -> std::result::Result<PathBuf, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| glob_match(pattern, &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!("no {what} matching {pattern} in {}", dir.display())),
        n => Err(format!("{n} files match {pattern} in {} (one {what} per unit; narrow the pattern)", dir.display())),
    }
}

/// Whether `name` matches `pattern`, whose `*` stands for any run of characters and `?` for
/// one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Classic two-pointer match with backtracking to the last star.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The naive oracle: try every split at a star.
    fn naive(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| naive(&p[1..], &n[k..])),
            Some(&c) => !n.is_empty() && (c == '?' || c == n[0]) && naive(&p[1..], &n[1..]),
        }
    }

    proptest! {
        #[test]
        fn glob_agrees_with_the_naive_matcher(p in "[ab*?]{0,7}", n in "[ab]{0,8}") {
            let (pc, nc): (Vec<char>, Vec<char>) = (p.chars().collect(), n.chars().collect());
            prop_assert_eq!(glob_match(&p, &n), naive(&pc, &nc));
        }
    }

    #[test]
    fn glob_examples() {
        assert!(glob_match(DEFAULT_STIR_PATTERN, "sub-01_ses-1_acq-STIR_T2w.nii.gz"));
        assert!(!glob_match(DEFAULT_STIR_PATTERN, "sub-01_acq-STIR_T2w.json"));
        assert!(glob_match("sub-01_acq-STIR*_dseg.nii.gz", "sub-01_acq-STIR_desc-total_dseg.nii.gz"));
    }

    #[test]
    fn selection_accepts_labels_with_or_without_prefix() {
        let s = Selection { participants: vec!["sub-01".into(), "02".into()], sessions: vec![] };
        assert!(s.takes("01", Some("a")) && s.takes("02", None) && !s.takes("03", None));
        let s = Selection { participants: vec![], sessions: vec!["ses-2".into()] };
        assert!(s.takes("01", Some("2")) && !s.takes("01", Some("1")) && s.takes("01", None));
    }
}
