//! A run's outputs are all or nothing: kill -9 at 50 moments of runs into a folder that holds
//! a previous run's outputs; every time, the folder holds exactly the previous complete set or
//! the new complete set, and the next run removes what the killed one left.

use crate::util::{files_with_bytes, phantom, s};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every file under `dir`, relative path to bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_with_bytes(dir).into_iter().collect()
}

fn run_args<'a>(input: &'a Path, out: &'a Path, min_volume: &'a str) -> Vec<String> {
    let f = |n: &str| input.join(n).display().to_string();
    ["run", "--quiet", "--scan", &f("scan.nii.gz"), "--atlas", &f("atlas.nii.gz"), "--labels", &f("labels.tsv")]
        .into_iter()
        .map(String::from)
        .chain(["--out".into(), s(out).into(), "--min-volume-mm3".into(), min_volume.into()])
        .collect()
}

fn run(args: &[String]) {
    let o = Command::new(env!("CARGO_BIN_EXE_crmo-map")).args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn kill_9_at_50_moments_leaves_the_old_set_or_the_new_one() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    phantom(&input, &["--case", "seed", "--spacing", "4", "4", "5"]);
    // Two different complete sets (the smaller minimum volume keeps more lesions).
    let volumes = ["100", "2000"];
    let sets: Vec<BTreeMap<String, Vec<u8>>> = volumes
        .iter()
        .map(|v| {
            let dir = t.path().join(format!("ref-{v}"));
            run(&run_args(&input, &dir, v));
            snapshot(&dir)
        })
        .collect();
    assert_ne!(sets[0], sets[1]);
    let out = t.path().join("out");
    let started = Instant::now();
    run(&run_args(&input, &out, volumes[0]));
    let full = started.elapsed().as_millis() as u64;
    let (mut x, mut landed, mut current) = (29u64, 0, 0usize);
    for round in 0..50 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = (x >> 33) % (full + full / 5 + 1);
        let next = 1 - current;
        let mut child = Command::new(env!("CARGO_BIN_EXE_crmo-map"))
            .args(run_args(&input, &out, volumes[next]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(at));
        if child.try_wait().unwrap().is_none() {
            landed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let now: BTreeMap<String, Vec<u8>> =
            snapshot(&out).into_iter().filter(|(k, _)| !k.split('/').any(|c| c.starts_with(".crmo-map"))).collect();
        let which = sets.iter().position(|set| *set == now);
        assert!(which.is_some(), "round {round}, kill at {at} ms of {full}: the folder holds neither complete set");
        current = which.unwrap();
    }
    eprintln!("{landed} of 50 kills landed while the run was going");
    assert!(landed >= 20, "only {landed} of 50 kills landed while the run was going");
    // The next run cleans up after the killed ones: nothing hidden is left beside or inside.
    run(&run_args(&input, &out, volumes[0]));
    let leftovers = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".crmo-map"))
            .count()
    };
    assert_eq!(leftovers(t.path()) + leftovers(&out), 0);
    assert_eq!(snapshot(&out), sets[0]);
}

#[test]
fn a_folder_in_the_way_fails_the_run_before_anything_changes() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    phantom(&input, &["--case", "seed", "--spacing", "4", "4", "5"]);
    let out = t.path().join("out");
    run(&run_args(&input, &out, "100"));
    std::fs::remove_file(out.join("overview.png")).unwrap();
    std::fs::create_dir(out.join("overview.png")).unwrap();
    let before = snapshot(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_crmo-map")).args(run_args(&input, &out, "2000")).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("overview.png: is a folder where crmo-map writes a file"), "{err}");
    assert_eq!(snapshot(&out), before, "the earlier outputs changed");
    assert!(out.join("overview.png").is_dir());
    let hidden = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(hidden, 0);
}
