//! The outline of a kept lesion: its half-maximum cut, and which lesions get cut (those
//! fused with a growth plate or a disc).

use super::seeds::Seeds;
use crate::ccl::{self, Connectivity};
use crate::detect::shape::{is_plate, shapes};
use crate::detect::Bones;
use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// Which kept components to cut to their half-maximum outline (index = component): those
/// where what the cut takes off holds a growth plate (a physis or disc fused to the lesion,
/// [`is_plate`]). Elsewhere the lesion keeps every voxel it grew over: real oedema is a
/// plateau of signal with no sharp peak, and its half-maximum outline is a fraction of what a
/// radiologist marks. With `plate_mm` 0 (no plate guard) every kept component is cut.
#[allow(clippy::too_many_arguments)]
pub(super) fn plate_trims<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    bones: &Bones,
    grown: &ccl::Components,
    kept: &[bool],
    cut: &[f32],
    plate_mm: f64,
    conn: Connectivity,
) -> Vec<bool> {
    if plate_mm <= 0.0 {
        return kept.to_vec();
    }
    let nx = scan.grid.dims[0];
    let below = ccl::label_rows(scan.grid.dims, conn, |row, runs| {
        let base = row * nx;
        for (run, c) in grown.row(row) {
            let c = c as usize;
            if kept[c] {
                ccl::push_runs(run.start as usize, run.end as usize, |i| scan.data[base + i] < cut[c], runs);
            }
        }
    });
    // The grown component each cut-off piece came from: any voxel of the piece tells.
    let mut parent = vec![0u32; below.count + 1];
    let mut across = vec![(crate::detect::shape::WORLD_Z, false); below.count + 1];
    below.for_each_run(|row, run, piece| {
        if parent[piece as usize] == 0 {
            let voxel = run.start as usize;
            let l = atlas.data[row * nx + voxel];
            across[piece as usize] = (bones.plate_axis(l), bones.curved_plates(l));
            parent[piece as usize] =
                grown.row(row).find(|(r, _)| (r.start as usize..r.end as usize).contains(&voxel)).map_or(0, |(_, c)| c);
        }
    });
    let mut trim = vec![false; kept.len()];
    for (piece, shape) in shapes(&below, &scan.grid).iter().enumerate().skip(1) {
        let (axis, curved) = across[piece];
        if is_plate(shape, plate_mm, axis, curved) {
            trim[parent[piece] as usize] = true;
        }
    }
    trim[0] = false;
    trim
}

/// Quantile of a component's intensities taken as its peak.
pub const PEAK_QUANTILE: f64 = 0.95;

/// Each kept component's cut intensity (index = component; infinite for the others): its
/// base (the marrow level of the region most of its brightest voxels lie in) plus
/// `fraction` of the way up to its peak (a high quantile of its intensities, so that one
/// noisy voxel does not set it).
pub(super) fn half_maximum_cuts<L: Label>(
    seeds: &Seeds<L>,
    comps: &ccl::Components,
    kept: &[bool],
    fraction: f64,
) -> Vec<f32> {
    let (scan, atlas, refs) = (seeds.scan, seeds.atlas, seeds.refs);
    let [nx, ny, _] = scan.grid.dims;
    let mut values: Vec<Vec<(f32, L)>> = vec![Vec::new(); kept.len()];
    comps.for_each_run(|row, run, c| {
        if kept[c as usize] {
            let (at, j, k) = (row * nx, row % ny, row / ny);
            values[c as usize].extend(
                (run.start as usize..run.end as usize).map(|i| (seeds.denoised([i, j, k]) as f32, atlas.data[at + i])),
            );
        }
    });
    values
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
            let base = refs[label].marrow;
            (base + fraction * (peak - base)) as f32
        })
        .collect()
}
