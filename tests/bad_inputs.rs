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
fn when_scan_and_atlas_both_fail_the_scan_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (scan, atlas) = (tmp.path().join("no-scan.nii.gz"), fixture("bad/truncated.nii.gz"));
    let err = run_fails(&scan, &atlas, &fixture("tiny/labels.tsv"), &tmp.path().join("out"));
    assert!(err.contains("no-scan.nii.gz") && !err.contains("truncated"), "{err}");
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
        assert_eq!(res.status.code(), Some(2), "{extra:?}");
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

/// One `crmo-map: error:` line, exit `code`; returns the line.
fn one_error_line(res: &std::process::Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert_eq!(res.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err:?}");
    assert!(err.starts_with("crmo-map: error: ") && !err.contains("panicked"), "{err}");
    err
}

fn tiny_run_into(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = tiny_args("labels.tsv");
    args.extend(["--quiet".to_string(), "--out".to_string(), s(out).to_string()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// r14: a write past the file-size limit (`ulimit -f`) ends in one line naming the file and
/// the cause, exit 1, and nothing left (SIGXFSZ is ignored, so the write returns EFBIG).
#[test]
fn r14_file_size_limit_ends_in_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a/b/out");
    let mut args =
        vec!["-c".to_string(), "ulimit -f 16; exec \"$0\" \"$@\"".into(), env!("CARGO_BIN_EXE_crmo-map").into()];
    args.extend(tiny_run_into(&out, &[]));
    let res = std::process::Command::new("sh").args(&args).current_dir(root()).output().unwrap();
    let err = one_error_line(&res, 1);
    assert!(err.contains("File too large") && err.contains(s(&out)), "{err}");
    assert!(!tmp.path().join("a").exists(), "{:?}", listing(tmp.path()));
}

/// r14: an output folder that cannot be made (its parent is a file) is one line naming it.
#[test]
fn r14_unwritable_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    let out = tmp.path().join("file/out");
    let err = one_error_line(&crmo(&tiny_run_into(&out, &[])), 1);
    assert!(err.contains("file/out") && err.contains("Not a directory"), "{err}");
}

/// r14: OS errors are printed once, not once by the library and again by the cause chain.
#[test]
fn r14_os_errors_are_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.nii.gz");
    let args = ["run", "--scan", s(&missing), "--atlas", s(&missing), "--labels", "x", "--out", s(tmp.path())];
    let err = one_error_line(&crmo(&args), 1);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

/// r14: flag values out of range are a malformed command line, exit 2 (as clap's own
/// rejections), checked before anything is read or written.
#[test]
fn r14_flag_values_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for extra in [
        &["--threads", "100000"][..],
        &["--threads", "0"],
        &["--max-memory", "12Q"],
        &["--z-threshold", "inf"],
        &["--seed-ratio", "nan"],
        &["--peak-fraction", "1"],
        &["--grow-ratio", "3"],
    ] {
        let res = crmo(&tiny_run_into(&out, extra));
        assert_eq!(res.status.code(), Some(2), "{extra:?}: {}", String::from_utf8_lossy(&res.stderr));
        assert!(!out.exists());
    }
    // A value against another flag's: one line of our own, exit 2.
    let err = one_error_line(&crmo(&tiny_run_into(&out, &["--grow-ratio", "3"])), 2);
    assert!(err.contains("--grow-ratio"), "{err}");
    for scale in ["1e38", "nan", "0", "1e-40"] {
        let res = crmo(&["phantom", "--scale", scale, "--out", s(&out)]);
        assert_eq!(res.status.code(), Some(2), "--scale {scale}");
        assert!(!out.exists());
    }
    let res = crmo(&["evaluate", "--suite", "basic", "--count", "0", "--out", s(&out)]);
    assert_eq!(res.status.code(), Some(2));
    // --noise-scale: 0 to 8 (the suite's noisiest phantoms reach the largest noise sigma), and
    // only for a generated suite.
    for (scale, suite) in [("8.5", true), ("-1", true), ("nan", true), ("0.5", false)] {
        let mut args = vec!["evaluate", "--noise-scale", scale, "--count", "1", "--out", s(&out)];
        args.extend(if suite { ["--suite", "hard"] } else { ["--phantoms", s(tmp.path())] });
        let res = crmo(&args);
        assert_eq!(res.status.code(), Some(2), "--noise-scale {scale}: {}", String::from_utf8_lossy(&res.stderr));
        assert!(!out.exists());
    }
    // A flag that needs another, which clap cannot require when the other conflicts with a
    // flag given or when the flag has a default: one line naming both.
    for (flag, value, needs) in [
        ("--noise-scale", Some("0.5"), "--suite"),
        ("--count", Some("3"), "--suite"),
        ("--seed", Some("3"), "--suite"),
        ("--atlas-style", Some("totalsegmentator"), "--suite"),
        ("--labels", Some("t.tsv"), "--readers"),
        ("--readers-only", None, "--readers"),
        ("--froc-values", Some("1.5"), "--readers"),
        ("--truth-min-volume-mm3", Some("50"), "--readers"),
        ("--found-fraction", Some("0.2"), "--readers"),
        ("--fp-min-volume-mm3", Some("50"), "--readers"),
    ] {
        let mut args = vec!["evaluate", "--phantoms", s(tmp.path()), "--out", s(&out), flag];
        args.extend(value);
        let err = one_error_line(&crmo(&args), 2);
        assert!(err.contains(&format!("{flag} works only with {needs}")), "{err}");
        assert!(!out.exists());
    }
    // The suite's flags beside --readers too.
    let err = one_error_line(&crmo(&["evaluate", "--readers", s(tmp.path()), "--seed", "3", "--out", s(&out)]), 2);
    assert!(err.contains("--seed works only with --suite"), "{err}");
}

