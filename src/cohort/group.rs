//! The group level: the finished units of a derivative gathered into cohort tables
//! (`group_lesions.tsv`, one row per lesion; `group_scans.tsv`, one row per scan with its
//! status), a summary (`group_summary.json`: sites across the cohort, lesions per child, the
//! staging flags' prevalence) and a plot (`group_summary.png`).
//!
//! A child's counts are those of its first session (the baseline); every scan has its row.

use super::discover::{labelled_dirs, unit_key};
use super::{Status, UnitStatus};
use crate::error::{Error, Result};
use crate::output::OutputSet;
use crate::regions::cell;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Staging flags counted across the cohort: name and where the report keeps it.
pub const FLAGS: [(&str, &str); 10] = [
    ("multifocal", "/summary/multifocal"),
    ("symmetric_lesions", "/staging/jansson/symmetric_lesions"),
    ("vertebral_involvement", "/summary/vertebral_involvement"),
    ("mobile_spine_involvement", "/summary/mobile_spine_involvement"),
    ("bisphosphonate_relevant", "/staging/spine/bisphosphonate_relevant"),
    ("clavicle", "/summary/clavicle_involvement"),
    ("sternum", "/summary/sternum_involvement"),
    ("mandible", "/summary/mandible_involvement"),
    ("jansson_vertebral_clavicular_or_sternal", "/staging/jansson/vertebral_clavicular_or_sternal_site"),
    ("bristol_more_than_one_bone", "/staging/bristol/more_than_one_bone"),
];

/// One scan of the cohort.
#[derive(Clone, Debug)]
pub struct Scan {
    /// Its status (from the participant step's record; `ok` when only outputs are found).
    pub status: UnitStatus,
    /// Its report, when it has outputs.
    pub report: Option<Value>,
}

/// The group step's figures.
#[derive(Clone, Debug)]
pub struct Cohort {
    /// Every scan, by unit.
    pub scans: Vec<Scan>,
}

/// Gathers `out`'s units, writes the cohort tables, summary and plot into it (all or nothing).
///
/// # Errors
/// [`Error::Dataset`] when `out` holds no unit at all; I/O errors naming the file.
pub fn group(out: &Path) -> Result<Cohort> {
    let cohort = gather(out)?;
    let summary = cohort.summary();
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::Output { path: out.into(), message: e.to_string() })?;
    let png = crate::render::encode_png(&super::plot::summary_plot(&summary))?;
    let mut set = OutputSet::new(out)?;
    set.add("group_lesions.tsv", cohort.lesions_tsv().as_bytes())?;
    set.add("group_scans.tsv", cohort.scans_tsv().as_bytes())?;
    set.add("group_summary.json", format!("{text}\n").as_bytes())?;
    set.add("group_summary.png", &png)?;
    set.commit()?;
    Ok(cohort)
}

/// The units of `out`: every recorded status, and every unit folder with a report.
fn gather(out: &Path) -> Result<Cohort> {
    let mut scans: BTreeMap<String, Scan> = BTreeMap::new();
    for path in json_files(&out.join("logs").join("status"))? {
        if let Ok(status) =
            serde_json::from_slice::<UnitStatus>(&std::fs::read(&path).map_err(|e| Error::io(&path, e))?)
        {
            scans.insert(status.unit.clone(), Scan { status, report: None });
        }
    }
    for (subject, session, report) in reports(out)? {
        let unit = unit_key(&subject, session.as_deref());
        let lesions = report.pointer("/summary/lesion_count").and_then(Value::as_u64).unwrap_or(0) as usize;
        let warnings = warnings(&report).unwrap_or(0);
        let status =
            UnitStatus { unit: unit.clone(), subject, session, status: Status::Ok { lesions, warnings }, seconds: 0.0 };
        scans.entry(unit).or_insert(Scan { status, report: None }).report = Some(report);
    }
    if scans.is_empty() {
        return Err(Error::Dataset {
            path: out.into(),
            message: "no participant outputs (run the participant level first)".into(),
        });
    }
    Ok(Cohort { scans: scans.into_values().collect() })
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut v: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    v.sort();
    Ok(v)
}

