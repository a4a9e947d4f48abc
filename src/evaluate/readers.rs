//! Scoring one mask against a reader's masks: the matching rules of the reader evaluation.
//!
//! The rules (those of `../shared/realdata/README.md`, which they reproduce exactly for the
//! sij-stir set: reader 2 finds 27 of reader 1's 39 lesions with 4 false positives, voxel Dice
//! 0.56 on average, 0.29-0.81 per subject):
//! - all masks are binary (any non-zero voxel is marked) and on the scan's grid; components are
//!   [`Rules::connectivity`]-connected (26 by default), for the truth and the tested mask alike
//!   (the detector's lesion map is read as one binary mask too);
//! - the **truth lesions** of reader r are the components of r's *first* session (the lowest
//!   session number) of at least [`Rules::min_volume_mm3`] (100 mm^3);
//! - a truth lesion is **found** when at least [`Rules::found_fraction`] (10%) of its voxels
//!   lie in the tested mask (any of its voxels, also those of components too small to count);
//!   exactly 10% counts as found;
//! - a **false positive** is a component of the tested mask of at least
//!   [`Rules::fp_min_volume_mm3`] (0 by default: every component, whatever its size) that
//!   touches no voxel of *any* of reader r's sessions (a finding that the reader marked only in
//!   the second session is not a false positive). Only this variant gives the README's 4: with
//!   the first session alone it is 5, and counting only components of at least 100 mm^3 it
//!   is 2;
//! - **voxel Dice** per subject compares the whole tested mask with the whole of reader r's
//!   first session (small components included; 1 when both are empty); over subjects it is
//!   reported as the mean of the per-subject values and pooled (all subjects' voxels summed).

use super::interval;
use crate::ccl::{self, Connectivity};
use serde::Serialize;

/// The matching rules' settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rules {
    /// Truth lesions are components of the truth reader's first session at least this large (mm^3).
    pub min_volume_mm3: f64,
    /// A truth lesion is found when at least this share of its voxels lies in the tested mask.
    pub found_fraction: f64,
    /// Components of the tested mask at least this large (mm^3) can be false positives.
    pub fp_min_volume_mm3: f64,
    /// Voxel connectivity of components (truth lesions and tested components).
    #[serde(serialize_with = "ser_conn")]
    pub connectivity: Connectivity,
}

fn ser_conn<S: serde::Serializer>(c: &Connectivity, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u32(c.count())
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            min_volume_mm3: 100.0,
            found_fraction: super::FOUND_FRACTION,
            fp_min_volume_mm3: 0.0,
            connectivity: Connectivity::Corners26,
        }
    }
}

/// One truth lesion's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionOutcome {
    /// Voxels of the truth lesion.
    pub voxels: u64,
    /// Its volume (mm^3).
    pub volume_mm3: f64,
    /// Centre of its voxels (voxel indices i, j, k).
    pub centroid_voxel: [f64; 3],
    /// Share of its voxels inside the tested mask.
    pub overlap_fraction: f64,
    /// Found (overlap fraction at least the rule's).
    pub found: bool,
}

/// A component of the tested mask touching none of the truth reader's sessions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FalsePositive {
    /// Its voxels.
    pub voxels: u64,
    /// Its volume (mm^3).
    pub volume_mm3: f64,
    /// Centre of its voxels (voxel indices i, j, k).
    pub centroid_voxel: [f64; 3],
}

/// One tested mask against one reader on one subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairScore {
    /// Truth lesions (components of the first session at least the minimum volume).
    pub lesions: usize,
    /// Of those, found.
    pub found: usize,
    /// Components of the tested mask counted as false positives.
    pub false_positives: usize,
    /// Components of the tested mask (all sizes).
    pub tested_components: usize,
    /// Voxel Dice of the tested mask and the truth's first session.
    pub dice: f64,
    /// Voxels of the truth's first session.
    pub truth_voxels: u64,
    /// Voxels of the tested mask.
    pub tested_voxels: u64,
    /// Voxels in both.
    pub overlap_voxels: u64,
    /// Every truth lesion, in raster order of their first voxel.
    pub lesion_outcomes: Vec<LesionOutcome>,
    /// Every false positive, in raster order of their first voxel.
    pub false_positive_lesions: Vec<FalsePositive>,
}

