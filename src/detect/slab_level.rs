//! The axial marrow level of a tubular bone: its normal marrow slab by slab along its length.
//!
//! A child's long bone turns its red marrow yellow along its length: the epiphyses and then
//! the diaphysis first, the metaphyses last. So across a long bone the marrow is of one kind
//! and along it the kind changes, while one atlas region (a femoral shaft with its proximal
//! red marrow, a proximal humeral metaphysis with the yellow head) holds both. Red marrow
//! about twice as bright as yellow on STIR then stands out against its region's one level as
//! oedema would. A slab across the bone holds its whole cross-section: red marrow fills it,
//! a lesion seldom fills most of it along three slabs. So each region of a tubular bone (or a
//! bone of the foot) gets, per slab [`SLAB_MM`] thick across its bone's long axis
//! ([`plate_axes`](crate::detect::shape::plate_axes)), the mode of its marrow there
//! ([`marrow_level`]), and a voxel's axial level is the median of its slab's mode and its two
//! neighbours' along the bone. [`coarse_level`](super::local) lifts a voxel's level to it, up
//! to [`SLAB_MAX_LIFT`] times the region's level.

use super::local::marrow_level;
use super::marrow_map::{sampled, sampled_bone_in_plane};
use crate::volume::{Grid, Label, Volume};
use rayon::prelude::*;

/// Thickness (mm) of a slab across a tubular bone's long axis.
pub const SLAB_MM: f64 = 10.0;

/// Slabs with fewer sampled voxels of a region than this have no level of their own.
pub const MIN_SLAB_SAMPLES: usize = 48;

/// The axial level lifts a voxel's level at most this many times its region's level: above
/// the contrast of red to yellow marrow on STIR (about 2-2.5), so that it is the slab's mode,
/// not a cap, that keeps a lesion from lifting its own level.
pub const SLAB_MAX_LIFT: f64 = 3.0;

/// One region's axial levels.
#[derive(Clone, Debug)]
struct Axial {
    /// A voxel's position along the bone's long axis (mm) is `w[0] i + w[1] j + w[2] k + w[3]`.
    w: [f64; 4],
    /// The slab index of the first entry of `levels`.
    first: i64,
    /// Per slab from `first` on: its level, NaN where it has none.
    levels: Vec<f32>,
}

/// Per region of a tubular bone, the axial levels along its bone's long axis.
#[derive(Clone, Debug, Default)]
pub struct SlabLevels {
    per_label: Vec<Option<Axial>>,
}

impl SlabLevels {
    /// The axial levels of `scan` over `atlas` (same grid) for the labels whose `axis` is given
    /// (the unit long axis of their bone, world; index = label). Samples the voxels the
    /// [`MarrowMap`](super::marrow_map::MarrowMap) samples.
    pub fn new<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>, axis: &[Option<[f64; 3]>]) -> SlabLevels {
        let grid = &scan.grid;
        let w: Vec<Option<[f64; 4]>> = axis.iter().map(|a| a.map(|a| along(grid, canonical(a)))).collect();
        let mut samples = slab_samples(scan, atlas, &w);
        samples.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut per_label: Vec<Option<Axial>> = vec![None; axis.len()];
        for run in samples.chunk_by(|a, b| a.0 == b.0) {
            let l = run[0].0 as usize;
            let Some(Some(w)) = w.get(l) else { continue };
            let (first, last) = (run[0].1, run[run.len() - 1].1);
            let mut own = vec![f32::NAN; (last - first + 1) as usize];
            for slab in run.chunk_by(|a, b| a.1 == b.1).filter(|s| s.len() >= MIN_SLAB_SAMPLES) {
                let mut v: Vec<f32> = slab.iter().map(|s| s.2).collect();
                own[(slab[0].1 - first) as usize] = marrow_level(&mut v).map_or(f32::NAN, |m| m as f32);
            }
            per_label[l] = Some(Axial { w: *w, first, levels: median_of_three(&own) });
        }
        SlabLevels { per_label }
    }

    /// The axial level of label `label` at voxel `ijk`, if its region has one there.
    #[inline]
    pub fn level(&self, ijk: [usize; 3], label: usize) -> Option<f64> {
        let a = self.per_label.get(label)?.as_ref()?;
        let v = *a.levels.get(usize::try_from(slab(&a.w, ijk) - a.first).ok()?)?;
        v.is_finite().then_some(v as f64)
    }
}

/// (label, slab, intensity) of every sampled voxel of a label with a long axis; planes in
/// parallel.
fn slab_samples<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>, w: &[Option<[f64; 4]>]) -> Vec<(u32, i64, f32)> {
    let take = sampled(&scan.grid);
    (0..scan.grid.dims[2])
        .into_par_iter()
        .flat_map_iter(|k| {
            let mut out = Vec::new();
            sampled_bone_in_plane(scan, atlas, &take, k, |ijk, l, x| {
                if let Some(Some(w)) = w.get(l.index()) {
                    out.push((l.into(), slab(w, ijk), x));
                }
            });
            out
        })
        .collect()
}

/// The slab of voxel `ijk` for the projection `w` ([`along`]).
#[inline]
fn slab(w: &[f64; 4], [i, j, k]: [usize; 3]) -> i64 {
    ((w[0] * i as f64 + w[1] * j as f64 + w[2] * k as f64 + w[3]) / SLAB_MM).floor() as i64
}

/// The projection of a voxel's world position on the unit world axis `a`, as coefficients of
/// its voxel indices and a constant: slabs are cut on world millimetres, so that the same
/// voxels share a slab however the scan is stored.
fn along(grid: &Grid, a: [f64; 3]) -> [f64; 4] {
    let m = &grid.affine.0;
    let dot = |c: usize| (0..3).map(|r| a[r] * m[r][c]).sum::<f64>();
    [dot(0), dot(1), dot(2), dot(3)]
}

/// `a` with its largest component positive, so that the slabs do not depend on the sign an
/// eigenvector happens to get.
fn canonical(a: [f64; 3]) -> [f64; 3] {
    let big = (0..3).max_by(|&p, &q| a[p].abs().total_cmp(&a[q].abs())).unwrap_or(0);
    if a[big] < 0.0 {
        a.map(|x| -x)
    } else {
        a
    }
}

/// Each slab's level: the median of its own mode and its neighbours' (those that have one);
/// NaN for a slab without a mode of its own.
fn median_of_three(own: &[f32]) -> Vec<f32> {
    (0..own.len())
        .map(|s| {
            if !own[s].is_finite() {
                return f32::NAN;
            }
            let mut v: Vec<f32> =
                own[s.saturating_sub(1)..(s + 2).min(own.len())].iter().copied().filter(|x| x.is_finite()).collect();
            v.sort_unstable_by(f32::total_cmp);
            match v.len() {
                2 => 0.5 * (v[0] + v[1]),
                _ => v[v.len() / 2],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
