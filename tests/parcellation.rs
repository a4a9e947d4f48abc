//! Sub-regions on real bones: a scan painted on the real TotalSegmentator pelvis masks of
//! `../shared/realdata/totalsegmentator/ct_pelvis_masks` (the masks given as the atlas
//! folder), with conspicuous foci placed where any radiologist names the region without
//! doubt. Skipped, with a note, where this machine does not have the real data.
//!
//! How each focus was placed (world RAS+ mm; checked on the CT in a viewer, coronal and
//! sagittal, against the masks):
//! - femoral heads: the centre of the sphere through each femur's surface facing its hip bone
//!   (a least-squares fit in Python on the masks: left (-86, 145, 123), radius 22 mm; right
//!   (86, 146, 118), radius 24 mm);
//! - femoral necks: in the femur mask 1.1-1.5 head radii from the centre, toward the
//!   trochanters (lateral and inferior), where the bone narrows between head and shaft (the left
//!   one beside the metal implant that the mask leaves out);
//! - acetabular roofs: in the hip bone mask straight above each head centre, 8 mm above the
//!   head's top (the weight-bearing dome);
//! - S1: in the sacrum mask just below the L5-S1 disc, in the midline, in the front half of the
//!   body (the promontory's segment);
//! - L3 and L5 bodies: in each vertebra mask in the midline, in front of the canal, at the
//!   body's mid-height;
//! - L3 posterior elements: in the L3 mask in the midline 45 mm behind the body's centre (the
//!   spinous process).

use crate::util::{crmo_ok, json, realdata, s};
use crmo_map::io::{self, Datatype, WriteOptions};
use crmo_map::Volume;

/// The foci: world position (mm) and the region every radiologist would name.
const FOCI: [([f64; 3], &str); 11] = [
    ([-86.0, 145.0, 123.0], "femur_head_left"),
    ([86.0, 146.0, 118.0], "femur_head_right"),
    ([-97.0, 140.0, 106.0], "femur_neck_left"),
    ([108.0, 146.0, 100.0], "femur_neck_right"),
    ([-86.0, 145.0, 153.0], "acetabulum_roof_left"),
    ([86.0, 146.0, 150.0], "acetabulum_roof_right"),
    ([0.0, 118.0, 220.0], "vertebra_S1"),
    ([0.0, 145.0, 308.0], "vertebra_L3"),
    ([0.0, 135.0, 243.0], "vertebra_L5"),
    ([0.0, 88.0, 302.0], "vertebra_L3_posterior_elements"),
    // The left ilium's wing, high above the acetabulum: the whole hip bone is not roof.
    ([-115.0, 130.0, 235.0], "ilium_left"),
];

/// Radius (mm) of a painted focus.
const FOCUS_MM: f64 = 5.0;

/// A deterministic texture of +-4% for voxel `v` (so that the marrow has a spread).
fn texture(v: usize) -> f32 {
    let h = (v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    1.0 + 0.08 * ((h % 1000) as f32 / 1000.0 - 0.5)
}

#[test]
fn foci_on_real_pelvis_masks_get_the_regions_radiologists_name() {
    let Some(real) = realdata("parcellation of the real pelvis masks") else { return };
    let masks = real.join("totalsegmentator/ct_pelvis_masks");
    let (atlas, _) = io::read_mask_folder(&masks, None).unwrap();
    let grid = atlas.volume.grid;
    let bones = ["femur_left", "femur_right", "hip_left", "hip_right", "sacrum", "vertebrae_L3", "vertebrae_L5"];
    let mut bone = vec![false; grid.len()];
    for name in bones {
        let m = io::read_labels(&masks.join(format!("{name}.nii.gz"))).unwrap();
        bone.iter_mut().zip(&m.volume.data).for_each(|(b, &l)| *b |= l != 0);
    }
    let mut data: Vec<f32> = (0..grid.len()).map(|v| if bone[v] { 100.0 } else { 20.0 } * texture(v)).collect();
    for (v, x) in data.iter_mut().enumerate() {
        let p = grid.affine.voxel_to_world(grid.ijk(v).map(|c| c as f64));
        let near = FOCI.iter().any(|(c, _)| (0..3).map(|a| (p[a] - c[a]).powi(2)).sum::<f64>() <= FOCUS_MM.powi(2));
        if near && bone[v] {
            *x = 400.0 * texture(v);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let scan = dir.path().join("painted.nii.gz");
    io::write_volume(&scan, &Volume { grid, data }, &WriteOptions::new(Datatype::F32), Some(&atlas.header)).unwrap();
    let out = dir.path().join("out");
    // The foci are a centimetre across, some at the hip bone's normal-variant sites: all are
    // reported as lesions (none set aside as equivocal) so that every one is named.
    let args =
        ["--quiet", "run", "--scan", s(&scan), "--atlas", s(&masks), "--out", s(&out), "--variant-focus-mm", "0"];
    crmo_ok(&args);
    let rep = json(&out.join("report.json"));
    let lesions = rep["lesions"].as_array().unwrap();
    let mut wrong = Vec::new();
    for (c, want) in FOCI {
        let found = lesions.iter().find(|l| {
            let m: Vec<f64> = l["centroid_mm"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            (0..3).map(|a| (m[a] - c[a]).powi(2)).sum::<f64>().sqrt() < 2.0 * FOCUS_MM
        });
        match found.map(|l| l["region"].as_str().unwrap().to_string()) {
            Some(got) if got == want => {}
            got => wrong.push(format!("{want} at {c:?}: {got:?}")),
        }
    }
    assert!(wrong.is_empty(), "foci named wrong or not found: {wrong:#?}");
}

/// TotalSegmentator MR's one `vertebrae` label over a slab with no sacrum in view: no
/// vertebral level is claimed (the region map keeps `vertebrae` with no level), and nothing
/// outside bone is reported.
#[test]
fn the_real_mr_slab_claims_no_vertebral_level_without_an_anchor() {
    let Some(real) = realdata("the real total_mr slab without a sacrum") else { return };
    let ts = real.join("totalsegmentator");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (scan, atlas) = (ts.join("mr.nii.gz"), ts.join("mr_total_mr.nii.gz"));
    crmo_ok(&["--quiet", "run", "--scan", s(&scan), "--atlas", s(&atlas), "--out", s(&out)]);
    let tsv = std::fs::read_to_string(out.join("regions.tsv")).unwrap();
    let header: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    let (name, level) = (
        header.iter().position(|c| *c == "name").unwrap(),
        header.iter().position(|c| *c == "vertebral_level").unwrap(),
    );
    let rows: Vec<Vec<&str>> = tsv.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().any(|r| r[name] == "vertebrae"), "the spine label is kept as the atlas names it: {tsv}");
    assert!(rows.iter().all(|r| r[level] == "n/a"), "no level without an anchor: {tsv}");
    let rep = json(&out.join("report.json"));
    for l in rep["lesions"].as_array().unwrap() {
        assert!(l["vertebral_level"].is_null(), "{l}");
        assert_ne!(l["bone_class"].as_str(), Some("other"), "{l}");
    }
}
