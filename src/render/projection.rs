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
    let [nx, ny, nz] = dims;
    let slab = nx * ny;
    let slice_of = |k: usize| (&data[k * slab..(k + 1) * slab], labels.map(|l| &l[k * slab..(k + 1) * slab]));
    match p {
        // Rays along i: each row of a slice collapses to one value; slice k owns plane row k.
        0 => {
            let mut out = Projection::new(ny * nz);
            out.mip
                .par_chunks_mut(ny)
                .zip(out.lval.par_chunks_mut(ny))
                .zip(out.lid.par_chunks_mut(ny))
                .enumerate()
                .for_each(|(k, ((mip, lval), lid))| {
                    let (s, l) = slice_of(k);
                    for j in 0..ny {
                        let row = &s[j * nx..(j + 1) * nx];
                        mip[j] = row_max(row);
                        if let Some(l) = l {
                            let lrow = &l[j * nx..(j + 1) * nx];
                            if any_lesion(lrow) {
                                for (&v, &id) in row.iter().zip(lrow) {
                                    consider(&mut lval[j], &mut lid[j], v, id);
                                }
                            }
                        }
                    }
                });
            out
        }
        // Rays along j: the rows of slice k fold element-wise into plane row k.
        1 => {
            let mut out = Projection::new(nx * nz);
            out.mip
                .par_chunks_mut(nx)
                .zip(out.lval.par_chunks_mut(nx))
                .zip(out.lid.par_chunks_mut(nx))
                .enumerate()
                .for_each(|(k, ((mip, lval), lid))| {
                    let (s, l) = slice_of(k);
                    for j in 0..ny {
                        let row = &s[j * nx..(j + 1) * nx];
                        max_into(mip, row);
                        if let Some(l) = l {
                            let lrow = &l[j * nx..(j + 1) * nx];
                            if any_lesion(lrow) {
                                for i in 0..nx {
                                    consider(&mut lval[i], &mut lid[i], row[i], lrow[i]);
                                }
                            }
                        }
                    }
                });
            out
        }
        // Rays along k: whole slices fold element-wise into the plane; each thread takes a
        // contiguous slab of slices into its own partial plane, and the partials are merged.
        _ => {
            let parts = rayon::current_num_threads().clamp(1, nz);
            let partials: Vec<Projection> = (0..parts)
                .into_par_iter()
                .map(|t| {
                    let mut acc = Projection::new(slab);
                    for k in (t * nz / parts)..((t + 1) * nz / parts) {
                        let (s, l) = slice_of(k);
                        max_into(&mut acc.mip, s);
                        if let Some(l) = l {
                            for (lrow, (row, (lval, lid))) in
                                l.chunks(nx).zip(s.chunks(nx).zip(acc.lval.chunks_mut(nx).zip(acc.lid.chunks_mut(nx))))
                            {
                                if any_lesion(lrow) {
                                    for i in 0..nx {
                                        consider(&mut lval[i], &mut lid[i], row[i], lrow[i]);
                                    }
                                }
                            }
                        }
                    }
                    acc
                })
                .collect();
            let mut iter = partials.into_iter();
            let mut out = iter.next().unwrap_or_else(|| Projection::new(slab));
            for part in iter {
                out.merge(&part);
            }
            out
        }
    }
}
