//! Helpers shared by the integration tests.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// Runs the crmo-map binary with arguments, from the repository root.
pub fn crmo<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crmo-map"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the crmo-map binary runs")
}

/// Runs crmo-map and panics with its stderr unless it succeeds.
pub fn crmo_ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> Output {
    let out = crmo(args);
    assert!(out.status.success(), "crmo-map {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The founding case's regions, as a report's `summary.regions_involved` lists them.
pub const FOUNDING: [&str; 7] = [
    "acetabulum_posterior_column_left",
    "acetabulum_roof_right",
    "femur_neck_left",
    "vertebra_S2",
    "vertebra_S3",
    "vertebra_S4",
    "vertebra_T7",
];

/// A report's `summary.regions_involved`.
pub fn regions(rep: &Value) -> Vec<String> {
    rep["summary"]["regions_involved"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Reads a JSON file; a `report.json` must also validate against the report's JSON Schema
/// ([`validate_report`]).
pub fn json(p: &Path) -> Value {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).expect("readable")).expect("valid JSON");
    if p.file_name().is_some_and(|n| n == "report.json" || n.to_string_lossy().ends_with("_desc-crmomap_report.json")) {
        validate_report(&v, p);
    }
    v
}

/// The report's JSON Schema (`docs/report.schema.json`), compiled once.
fn report_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap()).unwrap();
        jsonschema::draft202012::new(&schema).expect("a valid JSON Schema")
    })
}

/// Panics with every violation when `report` (read from `from`) does not validate against
/// the report's JSON Schema.
pub fn validate_report(report: &Value, from: &Path) {
    let errors: Vec<String> =
        report_schema().iter_errors(report).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{} does not validate against docs/report.schema.json:\n{}",
        from.display(),
        errors.join("\n")
    );
}

/// Validates every `report.json` under `dir` (evaluation runs); returns how many there were.
pub fn validate_reports_under(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("a folder") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            n += validate_reports_under(&path);
        } else if path.file_name().is_some_and(|f| f == "report.json") {
            json(&path);
            n += 1;
        }
    }
    n
}

/// Generates a phantom with extra CLI arguments into `dir`.
pub fn phantom(dir: &Path, extra: &[&str]) {
    let mut args = vec!["phantom", "--quiet", "--out", s(dir)];
    args.extend_from_slice(extra);
    crmo_ok(&args);
}

/// Runs the pipeline on a phantom folder into `out` with extra arguments; returns the report.
pub fn run_on(input: &Path, out: &Path, extra: &[&str]) -> Value {
    let (scan, atlas, labels) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"), input.join("labels.tsv"));
    let mut args =
        vec!["run", "--quiet", "--scan", s(&scan), "--atlas", s(&atlas), "--labels", s(&labels), "--out", s(out)];
    args.extend_from_slice(extra);
    crmo_ok(&args);
    json(&out.join("report.json"))
}

/// `run` arguments for the tiny fixture with the given label table (relative paths, so that
/// the report's input paths are the same on every machine), without `--out`.
pub fn tiny_args(table: &str) -> Vec<String> {
    ["run", "--scan", "fixtures/tiny/scan.nii.gz", "--atlas", "fixtures/tiny/atlas.nii.gz", "--labels"]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("fixtures/tiny/{table}")])
        .collect()
}

/// Runs the tiny fixture into `out` with extra arguments and returns the report.
pub fn run_tiny(table: &str, out: &Path, extra: &[&str]) -> Value {
    let mut args = tiny_args(table);
    args.extend(["--quiet".to_string(), "--out".to_string(), s(out).to_string()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    crmo_ok(&args);
    json(&out.join("report.json"))
}

/// The Python interpreter with nibabel that the independent checks use: $CRMO_MAP_PYTHON,
/// else the repository's .venv made by scripts/python-env.sh.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CRMO_MAP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with nibabel: run the tests with scripts/test.sh (it makes .venv) or set CRMO_MAP_PYTHON"
    );
    venv
}

/// Runs shared/tools/check-contract.py (the independent nibabel reader) on a run's outputs.
pub fn check_contract(scan: &Path, out: &Path) {
    let tool = root().join("../shared/tools/check-contract.py");
    let tool = if tool.exists() { tool } else { root().join("scripts/check-contract.py") };
    let res = Command::new(python()).arg(&tool).arg(scan).arg(out).output().expect("python runs");
    assert!(
        res.status.success(),
        "contract check failed for {}:\n{}{}",
        out.display(),
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

/// Sorted file names in a folder (empty when it does not exist).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// The real scans kept beside the repository (`../shared/realdata`, see its README), or
/// `None` with a note on stderr when this machine has none: the real-data tests then say
/// they were skipped instead of passing silently. CI always has them.
pub fn realdata(what: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/realdata");
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!("SKIPPED {what}: ../shared/realdata is absent on this machine");
    None
}

/// Every entry (file or folder) under `dir`, as paths relative to it, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap() {
            let r = rel.join(e.unwrap().file_name());
            if dir.join(&r).is_dir() {
                stack.push(r.clone());
            }
            out.push(r);
        }
    }
    out.sort();
    out
}

/// Every file under `dir`: relative path and bytes, sorted.
pub fn files_with_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .filter(|r| dir.join(r).is_file())
        .map(|r| (r.display().to_string(), std::fs::read(dir.join(&r)).unwrap()))
        .collect()
}
