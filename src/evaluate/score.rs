//! Scoring detections against a phantom's ground truth.
//!
//! Matching rules (one pass over the two label volumes):
//! - a reported lesion is **on target** when at least [`ON_TARGET_FRACTION`] of its voxels lie
//!   in true lesions; one that is not is a **false positive**, whether or not it touches a
//!   true lesion (a component of red marrow many times a lesion's size that happens to take
//!   one in has not found it);
//! - a true lesion is **found** when at least [`FOUND_FRACTION`] of its voxels lie inside one
//!   reported lesion on target; its match is the one holding most of its voxels;
//! - a found lesion's **region is correct** when the matched lesion's `region` equals the
//!   truth's, or is a part of it when the truth's region is a whole bone (a clavicle's medial
//!   third in `clavicle_left`, [`crate::labels::region_refines`]); its **bone is correct**
//!   when both lie in the same bone and side;
//! - **voxel Dice** compares the union of true lesions with the union of reported ones;
//! - **centroid error** is the world distance between the true centroid and the match's;
//!   **volume ratio** is the match's volume over the true volume.

use super::interval;
use crate::labels::{region_refines, same_bone};
use crate::lesions::Lesion;
use crate::phantom::TruthLesion;
use crate::volume::Volume;
use serde::Serialize;
use std::collections::HashMap;

/// Share of a true lesion's voxels that one reported lesion must hold for it to be found.
pub const FOUND_FRACTION: f64 = 0.10;
/// Share of a reported lesion's voxels that must lie in true lesions for it to be on target:
/// able to find one, and no false positive.
pub const ON_TARGET_FRACTION: f64 = 0.10;
/// True lesions at least this large (mm^3) make up the headline sensitivity.
pub const HEADLINE_MIN_MM3: f64 = 300.0;

/// A lesion named by its id, region and volume: a reported lesion off target (under
/// [`ON_TARGET_FRACTION`] of it in true lesions), or a true lesion left unscored
/// ([`ScanScore::under_floor`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionBrief {
    /// Its id in the report or the truth.
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
    /// The true lesion's signal as a ratio to the marrow it replaced, where the phantom sets
    /// one (the broadened suites).
    pub ratio_to_marrow: Option<f64>,
}

/// Scores of one scan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanScore {
    /// Name of the scan (its folder).
    pub name: String,
    /// Number of true lesions scored (those of [`ScanScore::under_floor`] left out).
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
    /// Reported lesions off target (under [`ON_TARGET_FRACTION`] of them in true lesions).
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
    /// The reported lesions off target.
    pub false_positive_lesions: Vec<LesionBrief>,
    /// Foci the run set aside as equivocal (its report's `equivocal_foci`): not reported
    /// lesions, so neither found lesions nor false positives. [`score`] leaves it 0 for the
    /// caller that has the report to set.
    pub equivocal_foci: usize,
    /// True lesions smaller than the run's minimum lesion volume as drawn on the scan's grid:
    /// the run cannot report them, so they are listed here and not scored (as a reader's
    /// lesions under the minimum are not); a reported lesion on one is still on target.
    /// [`score`] leaves it empty for the caller that knows the minimum to set.
    pub under_floor: Vec<LesionBrief>,
}

/// Scores reported lesions (`found_map`, `found`) against the true lesions `truth`;
/// `truth_map` may hold more lesions than `truth` scores (a reported lesion on them is on
/// target all the same, see [`ScanScore::under_floor`]).
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
    let (overlap, [n_truth, n_found, n_both]) = overlap_counts(truth_map, found_map);
    let by_id: HashMap<u32, &Lesion> = found.iter().map(|l| (l.id, l)).collect();
    let targeted = on_target(&overlap);
    let lesions: Vec<TruthOutcome> = truth.iter().map(|t| outcome(t, &overlap, &targeted, &by_id)).collect();
    let false_positive_lesions: Vec<LesionBrief> = found
        .iter()
        .filter(|l| !targeted.contains(&(l.id as u16)))
        .map(|l| LesionBrief { id: l.id, region: l.region.clone(), volume_mm3: l.volume_mm3 })
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
        equivocal_foci: 0,
        under_floor: Vec::new(),
        dice: dice(n_both, n_truth, n_found),
        truth_voxels: n_truth,
        reported_voxels: n_found,
        overlap_voxels: n_both,
        lesions,
    }
}

