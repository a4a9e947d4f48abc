//! The shape of a component (principal spreads in world mm) and the growth-plate test.

use super::chords::chords;
use crate::ccl;
use crate::volume::{Label, Volume};
use rayon::prelude::*;
/// Spread of a component's world positions: the standard deviations (mm) along its three
/// principal axes, smallest first. Each voxel counts as the uniform box it covers, so a
/// component one thick slice deep is as thick as that slice, not 0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shape {
    /// Principal standard deviations (mm), ascending.
    pub sd: [f64; 3],
    /// Unit world direction of the thinnest axis (sign arbitrary).
    pub thin_axis: [f64; 3],
    /// Unit world direction of the longest axis (sign arbitrary).
    pub long_axis: [f64; 3],
    /// Depth (mm) of one voxel along `thin_axis`: how thick a plate one voxel deep looks.
    pub voxel_depth: f64,
    /// The component's thickness read from its straight runs of voxels across it: the mean
    /// length (mm, over its voxels) of the run each voxel lies in along a fine voxel axis,
    /// times the cosine between that axis and `thin_axis` (a plate tilted to the axis is
    /// crossed obliquely), on the axis where that is least
    /// ([`Chords`](super::chords::Chords); 0 when not measured). A curved plate (a cap, a
    /// tent) is as thin by this measure as a flat one, where its spread along `thin_axis`
    /// takes in its curvature.
    pub chord: f64,
    /// The depth (mm) of one voxel along `thin_axis` as `chord`'s axis sees it: its spacing
    /// times the same cosine.
    pub chord_voxel: f64,
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

/// Largest angle (degrees) between a plate's thin axis and the axis it lies across.
pub const PLATE_TILT_DEG: f64 = 50.0;

/// How far (mm) a curved growth plate's rim lies from its apex along its thin axis, at most:
/// the proximal humeral physis is a tent whose apex stands about a centimetre above its rim,
/// the femoral head's a shallower cap. Its spread along that axis then reads as a thickness
/// of up to `hypot(limit, PLATE_CURVE_MM)`, a flat plate's limit combined with its depth
/// (the spread of a cap's heights adds to its own thickness's); a lesion fused with a plate
/// is thicker still.
pub const PLATE_CURVE_MM: f64 = 8.0;

/// World z: the axis that intervertebral discs and the physes of flat bones lie across.
pub const WORLD_Z: [f64; 3] = [0.0, 0.0, 1.0];

/// A growth plate or an intervertebral disc: thinner than `plate_mm` along its thinnest
/// axis, at least [`PLATE_ASPECT`] times as wide along the other two, and lying across its
/// bone (its thin axis within [`PLATE_TILT_DEG`] of world z or of `across`, the bone's long
/// axis for a tubular bone or a foot bone: [`plate_axes`]). A plate 1-3 mm thick seen
/// through 4-6 mm slices looks as thick as a slice or two, so the limit is `plate_mm` plus
/// the depth of one voxel along the thin axis ([`Shape::voxel_depth`]). Physes are bright discs
/// 1-3 mm thick across the whole bone (the calcaneal apophysis across the calcaneus, which
/// runs front to back), and a disc caught in a misregistered vertebra label is a slab of its
/// endplate; a lesion, or a lesion fused with the physis it touches, is thicker, and a lesion
/// that a flat bone (sternum, ilium, scapula) makes thin lies along the body, not across it.
///
/// A curved plate (the femoral head's physis is a cap bulging into the head, the proximal
/// humeral physis a tent) spreads along its thin axis by its curvature, several mm beyond its
/// own thickness; its runs of voxels across it stay short ([`Shape::chord`]). So where plates
/// may be `curved` (the tubular bones') a component is thin when either measure says so;
/// elsewhere (the spine, the pelvis, where a thin subchondral strip of oedema lines a joint)
/// only by its spread.
pub fn is_plate(shape: &Shape, plate_mm: f64, across: [f64; 3], curved: bool) -> bool {
    let cos = |axis: [f64; 3]| (0..3).map(|a| shape.thin_axis[a] * axis[a]).sum::<f64>().abs();
    let lies_across = cos(across).max(cos(WORLD_Z)) >= PLATE_TILT_DEG.to_radians().cos();
    let limit = plate_mm + shape.voxel_depth;
    let flat_thin = shape.thickness() < limit;
    let curved_thin = curved
        && shape.chord > 0.0
        && shape.chord < plate_mm + shape.chord_voxel
        && shape.thickness() < limit.hypot(PLATE_CURVE_MM);
    (flat_thin || curved_thin) && shape.sd[1] >= PLATE_ASPECT * shape.sd[0] && lies_across
}

