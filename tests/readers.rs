//! `crmo-map evaluate --readers`: real scans with radiologists' masks (../shared/realdata).

use crate::util::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A manifest in `dir` listing `subjects` of sij-stir (absolute paths), with their masks when
/// they have any, and their normal-marrow region for those in `with_marrow`.
fn manifest(dir: &Path, sij: &Path, subjects: &[&str], with_marrow: &[&str]) -> std::path::PathBuf {
    let mut text = String::from("subject\tscan\tatlas\treader\tsession\tmask\tnormal_marrow\n");
    for sub in subjects {
        let d = sij.join(sub);
        let (scan, atlas) = (d.join("stir.nii.gz"), d.join("region.nii.gz"));
        let marrow =
            if with_marrow.contains(sub) { s(&d.join("normal_marrow.nii.gz")).to_string() } else { "-".into() };
        let mut any = false;
        for (r, sess) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
            let m = d.join(format!("oedema_R{r}{sess}.nii.gz"));
            if m.exists() {
                any = true;
                text.push_str(&format!("{sub}\t{}\t{}\t{r}\t{sess}\t{}\t{marrow}\n", s(&scan), s(&atlas), s(&m)));
            }
        }
        if !any {
            text.push_str(&format!("{sub}\t{}\t{}\t-\t-\t-\t{marrow}\n", s(&scan), s(&atlas)));
        }
    }
    let p = dir.join("manifest.tsv");
    std::fs::write(&p, text).unwrap();
    p
}

fn row<'a>(ev: &'a Value, name: &str) -> &'a Value {
    ev["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| format!("{} vs {}", a["tested"].as_str().unwrap(), a["truth"].as_str().unwrap()) == name)
        .unwrap_or_else(|| panic!("no row {name}"))
}