/// Voxel counts per (truth id, reported id) pair (background with background left out),
/// and the voxels in truth, in reported lesions and in both.
fn overlap_counts(truth_map: &Volume<u16>, found_map: &Volume<u16>) -> (HashMap<(u16, u16), u64>, [u64; 3]) {
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
    (overlap, [n_truth, n_found, n_both])
}

/// How true lesion `t` fared: found when [`FOUND_FRACTION`] of its voxels lie in one reported
/// lesion on target (the one holding most of them; on ties the lower id).
fn outcome(
    t: &TruthLesion,
    overlap: &HashMap<(u16, u16), u64>,
    targeted: &std::collections::HashSet<u16>,
    by_id: &HashMap<u32, &Lesion>,
) -> TruthOutcome {
    let size: u64 = overlap.iter().filter(|((a, _), _)| *a as u32 == t.id).map(|(_, c)| c).sum();
    let best = overlap
        .iter()
        .filter(|((a, b), _)| *a as u32 == t.id && *b != 0 && targeted.contains(b))
        .max_by(|(ka, ca), (kb, cb)| ca.cmp(cb).then(kb.1.cmp(&ka.1)))
        .map(|((_, b), c)| (*b as u32, *c));
    let matched = best.filter(|&(_, c)| size > 0 && c as f64 >= FOUND_FRACTION * size as f64);
    let m = matched.and_then(|(id, _)| by_id.get(&id).copied());
    TruthOutcome {
        id: t.id,
        region: t.region.clone(),
        volume_mm3: t.volume_mm3,
        matched: m.map(|l| l.id),
        reported_region: m.map(|l| l.region.clone()),
        centroid_error_mm: m.map(|l| (0..3).map(|a| (l.centroid_mm[a] - t.centroid_mm[a]).powi(2)).sum::<f64>().sqrt()),
        volume_ratio: m.map(|l| l.volume_mm3 / t.volume_mm3.max(f64::MIN_POSITIVE)),
        ratio_to_marrow: t.ratio_to_marrow,
    }
}

/// The reported lesions on target: at least [`ON_TARGET_FRACTION`] of their voxels in true
/// lesions, from the (truth, reported) voxel counts.
fn on_target(overlap: &HashMap<(u16, u16), u64>) -> std::collections::HashSet<u16> {
    let mut share: HashMap<u16, (u64, u64)> = HashMap::new();
    for (&(t, f), &c) in overlap.iter().filter(|((_, f), _)| *f != 0) {
        let e = share.entry(f).or_insert((0, 0));
        e.0 += c;
        e.1 += if t != 0 { c } else { 0 };
    }
    share
        .into_iter()
        .filter(|&(_, (all, hit))| hit > 0 && hit as f64 >= ON_TARGET_FRACTION * all as f64)
        .map(|(f, _)| f)
        .collect()
}

