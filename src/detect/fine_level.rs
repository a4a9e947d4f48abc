//! The fine marrow level: the normal marrow right around a voxel, a few millimetres across.
//!
//! Radiologists judge oedema against the marrow beside it: on the real sacroiliac STIR a
//! lesion is 1.3-1.9 times the marrow in a ring a few millimetres around it, while against
//! the region's one level (or the readers' own normal-marrow region) the same lesions lie
//! at 1.0-2.9. Subchondral marrow near a joint is darker than the middle of the bone, and
//! oedema there stands out against it and not against the bone as a whole.
//!
//! The level is a normalised convolution (a Gaussian-weighted mean that ignores what is not
//! marrow) of the normal-looking marrow voxels of all bone. Voxels brighter than
//! [`FINE_EXCLUDE`] times their coarse level (the region's level or the
//! [`MarrowMap`](super::marrow_map::MarrowMap)'s) are candidate oedema and carry no weight,
//! so that a lesion never lifts its own level: inside a large lesion the level comes from the
//! marrow around it, or, where none is near, is the coarse level. Voxels darker than
//! [`CORTEX_FRACTION`] of their coarse level are cortex and carry no weight either. The sums
//! are kept on cells of at least [`FINE_CELL_MM`], cut on the world lattice
//! ([`Grid::lattice`](crate::volume::Grid::lattice)) so that the storage order does not
//! matter, and read back by trilinear interpolation: no full-size volume is made.

use super::local::CORTEX_FRACTION;
use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// Voxels brighter than this multiple of their coarse level are candidate oedema, not
/// normal marrow, and carry no weight in the fine level. (It was a cap: such voxels counted
/// at this multiple, so that a large lesion at under about 1.95 times its marrow lifted its
/// own level out of reach of a 1.5 seed ratio; see docs/ACCURACY.md.)
pub const FINE_EXCLUDE: f64 = 1.3;

/// Least edge length (mm) of the cells on which the weighted sums are kept (whole voxels along
/// each axis, at least one): a 1.2 mm grid gets cells of three voxels, a 0.6 mm grid of five,
/// 3-6 mm slices one.
pub const FINE_CELL_MM: f64 = 3.0;

/// Cells whose smoothed weight is under this many voxels have no fine level (no marrow near).
pub const MIN_FINE_WEIGHT: f32 = 0.5;

/// The fine level of a scan (see the module doc).
#[derive(Clone, Debug)]
pub struct FineLevel {
    /// Per axis and voxel index along it: the two cells whose centres lie around the voxel
    /// and the weight of the second (cells are cut on the world lattice).
    around: [Vec<(u32, u32, f32)>; 3],
    /// Cells along each axis.
    cells: [usize; 3],
    /// Per cell (first axis fastest), the fine level, NaN where no marrow is near.
    level: Vec<f32>,
}

/// One row of voxels' view of a [`FineLevel`]: the cells' levels already blended across
/// the other two axes, so that a voxel costs one linear interpolation.
pub struct FineRow<'a> {
    fine: &'a FineLevel,
    /// Per cell along the row, the blended level times its weight, and the weight.
    cells: Vec<(f32, f32)>,
}

impl FineLevel {
    /// The fine level of `scan` over `atlas` with a Gaussian of `sigma_mm`; `coarse` gives a
    /// bone voxel's coarse level.
    pub fn new<L: Label>(
        scan: &Volume<f32>,
        atlas: &Volume<L>,
        sigma_mm: f64,
        coarse: impl Fn([usize; 3], L) -> f64 + Sync,
    ) -> FineLevel {
        let grid = &scan.grid;
        let spacing = grid.spacing();
        let Some((origin, end)) = atlas_box(atlas) else {
            let around = grid.dims.map(|n| vec![(0, 0, 0.0); n]);
            return FineLevel { around, cells: [1; 3], level: vec![f32::NAN] };
        };
        let cell = spacing.map(|s| ((FINE_CELL_MM / s - 1e-9).ceil() as i64).max(1));
        let lattice = grid.lattice();
        // Cells cut on the world lattice from the box's first lattice position, so that the
        // same voxels share a cell however the scan is stored.
        let first = [0, 1, 2].map(|a| lattice[a][origin[a]..end[a]].iter().copied().min().unwrap_or(0));
        let last = [0, 1, 2].map(|a| lattice[a][origin[a]..end[a]].iter().copied().max().unwrap_or(0));
        let cells = [0, 1, 2].map(|a| ((last[a] - first[a]).div_euclid(cell[a]) + 1) as usize);
        let offset = |a: usize, c: usize| (lattice[a][c] - first[a]).clamp(0, last[a] - first[a]);
        let bin =
            [0, 1, 2].map(|a| (0..grid.dims[a]).map(|c| offset(a, c).div_euclid(cell[a]) as u32).collect::<Vec<u32>>());
        let around = [0, 1, 2].map(|a| {
            (0..grid.dims[a])
                .map(|c| {
                    let u = (offset(a, c) as f64 + 0.5) / cell[a] as f64 - 0.5;
                    let u = u.clamp(0.0, (cells[a] - 1) as f64);
                    let lo = u.floor() as usize;
                    (lo as u32, (lo + 1).min(cells[a] - 1) as u32, (u - lo as f64) as f32)
                })
                .collect::<Vec<_>>()
        });
        let (mut sum, mut weight) = cell_sums(scan, atlas, (origin, end), &bin, cells, &coarse);
        let mut scratch = vec![0f32; sum.len()];
        for a in 0..3 {
            let sd = sigma_mm / (cell[a] as f64 * spacing[a]);
            smooth_axis(&mut sum, &mut scratch, cells, a, sd);
            smooth_axis(&mut weight, &mut scratch, cells, a, sd);
        }
        drop(scratch);
        sum.par_iter_mut().zip(&weight).for_each(|(s, &w)| *s = if w >= MIN_FINE_WEIGHT { *s / w } else { f32::NAN });
        FineLevel { around, cells, level: sum }
    }

