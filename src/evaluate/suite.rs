//! Phantom suites: scoring detections against a phantom's ground truth, generating the suites, and
//! running the pipeline over a set of phantoms.
//!
//! Matching rules (one pass over the two label volumes):
//! - a true lesion is **found** when at least [`FOUND_FRACTION`] of its voxels lie inside one
//!   reported lesion; its match is the reported lesion holding most of its voxels;
//! - a found lesion's **region is correct** when the matched lesion's `region` equals the
//!   truth's, or is a part of it when the truth's region is a whole bone (a clavicle's medial
//!   third in `clavicle_left`, [`crate::labels::region_refines`]); its **bone is correct**
//!   when both lie in the same bone and side;
//! - a reported lesion that touches no true lesion voxel is a **false positive**;
//! - **voxel Dice** compares the union of true lesions with the union of reported ones;
//! - **centroid error** is the world distance between the true centroid and the match's;
//!   **volume ratio** is the match's volume over the true volume.

use crate::error::{Error, Result};
use crate::io;
use crate::io::Datatype;
use crate::labels::{region_refines, same_bone};
use crate::lesions::Lesion;
use crate::phantom::PhantomStorage;
use crate::phantom::{self, Case, PhantomOptions, TruthLesion};
use crate::pipeline::{self, Observer, Params, RunConfig};
use crate::volume::Volume;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Share of a true lesion's voxels that one reported lesion must hold for it to be found.
pub const FOUND_FRACTION: f64 = 0.10;
/// True lesions at least this large (mm^3) make up the headline sensitivity.
pub const HEADLINE_MIN_MM3: f64 = 300.0;

/// A reported lesion that touches no true lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FalsePositive {
    /// Its id in the report.
    pub id: u32,
    /// Its region.
    pub region: String,
    /// Its volume (mm^3).
    pub volume_mm3: f64,
}

/// One true lesion's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TruthOutcome {
    /// True lesion id.
    pub id: u32,
    /// True region.
    pub region: String,
    /// True volume (mm^3).
    pub volume_mm3: f64,
    /// Id of the matching reported lesion, if found.
    pub matched: Option<u32>,
    /// Region the match reports.
    pub reported_region: Option<String>,
    /// World distance between the centroids (mm).
    pub centroid_error_mm: Option<f64>,
    /// Reported volume over true volume.
    pub volume_ratio: Option<f64>,
}

/// Scores of one scan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanScore {
    /// Name of the scan (its folder).
    pub name: String,
    /// Number of true lesions.
    pub true_lesions: usize,
    /// Number of reported lesions.
    pub reported_lesions: usize,
    /// True lesions found.
    pub found: usize,
    /// True lesions of at least [`HEADLINE_MIN_MM3`].
    pub true_headline: usize,
    /// Of those, found.
    pub found_headline: usize,
    /// Found lesions whose region is correct.
    pub region_correct: usize,
    /// Found lesions whose bone (and side) is correct.
    pub bone_correct: usize,
    /// Reported lesions touching no true lesion.
    pub false_positives: usize,
    /// Voxel Dice of the lesion unions (1 when both are empty).
    pub dice: f64,
    /// Voxels in any true lesion.
    pub truth_voxels: u64,
    /// Voxels in any reported lesion.
    pub reported_voxels: u64,
    /// Voxels in both.
    pub overlap_voxels: u64,
    /// Per true lesion.
    pub lesions: Vec<TruthOutcome>,
    /// Reported lesions that touch no true lesion.
    pub false_positive_lesions: Vec<FalsePositive>,
}