/// (subject, session, report) of every unit folder holding a report.
fn reports(out: &Path) -> Result<Vec<(String, Option<String>, Value)>> {
    let mut found = Vec::new();
    for sub in labelled_dirs(out, "sub-").unwrap_or_default() {
        let sessions = labelled_dirs(&sub.1, "ses-").unwrap_or_default();
        let units: Vec<(Option<String>, PathBuf)> = if sessions.is_empty() {
            vec![(None, sub.1.clone())]
        } else {
            sessions.into_iter().map(|(s, p)| (Some(s), p)).collect()
        };
        for (session, dir) in units {
            let key = unit_key(&sub.0, session.as_deref());
            let path = dir.join("anat").join(format!("{key}_desc-crmomap_report.json"));
            if let Ok(bytes) = std::fs::read(&path) {
                let report: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Dataset { path: path.clone(), message: format!("not a report: {e}") })?;
                found.push((sub.0.clone(), session, report));
            }
        }
    }
    Ok(found)
}

/// How many equivocal foci a report set aside (`equivocal_foci`); `None` for a report before
/// schema 1.4.0, which has none to count.
fn equivocal_foci(report: &Value) -> Option<usize> {
    report.get("equivocal_foci").and_then(Value::as_array).map(Vec::len)
}

/// How many warnings about its inputs a report holds (`input.warnings`); `None` for a
/// report older than schema 1.2.0, which has none to give.
fn warnings(report: &Value) -> Option<usize> {
    report.pointer("/input/warnings").and_then(Value::as_array).map(Vec::len)
}

/// The seed floor of a report's median bone voxel: the `marrow.regions[].seed_floor_ratio`
/// at which half the regions' voxels have that floor or a lower one. `None` for the global
/// detector (no marrow levels) and for a report before schema 1.5.0, which has no floors.
fn seed_floor(report: &Value) -> Option<f64> {
    let regions = report.pointer("/marrow/regions")?.as_array()?;
    let floors =
        regions.iter().filter_map(|r| Some((r.get("seed_floor_ratio")?.as_f64()?, r.get("voxels")?.as_u64()?)));
    crate::report::bone_floor_quantile(floors, 0.5)
}

/// The seed noise demand at or under which the seed ratio would bind in three quarters of a
/// report's bone (`marrow.noise_z_for_seed_ratio`). `None` where it binds there already, for
/// the global detector and for a report before schema 1.6.0.
fn noise_z_for_seed_ratio(report: &Value) -> Option<f64> {
    report.pointer("/marrow/noise_z_for_seed_ratio").and_then(Value::as_f64)
}

fn flag(report: &Value, pointer: &str) -> bool {
    report.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "n/a".into(),
        Some(Value::Array(a)) => a.iter().map(|x| text(Some(x))).collect::<Vec<_>>().join(","),
        Some(Value::Number(n)) => n.as_f64().map_or(n.to_string(), |f| format!("{}", (f * 100.0).round() / 100.0)),
        Some(other) => other.to_string(),
    }
}

impl Cohort {
    /// `group_lesions.tsv`: one row per lesion of every scan with outputs.
    pub fn lesions_tsv(&self) -> String {
        let cols = [
            ("region", "/region"),
            ("bone", "/bone"),
            ("bone_class", "/bone_class"),
            ("side", "/side"),
            ("vertebral_level", "/vertebral_level"),
            ("volume_mm3", "/volume_mm3"),
            ("centroid_x_mm", "/centroid_mm/0"),
            ("centroid_y_mm", "/centroid_mm/1"),
            ("centroid_z_mm", "/centroid_mm/2"),
            ("ratio_to_marrow", "/intensity/ratio_to_marrow"),
        ];
        let mut s = String::from("unit\tsubject\tsession\tlesion");
        cols.iter().for_each(|(c, _)| s.push_str(&format!("\t{c}")));
        s.push('\n');
        for scan in &self.scans {
            let st = &scan.status;
            let lesions = scan.report.as_ref().and_then(|r| r.get("lesions")).and_then(Value::as_array);
            for l in lesions.into_iter().flatten() {
                s.push_str(&format!(
                    "{}\t{}\t{}\t{}",
                    st.unit,
                    st.subject,
                    st.session.as_deref().unwrap_or("n/a"),
                    text(l.get("id"))
                ));
                cols.iter().for_each(|(_, p)| s.push_str(&format!("\t{}", cell(&text(l.pointer(p))))));
                s.push('\n');
            }
        }
        s
    }

