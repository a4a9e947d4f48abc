//! Golden-file tests: the tiny fixture's report, CSV and region table, byte for byte.
//! Regenerate with `scripts/bless_golden.sh` only when a change to the outputs is intended
//! (see fixtures/README.md).

use crate::util::*;

fn normalise(text: &str) -> String {
    // The version changes with every release; the rest must not change unnoticed.
    let v = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    text.replace(&v, "\"version\": \"<version>\"")
}

fn compare(name: &str, got: &str) {
    let path = fixture("golden").join(name);
    let got = normalise(got);
    if std::env::var_os("CRMO_MAP_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run scripts/bless_golden.sh", path.display()));
    if want != got {
        let first = want.lines().zip(got.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{name} differs from the golden file at line {}:\n  want: {}\n  got:  {}",
            first + 1,
            want.lines().nth(first).unwrap_or(""),
            got.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn tiny_fixture_report_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_tiny("labels.tsv", &out, &[]);
    compare("tiny-report.json", &std::fs::read_to_string(out.join("report.json")).unwrap());
    compare("tiny-lesions.csv", &std::fs::read_to_string(out.join("lesions.csv")).unwrap());
    // The region table pins the palette's colours too (viewers' colour tables reuse them).
    compare("tiny-regions.tsv", &std::fs::read_to_string(out.join("regions.tsv")).unwrap());
    check_contract(&fixture("tiny/scan.nii.gz"), &out);
}

#[test]
fn json_and_tsv_tables_give_the_same_lesions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for table in ["labels.tsv", "labels.json"] {
        let out = tmp.path().join(table);
        reports.push(run_tiny(table, &out, &[]));
    }
    assert_eq!(reports[0]["lesions"], reports[1]["lesions"]);
    assert_eq!(reports[0]["summary"], reports[1]["summary"]);
}
