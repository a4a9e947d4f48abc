//! The command-line contract: help texts, version, quiet output.

use crate::util::*;
use std::path::Path;

#[test]
fn help_explains_every_flag() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "run",
            &[
                "--scan",
                "--atlas",
                "--labels",
                "--out",
                "--z-threshold",
                "--min-volume-mm3",
                "--connectivity",
                "--threads",
                "--quiet",
                "--method",
                "--seed-ratio",
                "--grow-ratio",
                "--edge-mm",
                "--staging-config",
            ],
        ),
        ("phantom", &["--case", "--seed", "--lesions", "--spacing", "--out", "--orientation", "--datatype", "--scale"]),
        ("demo", &["--out", "--seed", "--z-threshold", "--method"]),
        (
            "evaluate",
            &[
                "--phantoms",
                "--suite",
                "--count",
                "--seed",
                "--out",
                "--method",
                "--seed-ratio",
                "--grow-ratio",
                "--edge-mm",
            ],
        ),
    ];
    for (cmd, flags) in cases {
        let out = crmo_ok(&[cmd, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        for f in flags {
            let at = lines.iter().position(|l| l.split_whitespace().any(|w| w.trim_end_matches(',') == *f));
            let at = at.unwrap_or_else(|| panic!("`{cmd} --help` lacks {f}:\n{text}"));
            // Every flag is explained: words after the flag and its value names on its line,
            // or (when clap wraps) an indented text line right below it.
            let same = lines[at].split_whitespace().any(|w| !w.starts_with('-') && !w.starts_with('<'));
            let below = lines.get(at + 1).is_some_and(|l| !l.trim().is_empty() && !l.trim().starts_with('-'));
            assert!(same || below, "`{cmd} --help`: {f} undocumented:\n{text}");
        }
    }
    let top = crmo_ok(&["--help"]);
    let text = String::from_utf8_lossy(&top.stdout);
    for cmd in ["run", "phantom", "demo", "evaluate", "staging-config"] {
        assert!(text.contains(cmd));
    }
}

#[test]
fn version_and_missing_arguments() {
    let out = crmo_ok(&["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let res = crmo(&["run", "--scan", "x.nii"]);
    assert_eq!(res.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn quiet_run_prints_nothing_and_loud_run_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let mut base = tiny_args("labels.tsv");
    base.extend(["--threads".to_string(), "2".to_string()]);
    let q = tmp.path().join("q");
    let mut args = base.clone();
    args.extend(["--quiet".to_string(), "--out".to_string(), s(&q).to_string()]);
    let out = crmo_ok(&args);
    assert!(out.stderr.is_empty() && out.stdout.is_empty());
    let l = tmp.path().join("l");
    let mut args = base.clone();
    args.extend(["--out".to_string(), s(&l).to_string()]);
    let out = crmo_ok(&args);
    // Not a terminal: no progress drawing, just the closing line.
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    assert_eq!(
        listing(&l),
        vec![
            "lesions.csv",
            "lesions.ctbl",
            "lesions.label.txt",
            "lesions.lut",
            "lesions.nii.gz",
            "lesions.tsv",
            "overview.png",
            "regions.ctbl",
            "regions.label.txt",
            "regions.lut",
            "regions.nii.gz",
            "regions.png",
            "regions.tsv",
            "report.json",
            "review",
            "review.html"
        ]
    );
}

#[test]
fn connectivity_changes_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    for c in ["6", "18", "26"] {
        let out = tmp.path().join(c);
        let rep = run_tiny("labels.tsv", &out, &["--connectivity", c]);
        assert_eq!(rep["parameters"]["connectivity"], c.parse::<u32>().unwrap());
        assert_eq!(rep["summary"]["lesion_count"], 2);
    }
}

/// Foci set aside as equivocal (sub-centimetre, at normal-variant sites) are listed in
/// report.json and on the review page, and nowhere a lesion is: not in lesions.csv, the lesion
/// map or the closing line's count. `--variant-focus-mm 0` reports them as lesions.
#[test]
fn equivocal_foci_are_listed_in_the_report_not_among_the_lesions() {
    use crmo_map::phantom::{self, Case, Hardness, PhantomOptions, PhantomStorage};
    let tmp = tempfile::tempdir().unwrap();
    // The healthy phantom of confounders::normal_variant_foci_are_set_aside_as_equivocal:
    // three normal-variant foci that the detector finds.
    let seed = 9001;
    let hard = Hardness { variant_foci: phantom::MAX_VARIANT_FOCI, ..Hardness::suite(seed) };
    let o = PhantomOptions { case: Case::Healthy, seed, spacing: [1.2, 5.0, 1.2], hard, ..Default::default() };
    let input = tmp.path().join("in");
    phantom::write_phantom(&phantom::generate(&o).unwrap(), &input, &PhantomStorage::default()).unwrap();
    let (scan, atlas, labels) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"), input.join("labels.tsv"));
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["run", "--scan", s(&scan), "--atlas", s(&atlas), "--labels", s(&labels), "--out", s(out)];
        args.extend(extra);
        let o = crmo_ok(&args);
        (json(&out.join("report.json")), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let out = tmp.path().join("default");
    let (rep, stderr) = run(&out, &[]);
    validate_report(&rep, &out);
    assert_eq!(rep["lesions"].as_array().unwrap().len(), 0);
    let foci = rep["equivocal_foci"].as_array().unwrap();
    assert_eq!(foci.iter().map(|f| f["id"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(rep["parameters"]["local"]["variant_focus_mm"], 10.0);
    assert!(stderr.contains("0 lesion(s), 3 equivocal focus/foci"), "{stderr}");
    let csv = std::fs::read_to_string(out.join("lesions.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    let map = crmo_map::io::read_labels(&out.join("lesions.nii.gz")).unwrap();
    assert!(map.volume.data.iter().all(|&v| v == 0));
    let page = std::fs::read_to_string(out.join("review/data.js")).unwrap();
    let region = foci[0]["region"].as_str().unwrap();
    assert!(page.contains("\"equivocal\":[{") && page.contains(region), "the review page lists the foci");

    // The text table (`demo` prints it) names them on a line of their own.
    let cfg = crmo_map::pipeline::RunConfig {
        scan: scan.clone(),
        atlas: atlas.clone(),
        labels: Some(labels.clone()),
        out: tmp.path().join("lib"),
        params: Default::default(),
        staging: None,
        names: Default::default(),
    };
    let table = crmo_map::report::text_table(&crmo_map::pipeline::run(&cfg, &crmo_map::pipeline::Silent).unwrap());
    let line = table.lines().find(|l| l.starts_with("equivocal foci set aside")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.ends_with(&format!(
        ": {}",
        foci.iter().map(|f| f["region"].as_str().unwrap()).collect::<Vec<_>>().join(", ")
    )));

    let off = tmp.path().join("off");
    let (rep, stderr) = run(&off, &["--variant-focus-mm", "0"]);
    assert_eq!((rep["lesions"].as_array().unwrap().len(), rep["equivocal_foci"].as_array().unwrap().len()), (3, 0));
    // The closing line after the report's warnings (this noisy phantom's seed floor).
    let closing = stderr.lines().find(|l| !l.starts_with("crmo-map: warning: ")).unwrap_or_default();
    assert!(closing.starts_with("3 lesion(s); outputs in"), "{stderr}");
}
