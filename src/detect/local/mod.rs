//! The local detector: STIR hyperintensity against each region's own normal marrow.
//!
//! Real oedema sits at a signal ratio of about 1.1-2.4 to the patient's normal marrow, whose
//! own spread (red against yellow marrow, coil bias, noise) is 20-40% of its level; z-scores
//! against all bone do not carry over between scans, ratios to the region's own marrow do.
//! So every threshold here is a ratio to the region's normal marrow ([`region_references`]:
//! the mode of the region's intensities, which stays on normal marrow even when lesions fill
//! a large share of the region) or a multiple of the scan's own noise level
//! ([`noise_sigma`]); multiplying every intensity by a constant changes nothing. With
//! `fine_mm` > 0 (the default) voxels are judged against the marrow right beside them
//! ([`FineLevel`], built on that coarse level), as radiologists judge oedema.
//!
//! Lesion voxels are bone voxels above `grow_ratio`, both on their own and as the denoised
//! mean around them (so that bright speckle and streaks of marrow texture do not bridge into
//! a lesion's outline, which stays as confluent as a radiologist draws it); a connected group of them is a lesion
//! when it holds a seed core of at least `seed_core_mm3` of voxels whose denoised signal (the
//! mean over bone voxels within `denoise_mm` along each axis) is above `seed_ratio` and
//! `noise_z` noise levels, at least `edge_mm` inside the atlas (a thin subchondral strip
//! keeps its seeds with the default of 1.5 mm) and not next to a brighter voxel outside the
//! atlas (partial volume with fluid beside the bone). Noise speckle and marrow texture seldom form
//! such cores. Components shaped like a growth plate are dropped ([`is_plate`](crate::detect::shape::is_plate)), and each
//! lesion is cut to its half-maximum outline, which trims a physis or disc it touches off it.

mod levels;
mod outline;
mod seeds;
#[cfg(test)]
mod tests;

pub use levels::{
    cortex_floor, marrow_level, noise_sigma, region_references, CORTEX_FRACTION, MODE_BINS, MODE_REFERENCE_SAMPLES,
    MODE_SMOOTHING_BINS, NOISE_ROW_STRIDE, NOISE_VOXELS,
};
pub use outline::PEAK_QUANTILE;

use super::fine_level::{FineLevel, FineRow};
use super::marrow_map::{MarrowMap, MAX_LIFT};
use super::slab_level::{SlabLevels, SLAB_MAX_LIFT};
use super::Bones;
use crate::ccl::{self, Connectivity};
use crate::error::{Error, Result};
use crate::volume::{Label, Volume};
use outline::{half_maximum_cuts, plate_trims};
use seeds::Seeds;
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
    /// Fine marrow level (mm, the Gaussian's standard deviation): lesions are judged against
    /// the marrow within about this distance ([`FineLevel`]) instead of the region's
    /// level; 0 turns it off.
    pub fine_mm: f64,
    /// Denoising radius (mm): seeds, and lesion voxels beside their own value, are judged on
    /// the mean over bone voxels within this distance along each axis (axes with voxels
    /// coarser than it are not averaged); 0 judges every voxel on its own value.
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
    /// Foci at normal-variant sites under this size (mm, in the scan's plane) are set aside as
    /// equivocal, not lesions ([`crate::equivocal`]); 0 sets none aside.
    pub variant_focus_mm: f64,
}