/// Voxels and voxel-index sums of each component of `mask` (index = label; 0 unused), and
/// the label volume.
fn components(mask: &[bool], dims: [usize; 3], conn: Connectivity) -> (Vec<u32>, Vec<(u64, [f64; 3])>) {
    let comps = ccl::label(mask, dims, conn);
    let mut stats = vec![(0u64, [0.0f64; 3]); comps.count + 1];
    let ny = dims[1];
    comps.for_each_run(|row, run, l| {
        let (j, k) = ((row % ny) as f64, (row / ny) as f64);
        let n = (run.end - run.start) as u64;
        let isum = (run.start as u64 + run.end as u64 - 1) as f64 * n as f64 / 2.0;
        let s = &mut stats[l as usize];
        s.0 += n;
        s.1[0] += isum;
        s.1[1] += j * n as f64;
        s.1[2] += k * n as f64;
    });
    (comps.to_volume(), stats)
}

fn centroid((n, sum): (u64, [f64; 3])) -> [f64; 3] {
    sum.map(|s| s / n.max(1) as f64)
}

/// Scores `tested` against a reader: `sessions[0]` is the reader's first session (the truth
/// lesions and the Dice), all sessions decide false positives. Masks are `i`-fastest volumes
/// of shape `dims` with voxels of `voxel_mm3`.
///
/// # Panics
/// When no session is given or a mask's length is not the grid's.
pub fn compare(sessions: &[&[bool]], tested: &[bool], dims: [usize; 3], voxel_mm3: f64, rules: &Rules) -> PairScore {
    let truth = sessions[0];
    let n: usize = dims.iter().product();
    assert!(truth.len() == n && tested.len() == n && sessions.iter().all(|s| s.len() == n), "masks on one grid");
    let (truth_labels, truth_stats) = components(truth, dims, rules.connectivity);
    let mut overlap = vec![0u64; truth_stats.len()];
    let (mut n_truth, mut n_tested, mut n_both) = (0u64, 0u64, 0u64);
    for ((&l, &t), &f) in truth_labels.iter().zip(truth).zip(tested) {
        n_truth += t as u64;
        n_tested += f as u64;
        if t && f {
            n_both += 1;
            overlap[l as usize] += 1;
        }
    }
    let lesion_outcomes: Vec<LesionOutcome> = (1..truth_stats.len())
        .filter(|&l| truth_stats[l].0 as f64 * voxel_mm3 >= rules.min_volume_mm3)
        .map(|l| {
            let voxels = truth_stats[l].0;
            // A quotient, not `overlap >= fraction * voxels`: 3 of 30 voxels is 0.1 exactly,
            // while 0.1 * 30 rounds to just above 3.
            let overlap_fraction = overlap[l] as f64 / voxels as f64;
            LesionOutcome {
                voxels,
                volume_mm3: voxels as f64 * voxel_mm3,
                centroid_voxel: centroid(truth_stats[l]),
                overlap_fraction,
                found: overlap_fraction >= rules.found_fraction,
            }
        })
        .collect();
    drop(truth_labels);
    let (tested_labels, tested_stats) = components(tested, dims, rules.connectivity);
    let mut touches = vec![false; tested_stats.len()];
    for (v, &l) in tested_labels.iter().enumerate() {
        if l != 0 && !touches[l as usize] && sessions.iter().any(|s| s[v]) {
            touches[l as usize] = true;
        }
    }
    let false_positive_lesions: Vec<FalsePositive> = (1..tested_stats.len())
        .filter(|&l| !touches[l] && tested_stats[l].0 as f64 * voxel_mm3 >= rules.fp_min_volume_mm3)
        .map(|l| FalsePositive {
            voxels: tested_stats[l].0,
            volume_mm3: tested_stats[l].0 as f64 * voxel_mm3,
            centroid_voxel: centroid(tested_stats[l]),
        })
        .collect();
    PairScore {
        lesions: lesion_outcomes.len(),
        found: lesion_outcomes.iter().filter(|o| o.found).count(),
        false_positives: false_positive_lesions.len(),
        tested_components: tested_stats.len() - 1,
        dice: super::dice(n_both, n_truth, n_tested),
        truth_voxels: n_truth,
        tested_voxels: n_tested,
        overlap_voxels: n_both,
        lesion_outcomes,
        false_positive_lesions,
    }
}

