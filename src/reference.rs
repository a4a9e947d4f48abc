//! Robust reference statistics of the patient's own bone marrow.
//!
//! The reference is the median and the median absolute deviation (MAD) of the scan's
//! intensities over every voxel inside the atlas (label != 0). Most of the skeleton is normal
//! marrow, so both statistics ignore the few bright lesion voxels. A voxel's z-score is
//! `(I - median) / (1.4826 * MAD)`; 1.4826 makes the MAD estimate the standard deviation of
//! normally distributed values.

use crate::volume::Label;
use rayon::prelude::*;
use serde::Serialize;

/// Scale that turns a MAD into a standard-deviation estimate for normal data.
pub const MAD_TO_SD: f64 = 1.4826;

/// Reference statistics of normal bone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reference {
    /// How the reference was taken (`"atlas_bone_median_mad"`).
    pub method: String,
    /// Median intensity of the reference voxels.
    pub median: f64,
    /// Median absolute deviation from that median.
    pub mad: f64,
    /// Number of reference voxels.
    pub voxels: usize,
}

impl Reference {
    /// Robust standard deviation, `1.4826 * MAD`.
    pub fn sigma(&self) -> f64 {
        MAD_TO_SD * self.mad
    }

    /// z-score of an intensity.
    pub fn z(&self, intensity: f64) -> f64 {
        (intensity - self.median) / self.sigma()
    }

    /// The intensity whose z-score equals `z`.
    pub fn intensity_at(&self, z: f64) -> f64 {
        self.median + z * self.sigma()
    }
}

/// Median of a slice, reordering it; the mean of the two middle values for even lengths.
fn median_in_place(v: &mut [f32]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (lower, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    let m = *m as f64;
    if n % 2 == 1 {
        m
    } else {
        let below = lower.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        (below + m) / 2.0
    }
}

/// The atlas's voxels, from one parallel pass over the scan and the atlas: what the
/// whole-bone reference, the region references, the label check and the region sizes need.
#[derive(Clone, Debug, PartialEq)]
pub struct BoneSamples {
    /// Voxel count of every label value (index = label; 0 is the background).
    pub hist: Vec<u64>,
    /// The finite intensities of each label's voxels (index = label; 0 is left empty).
    pub by_label: Vec<Vec<f32>>,
}

impl BoneSamples {
    /// Gathers the samples of `atlas` (non-zero labels) from `scan` on the same grid.
    pub fn gather<L: Label>(scan: &[f32], atlas: &[L]) -> BoneSamples {
        assert_eq!(scan.len(), atlas.len(), "scan and atlas on the same grid");
        let labels = L::MAX as usize + 1;
        const SLAB: usize = 1 << 22;
        let slabs: Vec<(Vec<u64>, Vec<Vec<f32>>)> = scan
            .par_chunks(SLAB)
            .zip(atlas.par_chunks(SLAB))
            .map(|(s, a)| {
                let (mut hist, mut values) = (vec![0u64; labels], vec![Vec::new(); labels]);
                for (&v, &l) in s.iter().zip(a) {
                    if l != L::default() {
                        hist[l.index()] += 1;
                        if v.is_finite() {
                            values[l.index()].push(v);
                        }
                    }
                }
                (hist, values)
            })
            .collect();
        let mut hist = vec![0u64; labels];
        for (h, _) in &slabs {
            hist.iter_mut().zip(h).for_each(|(a, b)| *a += b);
        }
        hist[0] = atlas.len() as u64 - hist[1..].iter().sum::<u64>();
        // Each label's values in voxel order (slab by slab).
        let by_label = (0..labels)
            .into_par_iter()
            .map(|l| {
                let mut v = Vec::with_capacity(slabs.iter().map(|s| s.1[l].len()).sum());
                slabs.iter().for_each(|s| v.extend_from_slice(&s.1[l]));
                v
            })
            .collect();
        BoneSamples { hist, by_label }
    }

    /// One past the largest label with a voxel (at least 1): how many labels the
    /// per-label tables of the detector need.
    pub fn labels_used(&self) -> usize {
        self.hist.iter().skip(1).rposition(|&n| n > 0).map_or(1, |l| l + 2)
    }

    /// Median and MAD of all the samples (every atlas voxel with a finite intensity), or
    /// `None` when there is none.
    pub fn reference(&self) -> Option<Reference> {
        let mut values: Vec<f32> = self.by_label.concat();
        if values.is_empty() {
            return None;
        }
        let median = median_in_place(&mut values);
        values.par_iter_mut().for_each(|v| *v = (*v as f64 - median).abs() as f32);
        let mad = median_in_place(&mut values);
        Some(Reference { method: "atlas_bone_median_mad".into(), median, mad, voxels: values.len() })
    }

    /// Atlas voxels (label != 0).
    pub fn atlas_voxels(&self) -> u64 {
        self.hist[1..].iter().sum()
    }
}

/// Median and MAD of the finite scan intensities at voxels where `atlas != 0`.
/// Returns `None` when there is no such voxel.
pub fn bone_reference<L: Label>(scan: &[f32], atlas: &[L]) -> Option<Reference> {
    BoneSamples::gather(scan, atlas).reference()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_of_bone_only() {
        let scan = [1.0, 2.0, 3.0, 4.0, 100.0, 7.0, f32::NAN, 50.0];
        let atlas = [1u8, 1, 1, 1, 1, 0, 2, 0];
        let r = bone_reference(&scan, &atlas).unwrap();
        assert_eq!(r.voxels, 5);
        assert_eq!(r.median, 3.0);
        // |x - 3| = 2, 1, 0, 1, 97 -> median 1.
        assert_eq!(r.mad, 1.0);
        assert!((r.z(3.0 + MAD_TO_SD * 2.0) - 2.0).abs() < 1e-12);
        assert!((r.intensity_at(4.0) - (3.0 + 4.0 * MAD_TO_SD)).abs() < 1e-12);
        let even = bone_reference(&[1.0, 2.0, 3.0, 10.0], &[1u8, 1, 1, 1]).unwrap();
        assert_eq!(even.median, 2.5);
        assert!(bone_reference(&[1.0], &[0u8]).is_none());
    }

    #[test]
    fn samples_count_every_label_and_keep_finite_intensities_by_label() {
        let s = BoneSamples::gather(&[1.0, 2.0, 3.0, f32::NAN, 5.0, 6.0], &[0u16, 0, 3, 3, 3, 65535]);
        assert_eq!((s.hist[0], s.hist[3], s.hist[65535], s.hist[1]), (2, 3, 1, 0));
        assert_eq!((s.by_label[3].clone(), s.by_label[65535].clone()), (vec![3.0, 5.0], vec![6.0]));
        assert!(s.by_label[0].is_empty());
        assert_eq!(s.atlas_voxels(), 4);
    }
}