/// Scores reported lesions (`found_map`, `found`) against the truth.
///
/// # Panics
/// When the two volumes are on different grids (a programming error: the pipeline writes the
/// map on the scan's grid, and the truth comes with the scan).
pub fn score(
    name: &str,
    truth_map: &Volume<u16>,
    truth: &[TruthLesion],
    found_map: &Volume<u16>,
    found: &[Lesion],
) -> ScanScore {
    assert_eq!(truth_map.grid.dims, found_map.grid.dims, "truth and lesion map on one grid");
    let mut overlap: HashMap<(u16, u16), u64> = HashMap::new();
    let (mut n_truth, mut n_found, mut n_both) = (0u64, 0u64, 0u64);
    for (&t, &f) in truth_map.data.iter().zip(&found_map.data) {
        if t == 0 && f == 0 {
            continue;
        }
        *overlap.entry((t, f)).or_insert(0) += 1;
        n_truth += (t != 0) as u64;
        n_found += (f != 0) as u64;
        n_both += (t != 0 && f != 0) as u64;
    }
    let by_id: HashMap<u32, &Lesion> = found.iter().map(|l| (l.id, l)).collect();
    let mut lesions = Vec::with_capacity(truth.len());
    for t in truth {
        let size: u64 = overlap.iter().filter(|((a, _), _)| *a as u32 == t.id).map(|(_, c)| c).sum();
        let best = overlap
            .iter()
            .filter(|((a, b), _)| *a as u32 == t.id && *b != 0)
            .max_by(|(ka, ca), (kb, cb)| ca.cmp(cb).then(kb.1.cmp(&ka.1)))
            .map(|((_, b), c)| (*b as u32, *c));
        let matched = best.filter(|&(_, c)| size > 0 && c as f64 >= FOUND_FRACTION * size as f64);
        let m = matched.and_then(|(id, _)| by_id.get(&id).copied());
        lesions.push(TruthOutcome {
            id: t.id,
            region: t.region.clone(),
            volume_mm3: t.volume_mm3,
            matched: m.map(|l| l.id),
            reported_region: m.map(|l| l.region.clone()),
            centroid_error_mm: m
                .map(|l| (0..3).map(|a| (l.centroid_mm[a] - t.centroid_mm[a]).powi(2)).sum::<f64>().sqrt()),
            volume_ratio: m.map(|l| l.volume_mm3 / t.volume_mm3.max(f64::MIN_POSITIVE)),
        });
    }
    let touching: std::collections::HashSet<u16> =
        overlap.keys().filter(|(t, f)| *t != 0 && *f != 0).map(|(_, f)| *f).collect();
    let false_positive_lesions: Vec<FalsePositive> = found
        .iter()
        .filter(|l| !touching.contains(&(l.id as u16)))
        .map(|l| FalsePositive { id: l.id, region: l.region.clone(), volume_mm3: l.volume_mm3 })
        .collect();
    let found_n = lesions.iter().filter(|o| o.matched.is_some()).count();
    let headline: Vec<&TruthOutcome> = lesions.iter().filter(|o| o.volume_mm3 >= HEADLINE_MIN_MM3).collect();
    ScanScore {
        name: name.to_string(),
        true_lesions: truth.len(),
        reported_lesions: found.len(),
        found: found_n,
        true_headline: headline.len(),
        found_headline: headline.iter().filter(|o| o.matched.is_some()).count(),
        region_correct: lesions
            .iter()
            .filter(|o| o.matched.is_some() && o.reported_region.as_ref().is_some_and(|r| region_refines(r, &o.region)))
            .count(),
        bone_correct: lesions
            .iter()
            .filter(|o| o.matched.is_some() && o.reported_region.as_ref().is_some_and(|r| same_bone(r, &o.region)))
            .count(),
        false_positives: false_positive_lesions.len(),
        false_positive_lesions,
        dice: dice(n_both, n_truth, n_found),
        truth_voxels: n_truth,
        reported_voxels: n_found,
        overlap_voxels: n_both,
        lesions,
    }
}

impl Evaluation {
    /// `evaluation.json` text.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("evaluation serialises");
        s.push('\n');
        s
    }
}

/// Totals over many scans.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Scans scored.
    pub scans: usize,
    /// Scans without a true lesion (healthy controls).
    pub healthy_scans: usize,
    /// Scans whose run failed.
    pub failed_scans: usize,
    /// Found / true, all sizes.
    pub sensitivity: f64,
    /// Found / true, lesions of at least [`HEADLINE_MIN_MM3`].
    pub sensitivity_headline: f64,
    /// False positives per scan.
    pub false_positives_per_scan: f64,
    /// False positives per healthy control.
    pub false_positives_per_healthy: f64,
    /// Region correct / found.
    pub region_correct: f64,
    /// Bone correct / found.
    pub bone_correct: f64,
    /// Voxel Dice of all scans' lesion voxels pooled.
    pub dice_pooled: f64,
    /// Mean of the per-scan Dice over scans with true lesions.
    pub dice_mean: f64,
    /// Median centroid error of found lesions (mm).
    pub centroid_error_median_mm: f64,
    /// Median volume ratio of found lesions.
    pub volume_ratio_median: f64,
}

