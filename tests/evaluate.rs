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

/// True lesions under the run's minimum lesion volume are listed, not scored: the run cannot
/// report them (the reader evaluation leaves a reader's small lesions out alike).
#[test]
fn true_lesions_under_the_minimum_volume_are_listed_not_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let phantoms = phantom_folder(tmp.path());
    std::fs::remove_dir_all(phantoms.join("c-broken")).unwrap();
    let truth = json(&phantoms.join("b-random/truth.json"));
    let mut volumes: Vec<f64> = truth.as_array().unwrap().iter().map(|t| t["volume_mm3"].as_f64().unwrap()).collect();
    volumes.sort_by(f64::total_cmp);
    // A minimum between the smallest lesion and the next leaves out the smallest only.
    let floor = (volumes[0] + volumes[1]) / 2.0;
    assert!(volumes[0] < volumes[1], "{volumes:?}");
    let out = tmp.path().join("eval");
    let floor_arg = floor.to_string();
    let res =
        crmo_ok(&["evaluate", "--quiet", "--phantoms", s(&phantoms), "--out", s(&out), "--min-volume-mm3", &floor_arg]);
    let ev = json(&out.join("evaluation.json"));
    let b = ev["scans"].as_array().unwrap().iter().find(|sc| sc["name"] == "b-random").unwrap();
    assert_eq!(b["true_lesions"], volumes.len() as u64 - 1, "{b}");
    let under = b["under_floor"].as_array().unwrap();
    assert_eq!(under.len(), 1, "{b}");
    assert_eq!(under[0]["volume_mm3"].as_f64().unwrap(), volumes[0]);
    assert!(b["lesions"].as_array().unwrap().iter().all(|l| l["id"] != under[0]["id"]), "{b}");
    let seed_truth = json(&phantoms.join("a-seed/truth.json"));
    let seed_under =
        seed_truth.as_array().unwrap().iter().filter(|t| t["volume_mm3"].as_f64().unwrap() < floor).count();
    assert_eq!(ev["summary"]["lesions_under_floor"], 1 + seed_under as u64);
    let table = String::from_utf8_lossy(&res.stdout);
    let line = format!("{} true lesion{} under", 1 + seed_under, if seed_under == 0 { "" } else { "s" });
    assert!(table.contains("under the minimum volume, not scored") && table.contains(&line), "{table}");
    // With no minimum every lesion is scored.
    let out0 = tmp.path().join("eval0");
    crmo_ok(&["evaluate", "--quiet", "--phantoms", s(&phantoms), "--out", s(&out0), "--min-volume-mm3", "0"]);
    let ev0 = json(&out0.join("evaluation.json"));
    assert_eq!(ev0["summary"]["lesions_under_floor"], 0);
    let b0 = ev0["scans"].as_array().unwrap().iter().find(|sc| sc["name"] == "b-random").unwrap();
    assert_eq!(b0["true_lesions"], volumes.len() as u64);
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
