//! Candidate lesion voxels: the naive global threshold and the local detector.
//!
//! - [`Method::Global`] (the baseline): inside the atlas and z > `z_threshold`, with z taken
//!   against the median and MAD of all atlas voxels ([`crate::threshold`]).
//! - [`Method::Local`] ([`local_components`]): z is taken against each atlas region's own
//!   centre ([`region_references`]: a low quantile, so red and yellow marrow, station gain
//!   steps and coil bias cancel within a region) with one robust spread shared by all
//!   regions. Lesions grow by hysteresis from seeds well inside the atlas ([`interior`]), so
//!   bright structures that only touch the atlas edge (discs, CSF, a misregistered atlas)
//!   never seed a lesion; components shaped like a growth plate or a disc slab are dropped
//!   ([`is_plate`]); each lesion is cut to its half-maximum outline, which trims a physis or
//!   disc it touches off it.

use crate::ccl::{self, Connectivity};
use crate::reference::{BoneSamples, Reference, MAD_TO_SD};
use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// Which detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One z threshold against all bone (the naive baseline).
    Global,
    /// Region-wise z, hysteresis and an atlas-edge guard.
    Local,
}

impl Method {
    /// `"global"` or `"local"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Global => "global",
            Method::Local => "local",
        }
    }
}

/// Settings of [`Method::Local`].
#[derive(Clone, Debug, PartialEq)]
pub struct LocalParams {
    /// A lesion needs a voxel above this region-wise z (away from the atlas edge).
    pub seed_z: f64,
    /// Lesion voxels are those above this region-wise z connected to a seed.
    pub grow_z: f64,
    /// Seeds must lie at least this far (mm) inside the atlas.
    pub edge_mm: f64,
    /// Regions with fewer voxels use the whole-bone reference.
    pub min_region_voxels: usize,
    /// The shared spread is at least this fraction of the whole-bone median.
    pub spread_floor: f64,
    /// Components thinner than this (mm), 2.5 times as wide and across the body are growth plates
    /// (physes) and dropped; 0 turns the guard off.
    pub plate_mm: f64,
    /// A kept component keeps the voxels at least this fraction of the way from the centre of
    /// its peak's region up to its peak intensity (0.5: the lesion's half-maximum outline).
    pub peak_fraction: f64,
}

impl Default for LocalParams {
    fn default() -> LocalParams {
        LocalParams {
            seed_z: 7.5,
            grow_z: 6.0,
            edge_mm: 3.5,
            min_region_voxels: 200,
            spread_floor: 0.1,
            plate_mm: 4.0,
            peak_fraction: 0.5,
        }
    }
}

/// Robust centre and spread of one region.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionReference {
    /// Centre intensity (the [`CENTRE_QUANTILE`] of the region).
    pub median: f64,
    /// Robust standard deviation used for z (shared by all regions).
    pub sigma: f64,
}

/// Quantile of the region's intensities used as its centre: below the median so that a
/// lesion filling up to most of a small region does not lift its own reference.
pub const CENTRE_QUANTILE: f64 = 0.3;

/// Robust centre of every label's intensities (index = label) and one spread shared by all
/// regions: the MAD of every atlas voxel's deviation from its region's centre, floored at
/// `spread_floor` times the median centre. Labels with fewer than `min_region_voxels`
/// voxels take the whole-bone `fallback` centre.
pub fn region_references(samples: &BoneSamples, fallback: &Reference, p: &LocalParams) -> Vec<RegionReference> {
    let mut values = samples.by_label.clone();
    let centres: Vec<f64> = values
        .par_iter_mut()
        .map(|v| {
            if v.len() < p.min_region_voxels.max(1) {
                return fallback.median;
            }
            let q = ((v.len() - 1) as f64 * CENTRE_QUANTILE) as usize;
            *v.select_nth_unstable_by(q, f32::total_cmp).1 as f64
        })
        .collect();
    let mut dev: Vec<f32> = values
        .par_iter()
        .zip(&centres)
        .flat_map_iter(|(v, &c)| v.iter().map(move |&x| (x as f64 - c).abs() as f32))
        .collect();
    drop(values);
    let sigma = if dev.is_empty() {
        fallback.sigma()
    } else {
        let n = dev.len();
        MAD_TO_SD * *dev.select_nth_unstable_by(n / 2, f32::total_cmp).1 as f64
    };
    let sigma = sigma.max(p.spread_floor * fallback.median.abs()).max(f64::MIN_POSITIVE);
    centres.into_iter().map(|median| RegionReference { median, sigma }).collect()
}

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

