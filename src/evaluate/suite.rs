//! Phantom suites: generating the suites and running the pipeline over a set of phantoms,
//! each scored against its ground truth ([`super::score`](mod@super::score), whose matching rules apply).

use crate::error::{Error, Result};
use crate::io;
use crate::io::Datatype;
use crate::labels::region_refines;
use crate::phantom::PhantomStorage;
use crate::phantom::{self, Case, PhantomOptions, TruthLesion};
use crate::pipeline::{self, Observer, Params, RunConfig};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use super::score::*;

/// The evaluation of a set of phantoms.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// Detection parameters used (as a report's `parameters` would say).
    pub z_threshold: f64,
    /// Minimum lesion volume used.
    pub min_volume_mm3: f64,
    /// Per scan.
    pub scans: Vec<ScanScore>,
    /// Scans whose run failed, with the error.
    pub failures: Vec<(String, String)>,
    /// Totals.
    pub summary: Summary,
}

impl Evaluation {
    /// Per-scan table and the summary line, as text.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<24} {:>5} {:>5} {:>6} {:>4} {:>6}  misses, wrong regions and false positives\n",
            "scan", "true", "found", "region", "FP", "Dice"
        );
        for sc in &self.scans {
            let notes: Vec<String> = sc
                .lesions
                .iter()
                .filter_map(|o| match &o.reported_region {
                    None => Some(format!("missed {} ({:.0} mm3)", o.region, o.volume_mm3)),
                    Some(r) if !region_refines(r, &o.region) => Some(format!("{} -> {}", o.region, r)),
                    _ => None,
                })
                .chain(sc.false_positive_lesions.iter().map(|f| format!("FP {} ({:.0} mm3)", f.region, f.volume_mm3)))
                .chain((sc.equivocal_foci > 0).then(|| format!("{} equivocal set aside", sc.equivocal_foci)))
                .chain(
                    sc.under_floor.iter().map(|t| {
                        format!("{} ({:.0} mm3) under the minimum volume, not scored", t.region, t.volume_mm3)
                    }),
                )
                .collect();
            s.push_str(&format!(
                "{:<24} {:>5} {:>5} {:>6} {:>4} {:>6.3}  {}\n",
                sc.name,
                sc.true_lesions,
                sc.found,
                sc.region_correct,
                sc.false_positives,
                sc.dice,
                notes.join("; ")
            ));
        }
        for (name, err) in &self.failures {
            s.push_str(&format!("{name:<24} FAILED: {err}\n"));
        }
        s.push_str(&self.summary.line());
        s.push('\n');
        s
    }
}

/// One phantom of a suite: how it is generated and stored.
#[derive(Clone, Debug)]
pub struct SuiteMember {
    /// Folder name.
    pub name: String,
    /// Generation options.
    pub options: PhantomOptions,
    /// Storage options.
    pub storage: PhantomStorage,
}

const SPACINGS: [[f64; 3]; 5] = [[1.5, 4.0, 1.5], [2.0, 5.0, 2.0], [1.2, 6.0, 1.2], [2.5, 2.5, 2.5], [1.0, 4.5, 1.4]];
const ORIENTATIONS: [&str; 6] = ["RAS", "LPS", "PIL", "ASR", "LAI", "SRP"];
const DATATYPES: [Datatype; 6] =
    [Datatype::I16, Datatype::U16, Datatype::F32, Datatype::I32, Datatype::F64, Datatype::U8];
const SCALES: [f64; 5] = [1.0, 0.1, 10.0, 3.7, 0.5];

/// The `basic` suite: `count` phantoms cycling through the founding case (every fourth) and
/// random cases of 4 to 12 lesions, five voxel sizes, six orientations, six datatypes and
/// five intensity scales, seeds `seed + 37 n`. Deterministic.
pub fn basic_suite(count: usize, seed: u64) -> Vec<SuiteMember> {
    (0..count)
        .map(|n| SuiteMember {
            name: format!("basic-{n:03}"),
            options: PhantomOptions {
                case: if n % 4 == 0 { Case::Seed } else { Case::Random },
                seed: seed + 37 * n as u64,
                lesions: 4 + n % 9,
                spacing: SPACINGS[n % SPACINGS.len()],
                ..PhantomOptions::default()
            },
            storage: PhantomStorage {
                orientation: ORIENTATIONS[n % ORIENTATIONS.len()].into(),
                datatype: DATATYPES[(n / 2) % DATATYPES.len()],
                scale: SCALES[(n / 3) % SCALES.len()],
                ..PhantomStorage::default()
            },
        })
        .collect()
}

