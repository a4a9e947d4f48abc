//! How thick a component is across its own runs of voxels: per voxel axis, the mean over its
//! voxels of the length of the straight run each lies in ([`Chords`]), which reads a curved
//! plate as thin where the spread of its positions ([`Shape`]) takes in its curvature.

use super::shape::Shape;
use crate::ccl;
use crate::volume::Grid;

/// Axes along which [`Shape::chord`] is measured: those sampled at most this many times as
/// coarsely as the finest axis...
pub const CHORD_AXIS_RATIO: f64 = 1.5;

/// ... and at most 60 degrees off the component's thin axis (this cosine).
pub const CHORD_MIN_COS: f64 = 0.5;

/// A component's voxels and, per voxel axis, the sum over its runs along that axis of their
/// squared lengths (in voxels): the mean over its voxels of the length of the run each lies
/// in is that sum over the voxels. Weighted by voxel, a run's mean reads a plate as its
/// thickness and a lens-shaped blob as about 1.5 times its half-height (unweighted, the many
/// short runs at a blob's rim would make it look thin).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Chords {
    /// Voxels.
    pub voxels: u64,
    /// Per axis, the sum of the squared lengths of the component's runs along it.
    pub squares: [u64; 3],
}

impl Chords {
    /// Adds a voxel that is the `depth`-th (from 1) of its run along `axis`: the run's
    /// squared length grows from `(depth - 1)^2` to `depth^2`.
    fn add(&mut self, axis: usize, depth: u32) {
        self.squares[axis] += 2 * depth as u64 - 1;
    }

    /// `shape` with its [`Shape::chord`] from these sums, on `grid`.
    pub fn apply(&self, mut shape: Shape, grid: &Grid) -> Shape {
        if self.voxels == 0 {
            return shape;
        }
        let spacing = grid.spacing();
        let m = grid.affine.0;
        // Along a thick-slice axis a run of two slices is already as long as a plate's
        // limit, and along an axis nearly in the plate's plane its runs measure its width:
        // only fine axes within 60 degrees of the thin axis read a thickness.
        let finest = spacing.iter().copied().fold(f64::INFINITY, f64::min);
        let reads = (0..3).filter_map(|a| {
            let cos = (0..3).map(|r| m[r][a] * shape.thin_axis[r]).sum::<f64>().abs() / spacing[a];
            let fine = spacing[a] <= CHORD_AXIS_RATIO * finest && cos >= CHORD_MIN_COS;
            let mean = self.squares[a] as f64 / self.voxels as f64 * spacing[a];
            fine.then_some((mean * cos, spacing[a] * cos))
        });
        if let Some((chord, voxel)) = reads.min_by(|x, y| x.0.total_cmp(&y.0)) {
            shape.chord = chord;
            shape.chord_voxel = voxel;
        }
        shape
    }
}

/// The runs of one row of components with, for each of their voxels in order, its depth in
/// its run along an axis across the rows (1 where the voxel before it along that axis is not
/// in its component).
#[derive(Clone, Debug, Default)]
struct RowDepths {
    runs: Vec<(u32, u32, u32)>,
    depth: Vec<u32>,
}

impl RowDepths {
    /// The depths of the voxels of `runs` (one row), the row before it along the axis having
    /// `before`.
    fn after(before: &RowDepths, runs: &[(ccl::Run, u32)]) -> RowDepths {
        let mut out = RowDepths { runs: Vec::with_capacity(runs.len()), depth: Vec::new() };
        let (mut q, mut offset) = (0usize, 0usize);
        for &(run, c) in runs {
            out.runs.push((run.start, run.end, c));
            for i in run.start..run.end {
                while q < before.runs.len() && before.runs[q].1 <= i {
                    offset += (before.runs[q].1 - before.runs[q].0) as usize;
                    q += 1;
                }
                let under = match before.runs.get(q) {
                    Some(&(s, _, bc)) if s <= i && bc == c => before.depth[offset + (i - s) as usize],
                    _ => 0,
                };
                out.depth.push(under + 1);
            }
        }
        out
    }
}

