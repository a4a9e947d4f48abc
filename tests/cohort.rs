//! `crmo-map bids`: a BIDS dataset of phantoms (one broken) through the participant and group
//! levels, resume, kill -9 at random moments, a manifest, and sessions.

use crate::util::{files_with_bytes, json, listing, root, s, walk};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_crmo-map")
}

fn crmo(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().expect("crmo-map runs")
}

/// A BIDS dataset of `n` phantoms made by `scripts/make_bids_cohort.sh` (subject `broken`
/// truncated).
fn dataset(dir: &Path, n: usize, broken: &str) -> PathBuf {
    let ds = dir.join("ds");
    let st = Command::new("bash")
        .arg(root().join("scripts/make_bids_cohort.sh"))
        .args([s(&ds), &n.to_string(), broken])
        .env("CRMO_MAP", bin())
        .status()
        .expect("bash runs");
    assert!(st.success(), "make_bids_cohort.sh failed");
    ds
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file under `dir` except the logs, as (relative path, bytes).
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_with_bytes(dir).into_iter().filter(|(rel, _)| !rel.starts_with("logs/")).collect()
}

/// Names that a crash could leave behind.
fn strays(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .filter(|r| r.components().any(|c| c.as_os_str().to_string_lossy().starts_with(".crmo-map")))
        .map(|r| r.display().to_string())
        .collect()
}

