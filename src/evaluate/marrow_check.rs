//! The detector's normal-marrow level against the readers' own: where a dataset gives a
//! reference region of normal marrow (`normal_marrow.nii.gz`, as radiologists place one to
//! grade oedema against), the evaluation compares its median with the level the detector
//! measured for the same voxels' regions. The local detector's thresholds are ratios to that
//! level, so a level 10% under the readers' is a seed ratio 10% lower in their terms: the
//! check says, scan by scan, whether the detector's reference carries over.

use crate::error::{Error, Result};
use crate::io;
use crate::report::Marrow;
use crate::volume::{Grid, Volume};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

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

/// Compares `marrow` (the detector's levels by label of `atlas`) with the normal-marrow mask at
/// `mask_path`; `None` when no mask voxel lies in a measured region.
///
/// # Errors
/// The mask cannot be read, or lies on another grid than the scan (naming the mask).
pub fn check(
    mask_path: &Path,
    scan: &Volume<f32>,
    atlas: &Volume<u16>,
    marrow: &Marrow,
) -> Result<Option<MarrowCheck>> {
    let mask = io::read_labels(mask_path)?.volume;
    if !same_grid(&mask.grid, &scan.grid) {
        return Err(Error::Dataset {
            path: mask_path.to_path_buf(),
            message: format!("mask grid {:?} differs from the scan's grid {:?}", mask.grid.dims, scan.grid.dims),
        });
    }
    let level: HashMap<u32, f64> = marrow.regions.iter().map(|r| (r.label, r.marrow)).collect();
    let (mut values, mut levels) = (Vec::new(), Vec::new());
    for ((&m, &x), &l) in mask.data.iter().zip(&scan.data).zip(&atlas.data) {
        let Some(&lv) = level.get(&u32::from(l)) else { continue };
        if m != 0 && l != 0 && x.is_finite() {
            values.push(f64::from(x));
            levels.push(lv);
        }
    }
    if values.is_empty() {
        return Ok(None);
    }
    let (readers_median, detector_level) = (median(&mut values), median(&mut levels));
    Ok(Some(MarrowCheck {
        voxels: values.len(),
        readers_median,
        detector_level,
        ratio: detector_level / readers_median,
    }))
}

/// Whether two grids are the same within a thousandth of a mm (the masks' rule).
pub(super) fn same_grid(a: &Grid, b: &Grid) -> bool {
    a.dims == b.dims && a.affine.max_abs_diff(&b.affine) <= 1e-3
}

/// The median (the mean of the middle two for an even count) of a non-empty slice.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::WriteOptions;
    use crate::report::RegionMarrow;
    use crate::volume::Affine;

    fn grid(n: usize) -> Grid {
        Grid { dims: [n, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }
    }

    fn marrow(levels: &[(u32, f64)]) -> Marrow {
        let regions = levels
            .iter()
            .map(|&(label, marrow)| RegionMarrow { label, name: format!("r{label}"), voxels: 1, marrow })
            .collect();
        Marrow { method: "region_histogram_mode".into(), noise_sigma: 1.0, regions }
    }

    fn write_mask(dir: &Path, data: Vec<u8>) -> std::path::PathBuf {
        let p = dir.join("normal_marrow.nii.gz");
        let v = Volume { grid: grid(data.len()), data };
        std::fs::write(&p, io::encode(&v, &WriteOptions::labels(1), None, true)).unwrap();
        p
    }

    /// Against a hand count: the mask's voxels in measured bone, their median, and the median
    /// of their regions' levels; mask voxels outside bone, in an unmeasured region or NaN
    /// take no part.
    #[test]
    fn medians_over_the_mask_in_measured_bone() {
        let t = tempfile::tempdir().unwrap();
        let scan = Volume { grid: grid(7), data: vec![100.0, 200.0, 300.0, 400.0, f32::NAN, 900.0, 50.0] };
        let atlas = Volume { grid: grid(7), data: vec![1u16, 1, 2, 2, 2, 0, 3] };
        let mask = write_mask(t.path(), vec![1, 1, 1, 0, 1, 1, 1]);
        let c = check(&mask, &scan, &atlas, &marrow(&[(1, 150.0), (2, 330.0)])).unwrap().unwrap();
        // Voxels 0, 1, 2: intensities 100, 200, 300; levels 150, 150, 330.
        assert_eq!((c.voxels, c.readers_median, c.detector_level), (3, 200.0, 150.0));
        assert!((c.ratio - 0.75).abs() < 1e-12);
        // Scaling the scan and the levels alike leaves the ratio.
        let scaled = Volume { grid: scan.grid, data: scan.data.iter().map(|x| x * 7.0).collect() };
        let c7 = check(&mask, &scaled, &atlas, &marrow(&[(1, 1050.0), (2, 2310.0)])).unwrap().unwrap();
        assert!((c7.ratio - c.ratio).abs() < 1e-12);
        // No mask voxel in measured bone: no check.
        let none = write_mask(t.path(), vec![0, 0, 0, 0, 1, 1, 1]);
        assert_eq!(check(&none, &scan, &atlas, &marrow(&[(1, 150.0), (2, 330.0)])).unwrap(), None);
    }

    #[test]
    fn a_mask_on_another_grid_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let mask = write_mask(t.path(), vec![1, 1]);
        let scan = Volume { grid: grid(3), data: vec![1.0; 3] };
        let atlas = Volume { grid: grid(3), data: vec![1u16; 3] };
        let e = check(&mask, &scan, &atlas, &marrow(&[(1, 1.0)])).unwrap_err().to_string();
        assert!(e.contains("normal_marrow.nii.gz") && e.contains("grid"), "{e}");
    }
}