const WB_SPACINGS: [[f64; 3]; 5] =
    [[1.5, 4.0, 1.5], [1.2, 5.0, 1.2], [1.0, 6.0, 1.4], [1.4, 4.5, 1.0], [1.3, 3.0, 1.3]];
const HARD_DATATYPES: [Datatype; 4] = [Datatype::I16, Datatype::U16, Datatype::F32, Datatype::I16];
const HARD_SCALES: [f64; 5] = [1.0, 0.1, 10.0, 0.37, 4.2];

/// The `hard` suite: `count` phantoms of whole-body STIR geometry (1-1.5 mm in plane, 4-6 mm
/// anterior-posterior slices), every sixth a healthy control and every sixth (offset 3) the
/// founding case, the rest random cases of 3 to 10 lesions, each with a hard acquisition
/// drawn from its seed ([`phantom::Hardness::suite`]: 3-6 stations with gain steps, strong
/// bias, noise sigma 8-25, an atlas shifted by up to 4 mm, normal-variant bright foci, lesions
/// of 0.1-30 cm3 against the physes, irregular outlines), stored in six orientations, int16,
/// uint16, float32 and int16 with a slope (scales below 1), and scales 0.1x to 10x.
pub fn hard_suite(count: usize, seed: u64) -> Vec<SuiteMember> {
    (0..count)
        .map(|n| {
            let s = seed + 101 * n as u64;
            SuiteMember {
                name: format!("hard-{n:03}"),
                options: PhantomOptions {
                    case: match n % 6 {
                        5 => Case::Healthy,
                        2 => Case::Seed,
                        _ => Case::Random,
                    },
                    seed: s,
                    lesions: 3 + n % 8,
                    spacing: WB_SPACINGS[n % WB_SPACINGS.len()],
                    hard: phantom::Hardness::suite(s),
                },
                storage: PhantomStorage {
                    orientation: ORIENTATIONS[(n + 1) % ORIENTATIONS.len()].into(),
                    datatype: HARD_DATATYPES[(n / 2) % HARD_DATATYPES.len()],
                    scale: HARD_SCALES[(n / 3) % HARD_SCALES.len()],
                    ..PhantomStorage::default()
                },
            }
        })
        .collect()
}

/// Multiplies the noise of every member by `factor` ([`phantom::Hardness::with_noise_scaled`]):
/// the same suite at another signal-to-noise ratio, for how the detector's operating point
/// carries over between scanners. A factor of 1 leaves the members as they are (and so their
/// folders, when a suite is resumed).
pub fn scale_noise(members: &mut [SuiteMember], factor: f64) {
    if factor != 1.0 {
        members.iter_mut().for_each(|m| m.options.hard = m.options.hard.with_noise_scaled(factor));
    }
}

/// Name of the file in each generated phantom folder that records how it was generated.
pub const MEMBER_STAMP: &str = "generated-with.txt";

/// Generates a suite's phantoms into `dir/<name>/`, skipping those already there from the same
/// options (a rerun resumes); a folder from other options (another seed or suite, an older
/// phantom) is generated again.
///
/// # Errors
/// Any error of generating or writing a phantom.
pub fn write_suite(members: &[SuiteMember], dir: &Path, obs: &dyn Observer) -> Result<()> {
    for m in members {
        let d = dir.join(&m.name);
        let stamp = format!("crmo-map {}\n{:?}\n{:?}\n", env!("CARGO_PKG_VERSION"), m.options, m.storage);
        let stamp_path = d.join(MEMBER_STAMP);
        if d.join("truth.json").is_file() && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(&stamp) {
            continue;
        }
        if d.exists() {
            std::fs::remove_dir_all(&d).map_err(|e| Error::Io { path: d.clone(), source: e })?;
        }
        obs.stage(&format!("generating {}", m.name));
        let ph = phantom::generate(&m.options)?;
        crate::phantom::write_phantom(&ph, &d, &m.storage)?;
        std::fs::write(&stamp_path, stamp).map_err(|e| Error::Io { path: stamp_path.clone(), source: e })?;
    }
    Ok(())
}

