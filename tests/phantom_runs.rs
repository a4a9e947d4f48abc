//! The phantom through the CLI: the founding case, orientations, datatypes, scales.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// Lesion ids present in a lesion map, read back with the library's reader; also checks the
/// map's grid against the scan's.
fn map_ids(scan: &std::path::Path, map: &std::path::Path) -> BTreeSet<u64> {
    let scan = crmo_map::io::read_scan(scan).unwrap();
    let map = crmo_map::io::read_labels(map).unwrap();
    assert_eq!(map.volume.grid.dims, scan.volume.grid.dims);
    assert!(map.volume.grid.affine.max_abs_diff(&scan.volume.grid.affine) < 1e-4);
    assert_eq!(map.header.intent_code, 1002, "label map intent");
    map.volume.data.iter().filter(|&&v| v != 0).map(|&v| v as u64).collect()
}

#[test]
fn demo_finds_the_founding_case() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = crmo_ok(&["demo", "--quiet", "--out", s(&dir)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for r in FOUNDING {
        assert!(stdout.contains(r), "demo output lacks {r}:\n{stdout}");
    }
    let rep = json(&dir.join("report.json"));
    assert_eq!(regions(&rep), FOUNDING);
    assert_eq!(rep["summary"]["lesion_count"], 7);
    assert_eq!(rep["summary"]["vertebral_involvement"], true);
    assert_eq!(rep["summary"]["mobile_spine_involvement"], true);
    assert_eq!(rep["summary"]["vertebral_levels"], serde_json::json!(["T7", "S2", "S3", "S4"]));
    let report_ids: BTreeSet<u64> =
        rep["lesions"].as_array().unwrap().iter().map(|l| l["id"].as_u64().unwrap()).collect();
    assert_eq!(report_ids, (1..=7).collect());
    assert_eq!(map_ids(&dir.join("input/scan.nii.gz"), &dir.join("lesions.nii.gz")), report_ids);
    // Ids run head to foot: T7 first.
    assert_eq!(rep["lesions"][0]["region"], "vertebra_T7");
    // The printed table gives each lesion's signal over its region's marrow, as the report.
    assert!(stdout.contains("x marrow"), "{stdout}");
    for l in rep["lesions"].as_array().unwrap() {
        let ratio = format!("{:.2}", l["intensity"]["ratio_to_marrow"].as_f64().unwrap());
        let row = stdout.lines().find(|r| r.split_whitespace().next() == Some(&l["id"].to_string())).unwrap();
        assert_eq!(row.split_whitespace().nth(4), Some(ratio.as_str()), "{row}");
    }
    check_contract(&dir.join("input/scan.nii.gz"), &dir);
    assert!(dir.join("overview.png").exists());
}

/// Lesion fields that must agree between two runs on the same phantom stored differently:
/// exactly (`tol_mm` 0.001, `tol_voxels` 0) when only the orientation changes, within a voxel
/// or two when the datatype or scale changes (integer rounding moves the median and MAD and
/// so the cutoff by a hair).
fn same_lesions(a: &Value, b: &Value, tol_mm: f64, tol_voxels: f64, what: &str) {
    // Paired by region (then height): ids run head to foot, and two lesions at one height
    // (both fibulae) may swap ids when a voxel more or less moves a centroid.
    let sorted = |r: &Value| {
        let mut v = r["lesions"].as_array().unwrap().clone();
        let key = |l: &Value| (l["region"].as_str().unwrap().to_string(), l["centroid_mm"][2].as_f64().unwrap());
        v.sort_by(|x, y| key(x).0.cmp(&key(y).0).then(key(x).1.total_cmp(&key(y).1)));
        v
    };
    let (a, b) = (sorted(a), sorted(b));
    assert_eq!(a.len(), b.len(), "{what}");
    for (la, lb) in a.iter().zip(&b) {
        assert_eq!(la["region"], lb["region"], "{what}");
        for c in 0..3 {
            let (x, y) = (la["centroid_mm"][c].as_f64().unwrap(), lb["centroid_mm"][c].as_f64().unwrap());
            assert!((x - y).abs() <= tol_mm, "{what}: lesion {} centroid {c}: {x} vs {y}", la["id"]);
        }
        let (va, vb) = (la["voxels"].as_f64().unwrap(), lb["voxels"].as_f64().unwrap());
        let allowed = if tol_voxels == 0.0 { 0.0 } else { tol_voxels.max(0.05 * va) };
        assert!((va - vb).abs() <= allowed, "{what}: voxels {va} vs {vb}");
    }
}

/// Storage order, datatype and scale change nothing: every variant reports what the float32
/// RAS copy reports (which on this coarse grid is the founding case plus false positives:
/// [`the_coarse_founding_case_is_found_exactly`]).
#[test]
fn orientation_datatype_and_scale_do_not_change_what_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |n: usize, v: &[&str]| {
        let input = tmp.path().join(format!("in{n}"));
        let out = tmp.path().join(format!("out{n}"));
        let mut args = vec!["--case", "seed", "--seed", "11", "--spacing", "3", "5", "3"];
        args.extend_from_slice(v);
        phantom(&input, &args);
        let rep = run_on(&input, &out, &[]);
        assert_eq!(rep["input"]["orientation"], v[1]);
        let found = regions(&rep);
        assert!(FOUNDING.iter().all(|r| found.contains(&r.to_string())), "{v:?}: {found:?}");
        check_contract(&input.join("scan.nii.gz"), &out);
        rep
    };
    let reference = run(0, &["--orientation", "RAS", "--datatype", "float32"]);
    // The same voxels in another order: the same lesions, to the rounding of the report.
    for (n, o) in ["LPS", "ASR", "PIL", "ILA"].iter().enumerate() {
        let rep = run(n + 1, &["--orientation", o, "--datatype", "float32"]);
        same_lesions(&reference, &rep, 0.002, 0.0, o);
    }
    // Other storage types and intensity scales, with another orientation too.
    let variants: [&[&str]; 4] = [
        &["--orientation", "LPS", "--datatype", "int16"],
        &["--orientation", "ASR", "--datatype", "uint16", "--scale", "10"],
        &["--orientation", "PIL", "--datatype", "float64", "--scale", "0.1"],
        &["--orientation", "SAR", "--datatype", "int32", "--scale", "3.7"],
    ];
    for (n, v) in variants.iter().enumerate() {
        let rep = run(n + 10, v);
        same_lesions(&reference, &rep, 1.5, 2.0, &format!("{v:?}"));
    }
}