impl Default for LocalParams {
    fn default() -> LocalParams {
        LocalParams {
            seed_ratio: 1.55,
            grow_ratio: 1.2,
            seed_core_mm3: 50.0,
            noise_z: 17.0,
            grow_noise_z: 2.5,
            fine_mm: 3.0,
            denoise_mm: 1.0,
            edge_mm: 1.5,
            min_region_voxels: 200,
            plate_mm: 4.0,
            peak_fraction: 0.35,
            variant_focus_mm: crate::equivocal::VARIANT_FOCUS_MM,
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
            ("--fine-mm", self.fine_mm),
            ("--edge-mm", self.edge_mm),
            ("--plate-mm", self.plate_mm),
            ("--peak-fraction", self.peak_fraction),
            ("--variant-focus-mm", self.variant_focus_mm),
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

    /// Voxels the denoising window reaches on either side of its centre along each axis, on a
    /// grid of `spacing` (mm): none along an axis coarser than `denoise_mm`.
    pub fn denoise_radius(&self, spacing: [f64; 3]) -> [usize; 3] {
        spacing.map(|s| (self.denoise_mm / s + 1e-9).floor() as usize)
    }

    /// The excess over the marrow level that a seed's denoised signal needs on a grid of
    /// `spacing` whose noise level is `noise`: `noise_z` times the noise of the window's mean
    /// (the noise over the square root of the window's voxels).
    pub fn seed_noise_excess(&self, spacing: [f64; 3], noise: f64) -> f64 {
        let window = self.denoise_radius(spacing).iter().map(|r| 2 * r + 1).product::<usize>() as f64;
        self.noise_z * noise / window.sqrt()
    }

    /// The faintest oedema that can seed a lesion where the marrow is at level `marrow`, as a
    /// signal ratio to that level: `seed_ratio`, or more where the noise demand asks for more
    /// (a noisy scan, or a grid too coarse for the denoising window). A voxel is judged against
    /// its local marrow level, which may lie above the region's (red marrow) or below it
    /// (dark subchondral marrow); at the region's level this is its floor. `None` for a level at
    /// or below 0, against which no ratio means anything.
    pub fn seed_floor_ratio(&self, spacing: [f64; 3], marrow: f64, noise: f64) -> Option<f64> {
        (marrow > 0.0).then(|| self.seed_ratio.max(1.0 + self.seed_noise_excess(spacing, noise) / marrow))
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

/// The local detector's lesions (see the module doc): bone voxels above `grow_ratio` of
/// their region's marrow, grouped into components; a component with a seed core
/// (`Seeds::keep`) that is not shaped like a growth plate is cut to its half-maximum
/// outline (`half_maximum_cuts`), which trims off a physis or a bright disc it touches,
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
    let slabs = SlabLevels::new(scan, atlas, &bones.long_axes(refs.len()));
    let levels = Levels::new(scan, atlas, refs, &map, &slabs, p.fine_mm);
    let grow_noise = p.grow_noise_z * refs.first().map_or(0.0, |r| r.noise);
    // Components stay inside one bone: oedema does not cross a joint, and a focus in the
    // acetabulum must not merge with one in the femoral head across it.
    let bone = |l: L| bones.of(l);
    let seeds = Seeds::new(scan, atlas, refs, &levels, bones, p);
    let grown = ccl::label_classed_rows(scan.grid.dims, conn, |row, runs, classes| {
        let (base, j, k) = (row * nx, row % ny, row / ny);
        // Most rows of a whole-body scan hold no bone: find the row's bone span first.
        let Some((from, to)) = super::interior::bone_span(&atlas.data[base..base + nx]) else { return };
        let fine = levels.row(j, k);
        ccl::push_classed_runs(
            from,
            to,
            |i| {
                let (x, l) = (scan.data[base + i], atlas.data[base + i]);
                let grows = |x: f64, m: f64| x >= (p.grow_ratio * m).max(m + grow_noise);
                // A lower bound first (cheap), then the voxel's own level, then its
                // neighbourhood's mean: bright speckle and streaks of marrow texture do
                // not bridge into a lesion, so outlines stay confluent.
                let yes = l != L::default() && x.is_finite() && grows(x as f64, levels.floor(l)) && {
                    let m = levels.in_row(fine.as_ref(), [i, j, k], l);
                    grows(x as f64, m) && grows(seeds.denoised([i, j, k]), m)
                };
                yes.then(|| bone(l))
            },
            runs,
            classes,
        )
    });
    let kept = seeds.keep(&grown, false);
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
    let kept = seeds.keep(&trimmed, true);
    trimmed.retain(|c| kept[c as usize])
}

/// The normal-marrow level that a voxel is judged against.
pub(super) struct Levels<'a> {
    refs: &'a [RegionReference],
    map: &'a MarrowMap,
    slabs: &'a SlabLevels,
    fine: Option<FineLevel>,
}

impl<'a> Levels<'a> {
    fn new<L: Label>(
        scan: &Volume<f32>,
        atlas: &Volume<L>,
        refs: &'a [RegionReference],
        map: &'a MarrowMap,
        slabs: &'a SlabLevels,
        fine_mm: f64,
    ) -> Levels<'a> {
        let fine = (fine_mm > 0.0)
            .then(|| FineLevel::new(scan, atlas, fine_mm, |ijk, l| coarse_level(refs, map, slabs, ijk, l)));
        Levels { refs, map, slabs, fine }
    }

    /// The level at voxel `ijk` of label `l`: the fine level where there is one, else the
    /// coarse level ([`coarse_level`]).
    pub(super) fn at<L: Label>(&self, ijk: [usize; 3], l: L) -> f64 {
        self.fine
            .as_ref()
            .and_then(|f| f.level(ijk))
            .unwrap_or_else(|| coarse_level(self.refs, self.map, self.slabs, ijk, l))
    }

    /// The fine level's view of one row of voxels, for [`Levels::in_row`].
    pub(super) fn row(&self, j: usize, k: usize) -> Option<FineRow<'_>> {
        self.fine.as_ref().map(|f| f.row(j, k))
    }

    /// [`Levels::at`] for a voxel of the row whose view is `row`.
    pub(super) fn in_row<L: Label>(&self, row: Option<&FineRow>, ijk: [usize; 3], l: L) -> f64 {
        row.and_then(|r| r.at(ijk[0])).unwrap_or_else(|| coarse_level(self.refs, self.map, self.slabs, ijk, l))
    }

    /// A level that [`Levels::at`] never goes under for label `l` (a cheap first test).
    pub(super) fn floor<L: Label>(&self, l: L) -> f64 {
        if self.fine.is_some() {
            0.0
        } else {
            self.refs[l.index()].marrow
        }
    }
}

/// The coarse normal-marrow level of label `l` at voxel `ijk`: the region's own level, or the
/// marrow around the voxel where that is brighter ([`MarrowMap`]: red marrow in a region
/// whose commonest marrow is yellow), up to [`MAX_LIFT`] times the region's level; in a
/// tubular bone also the marrow of its slab along the bone where that is brighter still
/// ([`SlabLevels`]), up to [`SLAB_MAX_LIFT`] times the region's level.
fn coarse_level<L: Label>(refs: &[RegionReference], map: &MarrowMap, slabs: &SlabLevels, ijk: [usize; 3], l: L) -> f64 {
    let region = refs[l.index()].marrow;
    let block = map.level(ijk, l.into()).map_or(region, |local| local.min(MAX_LIFT * region).max(region));
    slabs.level(ijk, l.index()).map_or(block, |axial| block.max(axial.min(SLAB_MAX_LIFT * region)))
}
