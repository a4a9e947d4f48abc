//! The bone-only rule: labels that are not bone (bone class `other`) are never searched and
//! never enter a reference; an atlas without bone is an error.

use crate::util::*;
use serde_json::Value;
use std::path::Path;

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap().to_string()).collect()
}

fn labels_sorted(list: &Value) -> bool {
    let v: Vec<u64> = list.as_array().unwrap().iter().map(|l| l["label"].as_u64().unwrap()).collect();
    v.windows(2).all(|w| w[0] < w[1])
}

/// The real TotalSegmentator `total_mr` example (names from the atlas header): its organs and
/// back muscles are ignored, only its `vertebrae` label is analysed, and no lesion lies
/// outside bone.
#[test]
fn real_mr_atlas_searches_bone_only() {
    let Some(real) = realdata("real_mr_atlas_searches_bone_only") else { return };
    let dir = real.join("totalsegmentator");
    let (scan, atlas) = (dir.join("mr.nii.gz"), dir.join("mr_total_mr.nii.gz"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = crmo_ok(&["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--out", s(&out)]);
    let rep = json(&out.join("report.json"));
    let input = &rep["input"];
    // An MR: no warning that it looks like a CT. Its one warning, also on stderr, is that
    // the seed noise demand hides faint oedema (a T1-like abdominal MR, dark vertebral marrow).
    let warnings = input["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("a seed needs more than"), "{warnings:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.lines().all(|l| l.starts_with("crmo-map: warning: ") && !l.contains("CT")), "{stderr}");
    let (analysed, ignored) = (names(&input["labels_analysed"]), names(&input["labels_ignored"]));
    assert_eq!(analysed, ["vertebrae"], "{analysed:?}");
    for soft in ["stomach", "pancreas", "autochthon_left", "autochthon_right", "duodenum", "spinal_cord"] {
        assert!(ignored.contains(&soft.to_string()), "{soft} not in labels_ignored {ignored:?}");
    }
    assert!(input["labels_ignored"].as_array().unwrap().iter().all(|l| l["bone_class"] == "other"));
    assert!(labels_sorted(&input["labels_analysed"]) && labels_sorted(&input["labels_ignored"]));
    // The reference is the analysed labels' voxels only; atlas_voxels counts them all.
    let voxels = |list: &Value| list.as_array().unwrap().iter().map(|l| l["voxels"].as_u64().unwrap()).sum::<u64>();
    let (bone, soft) = (voxels(&input["labels_analysed"]), voxels(&input["labels_ignored"]));
    assert_eq!(rep["reference"]["voxels"].as_u64(), Some(bone));
    assert_eq!(input["atlas_voxels"].as_u64(), Some(bone + soft));
    for l in rep["lesions"].as_array().unwrap() {
        assert_ne!(l["bone_class"], "other", "lesion outside bone: {l}");
        assert_eq!(l["bone_label"], "vertebrae", "{l}");
        for r in l["regions"].as_array().unwrap() {
            assert!(!ignored.contains(&r["name"].as_str().unwrap().to_string()), "{l}");
        }
    }
    assert!(rep["summary"]["lesions_by_bone_class"].get("other").is_none());
    check_contract(&scan, &out);
}

/// A table whose `bone_class` column says `other` excludes a label that its name would make
/// bone: the tiny fixture's acetabular lesion is then not reported.
#[test]
fn table_bone_class_other_excludes_a_bone_name() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("labels.tsv");
    std::fs::write(&table, "index\tname\tbone_class\n1\tacetabulum_roof_right\tother\n2\tfemur_neck_left\t\n").unwrap();
    let out = tmp.path().join("out");
    let all = run_tiny("labels.tsv", &tmp.path().join("all"), &[]);
    let mut args = tiny_args("labels.tsv");
    *args.last_mut().unwrap() = s(&table).to_string();
    args.extend(["--quiet".into(), "--out".into(), s(&out).into()]);
    crmo_ok(&args);
    let rep = json(&out.join("report.json"));
    let regions: Vec<&str> = rep["lesions"].as_array().unwrap().iter().map(|l| l["region"].as_str().unwrap()).collect();
    assert_eq!(regions, ["femur_neck_left"]);
    let ignored = &rep["input"]["labels_ignored"];
    assert_eq!(names(ignored), ["acetabulum_roof_right"]);
    assert_eq!((ignored[0]["label"].as_u64(), ignored[0]["bone_class"].as_str()), (Some(1), Some("other")));
    assert_eq!(names(&rep["input"]["labels_analysed"]), ["femur_neck_left"]);
    assert_eq!(rep["input"]["labels_analysed"][0]["bone_class"], "femur");
    // The reference is taken over the femur alone now; all labels are still counted.
    assert!(rep["reference"]["voxels"].as_u64() < all["reference"]["voxels"].as_u64());
    assert_eq!(rep["input"]["atlas_voxels"], all["input"]["atlas_voxels"]);
    assert_eq!(names(&all["input"]["labels_analysed"]), ["acetabulum_roof_right", "femur_neck_left"]);
    assert_eq!(all["input"]["labels_ignored"], serde_json::json!([]));
}

fn run_expecting_no_bone(table_text: &str, shown: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("labels.tsv");
    std::fs::write(&table, table_text).unwrap();
    let out = tmp.path().join("out");
    let mut args = tiny_args("labels.tsv");
    *args.last_mut().unwrap() = s(&table).to_string();
    args.extend(["--out".into(), s(&out).into()]);
    let res = crmo(&args);
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("crmo-map: error: fixtures/tiny/atlas.nii.gz: no label of the atlas is bone"), "{err}");
    assert!(err.contains(shown), "{err}");
    assert!(!out.exists(), "a failed run leaves no output folder");
}

/// An atlas whose every label is not bone, by name or by the table's column: one-line
/// `Error::Atlas` naming the atlas, exit 1, nothing written.
#[test]
fn an_atlas_with_no_bone_label_is_an_error() {
    run_expecting_no_bone("index\tname\n1\tstomach\n2\tpancreas\n", "2 label(s) (stomach, pancreas)");
    run_expecting_no_bone(
        "index\tname\tbone_class\n1\tacetabulum_roof_right\tother\n2\tfemur_neck_left\tother\n",
        "(acetabulum_roof_right, femur_neck_left)",
    );
    // The library says the same, as an atlas error.
    let cfg = crmo_map::pipeline::RunConfig {
        scan: fixture("tiny/scan.nii.gz"),
        atlas: fixture("tiny/atlas.nii.gz"),
        labels: Some(Path::new("totalsegmentator").to_path_buf()),
        out: tempfile::tempdir().unwrap().path().join("out"),
        params: Default::default(),
        staging: None,
        names: Default::default(),
    };
    // Labels 1 and 2 of TotalSegmentator's CT task are the spleen and the right kidney.
    let e = crmo_map::pipeline::run(&cfg, &crmo_map::pipeline::Silent).expect_err("no bone");
    assert!(matches!(e, crmo_map::error::Error::Atlas { .. }), "{e}");
    assert!(e.to_string().contains("spleen, kidney_right"), "{e}");
}