/// The local detector's lesions: hysteresis from interior seeds over region-wise z with the
/// growth-plate guard ([`is_plate`]) on each seeded component; then each kept component is
/// cut to its half-maximum outline (voxels at least `peak_fraction` of the way from the
/// centre of its peak's region to its peak), which trims off a physis or a bright disc that a
/// lesion touches, and the pieces go through the seed and plate tests again. Works on
/// foreground runs only: no full-size mask or label volume is made.
pub fn local_components<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    refs: &[RegionReference],
    p: &LocalParams,
    conn: Connectivity,
) -> ccl::Components {
    let [nx, ..] = scan.grid.dims;
    let excess = |v: usize| scan.data[v] as f64 - refs[atlas.data[v].index()].median;
    let grow_excess: Vec<f64> = refs.iter().map(|r| p.grow_z * r.sigma).collect();
    let seeds =
        Seeds { scan, atlas, refs, seed_excess: refs.iter().map(|r| p.seed_z * r.sigma).collect(), edge_mm: p.edge_mm };
    let grown = ccl::label_rows(scan.grid.dims, conn, |row, runs| {
        let base = row * nx;
        ccl::push_runs(
            0,
            nx,
            |i| {
                let (v, l) = (base + i, atlas.data[base + i]);
                l != L::default() && scan.data[v].is_finite() && excess(v) > grow_excess[l.index()]
            },
            runs,
        )
    });
    let kept = seeds.keep(&grown, p.plate_mm);
    // Each kept component's peak (a high quantile of its intensities, so one noisy voxel does
    // not set it) and base (the centre of the region most of its brightest voxels lie in).
    let mut values: Vec<Vec<(f32, L)>> = vec![Vec::new(); kept.len()];
    grown.for_each_run(|row, run, c| {
        if kept[c as usize] {
            let at = row * nx;
            values[c as usize]
                .extend((run.start..run.end).map(|i| (scan.data[at + i as usize], atlas.data[at + i as usize])));
        }
    });
    let cut: Vec<f32> = values
        .par_iter_mut()
        .map(|x| {
            if x.is_empty() {
                return f32::INFINITY;
            }
            let q = ((x.len() - 1) as f64 * PEAK_QUANTILE).round() as usize;
            x.select_nth_unstable_by(q, |a, b| a.0.total_cmp(&b.0));
            let peak = x[q].0 as f64;
            let mut top: Vec<L> = x[q..].iter().map(|t| t.1).collect();
            top.sort_unstable();
            let label = top.chunk_by(|a, b| a == b).max_by_key(|run| run.len()).map_or(0, |run| run[0].index());
            let base = refs[label].median;
            (base + p.peak_fraction * (peak - base)) as f32
        })
        .collect();
    drop(values);
    let trimmed = ccl::label_rows(scan.grid.dims, conn, |row, runs| {
        let base = row * nx;
        for (run, c) in grown.row(row) {
            if kept[c as usize] {
                let cut = cut[c as usize];
                ccl::push_runs(run.start as usize, run.end as usize, |i| scan.data[base + i] >= cut, runs);
            }
        }
    });
    drop(grown);
    let kept = seeds.keep(&trimmed, p.plate_mm);
    trimmed.retain(|c| kept[c as usize])
}

/// The seed test: a voxel whose region-wise excess is above `seed_excess` of its region and
/// that lies `edge_mm` inside the atlas ([`interior`]).
struct Seeds<'a, L> {
    scan: &'a Volume<f32>,
    atlas: &'a Volume<L>,
    refs: &'a [RegionReference],
    seed_excess: Vec<f64>,
    edge_mm: f64,
}