/// Totals over many scans.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Scans scored.
    pub scans: usize,
    /// Scans without a true lesion (healthy controls).
    pub healthy_scans: usize,
    /// True lesions left unscored, under the minimum lesion volume ([`ScanScore::under_floor`]).
    pub lesions_under_floor: usize,
    /// Scans whose run failed.
    pub failed_scans: usize,
    /// Found / true, all sizes.
    pub sensitivity: f64,
    /// Its 95% confidence interval ([`interval::wilson`]; `null` without true lesions).
    pub sensitivity_ci95: Option<[f64; 2]>,
    /// Found / true, lesions of at least [`HEADLINE_MIN_MM3`].
    pub sensitivity_headline: f64,
    /// False positives per scan.
    pub false_positives_per_scan: f64,
    /// Its 95% confidence interval ([`interval::poisson_rate`]; `null` without a scored scan).
    pub false_positives_per_scan_ci95: Option<[f64; 2]>,
    /// False positives per healthy control.
    pub false_positives_per_healthy: f64,
    /// Foci set aside as equivocal per scan.
    pub equivocal_foci_per_scan: f64,
    /// Region correct / found.
    pub region_correct: f64,
    /// Bone correct / found.
    pub bone_correct: f64,
    /// Voxel Dice of all scans' lesion voxels pooled (NaN, `null` in JSON, when no scan was scored).
    pub dice_pooled: f64,
    /// Mean of the per-scan Dice over scans with true lesions (NaN, `null` in JSON, when there is none).
    pub dice_mean: f64,
    /// Median centroid error of found lesions (mm).
    pub centroid_error_median_mm: f64,
    /// Median volume ratio of found lesions.
    pub volume_ratio_median: f64,
    /// Sensitivity by the true lesions' signal ratio to marrow ([`RATIO_BANDS`]; empty when
    /// no true lesion has a ratio).
    pub sensitivity_by_ratio: Vec<RatioBand>,
}

/// Lower edges of the bands of lesion/marrow signal ratio that [`Summary`] breaks the
/// sensitivity down by (the last band is open): where a detector's misses lie, beside what
/// real oedema shows (ratios of about 1.1-2.4 on the real sacroiliac STIR).
pub const RATIO_BANDS: [f64; 4] = [0.0, 1.5, 2.0, 3.0];

/// The sensitivity over the true lesions whose ratio to marrow lies in `[from, to)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatioBand {
    /// Lower edge.
    pub from: f64,
    /// Upper edge (`None`: open).
    pub to: Option<f64>,
    /// True lesions in the band.
    pub lesions: usize,
    /// Of those, found.
    pub found: usize,
    /// Found / lesions.
    pub sensitivity: f64,
}

impl RatioBand {
    /// `<1.5`, `1.5-2`, `>=3`.
    pub fn name(&self) -> String {
        match self.to {
            _ if self.from <= 0.0 => format!("<{}", self.to.unwrap_or(f64::INFINITY)),
            Some(to) => format!("{}-{}", self.from, to),
            None => format!(">={}", self.from),
        }
    }
}

/// The [`RatioBand`]s of `outcomes` (none when no outcome has a ratio).
fn ratio_bands<'a>(outcomes: impl Iterator<Item = &'a TruthOutcome> + Clone) -> Vec<RatioBand> {
    if !outcomes.clone().any(|o| o.ratio_to_marrow.is_some()) {
        return Vec::new();
    }
    (0..RATIO_BANDS.len())
        .map(|b| {
            let (from, to) = (RATIO_BANDS[b], RATIO_BANDS.get(b + 1).copied());
            let inside = |o: &&TruthOutcome| o.ratio_to_marrow.is_some_and(|r| r >= from && to.map_or(true, |t| r < t));
            let lesions = outcomes.clone().filter(inside).count();
            let found = outcomes.clone().filter(inside).filter(|o| o.matched.is_some()).count();
            RatioBand { from, to, lesions, found, sensitivity: ratio(found, lesions) }
        })
        .collect()
}

/// Dice of two sets from their overlap and sizes; 1 when both are empty.
pub(crate) fn dice(both: u64, a: u64, b: u64) -> f64 {
    if a + b == 0 {
        1.0
    } else {
        2.0 * both as f64 / (a + b) as f64
    }
}

