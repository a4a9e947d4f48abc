//! Volumes on a voxel grid with a world (RAS+ millimetre) affine.
//!
//! Voxel order is settled once, at load: data are stored with `i` varying fastest, then `j`,
//! then `k` (NIfTI's on-disk order, Fortran order in ndarray terms). The linear index of voxel
//! `(i, j, k)` is `i + nx * (j + ny * k)`. Every volume carries its grid: the shape and the
//! 4x4 affine that maps voxel indices to RAS+ world millimetres (x toward the subject's right,
//! y toward anterior, z toward superior).

use ndarray::{ArrayView3, ShapeBuilder};

/// A 4x4 affine from voxel indices to RAS+ world millimetres, stored as rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine(pub [[f64; 4]; 4]);

impl Affine {
    /// A diagonal affine: voxel `(i, j, k)` maps to `origin + (i*sx, j*sy, k*sz)`.
    pub fn from_spacing_origin(spacing: [f64; 3], origin: [f64; 3]) -> Affine {
        let mut m = [[0.0; 4]; 4];
        for a in 0..3 {
            m[a][a] = spacing[a];
            m[a][3] = origin[a];
        }
        m[3][3] = 1.0;
        Affine(m)
    }

    /// World position (mm) of a (possibly fractional) voxel index.
    #[inline]
    pub fn voxel_to_world(&self, ijk: [f64; 3]) -> [f64; 3] {
        let m = &self.0;
        let mut out = [0.0; 3];
        for (r, o) in out.iter_mut().enumerate() {
            *o = m[r][0] * ijk[0] + m[r][1] * ijk[1] + m[r][2] * ijk[2] + m[r][3];
        }
        out
    }

    /// Voxel index (fractional) of a world position, or `None` if the affine is singular.
    pub fn world_to_voxel(&self, xyz: [f64; 3]) -> Option<[f64; 3]> {
        let inv = self.linear_inverse()?;
        let m = &self.0;
        let d = [xyz[0] - m[0][3], xyz[1] - m[1][3], xyz[2] - m[2][3]];
        let mut out = [0.0; 3];
        for (r, o) in out.iter_mut().enumerate() {
            *o = inv[r][0] * d[0] + inv[r][1] * d[1] + inv[r][2] * d[2];
        }
        Some(out)
    }

    fn linear(&self) -> [[f64; 3]; 3] {
        let m = &self.0;
        [[m[0][0], m[0][1], m[0][2]], [m[1][0], m[1][1], m[1][2]], [m[2][0], m[2][1], m[2][2]]]
    }

    /// Determinant of the 3x3 linear part.
    pub fn determinant(&self) -> f64 {
        let a = self.linear();
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    }