impl<L: Label> Seeds<'_, L> {
    /// Which components to keep (index = label; 0, the background, false): those holding a
    /// seed and, when `plate_mm > 0`, not shaped like a growth plate. The interior is worked
    /// out only in a box around each component that has a bright enough voxel.
    fn keep(&self, comps: &ccl::Components, plate_mm: f64) -> Vec<bool> {
        let grid = &self.atlas.grid;
        let [nx, ny, _] = grid.dims;
        // Bright-enough voxels of each component, and the component's box.
        let mut bright: Vec<Vec<[usize; 3]>> = vec![Vec::new(); comps.count + 1];
        let mut boxes = vec![([usize::MAX; 3], [0usize; 3]); comps.count + 1];
        comps.for_each_run(|row, run, c| {
            let (j, k) = (row % ny, row / ny);
            let (lo, hi) = &mut boxes[c as usize];
            *lo = [lo[0].min(run.start as usize), lo[1].min(j), lo[2].min(k)];
            *hi = [hi[0].max(run.end as usize), hi[1].max(j + 1), hi[2].max(k + 1)];
            for i in run.start as usize..run.end as usize {
                let v = i + nx * row;
                let l = self.atlas.data[v].index();
                if l != 0 && self.scan.data[v] as f64 - self.refs[l].median > self.seed_excess[l] {
                    bright[c as usize].push([i, j, k]);
                }
            }
        });
        let margin = box_margin(grid.spacing(), self.edge_mm);
        let mut kept: Vec<bool> = bright
            .par_iter()
            .zip(&boxes)
            .map(|(vox, (lo, hi))| {
                if vox.is_empty() {
                    return false;
                }
                let lo = [0, 1, 2].map(|a| lo[a].saturating_sub(margin[a]));
                let hi = [0, 1, 2].map(|a| (hi[a] + margin[a]).min(grid.dims[a]));
                let inside = interior_in_box(self.atlas, lo, hi, self.edge_mm);
                let (bx, by) = (hi[0] - lo[0], hi[1] - lo[1]);
                vox.iter().any(|&[i, j, k]| inside[(i - lo[0]) + bx * ((j - lo[1]) + by * (k - lo[2]))])
            })
            .collect();
        kept[0] = false;
        if plate_mm > 0.0 {
            for (c, shape) in shapes(comps, grid).iter().enumerate().skip(1) {
                if kept[c] && is_plate(shape, plate_mm) {
                    kept[c] = false;
                }
            }
        }
        kept
    }
}

/// Quantile of a component's intensities taken as its peak.
pub const PEAK_QUANTILE: f64 = 0.95;

/// Spread of a component's world positions: the standard deviations (mm) along its three
/// principal axes, smallest first. Each voxel counts as the uniform box it covers, so a
/// component one thick slice deep is as thick as that slice, not 0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shape {
    /// Principal standard deviations (mm), ascending.
    pub sd: [f64; 3],
    /// Unit world direction of the thinnest axis (sign arbitrary).
    pub thin_axis: [f64; 3],
}

impl Shape {
    /// Thickness (mm) of the slab with the same spread along the thinnest axis
    /// (`sqrt(12)` standard deviations: exact for a uniform slab).
    pub fn thickness(&self) -> f64 {
        12f64.sqrt() * self.sd[0]
    }
}

/// Least ratio of a plate's middle principal spread to its thinnest.
pub const PLATE_ASPECT: f64 = 2.5;

/// Largest angle (degrees) between a plate's thin axis and the body's long (world z) axis.
pub const PLATE_TILT_DEG: f64 = 50.0;

/// A growth plate or an intervertebral disc: thinner than `plate_mm` along its thinnest
/// axis, at least [`PLATE_ASPECT`] times as wide along the other two, and lying across the
/// body (its thin axis within [`PLATE_TILT_DEG`] of world z). Physes are bright discs 1-3 mm thick across
/// the whole bone, and a disc caught in a misregistered vertebra label is a slab of its
/// endplate; a lesion, or a lesion fused with the physis it touches, is thicker, and a lesion
/// that a flat bone (sternum, ilium, scapula) makes thin lies along the body, not across it.
pub fn is_plate(shape: &Shape, plate_mm: f64) -> bool {
    shape.thickness() < plate_mm
        && shape.sd[1] >= PLATE_ASPECT * shape.sd[0]
        && shape.thin_axis[2].abs() >= PLATE_TILT_DEG.to_radians().cos()
}