#[test]
fn the_coarse_founding_case_is_found_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    phantom(&input, &["--case", "seed", "--seed", "11", "--spacing", "3", "5", "3"]);
    assert_eq!(regions(&run_on(&input, &out, &[])), FOUNDING);
}

#[test]
fn random_phantoms_get_their_regions_right() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in ["101", "202"] {
        let input = tmp.path().join(format!("in{seed}"));
        let out = tmp.path().join(format!("out{seed}"));
        phantom(&input, &["--case", "random", "--seed", seed, "--lesions", "8", "--spacing", "2", "4", "2"]);
        let rep = run_on(&input, &out, &[]);
        let truth = json(&input.join("truth.json"));
        let truth = truth.as_array().unwrap();
        let found = rep["lesions"].as_array().unwrap();
        // Each true lesion is matched by the reported lesion nearest to it (within 10 mm),
        // and that lesion names the true region.
        let mut right = 0;
        for t in truth {
            let tc: Vec<f64> = (0..3).map(|c| t["centroid_mm"][c].as_f64().unwrap()).collect();
            let near = found.iter().min_by(|a, b| {
                let d =
                    |l: &Value| (0..3).map(|c| (l["centroid_mm"][c].as_f64().unwrap() - tc[c]).powi(2)).sum::<f64>();
                d(a).total_cmp(&d(b))
            });
            if let Some(l) = near {
                let d: f64 =
                    (0..3).map(|c| (l["centroid_mm"][c].as_f64().unwrap() - tc[c]).powi(2)).sum::<f64>().sqrt();
                let (reported, truth) = (l["region"].as_str().unwrap(), t["region"].as_str().unwrap());
                if d < 10.0 && crmo_map::labels::region_refines(reported, truth) {
                    right += 1;
                }
            }
        }
        assert_eq!(right, truth.len(), "seed {seed}: {right} of {} lesions found in their region", truth.len());
        assert_eq!(found.len(), truth.len(), "seed {seed}: false positives");
    }
}

