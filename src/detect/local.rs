//! The local detector: STIR hyperintensity against each region's own normal marrow.
//!
//! Real oedema sits at a signal ratio of about 1.1-2.4 to the patient's normal marrow, whose
//! own spread (red against yellow marrow, coil bias, noise) is 20-40% of its level; z-scores
//! against all bone do not carry over between scans, ratios to the region's own marrow do.
//! So every threshold here is a ratio to the region's normal marrow ([`region_references`]:
//! the mode of the region's intensities, which stays on normal marrow even when lesions fill
//! a large share of the region) or a multiple of the scan's own noise level
//! ([`noise_sigma`]); multiplying every intensity by a constant changes nothing.
//!
//! Lesion voxels are bone voxels above `grow_ratio`; a connected group of them is a lesion
//! when it holds a seed core of at least `seed_core_mm3` of voxels whose denoised signal (the
//! mean over bone voxels within `denoise_mm` along each axis) is above `seed_ratio` and
//! `noise_z` noise levels, at least `edge_mm` inside the atlas (a thin subchondral strip
//! keeps its seeds with the default of 1 mm). Noise speckle and marrow texture seldom form
//! such cores. Components shaped like a growth plate are dropped ([`is_plate`]), and each
//! lesion is cut to its half-maximum outline, which trims a physis or disc it touches off it.

use super::interior::{box_margin, interior_in_box};
use super::marrow_map::MarrowMap;
use super::shape::{is_plate, shape_of_voxels, shapes};
use super::Bones;
use crate::ccl::{self, Connectivity};
use crate::error::{Error, Result};
use crate::reference::{BoneSamples, MAD_TO_SD};
use crate::volume::{Label, Volume};
use rayon::prelude::*;
use serde::Serialize;

/// Settings of the local detector (see the module doc; docs/ACCURACY.md says how the
/// defaults were chosen).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LocalParams {
    /// Seed cores have a denoised signal at least this ratio to the region's normal marrow
    /// (the detector's main threshold, which the FROC sweeps).
    pub seed_ratio: f64,
    /// Lesion voxels have a signal at least this ratio to the region's normal marrow.
    pub grow_ratio: f64,
    /// A lesion's seed core holds at least this volume (mm^3).
    pub seed_core_mm3: f64,
    /// Seed voxels also stand this many noise levels (of the denoised signal) above the marrow.
    pub noise_z: f64,
    /// Lesion voxels also stand this many noise levels above the marrow (so that noise in
    /// dark yellow marrow does not percolate into one huge component).
    pub grow_noise_z: f64,
    /// Denoising radius (mm): seeds are judged on the mean over bone voxels within this
    /// distance along each axis (axes with voxels coarser than it are not averaged).
    pub denoise_mm: f64,
    /// Seeds must lie at least this far (mm) inside the atlas.
    pub edge_mm: f64,
    /// Regions with fewer voxels take the marrow level of all bone.
    #[serde(skip)]
    pub min_region_voxels: usize,
    /// Components thinner than this (mm), 2.5 times as wide and across the body are growth
    /// plates (physes) and dropped; 0 turns the guard off.
    pub plate_mm: f64,
    /// A kept component keeps the voxels at least this fraction of the way from its region's
    /// marrow level up to its peak intensity (0.5: the lesion's half-maximum outline).
    pub peak_fraction: f64,
}

impl Default for LocalParams {
    fn default() -> LocalParams {
        LocalParams {
            seed_ratio: 1.6,
            grow_ratio: 1.2,
            seed_core_mm3: 50.0,
            noise_z: 8.0,
            grow_noise_z: 2.5,
            denoise_mm: 1.0,
            edge_mm: 1.0,
            min_region_voxels: 200,
            plate_mm: 4.0,
            peak_fraction: 0.35,
        }
    }
}