/// [`Shape`] of every component (index = component label; index 0 unused).
pub fn shapes(comps: &ccl::Components, grid: &crate::volume::Grid) -> Vec<Shape> {
    // First and second moments in voxel coordinates, over each run's voxels.
    let mut m = vec![[0f64; 10]; comps.count + 1];
    let ny = grid.dims[1];
    comps.for_each_run(|row, run, c| {
        let (j, k) = ((row % ny) as f64, (row / ny) as f64);
        let (a, b) = (run.start as f64, run.end as f64);
        let n = b - a;
        // Sums of i and i^2 over a..b (half-open).
        let si = (a + b - 1.0) * n / 2.0;
        let sii = ((b - 1.0) * b * (2.0 * b - 1.0) - (a - 1.0) * a * (2.0 * a - 1.0)) / 6.0;
        let e = &mut m[c as usize];
        e[0] += n;
        e[1] += si;
        e[2] += n * j;
        e[3] += n * k;
        e[4] += sii;
        e[5] += n * j * j;
        e[6] += n * k * k;
        e[7] += si * j;
        e[8] += si * k;
        e[9] += n * j * k;
    });
    let a = grid.affine.0;
    let lin = [[a[0][0], a[0][1], a[0][2]], [a[1][0], a[1][1], a[1][2]], [a[2][0], a[2][1], a[2][2]]];
    m.iter()
        .map(|e| {
            if e[0] == 0.0 {
                return Shape::default();
            }
            let n = e[0];
            let mean = [e[1] / n, e[2] / n, e[3] / n];
            // Voxel-space covariance plus a unit box's own (1/12 per axis).
            let cov = |p: usize, q: usize, s: f64| s / n - mean[p] * mean[q];
            let v = [
                [cov(0, 0, e[4]) + 1.0 / 12.0, cov(0, 1, e[7]), cov(0, 2, e[8])],
                [cov(0, 1, e[7]), cov(1, 1, e[5]) + 1.0 / 12.0, cov(1, 2, e[9])],
                [cov(0, 2, e[8]), cov(1, 2, e[9]), cov(2, 2, e[6]) + 1.0 / 12.0],
            ];
            // World covariance L V L^T.
            let mut w = [[0f64; 3]; 3];
            for r in 0..3 {
                for c in 0..3 {
                    w[r][c] = (0..3).map(|p| (0..3).map(|q| lin[r][p] * v[p][q] * lin[c][q]).sum::<f64>()).sum();
                }
            }
            let ev = symmetric_eigenvalues(w);
            Shape { sd: ev.map(|x| x.max(0.0).sqrt()), thin_axis: eigenvector(w, ev[0]) }
        })
        .collect()
}

