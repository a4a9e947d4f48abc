//! The references of the local detector: each region's normal-marrow level (the mode of its
//! core voxels' intensities) and the scan's noise level.

use super::{LocalParams, RegionReference};
use crate::reference::{BoneSamples, MAD_TO_SD};
use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// Bins of the histogram whose peak is the marrow level, between the 0.5th and 99.5th
/// percentiles of the region's intensities (bins relative to the data: scale-free).
pub const MODE_BINS: usize = 256;
/// Standard deviation (bins) of the Gaussian that smooths that histogram before its peak is
/// taken, so that noise does not pick a spurious peak (wider for a small region:
/// [`MODE_REFERENCE_SAMPLES`]).
pub const MODE_SMOOTHING_BINS: f64 = 4.0;

/// The normal-marrow level of a region: the peak of its smoothed intensity histogram.
/// Normal marrow is the commonest tissue of a bone, so the mode stays on it when lesions
/// (brighter) or cortex (darker) take a large share, where the median does not (on a real
/// scan with large oedema the median lies 28% above the readers' normal-marrow reference,
/// the mode within 3%), as long as lesions take less than half the region. `None` for an
/// empty region; reorders `values`.
pub fn marrow_level(values: &mut [f32]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    // Cortex and partial volume with it are dark on STIR: voxels under a fraction of the
    // median are not marrow (in a flat bone they can be its commonest voxels).
    let floor = cortex_floor(*values.select_nth_unstable_by(n / 2, f32::total_cmp).1);
    let mut marrow: Vec<f32> = values.iter().copied().filter(|&x| x >= floor).collect();
    histogram_mode(&mut marrow)
}

/// Voxels darker than this fraction of their region's (or block's) median are cortex, not
/// marrow, for the marrow level.
pub const CORTEX_FRACTION: f32 = 0.5;

/// The intensity under which a voxel is cortex, for voxels whose median is `median`:
/// [`CORTEX_FRACTION`] of it. A median at or below 0 (a scan with negative values, a CT)
/// gives no floor: a fraction of it would lie above the median itself.
pub fn cortex_floor(median: f32) -> f32 {
    if median > 0.0 {
        CORTEX_FRACTION * median
    } else {
        f32::NEG_INFINITY
    }
}