/// Runs the pipeline on every phantom folder under `phantoms` (each holding `scan.nii.gz`,
/// `atlas.nii.gz`, `labels.tsv`, `truth.nii.gz`, `truth.json`, as `crmo-map phantom` writes
/// them), writing each run's outputs to `out/<name>/`, and scores them. A failing scan is
/// recorded and the others go on.
///
/// # Errors
/// [`Error::Io`] when `phantoms` cannot be listed or holds no phantom folder.
pub fn evaluate_folder(phantoms: &Path, out: &Path, params: &Params, obs: &dyn Observer) -> Result<Evaluation> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(phantoms)
        .map_err(|e| Error::io(phantoms, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("truth.json").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(Error::io(
            phantoms,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no phantom folder (with truth.json) inside"),
        ));
    }
    let mut scans = Vec::new();
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        obs.stage(&format!("evaluating {name}"));
        match evaluate_one(&dir, &out.join(&name), &name, params) {
            Ok(s) => scans.push(s),
            Err(e) => failures.push((name, e.to_string())),
        }
    }
    if scans.is_empty() {
        return Err(every_one_failed(phantoms, &failures, "scan"));
    }
    let summary = Summary::of(&scans, failures.len());
    Ok(Evaluation { z_threshold: params.z_threshold, min_volume_mm3: params.min_volume_mm3, scans, failures, summary })
}

/// The error when every scan (or subject) failed: names the folder or manifest and gives the
/// first failure, which names its own file.
pub(crate) fn every_one_failed(what: &Path, failures: &[(String, String)], kind: &str) -> Error {
    let (name, first) = failures.first().map_or(("", ""), |(n, e)| (n.as_str(), e.as_str()));
    Error::Dataset {
        path: what.to_path_buf(),
        message: format!("every {kind} failed ({} of them); the first, {name}: {first}", failures.len()),
    }
}

fn evaluate_one(dir: &Path, out: &Path, name: &str, params: &Params) -> Result<ScanScore> {
    let cfg = RunConfig {
        scan: dir.join("scan.nii.gz"),
        atlas: dir.join("atlas.nii.gz"),
        labels: Some(dir.join("labels.tsv")),
        out: out.to_path_buf(),
        params: params.clone(),
        staging: None,
        names: Default::default(),
    };
    let (report, lesion_map) = pipeline::run_with_map(&cfg, &pipeline::Silent)?;
    let truth_path = dir.join("truth.json");
    let text = crate::limits::read_text(&truth_path, crate::limits::MAX_TEXT_BYTES, "truth list")?;
    let truth: Vec<TruthLesion> = serde_json::from_str(&text)
        .map_err(|e| Error::Labels { path: truth_path.clone(), message: format!("not a truth list ({e})") })?;
    let truth_map = io::read_labels(&dir.join("truth.nii.gz"))?.volume;
    if truth_map.grid.dims != lesion_map.grid.dims {
        return Err(Error::Atlas {
            path: dir.join("truth.nii.gz"),
            message: format!(
                "truth shape {:?} differs from the scan's {:?}",
                truth_map.grid.dims, lesion_map.grid.dims
            ),
        });
    }
    // The run reports nothing under its minimum volume: true lesions drawn smaller than it
    // on this grid are listed, not scored, as a reader's are.
    let (scored, under): (Vec<TruthLesion>, Vec<TruthLesion>) =
        truth.into_iter().partition(|t| t.volume_mm3 >= params.min_volume_mm3);
    let mut s = score(name, &truth_map, &scored, &lesion_map, &report.lesions);
    s.equivocal_foci = report.equivocal_foci.len();
    s.under_floor =
        under.into_iter().map(|t| LesionBrief { id: t.id, region: t.region, volume_mm3: t.volume_mm3 }).collect();
    Ok(s)
}

impl Evaluation {
    /// `evaluation.json` text.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("evaluation serialises");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::{Hardness, NOISE_SIGMA};

    #[test]
    fn scaling_a_suites_noise_changes_its_noise_alone() {
        let suite = hard_suite(6, 42);
        let mut same = suite.clone();
        scale_noise(&mut same, 1.0);
        // A factor of 1 leaves the members (and so the stamps of a resumed suite) as they are.
        assert!(same.iter().zip(&suite).all(|(a, b)| a.options == b.options));
        for factor in [0.0, 0.5, 2.0] {
            let mut scaled = suite.clone();
            scale_noise(&mut scaled, factor);
            for (a, b) in scaled.iter().zip(&suite) {
                assert_eq!(a.options.hard.noise_sigma, Some(b.options.hard.noise_sigma.unwrap() * factor));
                let back = Hardness { noise_sigma: b.options.hard.noise_sigma, ..a.options.hard.clone() };
                assert_eq!(PhantomOptions { hard: back, ..a.options.clone() }, b.options);
            }
        }
        // Phantoms without a noise of their own scale the standard one.
        let mut basic = basic_suite(2, 1);
        scale_noise(&mut basic, 0.5);
        assert!(basic.iter().all(|m| m.options.hard.noise_sigma == Some(NOISE_SIGMA * 0.5)));
    }
}