/// The reader-vs-reader figures of one subject equal an independent nibabel + cc3d count.
#[test]
fn one_subject_reader_figures_match_an_independent_count() {
    let Some(real) = realdata("reader figures against nibabel + cc3d") else { return };
    let sij = real.join("sij-stir");
    let tmp = tempfile::tempdir().unwrap();
    let m = manifest(tmp.path(), &sij, &["sub-1016"], &[]);
    let out = tmp.path().join("ev");
    crmo_ok(&["evaluate", "--quiet", "--readers", s(&m), "--readers-only", "--out", s(&out)]);
    let ev = json(&out.join("evaluation.json"));
    let pairs = ev["subjects"][0]["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    let py = Command::new(python())
        .arg(root().join("tests/py/reader_agreement.py"))
        .arg(sij.join("sub-1016"))
        .output()
        .expect("python runs");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let expected: Vec<Value> =
        String::from_utf8_lossy(&py.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(expected.len(), 2);
    for e in &expected {
        let p = pairs.iter().find(|p| p["tested"] == e["tested"] && p["truth"] == e["truth"]).unwrap();
        for k in ["lesions", "found", "false_positives", "truth_voxels", "tested_voxels", "overlap_voxels"] {
            assert_eq!(p[k], e[k], "{} vs {}: {k}", e["tested"], e["truth"]);
        }
        assert!((p["dice"].as_f64().unwrap() - e["dice"].as_f64().unwrap()).abs() < 1e-12);
    }
    assert!(!out.join("froc.png").exists() && !out.join("runs").exists());
}

/// The figures of ../shared/realdata/README.md: over the four subjects with masks reader 1
/// marks 39 lesions, reader 2 finds 27 with 4 false positives, Dice 0.56 (0.29-0.81).
#[test]
fn sij_stir_reader_two_against_reader_one_as_published() {
    let Some(real) = realdata("the sij-stir reader agreement") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ev");
    let res =
        crmo_ok(&["evaluate", "--quiet", "--readers", s(&real.join("sij-stir")), "--readers-only", "--out", s(&out)]);
    let ev = json(&out.join("evaluation.json"));
    let r = row(&ev, "R2 vs R1");
    assert_eq!((r["subjects"].as_u64(), r["lesions"].as_u64(), r["found"].as_u64()), (Some(4), Some(39), Some(27)));
    assert_eq!(r["false_positives"], 4);
    assert_eq!(r["false_positives_per_scan"], 1.0);
    let round2 = |k: &str| (r[k].as_f64().unwrap() * 100.0).round() / 100.0;
    assert_eq!((round2("sensitivity"), round2("dice_mean")), (0.69, 0.56));
    assert_eq!((round2("dice_min"), round2("dice_max")), (0.29, 0.81));
    // 95% intervals of 27 of 39 and of 4 false positives over 4 scans, as
    // scipy.stats.binomtest(27, 39).proportion_ci(0.95, "wilson") and the exact Poisson limits
    // (chi2.ppf(0.025, 8) / 2, chi2.ppf(0.975, 10) / 2) give them, over 4.
    let ci = |k: &str, scale: f64| {
        r[k].as_array().unwrap().iter().map(|v| (v.as_f64().unwrap() * scale).round()).collect::<Vec<_>>()
    };
    assert_eq!(ci("sensitivity_ci95", 1e4), [5358.0, 8143.0]);
    assert_eq!(ci("false_positives_per_scan_ci95", 4e4), [10899.0, 102416.0]);
    assert_eq!(row(&ev, "R1 vs R2")["lesions"], 29);
    assert_eq!(ev["unscored"][0]["name"], "sub-2015");
    let text = String::from_utf8_lossy(&res.stdout);
    assert!(text.contains("R2 vs R1") && text.contains("sub-2015") && text.contains("0.536-0.814"), "{text}");
    assert_eq!(std::fs::read_to_string(out.join("evaluation.txt")).unwrap(), text);
}

/// With the detector: run folders, the table's detector rows equal the FROC's default point,
/// an unscored subject's lesion count, and froc.png of the documented size.
#[test]
fn detector_rows_froc_table_and_plot() {
    let Some(real) = realdata("the reader evaluation's FROC") else { return };
    let sij = real.join("sij-stir");
    let tmp = tempfile::tempdir().unwrap();
    let m = manifest(tmp.path(), &sij, &["sub-1013", "sub-2015"], &["sub-2015"]);
    let out = tmp.path().join("ev");
    let labels = fixture("realdata/sij-region.tsv");
    crmo_ok(&[
        "evaluate",
        "--quiet",
        "--readers",
        s(&m),
        "--labels",
        s(&labels),
        "--froc-values",
        "4",
        "--out",
        s(&out),
    ]);
    let ev = json(&out.join("evaluation.json"));
    assert!(out.join("runs/sub-1013/report.json").exists() && out.join("runs/sub-2015/lesions.nii.gz").exists());
    assert_eq!(validate_reports_under(&out.join("runs")), 2, "each subject's report, valid against the schema");
    let n2015 = json(&out.join("runs/sub-2015/report.json"))["summary"]["lesion_count"].clone();
    assert_eq!(ev["unscored"][0]["detector_lesions"], n2015);
    // The manifest's normal-marrow column: checked where given (the unscored subject too), and
    // absent where not.
    let check = &ev["unscored"][0]["marrow_check"];
    assert!((0.8..=1.25).contains(&check["ratio"].as_f64().unwrap()), "{check}");
    assert!(ev["subjects"][0]["marrow_check"].is_null(), "{}", ev["subjects"][0]);
    let froc = ev["froc"]["points"].as_array().unwrap();
    let default = crmo_map::detect::local::LocalParams::default().seed_ratio;
    assert_eq!(froc.iter().map(|p| p["value"].as_f64().unwrap()).collect::<Vec<_>>(), [default, 4.0]);
    assert_eq!(froc[0]["default"], true);
    for (k, reader) in ["R1", "R2"].iter().enumerate() {
        let table = row(&ev, &format!("detector vs {reader}"));
        assert_eq!(&froc[0]["agreements"][k], table, "the default point is the run's result");
    }
    let tsv = std::fs::read_to_string(out.join("froc.tsv")).unwrap();
    let lines: Vec<&str> = tsv.lines().collect();
    assert!(lines[0].starts_with("seed_ratio\tdefault\tsensitivity_R1\tfp_per_scan_R1\tdice_mean_R1"), "{tsv}");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with(&format!("{default}\t1\t")) && lines[2].starts_with("4\t0\t"), "{tsv}");
    let png = image::open(out.join("froc.png")).unwrap();
    assert_eq!((png.width(), png.height()), (960, 640));
    // Scan by scan: one row per value, scored subject and reader (sub-2015 has no masks), and
    // the scans' counts add up to the pooled point's.
    let by_subject = std::fs::read_to_string(out.join("froc_subjects.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = by_subject.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0], ["seed_ratio", "default", "subject", "truth", "lesions", "found", "false_positives", "dice"]);
    assert_eq!(rows.len(), 1 + 2 * 2, "{by_subject}");
    for (i, point) in froc.iter().enumerate() {
        for (k, reader) in ["R1", "R2"].iter().enumerate() {
            let r = &rows[1 + 2 * i + k];
            assert_eq!((r[1], r[2], r[3]), (if i == 0 { "1" } else { "0" }, "sub-1013", *reader), "{by_subject}");
            let pooled = &point["agreements"][k];
            for (col, key) in [(4, "lesions"), (5, "found"), (6, "false_positives")] {
                assert_eq!(r[col].parse::<u64>().unwrap(), pooled[key].as_u64().unwrap(), "{key}: {by_subject}");
            }
            let dice: f64 = r[7].parse().unwrap();
            assert!((dice - pooled["dice_mean"].as_f64().unwrap()).abs() < 1e-4, "{by_subject}");
        }
    }
}

/// The default detector on all four annotated real scans against issue 10's yardstick: it
/// finds reader 1's lesions at least as often as reader 2 does, and its voxel Dice against
/// reader 1 (mean over the scans and pooled) is at least 0.45. Its false positives may exceed
/// reader 2's by one over the four scans and no more: the target (no more than reader 2's) is
/// not met since the outline became confluent (a bright patch that grew into a marked lesion
/// now stands apart and counts), and this floor keeps it from slipping further. (The held-out
/// scans of the same source are scored the same way; these four set the floor.)
#[test]
fn the_default_detector_against_the_readers_on_the_real_scans() {
    let Some(real) = realdata("the detector against the readers") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ev");
    let labels = fixture("realdata/sij-region.tsv");
    let default = crmo_map::detect::local::LocalParams::default().seed_ratio.to_string();
    crmo_ok(&[
        "evaluate",
        "--quiet",
        "--readers",
        s(&real.join("sij-stir")),
        "--labels",
        s(&labels),
        "--froc-values",
        &default,
        "--out",
        s(&out),
    ]);
    let ev = json(&out.join("evaluation.json"));
    let (detector, readers) = (row(&ev, "detector vs R1"), row(&ev, "R2 vs R1"));
    let f = |r: &Value, k: &str| r[k].as_f64().unwrap();
    assert_eq!(detector["subjects"], 4);
    assert!(f(detector, "sensitivity") >= f(readers, "sensitivity"), "{detector} against {readers}");
    assert!(f(detector, "false_positives") <= f(readers, "false_positives") + 1.0, "{detector} against {readers}");
    assert!(f(detector, "dice_mean") >= 0.45 && f(detector, "dice_pooled") >= 0.45, "{detector}");
    // The detector's normal-marrow level agrees with the readers' reference region within a
    // quarter on every scan, the unscored one too (its thresholds are ratios to that level).
    let scans: Vec<&Value> =
        ev["subjects"].as_array().unwrap().iter().chain(ev["unscored"].as_array().unwrap()).collect();
    assert_eq!(scans.len(), 5);
    for sc in scans {
        let c = &sc["marrow_check"];
        assert!(f(c, "voxels") > 1000.0 && (0.8..=1.25).contains(&f(c, "ratio")), "{}: {c}", sc["name"]);
    }
}

/// The same real scan pooled 2 x 2 in plane (`scripts/pool_readers.py`, 1.2 mm: about the
/// in-plane grid of whole-body MRI) keeps its anatomy and readers (the pooled masks hold half
/// the voxels of a block or more, the scan the block means), but loses the denoising window's
/// averaging: the report says so, per region (`seed_floor_ratio`) and in a warning, while the
/// scan as reconstructed seeds at the seed ratio and warns of nothing.
#[test]
fn a_real_scan_pooled_to_a_coarser_grid_reports_its_higher_seed_floor() {
    let Some(real) = realdata("seed floor on a real STIR and its pooling") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::os::unix::fs::symlink(real.join("sij-stir/sub-1016"), src.join("sub-1016")).unwrap();
    let pooled = tmp.path().join("pooled");
    let py = Command::new(python())
        .arg(root().join("scripts/pool_readers.py"))
        .args([s(&src), s(&pooled)])
        .output()
        .expect("python runs");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let table = root().join("fixtures/realdata/sij-region.tsv");
    let run = |dir: &Path, out: &Path, flags: &[&str]| {
        let (scan, atlas) = (dir.join("stir.nii.gz"), dir.join("region.nii.gz"));
        let args = ["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--labels", s(&table), "--out", s(out)];
        crmo_ok(&[&args[..], flags].concat());
        let rep = json(&out.join("report.json"));
        let floor = rep["marrow"]["regions"][0]["seed_floor_ratio"].as_f64().unwrap();
        (rep, floor)
    };
    let (native, native_floor) = run(&src.join("sub-1016"), &tmp.path().join("native"), &[]);
    let (coarse, coarse_floor) = run(&pooled.join("sub-1016"), &tmp.path().join("coarse"), &[]);
    let seed_ratio = native["parameters"]["local"]["seed_ratio"].as_f64().unwrap();
    assert_eq!(native_floor, seed_ratio);
    assert_eq!(native["input"]["warnings"], serde_json::json!([]));
    assert_eq!(coarse["input"]["spacing_mm"][0].as_f64().map(|x| (x * 100.0).round()), Some(119.0));
    // The same anatomy: half the voxels in plane, twice their size, the centre of voxel 0 at
    // the centre of the block it pooled, and the same marrow level within a few percent.
    let (a, b) = (&native["input"], &coarse["input"]);
    assert_eq!(b["shape"][2], a["shape"][2]);
    assert_eq!(b["shape"][0].as_u64().unwrap(), a["shape"][0].as_u64().unwrap() / 2);
    let m = |r: &Value, row: usize, col: usize| r["affine"][row][col].as_f64().unwrap();
    for row in 0..3 {
        for col in 0..2 {
            assert!((m(b, row, col) - 2.0 * m(a, row, col)).abs() < 1e-4);
        }
        let centre = m(a, row, 3) + 0.5 * (m(a, row, 0) + m(a, row, 1));
        assert!((m(b, row, 3) - centre).abs() < 1e-3, "row {row}: {} vs {centre}", m(b, row, 3));
    }
    let level = |r: &Value| r["marrow"]["regions"][0]["marrow"].as_f64().unwrap();
    assert!((level(&coarse) / level(&native) - 1.0).abs() < 0.05, "{} vs {}", level(&coarse), level(&native));
    assert!(coarse_floor > 2.0, "pooled floor {coarse_floor}");
    let w = coarse["input"]["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].as_str().unwrap().contains("in 1 of 1 regions (100% of the bone) a seed needs more than 2.0 times"));
    // The floor is the noise demand over the region's level: 1 + noise_z * noise / level on
    // the pooled grid, whose 1.2 mm voxels the 1 mm denoising window does not average.
    let (z, noise) =
        (coarse["parameters"]["local"]["noise_z"].as_f64().unwrap(), coarse["marrow"]["noise_sigma"].as_f64().unwrap());
    let level = coarse["marrow"]["regions"][0]["marrow"].as_f64().unwrap();
    assert!((coarse_floor - (1.0 + z * noise / level)).abs() < 1e-3, "{coarse_floor} vs {noise} / {level}");
    // The warning names the demand at which the seed ratio binds again; run at it, the floor
    // is the seed ratio and the warning is gone.
    let text = w[0].as_str().unwrap();
    let named: f64 = text.split("; --noise-z ").nth(1).and_then(|t| t.split(' ').next()).unwrap().parse().unwrap();
    assert!(named > 1.0 && named < z, "{text}");
    assert_eq!(coarse["marrow"]["noise_z_for_seed_ratio"].as_f64(), Some(named), "the report's field is the warning's");
    assert_eq!(native["marrow"]["noise_z_for_seed_ratio"], Value::Null, "the seed ratio binds as reconstructed");
    let z_arg = named.to_string();
    let (at_named, named_floor) = run(&pooled.join("sub-1016"), &tmp.path().join("named"), &["--noise-z", &z_arg]);
    assert_eq!(named_floor, seed_ratio);
    assert_eq!(at_named["input"]["warnings"], serde_json::json!([]));
}
