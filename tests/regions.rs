//! The region map written with every run (issue 11, item 2): regions.nii.gz, regions.tsv and
//! regions.png against the scan, the report, the lesion map and an independent nibabel read.

use crate::util::*;
use crmo_map::labels::LabelTable;
use crmo_map::palette;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// regions.tsv as (index -> fields by column name).
fn tsv_rows(out: &Path) -> BTreeMap<u32, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(out.join("regions.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(header, crmo_map::regions::TSV_COLUMNS);
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), header.len(), "{l}");
            let row: BTreeMap<String, String> =
                header.iter().zip(&f).map(|(h, v)| (h.to_string(), v.to_string())).collect();
            (f[0].parse().unwrap(), row)
        })
        .collect()
}

/// The checks every run's region map must pass; returns the map's voxel counts by label.
/// With `centroids_inside` each lesion's centroid voxel must carry the lesion's region (true
/// of the phantoms' compact lesions; a curved lesion's centroid can lie outside it, as some
/// of the CT's bright cortical rims do), else only where the centroid voxel is the lesion's.
fn check_region_map(scan: &Path, out: &Path, rep: &Value, centroids_inside: bool) -> BTreeMap<u32, u64> {
    let scan = crmo_map::io::read_scan(scan).unwrap();
    let map = crmo_map::io::read_labels(&out.join("regions.nii.gz")).unwrap();
    assert_eq!(map.volume.grid.dims, scan.volume.grid.dims);
    assert!(map.volume.grid.affine.max_abs_diff(&scan.volume.grid.affine) < 1e-4);
    assert_eq!(map.header.intent_code, 1002, "label map intent");
    let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
    map.volume.data.iter().filter(|&&v| v != 0).for_each(|&v| *counts.entry(v as u32).or_default() += 1);
    let max = counts.keys().next_back().copied().unwrap_or(0);
    assert_eq!(map.header.datatype, if max <= 255 { 2 } else { 512 }, "uint8 unless a label needs uint16");

    let rows = tsv_rows(out);
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), counts.keys().copied().collect::<Vec<_>>());
    // The TSV read back as a label table (BIDS dseg with bone_class and side) gives the same
    // colours: the palette is a function of what the table says.
    let table = LabelTable::parse(&std::fs::read_to_string(out.join("regions.tsv")).unwrap()).unwrap();
    for (index, row) in &rows {
        assert_eq!(row["voxels"].parse::<u64>().unwrap(), counts[index], "voxels of {index}");
        assert_eq!(row["color"], palette::hex(palette::label_colour(&table, *index).unwrap()));
    }
    // The lesions' regions are the map's: each centroid voxel carries its lesion's region, and
    // every overlapped region's voxel count is the map's.
    let lesion_map = crmo_map::io::read_labels(&out.join("lesions.nii.gz")).unwrap();
    let name_of = |l: u16| rows.get(&(l as u32)).map(|r| r["name"].clone()).unwrap_or_default();
    for l in rep["lesions"].as_array().unwrap() {
        let c: Vec<usize> = (0..3).map(|a| l["centroid_voxel"][a].as_f64().unwrap().round() as usize).collect();
        let id = l["id"].as_u64().unwrap() as u16;
        let at = map.volume.get(c[0], c[1], c[2]);
        if centroids_inside || lesion_map.volume.get(c[0], c[1], c[2]) == id {
            assert_eq!(name_of(at), l["region"].as_str().unwrap(), "lesion {id} centroid voxel {c:?}");
        }
        let mut overlap: BTreeMap<String, u64> = BTreeMap::new();
        for (&m, &r) in lesion_map.volume.data.iter().zip(&map.volume.data) {
            if m == id && r != 0 {
                *overlap.entry(name_of(r)).or_default() += 1;
            }
        }
        for g in l["regions"].as_array().unwrap().iter().filter(|g| g["label"] != 0) {
            assert_eq!(overlap.get(g["name"].as_str().unwrap()).copied(), g["voxels"].as_u64(), "lesion {id}");
        }
    }
    // The picture decodes at a sensible size.
    let png = image::open(out.join("regions.png")).unwrap();
    assert!(
        (600..=4000).contains(&png.width()) && (250..=2000).contains(&png.height()),
        "{:?}",
        (png.width(), png.height())
    );
    counts
}

