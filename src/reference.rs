//! Robust reference statistics of the patient's own bone marrow.
//!
//! The reference is the median and the median absolute deviation (MAD) of the scan's
//! intensities over every voxel inside the atlas (label != 0). Most of the skeleton is normal
//! marrow, so both statistics ignore the few bright lesion voxels. A voxel's z-score is
//! `(I - median) / (1.4826 * MAD)`; 1.4826 makes the MAD estimate the standard deviation of
//! normally distributed values.

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

/// Median and MAD of the finite scan intensities at voxels where `atlas != 0`.
/// Returns `None` when there is no such voxel.
pub fn bone_reference(scan: &[f32], atlas: &[u16]) -> Option<Reference> {
    const CHUNK: usize = 1 << 18;
    let parts: Vec<Vec<f32>> = scan
        .par_chunks(CHUNK)
        .zip(atlas.par_chunks(CHUNK))
        .map(|(s, a)| s.iter().zip(a).filter(|(v, &l)| l != 0 && v.is_finite()).map(|(v, _)| *v).collect())
        .collect();
    let mut values: Vec<f32> = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        values.extend_from_slice(&p);
    }
    if values.is_empty() {
        return None;
    }
    let median = median_in_place(&mut values);
    values.par_iter_mut().for_each(|v| *v = (*v as f64 - median).abs() as f32);
    let mad = median_in_place(&mut values);
    Some(Reference { method: "atlas_bone_median_mad".into(), median, mad, voxels: values.len() })
}

/// Number of voxels of each label value (index = label).
pub fn label_histogram(atlas: &[u16]) -> Vec<u64> {
    atlas
        .par_chunks(1 << 18)
        .fold(
            || vec![0u64; 1 << 16],
            |mut h, c| {
                for &l in c {
                    h[l as usize] += 1;
                }
                h
            },
        )
        .reduce(
            || vec![0u64; 1 << 16],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_of_bone_only() {
        let scan = [1.0, 2.0, 3.0, 4.0, 100.0, 7.0, f32::NAN, 50.0];
        let atlas = [1, 1, 1, 1, 1, 0, 2, 0];
        let r = bone_reference(&scan, &atlas).unwrap();
        assert_eq!(r.voxels, 5);
        assert_eq!(r.median, 3.0);
        // |x - 3| = 2, 1, 0, 1, 97 -> median 1.
        assert_eq!(r.mad, 1.0);
        assert!((r.z(3.0 + MAD_TO_SD * 2.0) - 2.0).abs() < 1e-12);
        assert!((r.intensity_at(4.0) - (3.0 + 4.0 * MAD_TO_SD)).abs() < 1e-12);
        let even = bone_reference(&[1.0, 2.0, 3.0, 10.0], &[1, 1, 1, 1]).unwrap();
        assert_eq!(even.median, 2.5);
        assert!(bone_reference(&[1.0], &[0]).is_none());
    }

    #[test]
    fn histogram_counts_labels() {
        let h = label_histogram(&[0, 0, 3, 3, 3, 65535]);
        assert_eq!((h[0], h[3], h[65535], h[1]), (2, 3, 1, 0));
    }
}