/// Totals of one comparison (a tested mask against one reader) over subjects.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agreement {
    /// What was tested: `detector`, or a reader (`R2`).
    pub tested: String,
    /// The reader taken as truth (`R1`).
    pub truth: String,
    /// Subjects scored (those with both masks).
    pub subjects: usize,
    /// Truth lesions.
    pub lesions: usize,
    /// Of those, found.
    pub found: usize,
    /// Found / lesions.
    pub sensitivity: f64,
    /// Its 95% confidence interval ([`interval::wilson`]; `null` without lesions).
    pub sensitivity_ci95: Option<[f64; 2]>,
    /// False positives.
    pub false_positives: usize,
    /// False positives per subject.
    pub false_positives_per_scan: f64,
    /// Its 95% confidence interval ([`interval::poisson_rate`]; `null` without subjects).
    pub false_positives_per_scan_ci95: Option<[f64; 2]>,
    /// Mean of the per-subject Dice.
    pub dice_mean: f64,
    /// Smallest per-subject Dice.
    pub dice_min: f64,
    /// Largest per-subject Dice.
    pub dice_max: f64,
    /// Dice of all subjects' voxels pooled.
    pub dice_pooled: f64,
}

impl Agreement {
    /// The totals of `scores` (one per subject).
    pub fn of(tested: &str, truth: &str, scores: &[&PairScore]) -> Agreement {
        let n = scores.len();
        let sum = |f: fn(&PairScore) -> u64| scores.iter().map(|s| f(s)).sum::<u64>();
        let lesions = sum(|s| s.lesions as u64) as usize;
        let found = sum(|s| s.found as u64) as usize;
        let fp = sum(|s| s.false_positives as u64) as usize;
        let dices: Vec<f64> = scores.iter().map(|s| s.dice).collect();
        Agreement {
            tested: tested.into(),
            truth: truth.into(),
            subjects: n,
            lesions,
            found,
            sensitivity: super::ratio(found, lesions),
            sensitivity_ci95: interval::wilson(found, lesions),
            false_positives: fp,
            false_positives_per_scan: super::ratio(fp, n),
            false_positives_per_scan_ci95: interval::poisson_rate(fp, n),
            dice_mean: if n == 0 { f64::NAN } else { dices.iter().sum::<f64>() / n as f64 },
            dice_min: dices.iter().copied().fold(f64::NAN, f64::min),
            dice_max: dices.iter().copied().fold(f64::NAN, f64::max),
            dice_pooled: if n == 0 {
                f64::NAN
            } else {
                super::dice(sum(|s| s.overlap_voxels), sum(|s| s.truth_voxels), sum(|s| s.tested_voxels))
            },
        }
    }