    /// Along axis `a`, the two cells around voxel index `c` and the weight of the second.
    fn around(&self, a: usize, c: usize) -> (usize, usize, f32) {
        let (lo, hi, f) = self.around[a][c];
        (lo as usize, hi as usize, f)
    }

    /// The four cells around rows `j`, `k` across the first axis, with their bilinear weights.
    fn corners(&self, j: usize, k: usize) -> [(usize, usize, f32); 4] {
        let (y0, y1, fy) = self.around(1, j);
        let (z0, z1, fz) = self.around(2, k);
        [(y0, z0, (1.0 - fy) * (1.0 - fz)), (y1, z0, fy * (1.0 - fz)), (y0, z1, (1.0 - fy) * fz), (y1, z1, fy * fz)]
    }

    /// Cell `x` along the first axis blended over `corners`: the level times its weight, and
    /// the weight, over the cells that have a level.
    fn blend(&self, x: usize, corners: &[(usize, usize, f32); 4]) -> (f32, f32) {
        let (mut s, mut w) = (0f32, 0f32);
        for &(y, z, f) in corners {
            let v = self.level[x + self.cells[0] * (y + self.cells[1] * z)];
            if f > 0.0 && v.is_finite() {
                s += f * v;
                w += f;
            }
        }
        (s, w)
    }

    /// The view of the row of voxels `j`, `k` ([`FineRow::at`]).
    pub fn row(&self, j: usize, k: usize) -> FineRow<'_> {
        let corners = self.corners(j, k);
        FineRow { fine: self, cells: (0..self.cells[0]).map(|x| self.blend(x, &corners)).collect() }
    }

    /// The fine level at voxel `[i, j, k]`, if marrow lies near it (trilinear between cell
    /// centres, over the cells that have a level).
    pub fn level(&self, [i, j, k]: [usize; 3]) -> Option<f64> {
        let corners = self.corners(j, k);
        let (x0, x1, fx) = self.around(0, i);
        along_row(self.blend(x0, &corners), self.blend(x1, &corners), fx)
    }
}

impl FineRow<'_> {
    /// The fine level at voxel `i` of the row, if marrow lies near it.
    pub fn at(&self, i: usize) -> Option<f64> {
        let (x0, x1, fx) = self.fine.around(0, i);
        along_row(self.cells[x0], self.cells[x1], fx)
    }
}

/// The level between two blended cells (level times weight, weight), `fx` of the way to the
/// second; `None` where neither has marrow near.
fn along_row((s0, w0): (f32, f32), (s1, w1): (f32, f32), fx: f32) -> Option<f64> {
    let w = (1.0 - fx) * w0 + fx * w1;
    (w > 1e-6).then(|| (((1.0 - fx) * s0 + fx * s1) / w) as f64)
}

/// The bounding box of the atlas's labelled voxels (first and one-past-last index per axis).
fn atlas_box<L: Label>(atlas: &Volume<L>) -> Option<([usize; 3], [usize; 3])> {
    let [nx, ny, nz] = atlas.grid.dims;
    (0..nz)
        .into_par_iter()
        .filter_map(|k| {
            let mut b: Option<([usize; 3], [usize; 3])> = None;
            for j in 0..ny {
                let row = nx * (j + ny * k);
                if let Some((from, to)) = super::interior::bone_span(&atlas.data[row..row + nx]) {
                    let (lo, hi) = b.get_or_insert(([from, j, k], [to, j + 1, k + 1]));
                    *lo = [lo[0].min(from), lo[1].min(j), k];
                    *hi = [hi[0].max(to), hi[1].max(j + 1), k + 1];
                }
            }
            b
        })
        .reduce_with(|(a, b), (c, d)| ([0, 1, 2].map(|x| a[x].min(c[x])), [0, 1, 2].map(|x| b[x].max(d[x]))))
}