/// Dice of two sets from their overlap and sizes; 1 when both are empty.
pub(crate) fn dice(both: u64, a: u64, b: u64) -> f64 {
    if a + b == 0 {
        1.0
    } else {
        2.0 * both as f64 / (a + b) as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

impl Summary {
    /// Totals of a set of scores; `failed` scans count as scans with every lesion missed.
    pub fn of(scores: &[ScanScore], failed: usize) -> Summary {
        let sum = |f: fn(&ScanScore) -> usize| scores.iter().map(f).sum::<usize>();
        let healthy: Vec<&ScanScore> = scores.iter().filter(|s| s.true_lesions == 0).collect();
        let found: Vec<&TruthOutcome> =
            scores.iter().flat_map(|s| &s.lesions).filter(|o| o.matched.is_some()).collect();
        let pooled = |f: fn(&ScanScore) -> u64| scores.iter().map(f).sum::<u64>();
        let with_lesions: Vec<&ScanScore> = scores.iter().filter(|s| s.true_lesions > 0).collect();
        Summary {
            scans: scores.len() + failed,
            healthy_scans: healthy.len(),
            failed_scans: failed,
            sensitivity: ratio(sum(|s| s.found), sum(|s| s.true_lesions)),
            sensitivity_headline: ratio(sum(|s| s.found_headline), sum(|s| s.true_headline)),
            false_positives_per_scan: ratio(sum(|s| s.false_positives), scores.len()),
            false_positives_per_healthy: ratio(healthy.iter().map(|s| s.false_positives).sum(), healthy.len()),
            region_correct: ratio(sum(|s| s.region_correct), sum(|s| s.found)),
            bone_correct: ratio(sum(|s| s.bone_correct), sum(|s| s.found)),
            dice_pooled: dice(pooled(|s| s.overlap_voxels), pooled(|s| s.truth_voxels), pooled(|s| s.reported_voxels)),
            dice_mean: with_lesions.iter().map(|s| s.dice).sum::<f64>() / with_lesions.len().max(1) as f64,
            centroid_error_median_mm: median(found.iter().filter_map(|o| o.centroid_error_mm).collect()),
            volume_ratio_median: median(found.iter().filter_map(|o| o.volume_ratio).collect()),
        }
    }

    /// One line: the figures the accuracy targets name.
    pub fn line(&self) -> String {
        format!(
            "{} scans ({} healthy, {} failed): sensitivity {:.3} (>= 0.3 cm3: {:.3}), FP/scan {:.2}, FP/healthy {:.2}, \
             region correct {:.3}, bone correct {:.3}, Dice {:.3} (pooled) {:.3} (mean), centroid error median {:.2} mm, volume ratio median {:.2}",
            self.scans,
            self.healthy_scans,
            self.failed_scans,
            self.sensitivity,
            self.sensitivity_headline,
            self.false_positives_per_scan,
            self.false_positives_per_healthy,
            self.region_correct,
            self.bone_correct,
            self.dice_pooled,
            self.dice_mean,
            self.centroid_error_median_mm,
            self.volume_ratio_median
        )
    }
}

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
    let summary = Summary::of(&scans, failures.len());
    Ok(Evaluation { z_threshold: params.z_threshold, min_volume_mm3: params.min_volume_mm3, scans, failures, summary })
}

fn evaluate_one(dir: &Path, out: &Path, name: &str, params: &Params) -> Result<ScanScore> {
    let cfg = RunConfig {
        scan: dir.join("scan.nii.gz"),
        atlas: dir.join("atlas.nii.gz"),
        labels: Some(dir.join("labels.tsv")),
        out: out.to_path_buf(),
        params: params.clone(),
    };
    let (report, lesion_map) = pipeline::run_with_map(&cfg, &pipeline::Silent)?;
    let truth_path = dir.join("truth.json");
    let text = std::fs::read_to_string(&truth_path).map_err(|e| Error::io(&truth_path, e))?;
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
    Ok(score(name, &truth_map, &truth, &lesion_map, &report.lesions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesions::Intensity;
    use crate::volume::{Affine, Grid};

    fn lesion(id: u32, region: &str, centroid: [f64; 3], volume: f64) -> Lesion {
        Lesion {
            id,
            region: region.into(),
            bone_label: region.into(),
            bone: String::new(),
            bone_class: String::new(),
            vertebral_level: None,
            regions: vec![],
            side: "midline".into(),
            voxels: 0,
            volume_mm3: volume,
            fraction_of_region: 0.0,
            centroid_mm: centroid,
            centroid_voxel: [0.0; 3],
            peak_mm: [0.0; 3],
            bbox_voxel: [[0; 3]; 2],
            intensity: Intensity { mean: 0.0, max: 0.0, z_mean: 0.0, z_max: 0.0, ratio_to_reference: 0.0 },
        }
    }

    #[test]
    fn matching_rules() {
        let grid = Grid { dims: [20, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        // Truth: lesion 1 = voxels 0..10, lesion 2 = voxels 12..14 (small), lesion 3 = 16..20.
        let mut t = vec![0u16; 20];
        t[0..10].fill(1);
        t[12..14].fill(2);
        t[16..20].fill(3);
        // Found: A = 0..8 (region right), B = 9..10 plus 11 (touches truth 1, not its match),
        // C = 16..17 only: 1 of 4 voxels of lesion 3 (25% >= 10%: found, wrong region),
        // D = 18? no: D elsewhere is a false positive. Lesion 2 is missed.
        let mut f = vec![0u16; 20];
        f[0..8].fill(1);
        f[9..12].fill(2);
        f[16] = 3;
        let truth = vec![
            TruthLesion {
                id: 1,
                region: "a".into(),
                voxels: 10,
                volume_mm3: 400.0,
                centroid_mm: [4.5, 0.0, 0.0],
                ratio_to_marrow: None,
                shape: None,
            },
            TruthLesion {
                id: 2,
                region: "b".into(),
                voxels: 2,
                volume_mm3: 2.0,
                centroid_mm: [12.5, 0.0, 0.0],
                ratio_to_marrow: None,
                shape: None,
            },
            TruthLesion {
                id: 3,
                region: "c".into(),
                voxels: 4,
                volume_mm3: 4.0,
                centroid_mm: [17.5, 0.0, 0.0],
                ratio_to_marrow: None,
                shape: None,
            },
        ];
        let found = vec![
            lesion(1, "a", [3.5, 0.0, 0.0], 8.0),
            lesion(2, "x", [10.0, 0.0, 0.0], 3.0),
            lesion(3, "zz", [16.0, 0.0, 0.0], 1.0),
        ];
        let tm = Volume::from_vec(grid, t);
        let fm = Volume::from_vec(grid, f);
        let s = score("s", &tm, &truth, &fm, &found);
        assert_eq!((s.true_lesions, s.found, s.region_correct, s.false_positives), (3, 2, 1, 0));
        assert_eq!(s.lesions[0].matched, Some(1));
        assert_eq!(s.lesions[0].centroid_error_mm, Some(1.0));
        assert_eq!(s.lesions[0].volume_ratio, Some(8.0 / 400.0));
        assert_eq!(s.lesions[1].matched, None);
        assert_eq!(s.lesions[2].reported_region.as_deref(), Some("zz"));
        assert_eq!((s.true_headline, s.found_headline), (1, 1));
        // |T| = 16, |F| = 12, both = 8 + 1 + 1 = 10.
        assert!((s.dice - 20.0 / 28.0).abs() < 1e-12);
        // A reported lesion away from every true one is a false positive.
        let mut f2 = fm.clone();
        f2.data[15] = 4;
        let mut found2 = found.clone();
        found2.push(lesion(4, "q", [15.0, 0.0, 0.0], 1.0));
        assert_eq!(score("s", &tm, &truth, &f2, &found2).false_positives, 1);
        let sum = Summary::of(&[s], 0);
        assert!((sum.sensitivity - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(sum.region_correct, 0.5);
    }

    #[test]
    fn healthy_scan_without_findings_is_perfect() {
        let grid = Grid { dims: [4, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let z = Volume::filled(grid, 0u16);
        let s = score("h", &z, &[], &z, &[]);
        assert_eq!((s.false_positives, s.dice), (0, 1.0));
        let sum = Summary::of(&[s], 0);
        assert_eq!((sum.healthy_scans, sum.false_positives_per_healthy), (1, 0.0));
    }
}
