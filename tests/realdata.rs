//! Tests on the real scans in `../shared/realdata` (see its README): skipped, with a note,
//! where this machine does not have them.

use crate::util::{crmo_ok, json, realdata, root, s};
use crmo_map::io::{self, Datatype, WriteOptions};
use std::path::Path;

/// `run` on one sacroiliac STIR with its hand-drawn region as the atlas; returns the report.
fn run_sij(scan: &Path, region: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let table = root().join("fixtures/realdata/sij-region.tsv");
    let mut args =
        vec!["--quiet", "run", "--scan", s(scan), "--atlas", s(region), "--labels", s(&table), "--out", s(out)];
    args.extend(extra);
    crmo_ok(&args);
    json(&out.join("report.json"))
}

/// The lesions as the comparison sees them: everything but the intensities, which scale.
fn lesion_geometry(rep: &serde_json::Value) -> Vec<(u64, String, Vec<f64>)> {
    rep["lesions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let c = l["centroid_mm"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            (l["voxels"].as_u64().unwrap(), l["region"].as_str().unwrap().to_string(), c)
        })
        .collect()
}

/// Multiplying every intensity of a real scan by a constant changes no lesion: the detector's
/// thresholds are ratios to the patient's own marrow and multiples of the scan's own noise.
#[test]
fn real_lesions_do_not_change_when_every_intensity_is_multiplied_by_a_constant() {
    let Some(real) = realdata("scale invariance on a real STIR") else { return };
    let sub = real.join("sij-stir/sub-1016");
    let dir = tempfile::tempdir().unwrap();
    let base = run_sij(&sub.join("stir.nii.gz"), &sub.join("region.nii.gz"), &dir.path().join("base"), &[]);
    assert!(!base["lesions"].as_array().unwrap().is_empty(), "the detector finds oedema on sub-1016");
    assert_eq!(base["input"]["warnings"], serde_json::json!([]), "a real STIR does not look like a CT");
    let scan = io::read_scan(&sub.join("stir.nii.gz")).unwrap();
    for k in [0.013f32, 7.3] {
        let mut v = scan.volume.clone();
        v.data.iter_mut().for_each(|x| *x *= k);
        let path = dir.path().join(format!("scaled-{k}.nii.gz"));
        std::fs::write(&path, io::encode(&v, &WriteOptions::new(Datatype::F32), Some(&scan.header), true)).unwrap();
        let got = run_sij(&path, &sub.join("region.nii.gz"), &dir.path().join(format!("out-{k}")), &[]);
        assert_eq!(lesion_geometry(&got), lesion_geometry(&base), "scale {k}");
        let (a, b) = (
            got["marrow"]["regions"][0]["marrow"].as_f64().unwrap(),
            base["marrow"]["regions"][0]["marrow"].as_f64().unwrap(),
        );
        assert!((a / b - k as f64).abs() < 1e-3 * k as f64, "marrow level scales: {a} {b}");
    }
}