/// Per cell, the sum of the capped values of the marrow voxels in it and their number
/// (`bin`: each voxel index's cell along each axis; `bounds`: the atlas's box); slabs of
/// cells along k in parallel.
fn cell_sums<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    (origin, end): ([usize; 3], [usize; 3]),
    bin: &[Vec<u32>; 3],
    cells: [usize; 3],
    coarse: &(impl Fn([usize; 3], L) -> f64 + Sync),
) -> (Vec<f32>, Vec<f32>) {
    let [nx, ny, _] = scan.grid.dims;
    let per_slab = cells[0] * cells[1];
    let (mut sum, mut weight) = (vec![0f32; per_slab * cells[2]], vec![0f32; per_slab * cells[2]]);
    sum.par_chunks_mut(per_slab).zip(weight.par_chunks_mut(per_slab)).enumerate().for_each(|(cz, (sum, weight))| {
        for k in (origin[2]..end[2]).filter(|&k| bin[2][k] as usize == cz) {
            for j in origin[1]..end[1] {
                let row = nx * (j + ny * k);
                let Some((from, to)) = super::interior::bone_span(&atlas.data[row..row + nx]) else { continue };
                let line = cells[0] * bin[1][j] as usize;
                for (i, &cx) in bin[0].iter().enumerate().take(to).skip(from) {
                    let (l, x) = (atlas.data[row + i], scan.data[row + i]);
                    if l == L::default() || !x.is_finite() {
                        continue;
                    }
                    let c = coarse([i, j, k], l);
                    let x64 = x as f64;
                    if x64 < CORTEX_FRACTION as f64 * c || x64 > FINE_EXCLUDE * c {
                        continue;
                    }
                    let n = cx as usize + line;
                    sum[n] += x;
                    weight[n] += 1.0;
                }
            }
        }
    });
    (sum, weight)
}

/// Convolves `v` (laid out over `cells`, first axis fastest) along `axis` with a Gaussian of
/// `sd` cells, truncated at 3 sd, zero outside (a normalised convolution divides it out);
/// `scratch` (as long as `v`) is overwritten.
fn smooth_axis(v: &mut Vec<f32>, scratch: &mut Vec<f32>, cells: [usize; 3], axis: usize, sd: f64) {
    if sd < MIN_SMOOTHING_CELLS {
        return;
    }
    let r = (3.0 * sd).ceil() as usize;
    let w: Vec<f32> = (0..=2 * r).map(|d| (-0.5 * ((d as f64 - r as f64) / sd).powi(2)).exp() as f32).collect();
    let len = cells[axis];
    if axis == 0 {
        scratch.par_chunks_mut(len).zip(v.par_chunks(len)).with_min_len(LINES_PER_TASK).for_each(|(out, line)| {
            out.fill(0.0);
            // Most rows of cells of a whole-body scan hold no bone.
            if line.iter().all(|&x| x == 0.0) {
                return;
            }
            // Tap by tap over the whole line (vectorises): out[t] += w[d] line[t + d - r].
            for (d, &wd) in w.iter().enumerate() {
                // Output from `to`, input from `from`, `len - shift` taps.
                let (to, from, shift) = if d >= r { (0, d - r, d - r) } else { (r - d, 0, r - d) };
                if shift >= len {
                    continue;
                }
                let n = len - shift;
                for (y, &x) in out[to..to + n].iter_mut().zip(&line[from..from + n]) {
                    *y += wd * x;
                }
            }
        });
    } else {
        // Along j or k: each output is a contiguous block (a row of cells, or a slab) made
        // of the blocks around it along the axis, weighted: a loop the compiler vectorises.
        let inner = if axis == 1 { cells[0] } else { cells[0] * cells[1] };
        let src: &[f32] = v;
        // The taps of the kernel that stay inside a line of `len` at position `t`.
        let taps = |t: usize| t.saturating_sub(r)..(t + r + 1).min(len);
        scratch.par_chunks_mut(inner).enumerate().with_min_len(LINES_PER_TASK).for_each(|(q, out)| {
            let (outer, t) = (q / len, q % len);
            out.fill(0.0);
            for u in taps(t) {
                let from = &src[(outer * len + u) * inner..][..inner];
                let wu = w[u + r - t];
                for (y, &x) in out.iter_mut().zip(from) {
                    *y += wu * x;
                }
            }
        });
    }
    std::mem::swap(v, scratch);
}

/// Lines of cells smoothed by one task (a line is short: rayon's overhead would dominate).
const LINES_PER_TASK: usize = 256;