impl LocalParams {
    /// Checks ranges; messages name the command-line flag.
    ///
    /// # Errors
    /// [`Error::Parameter`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        let values = [
            ("--seed-ratio", self.seed_ratio),
            ("--grow-ratio", self.grow_ratio),
            ("--seed-core-mm3", self.seed_core_mm3),
            ("--noise-z", self.noise_z),
            ("--grow-noise-z", self.grow_noise_z),
            ("--denoise-mm", self.denoise_mm),
            ("--edge-mm", self.edge_mm),
            ("--plate-mm", self.plate_mm),
            ("--peak-fraction", self.peak_fraction),
        ];
        for (name, v) in values {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::Parameter(format!("{name} must be a finite number >= 0, got {v}")));
            }
        }
        if self.grow_ratio <= 0.0 {
            return Err(Error::Parameter(format!("--grow-ratio must be > 0, got {}", self.grow_ratio)));
        }
        if self.grow_ratio > self.seed_ratio {
            return Err(Error::Parameter(format!(
                "--grow-ratio ({}) must not exceed --seed-ratio ({})",
                self.grow_ratio, self.seed_ratio
            )));
        }
        if self.peak_fraction >= 1.0 {
            return Err(Error::Parameter(format!("--peak-fraction must be in [0, 1), got {}", self.peak_fraction)));
        }
        Ok(())
    }
}

/// A region's normal-marrow level and the scan's noise level, in scan units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionReference {
    /// Normal-marrow intensity of the region: the mode of its intensities ([`marrow_level`]).
    pub marrow: f64,
    /// Standard deviation of the scan's noise ([`noise_sigma`]), shared by all regions.
    pub noise: f64,
}

/// Bins of the histogram whose peak is the marrow level, between the 0.5th and 99.5th
/// percentiles of the region's intensities (bins relative to the data: scale-free).
pub const MODE_BINS: usize = 256;
/// Standard deviation (bins) of the Gaussian that smooths that histogram before its peak is
/// taken, so that noise does not pick a spurious peak.
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
    let floor = CORTEX_FRACTION * *values.select_nth_unstable_by(n / 2, f32::total_cmp).1;
    let mut marrow: Vec<f32> = values.iter().copied().filter(|&x| x >= floor).collect();
    histogram_mode(&mut marrow)
}

/// Voxels darker than this fraction of their region's (or block's) median are cortex, not
/// marrow, for the marrow level.
pub const CORTEX_FRACTION: f32 = 0.5;

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
    let smooth = gaussian_smooth(&hist, MODE_SMOOTHING_BINS);
    // The first bin of the highest peak (ties go to the darker bin).
    let peak = (0..MODE_BINS).fold(0, |best, b| if smooth[b] > smooth[best] { b } else { best });
    Some(lo + (peak as f64 + 0.5) * width)
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
/// voxels (`core`, [`super::interior::core_samples`]; all its voxels when fewer than
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

/// The local detector's lesions (see the module doc): bone voxels above `grow_ratio` of
/// their region's marrow, grouped into components; a component with a seed core
/// ([`Seeds::keep`]) that is not shaped like a growth plate is cut to its half-maximum
/// outline ([`half_maximum_cuts`]), which trims off a physis or a bright disc it touches,
/// and the pieces go through the seed and plate tests again. Works on foreground runs only:
/// no full-size mask, label or denoised volume is made.
pub fn local_components<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    refs: &[RegionReference],
    bones: &Bones,
    p: &LocalParams,
    conn: Connectivity,
) -> ccl::Components {
    let [nx, ny, _] = scan.grid.dims;
    let map = MarrowMap::new(scan, atlas);
    let marrow = |ijk: [usize; 3], l: L| local_marrow(refs, &map, ijk, l);
    let grow_noise = p.grow_noise_z * refs.first().map_or(0.0, |r| r.noise);
    // Components stay inside one bone: oedema does not cross a joint, and a focus in the
    // acetabulum must not merge with one in the femoral head across it.
    let bone = |l: L| bones.of(l);
    let grown = ccl::label_classed_rows(scan.grid.dims, conn, |row, runs, classes| {
        let (base, j, k) = (row * nx, row % ny, row / ny);
        // Most rows of a whole-body scan hold no bone: find the row's bone span first.
        let Some((from, to)) = super::interior::bone_span(&atlas.data[base..base + nx]) else { return };
        ccl::push_classed_runs(
            from,
            to,
            |i| {
                let (x, l) = (scan.data[base + i], atlas.data[base + i]);
                // The region's level first (cheap), then the local one.
                let grows = |m: f64| x as f64 >= (p.grow_ratio * m).max(m + grow_noise);
                let yes =
                    l != L::default() && x.is_finite() && grows(refs[l.index()].marrow) && grows(marrow([i, j, k], l));
                yes.then(|| bone(l))
            },
            runs,
            classes,
        )
    });
    let seeds = Seeds::new(scan, atlas, refs, &map, bones, p);
    let kept = seeds.keep(&grown);
    let cut = half_maximum_cuts(&seeds, &grown, &kept, p.peak_fraction);
    let trim = plate_trims(scan, atlas, bones, &grown, &kept, &cut, p.plate_mm, conn);
    let trimmed = ccl::label_classed_rows(scan.grid.dims, conn, |row, runs, classes| {
        let base = row * nx;
        for (run, c) in grown.row(row) {
            let c = c as usize;
            let class = |i: usize| bone(atlas.data[base + i]);
            if kept[c] && trim[c] {
                let (from, to) = (run.start as usize, run.end as usize);
                ccl::push_classed_runs(from, to, |i| (scan.data[base + i] >= cut[c]).then(|| class(i)), runs, classes);
            } else if kept[c] {
                runs.push(run);
                classes.push(class(run.start as usize));
            }
        }
    });
    drop(grown);
    let kept = seeds.keep(&trimmed);
    trimmed.retain(|c| kept[c as usize])
}

