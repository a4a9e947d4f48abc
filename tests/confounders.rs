//! Confounders that break the naive global threshold and that the local detector survives.
//! Each test runs both detectors on the same phantom: the global one must fail (so the test
//! can fail), the local one must pass.

use crmo_map::detect::Method;
use crmo_map::phantom::{self, Case, Hardness, PhantomOptions};
use crmo_map::pipeline::{self, Params, PhantomStorage, RunConfig, Silent};
use serde_json::Value;

fn run(opts: &PhantomOptions, method: Method) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let ph = phantom::generate(opts).unwrap();
    let input = tmp.path().join("in");
    pipeline::write_phantom(&ph, &input, &PhantomStorage::default()).unwrap();
    let cfg = RunConfig {
        scan: input.join("scan.nii.gz"),
        atlas: input.join("atlas.nii.gz"),
        labels: input.join("labels.tsv"),
        out: tmp.path().join("out"),
        params: Params { method, ..Params::default() },
    };
    let rep = pipeline::run(&cfg, &Silent).unwrap();
    serde_json::to_value(&rep).unwrap()
}

/// A healthy child scanned in stations with gain steps, strong bias and normal-variant bright
/// foci: the global threshold reports lesions, the local detector none.
#[test]
fn healthy_control_with_station_steps_and_variant_foci() {
    // hard-005 of the hard suite (docs/ACCURACY.md): 10 false positives with the global method.
    let hard = Hardness::suite(5505);
    let opts = PhantomOptions { case: Case::Healthy, seed: 5505, spacing: [1.2, 5.0, 1.2], hard, ..Default::default() };
    let global = run(&opts, Method::Global);
    let local = run(&opts, Method::Local);
    assert!(global["summary"]["lesion_count"].as_u64().unwrap() > 0, "the global threshold should be fooled");
    assert_eq!(local["summary"]["lesion_count"], 0, "local: {:?}", local["summary"]["regions_involved"]);
}
