//! `crmo-map evaluate`: scores a folder of phantoms, survives a broken one.

use crate::util::*;

/// Two small phantoms and a broken one, as `evaluate --phantoms` meets them.
fn phantom_folder(root: &std::path::Path) -> std::path::PathBuf {
    let phantoms = root.join("phantoms");
    phantom(&phantoms.join("a-seed"), &["--case", "seed", "--spacing", "3", "5", "3"]);
    phantom(
        &phantoms.join("b-random"),
        &["--case", "random", "--seed", "5", "--lesions", "5", "--spacing", "3", "5", "3"],
    );
    phantom(&phantoms.join("c-broken"), &["--case", "seed", "--spacing", "3", "5", "3"]);
    std::fs::write(phantoms.join("c-broken/scan.nii.gz"), b"not a scan").unwrap();
    phantoms
}

#[test]
fn evaluates_a_folder_and_keeps_going_past_a_broken_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let phantoms = phantom_folder(tmp.path());
    let out = tmp.path().join("eval");
    let res = crmo_ok(&["evaluate", "--quiet", "--phantoms", s(&phantoms), "--out", s(&out)]);
    let table = String::from_utf8_lossy(&res.stdout);
    assert!(table.contains("c-broken") && table.contains("FAILED"), "{table}");
    let ev = json(&out.join("evaluation.json"));
    let scans = ev["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 2);
    assert_eq!(ev["failures"].as_array().unwrap().len(), 1);
    assert!(ev["failures"][0].to_string().contains("c-broken"), "{}", ev["failures"]);
    assert_eq!(ev["summary"]["scans"], 3);
    assert_eq!(ev["summary"]["failed_scans"], 1);
    assert!(out.join("evaluation.txt").exists());
    assert_eq!(validate_reports_under(&out.join("runs")), 2, "each scan's report, valid against the schema");
    // The scores are live: the default finds most of these conspicuous lesions, a seed ratio
    // far too high finds none, and so does the global detector's threshold.
    assert!(ev["summary"]["sensitivity"].as_f64().unwrap() >= 0.5, "{}", ev["summary"]);
    for (name, flags) in [("eval-high", ["--seed-ratio", "60"]), ("eval-global-high", ["--method", "global"])] {
        let out2 = tmp.path().join(name);
        let mut args = vec!["evaluate", "--quiet", "--phantoms", s(&phantoms), "--out", s(&out2)];
        args.extend(flags);
        if name == "eval-global-high" {
            args.extend(["--z-threshold", "40"]);
        }
        crmo_ok(&args);
        assert_eq!(json(&out2.join("evaluation.json"))["summary"]["sensitivity"], 0.0, "{name}");
    }
}

#[test]
#[ignore = "issue 10 (open): every lesion found in its region with no false positive, but on the 3 x 5 x 3 mm founding case the outlines take in the lesions' 4 mm soft edge (Dice 0.58 < 0.6); see docs/ACCURACY.md"]
fn every_lesion_of_small_conspicuous_phantoms_is_found_with_no_false_positive() {
    let tmp = tempfile::tempdir().unwrap();
    let phantoms = phantom_folder(tmp.path());
    let out = tmp.path().join("eval");
    crmo_ok(&["evaluate", "--quiet", "--phantoms", s(&phantoms), "--out", s(&out)]);
    let ev = json(&out.join("evaluation.json"));
    for sc in ev["scans"].as_array().unwrap() {
        assert_eq!(sc["found"], sc["true_lesions"], "{}", sc["name"]);
        assert_eq!(sc["region_correct"], sc["true_lesions"], "{}", sc["name"]);
        assert_eq!(sc["false_positives"], 0, "{}", sc["name"]);
        assert!(sc["dice"].as_f64().unwrap() > 0.6);
    }
    assert_eq!(ev["summary"]["sensitivity"], 1.0);
}

/// Random phantoms with TotalSegmentator-style atlases: every found lesion in the right bone,
/// and (the target is 95%) in the right sub-region; the table lists no wrong region.
#[test]
fn totalsegmentator_style_atlases_name_bones_and_sub_regions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ts");
    let res = crmo_ok(&[
        "evaluate",
        "--quiet",
        "--suite",
        "basic",
        "--count",
        "4",
        "--seed",
        "2024",
        "--atlas-style",
        "totalsegmentator",
        "--out",
        s(&out),
    ]);
    let ev = json(&out.join("evaluation.json"));
    let sum = &ev["summary"];
    assert_eq!(sum["sensitivity"], 1.0, "{}", String::from_utf8_lossy(&res.stdout));
    // All found: the interval closes at 1 and opens below it by the lesions' count alone.
    let ci = sum["sensitivity_ci95"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() < 1.0 && ci[1] == 1.0, "{sum}");
    let fp = sum["false_positives_per_scan_ci95"].as_array().unwrap();
    let rate = sum["false_positives_per_scan"].as_f64().unwrap();
    assert!(fp[0].as_f64().unwrap() <= rate && rate < fp[1].as_f64().unwrap(), "{sum}");
    assert_eq!(sum["bone_correct"], 1.0);
    assert!(sum["region_correct"].as_f64().unwrap() >= 0.95, "{sum}");
    // The phantoms' atlases really are whole bones.
    let labels = std::fs::read_to_string(out.join("phantoms/basic-000/labels.tsv")).unwrap();
    assert!(labels.contains("\thip_left\t") && !labels.contains("acetabulum"));
}