    /// `group_scans.tsv`: one row per scan, with its status and staging flags.
    pub fn scans_tsv(&self) -> String {
        let mut s = String::from("unit\tsubject\tsession\tstatus\tlesions\tbones\tvertebral_levels");
        FLAGS.iter().for_each(|(f, _)| s.push_str(&format!("\t{f}")));
        s.push_str("\twarnings\tequivocal_foci\tseed_floor\tnoise_z_for_seed_ratio\n");
        for scan in &self.scans {
            let st = &scan.status;
            // A unit skipped as current has its outputs: ok.
            let status = if st.status == Status::UpToDate { "ok".into() } else { st.status.label() };
            s.push_str(&format!(
                "{}\t{}\t{}\t{}",
                st.unit,
                st.subject,
                st.session.as_deref().unwrap_or("n/a"),
                cell(&status)
            ));
            match &scan.report {
                Some(r) => {
                    for p in ["/summary/lesion_count", "/summary/bone_count", "/summary/vertebral_levels"] {
                        s.push_str(&format!("\t{}", cell(&text(r.pointer(p)))));
                    }
                    FLAGS.iter().for_each(|(_, p)| s.push_str(if flag(r, p) { "\ttrue" } else { "\tfalse" }));
                    s.push_str(&warnings(r).map_or("\tn/a".into(), |n| format!("\t{n}")));
                    s.push_str(&equivocal_foci(r).map_or("\tn/a".into(), |n| format!("\t{n}")));
                    s.push_str(&seed_floor(r).map_or("\tn/a".into(), |f| format!("\t{f}")));
                    s.push_str(&noise_z_for_seed_ratio(r).map_or("\tn/a".into(), |z| format!("\t{z}")));
                }
                None => (0..7 + FLAGS.len()).for_each(|_| s.push_str("\tn/a")),
            }
            s.push('\n');
        }
        s
    }

    /// Each child's baseline report: the first session with outputs.
    fn baselines(&self) -> Vec<(&str, &Value)> {
        let mut seen = BTreeMap::new();
        for scan in &self.scans {
            if let Some(r) = &scan.report {
                seen.entry(scan.status.subject.as_str()).or_insert(r);
            }
        }
        seen.into_iter().collect()
    }

    /// `group_summary.json`.
    pub fn summary(&self) -> Value {
        let base = self.baselines();
        let children = base.len();
        let share = |n: usize| {
            if children == 0 {
                Value::Null
            } else {
                json!((n as f64 / children as f64 * 1000.0).round() / 1000.0)
            }
        };
        let mut sites: BTreeMap<String, usize> = BTreeMap::new();
        for (_, r) in &base {
            for b in r.pointer("/summary/bones_involved").and_then(Value::as_array).into_iter().flatten() {
                *sites.entry(text(Some(b))).or_default() += 1;
            }
        }
        let mut sites: Vec<(String, usize)> = sites.into_iter().collect();
        sites.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let counts: Vec<u64> =
            base.iter().map(|(_, r)| r.pointer("/summary/lesion_count").and_then(Value::as_u64).unwrap_or(0)).collect();
        let failed: Vec<&str> = self
            .scans
            .iter()
            .filter(|s| matches!(s.status.status, Status::Failed { .. }))
            .map(|s| s.status.unit.as_str())
            .collect();
        json!({
            "scans": self.scans.len(),
            "scans_with_outputs": self.scans.iter().filter(|s| s.report.is_some()).count(),
            "scans_failed": failed,
            "children": children,
            "lesions_per_child": spread(&counts),
            "lesions_per_child_counts": counts,
            "sites": sites.iter().map(|(b, n)| json!({"bone": b, "children": n, "share": share(*n)})).collect::<Vec<_>>(),
            "flags": FLAGS.iter().map(|(f, p)| {
                let n = base.iter().filter(|(_, r)| flag(r, p)).count();
                (f.to_string(), json!({"children": n, "share": share(n)}))
            }).collect::<serde_json::Map<_, _>>(),
        })
    }
}