/// The median (the mean of the middle two for an even count); NaN for none.
pub(super) fn median(mut v: Vec<f64>) -> f64 {
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
        let healthy: Vec<&ScanScore> =
            scores.iter().filter(|s| s.true_lesions == 0 && s.under_floor.is_empty()).collect();
        let found: Vec<&TruthOutcome> =
            scores.iter().flat_map(|s| &s.lesions).filter(|o| o.matched.is_some()).collect();
        let pooled = |f: fn(&ScanScore) -> u64| scores.iter().map(f).sum::<u64>();
        let with_lesions: Vec<&ScanScore> = scores.iter().filter(|s| s.true_lesions > 0).collect();
        Summary {
            scans: scores.len() + failed,
            healthy_scans: healthy.len(),
            lesions_under_floor: scores.iter().map(|s| s.under_floor.len()).sum(),
            failed_scans: failed,
            sensitivity: ratio(sum(|s| s.found), sum(|s| s.true_lesions)),
            sensitivity_ci95: interval::wilson(sum(|s| s.found), sum(|s| s.true_lesions)),
            sensitivity_headline: ratio(sum(|s| s.found_headline), sum(|s| s.true_headline)),
            false_positives_per_scan: ratio(sum(|s| s.false_positives), scores.len()),
            false_positives_per_scan_ci95: interval::poisson_rate(sum(|s| s.false_positives), scores.len()),
            false_positives_per_healthy: ratio(healthy.iter().map(|s| s.false_positives).sum(), healthy.len()),
            equivocal_foci_per_scan: ratio(sum(|s| s.equivocal_foci), scores.len()),
            region_correct: ratio(sum(|s| s.region_correct), sum(|s| s.found)),
            bone_correct: ratio(sum(|s| s.bone_correct), sum(|s| s.found)),
            // No scan scored: no Dice (NaN, written as null), not the 1 of two empty sets.
            dice_pooled: match scores.len() {
                0 => f64::NAN,
                _ => dice(pooled(|s| s.overlap_voxels), pooled(|s| s.truth_voxels), pooled(|s| s.reported_voxels)),
            },
            dice_mean: match with_lesions.len() {
                0 => f64::NAN,
                n => with_lesions.iter().map(|s| s.dice).sum::<f64>() / n as f64,
            },
            centroid_error_median_mm: median(found.iter().filter_map(|o| o.centroid_error_mm).collect()),
            volume_ratio_median: median(found.iter().filter_map(|o| o.volume_ratio).collect()),
            sensitivity_by_ratio: ratio_bands(scores.iter().flat_map(|s| &s.lesions)),
        }
    }

    /// One line: the figures the accuracy targets name.
    pub fn line(&self) -> String {
        format!(
            "{} scans ({} healthy, {} failed): sensitivity {:.3} (95% CI {}; >= 0.3 cm3: {:.3}), FP/scan {:.2} (95% CI {}), \
             FP/healthy {:.2}, \
             equivocal foci/scan {:.2}, region correct {:.3}, bone correct {:.3}, Dice {:.3} (pooled) {:.3} (mean), centroid error median {:.2} mm, volume ratio median {:.2}",
            self.scans,
            self.healthy_scans,
            self.failed_scans,
            self.sensitivity,
            interval::format(self.sensitivity_ci95, 3),
            self.sensitivity_headline,
            self.false_positives_per_scan,
            interval::format(self.false_positives_per_scan_ci95, 2),
            self.false_positives_per_healthy,
            self.equivocal_foci_per_scan,
            self.region_correct,
            self.bone_correct,
            self.dice_pooled,
            self.dice_mean,
            self.centroid_error_median_mm,
            self.volume_ratio_median
        ) + &self.floor_line()
            + &self.ratio_line()
    }

    /// `; 2 true lesions under the minimum volume not scored`, or nothing.
    fn floor_line(&self) -> String {
        match self.lesions_under_floor {
            0 => String::new(),
            n => format!("; {n} true lesion{} under the minimum volume not scored", if n == 1 { "" } else { "s" }),
        }
    }

    /// `; sensitivity by lesion/marrow ratio: <1.5 3/26 (0.115), ...`, or nothing.
    fn ratio_line(&self) -> String {
        if self.sensitivity_by_ratio.is_empty() {
            return String::new();
        }
        let bands: Vec<String> = self
            .sensitivity_by_ratio
            .iter()
            .map(|b| format!("{} {}/{} ({:.3})", b.name(), b.found, b.lesions, b.sensitivity))
            .collect();
        format!("; sensitivity by lesion/marrow ratio: {}", bands.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    fn lesion(id: u32, region: &str, centroid: [f64; 3], volume: f64) -> Lesion {
        let l = Lesion::example(id, region);
        Lesion { bone: String::new(), voxels: 0, volume_mm3: volume, centroid_mm: centroid, ..l }
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
        // A reported lesion that takes in a whole true lesion but is mostly elsewhere (here
        // lesion 3's 4 voxels in 41: under a tenth) finds nothing and is a false positive.
        let wide_grid = Grid { dims: [60, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let wide_truth =
            Volume::from_vec(wide_grid, (0..60).map(|i| if (16..20).contains(&i) { 3 } else { 0 }).collect());
        let wide = |to: usize| Volume::from_vec(wide_grid, (0..60).map(|i| u16::from((16..to).contains(&i))).collect());
        let big = |to: usize| vec![lesion(1, "c", [30.0, 0.0, 0.0], (to - 16) as f64)];
        let s41 = score("s", &wide_truth, &truth[2..], &wide(57), &big(57));
        assert_eq!((s41.found, s41.false_positives), (0, 1));
        let s40 = score("s", &wide_truth, &truth[2..], &wide(56), &big(56));
        assert_eq!((s40.found, s40.false_positives), (1, 0), "4 voxels in 40: a tenth, on target");
        let sum = Summary::of(&[s], 0);
        assert!((sum.sensitivity - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(sum.region_correct, 0.5);
    }

    #[test]
    fn healthy_scan_without_findings_is_perfect() {
        let grid = Grid { dims: [4, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let z = Volume::filled(grid, 0u16);
        let s = score("h", &z, &[], &z, &[]);
        assert_eq!((s.false_positives, s.dice, s.equivocal_foci), (0, 1.0, 0));
        let sum = Summary::of(std::slice::from_ref(&s), 0);
        assert_eq!((sum.healthy_scans, sum.false_positives_per_healthy), (1, 0.0));
        // Foci set aside as equivocal are counted beside the false positives, not among them.
        let aside = ScanScore { equivocal_foci: 3, ..s.clone() };
        let sum = Summary::of(&[aside, s.clone()], 0);
        assert_eq!((sum.false_positives_per_scan, sum.equivocal_foci_per_scan), (0.0, 1.5));
        // A scan whose only lesions are under the minimum volume is not a healthy control.
        let tiny = LesionBrief { id: 1, region: "sacrum".into(), volume_mm3: 40.0 };
        let small = ScanScore { under_floor: vec![tiny], ..s };
        let sum = Summary::of(&[small], 0);
        assert_eq!((sum.healthy_scans, sum.lesions_under_floor, sum.sensitivity.is_nan()), (0, 1, true));
        assert!(sum.line().contains("; 1 true lesion under the minimum volume not scored"), "{}", sum.line());
    }

    #[test]
    fn sensitivity_is_broken_down_by_the_lesions_ratio_to_marrow() {
        let outcome = |ratio: Option<f64>, found: bool| TruthOutcome {
            id: 1,
            region: "sacrum".into(),
            volume_mm3: 500.0,
            matched: found.then_some(1),
            reported_region: None,
            centroid_error_mm: None,
            volume_ratio: None,
            ratio_to_marrow: ratio,
        };
        let v = [
            outcome(Some(1.2), false),
            outcome(Some(1.49), true),
            outcome(Some(1.5), true),
            outcome(Some(6.0), true),
            outcome(None, false),
        ];
        let bands = ratio_bands(v.iter());
        let got: Vec<(String, usize, usize)> = bands.iter().map(|b| (b.name(), b.found, b.lesions)).collect();
        assert_eq!(got, [("<1.5".into(), 1, 2), ("1.5-2".into(), 1, 1), ("2-3".into(), 0, 0), (">=3".into(), 1, 1)]);
        assert!(bands[2].sensitivity.is_nan());
        assert!(ratio_bands([outcome(None, true)].iter()).is_empty(), "no ratios, no bands");
    }
}
