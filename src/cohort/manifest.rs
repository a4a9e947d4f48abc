//! A cohort without BIDS: a TSV manifest with the columns `subject`, `session` (optional),
//! `scan`, `atlas` and `labels` (optional). Relative paths are relative to the manifest's
//! folder; a missing input fails that row's unit only.

use super::discover::{is_label, Inputs, Unit};
use crate::error::Result;
use crate::tsv::{cell, Tsv};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const NEEDS: &str = "subject, scan, atlas; optional session, labels";

/// The manifest's units, in its order.
///
/// # Errors
/// [`crate::Error::Dataset`] for a malformed manifest: a missing column or cell, a label that
/// is not letters and digits, a unit listed twice.
pub fn read(path: &Path) -> Result<Vec<Unit>> {
    let tsv = Tsv::read(path)?;
    let base = path.parent().unwrap_or(Path::new(""));
    let cols = [tsv.column("subject", NEEDS)?, tsv.column("scan", NEEDS)?, tsv.column("atlas", NEEDS)?];
    let (session_col, labels_col) = (tsv.find("session"), tsv.find("labels"));
    let mut seen = BTreeSet::new();
    let mut units = Vec::new();
    for (line, fields) in &tsv.rows {
        let [subject, scan, atlas] = cols.map(|c| cell(fields, Some(c)));
        let (Some(subject), Some(scan), Some(atlas)) = (subject, scan, atlas) else {
            return Err(tsv.error(format!("line {line}: subject, scan and atlas are required")));
        };
        let subject = subject.strip_prefix("sub-").unwrap_or(subject).to_string();
        let session = cell(fields, session_col).map(|s| s.strip_prefix("ses-").unwrap_or(s).to_string());
        if !is_label(&subject) || session.as_deref().is_some_and(|s| !is_label(s)) {
            return Err(tsv.error(format!("line {line}: subject and session labels are letters and digits only")));
        }
        let inputs = Inputs {
            scan: base.join(scan),
            atlas: base.join(atlas),
            labels: cell(fields, labels_col).map(|l| resolve_table(base, l)),
        };
        let unit = Unit { subject, session, inputs: check(inputs) };
        if !seen.insert(unit.key()) {
            return Err(tsv.error(format!("line {line}: {} is listed twice", unit.key())));
        }
        units.push(unit);
    }
    Ok(units)
}

/// A label table cell: a built-in table's name as it is, else a path.
fn resolve_table(base: &Path, cell: &str) -> PathBuf {
    if crate::labels::LabelTable::built_in(cell).is_some() {
        PathBuf::from(cell)
    } else {
        base.join(cell)
    }
}

/// The inputs, or which one is missing.
fn check(inputs: Inputs) -> std::result::Result<Inputs, String> {
    for (what, p) in [("scan", &inputs.scan), ("atlas", &inputs.atlas)] {
        if !p.exists() {
            return Err(format!("{what} {}: no such file", p.display()));
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_units_and_missing_inputs_fail_only_their_unit() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("a.nii"), b"").unwrap();
        let m = t.path().join("m.tsv");
        std::fs::write(&m, "subject\tsession\tscan\tatlas\nsub-01\tn/a\ta.nii\ta.nii\n02\tpre\tgone.nii\ta.nii\n")
            .unwrap();
        let units = read(&m).unwrap();
        assert_eq!(units[0].key(), "sub-01");
        assert_eq!(units[0].inputs.as_ref().unwrap().scan, t.path().join("a.nii"));
        assert_eq!(units[1].key(), "sub-02_ses-pre");
        assert!(units[1].inputs.as_ref().unwrap_err().contains("gone.nii"));
        std::fs::write(&m, "subject\tscan\tatlas\n01\ta.nii\ta.nii\nsub-01\ta.nii\ta.nii\n").unwrap();
        assert!(read(&m).unwrap_err().to_string().contains("line 3: sub-01 is listed twice"));
        std::fs::write(&m, "subject\tscan\tatlas\n0/1\ta.nii\ta.nii\n").unwrap();
        assert!(read(&m).unwrap_err().to_string().contains("letters and digits"));
    }
}