    fn linear_inverse(&self) -> Option<[[f64; 3]; 3]> {
        let a = self.linear();
        let det = self.determinant();
        if !det.is_finite() || det.abs() < 1e-12 {
            return None;
        }
        let c = |r0: usize, c0: usize, r1: usize, c1: usize| a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0];
        Some([
            [c(1, 1, 2, 2) / det, -c(0, 1, 2, 2) / det, c(0, 1, 1, 2) / det],
            [-c(1, 0, 2, 2) / det, c(0, 0, 2, 2) / det, -c(0, 0, 1, 2) / det],
            [c(1, 0, 2, 1) / det, -c(0, 0, 2, 1) / det, c(0, 0, 1, 1) / det],
        ])
    }

    /// The inverse transform (world mm -> voxel index), or `None` if the affine is singular.
    pub fn inverse(&self) -> Option<Affine> {
        let inv = self.linear_inverse()?;
        let t = self.voxel_to_world([0.0; 3]);
        let mut m = [[0.0; 4]; 4];
        for r in 0..3 {
            m[r][..3].copy_from_slice(&inv[r]);
            m[r][3] = -(inv[r][0] * t[0] + inv[r][1] * t[1] + inv[r][2] * t[2]);
        }
        m[3][3] = 1.0;
        Some(Affine(m))
    }

    /// Voxel size along each voxel axis in mm (the norms of the affine's columns).
    pub fn spacing(&self) -> [f64; 3] {
        let m = &self.0;
        let mut s = [0.0; 3];
        for (c, v) in s.iter_mut().enumerate() {
            *v = (m[0][c] * m[0][c] + m[1][c] * m[1][c] + m[2][c] * m[2][c]).sqrt();
        }
        s
    }

    /// Volume of one voxel in mm^3 (the absolute determinant of the linear part).
    pub fn voxel_volume_mm3(&self) -> f64 {
        self.determinant().abs()
    }

    /// Largest absolute difference between any two entries.
    pub fn max_abs_diff(&self, other: &Affine) -> f64 {
        let mut d: f64 = 0.0;
        for r in 0..4 {
            for c in 0..4 {
                d = d.max((self.0[r][c] - other.0[r][c]).abs());
            }
        }
        d
    }

    /// For each voxel axis, the world axis (0 = x, 1 = y, 2 = z) it runs most along and
    /// whether it runs toward the negative end of that world axis.
    pub fn axis_directions(&self) -> [(usize, bool); 3] {
        let m = &self.0;
        let mut out = [(0, false); 3];
        let mut used = [false; 3];
        // Assign greedily by the largest absolute component, so oblique grids still get a
        // permutation (each world axis used once).
        let mut cells: Vec<(f64, usize, usize)> = Vec::with_capacity(9);
        for (r, row) in m.iter().take(3).enumerate() {
            for (c, v) in row.iter().take(3).enumerate() {
                cells.push((v.abs(), r, c));
            }
        }
        cells.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut done = [false; 3];
        for (_, r, c) in cells {
            if done[c] || used[r] {
                continue;
            }
            done[c] = true;
            used[r] = true;
            out[c] = (r, m[r][c] < 0.0);
        }
        out
    }

    /// Orientation code in nibabel's convention: for each voxel axis the world direction it
    /// increases toward (`R`/`L`, `A`/`P`, `S`/`I`), e.g. `"RAS"` or `"LPS"`.
    pub fn axcodes(&self) -> String {
        self.axis_directions()
            .iter()
            .map(|&(w, neg)| match (w, neg) {
                (0, false) => 'R',
                (0, true) => 'L',
                (1, false) => 'A',
                (1, true) => 'P',
                (2, false) => 'S',
                _ => 'I',
            })
            .collect()
    }
}

/// The shape of a volume and where it sits in the world.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    /// Number of voxels along i, j, k.
    pub dims: [usize; 3],
    /// Voxel to RAS+ world millimetres.
    pub affine: Affine,
}

/// Largest difference (mm) between two grids' affine entries for them to count as one grid.
pub const SAME_GRID_MM: f64 = 1e-3;

impl Grid {
    /// Whether `other` is the same grid: the same shape and affines within [`SAME_GRID_MM`].
    pub fn same_as(&self, other: &Grid) -> bool {
        self.dims == other.dims && self.affine.max_abs_diff(&other.affine) <= SAME_GRID_MM
    }

    /// Total number of voxels.
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// True when the grid holds no voxel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Linear index of voxel `(i, j, k)`.
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// Voxel `(i, j, k)` of a linear index.
    #[inline]
    pub fn ijk(&self, idx: usize) -> [usize; 3] {
        let nx = self.dims[0];
        let ny = self.dims[1];
        [idx % nx, (idx / nx) % ny, idx / (nx * ny)]
    }

    /// Voxel size along each voxel axis in mm.
    pub fn spacing(&self) -> [f64; 3] {
        self.affine.spacing()
    }

    /// Per voxel axis `a` and index `i` along it: the voxel's position on the world lattice
    /// of that axis, in steps of its spacing from world 0 along the world axis it runs
    /// closest to (negative where it runs against it). The same voxel has the same lattice
    /// position however the volume is stored (flipped or permuted axes), so what is computed
    /// from lattice positions (block grids, every-other-voxel sampling) does not depend on
    /// the storage order.
    pub fn lattice(&self) -> [Vec<i64>; 3] {
        let m = &self.affine.0;
        let spacing = self.spacing();
        [0, 1, 2].map(|a| {
            let r = (0..3).max_by(|&p, &q| m[p][a].abs().total_cmp(&m[q][a].abs())).unwrap_or(a);
            let step = if spacing[a] > 0.0 { spacing[a] } else { 1.0 };
            // The world position over the step, floored a quarter step above: voxel centres
            // sit on whole or half steps, so rounding noise in either affine cannot move a
            // voxel across a lattice line.
            (0..self.dims[a]).map(|i| ((m[r][3] + m[r][a] * i as f64) / step + 0.25).floor() as i64).collect()
        })
    }
}