/// [`Chords`] of every component (index = component label), in one pass over the rows that
/// keeps the depths of the row before (along j) and of the slice before (along k).
pub(crate) fn chords(comps: &ccl::Components) -> Vec<Chords> {
    let [_, ny, nz] = comps.dims;
    let mut out = vec![Chords::default(); comps.count + 1];
    let (mut slice_before, mut slice) = (vec![RowDepths::default(); ny], vec![RowDepths::default(); ny]);
    for k in 0..nz {
        let mut row_before = RowDepths::default();
        for j in 0..ny {
            let runs: Vec<(ccl::Run, u32)> = comps.row(j + ny * k).collect();
            // Along i: a run touching the one before it in the same component continues it.
            let mut carried = (u32::MAX, 0u32, 0u32);
            for &(run, c) in &runs {
                let before = if carried.0 == run.start && carried.1 == c { carried.2 } else { 0 };
                let (len, e) = (run.end - run.start, &mut out[c as usize]);
                // The run's squared length grows from before^2 to (before + len)^2.
                e.squares[0] += (before + len) as u64 * (before + len) as u64 - before as u64 * before as u64;
                e.voxels += len as u64;
                carried = (run.end, c, before + len);
            }
            let along_j = RowDepths::after(&row_before, &runs);
            let along_k = RowDepths::after(&slice_before[j], &runs);
            for (axis, depths) in [(1, &along_j), (2, &along_k)] {
                let mut n = 0;
                for &(s, e, c) in &depths.runs {
                    for &d in &depths.depth[n..n + (e - s) as usize] {
                        out[c as usize].add(axis, d);
                    }
                    n += (e - s) as usize;
                }
            }
            row_before = along_j;
            slice[j] = along_k;
        }
        std::mem::swap(&mut slice_before, &mut slice);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ccl::Connectivity;
    use crate::volume::Affine;

    fn comps_of(mask: &[bool], grid: &Grid) -> ccl::Components {
        ccl::label(mask, grid.dims, Connectivity::Corners26)
    }

    /// A set's voxels and, per axis, the sum over its voxels of the length of the run along
    /// that axis each lies in, counted naively: each voxel walks both ways while it stays in.
    fn naive_chords(mask: &[bool], grid: &Grid) -> Chords {
        let mut c = Chords::default();
        for v in (0..grid.len()).filter(|&v| mask[v]) {
            c.voxels += 1;
            let ijk = grid.ijk(v);
            for a in 0..3 {
                let inside = |t: i64| {
                    let mut p = ijk;
                    (0..grid.dims[a] as i64).contains(&t) && {
                        p[a] = t as usize;
                        mask[grid.index(p[0], p[1], p[2])]
                    }
                };
                let at = ijk[a] as i64;
                let (mut lo, mut hi) = (at, at);
                while inside(lo - 1) {
                    lo -= 1;
                }
                while inside(hi + 1) {
                    hi += 1;
                }
                c.squares[a] += (hi - lo + 1) as u64;
            }
        }
        c
    }

    proptest::proptest! {
        #[test]
        fn chords_match_naive_run_lengths(seed in 0u64..1000) {
            let grid = Grid { dims: [9, 7, 6], affine: Affine::from_spacing_origin([1.0, 4.0, 0.9], [0.0; 3]) };
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mask: Vec<bool> = (0..grid.len())
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state % 3 != 0
                })
                .collect();
            let comps = comps_of(&mask, &grid);
            let labels = comps.to_volume();
            for (c, sums) in chords(&comps).iter().enumerate().skip(1) {
                let own: Vec<bool> = labels.iter().map(|&l| l as usize == c).collect();
                proptest::prop_assert_eq!(*sums, naive_chords(&own, &grid), "component {}", c);
            }
        }
    }
}
