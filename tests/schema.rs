//! The report's JSON Schema (`docs/report.schema.json`): versioned with the report, strict
//! enough to catch drift, and met by the golden report and by both detectors' reports. Every
//! other test that reads a `report.json` validates it too (`util::json`).

use crate::util::*;
use serde_json::{json as j, Value};

fn schema() -> Value {
    json(&root().join("docs/report.schema.json"))
}

#[test]
fn the_schema_carries_the_reports_version() {
    let v = crmo_map::report::SCHEMA_VERSION;
    let sc = schema();
    assert_eq!(sc["properties"]["schema_version"]["const"], v);
    assert_eq!(sc["$id"], format!("urn:crmo-map:report:{v}"));
}

#[test]
fn the_golden_report_and_both_detectors_reports_validate() {
    let golden = json(&root().join("fixtures/golden/tiny-report.json"));
    validate_report(&golden, &root().join("fixtures/golden/tiny-report.json"));
    let tmp = tempfile::tempdir().unwrap();
    let global = run_tiny("labels.tsv", &tmp.path().join("g"), &["--method", "global"]);
    assert!(global.get("marrow").is_none() && global["parameters"].get("local").is_none());
    let none = run_tiny("labels.tsv", &tmp.path().join("n"), &["--seed-ratio", "60", "--grow-ratio", "50"]);
    assert_eq!(none["summary"]["lesion_count"], 0);
}

/// What a drift is, and how to make it.
type Drift = (&'static str, fn(&mut Value));

/// The validator can fail: each of these drifts from the schema is caught.
#[test]
fn drift_from_the_schema_is_caught() {
    let golden = json(&root().join("fixtures/golden/tiny-report.json"));
    let drifts: [Drift; 6] = [
        ("an unknown top-level field", |r| r["surprise"] = j!(1)),
        ("a lesion without its id", |r| {
            r["lesions"][0].as_object_mut().unwrap().remove("id");
        }),
        ("a side outside the vocabulary", |r| r["lesions"][0]["side"] = j!("up")),
        ("a vertebral level that is none", |r| r["summary"]["vertebral_levels"] = j!(["T13"])),
        ("a fraction above 1", |r| r["staging"]["bone_units"][0]["fraction_involved"] = j!(1.5)),
        ("another schema version", |r| r["schema_version"] = j!("9.9.9")),
    ];
    for (what, drift) in drifts {
        let mut r = golden.clone();
        drift(&mut r);
        let caught = std::panic::catch_unwind(|| validate_report(&r, std::path::Path::new("drifted")));
        assert!(caught.is_err(), "{what} was not caught");
    }
}
