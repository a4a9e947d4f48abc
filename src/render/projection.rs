//! The overview's maximum-intensity projection in storage order: the volume walked in memory
//! order, in parallel over slices, keeping on each ray the brightest voxel and the brightest
//! lesion voxel (ties to the smaller id, so the result does not depend on the storage order).

use rayon::prelude::*;

/// A MIP in storage order: the two axes left after projection, in ascending voxel-axis order
/// (`a` fastest).
pub(super) struct Projection {
    pub(super) mip: Vec<f32>,
    /// Intensity of the brightest lesion voxel on each ray (`-inf` where there is none).
    pub(super) lval: Vec<f32>,
    /// Its lesion id (0 where there is none).
    pub(super) lid: Vec<u16>,
}

impl Projection {
    fn new(len: usize) -> Projection {
        Projection { mip: vec![f32::NEG_INFINITY; len], lval: vec![f32::NEG_INFINITY; len], lid: vec![0; len] }
    }

    /// Folds another partial projection of the same plane into this one.
    fn merge(&mut self, other: &Projection) {
        max_into(&mut self.mip, &other.mip);
        for idx in 0..self.lid.len() {
            consider(&mut self.lval[idx], &mut self.lid[idx], other.lval[idx], other.lid[idx]);
        }
    }
}

/// Keeps `(v, id)` if it beats the best lesion voxel so far on a ray: brighter wins, and on a
/// tie the smaller id, so the outcome is independent of the order the ray is walked in.
#[inline]
pub(super) fn consider(best_v: &mut f32, best_id: &mut u16, v: f32, id: u16) {
    if id == 0 {
        return;
    }
    let v = if v.is_nan() { f32::NEG_INFINITY } else { v };
    if *best_id == 0 || v > *best_v || (v == *best_v && id < *best_id) {
        *best_v = v;
        *best_id = id;
    }
}

/// Maximum of a row (NaN ignored), in independent lanes so it vectorises.
pub(super) fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = l.max(x);
        }
    }
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    lanes.iter().fold(tail, |a, &b| a.max(b))
}

/// Element-wise maximum of `row` into `out` (NaN ignored).
#[inline]
pub(super) fn max_into(out: &mut [f32], row: &[f32]) {
    for (o, &x) in out.iter_mut().zip(row) {
        *o = o.max(x);
    }
}

/// True if any label in the row is nonzero (a branch-free OR, so it vectorises).
#[inline]
pub(super) fn any_lesion(row: &[u16]) -> bool {
    row.iter().fold(0u16, |a, &b| a | b) != 0
}

/// Projects `data` (on a grid of `dims`, `i` fastest) along voxel axis `p`, walking memory in
/// order. Returns the plane of the two remaining axes in ascending order. `dims` must be
/// nonzero and `data` (and `labels`) must hold `dims` voxels.
pub(super) fn project(data: &[f32], labels: Option<&[u16]>, dims: [usize; 3], p: usize) -> Projection {
    let volume = Slices { data, labels, nx: dims[0], slab: dims[0] * dims[1] };
    match p {
        0 => along_i(&volume, dims),
        1 => along_j(&volume, dims),
        _ => along_k(&volume, dims),
    }
}

/// The scan and lesion labels a projection reads, slice by slice.
struct Slices<'a> {
    data: &'a [f32],
    labels: Option<&'a [u16]>,
    nx: usize,
    slab: usize,
}

impl<'a> Slices<'a> {
    /// Slice `k`: its intensities and lesion labels.
    fn slice(&self, k: usize) -> (&'a [f32], Option<&'a [u16]>) {
        let range = k * self.slab..(k + 1) * self.slab;
        (&self.data[range.clone()], self.labels.map(|l| &l[range]))
    }

    /// Row `j` of slice `k`.
    fn row(&self, k: usize, j: usize) -> (&'a [f32], Option<&'a [u16]>) {
        let (s, l) = self.slice(k);
        let range = j * self.nx..(j + 1) * self.nx;
        (&s[range.clone()], l.map(|l| &l[range]))
    }
}

/// Folds a row's lesion voxels into the columns `lval`/`lid` element-wise (rows without a
/// lesion are skipped).
fn fold_lesions(lval: &mut [f32], lid: &mut [u16], row: &[f32], lrow: &[u16]) {
    if any_lesion(lrow) {
        for i in 0..lrow.len() {
            consider(&mut lval[i], &mut lid[i], row[i], lrow[i]);
        }
    }
}

/// A plane of `rows` rows of `width` values, row `k` filled by `fill(k, mip, lval, lid)`, the
/// rows in parallel.
fn plane_by_rows(
    rows: usize,
    width: usize,
    fill: impl Fn(usize, &mut [f32], &mut [f32], &mut [u16]) + Sync + Send,
) -> Projection {
    let mut out = Projection::new(rows * width);
    let planes = out.mip.par_chunks_mut(width).zip(out.lval.par_chunks_mut(width)).zip(out.lid.par_chunks_mut(width));
    planes.enumerate().for_each(|(k, ((mip, lval), lid))| fill(k, mip, lval, lid));
    out
}

/// Rays along i: each row of a slice collapses to one value; slice k owns plane row k.
fn along_i(v: &Slices, [_, ny, nz]: [usize; 3]) -> Projection {
    plane_by_rows(nz, ny, |k, mip, lval, lid| {
        for j in 0..ny {
            let (row, lrow) = v.row(k, j);
            mip[j] = row_max(row);
            if let Some(lrow) = lrow.filter(|l| any_lesion(l)) {
                for (&x, &id) in row.iter().zip(lrow) {
                    consider(&mut lval[j], &mut lid[j], x, id);
                }
            }
        }
    })
}

/// Rays along j: the rows of slice k fold element-wise into plane row k.
fn along_j(v: &Slices, [nx, ny, nz]: [usize; 3]) -> Projection {
    plane_by_rows(nz, nx, |k, mip, lval, lid| {
        for j in 0..ny {
            let (row, lrow) = v.row(k, j);
            max_into(mip, row);
            if let Some(lrow) = lrow {
                fold_lesions(lval, lid, row, lrow);
            }
        }
    })
}

/// Rays along k: whole slices fold element-wise into the plane; each thread takes a
/// contiguous slab of slices into its own partial plane, and the partials are merged.
fn along_k(v: &Slices, [nx, _, nz]: [usize; 3]) -> Projection {
    let parts = rayon::current_num_threads().clamp(1, nz);
    let partials: Vec<Projection> = (0..parts)
        .into_par_iter()
        .map(|t| {
            let mut acc = Projection::new(v.slab);
            for k in (t * nz / parts)..((t + 1) * nz / parts) {
                let (s, l) = v.slice(k);
                max_into(&mut acc.mip, s);
                if let Some(l) = l {
                    let columns = acc.lval.chunks_mut(nx).zip(acc.lid.chunks_mut(nx));
                    for (lrow, (row, (lval, lid))) in l.chunks(nx).zip(s.chunks(nx).zip(columns)) {
                        fold_lesions(lval, lid, row, lrow);
                    }
                }
            }
            acc
        })
        .collect();
    let mut iter = partials.into_iter();
    let mut out = iter.next().unwrap_or_else(|| Projection::new(v.slab));
    for part in iter {
        out.merge(&part);
    }
    out
}
