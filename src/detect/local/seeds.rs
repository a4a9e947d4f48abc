//! The seed test of the local detector: a lesion holds a core of bright denoised voxels
//! inside the atlas and is not shaped like a growth plate.

use super::{Levels, LocalParams, RegionReference};
use crate::ccl;
use crate::detect::interior::{box_margin, interior_in_box};
use crate::detect::shape::{is_plate, shape_of_voxels, shapes};
use crate::detect::Bones;
use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// The seed test of [`local_components`](super::local_components) (see [`Seeds::keep`]).
pub(super) struct Seeds<'a, L> {
    pub(super) scan: &'a Volume<f32>,
    pub(super) atlas: &'a Volume<L>,
    pub(super) refs: &'a [RegionReference],
    levels: &'a Levels<'a>,
    bones: &'a Bones,
    seed_ratio: f64,
    /// Per label: the denoised excess over the marrow a seed voxel needs (`noise_z` noise
    /// levels of the denoised signal).
    noise_excess: Vec<f64>,
    /// Denoising radius in voxels along each axis.
    pub(super) radius: [usize; 3],
    /// Seed voxels a core needs.
    core_voxels: usize,
    edge_mm: f64,
    plate_mm: f64,
}

/// A curved plate is a physis only when its signal is even ([`Seeds::uniform`]): this
/// quantile of its intensities...
pub const PLATE_PEAK_QUANTILE: f64 = 0.95;

/// ... stays under this multiple of their median (a physis's noise and partial volume give
/// about 1.2-1.3; a lesion at several times the marrow fused with it, 1.5 and more).
pub const PLATE_PEAK_RATIO: f64 = 1.5;

impl<'a, L: Label> Seeds<'a, L> {
    pub(super) fn new(
        scan: &'a Volume<f32>,
        atlas: &'a Volume<L>,
        refs: &'a [RegionReference],
        levels: &'a Levels<'a>,
        bones: &'a Bones,
        p: &LocalParams,
    ) -> Seeds<'a, L> {
        let spacing = scan.grid.spacing();
        let radius = p.denoise_radius(spacing);
        let noise_excess = refs.iter().map(|r| p.seed_noise_excess(spacing, r.noise)).collect();
        let voxel_mm3 = spacing.iter().product::<f64>();
        let core_voxels = ((p.seed_core_mm3 / voxel_mm3 - 1e-9).ceil().max(1.0)) as usize;
        Seeds {
            scan,
            atlas,
            refs,
            levels,
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
        let floor = self.levels.floor(l);
        if x < self.seed_ratio * floor || x < floor + self.noise_excess[l.index()] {
            return false;
        }
        let marrow = self.levels.at(ijk, l);
        x >= self.seed_ratio * marrow && x >= marrow + self.noise_excess[l.index()]
    }

    /// Whether a voxel outside the atlas next to `[i, j, k]` (26-neighbourhood) is at least
    /// as bright as it: then its signal may be partial volume with fluid beside the bone
    /// (CSF, a joint effusion), not marrow.
    fn beside_brighter_outside(&self, [i, j, k]: [usize; 3]) -> bool {
        let g = &self.scan.grid;
        let x = self.scan.data[g.index(i, j, k)];
        let near = |c: usize, a: usize| c.saturating_sub(1)..(c + 2).min(g.dims[a]);
        near(k, 2).any(|kk| {
            near(j, 1).any(|jj| {
                near(i, 0).any(|ii| {
                    let v = g.index(ii, jj, kk);
                    self.atlas.data[v] == L::default() && self.scan.data[v] >= x
                })
            })
        })
    }

    /// The mean intensity of the bone voxels within the denoising window around `[i, j, k]`.
    pub(super) fn denoised(&self, [i, j, k]: [usize; 3]) -> f64 {
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
    /// seed core (at least `core_voxels` voxels that pass [`Seeds::is_seed`], lie `edge_mm`
    /// inside the atlas and are not next to a brighter voxel outside it) and, when `plate_mm > 0`,
    /// not shaped like a growth plate. The interior is worked out only in a box around each
    /// component with enough bright voxels.
    ///
    /// `curved` allows curved growth plates ([`is_plate`]) in the tubular bones: the
    /// components as grown are judged without (a lesion fused with a physis reads as thin
    /// across, and the half-maximum cut first takes the physis off it), the cut pieces with.
    pub(super) fn keep(&self, comps: &ccl::Components, curved: bool) -> Vec<bool> {
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
                // Seeds next to brighter fluid outside the bone may be partial volume: they
                // do not count towards the core (they still shape the growth-plate test).
                let vox: Vec<[usize; 3]> = vox.iter().copied().filter(|&v| !self.beside_brighter_outside(v)).collect();
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
            let mut curved_only = Vec::new();
            for (c, shape) in shapes(comps, grid).iter().enumerate().skip(1) {
                if !kept[c] {
                    continue;
                }
                let [i, j, k] = bright[c][0];
                let l = self.atlas.data[grid.index(i, j, k)];
                let (across, curved) = (self.bones.plate_axis(l), curved && self.bones.curved_plates(l));
                // A seed core is sparse, its runs short whatever its shape: only its spread
                // tells a plate.
                if is_plate(shape, self.plate_mm, across, false)
                    || is_plate(&shape_of_voxels(&bright[c], grid), self.plate_mm, across, false)
                {
                    kept[c] = false;
                } else if is_plate(shape, self.plate_mm, across, curved) {
                    curved_only.push(c);
                }
            }
            for c in self.uniform(comps, &curved_only) {
                kept[c] = false;
            }
        }
        kept
    }

    /// Those of the components `which` whose signal is even, as a physis's is: the
    /// [`PLATE_PEAK_QUANTILE`] of their intensities under [`PLATE_PEAK_RATIO`] times their
    /// median. A curved plate with a much brighter focus holds a lesion fused with a physis
    /// (which the half-maximum cut could not take off it): it stays, outline and all.
    fn uniform(&self, comps: &ccl::Components, which: &[usize]) -> Vec<usize> {
        if which.is_empty() {
            return Vec::new();
        }
        let nx = self.scan.grid.dims[0];
        let mut slot = vec![usize::MAX; comps.count + 1];
        which.iter().enumerate().for_each(|(n, &c)| slot[c] = n);
        let mut values: Vec<Vec<f32>> = vec![Vec::new(); which.len()];
        comps.for_each_run(|row, run, c| {
            if let Some(v) = values.get_mut(slot[c as usize]) {
                v.extend_from_slice(&self.scan.data[row * nx + run.start as usize..row * nx + run.end as usize]);
            }
        });
        which
            .iter()
            .zip(values)
            .filter_map(|(&c, mut v)| {
                let n = v.len().max(1) - 1;
                let mut at = |q: f64| *v.select_nth_unstable_by((n as f64 * q) as usize, f32::total_cmp).1;
                let (median, peak) = (at(0.5), at(PLATE_PEAK_QUANTILE));
                (peak < PLATE_PEAK_RATIO as f32 * median).then_some(c)
            })
            .collect()
    }
}