/// An atlas on a coarser grid in another orientation, covering less than the scan, is mapped
/// onto the scan's grid (nearest label through the two affines) and names the same regions.
#[test]
fn an_atlas_on_another_grid_is_resampled_onto_the_scan() {
    use crmo_map::io::{self, WriteOptions};
    use crmo_map::volume::{Affine, Grid};
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    phantom(&input, &["--case", "seed"]);
    let fine = io::read_labels(&input.join("atlas.nii.gz")).unwrap().volume;
    // 1.5 mm voxels, LPS order (i toward the subject's left... i.e. x falling), shifted by a
    // fraction of a voxel, and 10 mm short of the scan at the top.
    let g = fine.grid;
    let lo = g.affine.voxel_to_world([0.0; 3]);
    let hi = g.affine.voxel_to_world(g.dims.map(|d| d as f64 - 1.0));
    let (min, max) = ([0, 1, 2].map(|a| lo[a].min(hi[a])), [0, 1, 2].map(|a| lo[a].max(hi[a])));
    let dims = [0, 1, 2].map(|a| ((max[a] - min[a] - if a == 2 { 10.0 } else { 0.0 }) / 1.5) as usize + 1);
    let mut aff = Affine::from_spacing_origin([1.5; 3], [0.0; 3]);
    aff.0[0] = [-1.5, 0.0, 0.0, max[0] + 0.3];
    aff.0[1] = [0.0, -1.5, 0.0, max[1] - 0.2];
    aff.0[2] = [0.0, 0.0, 1.5, min[2] + 0.4];
    let coarse_grid = Grid { dims, affine: aff };
    let (coarse, _) = crmo_map::resample::to_grid(&fine, &coarse_grid).unwrap();
    let atlas = tmp.path().join("coarse-atlas.nii.gz");
    io::write_volume(&atlas, &coarse, &WriteOptions::labels(fine.data.iter().copied().max().unwrap() as u32), None)
        .unwrap();
    let out = tmp.path().join("out");
    let (scan, labels) = (input.join("scan.nii.gz"), input.join("labels.tsv"));
    crmo_ok(&["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--labels", s(&labels), "--out", s(&out)]);
    let rep = json(&out.join("report.json"));
    assert_eq!(rep["input"]["atlas_resampled"], true);
    assert_eq!(rep["input"]["atlas_shape"], serde_json::json!(dims));
    assert_eq!(regions(&rep), FOUNDING);
    check_contract(&scan, &out);
    // The atlas on the scan's own grid is used as it is.
    let same = run_on(&input, &tmp.path().join("same"), &[]);
    assert_eq!(same["input"]["atlas_resampled"], false);
}

/// The founding case with its atlas as TotalSegmentator writes it (whole bones, its ids and
/// names in the header extension, 1.5 mm, LPS): no label table is needed, the atlas is
/// resampled and parcellated, and the report names the same seven sub-regions as with the
/// fine atlas, each with the whole bone it came from.
#[test]
fn a_totalsegmentator_atlas_gives_the_founding_case_sub_regions() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    phantom(&input, &["--case", "seed", "--atlas-style", "totalsegmentator"]);
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let out = tmp.path().join("out");
    crmo_ok(&["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--out", s(&out)]);
    let rep = json(&out.join("report.json"));
    assert_eq!(regions(&rep), FOUNDING);
    assert_eq!(rep["input"]["atlas_resampled"], true);
    assert_eq!(rep["input"]["labels"], "atlas header extension");
    assert!(rep["input"]["atlas_parcellated"].as_array().unwrap().iter().any(|n| n == "hip_right"));
    let bone_of = |region: &str| {
        let l = rep["lesions"].as_array().unwrap().iter().find(|l| l["region"] == region).unwrap();
        l["bone_label"].as_str().unwrap().to_string()
    };
    assert_eq!(bone_of("acetabulum_roof_right"), "hip_right");
    assert_eq!(bone_of("vertebra_S3"), "sacrum");
    assert_eq!(bone_of("vertebra_T7"), "vertebrae_T7");
    assert_eq!(rep["summary"]["vertebral_levels"], serde_json::json!(["T7", "S2", "S3", "S4"]));
    check_contract(&scan, &out);
}