/// A scalar volume: a grid and its voxels, `i` fastest (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Volume<T> {
    /// Shape and affine.
    pub grid: Grid,
    /// Voxel values, `grid.len()` of them, `i` fastest.
    pub data: Vec<T>,
}

impl<T: Copy> Volume<T> {
    /// A volume filled with one value.
    pub fn filled(grid: Grid, value: T) -> Volume<T> {
        Volume { grid, data: vec![value; grid.len()] }
    }

    /// Wraps data already in `i`-fastest order.
    ///
    /// # Panics
    /// When `data.len()` differs from the grid's voxel count (a programming error).
    pub fn from_vec(grid: Grid, data: Vec<T>) -> Volume<T> {
        assert_eq!(data.len(), grid.len(), "volume data length does not match its grid");
        Volume { grid, data }
    }

    /// Value at voxel `(i, j, k)`.
    #[inline]
    pub fn get(&self, i: usize, j: usize, k: usize) -> T {
        self.data[self.grid.index(i, j, k)]
    }

    /// An ndarray view with logical `[i, j, k]` indexing over the same memory.
    pub fn view(&self) -> ArrayView3<'_, T> {
        let d = self.grid.dims;
        ArrayView3::from_shape((d[0], d[1], d[2]).f(), &self.data).expect("grid and data agree")
    }

    /// The same voxels stored in another orientation (nibabel axis codes such as `"LPS"` or
    /// `"ASR"`), with the affine changed to match, so that every voxel keeps its world
    /// position. Returns `None` when `code` is not a valid orientation code.
    pub fn reoriented(&self, code: &str) -> Option<Volume<T>> {
        let target = parse_axcodes(code)?;
        let src = self.grid.affine.axis_directions();
        // For each new axis a: which old axis it comes from and whether it is flipped.
        let mut from = [(0usize, false); 3];
        for (a, &(w, neg)) in target.iter().enumerate() {
            let old = src.iter().position(|&(sw, _)| sw == w)?;
            from[a] = (old, src[old].1 != neg);
        }
        let od = self.grid.dims;
        let nd = [od[from[0].0], od[from[1].0], od[from[2].0]];
        // New affine: column a = +-old column from[a]; origin moves to the flipped corner.
        let m = &self.grid.affine.0;
        let mut corner = [0.0f64; 3];
        for &(old, flip) in &from {
            if flip {
                corner[old] = (od[old] - 1) as f64;
            }
        }
        let origin = self.grid.affine.voxel_to_world(corner);
        let mut na = [[0.0; 4]; 4];
        for (a, &(old, flip)) in from.iter().enumerate() {
            for r in 0..3 {
                na[r][a] = if flip { -m[r][old] } else { m[r][old] };
            }
        }
        for r in 0..3 {
            na[r][3] = origin[r];
        }
        na[3][3] = 1.0;
        let grid = Grid { dims: nd, affine: Affine(na) };
        let mut data = Vec::with_capacity(self.data.len());
        let mut old_ijk = [0usize; 3];
        for k in 0..nd[2] {
            for j in 0..nd[1] {
                for i in 0..nd[0] {
                    for (a, &n) in [i, j, k].iter().enumerate() {
                        let (old, flip) = from[a];
                        old_ijk[old] = if flip { od[old] - 1 - n } else { n };
                    }
                    data.push(self.get(old_ijk[0], old_ijk[1], old_ijk[2]));
                }
            }
        }
        Some(Volume { grid, data })
    }
}

/// An atlas label value type: `u8` for atlases whose file stores bytes (most do: fewer
/// than 256 labels), `u16` otherwise. Half the memory for the common case.
pub trait Label: bytemuck::Pod + Send + Sync + Default + Ord + std::hash::Hash + Into<u32> + 'static {
    /// The largest label value the type holds.
    const MAX: u32;
    /// `v` as this type (`v <= MAX`).
    fn from_u32(v: u32) -> Self;
    /// The label as an index.
    #[inline]
    fn index(self) -> usize {
        let v: u32 = self.into();
        v as usize
    }
}

