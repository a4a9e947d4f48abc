//! Bad inputs: a one-line error naming the file, a non-zero exit, no panic, and nothing left
//! in the output folder.

use crate::util::*;
use std::path::Path;

/// Runs `crmo-map run` expecting failure; returns stderr.
fn run_fails(scan: &Path, atlas: &Path, labels: &Path, out: &Path) -> String {
    let res = crmo(&["run", "--scan", s(scan), "--atlas", s(atlas), "--labels", s(labels), "--out", s(out)]);
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(!res.status.success(), "expected failure, got success for {}", scan.display());
    assert_eq!(res.status.code(), Some(1), "exit code for {}: {err}", scan.display());
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err:?}");
    assert!(err.starts_with("crmo-map: error: "), "{err}");
    assert!(!out.exists(), "output folder left behind for {}: {:?}", scan.display(), listing(out));
    err
}

// Every file of fixtures/bad/ is tried by tests/corpus.rs, in the roles its MANIFEST.tsv gives.

#[test]
fn specific_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (scan, atlas, labels) = (fixture("tiny/scan.nii.gz"), fixture("tiny/atlas.nii.gz"), fixture("tiny/labels.tsv"));
    let cases: Vec<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf, &str)> = vec![
        (tmp.path().join("missing.nii.gz"), atlas.clone(), labels.clone(), "No such file"),
        (fixture("bad/truncated.nii.gz"), atlas.clone(), labels.clone(), "truncated"),
        (fixture("bad/text.nii"), atlas.clone(), labels.clone(), "not a NIfTI-1 file"),
        (fixture("bad/nifti2.nii"), atlas.clone(), labels.clone(), "NIfTI-2"),
        (fixture("bad/two-volumes.nii.gz"), atlas.clone(), labels.clone(), "2 volumes"),
        (scan.clone(), fixture("tiny/atlas-elsewhere.nii.gz"), labels.clone(), "does not overlap"),
        (scan.clone(), fixture("tiny/atlas-unlisted-label.nii.gz"), labels.clone(), "label value(s) 3"),
        (scan.clone(), atlas.clone(), fixture("tiny/labels-empty.tsv"), "no label"),
        (scan.clone(), atlas.clone(), fixture("bad/text.nii"), "index"),
    ];
    for (sc, at, lb, want) in cases {
        let err = run_fails(&sc, &at, &lb, &out);
        assert!(err.contains(want), "{want:?} not in {err:?}");
    }
}

#[test]
fn a_failed_run_leaves_an_existing_output_folder_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let res = crmo(&[
        "run",
        "--scan",
        s(&fixture("bad/truncated.nii.gz")),
        "--atlas",
        s(&fixture("tiny/atlas.nii.gz")),
        "--labels",
        s(&fixture("tiny/labels.tsv")),
        "--out",
        s(&out),
    ]);
    assert!(!res.status.success());
    assert_eq!(listing(&out), vec!["notes.txt"]);
}

#[test]
fn bad_parameters_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut base = tiny_args("labels.tsv");
    base.extend(["--out".to_string(), s(&out).to_string()]);
    for extra in
        [&["--connectivity", "8"][..], &["--min-volume-mm3", "-1"], &["--z-threshold", "nan"], &["--threads", "0"]]
    {
        let mut args = base.clone();
        args.extend(extra.iter().map(|a| a.to_string()));
        let res = crmo(&args);
        assert!(!res.status.success(), "{extra:?} accepted");
        assert!(!out.exists());
    }
    let res = crmo(&["phantom", "--orientation", "XYZ", "--spacing", "3", "5", "3", "--out", s(&out)]);
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("orientation"));
    assert!(!out.exists());
}

/// Without `--labels`, an atlas that carries no label names in its header is a one-line
/// error naming the atlas.
#[test]
fn no_table_and_no_names_in_the_atlas() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (scan, atlas) = (fixture("tiny/scan.nii.gz"), fixture("tiny/atlas.nii.gz"));
    let res = crmo(&["run", "--scan", s(&scan), "--atlas", s(&atlas), "--out", s(&out)]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");
    assert!(err.contains("atlas.nii.gz") && err.contains("pass --labels"), "{err}");
    assert!(!out.exists());
}
