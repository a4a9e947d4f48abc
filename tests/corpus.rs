//! The bad-input corpus (`fixtures/bad/`, listed in its `MANIFEST.tsv`) and the odd-but-valid
//! files (`fixtures/odd/`); see issue 14.

use crate::util::*;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Memory a run on a bad file may take: its data segment limit (RLIMIT_DATA: heap and private
/// writable mappings, touched or not), so that no allocation beyond it can succeed.
const MAX_DATA_BYTES: u64 = 64 << 20;

/// How a run of the binary ended.
struct Ended {
    /// Exit code (None: killed by a signal).
    code: Option<i32>,
    stderr: String,
    /// Peak resident memory of the child, from wait4's rusage: an upper bound, since Linux
    /// carries the forked copy of the test process's own resident memory over into it.
    max_rss: u64,
}

/// Runs crmo-map with its data segment limited to [`MAX_DATA_BYTES`] (an allocation beyond it
/// fails, and the run aborts instead of ending in a clean error) and measures its peak memory.
#[allow(clippy::zombie_processes)] // reaped by wait4, which also gives its rusage
fn run_measured(args: &[String]) -> Ended {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crmo-map"));
    cmd.args(args).current_dir(root()).stdout(Stdio::null()).stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: MAX_DATA_BYTES, rlim_max: MAX_DATA_BYTES };
            libc::setrlimit(libc::RLIMIT_DATA, &lim);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("crmo-map starts");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ended { code, stderr, max_rss: usage.ru_maxrss as u64 * 1024 }
}

/// The command line that tries `file` in `role` (see `scripts/make_bad_fixtures.py`).
fn role_args(role: &str, file: &Path, out: &Path) -> Vec<String> {
    let f = s(file).to_string();
    let (scan, atlas, labels) = ("fixtures/tiny/scan.nii.gz", "fixtures/tiny/atlas.nii.gz", "fixtures/tiny/labels.tsv");
    let v: Vec<&str> = match role {
        "scan" => vec!["run", "--scan", &f, "--atlas", atlas, "--labels", labels],
        "atlas" => vec!["run", "--scan", scan, "--atlas", &f, "--labels", labels],
        "labels" => vec!["run", "--scan", scan, "--atlas", atlas, "--labels", &f],
        "staging" => vec!["run", "--scan", scan, "--atlas", atlas, "--labels", labels, "--staging-config", &f],
        "readers" => vec!["evaluate", "--readers", &f, "--labels", labels],
        other => panic!("unknown role {other:?} in fixtures/bad/MANIFEST.tsv"),
    };
    v.into_iter().map(String::from).chain(["--quiet".into(), "--out".into(), s(out).into()]).collect()
}

/// (file, roles, fragment) rows of the manifest.
fn manifest() -> Vec<(String, Vec<String>, String)> {
    let text = std::fs::read_to_string(fixture("bad/MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].split(',').map(String::from).collect(), f[2].to_string())
        })
        .collect()
}

/// What is wrong with one run on a bad file (empty: nothing).
fn judge(name: &str, role: &str, expect: &str, end: &Ended, out: &Path) -> Vec<String> {
    let err = &end.stderr;
    let mut wrong = Vec::new();
    if end.code != Some(1) {
        wrong.push(format!("exit {:?}, not 1", end.code));
    }
    if err.trim_end().lines().count() != 1 || !err.starts_with("crmo-map: error: ") {
        wrong.push("not one `crmo-map: error:` line".into());
    }
    if !err.contains(name) {
        wrong.push("does not name the file".into());
    }
    if expect != "-" && !err.contains(expect) {
        wrong.push(format!("lacks {expect:?}"));
    }
    if err.contains("panicked") || err.contains("backtrace") {
        wrong.push("panic".into());
    }
    if out.exists() {
        wrong.push(format!("left {} with {:?}", out.display(), listing(out)));
    }
    wrong.into_iter().map(|w| format!("{name} as {role}: {w} (stderr: {})", err.trim_end())).collect()
}

/// r14: every file in fixtures/bad/, in every role the manifest gives it, ends in exit 1, one
/// line naming the file (with the expected cause), no panic, no output folder, within a 64 MiB
/// data segment (an allocation beyond it would abort the run: exit by a signal, caught here).
#[test]
fn r14_every_bad_file_fails_cleanly_in_every_role() {
    let rows = manifest();
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "MANIFEST.tsv")
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "fixtures/bad/ and its MANIFEST.tsv disagree");
    assert!(rows.len() >= 60, "the corpus has {} files", rows.len());
    let tmp = tempfile::tempdir().unwrap();
    let (mut wrong, mut runs, mut worst) = (Vec::new(), 0, (0u64, String::new()));
    for (name, roles, expect) in &rows {
        for role in roles {
            let out = tmp.path().join(format!("out-{name}-{role}"));
            let end = run_measured(&role_args(role, &fixture(&format!("bad/{name}")), &out));
            wrong.extend(judge(name, role, expect, &end, &out));
            if end.max_rss > worst.0 {
                worst = (end.max_rss, format!("{name} as {role}"));
            }
            runs += 1;
        }
    }
    eprintln!(
        "{} bad files, {runs} runs; worst peak resident memory (upper bound) {:.1} MiB ({})",
        rows.len(),
        worst.0 as f64 / 1048576.0,
        worst.1
    );
    assert!(wrong.is_empty(), "{} failure(s):\n{}", wrong.len(), wrong.join("\n"));
}

/// The lesions of a run, as (region, voxels, volume, centroid in mm to 0.01 mm): what any
/// storage of the same scan must reproduce.
fn lesions_of(scan: &Path, out: &Path) -> Vec<String> {
    let (atlas, labels) = (fixture("tiny/atlas.nii.gz"), fixture("tiny/labels.tsv"));
    let args = ["run", "--quiet", "--scan", s(scan), "--atlas", s(&atlas), "--labels", s(&labels), "--out", s(out)];
    crmo_ok(&args);
    let report = json(&out.join("report.json"));
    let lesions = report["lesions"].as_array().expect("a lesion list");
    lesions
        .iter()
        .map(|l| {
            let c: Vec<String> =
                l["centroid_mm"].as_array().unwrap().iter().map(|v| format!("{:.2}", v.as_f64().unwrap())).collect();
            format!("{} {} {} [{}]", l["region"], l["voxels"], l["volume_mm3"], c.join(", "))
        })
        .collect()
}

/// r14: every file in fixtures/odd/ (extensions, big-endian, padding, 4-D and 5-D with one
/// volume, scaling, RAS storage, trailing bytes, a gzip tail inflating to 16 MiB, two gzip
/// members) gives the lesions of the plain tiny scan.
#[test]
fn r14_odd_but_valid_files_give_the_plain_result() {
    let tmp = tempfile::tempdir().unwrap();
    let want = lesions_of(&fixture("tiny/scan.nii.gz"), &tmp.path().join("plain"));
    assert_eq!(want.len(), 2, "{want:?}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("odd")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for f in files {
        let out = tmp.path().join(f.file_name().unwrap());
        assert_eq!(lesions_of(&f, &out), want, "{}", f.display());
    }
}