#[test]
fn participant_then_group_with_a_broken_subject_then_resume() {
    let t = tempfile::tempdir().unwrap();
    let ds = dataset(t.path(), 12, "07");
    let out = t.path().join("out");
    let first = crmo(&["bids", s(&ds), s(&out), "participant", "--jobs", "2"]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let err = stderr(&first);
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("crmo-map: error: 1 of 12 units failed: sub-07 ("), "{last}");
    assert!(last.contains("sub-07_acq-STIR_T2w.nii.gz"), "{last}");
    let table = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(table.lines().filter(|l| l.contains("\tok\t")).count(), 11, "{table}");
    assert!(!out.join("sub-07").exists());
    for n in (1..=12).filter(|&n| n != 7) {
        let anat = out.join(format!("sub-{n:02}/anat"));
        let report = json(&anat.join(format!("sub-{n:02}_desc-crmomap_report.json")));
        assert!(report["lesions"].is_array());
        let names = listing(&anat);
        assert!(names.contains(&format!("sub-{n:02}_desc-lesions_dseg.nii.gz")), "{names:?}");
        assert!(listing(&out.join(format!("sub-{n:02}/figures"))).contains(&format!("sub-{n:02}_review.html")));
    }
    let desc = json(&out.join("dataset_description.json"));
    assert_eq!(desc["DatasetType"], "derivative");
    assert_eq!(desc["GeneratedBy"][0]["Name"], "crmo-map");
    assert!(desc["GeneratedBy"][0]["Description"].as_str().unwrap().contains("bids"));

    // A rerun redoes nothing but the broken subject, and says so.
    let again = crmo(&["bids", s(&ds), s(&out), "participant"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("12 units: 0 mapped, 1 failed, 11 up to date"), "{}", stderr(&again));

    // The group level: one row per scan (the broken one failed) and per lesion.
    let group = crmo(&["bids", s(&ds), s(&out), "group"]);
    assert!(group.status.success(), "{}", stderr(&group));
    let scans = std::fs::read_to_string(out.join("group_scans.tsv")).unwrap();
    assert_eq!(scans.lines().count(), 13);
    assert!(scans.lines().any(|l| l.starts_with("sub-07\t07\tn/a\tfailed: ")), "{scans}");
    assert_eq!(scans.lines().filter(|l| l.split('\t').nth(3) == Some("ok")).count(), 11);
    // The last four columns: each run's warnings about its inputs, the foci it set aside as
    // equivocal, its seed floor (that of its median bone voxel) and the demand at which the
    // seed ratio would bind in three quarters of its bone. For these noisy STIR phantoms one
    // warning (the seed floor's), no focus, a floor above 2 and a demand under the default
    // 17; n/a for the scan that failed.
    let header = "\twarnings\tequivocal_foci\tseed_floor\tnoise_z_for_seed_ratio";
    assert!(scans.lines().next().unwrap().ends_with(header), "{scans}");
    fn last_four(l: &str) -> Vec<&str> {
        l.rsplitn(5, '\t').take(4).collect()
    }
    for l in scans.lines().filter(|l| l.split('\t').nth(3) == Some("ok")) {
        let [demand, floor, foci, warnings] = last_four(l)[..] else { panic!("{l}") };
        assert_eq!((warnings, foci), ("1", "0"), "{l}");
        assert!(floor.parse::<f64>().is_ok_and(|f| f > 2.0), "{l}");
        assert!(demand.parse::<f64>().is_ok_and(|z| z > 0.0 && z < 17.0), "{l}");
    }
    assert!(scans.lines().any(|l| l.starts_with("sub-07\t") && last_four(l) == ["n/a"; 4]), "{scans}");
    let summary = json(&out.join("group_summary.json"));
    assert_eq!(summary["children"], 11);
    assert_eq!(summary["scans_failed"], serde_json::json!(["sub-07"]));
    let lesions = std::fs::read_to_string(out.join("group_lesions.tsv")).unwrap();
    let total: u64 = summary["lesions_per_child_counts"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(lesions.lines().count() as u64, 1 + total);
    // Its last column is each lesion's ratio to its region's normal marrow, from its report
    assert!(lesions.lines().next().unwrap().ends_with("\tratio_to_marrow"), "{lesions}");
    for row in lesions.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let report = json(&out.join(format!("{}/anat/{}_desc-crmomap_report.json", f[0], f[0])));
        let id: u64 = f[3].parse().unwrap();
        let l = report["lesions"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap();
        let ratio = l["intensity"]["ratio_to_marrow"].as_f64().unwrap();
        // (to the table's two decimals).
        assert!((f.last().unwrap().parse::<f64>().unwrap() - ratio).abs() <= 0.005, "{row}: {ratio}");
    }
    assert!(out.join("group_summary.png").is_file());

    // Fixed input: only sub-07 is mapped; then nothing is left to do.
    let fixed = t.path().join("fixed");
    dataset(&fixed, 7, "none");
    let name = "sub-07/anat/sub-07_acq-STIR_T2w.nii.gz";
    std::fs::copy(fixed.join("ds").join(name), ds.join(name)).unwrap();
    let fix = crmo(&["bids", s(&ds), s(&out), "participant"]);
    assert!(fix.status.success(), "{}", stderr(&fix));
    assert!(stderr(&fix).contains("12 units: 1 mapped, 0 failed, 11 up to date"), "{}", stderr(&fix));
    let done = crmo(&["bids", s(&ds), s(&out), "participant"]);
    assert!(done.status.success());
    assert!(stderr(&done).contains("nothing to do: all 12 units are up to date"), "{}", stderr(&done));
    // A changed parameter redoes every unit.
    let redo = crmo(&["bids", s(&ds), s(&out), "participant", "--min-volume-mm3", "200", "--participant-label", "01"]);
    assert!(stderr(&redo).contains("1 units: 1 mapped"), "{}", stderr(&redo));
    assert!(strays(&out).is_empty(), "{:?}", strays(&out));
}

#[test]
fn kill_9_at_random_moments_never_leaves_a_mix() {
    let t = tempfile::tempdir().unwrap();
    let ds = dataset(t.path(), 6, "none");
    let clean = t.path().join("clean");
    let o = crmo(&["bids", s(&ds), s(&clean), "participant", "--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let timing = t.path().join("timing");
    crmo(&["bids", s(&ds), s(&timing), "participant", "--jobs", "2"]);
    let started = std::time::Instant::now();
    crmo(&["bids", s(&ds), s(&timing), "participant", "--jobs", "2", "--overwrite"]);
    let full = started.elapsed().as_millis() as u64;
    let out = t.path().join("out");
    // A fixed sequence of moments across the whole run (a small LCG, seed 13).
    let (mut x, mut killed): (u64, usize) = (13, 0);
    for round in 0..20 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = (x >> 33) % (full + 1);
        // Two rounds in three redo everything (kills land on swaps of old outputs too); the
        // third resumes what the killed ones left.
        let mut args = vec!["bids", s(&ds), s(&out), "participant", "--jobs", "2"];
        if round % 3 != 2 {
            args.push("--overwrite");
        }
        let mut child = Command::new(bin())
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(at));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // Whatever is in place is a complete unit: its provenance lists exactly its files.
        for n in 1..=6 {
            let unit = out.join(format!("sub-{n:02}"));
            if unit.exists() {
                let prov = json(&unit.join(format!("anat/sub-{n:02}_desc-crmomap_provenance.json")));
                let listed = prov["outputs"].as_array().unwrap().len();
                let present = contents(&unit).len() - 1;
                assert_eq!(listed, present, "round {round}, kill at {at} ms: sub-{n:02} is incomplete");
            }
        }
    }
    eprintln!("{killed} of 20 kills landed while the run was going");
    assert!(killed >= 8, "only {killed} of 20 kills landed while the run was going");
    let last = crmo(&["bids", s(&ds), s(&out), "participant"]);
    assert!(last.status.success(), "{}", stderr(&last));
    assert!(strays(&out).is_empty(), "{:?}", strays(&out));
    let (a, b) = (contents(&clean), contents(&out));
    assert_eq!(a.iter().map(|x| &x.0).collect::<Vec<_>>(), b.iter().map(|x| &x.0).collect::<Vec<_>>());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        if name != "dataset_description.json" {
            assert!(x == y, "{name} differs from a clean run's");
        }
    }
}

#[test]
fn a_manifest_with_sessions_and_labels_selects_units() {
    let t = tempfile::tempdir().unwrap();
    dataset(t.path(), 2, "none");
    let m = t.path().join("cohort.tsv");
    let der = "derivatives/totalsegmentator";
    let row = |sub: &str, ses: &str, n: &str| {
        format!("{sub}\t{ses}\tds/sub-{n}/anat/sub-{n}_acq-STIR_T2w.nii.gz\tds/{der}/sub-{n}/anat/sub-{n}_acq-STIR_desc-total_dseg.nii.gz\tds/{der}/sub-{n}/anat/sub-{n}_acq-STIR_desc-total_dseg.tsv\n")
    };
    let text = format!(
        "subject\tsession\tscan\tatlas\tlabels\n{}{}{}",
        row("A", "pre", "01"),
        row("A", "post", "02"),
        row("B", "n/a", "02")
    );
    std::fs::write(&m, text).unwrap();
    let out = t.path().join("out");
    let o = crmo(&[
        "bids",
        "--manifest",
        s(&m),
        s(&out),
        "participant",
        "--session-label",
        "post",
        "--participant-label",
        "A",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(listing(&out.join("sub-A")), ["ses-post"]);
    assert!(out.join("sub-A/ses-post/anat/sub-A_ses-post_desc-lesions_dseg.nii.gz").is_file());
    let o = crmo(&["bids", "--manifest", s(&m), s(&out), "participant"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 units: 2 mapped, 0 failed, 1 up to date"), "{}", stderr(&o));
    assert!(out.join("sub-B/anat/sub-B_desc-crmomap_report.json").is_file());
    let unknown = crmo(&["bids", "--manifest", s(&m), s(&out), "participant", "--participant-label", "C"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no such participant or session: sub-C"), "{}", stderr(&unknown));
}

#[test]
fn usage_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let d = s(t.path());
    let inside = t.path().join("sub-01").display().to_string();
    for args in [
        vec!["bids", d, "out", "everyone"],
        vec!["bids", d, "participant"],
        vec!["bids", "--manifest", "m.tsv", d, "o", "participant"],
        vec!["bids", d, "o", "participant", "--shard", "4/4"],
        vec!["bids", d, "o", "participant", "--max-memory", "lots"],
        vec!["bids", d, d, "participant"],
        vec!["bids", d, &inside, "participant"],
    ] {
        let o = crmo(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let o = crmo(&["bids", d, s(&elsewhere.path().join("o")), "participant"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a BIDS dataset (no dataset_description.json)"), "{}", stderr(&o));
}

/// A unit whose scan looks like a CT (here a phantom with 1000 taken off every voxel, so that
/// its background sits at -1000 like air in Hounsfield units) is mapped, and both its line on
/// stderr and its row of `group_scans.tsv` say that its report holds a warning, the CT's;
/// the other unit's holds its seed floor's only.
#[test]
fn a_unit_whose_scan_looks_like_a_ct_says_so() {
    use crmo_map::io::{self, Datatype, WriteOptions};
    let t = tempfile::tempdir().unwrap();
    let ds = dataset(t.path(), 2, "none");
    let scan = ds.join("sub-02/anat/sub-02_acq-STIR_T2w.nii.gz");
    let read = io::read_scan(&scan).unwrap();
    let mut ct = read.volume.clone();
    ct.data.iter_mut().for_each(|x| *x -= 1000.0);
    std::fs::write(&scan, io::encode(&ct, &WriteOptions::new(Datatype::F32), Some(&read.header), true)).unwrap();
    let out = t.path().join("out");
    let run = crmo(&["bids", s(&ds), s(&out), "participant", "--jobs", "1"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let err = stderr(&run);
    let line = |unit: &str| err.lines().find(|l| l.contains(&format!("] {unit}: "))).unwrap_or_default().to_string();
    // Each unit's report holds one warning: the CT's for sub-02 (which stands in for the seed
    // floor's there), the seed floor's for the noisy phantom of sub-01.
    assert!(line("sub-02").contains(": ok, 1 warning(s) in its report ("), "{err}");
    assert!(line("sub-01").contains(": ok, 1 warning(s) in its report ("), "{err}");
    let warning = |unit: &str| {
        let report = json(&out.join(format!("{unit}/anat/{unit}_desc-crmomap_report.json")));
        report["input"]["warnings"][0].as_str().unwrap_or_default().to_string()
    };
    assert!(warning("sub-02").contains("looks like a CT"), "{}", warning("sub-02"));
    assert!(warning("sub-01").contains("a seed needs more than"), "{}", warning("sub-01"));
    let status = json(&out.join("logs/status/sub-02.json"));
    assert_eq!((status["status"].as_str(), status["warnings"].as_u64()), (Some("ok"), Some(1)), "{status}");
    let group = crmo(&["bids", s(&ds), s(&out), "group"]);
    assert!(group.status.success(), "{}", stderr(&group));
    let scans = std::fs::read_to_string(out.join("group_scans.tsv")).unwrap();
    // The warnings column, the last but three (the equivocal foci, the seed floor and the
    // demand for the seed ratio follow).
    let warnings = |unit: &str| {
        scans
            .lines()
            .find(|l| l.starts_with(&format!("{unit}\t")))
            .and_then(|l| l.rsplit('\t').nth(3))
            .map(String::from)
    };
    assert_eq!((warnings("sub-01").as_deref(), warnings("sub-02").as_deref()), (Some("1"), Some("1")), "{scans}");
}
