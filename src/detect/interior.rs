//! The atlas-edge guard: which atlas voxels lie at least some mm inside the atlas.

use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// Atlas runs at least this many voxels long along an axis lose their outermost voxel at each
/// end even where the margin is thinner than one voxel.
pub const THICK_RUN: usize = 4;

/// Erosion radius (voxels) along each axis for a margin of `mm`.
fn radii(spacing: [f64; 3], mm: f64) -> [usize; 3] {
    spacing.map(|step| (mm / step + 1e-9).floor() as usize)
}

/// Atlas voxels at least `mm` inside the atlas along every axis: a box erosion by
/// `floor(mm / spacing)` voxels per axis, so never by more than `mm`, except that where the
/// atlas is at least [`THICK_RUN`] voxels thick along an axis its outermost voxel at each end
/// never counts as inside (with `mm > 0`; 0 keeps every atlas voxel). So along 4-6 mm
/// slices a thin bone (sternum, a sacral wing: 2-3 slices) keeps every slice, while a thick
/// one (a vertebral body) loses the slices that a misregistered atlas pushes into the CSF or
/// soft tissue beside it.
///
/// The whole volume's interior; the detector computes it only around candidate lesions
/// ([`interior_in_box`]), which gives the same answer there.
pub fn interior<L: Label>(atlas: &Volume<L>, mm: f64) -> Vec<bool> {
    interior_in_box(atlas, [0; 3], atlas.grid.dims, mm)
}

/// [`interior`] within the box `lo..hi` (voxel indices, half-open), as a volume of the box's
/// shape. Exact where the box reaches at least [`box_margin`] voxels beyond the voxel along
/// every axis (or to the volume's edge): each axis's erosion looks no further than that.
pub fn interior_in_box<L: Label>(atlas: &Volume<L>, lo: [usize; 3], hi: [usize; 3], mm: f64) -> Vec<bool> {
    let [nx, ny, _] = atlas.grid.dims;
    let dims = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    let mut inside = Vec::with_capacity(dims.iter().product());
    for k in lo[2]..hi[2] {
        for j in lo[1]..hi[1] {
            let row = (j + ny * k) * nx;
            inside.extend(atlas.data[row + lo[0]..row + hi[0]].iter().map(|&l| l != L::default()));
        }
    }
    if mm <= 0.0 {
        return inside;
    }
    for (axis, r) in radii(atlas.grid.spacing(), mm).into_iter().enumerate() {
        inside = erode_axis(&inside, dims, axis, r, THICK_RUN);
    }
    inside
}

/// How far (voxels) the erosion for `mm` looks along each axis.
pub fn box_margin(spacing: [f64; 3], mm: f64) -> [usize; 3] {
    radii(spacing, mm).map(|r| r.max(THICK_RUN) + 1)
}

/// 1-D erosion along one axis: a voxel stays when the `r` voxels on each side along `axis`
/// are set (voxels beyond the volume count as unset), `r` being at least 1 within runs of at
/// least `thick` set voxels.
fn erode_axis(m: &[bool], dims: [usize; 3], axis: usize, r: usize, thick: usize) -> Vec<bool> {
    let stride = [1, dims[0], dims[0] * dims[1]][axis];
    let n = dims[axis];
    let mut out = vec![false; m.len()];
    let (mut fwd, mut line) = (vec![0usize; n], vec![false; n]);
    // Each line along `axis` starts at a voxel whose coordinate on `axis` is 0.
    for s in (0..m.len()).filter(|&v| (v / stride) % n == 0) {
        // Distance to the nearest unset voxel on either side, in one forward and one
        // backward sweep.
        let mut run = 0usize;
        for t in 0..n {
            line[t] = m[s + t * stride];
            run = if line[t] { run + 1 } else { 0 };
            fwd[t] = run;
        }
        run = 0;
        for t in (0..n).rev() {
            run = if line[t] { run + 1 } else { 0 };
            let rr = if run > 0 && fwd[t] + run > thick { r.max(1) } else { r };
            out[s + t * stride] = fwd[t] > rr && run > rr;
        }
    }
    out
}

