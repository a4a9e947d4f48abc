//! The fine marrow level: the normal marrow right around a voxel, a few millimetres across.
//!
//! Radiologists judge oedema against the marrow beside it: on the real sacroiliac STIR a
//! lesion is 1.3-1.9 times the marrow in a ring a few millimetres around it, while against
//! the region's one level (or the readers' own normal-marrow region) the same lesions lie
//! at 1.0-2.9. Subchondral marrow near a joint is darker than the middle of the bone, and
//! oedema there stands out against it and not against the bone as a whole.
//!
//! The level is a normalised convolution (a Gaussian-weighted mean that ignores what is not
//! marrow) of the marrow voxels of all bone, each voxel's value first capped at
//! [`FINE_CLIP`] times its coarse level (the region's level or the [`MarrowMap`](super::marrow_map::MarrowMap)'s),
//! so that a lesion lifts the level inside it only to that cap and stays
//! [`FINE_CLIP`] times above it where it is brighter. Voxels darker than
//! [`CORTEX_FRACTION`](super::local::CORTEX_FRACTION) of their coarse level are cortex and
//! carry no weight. The sums are kept on cells of about [`FINE_CELL_MM`] and read back by
//! trilinear interpolation: no full-size volume is made.

use super::local::CORTEX_FRACTION;
use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// A voxel counts in the fine level with its value capped at this multiple of its coarse
/// level, so that a lesion does not raise its own level above its coarse level times this.
pub const FINE_CLIP: f64 = 1.3;

/// Edge length (mm) of the cells on which the weighted sums are kept (whole voxels along each
/// axis, at least one).
pub const FINE_CELL_MM: f64 = 2.0;

/// Cells whose smoothed weight is under this many voxels have no fine level (no marrow near).
pub const MIN_FINE_WEIGHT: f32 = 0.5;

/// The fine level of a scan (see the module doc).
#[derive(Clone, Debug)]
pub struct FineLevel {
    /// Voxels per cell along each axis.
    cell: [usize; 3],
    /// Cells along each axis.
    cells: [usize; 3],
    /// Per cell, the smoothed sum of capped marrow values...
    sum: Vec<f32>,
    /// ... and of their weights.
    weight: Vec<f32>,
}

impl FineLevel {
    /// The fine level of `scan` over `atlas` with a Gaussian of `sigma_mm`; `coarse` gives a
    /// bone voxel's coarse level (`None` outside bone).
    pub fn new<L: Label>(
        scan: &Volume<f32>,
        atlas: &Volume<L>,
        sigma_mm: f64,
        coarse: impl Fn([usize; 3], L) -> f64 + Sync,
    ) -> FineLevel {
        let grid = &scan.grid;
        let spacing = grid.spacing();
        let cell = spacing.map(|s| ((FINE_CELL_MM / s).round() as usize).max(1));
        let cells = [0, 1, 2].map(|a| grid.dims[a].div_ceil(cell[a]));
        let (mut sum, mut weight) = cell_sums(scan, atlas, cell, cells, &coarse);
        let mut scratch = vec![0f32; sum.len()];
        for a in 0..3 {
            let sd = sigma_mm / (cell[a] as f64 * spacing[a]);
            smooth_axis(&mut sum, &mut scratch, cells, a, sd);
            smooth_axis(&mut weight, &mut scratch, cells, a, sd);
        }
        FineLevel { cell, cells, sum, weight }
    }

    /// The fine level at voxel `[i, j, k]`, if marrow lies near it.
    pub fn level(&self, ijk: [usize; 3]) -> Option<f64> {
        // Cell coordinates of the voxel's centre, cell centres at whole numbers.
        let at = [0, 1, 2].map(|a| {
            let u = (ijk[a] as f64 + 0.5) / self.cell[a] as f64 - 0.5;
            let u = u.clamp(0.0, (self.cells[a] - 1) as f64);
            let lo = u.floor() as usize;
            (lo, (lo + 1).min(self.cells[a] - 1), u - lo as f64)
        });
        let (mut s, mut w) = (0f64, 0f64);
        for (dz, wz) in [(at[2].0, 1.0 - at[2].2), (at[2].1, at[2].2)] {
            for (dy, wy) in [(at[1].0, 1.0 - at[1].2), (at[1].1, at[1].2)] {
                for (dx, wx) in [(at[0].0, 1.0 - at[0].2), (at[0].1, at[0].2)] {
                    let n = dx + self.cells[0] * (dy + self.cells[1] * dz);
                    let f = wx * wy * wz;
                    s += f * self.sum[n] as f64;
                    w += f * self.weight[n] as f64;
                }
            }
        }
        (w >= MIN_FINE_WEIGHT as f64).then(|| s / w)
    }
}

