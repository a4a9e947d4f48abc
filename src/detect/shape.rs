//! The shape of a component (principal spreads in world mm) and the growth-plate test.

use crate::ccl;
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

/// First and second moments of a set of voxels (in voxel coordinates), from which its
/// [`Shape`] follows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Moments([f64; 10]);

impl Moments {
    /// Adds the voxels `a..b` (half-open) of row `j`, slice `k`.
    pub fn add_run(&mut self, j: usize, k: usize, a: usize, b: usize) {
        let (j, k, a, b) = (j as f64, k as f64, a as f64, b as f64);
        let n = b - a;
        // Sums of i and i^2 over a..b.
        let si = (a + b - 1.0) * n / 2.0;
        let sii = ((b - 1.0) * b * (2.0 * b - 1.0) - (a - 1.0) * a * (2.0 * a - 1.0)) / 6.0;
        let e = &mut self.0;
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
    }

    /// The set's principal spreads in world mm; the default shape for an empty set.
    pub fn shape(&self, grid: &crate::volume::Grid) -> Shape {
        let e = &self.0;
        if e[0] == 0.0 {
            return Shape::default();
        }
        let a = grid.affine.0;
        let lin = [[a[0][0], a[0][1], a[0][2]], [a[1][0], a[1][1], a[1][2]], [a[2][0], a[2][1], a[2][2]]];
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
    }
}

/// [`Shape`] of every component (index = component label; index 0 unused).
pub fn shapes(comps: &ccl::Components, grid: &crate::volume::Grid) -> Vec<Shape> {
    let mut m = vec![Moments::default(); comps.count + 1];
    let ny = grid.dims[1];
    comps.for_each_run(|row, run, c| m[c as usize].add_run(row % ny, row / ny, run.start as usize, run.end as usize));
    m.iter().map(|e| e.shape(grid)).collect()
}

/// [`Shape`] of a list of voxels.
pub fn shape_of_voxels(voxels: &[[usize; 3]], grid: &crate::volume::Grid) -> Shape {
    let mut m = Moments::default();
    for &[i, j, k] in voxels {
        m.add_run(j, k, i, i + 1);
    }
    m.shape(grid)
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
    use crate::ccl::Connectivity;
    use crate::volume::{Affine, Grid};

    fn comps_of(mask: &[bool], grid: &Grid) -> ccl::Components {
        ccl::label(mask, grid.dims, Connectivity::Corners26)
    }

    #[test]
    fn the_shape_of_a_voxel_list_is_the_shape_of_its_component() {
        let grid = Grid { dims: [12, 9, 7], affine: Affine::from_spacing_origin([0.8, 1.1, 4.0], [0.0; 3]) };
        let mut mask = vec![false; grid.len()];
        let mut voxels = Vec::new();
        for k in 1..5 {
            for j in 2..6 {
                for i in (k + 1)..(k + 6) {
                    mask[grid.index(i, j, k)] = true;
                    voxels.push([i, j, k]);
                }
            }
        }
        let a = shapes(&comps_of(&mask, &grid), &grid)[1];
        let b = shape_of_voxels(&voxels, &grid);
        for t in 0..3 {
            assert!((a.sd[t] - b.sd[t]).abs() < 1e-9 && (a.thin_axis[t].abs() - b.thin_axis[t].abs()).abs() < 1e-9);
        }
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
}