/// r14: --max-memory refuses a volume before it is read, naming the file.
#[test]
fn r14_max_memory_refuses_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let err = one_error_line(&crmo(&tiny_run_into(&out, &["--max-memory", "10K"])), 1);
    assert!(err.contains("scan.nii.gz") && err.contains("--max-memory"), "{err}");
    assert!(!out.exists());
    crmo_ok(&tiny_run_into(&out, &["--max-memory", "64M"]));
}

/// r14: a label table that never ends (`/dev/zero`) fails at once, in one line.
#[test]
fn r14_endless_label_table_fails_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut args = tiny_run_into(&out, &[]);
    let at = args.iter().position(|a| a == "--labels").unwrap();
    args[at + 1] = "/dev/zero".into();
    let start = std::time::Instant::now();
    let err = one_error_line(&crmo(&args), 1);
    assert!(start.elapsed().as_secs_f64() < 5.0 && err.contains("/dev/zero") && err.contains("binary"), "{err}");
}

/// r14: an --out whose outputs would overwrite an input is refused (exit 2), the input intact.
#[test]
fn r14_output_over_an_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("lesions.nii.gz");
    std::fs::copy(fixture("tiny/scan.nii.gz"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let mut args = tiny_run_into(tmp.path(), &[]);
    args[2] = s(&input).to_string();
    let err = one_error_line(&crmo(&args), 2);
    assert!(err.contains("lesions.nii.gz") && err.contains("--out"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(listing(tmp.path()), vec!["lesions.nii.gz"]);
}

/// r14: `evaluate` where every scan fails exits 1 (naming the first failure) and writes no
/// summary (no Dice of 1 from empty sets).
#[test]
fn r14_evaluate_with_every_scan_failing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("phantoms/p1");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::copy(fixture("bad/truncated.nii.gz"), p.join("scan.nii.gz")).unwrap();
    std::fs::copy(fixture("tiny/atlas.nii.gz"), p.join("atlas.nii.gz")).unwrap();
    std::fs::copy(fixture("tiny/labels.tsv"), p.join("labels.tsv")).unwrap();
    std::fs::write(p.join("truth.json"), "[]").unwrap();
    let out = tmp.path().join("out");
    let res = crmo(&["evaluate", "--quiet", "--phantoms", s(&tmp.path().join("phantoms")), "--out", s(&out)]);
    let err = one_error_line(&res, 1);
    assert!(err.contains("every scan failed") && err.contains("p1/scan.nii.gz"), "{err}");
    assert!(!out.join("evaluation.json").exists());
}

/// r14: standard output on a full disk (`/dev/full`) is one line and exit 1, not a panic.
#[test]
fn r14_full_standard_output_ends_in_a_message() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let res =
        std::process::Command::new(env!("CARGO_BIN_EXE_crmo-map")).arg("staging-config").stdout(full).output().unwrap();
    let err = one_error_line(&res, 1);
    assert!(err.contains("standard output") && err.contains("No space left"), "{err}");
}