/// The normal-marrow level of label `l` at voxel `ijk`: the region's own level, or the
/// marrow around the voxel where that is brighter ([`MarrowMap`]: red marrow in a region
/// whose commonest marrow is yellow).
fn local_marrow<L: Label>(refs: &[RegionReference], map: &MarrowMap, ijk: [usize; 3], l: L) -> f64 {
    let region = refs[l.index()].marrow;
    map.level(ijk, l.into()).map_or(region, |local| local.max(region))
}

/// Which kept components to cut to their half-maximum outline (index = component): those
/// where what the cut takes off holds a growth plate (a physis or disc fused to the lesion,
/// [`is_plate`]). Elsewhere the lesion keeps every voxel it grew over: real oedema is a
/// plateau of signal with no sharp peak, and its half-maximum outline is a fraction of what a
/// radiologist marks. With `plate_mm` 0 (no plate guard) every kept component is cut.
#[allow(clippy::too_many_arguments)]
fn plate_trims<L: Label>(
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
    let mut across = vec![super::shape::WORLD_Z; below.count + 1];
    below.for_each_run(|row, run, piece| {
        if parent[piece as usize] == 0 {
            let voxel = run.start as usize;
            across[piece as usize] = bones.plate_axis(atlas.data[row * nx + voxel]);
            parent[piece as usize] =
                grown.row(row).find(|(r, _)| (r.start as usize..r.end as usize).contains(&voxel)).map_or(0, |(_, c)| c);
        }
    });
    let mut trim = vec![false; kept.len()];
    for (piece, shape) in shapes(&below, &scan.grid).iter().enumerate().skip(1) {
        if is_plate(shape, plate_mm, across[piece]) {
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
fn half_maximum_cuts<L: Label>(seeds: &Seeds<L>, comps: &ccl::Components, kept: &[bool], fraction: f64) -> Vec<f32> {
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

/// The seed test of [`local_components`] (see [`Seeds::keep`]).
struct Seeds<'a, L> {
    scan: &'a Volume<f32>,
    atlas: &'a Volume<L>,
    refs: &'a [RegionReference],
    map: &'a MarrowMap,
    bones: &'a Bones,
    seed_ratio: f64,
    /// Per label: the denoised excess over the marrow a seed voxel needs (`noise_z` noise
    /// levels of the denoised signal).
    noise_excess: Vec<f64>,
    /// Denoising radius in voxels along each axis.
    radius: [usize; 3],
    /// Seed voxels a core needs.
    core_voxels: usize,
    edge_mm: f64,
    plate_mm: f64,
}

impl<'a, L: Label> Seeds<'a, L> {
    fn new(
        scan: &'a Volume<f32>,
        atlas: &'a Volume<L>,
        refs: &'a [RegionReference],
        map: &'a MarrowMap,
        bones: &'a Bones,
        p: &LocalParams,
    ) -> Seeds<'a, L> {
        let spacing = scan.grid.spacing();
        let radius = spacing.map(|s| (p.denoise_mm / s + 1e-9).floor() as usize);
        let window = radius.iter().map(|r| 2 * r + 1).product::<usize>() as f64;
        let noise_excess = refs.iter().map(|r| p.noise_z * r.noise / window.sqrt()).collect();
        let voxel_mm3 = spacing.iter().product::<f64>();
        let core_voxels = ((p.seed_core_mm3 / voxel_mm3 - 1e-9).ceil().max(1.0)) as usize;
        Seeds {
            scan,
            atlas,
            refs,
            map,
            bones,
            seed_ratio: p.seed_ratio,
            noise_excess,
            radius,
            core_voxels,
            edge_mm: p.edge_mm,
            plate_mm: p.plate_mm,
        }
    }

    /// Whether the voxel's denoised signal reaches `seed_ratio` times its local marrow level
    /// and stands `noise_z` noise levels above it.
    fn is_seed(&self, ijk: [usize; 3], l: L) -> bool {
        let x = self.denoised(ijk);
        let region = self.refs[l.index()].marrow;
        if x < self.seed_ratio * region || x < region + self.noise_excess[l.index()] {
            return false;
        }
        let marrow = local_marrow(self.refs, self.map, ijk, l);
        x >= self.seed_ratio * marrow && x >= marrow + self.noise_excess[l.index()]
    }

    /// The mean intensity of the bone voxels within the denoising window around `[i, j, k]`.
    fn denoised(&self, [i, j, k]: [usize; 3]) -> f64 {
        let g = &self.scan.grid;
        let span = |c: usize, a: usize| c.saturating_sub(self.radius[a])..(c + self.radius[a] + 1).min(g.dims[a]);
        let (mut sum, mut n) = (0f64, 0usize);
        for kk in span(k, 2) {
            for jj in span(j, 1) {
                let row = g.dims[0] * (jj + g.dims[1] * kk);
                for ii in span(i, 0) {
                    let x = self.scan.data[row + ii];
                    if self.atlas.data[row + ii] != L::default() && x.is_finite() {
                        sum += x as f64;
                        n += 1;
                    }
                }
            }
        }
        if n == 0 {
            f64::NEG_INFINITY
        } else {
            sum / n as f64
        }
    }

    /// Which components to keep (index = label; 0, the background, false): those holding a
    /// seed core (at least `core_voxels` voxels that pass [`Seeds::is_seed`] and that lie `edge_mm` inside the atlas) and, when `plate_mm > 0`,
    /// not shaped like a growth plate. The interior is worked out only in a box around each
    /// component with enough bright voxels.
    fn keep(&self, comps: &ccl::Components) -> Vec<bool> {
        let grid = &self.atlas.grid;
        let [nx, ny, _] = grid.dims;
        let mut bright: Vec<Vec<[usize; 3]>> = vec![Vec::new(); comps.count + 1];
        let mut boxes = vec![([usize::MAX; 3], [0usize; 3]); comps.count + 1];
        comps.for_each_run(|row, run, c| {
            let (j, k) = (row % ny, row / ny);
            let (lo, hi) = &mut boxes[c as usize];
            *lo = [lo[0].min(run.start as usize), lo[1].min(j), lo[2].min(k)];
            *hi = [hi[0].max(run.end as usize), hi[1].max(j + 1), hi[2].max(k + 1)];
            for i in run.start as usize..run.end as usize {
                let l = self.atlas.data[i + nx * row];
                if l != L::default() && self.is_seed([i, j, k], l) {
                    bright[c as usize].push([i, j, k]);
                }
            }
        });
        let margin = box_margin(grid.spacing(), self.edge_mm);
        let mut kept: Vec<bool> = bright
            .par_iter()
            .zip(&boxes)
            .map(|(vox, (lo, hi))| {
                if vox.len() < self.core_voxels {
                    return false;
                }
                let lo = [0, 1, 2].map(|a| lo[a].saturating_sub(margin[a]));
                let hi = [0, 1, 2].map(|a| (hi[a] + margin[a]).min(grid.dims[a]));
                let inside = interior_in_box(self.atlas, lo, hi, self.edge_mm);
                let (bx, by) = (hi[0] - lo[0], hi[1] - lo[1]);
                let at = |[i, j, k]: [usize; 3]| (i - lo[0]) + bx * ((j - lo[1]) + by * (k - lo[2]));
                vox.iter().filter(|&&v| inside[at(v)]).count() >= self.core_voxels
            })
            .collect();
        kept[0] = false;
        if self.plate_mm > 0.0 {
            // A growth plate, as the whole component or as its seed core: a physis grown
            // into the marrow beside it is no longer thin, but its brightest voxels are.
            for (c, shape) in shapes(comps, grid).iter().enumerate().skip(1) {
                if !kept[c] {
                    continue;
                }
                let [i, j, k] = bright[c][0];
                let across = self.bones.plate_axis(self.atlas.data[grid.index(i, j, k)]);
                if is_plate(shape, self.plate_mm, across)
                    || is_plate(&shape_of_voxels(&bright[c], grid), self.plate_mm, across)
                {
                    kept[c] = false;
                }
            }
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    fn local_mask(scan: &Volume<f32>, atlas: &Volume<u16>, refs: &[RegionReference], p: &LocalParams) -> Vec<bool> {
        local_components(scan, atlas, refs, &Bones::default(), p, Connectivity::Corners26)
            .to_volume()
            .iter()
            .map(|&l| l != 0)
            .collect()
    }

    fn refs(marrow: f64, noise: f64) -> Vec<RegionReference> {
        vec![RegionReference { marrow: 0.0, noise }, RegionReference { marrow, noise }]
    }

    /// Seeds only on single voxels, no denoising, no edge guard: the hysteresis alone.
    fn bare() -> LocalParams {
        LocalParams {
            seed_core_mm3: 1.0,
            noise_z: 0.0,
            grow_noise_z: 0.0,
            denoise_mm: 0.0,
            edge_mm: 0.0,
            ..LocalParams::default()
        }
    }

    #[test]
    fn the_marrow_level_is_the_mode_of_the_marrow() {
        // 500 marrow voxels peaking at 100, 400 lesion voxels over 240-260 (40% of the
        // region, as the largest real oedema) and 300 cortex voxels at 20 and 35: the mode
        // of what is not cortex is the marrow, where the mean is far above it.
        let mut v: Vec<f32> = (0..500).map(|i| 100.0 + ((i % 11) as f32 - 5.0) * ((i / 11) % 2) as f32).collect();
        v.extend((0..400).map(|i| 240.0 + (i % 21) as f32));
        v.extend((0..300).map(|i| if i % 2 == 0 { 20.0 } else { 35.0 }));
        let mode = marrow_level(&mut v.clone()).unwrap();
        assert!((mode - 100.0).abs() < 2.0, "{mode}");
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!(mean > 130.0);
        assert_eq!(marrow_level(&mut []), None);
        assert_eq!(marrow_level(&mut [7.0, 7.0]), Some(7.0));
    }

    #[test]
    fn the_marrow_level_scales_with_the_intensities() {
        let v: Vec<f32> =
            (0..5000).map(|i| 100.0 + ((i * 7919) % 61) as f32 - 30.0 + ((i % 97) as f32).sqrt()).collect();
        let a = marrow_level(&mut v.clone()).unwrap();
        let b = marrow_level(&mut v.iter().map(|x| x * 8.0).collect::<Vec<f32>>()).unwrap();
        assert!((b / a - 8.0).abs() < 1e-4, "{a} {b}");
    }

    #[test]
    fn the_noise_level_is_measured_between_neighbouring_bone_voxels() {
        // A smooth ramp (texture) plus alternating +-10 (noise of sd 10): differences are
        // +-20 plus the ramp's 0.1, so the estimate is close to 10 / sqrt(2) * 2 / sqrt(2).
        // Only the finest axis (i, 1 mm) is used.
        let grid = Grid { dims: [200, 30, 4], affine: Affine::from_spacing_origin([1.0, 2.0, 3.0], [0.0; 3]) };
        let data: Vec<f32> =
            (0..grid.len()).map(|v| 100.0 + 0.1 * (v % 200) as f32 + if v % 2 == 0 { 10.0 } else { -10.0 }).collect();
        let scan = Volume::from_vec(grid, data);
        let atlas = Volume::filled(grid, 1u8);
        let s = noise_sigma(&scan, &atlas).unwrap();
        assert!((s - 20.0 * MAD_TO_SD / std::f64::consts::SQRT_2).abs() < 0.2, "{s}");
        assert_eq!(noise_sigma(&scan, &Volume::filled(grid, 0u8)), None);
    }

    #[test]
    fn the_noise_level_does_not_depend_on_the_storage_order() {
        let grid =
            Grid { dims: [40, 30, 12], affine: Affine::from_spacing_origin([1.5, 1.5, 4.0], [-30.75, 10.0, 2.0]) };
        let mut state = 12345u64;
        let data: Vec<f32> = (0..grid.len())
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                100.0 + ((state >> 33) % 1000) as f32 / 20.0
            })
            .collect();
        let scan = Volume::from_vec(grid, data);
        let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| (v % 7 != 0) as u8).collect());
        let want = noise_sigma(&scan, &atlas).unwrap();
        for code in ["LPS", "ASR", "PIL", "SRA"] {
            let (s, a) = (scan.reoriented(code).unwrap(), atlas.reoriented(code).unwrap());
            assert_eq!(noise_sigma(&s, &a), Some(want), "{code}");
            let (m, n) = (MarrowMap::new(&scan, &atlas), MarrowMap::new(&s, &a));
            for v in (0..grid.len()).step_by(97) {
                let o = grid.ijk(v).map(|x| x as f64);
                let w = grid.affine.voxel_to_world(o);
                let r = s.grid.affine.world_to_voxel(w).unwrap().map(|x| x.round() as usize);
                assert_eq!(m.level(grid.ijk(v), 1), n.level(r, 1), "{code} voxel {v}");
            }
        }
    }

    #[test]
    fn region_references_take_each_regions_mode_and_fall_back_when_small() {
        let mut scan: Vec<f32> = (0..300).map(|i| 100.0 + (i % 5) as f32).collect();
        scan.extend((0..300).map(|i| 50.0 + (i % 5) as f32));
        scan.push(7.0);
        let mut atlas = vec![1u16; 300];
        atlas.extend([2u16; 300]);
        atlas.push(3);
        let samples = BoneSamples::gather(&scan, &atlas);
        let r = region_references(&samples, &[], 4.0, &LocalParams::default());
        // Uniform over 100..=104 and 50..=54: the mode lies within each region's values.
        assert!((99.9..104.1).contains(&r[1].marrow) && (49.9..54.1).contains(&r[2].marrow), "{:?}", &r[..4]);
        let whole = marrow_level(&mut samples.by_label.concat()).unwrap();
        assert_eq!(r[3].marrow, whole, "the one-voxel region takes all bone's mode");
        assert!(r.iter().all(|x| x.noise == 4.0));
    }

    #[test]
    fn seeds_need_a_core_inside_and_growth_keeps_the_whole_component() {
        // One line of 12 voxels, all atlas; marrow 100. The line is 1 voxel thick along j and
        // k (10 mm), so the 2 mm edge guard acts along i only.
        let grid = Grid { dims: [12, 1, 1], affine: Affine::from_spacing_origin([1.0, 10.0, 10.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let p = LocalParams { seed_ratio: 1.8, grow_ratio: 1.4, edge_mm: 2.0, ..bare() };
        // A bright edge blob (0..2) never seeds; an inner lesion (5..8) seeds at 6 and grows
        // over 5..8; 10 is bright but at the edge.
        let mut v = vec![100.0f32; 12];
        for (i, x) in [(0, 200.0), (1, 200.0), (5, 150.0), (6, 190.0), (7, 150.0), (10, 190.0)] {
            v[i] = x;
        }
        let scan = Volume::from_vec(grid, v);
        let got = local_mask(&scan, &atlas, &refs(100.0, 1.0), &p);
        assert_eq!(got, (0..12).map(|i| (5..8).contains(&i)).collect::<Vec<bool>>());
        // A core of 2 voxels (20 mm^3 here... 200 mm^3) is more than the lesion's one seed.
        let strict = LocalParams { seed_core_mm3: 150.0, ..p };
        assert!(!local_mask(&scan, &atlas, &refs(100.0, 1.0), &strict).iter().any(|&b| b));
    }

    #[test]
    fn noisy_scans_need_seeds_above_the_noise_as_well_as_the_ratio() {
        let grid = Grid { dims: [12, 1, 1], affine: Affine::from_spacing_origin([1.0, 10.0, 10.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let mut v = vec![100.0f32; 12];
        v[5..8].copy_from_slice(&[170.0, 170.0, 170.0]);
        let scan = Volume::from_vec(grid, v);
        let p = LocalParams { noise_z: 3.0, ..bare() };
        assert!(local_mask(&scan, &atlas, &refs(100.0, 20.0), &p).iter().any(|&b| b), "70 > 3 x 20");
        assert!(!local_mask(&scan, &atlas, &refs(100.0, 30.0), &p).iter().any(|&b| b), "70 < 3 x 30");
    }

    #[test]
    fn denoising_averages_bone_voxels_only() {
        // A 1-voxel bright line (ratio 2) at the edge of a bone: with a 1 mm radius its
        // denoised value averages itself with bone voxels only (the outside is brighter
        // fluid and must not count).
        let grid = Grid { dims: [9, 9, 1], affine: Affine::from_spacing_origin([1.0, 1.0, 5.0], [0.0; 3]) };
        let mut atlas = Volume::filled(grid, 0u16);
        let mut scan = Volume::filled(grid, 900.0f32);
        for j in 0..9 {
            for i in 0..5 {
                atlas.data[grid.index(i, j, 0)] = 1;
                scan.data[grid.index(i, j, 0)] = if i == 4 { 200.0 } else { 100.0 };
            }
        }
        let p = LocalParams { denoise_mm: 1.0, ..bare() };
        let map = MarrowMap::new(&scan, &atlas);
        let r = refs(100.0, 1.0);
        let bones = Bones::default();
        let seeds = Seeds::new(&scan, &atlas, &r, &map, &bones, &p);
        // Window at (4, 4): i 3..5 (bone only: 3, 4) x j 3..6 -> (3 x 100 + 3 x 200) / 6.
        assert!((seeds.denoised([4, 4, 0]) - 150.0).abs() < 1e-9);
        assert_eq!(seeds.radius, [1, 1, 0]);
    }

    #[test]
    fn multiplying_every_intensity_by_a_constant_changes_nothing() {
        let grid = Grid { dims: [40, 30, 6], affine: Affine::from_spacing_origin([0.7, 0.7, 4.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let data: Vec<f32> = (0..grid.len())
            .map(|v| {
                let (i, j) = (v % 40, (v / 40) % 30);
                let lesion = (12..20).contains(&i) && (10..18).contains(&j);
                let noise = ((v * 2654435761) % 97) as f32 - 48.0;
                (if lesion { 230.0 } else { 120.0 }) + 0.4 * noise
            })
            .collect();
        let run = |k: f32| {
            let scan = Volume::from_vec(grid, data.iter().map(|x| x * k).collect());
            let samples = BoneSamples::gather(&scan.data, &atlas.data);
            let noise = noise_sigma(&scan, &atlas).unwrap();
            let p = LocalParams::default();
            local_mask(&scan, &atlas, &region_references(&samples, &[], noise, &p), &p)
        };
        let base = run(1.0);
        assert!(base.iter().filter(|&&b| b).count() > 100);
        for k in [0.01, 0.37, 3.0, 250.0] {
            assert_eq!(run(k), base, "scale {k}");
        }
    }

    #[test]
    fn a_physis_touching_a_lesion_is_trimmed_off_and_a_lone_physis_dropped() {
        // 30 x 12 x 40 voxels of 1 x 1 x 1 mm, one region (marrow 100). A physis (200) spans
        // i 0..30 at k 20..22; a lesion (500) sits on it at i 10..16, k 22..28; a second
        // physis far away at k 5..7 stands alone.
        let grid = Grid { dims: [30, 12, 40], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let mut scan = Volume::filled(grid, 100.0f32);
        for k in 0..40 {
            for j in 0..12 {
                for i in 0..30 {
                    let v = &mut scan.data[grid.index(i, j, k)];
                    if (20..22).contains(&k) || (5..7).contains(&k) {
                        *v = 200.0;
                    }
                    if (10..16).contains(&i) && (22..28).contains(&k) {
                        *v = 500.0;
                    }
                }
            }
        }
        let p = LocalParams { seed_ratio: 3.0, grow_ratio: 1.6, ..bare() };
        let got = local_mask(&scan, &atlas, &refs(100.0, 1.0), &p);
        for k in 0..40 {
            for i in 0..30 {
                let want = (10..16).contains(&i) && (22..28).contains(&k);
                assert_eq!(got[grid.index(i, 1, k)], want, "i {i} k {k}");
            }
        }
        // Without the half-maximum cut the physis stays fused to the lesion.
        let loose = LocalParams { peak_fraction: 0.0, ..p };
        let got = local_mask(&scan, &atlas, &refs(100.0, 1.0), &loose);
        assert!(got[grid.index(0, 1, 20)] && !got[grid.index(0, 1, 5)]);
    }
}