/// The span `from..to` of a row's labelled voxels, or `None` for a row without any (most
/// rows of a whole-body scan).
pub fn bone_span<L: Label>(row: &[L]) -> Option<(usize, usize)> {
    let from = row.iter().position(|&l| l != L::default())?;
    let to = row.len() - row.iter().rev().position(|&l| l != L::default()).unwrap_or(0);
    Some((from, to))
}

/// Axes along which [`core_samples`] asks for a same-label neighbour: those sampled at most
/// this many times as coarsely as the finest axis (a 4-6 mm slice axis of a 1.5 mm in-plane
/// scan is left out, or a thin bone would have no core at all).
pub const CORE_AXIS_RATIO: f64 = 1.5;

/// The finite intensities of each label's *core* voxels (index = label, `labels` entries):
/// voxels whose two neighbours along every fine axis ([`CORE_AXIS_RATIO`]) carry the same
/// label. The outermost voxel layer of a bone is cortex and partial volume with the tissue
/// around it, darker than marrow; in a thin bone (fibula, rib, a child's metatarsal) it is
/// most of the voxels, and a marrow level taken over all of them lands on the cortex. The
/// order of each label's values depends on the thread pool (they feed histograms only).
pub fn core_samples<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>, labels: usize) -> Vec<Vec<f32>> {
    let [nx, ny, nz] = atlas.grid.dims;
    let spacing = atlas.grid.spacing();
    let finest = spacing.iter().cloned().fold(f64::INFINITY, f64::min);
    let axes = spacing.map(|s| s <= CORE_AXIS_RATIO * finest);
    let stride = [1, nx, nx * ny];
    (0..nz)
        .into_par_iter()
        .fold(
            || vec![Vec::new(); labels],
            |mut values: Vec<Vec<f32>>, k| {
                // Along a fine axis the first and last voxel have no core.
                if axes[2] && (k == 0 || k + 1 == nz) {
                    return values;
                }
                for j in 0..ny {
                    if axes[1] && (j == 0 || j + 1 == ny) {
                        continue;
                    }
                    let row = nx * (j + ny * k);
                    let here = &atlas.data[row..row + nx];
                    let Some((first, end)) = bone_span(here) else { continue };
                    let x = &scan.data[row..row + nx];
                    let (from, to) = if axes[0] { (first.max(1), end.min(nx - 1)) } else { (first, end) };
                    for i in from..to {
                        let l = here[i];
                        if l == L::default() || l.index() >= labels || !x[i].is_finite() {
                            continue;
                        }
                        let v = row + i;
                        let core = (0..3)
                            .all(|a| !axes[a] || (atlas.data[v - stride[a]] == l && atlas.data[v + stride[a]] == l));
                        if core {
                            values[l.index()].push(x[i]);
                        }
                    }
                }
                values
            },
        )
        .reduce(
            || vec![Vec::new(); labels],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| x.extend(y));
                a
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    /// The detector erodes only a box around each candidate: with the box margin, the box's
    /// interior agrees with the whole volume's on the voxels the box was grown from.
    #[test]
    fn core_samples_leave_out_the_outer_layer_along_fine_axes_only() {
        // A 5 x 5 x 5 block of label 2 in a 7 x 7 x 7 volume, each voxel's intensity its index.
        let cube = |spacing: [f64; 3]| {
            let grid = Grid { dims: [7, 7, 7], affine: Affine::from_spacing_origin(spacing, [0.0; 3]) };
            let inside = |v: usize| grid.ijk(v).iter().all(|&c| (1..6).contains(&c));
            let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| if inside(v) { 2u8 } else { 0 }).collect());
            let scan = Volume::from_vec(grid, (0..grid.len()).map(|v| v as f32).collect());
            (grid, core_samples(&scan, &atlas, 3))
        };
        let (grid, iso) = cube([1.0; 3]);
        assert_eq!(iso[2].len(), 27, "the inner 3 x 3 x 3");
        assert!(iso[2].iter().all(|&v| grid.ijk(v as usize).iter().all(|&c| (2..5).contains(&c))));
        assert!(iso[0].is_empty() && iso[1].is_empty());
        // 4 mm slices along k are not a fine axis: every slice of the inner 3 x 3 counts.
        let (_, slices) = cube([1.0, 1.0, 4.0]);
        assert_eq!(slices[2].len(), 45);
    }

    #[test]
    fn interior_in_a_box_matches_the_whole_volume_interior() {
        let grid = Grid { dims: [23, 19, 17], affine: Affine::from_spacing_origin([0.8, 1.3, 4.5], [0.0; 3]) };
        let mut state = 7u64;
        let mut below = move |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        // Blobby atlas: random boxes of label 1..3.
        let mut atlas = Volume::filled(grid, 0u16);
        for _ in 0..25 {
            let lo = [0, 1, 2].map(|a| below(grid.dims[a] as u64) as usize);
            let hi = [0, 1, 2].map(|a| (lo[a] + 1 + below(9) as usize).min(grid.dims[a]));
            let l = 1 + below(3) as u16;
            for k in lo[2]..hi[2] {
                for j in lo[1]..hi[1] {
                    for i in lo[0]..hi[0] {
                        atlas.data[grid.index(i, j, k)] = l;
                    }
                }
            }
        }
        for mm in [0.0, 1.0, 2.5, 3.5, 6.0] {
            let whole = interior(&atlas, mm);
            let margin = box_margin(grid.spacing(), mm);
            for _ in 0..40 {
                let c_lo = [0, 1, 2].map(|a| below(grid.dims[a] as u64) as usize);
                let c_hi = [0, 1, 2].map(|a| (c_lo[a] + 1 + below(5) as usize).min(grid.dims[a]));
                let lo = [0, 1, 2].map(|a| c_lo[a].saturating_sub(margin[a]));
                let hi = [0, 1, 2].map(|a| (c_hi[a] + margin[a]).min(grid.dims[a]));
                let part = interior_in_box(&atlas, lo, hi, mm);
                let (bx, by) = (hi[0] - lo[0], hi[1] - lo[1]);
                for k in c_lo[2]..c_hi[2] {
                    for j in c_lo[1]..c_hi[1] {
                        for i in c_lo[0]..c_hi[0] {
                            let b = (i - lo[0]) + bx * ((j - lo[1]) + by * (k - lo[2]));
                            assert_eq!(part[b], whole[grid.index(i, j, k)], "mm {mm} at {i} {j} {k}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn erosion_keeps_voxels_far_enough_from_the_edge() {
        let grid = Grid { dims: [9, 5, 3], affine: Affine::from_spacing_origin([1.0, 2.0, 5.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        // 2 mm: 2 voxels along i, 1 along j, 0 along k.
        let inside = interior(&atlas, 2.0);
        for k in 0..3 {
            for j in 0..5 {
                for i in 0..9 {
                    let want = (2..7).contains(&i) && (1..4).contains(&j);
                    assert_eq!(inside[grid.index(i, j, k)], want, "{i} {j} {k}");
                }
            }
        }
    }

    #[test]
    fn thick_atlas_runs_lose_their_outer_slices_and_thin_ones_keep_them() {
        // One line along j (5 mm slices): a 2 mm margin erodes nothing, but a run of 5 slices
        // loses its first and last; a run of 3 slices keeps all three; no margin, no erosion.
        let grid = Grid { dims: [1, 7, 1], affine: Affine::from_spacing_origin([10.0, 5.0, 10.0], [0.0; 3]) };
        let line = |rows: std::ops::Range<usize>| {
            Volume::from_vec(grid, (0..7).map(|j| rows.contains(&j) as u16).collect::<Vec<u16>>())
        };
        let got = |atlas: &Volume<u16>, mm| interior(atlas, mm).iter().map(|&b| b as u8).collect::<Vec<u8>>();
        assert_eq!(got(&line(1..6), 2.0), [0, 0, 1, 1, 1, 0, 0]);
        assert_eq!(got(&line(2..5), 2.0), [0, 0, 1, 1, 1, 0, 0]);
        assert_eq!(got(&line(1..6), 0.0), [0, 1, 1, 1, 1, 1, 0]);
    }
}