/// With `--no-parcellate` the lesions carry the atlas's own whole-bone names.
#[test]
fn a_totalsegmentator_atlas_without_parcellation_keeps_its_names() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    phantom(&input, &["--case", "seed", "--atlas-style", "totalsegmentator"]);
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let raw = tmp.path().join("raw");
    crmo_ok(&["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--out", s(&raw), "--no-parcellate"]);
    let rep = json(&raw.join("report.json"));
    let mut names = regions(&rep);
    names.dedup();
    assert_eq!(names, ["femur_left", "hip_left", "hip_right", "sacrum", "vertebrae_T7"]);
    assert!(rep["input"]["atlas_parcellated"].as_array().unwrap().is_empty());
}

/// The same atlas with its table in every format users bring gives the same lesions.
#[test]
fn every_label_table_format_gives_the_same_report() {
    use crmo_map::labels::{LabelTable, TableFormat};
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    phantom(&input, &["--case", "seed", "--atlas-style", "totalsegmentator", "--spacing", "2", "4", "2"]);
    let table = LabelTable::read(&input.join("labels.tsv")).unwrap();
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let run = |labels: Option<&std::path::Path>, name: &str| {
        let out = tmp.path().join(name);
        let mut args = vec!["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--out", s(&out)];
        if let Some(l) = labels {
            args.extend(["--labels", s(l)]);
        }
        crmo_ok(&args);
        json(&out.join("report.json"))["lesions"].clone()
    };
    let from_header = run(None, "header");
    assert_eq!(from_header.as_array().unwrap().len(), 7);
    for f in TableFormat::ALL {
        let path = tmp.path().join(format!("labels.{}", f.extension()));
        std::fs::write(&path, table.to_format(f)).unwrap();
        assert_eq!(run(Some(&path), &format!("out-{f:?}")), from_header, "{f:?}");
    }
}

/// A folder of per-class masks (TotalSegmentator without `--ml`) is an atlas too, and gives
/// the same lesions as the multilabel file.
#[test]
fn a_folder_of_totalsegmentator_masks_is_an_atlas() {
    use crmo_map::io::{self, WriteOptions};
    use crmo_map::labels::LabelTable;
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    phantom(&input, &["--case", "seed", "--atlas-style", "totalsegmentator", "--spacing", "2", "4", "2"]);
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let multi = io::read_labels(&atlas).unwrap().volume;
    let table = LabelTable::read(&input.join("labels.tsv")).unwrap();
    let masks = tmp.path().join("segmentations");
    std::fs::create_dir_all(&masks).unwrap();
    let mut present: Vec<u16> = multi.data.iter().copied().filter(|&l| l != 0).collect();
    present.sort_unstable();
    present.dedup();
    for l in present {
        let mask = crmo_map::Volume { grid: multi.grid, data: multi.data.iter().map(|&v| (v == l) as u16).collect() };
        let name = table.name(l as u32).unwrap();
        io::write_volume(&masks.join(format!("{name}.nii.gz")), &mask, &WriteOptions::labels(1), None).unwrap();
    }
    let run = |atlas: &std::path::Path, name: &str| {
        let out = tmp.path().join(name);
        crmo_ok(&["run", "--quiet", "--scan", s(&scan), "--atlas", s(atlas), "--out", s(&out)]);
        json(&out.join("report.json"))
    };
    let from_masks = run(&masks, "masks");
    let from_ml = run(&atlas, "ml");
    // The same lesions; only the label values given to sub-regions may differ (they follow
    // the largest label of each table).
    let without_label_values = |rep: &Value| {
        let mut l = rep["lesions"].clone();
        for lesion in l.as_array_mut().unwrap() {
            for r in lesion["regions"].as_array_mut().unwrap() {
                r.as_object_mut().unwrap().remove("label");
            }
        }
        l
    };
    assert_eq!(without_label_values(&from_masks), without_label_values(&from_ml));
    assert_eq!(regions(&from_masks), FOUNDING);
}