/// Mean, median, minimum and maximum (null for none).
fn spread(v: &[u64]) -> Value {
    if v.is_empty() {
        return json!({"mean": null, "median": null, "min": null, "max": null});
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    let median = if n % 2 == 1 { s[n / 2] as f64 } else { (s[n / 2 - 1] + s[n / 2]) as f64 / 2.0 };
    let mean = s.iter().sum::<u64>() as f64 / n as f64;
    json!({"mean": (mean * 100.0).round() / 100.0, "median": median, "min": s[0], "max": s[n - 1]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(unit: &str, subject: &str, report: Option<Value>, status: Status) -> Scan {
        let session = unit.split_once("_ses-").map(|(_, s)| s.to_string());
        Scan {
            status: UnitStatus { unit: unit.into(), subject: subject.into(), session, status, seconds: 0.0 },
            report,
        }
    }

    #[test]
    fn baselines_sites_and_flags() {
        let r = |n: u64, bones: &[&str], vertebral: bool| {
            json!({"summary": {"lesion_count": n, "bone_count": bones.len(), "bones_involved": bones,
                   "vertebral_involvement": vertebral, "multifocal": n > 1, "vertebral_levels": []},
                   "lesions": (1..=n).map(|i| json!({"id": i, "region": "femur_neck_left", "volume_mm3": 1234.567})).collect::<Vec<_>>()})
        };
        let c = Cohort {
            scans: vec![
                scan(
                    "sub-01_ses-1",
                    "01",
                    Some(r(3, &["femur_left", "vertebra_T7"], true)),
                    Status::Ok { lesions: 3, warnings: 0 },
                ),
                scan("sub-01_ses-2", "01", Some(r(1, &["femur_left"], false)), Status::Ok { lesions: 1, warnings: 0 }),
                scan("sub-02", "02", Some(r(1, &["femur_left"], false)), Status::Ok { lesions: 1, warnings: 0 }),
                scan("sub-03", "03", None, Status::Failed { reason: "scan x.nii: truncated".into() }),
            ],
        };
        let s = c.summary();
        assert_eq!(s["children"], 2);
        assert_eq!(s["lesions_per_child_counts"], json!([3, 1]));
        assert_eq!(s["lesions_per_child"]["median"], 2.0);
        assert_eq!(s["sites"][0], json!({"bone": "femur_left", "children": 2, "share": 1.0}));
        assert_eq!(s["sites"][1]["share"], 0.5);
        assert_eq!(s["flags"]["vertebral_involvement"]["children"], 1);
        assert_eq!(s["scans_failed"], json!(["sub-03"]));
        let lesions = c.lesions_tsv();
        assert_eq!(lesions.lines().count(), 1 + 3 + 1 + 1);
        assert!(lesions.contains("sub-01_ses-2\t01\t2\t1\tfemur_neck_left\tn/a"));
        assert!(lesions.contains("\t1234.57\t"));
        let scans = c.scans_tsv();
        assert!(scans.contains("sub-03\t03\tn/a\tfailed: scan x.nii: truncated\tn/a"));
        // unit, subject, session, status, lesions, bones, levels, the flags, warnings,
        // equivocal foci, seed floor, the demand for the seed ratio.
        assert_eq!(scans.lines().nth(1).unwrap().split('\t').count(), 7 + FLAGS.len() + 4);
        assert!(scans.lines().all(|l| l.split('\t').count() == 11 + FLAGS.len()), "{scans}");
        // A report before schema 1.2.0 has no warnings, none before 1.4.0 equivocal foci to
        // count, none before 1.5.0 seed floors and none before 1.6.0 a demand for the seed
        // ratio; sub-03 failed.
        assert!(scans.lines().skip(1).all(|l| l.ends_with("\tn/a\tn/a\tn/a\tn/a")), "{scans}");
    }

    #[test]
    fn the_seed_floor_is_that_of_the_median_bone_voxel() {
        let r = |regions: Value| json!({"marrow": {"regions": regions}});
        let region = |floor: Value, voxels: u64| json!({"seed_floor_ratio": floor, "voxels": voxels});
        // 30 voxels at 1.55, 40 at 2.0, 30 at 3.0: the 50th of 100 has 2.0.
        let three = r(json!([region(json!(3.0), 30), region(json!(1.55), 30), region(json!(2.0), 40)]));
        assert_eq!(seed_floor(&three), Some(2.0));
        // Half exactly: the lower floor. A region without a floor (a level at or below 0) does
        // not count; no region, no marrow (the global detector), no floor.
        assert_eq!(seed_floor(&r(json!([region(json!(1.6), 10), region(json!(4.0), 10)]))), Some(1.6));
        assert_eq!(seed_floor(&r(json!([region(Value::Null, 90), region(json!(2.5), 10)]))), Some(2.5));
        assert_eq!(seed_floor(&r(json!([]))), None);
        assert_eq!(seed_floor(&json!({"marrow": null})), None);
    }

    #[test]
    fn the_demand_for_the_seed_ratio_is_the_reports_own() {
        let r = |z: Value| json!({"marrow": {"regions": [], "noise_z_for_seed_ratio": z}});
        assert_eq!(noise_z_for_seed_ratio(&r(json!(6.2))), Some(6.2));
        // Null (the ratio binds already), no marrow (the global detector), an older report.
        assert_eq!(noise_z_for_seed_ratio(&r(Value::Null)), None);
        assert_eq!(noise_z_for_seed_ratio(&json!({"marrow": null})), None);
        assert_eq!(noise_z_for_seed_ratio(&json!({"marrow": {"regions": []}})), None);
    }
}