/// Per label (index = label): the axis its growth plates lie across ([`is_plate`]). For the
/// labels of a tubular or foot bone (`tubular[label]`) that is the long axis of the whole
/// bone (all labels with its `bone_of` number together, so a femoral head region uses the
/// femur's axis, not its own round shape's); for the others world z.
pub fn plate_axes<L: Label>(atlas: &Volume<L>, bone_of: &[u32], tubular: &[bool]) -> Vec<[f64; 3]> {
    let labels = tubular.len();
    let bones = bone_of.iter().take(labels).max().map_or(0, |&b| b as usize + 1);
    let [nx, ny, nz] = atlas.grid.dims;
    let is_tubular = |l: L| l != L::default() && l.index() < labels && tubular[l.index()];
    let moments = (0..nz)
        .into_par_iter()
        .fold(
            || vec![Moments::default(); bones],
            |mut m, k| {
                for j in 0..ny {
                    let row = &atlas.data[nx * (j + ny * k)..nx * (j + ny * k + 1)];
                    let mut i = 0;
                    while i < nx {
                        let l = row[i];
                        let end = i + row[i..].iter().take_while(|&&x| x == l).count();
                        if is_tubular(l) {
                            m[bone_of[l.index()] as usize].add_run(j, k, i, end);
                        }
                        i = end;
                    }
                }
                m
            },
        )
        .reduce(
            || vec![Moments::default(); bones],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| x.merge(y));
                a
            },
        );
    (0..labels)
        .map(|l| if tubular[l] { moments[bone_of[l] as usize].shape(&atlas.grid).long_axis } else { WORLD_Z })
        .collect()
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

    /// Adds another set's moments.
    pub fn merge(&mut self, other: &Moments) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a += b);
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
        let thin_axis = eigenvector(w, ev[0]);
        // A voxel's edges are the affine's columns; its depth along u is the sum of their
        // projections on u.
        let voxel_depth = (0..3).map(|c| (0..3).map(|r| lin[r][c] * thin_axis[r]).sum::<f64>().abs()).sum();
        Shape {
            sd: ev.map(|x| x.max(0.0).sqrt()),
            thin_axis,
            long_axis: eigenvector(w, ev[2]),
            voxel_depth,
            chord: 0.0,
            chord_voxel: 0.0,
        }
    }
}

/// [`Shape`] of every component (index = component label; index 0 unused).
pub fn shapes(comps: &ccl::Components, grid: &crate::volume::Grid) -> Vec<Shape> {
    let mut m = vec![Moments::default(); comps.count + 1];
    let ny = grid.dims[1];
    comps.for_each_run(|row, run, c| m[c as usize].add_run(row % ny, row / ny, run.start as usize, run.end as usize));
    m.iter().zip(chords(comps)).map(|(e, c)| c.apply(e.shape(grid), grid)).collect()
}

/// [`Shape`] of a list of voxels: its spread only (its [`Shape::chord`] is not measured; a
/// seed core, the list this is for, is sparse, and its runs say nothing of its shape).
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
    fn a_curved_physis_is_a_plate_in_a_tubular_bone_only() {
        // 1 mm voxels: a spherical cap (sphere radius 17 mm, 2 mm thick, 14 mm rim radius)
        // bulging 7 mm along z, like a femoral head's physis.
        let grid = Grid { dims: [40, 40, 30], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let cap: Vec<bool> = (0..grid.len())
            .map(|v| {
                let [i, j, k] = grid.ijk(v).map(|c| c as f64);
                let (x, y, z) = (i - 20.0, j - 20.0, k - 5.0);
                let r = (x * x + y * y + (z - 17.0).powi(2)).sqrt();
                (15.0..17.0).contains(&r) && x * x + y * y <= 14.0 * 14.0 && z < 17.0
            })
            .collect();
        let shape = shapes(&comps_of(&cap, &grid), &grid)[1];
        assert!(shape.thickness() > 5.0, "its spread takes in the curvature: {shape:?}");
        assert!(shape.chord < 4.0, "its runs across it are short: {shape:?}");
        assert!(is_plate(&shape, 4.0, WORLD_Z, true), "{shape:?}");
        assert!(!is_plate(&shape, 4.0, WORLD_Z, false), "{shape:?}");
        // A lens-shaped lesion (an epiphysis filled with oedema: 12 x 12 x 4.5 mm half-axes)
        // lies across the bone too, but its runs across it are long.
        let lens: Vec<bool> = (0..grid.len())
            .map(|v| {
                let [i, j, k] = grid.ijk(v).map(|c| c as f64);
                ((i - 20.0) / 12.0).powi(2) + ((j - 20.0) / 12.0).powi(2) + ((k - 15.0) / 4.5).powi(2) <= 1.0
            })
            .collect();
        let lens = shapes(&comps_of(&lens, &grid), &grid)[1];
        assert!(lens.chord > 5.0 && !is_plate(&lens, 4.0, WORLD_Z, true), "{lens:?}");
        // The cap fused with a lesion beside it is thicker than any curved plate.
        let fused: Vec<bool> = (0..grid.len())
            .map(|v| {
                let [i, j, k] = grid.ijk(v).map(|c| c as f64);
                let ball = (i - 20.0).powi(2) + (j - 20.0).powi(2) + (k - 2.0).powi(2) <= 8.0 * 8.0;
                cap[v] || ball
            })
            .collect();
        let fused = shapes(&comps_of(&fused, &grid), &grid)[1];
        assert!(!is_plate(&fused, 4.0, WORLD_Z, true), "{fused:?}");
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
        assert!(is_plate(&physis, 4.0, WORLD_Z, false));
        // The limit is plate_mm plus one voxel's depth (1 mm here).
        assert!((physis.voxel_depth - 1.0).abs() < 1e-9, "{physis:?}");
        assert!(!is_plate(&physis, 0.9, WORLD_Z, false), "thicker than the limit");
        assert!(is_plate(&physis, 4.0, [0.0, 1.0, 0.0], false), "across the body still counts in any bone");
        // The same slab standing upright (a lesion in the sternum): thin along y.
        let upright = shape(&make(&|i, j, k| (5..25).contains(&i) && (14..16).contains(&j) && (5..25).contains(&k)));
        assert!(!is_plate(&upright, 4.0, WORLD_Z, false), "{upright:?}");
        assert!(is_plate(&upright, 4.0, [0.0, 1.0, 0.0], false), "across a bone running front to back");
        // A ball of radius 4: not thin.
        let ball = shape(&make(&|i, j, k| {
            let d = |a: usize| (a as f64 - 15.0).powi(2);
            d(i) + d(j) + d(k) <= 16.0
        }));
        assert!(ball.thickness() > 5.0 && !is_plate(&ball, 4.0, WORLD_Z, false), "{ball:?}");
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
