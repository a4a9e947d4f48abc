//! The detector's normal-marrow level against the readers' own: where a dataset gives a
//! reference region of normal marrow (`normal_marrow.nii.gz`, as radiologists place one to
//! grade oedema against), the evaluation compares its median with the level the detector
//! measured for the same voxels' regions. The local detector's thresholds are ratios to that
//! level, so a level 10% under the readers' is a seed ratio 10% lower in their terms: the
//! check says, scan by scan, whether the detector's reference carries over.

use super::score::median;
use crate::report::Marrow;
use crate::volume::Volume;
use serde::Serialize;
use std::collections::HashMap;

/// One scan's check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarrowCheck {
    /// Voxels of the readers' normal-marrow region inside a region the detector measured, with
    /// a finite intensity.
    pub voxels: usize,
    /// The scan's median intensity over them.
    pub readers_median: f64,
    /// The median over the same voxels of the detector's marrow level of each one's region.
    pub detector_level: f64,
    /// `detector_level / readers_median`: 1 when the two references agree.
    pub ratio: f64,
}

/// Compares `marrow` (the detector's levels by label of `atlas`) with the normal-marrow
/// `mask` (on the scan's grid, [`super::dataset::read_mask`]); `None` when no mask voxel lies
/// in a measured region.
pub fn check(mask: &[bool], scan: &Volume<f32>, atlas: &Volume<u16>, marrow: &Marrow) -> Option<MarrowCheck> {
    let level: HashMap<u32, f64> = marrow.regions.iter().map(|r| (r.label, r.marrow)).collect();
    let (mut values, mut levels) = (Vec::new(), Vec::new());
    for ((&m, &x), &l) in mask.iter().zip(&scan.data).zip(&atlas.data) {
        if !m || l == 0 || !x.is_finite() {
            continue;
        }
        if let Some(&lv) = level.get(&u32::from(l)) {
            values.push(f64::from(x));
            levels.push(lv);
        }
    }
    let voxels = values.len();
    let (readers_median, detector_level) = (median(values), median(levels));
    (voxels > 0).then(|| MarrowCheck { voxels, readers_median, detector_level, ratio: detector_level / readers_median })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RegionMarrow;
    use crate::volume::{Affine, Grid};

    fn grid(n: usize) -> Grid {
        Grid { dims: [n, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }
    }

    fn marrow(levels: &[(u32, f64)]) -> Marrow {
        let regions = levels
            .iter()
            .map(|&(label, marrow)| RegionMarrow {
                label,
                name: format!("r{label}"),
                voxels: 1,
                marrow,
                seed_floor_ratio: None,
            })
            .collect();
        Marrow { method: "region_histogram_mode".into(), noise_sigma: 1.0, regions, noise_z_for_seed_ratio: None }
    }

    fn mask(bits: &[u8]) -> Vec<bool> {
        bits.iter().map(|&b| b != 0).collect()
    }

    /// Against a hand count: the mask's voxels in measured bone, their median, and the median
    /// of their regions' levels; mask voxels outside bone, in an unmeasured region or NaN
    /// take no part.
    #[test]
    fn medians_over_the_mask_in_measured_bone() {
        let scan = Volume { grid: grid(7), data: vec![100.0, 200.0, 300.0, 400.0, f32::NAN, 900.0, 50.0] };
        let atlas = Volume { grid: grid(7), data: vec![1u16, 1, 2, 2, 2, 0, 3] };
        let m = mask(&[1, 1, 1, 0, 1, 1, 1]);
        let c = check(&m, &scan, &atlas, &marrow(&[(1, 150.0), (2, 330.0)])).unwrap();
        // Voxels 0, 1, 2: intensities 100, 200, 300; levels 150, 150, 330.
        assert_eq!((c.voxels, c.readers_median, c.detector_level), (3, 200.0, 150.0));
        assert!((c.ratio - 0.75).abs() < 1e-12);
        // Scaling the scan and the levels alike leaves the ratio.
        let scaled = Volume { grid: scan.grid, data: scan.data.iter().map(|x| x * 7.0).collect() };
        let c7 = check(&m, &scaled, &atlas, &marrow(&[(1, 1050.0), (2, 2310.0)])).unwrap();
        assert!((c7.ratio - c.ratio).abs() < 1e-12);
        // No mask voxel in measured bone: no check.
        let none = mask(&[0, 0, 0, 0, 1, 1, 1]);
        assert_eq!(check(&none, &scan, &atlas, &marrow(&[(1, 150.0), (2, 330.0)])), None);
    }
}