    /// `detector vs R1`.
    pub fn name(&self) -> String {
        format!("{} vs {}", self.tested, self.truth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: [usize; 3] = [40, 1, 1];

    /// A mask of `DIMS` with the half-open ranges `(start, end)` set.
    fn mask(ranges: &[(usize, usize)]) -> Vec<bool> {
        let mut m = vec![false; DIMS[0]];
        for &(a, b) in ranges {
            m[a..b].fill(true);
        }
        m
    }

    fn rules(min: f64) -> Rules {
        Rules { min_volume_mm3: min, ..Rules::default() }
    }

    #[test]
    fn found_at_exactly_ten_percent_and_not_below() {
        // One truth lesion of 30 voxels (1 mm^3 each); 3 of them (10.0%) are in the tested mask.
        let truth = mask(&[(0, 30)]);
        let s = compare(&[&truth], &mask(&[(27, 33)]), DIMS, 1.0, &rules(10.0));
        assert_eq!((s.lesions, s.found), (1, 1));
        assert_eq!(s.lesion_outcomes[0].overlap_fraction, 0.1);
        // 2 of 30 (6.7%) is a miss.
        let s = compare(&[&truth], &mask(&[(28, 33)]), DIMS, 1.0, &rules(10.0));
        assert_eq!((s.lesions, s.found), (1, 0));
        // Touching the truth, it is not a false positive either way.
        assert_eq!(s.false_positives, 0);
    }

    #[test]
    fn small_truth_components_are_not_lesions_but_count_for_dice() {
        // Truth: 0..20 (20 mm^3 at 1 mm^3) and 30..32 (2 mm^3); minimum 10 mm^3.
        let truth = mask(&[(0, 20), (30, 32)]);
        let tested = mask(&[(30, 32)]);
        let s = compare(&[&truth], &tested, DIMS, 1.0, &rules(10.0));
        assert_eq!((s.lesions, s.found, s.false_positives), (1, 0, 0));
        // Dice over all voxels: 2 * 2 / (22 + 2).
        assert!((s.dice - 4.0 / 24.0).abs() < 1e-12);
        // The voxel volume scales the minimum: at 0.4 mm^3 per voxel 20 voxels are 8 mm^3.
        assert_eq!(compare(&[&truth], &tested, DIMS, 0.4, &rules(10.0)).lesions, 0);
    }

    #[test]
    fn false_positive_touching_only_the_second_session_is_not_one() {
        let first = mask(&[(0, 10)]);
        let second = mask(&[(0, 10), (20, 25)]);
        // Tested components: 5..8 (touches the first session), 21..23 (only the second),
        // 30..31 (neither: a false positive, one voxel counts with the default minimum of 0).
        let tested = mask(&[(5, 8), (21, 23), (30, 31)]);
        let s = compare(&[&first, &second], &tested, DIMS, 1.0, &rules(5.0));
        assert_eq!((s.tested_components, s.false_positives), (3, 1));
        assert_eq!(s.false_positive_lesions[0].centroid_voxel, [30.0, 0.0, 0.0]);
        // With the first session alone the second component is a false positive too.
        assert_eq!(compare(&[&first], &tested, DIMS, 1.0, &rules(5.0)).false_positives, 2);
        // A minimum false-positive volume drops the one-voxel component.
        let r = Rules { fp_min_volume_mm3: 2.0, ..rules(5.0) };
        assert_eq!(compare(&[&first, &second], &tested, DIMS, 1.0, &r).false_positives, 0);
        // Dice is against the first session only: 2 * 3 / (10 + 6).
        assert!((s.dice - 6.0 / 16.0).abs() < 1e-12);
    }

    #[test]
    fn diagonal_neighbours_join_at_26_not_at_6() {
        let dims = [3, 3, 1];
        let truth = vec![true, false, false, false, true, false, false, false, true];
        let tested = vec![true, false, false, false, false, false, false, false, false];
        let s = compare(&[&truth], &tested, dims, 1.0, &rules(0.0));
        assert_eq!((s.lesions, s.found), (1, 1));
        let r6 = Rules { connectivity: Connectivity::Faces6, ..rules(0.0) };
        let s = compare(&[&truth], &tested, dims, 1.0, &r6);
        assert_eq!((s.lesions, s.found), (3, 1));
        assert_eq!(s.lesion_outcomes[1].centroid_voxel, [1.0, 1.0, 0.0]);
    }

    #[test]
    fn empty_masks_and_totals() {
        let empty = mask(&[]);
        let s = compare(&[&empty], &empty, DIMS, 1.0, &rules(1.0));
        assert_eq!((s.lesions, s.found, s.false_positives, s.dice), (0, 0, 0, 1.0));
        let a = compare(&[&mask(&[(0, 10)])], &mask(&[(0, 5), (20, 22)]), DIMS, 1.0, &rules(1.0));
        let b = compare(&[&mask(&[(0, 10)])], &mask(&[(0, 10)]), DIMS, 1.0, &rules(1.0));
        let t = Agreement::of("R2", "R1", &[&a, &b]);
        assert_eq!((t.subjects, t.lesions, t.found, t.false_positives), (2, 2, 2, 1));
        assert_eq!((t.sensitivity, t.false_positives_per_scan), (1.0, 0.5));
        // a: 2 * 5 / (10 + 7); b: 1; pooled 2 * 15 / (20 + 17).
        assert!((t.dice_mean - (10.0 / 17.0 + 1.0) / 2.0).abs() < 1e-12);
        assert!((t.dice_pooled - 30.0 / 37.0).abs() < 1e-12);
        assert_eq!((t.dice_min, t.dice_max), (10.0 / 17.0, 1.0));
        assert_eq!(t.name(), "R2 vs R1");
        assert!(Agreement::of("R2", "R1", &[]).dice_mean.is_nan());
    }
}
