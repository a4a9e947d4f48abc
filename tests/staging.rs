//! The staging summary from the command line: the shipped configuration, a user's own, and a
//! bad one.

use crate::util::*;

/// `crmo-map staging-config` prints the configuration runs use by default; a run names it
/// (`built-in`) with the checksum of that text.
#[test]
fn the_shipped_configuration_is_printed_and_used() {
    let out = crmo_ok(&["staging-config"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["extent_grade"]["verified"], false);
    let tmp = tempfile::tempdir().unwrap();
    let rep = run_tiny("labels.tsv", &tmp.path().join("o"), &[]);
    let st = &rep["staging"];
    assert_eq!(st["config"]["source"], "built-in");
    assert_eq!(st["config"]["sha256"], crmo_map::io::sha256_hex(text.as_bytes()));
    assert_eq!(st["extent_grade"]["provisional"], true);
    let units: Vec<&str> = st["bone_units"].as_array().unwrap().iter().map(|u| u["unit"].as_str().unwrap()).collect();
    assert_eq!(units, ["acetabulum_right", "femur_proximal_left"]);
    assert_eq!(st["bone_units"][0]["extent_grade_provisional"], true);
    assert_eq!(st["jansson"]["more_than_one_lesion"], true);
    assert_eq!(st["rinbo"]["active_lesions"], 2);
    assert!(st["rinbo"]["extramedullary_involvement"].is_null());
}

/// A user's configuration regroups the units and, with verified cut-offs, the grades are no
/// longer provisional.
#[test]
fn a_users_configuration_regroups_and_regrades() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config: serde_json::Value = serde_json::from_str(crmo_map::staging::DEFAULT_JSON).unwrap();
    config["bone_units"] = serde_json::json!([
        {"unit": "hip_joint_{side}", "regions": ["acetabulum_roof_{side}", "femur_neck_{side}"]}
    ]);
    config["extent_grade"]["cutoffs"] = serde_json::json!([0.01]);
    config["extent_grade"]["grades"] = serde_json::json!(["none", "some"]);
    config["extent_grade"]["verified"] = serde_json::json!(true);
    let path = tmp.path().join("staging.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let rep = run_tiny("labels.tsv", &tmp.path().join("o"), &["--staging-config", s(&path)]);
    let st = &rep["staging"];
    assert_eq!(st["config"]["source"], s(&path));
    let units = st["bone_units"].as_array().unwrap();
    let names: Vec<&str> = units.iter().map(|u| u["unit"].as_str().unwrap()).collect();
    assert_eq!(names, ["hip_joint_right", "hip_joint_left"]);
    assert!(units.iter().all(|u| u["extent_grade_label"] == "some" && u["extent_grade_provisional"] == false));
    assert_eq!(st["extent_grade"]["provisional"], false);
}

/// A bad configuration stops the run before anything is read, with one line naming the file,
/// and leaves no output.
#[test]
fn a_bad_configuration_is_one_line_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.json");
    std::fs::write(&path, r#"{"bone_units": [], "extent_grade": {"name": "x", "cutoffs": [0.5, 0.2], "grades": ["a", "b", "c"], "verified": false, "source": ""}}"#).unwrap();
    let out_dir = tmp.path().join("o");
    let mut args = tiny_args("labels.tsv");
    args.extend(["--staging-config".into(), s(&path).into(), "--out".into(), s(&out_dir).into(), "--quiet".into()]);
    let res = crmo(&args);
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("bad.json") && err.contains("must increase"), "{err}");
    assert!(!out_dir.exists());
}

/// Each lesion's ratio to marrow is its mean over the normal-marrow level of its region in
/// `marrow.regions`, in the report and in `lesions.csv`, and a bone unit's largest is its
/// lesions' largest; the global detector has no region levels and says so (null, an empty
/// cell).
#[test]
fn a_lesions_ratio_to_marrow_is_its_mean_over_its_regions_level() {
    let tmp = tempfile::tempdir().unwrap();
    for (method, extra) in [("local", vec![]), ("global", vec!["--method", "global"])] {
        let out = tmp.path().join(method);
        let rep = run_tiny("labels.tsv", &out, &extra);
        let lesions = rep["lesions"].as_array().unwrap();
        assert!(!lesions.is_empty());
        let csv = std::fs::read_to_string(out.join("lesions.csv")).unwrap();
        let mut rows = csv.lines();
        let col = rows.next().unwrap().split(',').position(|c| c == "ratio_to_marrow").unwrap();
        for (l, row) in lesions.iter().zip(rows) {
            let got = &l["intensity"]["ratio_to_marrow"];
            let cell = row.split(',').nth(col).unwrap();
            if method == "global" {
                assert!(got.is_null() && cell.is_empty(), "{got} {cell:?}");
                continue;
            }
            let level = rep["marrow"]["regions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == l["region"])
                .and_then(|r| r["marrow"].as_f64())
                .unwrap();
            let want = l["intensity"]["mean"].as_f64().unwrap() / level;
            let got = got.as_f64().unwrap();
            assert!((got - want).abs() <= 1e-3 * want, "lesion {}: {got} vs {want}", l["id"]);
            assert_eq!(cell.parse::<f64>().unwrap(), got);
        }
        for u in rep["staging"]["bone_units"].as_array().unwrap() {
            let ids: Vec<u64> = u["lesion_ids"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap()).collect();
            let largest = lesions
                .iter()
                .filter(|l| ids.contains(&l["id"].as_u64().unwrap()))
                .filter_map(|l| l["intensity"]["ratio_to_marrow"].as_f64())
                .reduce(f64::max);
            assert_eq!(u["max_ratio_to_marrow"].as_f64(), largest, "{}", u["unit"]);
        }
    }
}