impl Label for u8 {
    const MAX: u32 = u8::MAX as u32;
    fn from_u32(v: u32) -> u8 {
        v as u8
    }
}

impl Label for u16 {
    const MAX: u32 = u16::MAX as u32;
    fn from_u32(v: u32) -> u16 {
        v as u16
    }
}

/// Parses a nibabel-style orientation code into (world axis, negative) per voxel axis.
pub fn parse_axcodes(code: &str) -> Option<[(usize, bool); 3]> {
    let chars: Vec<char> = code.trim().to_ascii_uppercase().chars().collect();
    if chars.len() != 3 {
        return None;
    }
    let mut out = [(0, false); 3];
    let mut seen = [false; 3];
    for (a, c) in chars.iter().enumerate() {
        let (w, neg) = match c {
            'R' => (0, false),
            'L' => (0, true),
            'A' => (1, false),
            'P' => (1, true),
            'S' => (2, false),
            'I' => (2, true),
            _ => return None,
        };
        if seen[w] {
            return None;
        }
        seen[w] = true;
        out[a] = (w, neg);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Volume<u16> {
        let grid = Grid { dims: [3, 4, 5], affine: Affine::from_spacing_origin([1.5, 4.0, 2.0], [-10.0, 5.0, 30.0]) };
        let data = (0..grid.len() as u16).collect();
        Volume::from_vec(grid, data)
    }

    #[test]
    fn a_voxels_lattice_position_does_not_depend_on_the_storage_order() {
        // Half-step origins (voxel centres on half steps) are where naive rounding flips.
        let grid =
            Grid { dims: [4, 3, 5], affine: Affine::from_spacing_origin([3.0, 5.0, 1.5], [-178.5, -107.5, 0.75]) };
        let v = Volume::from_vec(grid, (0..grid.len()).map(|x| x as u32).collect());
        let world_axis = |g: &Grid, a: usize| {
            (0..3).max_by(|&p, &q| g.affine.0[p][a].abs().total_cmp(&g.affine.0[q][a].abs())).unwrap()
        };
        let lv = v.grid.lattice();
        for code in ["LPS", "ASR", "PIL", "SRA", "ILP"] {
            let r = v.reoriented(code).unwrap();
            let lr = r.grid.lattice();
            for idx in 0..r.data.len() {
                let ijk = r.grid.ijk(idx);
                let o = v.grid.ijk(r.data[idx] as usize);
                for a in 0..3 {
                    let b = world_axis(&r.grid, a);
                    assert_eq!(lr[a][ijk[a]], lv[b][o[b]], "{code} axis {a}");
                }
            }
        }
    }

    #[test]
    fn reorienting_keeps_every_voxel_at_its_world_position() {
        let v = sample();
        for code in ["RAS", "LPS", "ASR", "PIL", "SRA", "ILP"] {
            let r = v.reoriented(code).unwrap();
            assert_eq!(r.grid.affine.axcodes(), code);
            assert_eq!(r.grid.len(), v.grid.len());
            for idx in 0..r.data.len() {
                let ijk = r.grid.ijk(idx).map(|x| x as f64);
                let w = r.grid.affine.voxel_to_world(ijk);
                let o = v.grid.affine.world_to_voxel(w).unwrap().map(|x| x.round() as usize);
                assert_eq!(r.data[idx], v.get(o[0], o[1], o[2]), "{code}");
            }
            // And back again.
            assert_eq!(r.reoriented("RAS").unwrap(), v);
        }
    }

    #[test]
    fn spacing_volume_and_inverse() {
        let a = sample().grid.affine;
        assert_eq!(a.spacing(), [1.5, 4.0, 2.0]);
        assert!((a.voxel_volume_mm3() - 12.0).abs() < 1e-12);
        let w = a.voxel_to_world([1.0, 2.0, 3.0]);
        let back = a.world_to_voxel(w).unwrap();
        for (b, e) in back.iter().zip([1.0, 2.0, 3.0]) {
            assert!((b - e).abs() < 1e-9);
        }
        assert!(parse_axcodes("RRS").is_none());
        assert!(parse_axcodes("XYZ").is_none());
    }
}