/// Per cell, the sum of the capped values of the marrow voxels in it and their number;
/// slabs of cells along k in parallel.
fn cell_sums<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    cell: [usize; 3],
    cells: [usize; 3],
    coarse: &(impl Fn([usize; 3], L) -> f64 + Sync),
) -> (Vec<f32>, Vec<f32>) {
    let [nx, ny, nz] = scan.grid.dims;
    let per_slab = cells[0] * cells[1];
    let slabs: Vec<(Vec<f32>, Vec<f32>)> = (0..cells[2])
        .into_par_iter()
        .map(|cz| {
            let (mut sum, mut weight) = (vec![0f32; per_slab], vec![0f32; per_slab]);
            for k in cz * cell[2]..((cz + 1) * cell[2]).min(nz) {
                for j in 0..ny {
                    let row = nx * (j + ny * k);
                    let Some((from, to)) = super::interior::bone_span(&atlas.data[row..row + nx]) else { continue };
                    for i in from..to {
                        let (l, x) = (atlas.data[row + i], scan.data[row + i]);
                        if l == L::default() || !x.is_finite() {
                            continue;
                        }
                        let c = coarse([i, j, k], l);
                        if (x as f64) < CORTEX_FRACTION as f64 * c {
                            continue;
                        }
                        let n = i / cell[0] + cells[0] * (j / cell[1]);
                        sum[n] += (x as f64).min(FINE_CLIP * c) as f32;
                        weight[n] += 1.0;
                    }
                }
            }
            (sum, weight)
        })
        .collect();
    let (mut sum, mut weight) = (Vec::with_capacity(per_slab * cells[2]), Vec::with_capacity(per_slab * cells[2]));
    for (s, w) in slabs {
        sum.extend(s);
        weight.extend(w);
    }
    (sum, weight)
}

/// Convolves `v` (laid out over `cells`, first axis fastest) along `axis` with a Gaussian of
/// `sd` cells, truncated at 3 sd, zero outside (a normalised convolution divides it out);
/// `scratch` (as long as `v`) is overwritten.
fn smooth_axis(v: &mut Vec<f32>, scratch: &mut Vec<f32>, cells: [usize; 3], axis: usize, sd: f64) {
    if sd < MIN_SMOOTHING_CELLS {
        return;
    }
    let r = (3.0 * sd).ceil() as isize;
    let w: Vec<f32> = (-r..=r).map(|d| (-0.5 * (d as f64 / sd).powi(2)).exp() as f32).collect();
    let stride = [1, cells[0], cells[0] * cells[1]][axis] as isize;
    let len = cells[axis] as isize;
    let src: &[f32] = v;
    scratch.par_iter_mut().enumerate().for_each(|(n, out)| {
        let t = (n as isize / stride) % len;
        let (from, to) = ((-r).max(-t), r.min(len - 1 - t));
        *out = (from..=to).map(|d| w[(d + r) as usize] * src[(n as isize + d * stride) as usize]).sum();
    });
    std::mem::swap(v, scratch);
}

/// Axes along which the Gaussian is narrower than this (cells) are not smoothed.
const MIN_SMOOTHING_CELLS: f64 = 0.1;

/// Cells of `grid` at `cell` voxels per cell (for tests).
#[cfg(test)]
fn cell_count(grid: &crate::volume::Grid, cell: [usize; 3]) -> usize {
    (0..3).map(|a| grid.dims[a].div_ceil(cell[a])).product()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    #[test]
    fn follows_darker_marrow_beside_a_lesion_and_caps_the_lesion() {
        // 0.6 mm in-plane: marrow 100 on the left half, 60 on the right; a bright lesion
        // (300) in the right half. The level near the lesion is about 60 (its ring), inside
        // it at most FINE_CLIP x the coarse level.
        let grid = Grid { dims: [120, 60, 6], affine: Affine::from_spacing_origin([0.6, 0.6, 3.3], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u8);
        let mut data = vec![0f32; grid.len()];
        for k in 0..6 {
            for j in 0..60 {
                for i in 0..120 {
                    let lesion = (85..95).contains(&i) && (25..35).contains(&j);
                    data[grid.index(i, j, k)] = if lesion {
                        300.0
                    } else if i < 60 {
                        100.0
                    } else {
                        60.0
                    };
                }
            }
        }
        let scan = Volume::from_vec(grid, data);
        let fine = FineLevel::new(&scan, &atlas, 3.0, |_, _| 80.0);
        let at = |i: usize, j: usize| fine.level([i, j, 3]).unwrap();
        assert!((at(20, 30) - 100.0).abs() < 2.0, "{}", at(20, 30));
        assert!((at(110, 5) - 60.0).abs() < 2.0, "{}", at(110, 5));
        assert!(at(90, 30) <= FINE_CLIP * 80.0 + 1e-3, "a lesion lifts its level only to the cap: {}", at(90, 30));
        assert!(300.0 / at(90, 30) > 2.8, "the lesion stands out: {}", at(90, 30));
        assert_eq!(cell_count(&grid, fine.cell), fine.sum.len());
    }

    #[test]
    fn cortex_and_background_carry_no_weight() {
        let grid = Grid { dims: [40, 40, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| u8::from(v % 40 >= 10)).collect());
        // Cortex (10) in a band next to marrow (100); outside the atlas 1000.
        let scan = Volume::from_vec(
            grid,
            (0..grid.len())
                .map(|v| match v % 40 {
                    0..=9 => 1000.0,
                    10..=13 => 10.0,
                    _ => 100.0,
                })
                .collect(),
        );
        let fine = FineLevel::new(&scan, &atlas, 4.0, |_, _| 100.0);
        let l = fine.level([12, 20, 2]).unwrap();
        assert!((l - 100.0).abs() < 1e-3, "{l}");
    }
}