/// A unit eigenvector of the symmetric 3x3 matrix `a` for its eigenvalue `lambda`: the
/// longest cross product of two rows of `a - lambda I` (all rows are orthogonal to it).
/// Falls back to world z when `lambda` is repeated (any direction in that plane will do).
pub fn eigenvector(a: [[f64; 3]; 3], lambda: f64) -> [f64; 3] {
    let mut r = a;
    for (i, row) in r.iter_mut().enumerate() {
        row[i] -= lambda;
    }
    let cross =
        |u: [f64; 3], v: [f64; 3]| [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    let norm = |u: [f64; 3]| (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
    let best = [cross(r[0], r[1]), cross(r[0], r[2]), cross(r[1], r[2])]
        .into_iter()
        .max_by(|u, v| norm(*u).total_cmp(&norm(*v)))
        .expect("three candidates");
    let n = norm(best);
    if n <= 1e-12 * (1.0 + a.iter().flatten().map(|x| x * x).sum::<f64>()) {
        return [0.0, 0.0, 1.0];
    }
    best.map(|x| x / n)
}

/// Eigenvalues of a symmetric 3x3 matrix, ascending (the trigonometric closed form).
pub fn symmetric_eigenvalues(a: [[f64; 3]; 3]) -> [f64; 3] {
    let p1 = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
    let q = (a[0][0] + a[1][1] + a[2][2]) / 3.0;
    if p1 == 0.0 {
        let mut d = [a[0][0], a[1][1], a[2][2]];
        d.sort_by(f64::total_cmp);
        return d;
    }
    let p2 = (a[0][0] - q).powi(2) + (a[1][1] - q).powi(2) + (a[2][2] - q).powi(2) + 2.0 * p1;
    let p = (p2 / 6.0).sqrt();
    let mut b = a;
    for (i, row) in b.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (*x - if i == j { q } else { 0.0 }) / p;
        }
    }
    let det = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) - b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0])
        + b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0]);
    let phi = (det / 2.0).clamp(-1.0, 1.0).acos() / 3.0;
    let hi = q + 2.0 * p * phi.cos();
    let lo = q + 2.0 * p * (phi + 2.0 * std::f64::consts::PI / 3.0).cos();
    [lo, 3.0 * q - hi - lo, hi]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    fn local_mask(scan: &Volume<f32>, atlas: &Volume<u16>, refs: &[RegionReference], p: &LocalParams) -> Vec<bool> {
        local_components(scan, atlas, refs, p, Connectivity::Corners26).to_volume().iter().map(|&l| l != 0).collect()
    }

    /// The detector erodes only a box around each candidate: with the box margin, the box's
    /// interior agrees with the whole volume's on the voxels the box was grown from.
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

    #[test]
    fn seeds_must_be_inside_and_growth_keeps_the_whole_component() {
        // One line of 12 voxels, all atlas; region median 100, sigma 10. The line is 1 voxel
        // thick along j and k, so those voxels are 10 mm: the 2 mm edge guard acts along i only.
        let grid = Grid { dims: [12, 1, 1], affine: Affine::from_spacing_origin([1.0, 10.0, 10.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let refs = vec![RegionReference { median: 0.0, sigma: 1.0 }, RegionReference { median: 100.0, sigma: 10.0 }];
        let p = LocalParams { seed_z: 8.0, grow_z: 4.0, edge_mm: 2.0, ..LocalParams::default() };
        // A bright edge blob (0..2, z 10) never seeds; an inner lesion (5..8) seeds at 6 and
        // grows over 5..8 (z 5); 10 is bright but separate and unseeded... and at the edge.
        let mut v = vec![100.0f32; 12];
        v[0] = 200.0;
        v[1] = 200.0;
        v[5] = 150.0;
        v[6] = 190.0;
        v[7] = 150.0;
        v[10] = 190.0;
        let scan = Volume::from_vec(grid, v);
        let got = local_mask(&scan, &atlas, &refs, &p);
        let want: Vec<bool> = (0..12).map(|i| (5..8).contains(&i)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn region_references_use_a_low_quantile_centre_and_a_shared_spread() {
        // Region 1: 10 voxels 100..109 plus 4 bright lesion voxels; region 2: 10 voxels 50..59;
        // region 3: one voxel (falls back).
        let mut scan: Vec<f32> = (0..10).map(|i| 100.0 + i as f32).collect();
        scan.extend([400.0f32; 4]);
        scan.extend((0..10).map(|i| 50.0 + i as f32));
        scan.push(7.0);
        let mut atlas = vec![1u16; 14];
        atlas.extend([2u16; 10]);
        atlas.push(3);
        let samples = BoneSamples::gather(&scan, &atlas);
        let fb = Reference { method: "t".into(), median: 80.0, mad: 20.0, voxels: 25 };
        let p = LocalParams { min_region_voxels: 5, spread_floor: 0.0, ..LocalParams::default() };
        let r = region_references(&samples, &fb, &p);
        // 30% quantile: index 3 of 14 sorted in region 1, index 2 of 10 in region 2.
        assert_eq!((r[1].median, r[2].median, r[3].median), (103.0, 52.0, 80.0));
        assert_eq!(r[1].sigma, r[2].sigma);
        assert!(r[1].sigma > 0.0 && r[1].sigma < 20.0, "{}", r[1].sigma);
    }

    fn comps_of(mask: &[bool], grid: &Grid) -> ccl::Components {
        ccl::label(mask, grid.dims, Connectivity::Corners26)
    }

    #[test]
    fn eigen_decomposition_of_a_symmetric_matrix() {
        let a = [[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 1.0]];
        let ev = symmetric_eigenvalues(a);
        let want = [1.0, 3.5 - 0.5 * 5f64.sqrt(), 3.5 + 0.5 * 5f64.sqrt()];
        for (g, w) in ev.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{ev:?}");
        }
        let v = eigenvector(a, ev[0]);
        assert!((v[2].abs() - 1.0).abs() < 1e-9, "{v:?}");
        let v = eigenvector(a, ev[2]);
        let av = [4.0 * v[0] + v[1], v[0] + 3.0 * v[1], v[2]];
        for i in 0..3 {
            assert!((av[i] - ev[2] * v[i]).abs() < 1e-9);
        }
        assert_eq!(symmetric_eigenvalues([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]]), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn plates_across_the_body_are_growth_plates_and_blobs_or_upright_slabs_are_not() {
        // 1 x 1 x 1 mm voxels, 30^3.
        let grid = Grid { dims: [30, 30, 30], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let make = |f: &dyn Fn(usize, usize, usize) -> bool| {
            let mut m = vec![false; grid.len()];
            for k in 0..30 {
                for j in 0..30 {
                    for i in 0..30 {
                        m[grid.index(i, j, k)] = f(i, j, k);
                    }
                }
            }
            m
        };
        let shape = |m: &[bool]| shapes(&comps_of(m, &grid), &grid)[1];
        // A physis: 2 voxels thick along z, 20 x 20 across.
        let physis = shape(&make(&|i, j, k| (5..25).contains(&i) && (5..25).contains(&j) && (14..16).contains(&k)));
        assert!((physis.thickness() - 2.0).abs() < 0.05, "{physis:?}");
        assert!(physis.thin_axis[2].abs() > 0.99);
        assert!(is_plate(&physis, 4.0));
        assert!(!is_plate(&physis, 1.5), "thicker than the limit");
        // The same slab standing upright (a lesion in the sternum): thin along y.
        let upright = shape(&make(&|i, j, k| (5..25).contains(&i) && (14..16).contains(&j) && (5..25).contains(&k)));
        assert!(!is_plate(&upright, 4.0), "{upright:?}");
        // A ball of radius 4: not thin.
        let ball = shape(&make(&|i, j, k| {
            let d = |a: usize| (a as f64 - 15.0).powi(2);
            d(i) + d(j) + d(k) <= 16.0
        }));
        assert!(ball.thickness() > 5.0 && !is_plate(&ball, 4.0), "{ball:?}");
        // One voxel deep along a 5 mm axis counts as 5 mm thick, not 0.
        let g5 = Grid { dims: [30, 3, 30], affine: Affine::from_spacing_origin([1.0, 5.0, 1.0], [0.0; 3]) };
        let mut m = vec![false; g5.len()];
        for k in 5..25 {
            for i in 5..25 {
                m[g5.index(i, 1, k)] = true;
            }
        }
        let slice = shapes(&comps_of(&m, &g5), &g5)[1];
        assert!((slice.thickness() - 5.0).abs() < 0.05, "{slice:?}");
    }

    #[test]
    fn a_physis_touching_a_lesion_is_trimmed_off_and_a_lone_physis_dropped() {
        // 30 x 12 x 40 voxels of 1 x 1 x 1 mm, one region (centre 100, sigma 10). A physis
        // (200) spans i 0..30 at k 20..22; a lesion (500) sits on it at i 10..16, k 22..28; a
        // second physis far away at k 5..7 stands alone.
        let grid = Grid { dims: [30, 12, 40], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let mut scan = Volume::filled(grid, 100.0f32);
        for k in 0..40 {
            for j in 0..12 {
                for i in 0..30 {
                    let v = &mut scan.data[grid.index(i, j, k)];
                    if (20..22).contains(&k) || (5..7).contains(&k) {
                        *v = 200.0;
                    }
                    if (10..16).contains(&i) && (22..28).contains(&k) {
                        *v = 500.0;
                    }
                }
            }
        }
        let refs = vec![RegionReference { median: 0.0, sigma: 1.0 }, RegionReference { median: 100.0, sigma: 10.0 }];
        let p = LocalParams { seed_z: 8.0, grow_z: 6.0, edge_mm: 0.0, ..LocalParams::default() };
        let got = local_mask(&scan, &atlas, &refs, &p);
        for k in 0..40 {
            for i in 0..30 {
                let want = (10..16).contains(&i) && (22..28).contains(&k);
                assert_eq!(got[grid.index(i, 1, k)], want, "i {i} k {k}");
            }
        }
        // Without the half-maximum cut the physis stays fused to the lesion.
        let loose = LocalParams { peak_fraction: 0.0, ..p };
        let got = local_mask(&scan, &atlas, &refs, &loose);
        assert!(got[grid.index(0, 1, 20)] && !got[grid.index(0, 1, 5)]);
    }
}
