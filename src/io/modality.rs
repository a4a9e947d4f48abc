//! What the scan's intensities say about its modality, before anything is judged on them.
//!
//! The detector is calibrated on STIR MRI: its thresholds are ratios to the patient's own
//! marrow. A magnitude MR image has no negative intensities (a few, from interpolation or
//! a scanner's offset, at most), while a CT in Hounsfield units has its air, lungs and bowel
//! gas at about -1000 and its fat near -100: on a real TotalSegmentator CT of the pelvis or
//! abdomen a third of all voxels lie at or below [`CT_AIR_HU`]. On a CT a "lesion" is bright
//! bone (cortex, sclerosis), never oedema, and a ratio to marrow near 0 HU means nothing; the
//! run goes on (an atlas can be tried out on a CT), but the report says so.

use rayon::prelude::*;
use std::path::Path;

/// Intensities at or below this are air or lung in Hounsfield units; no MR magnitude image
/// goes this low.
pub const CT_AIR_HU: f32 = -500.0;

/// A scan with at least this share of its voxels at or below [`CT_AIR_HU`] looks like a CT.
pub const CT_AIR_SHARE: f64 = 0.05;

/// The share of the finite voxels of `data` at or below [`CT_AIR_HU`] (0 when none is finite).
pub fn air_share(data: &[f32]) -> f64 {
    let (air, finite) = data
        .par_chunks(1 << 20)
        .map(|c| {
            c.iter().fold((0usize, 0usize), |(a, n), &v| {
                (a + usize::from(v.is_finite() && v <= CT_AIR_HU), n + usize::from(v.is_finite()))
            })
        })
        .reduce(|| (0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    if finite == 0 {
        0.0
    } else {
        air as f64 / finite as f64
    }
}

/// The warnings that the scan at `path` with intensities `data` gives (empty for a STIR MR):
/// one line each, naming the file.
pub fn scan_warnings(path: &Path, data: &[f32]) -> Vec<String> {
    let share = air_share(data);
    if share < CT_AIR_SHARE {
        return Vec::new();
    }
    vec![format!(
        "{}: {:.0}% of the voxels are at or below {} (air in CT Hounsfield units): the scan looks like a CT, \
         and the detector is made for STIR MRI, so its lesions are bright bone, not oedema",
        path.display(),
        100.0 * share,
        CT_AIR_HU
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ct_like_volume_warns_and_an_mr_like_one_does_not() {
        // Air at -1000 in a tenth of the voxels, soft tissue and bone above.
        let ct: Vec<f32> = (0..10_000).map(|i| if i % 10 == 0 { -1000.0 } else { (i % 400) as f32 }).collect();
        assert!((air_share(&ct) - 0.1).abs() < 1e-9);
        let w = scan_warnings(Path::new("ct.nii.gz"), &ct);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("ct.nii.gz: 10% of the voxels"), "{}", w[0]);
        // An MR magnitude image with a few small negative values from interpolation.
        let mr: Vec<f32> = (0..10_000).map(|i| if i % 100 == 0 { -40.0 } else { (i % 900) as f32 }).collect();
        assert!(scan_warnings(Path::new("mr.nii.gz"), &mr).is_empty());
    }

    #[test]
    fn the_share_ignores_non_finite_voxels_and_the_threshold_is_inclusive() {
        let v = [CT_AIR_HU, f32::NAN, 0.0, f32::INFINITY, -2000.0];
        // Finite: -500, 0, -2000 (infinity is not finite); at or below -500: two of them.
        assert!((air_share(&v) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(air_share(&[f32::NAN; 4]), 0.0);
        assert_eq!(air_share(&[]), 0.0);
    }
}