/// The peak of the smoothed histogram of `values` (see [`marrow_level`]).
fn histogram_mode(values: &mut [f32]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut at = |q: f64| *values.select_nth_unstable_by(((n - 1) as f64 * q) as usize, f32::total_cmp).1 as f64;
    let (lo, hi) = (at(0.005), at(0.995));
    if hi <= lo {
        return Some(lo);
    }
    let width = (hi - lo) / MODE_BINS as f64;
    let mut hist = vec![0f64; MODE_BINS];
    for &x in values.iter() {
        let b = ((x as f64 - lo) / width).floor();
        if (0.0..MODE_BINS as f64).contains(&b) {
            hist[b as usize] += 1.0;
        }
    }
    let smooth = gaussian_smooth(&hist, mode_smoothing_bins(n));
    // The first bin of the highest peak (ties go to the darker bin).
    let peak = (0..MODE_BINS).fold(0, |best, b| if smooth[b] > smooth[best] { b } else { best });
    // Between bins: the vertex of the parabola through the peak and its neighbours, so that
    // where the bin edges fall (which rounding the scan moves) does not move the level.
    let shift = if peak > 0 && peak + 1 < MODE_BINS {
        let (a, b, c) = (smooth[peak - 1], smooth[peak], smooth[peak + 1]);
        let curve = a - 2.0 * b + c;
        if curve < 0.0 {
            (0.5 * (a - c) / curve).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some(lo + (peak as f64 + 0.5 + shift) * width)
}

/// Samples at which the histogram's smoothing is [`MODE_SMOOTHING_BINS`]; with fewer it
/// widens as `n^(-1/5)` (the rate of Silverman's rule for a density's kernel), so that a
/// small region (a fibula's few hundred core voxels) has a mode that rounding the scan to
/// integers or a voxel more or less does not move.
pub const MODE_REFERENCE_SAMPLES: f64 = 5000.0;

/// The smoothing (bins) of the histogram of `n` samples.
fn mode_smoothing_bins(n: usize) -> f64 {
    MODE_SMOOTHING_BINS * (MODE_REFERENCE_SAMPLES / n.max(1) as f64).powf(0.2).max(1.0)
}

/// `h` convolved with a Gaussian of `sd` bins (truncated at 3 sd, renormalised at the ends).
fn gaussian_smooth(h: &[f64], sd: f64) -> Vec<f64> {
    let r = (3.0 * sd).ceil() as isize;
    let w: Vec<f64> = (-r..=r).map(|d| (-0.5 * (d as f64 / sd).powi(2)).exp()).collect();
    (0..h.len() as isize)
        .map(|i| {
            let (mut s, mut ws) = (0.0, 0.0);
            for (k, d) in (-r..=r).enumerate() {
                if let Some(&x) = usize::try_from(i + d).ok().and_then(|j| h.get(j)) {
                    s += w[k] * x;
                    ws += w[k];
                }
            }
            s / ws
        })
        .collect()
}

/// Every label's marrow level (index = label) with the shared `noise` level, from its core
/// voxels (`core`, [`crate::detect::interior::core_samples`]; all its voxels when fewer than
/// `min_region_voxels` are core); labels with fewer than `min_region_voxels` voxels take the
/// level of all bone together.
pub fn region_references(
    samples: &BoneSamples,
    core: &[Vec<f32>],
    noise: f64,
    p: &LocalParams,
) -> Vec<RegionReference> {
    let small = |v: &Vec<f32>| v.len() < p.min_region_voxels.max(1);
    // All bone's level is only needed for regions too small to have their own; a whole-body
    // scan's bone samples are not copied again unless one exists.
    let whole = if samples.by_label.iter().skip(1).any(|v| !v.is_empty() && small(v)) {
        marrow_level(&mut samples.by_label.concat()).unwrap_or(0.0)
    } else {
        0.0
    };
    samples
        .by_label
        .par_iter()
        .enumerate()
        .map(|(l, v)| {
            let own = core.get(l).filter(|c| !small(c)).unwrap_or(v);
            let marrow = if small(v) { whole } else { marrow_level(&mut own.clone()).unwrap_or(whole) };
            RegionReference { marrow, noise }
        })
        .collect()
}

/// [`noise_sigma`] looks at one line of voxels in this many at least (a few hundred thousand
/// neighbour pairs are plenty; a whole-body scan has hundreds of millions)...
pub const NOISE_ROW_STRIDE: i64 = 3;

/// ... and in more on a large scan, so that it looks at about this many voxels.
pub const NOISE_VOXELS: f64 = 3.0e7;

/// The scan's noise level inside bone: the robust spread (1.4826 MAD) of the difference
/// between neighbours along the finest voxel axis (all of them when several are as fine)
/// that are both bone, over the square root of 2. Marrow texture changes slowly from one
/// voxel to the next and noise does not, so this measures the noise. The lines used are
/// picked on the world lattice ([`crate::volume::Grid::lattice`]), so the level does not
/// depend on how the scan is stored. `None` when no two bone voxels are neighbours.
pub fn noise_sigma<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>) -> Option<f64> {
    let grid = &scan.grid;
    let [nx, ny, nz] = grid.dims;
    let spacing = grid.spacing();
    let finest = spacing.iter().cloned().fold(f64::INFINITY, f64::min);
    let axes: Vec<usize> = (0..3).filter(|&a| spacing[a] <= finest * (1.0 + 1e-6)).collect();
    let lattice = grid.lattice();
    let looked_at = (grid.len() * axes.len()) as f64;
    let every = NOISE_ROW_STRIDE.max((looked_at / NOISE_VOXELS).round() as i64);
    let m = |a: usize| -> Vec<i64> { lattice[a].iter().map(|p| p.rem_euclid(every)).collect() };
    let modulo = [m(0), m(1), m(2)];
    let step = [1, nx, nx * ny];
    let mut diffs: Vec<f32> = (0..nz)
        .into_par_iter()
        .flat_map_iter(|k| {
            let mut out = Vec::new();
            for j in 0..ny {
                let row = nx * (j + ny * k);
                if atlas.data[row..row + nx].iter().all(|&l| l == L::default()) {
                    continue;
                }
                for &a in &axes {
                    if (a == 1 && j + 1 >= ny) || (a == 2 && k + 1 >= nz) {
                        continue;
                    }
                    // The lines along `a` used: one in `every`, by the other two axes' lattice
                    // positions. Along i a row is one line; across it, the lattice steps by one
                    // per voxel, so the rows' voxels on used lines are every `every`-th.
                    let other = match a {
                        0 => modulo[1][j] + modulo[2][k],
                        1 => modulo[2][k],
                        _ => modulo[1][j],
                    };
                    let (first, by, last) = if a == 0 {
                        if other % every != 0 {
                            continue;
                        }
                        (0, 1, nx - 1)
                    } else {
                        let Some(first) = (0..nx.min(every as usize)).find(|&i| (modulo[0][i] + other) % every == 0)
                        else {
                            continue;
                        };
                        (first, every as usize, nx)
                    };
                    for i in (first..last).step_by(by) {
                        let (v, w) = (row + i, row + i + step[a]);
                        if atlas.data[v] == L::default() || atlas.data[w] == L::default() {
                            continue;
                        }
                        let d = scan.data[w] - scan.data[v];
                        if d.is_finite() {
                            out.push(d.abs());
                        }
                    }
                }
            }
            out
        })
        .collect();
    if diffs.is_empty() {
        return None;
    }
    let n = diffs.len();
    let mad = *diffs.select_nth_unstable_by(n / 2, f32::total_cmp).1 as f64;
    Some(MAD_TO_SD * mad / std::f64::consts::SQRT_2)
}