/// Axes along which the Gaussian is narrower than this (cells) are not smoothed.
const MIN_SMOOTHING_CELLS: f64 = 0.1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    #[test]
    fn follows_darker_marrow_beside_a_lesion_and_ignores_the_lesion() {
        // 0.6 mm in-plane: marrow 100 on the left half, 60 on the right; a bright lesion
        // (300) in the right half. The level near the lesion and inside it is the 60 of the
        // marrow around it: the lesion carries no weight.
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
        assert!((at(90, 30) - 60.0).abs() < 1e-3, "the lesion does not lift its own level: {}", at(90, 30));
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

    #[test]
    fn smoothing_matches_a_direct_convolution_on_lines_shorter_than_the_kernel() {
        for cells in [[2, 3, 1], [7, 1, 5], [1, 4, 9], [13, 6, 4]] {
            let n: usize = cells.iter().product();
            let v: Vec<f32> = (0..n).map(|x| ((x * 37) % 11) as f32).collect();
            for axis in 0..3 {
                let sd = 1.7;
                let (mut got, mut scratch) = (v.clone(), vec![0f32; n]);
                smooth_axis(&mut got, &mut scratch, cells, axis, sd);
                let r = (3.0 * sd).ceil() as isize;
                let stride = [1, cells[0], cells[0] * cells[1]][axis];
                for (q, &g) in got.iter().enumerate() {
                    let t = ((q / stride) % cells[axis]) as isize;
                    let want: f32 = (-r..=r)
                        .filter(|d| (0..cells[axis] as isize).contains(&(t + d)))
                        .map(|d| {
                            (-0.5 * (d as f64 / sd).powi(2)).exp() as f32
                                * v[(q as isize + d * stride as isize) as usize]
                        })
                        .sum();
                    assert!(
                        (g - want).abs() < 1e-4 * want.abs().max(1.0),
                        "{cells:?} axis {axis} at {q}: {g} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_row_view_gives_what_single_voxels_give() {
        // A bone with a hole (cells without marrow) and a gradient, on an odd grid inside a
        // larger scan (the cells cover the atlas's box only).
        let grid = Grid { dims: [37, 23, 9], affine: Affine::from_spacing_origin([0.7, 0.9, 3.0], [0.0; 3]) };
        let bone = |i: usize, j: usize, k: usize| {
            (3..33).contains(&i) && (2..20).contains(&j) && k >= 1 && !(i > 15 && i < 22 && j > 8)
        };
        let atlas = Volume::from_vec(
            grid,
            (0..grid.len()).map(|v| u8::from(bone(v % 37, (v / 37) % 23, v / (37 * 23)))).collect(),
        );
        let scan = Volume::from_vec(
            grid,
            (0..grid.len()).map(|v| 50.0 + (v % 37) as f32 + ((v * 7919) % 13) as f32).collect(),
        );
        let fine = FineLevel::new(&scan, &atlas, 2.5, |_, _| 60.0);
        for k in 0..9 {
            for j in 0..23 {
                let row = fine.row(j, k);
                for i in 0..37 {
                    match (row.at(i), fine.level([i, j, k])) {
                        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-3 * b, "{a} {b} at {i} {j} {k}"),
                        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{a:?} {b:?} at {i} {j} {k}"),
                    }
                }
            }
        }
    }

    #[test]
    fn the_level_does_not_depend_on_the_storage_order() {
        let grid = Grid { dims: [31, 22, 9], affine: Affine::from_spacing_origin([0.8, 1.1, 3.0], [-12.4, 7.7, 3.0]) };
        let bone = |v: usize| (v % 31 > 2 && v % 31 < 27 && (v / 31) % 22 > 1) as u16;
        let atlas = Volume::from_vec(grid, (0..grid.len()).map(bone).collect());
        let scan = Volume::from_vec(grid, (0..grid.len()).map(|v| 60.0 + ((v * 7919) % 97) as f32).collect());
        let fine = FineLevel::new(&scan, &atlas, 3.0, |_, _| 100.0);
        for code in ["LPS", "ASR", "PIL"] {
            let (s, a) = (scan.reoriented(code).unwrap(), atlas.reoriented(code).unwrap());
            let other = FineLevel::new(&s, &a, 3.0, |_, _| 100.0);
            for v in (0..grid.len()).step_by(7) {
                let w = grid.affine.voxel_to_world(grid.ijk(v).map(|x| x as f64));
                let r = s.grid.affine.world_to_voxel(w).unwrap().map(|x| x.round() as usize);
                match (fine.level(grid.ijk(v)), other.level(r)) {
                    (Some(x), Some(y)) => assert!((x - y).abs() < 1e-3 * x, "{code} voxel {v}: {x} {y}"),
                    (x, y) => assert_eq!(x.is_some(), y.is_some(), "{code} voxel {v}"),
                }
            }
        }
    }
}