/// Runs tests/py/regions_check.py (nibabel) on a run's outputs.
fn python_check(scan: &Path, out: &Path) {
    let res = Command::new(python())
        .arg(root().join("tests/py/regions_check.py"))
        .arg(scan)
        .arg(out)
        .output()
        .expect("python runs");
    assert!(
        res.status.success(),
        "regions_check.py failed:\n{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn phantom_run_writes_a_region_map_that_matches_scan_report_and_lesions() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    phantom(&input, &["--case", "seed", "--seed", "11", "--spacing", "3", "5", "3", "--orientation", "LPS"]);
    let rep = run_on(&input, &out, &[]);
    assert!(rep["summary"]["lesion_count"].as_u64().unwrap() >= 5, "the founding case's foci are found");
    let scan = input.join("scan.nii.gz");
    let counts = check_region_map(&scan, &out, &rep, true);
    // Every analysed atlas label is in the map, split or not; nothing ignored as not bone is.
    let rows = tsv_rows(&out);
    let bone_labels: BTreeSet<&str> = rows.values().map(|r| r["bone_label"].as_str()).collect();
    for a in rep["input"]["labels_analysed"].as_array().unwrap() {
        assert!(bone_labels.contains(a["name"].as_str().unwrap()), "{a}");
    }
    let total: u64 = counts.values().sum();
    let analysed: u64 =
        rep["input"]["labels_analysed"].as_array().unwrap().iter().map(|a| a["voxels"].as_u64().unwrap()).sum();
    assert_eq!(total, analysed);
    check_contract(&scan, &out);
    python_check(&scan, &out);
}

/// A TotalSegmentator-style atlas (whole bones, soft tissue too): the map holds the
/// parcellated sub-regions, each naming its atlas label, and no soft tissue.
#[test]
fn totalsegmentator_style_atlas_maps_sub_regions_to_their_bone_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    phantom(&input, &["--case", "seed", "--atlas-style", "totalsegmentator", "--spacing", "3", "5", "3"]);
    let rep = run_on(&input, &out, &[]);
    let scan = input.join("scan.nii.gz");
    check_region_map(&scan, &out, &rep, true);
    let rows = tsv_rows(&out);
    let ignored: BTreeSet<&str> =
        rep["input"]["labels_ignored"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(rows
        .values()
        .all(|r| !ignored.contains(r["name"].as_str()) && !ignored.contains(r["bone_label"].as_str())));
    let roof = rows.values().find(|r| r["name"] == "acetabulum_roof_right").expect("the hip is parcellated");
    assert_eq!(roof["bone_label"], "hip_right");
    python_check(&scan, &out);
}

/// Regions that touch in the real CT pelvis map (TotalSegmentator masks, parcellated) have
/// colours that look different. The run also says, on stderr (`--quiet` too) and in the
/// report, that the scan looks like a CT.
#[test]
fn real_ct_pelvis_neighbouring_regions_have_distinct_colours() {
    let Some(real) = realdata("region map of the CT pelvis masks") else { return };
    let ts = real.join("totalsegmentator");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let scan = ts.join("ct_pelvis.nii.gz");
    let run =
        crmo_ok(&["run", "--quiet", "--scan", s(&scan), "--atlas", s(&ts.join("ct_pelvis_masks")), "--out", s(&out)]);
    let rep = json(&out.join("report.json"));
    let warnings = rep["input"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0].as_str().unwrap();
    assert!(w.starts_with(&format!("{}: ", scan.display())) && w.contains("looks like a CT"), "{w}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.trim_end(), format!("crmo-map: warning: {w}"), "{stderr}");
    check_region_map(&scan, &out, &rep, false);
    let map = crmo_map::io::read_labels(&out.join("regions.nii.gz")).unwrap().volume;
    let rows = tsv_rows(&out);
    let colour = |l: u16| {
        let h = &rows[&(l as u32)]["color"];
        let v = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap();
        [v(1), v(3), v(5)]
    };
    let [nx, ny, nz] = map.grid.dims;
    let mut pairs: BTreeMap<(u16, u16), u64> = BTreeMap::new();
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let a = map.get(i, j, k);
                for (di, dj, dk) in [(1, 0, 0), (0, 1, 0), (0, 0, 1)] {
                    let (ii, jj, kk) = (i + di, j + dj, k + dk);
                    if a != 0 && ii < nx && jj < ny && kk < nz {
                        let b = map.get(ii, jj, kk);
                        if b != 0 && b != a {
                            *pairs.entry((a.min(b), a.max(b))).or_default() += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(pairs.len() > 20, "{pairs:?}");
    for (&(a, b), &faces) in &pairs {
        let d = palette::distance(colour(a), colour(b));
        let names = (&rows[&(a as u32)]["name"], &rows[&(b as u32)]["name"]);
        assert!(d >= 0.05, "{names:?} touch over {faces} faces but look alike ({d:.3})");
    }
}
