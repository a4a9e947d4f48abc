//! One whole-bone label's voxels and the geometry every bone rule uses: centroid, principal
//! axes, 6-connected pieces, and where the field of view cuts the bone.

use crate::ccl::{self, Connectivity};
use crate::detect::shape::{eigenvector, symmetric_eigenvalues};
use crate::vec3::{dot, mean, sub, V3};
use crate::volume::{Grid, Label, Volume};

/// The voxels of one label: flat indices and world positions.
pub(super) struct Bone {
    pub(super) label: u32,
    pub(super) name: String,
    pub(super) index: Vec<usize>,
    pub(super) pos: Vec<V3>,
}

impl Bone {
    pub(super) fn centroid(&self) -> V3 {
        mean(&self.pos)
    }

    /// The principal (longest) axis, pointing superior (world z up), and the positions
    /// along it (min, max).
    pub(super) fn long_axis(&self) -> (V3, f64, f64) {
        self.principal_axis()
    }

    fn principal_axis(&self) -> (V3, f64, f64) {
        let c = self.centroid();
        let mut m = [[0.0; 3]; 3];
        for p in &self.pos {
            let d = sub(*p, c);
            for (r, row) in m.iter_mut().enumerate() {
                for (k, x) in row.iter_mut().enumerate() {
                    *x += d[r] * d[k];
                }
            }
        }
        let ev = symmetric_eigenvalues(m);
        let mut u = eigenvector(m, ev[2]);
        if u[2] < 0.0 {
            u = u.map(|x| -x);
        }
        let (lo, hi) = self
            .pos
            .iter()
            .map(|p| dot(*p, u))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| (a.min(t), b.max(t)));
        (u, lo, hi)
    }
}

/// The 6-connected pieces of a bone (canonical labelling within its bounding box): the
/// piece (0-based) of each of its voxels, and each piece's voxel count and centroid.
pub(super) fn pieces<L: Label>(b: &Bone, atlas: &Volume<L>) -> (Vec<usize>, Vec<(usize, V3)>) {
    let grid = &atlas.grid;
    let ijk: Vec<[usize; 3]> = b.index.iter().map(|&v| grid.ijk(v)).collect();
    let lo = [0, 1, 2].map(|a| ijk.iter().map(|p| p[a]).min().unwrap_or(0));
    let hi = [0, 1, 2].map(|a| ijk.iter().map(|p| p[a]).max().unwrap_or(0) + 1);
    let dims = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    let at = |p: &[usize; 3]| (p[0] - lo[0]) + dims[0] * ((p[1] - lo[1]) + dims[1] * (p[2] - lo[2]));
    let mut mask = vec![false; dims.iter().product()];
    for p in &ijk {
        mask[at(p)] = true;
    }
    // Face connectivity: thin joints (sacral discs, intervertebral discs) that a coarse
    // atlas bridges only at corners still separate the pieces.
    let comps = ccl::label(&mask, dims, Connectivity::Faces6);
    let map = comps.to_volume();
    let of: Vec<usize> = ijk.iter().map(|p| map[at(p)] as usize - 1).collect();
    let mut acc = vec![(0usize, [0.0; 3]); comps.count];
    for (i, &l) in of.iter().enumerate() {
        let a = &mut acc[l];
        a.0 += 1;
        a.1 = [a.1[0] + b.pos[i][0], a.1[1] + b.pos[i][1], a.1[2] + b.pos[i][2]];
    }
    (of, acc.into_iter().map(|(n, s)| (n, s.map(|x| x / n.max(1) as f64))).collect())
}

/// Whether voxel `v` of `grid` lies on the grid's first or last plane along some axis: the
/// field of view cuts whatever bone it belongs to there.
pub(super) fn on_fov_edge(grid: &Grid, v: usize) -> bool {
    let ijk = grid.ijk(v);
    (0..3).any(|a| grid.dims[a] > 1 && (ijk[a] == 0 || ijk[a] + 1 == grid.dims[a]))
}

impl Bone {
    /// The positions of the bone's voxels on the edge of the field of view ([`on_fov_edge`]).
    pub(super) fn cut_points(&self, grid: &Grid) -> Vec<V3> {
        self.index.iter().zip(&self.pos).filter(|(&v, _)| on_fov_edge(grid, v)).map(|(_, p)| *p).collect()
    }
}
