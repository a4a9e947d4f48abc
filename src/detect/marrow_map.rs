//! The local normal-marrow level: what the marrow of a region is like around a voxel.
//!
//! A child's marrow changes smoothly within one bone: red (haematopoietic) marrow in the
//! metaphyses and proximal shafts is about twice as bright on STIR as the yellow marrow of
//! the diaphyses and epiphyses, and an atlas region (a whole TotalSegmentator femur, or a
//! shaft that holds the proximal red marrow) holds both. Against the region's one level the
//! red part is as bright as oedema. So the detector also asks how bright a voxel is against
//! the marrow *around* it: the scan is cut into blocks of [`BLOCK_MM`], each block keeps the
//! median of each label's voxels in it, and a voxel's local level is the median of those
//! block medians over the 3 x 3 x 3 blocks around it (its own label only). That neighbourhood
//! (about 6 cm across) is wider than a typical lesion, so a lesion does not lift its own
//! level, while a red-marrow plateau does. Confluent oedema wider than that (a real sacroiliac
//! scan shows oedema filling most of an iliac wing) would lift its own level as far as its
//! own signal; so the local level is trusted only up to [`MAX_LIFT`] times the region's level.

use crate::volume::{Label, Volume};
use rayon::prelude::*;

/// Edge length (mm) of a block.
pub const BLOCK_MM: f64 = 20.0;

/// The local level lifts a voxel's level at most this many times its region's level. With
/// the fine level's marrow up to [`FINE_EXCLUDE`](super::fine_level::FINE_EXCLUDE) (1.3)
/// times that on top, a voxel is judged against at most about 2.1 times its region's marrow:
/// the contrast of red to yellow marrow, and no further, so that oedema filling a whole
/// neighbourhood of blocks stays brighter than its level. Chosen with docs/ACCURACY.md's rule (real scans and the
/// tuning phantom suite together).
pub const MAX_LIFT: f64 = 1.6;

/// The block medians sample every other voxel along an axis (they need tens to hundreds of
/// voxels per block, not every one) where that is at most this far apart (mm), and every
/// voxel along a coarser axis, so that a thin bone (a fibula is 3-4 voxels across on a 3 mm
/// grid) keeps enough samples per block.
pub const SAMPLE_MM: f64 = 3.0;

/// Blocks with fewer sampled voxels of a label than this do not vote for it.
pub const MIN_BLOCK_SAMPLES: usize = 16;

/// Per-block local marrow levels.
#[derive(Clone, Debug)]
pub struct MarrowMap {
    /// Per axis, the block of each voxel index along it.
    bin: [Vec<usize>; 3],
    /// Blocks along each axis.
    blocks: [usize; 3],
    /// Per block: (label, local level) for every label with a level there.
    levels: Vec<Vec<(u32, f32)>>,
}

impl MarrowMap {
    /// The map of `scan` over `atlas` (same grid).
    pub fn new<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>) -> MarrowMap {
        let (bin, blocks) = block_bins(&scan.grid);
        let own = block_medians(scan, atlas, &bin, blocks);
        let at = |b: [usize; 3]| b[0] + blocks[0] * (b[1] + blocks[1] * b[2]);
        let levels = (0..own.len())
            .into_par_iter()
            .map(|n| {
                let b = [n % blocks[0], (n / blocks[0]) % blocks[1], n / (blocks[0] * blocks[1])];
                let near = |a: usize| b[a].saturating_sub(1)..(b[a] + 2).min(blocks[a]);
                own[n]
                    .iter()
                    .map(|&(label, _)| {
                        let mut votes = Vec::with_capacity(27);
                        for z in near(2) {
                            for y in near(1) {
                                for x in near(0) {
                                    if let Some(&(_, m)) = own[at([x, y, z])].iter().find(|e| e.0 == label) {
                                        votes.push(m);
                                    }
                                }
                            }
                        }
                        (label, median(&mut votes))
                    })
                    .collect()
            })
            .collect();
        MarrowMap { bin, blocks, levels }
    }

    /// The local level of `label` at voxel `[i, j, k]`, if its block has one.
    pub fn level(&self, [i, j, k]: [usize; 3], label: u32) -> Option<f64> {
        let b = [self.bin[0][i], self.bin[1][j], self.bin[2][k]];
        let n = b[0] + self.blocks[0] * (b[1] + self.blocks[1] * b[2]);
        self.levels.get(n)?.iter().find(|e| e.0 == label).map(|e| e.1 as f64)
    }
}

/// Median of `v` (reordered); NaN when empty.
fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    let n = v.len();
    *v.select_nth_unstable_by(n / 2, f32::total_cmp).1
}

/// Per axis, the block of each voxel index and the number of blocks: blocks of about
/// [`BLOCK_MM`] cut on the world lattice ([`crate::volume::Grid::lattice`]), so that the
/// same voxels share a block however the scan is stored.
fn block_bins(grid: &crate::volume::Grid) -> ([Vec<usize>; 3], [usize; 3]) {
    let lattice = grid.lattice();
    let spacing = grid.spacing();
    let bin = [0, 1, 2].map(|a| {
        let steps = ((BLOCK_MM / spacing[a]).round() as i64).max(1);
        let ids: Vec<i64> = lattice[a].iter().map(|p| p.div_euclid(steps)).collect();
        let first = ids.iter().copied().min().unwrap_or(0);
        ids.iter().map(|&b| (b - first) as usize).collect::<Vec<usize>>()
    });
    let blocks = [0, 1, 2].map(|a| bin[a].iter().copied().max().map_or(0, |b| b + 1));
    (bin, blocks)
}

/// Whether the block medians sample each voxel index along each axis ([`SAMPLE_MM`]): every
/// voxel, or those at even positions of the world lattice.
pub(crate) fn sampled(grid: &crate::volume::Grid) -> [Vec<bool>; 3] {
    let lattice = grid.lattice();
    let spacing = grid.spacing();
    [0, 1, 2].map(|a| {
        let every_other = 2.0 * spacing[a] <= SAMPLE_MM + 1e-9;
        lattice[a].iter().map(|p| !every_other || p.rem_euclid(2) == 0).collect()
    })
}

/// Calls `f` with the index, label and intensity of every sampled voxel ([`sampled`], `take`)
/// of plane `k` that is bone (labelled) with a finite intensity.
pub(crate) fn sampled_bone_in_plane<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    take: &[Vec<bool>; 3],
    k: usize,
    mut f: impl FnMut([usize; 3], L, f32),
) {
    let [nx, ny, _] = scan.grid.dims;
    if !take[2][k] {
        return;
    }
    for j in (0..ny).filter(|&j| take[1][j]) {
        let row = nx * (j + ny * k);
        // Most rows of a whole-body scan hold no bone.
        let Some((from, to)) = super::interior::bone_span(&atlas.data[row..row + nx]) else { continue };
        for i in (from..to).filter(|&i| take[0][i]) {
            let (l, x) = (atlas.data[row + i], scan.data[row + i]);
            if l != L::default() && x.is_finite() {
                f([i, j, k], l, x);
            }
        }
    }
}

/// Each block's (label, median) pairs, from the voxels [`sampled`]; slabs of blocks along k
/// in parallel.
fn block_medians<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    bin: &[Vec<usize>; 3],
    blocks: [usize; 3],
) -> Vec<Vec<(u32, f32)>> {
    let nz = scan.grid.dims[2];
    let per_slab = blocks[0] * blocks[1];
    let take = sampled(&scan.grid);
    (0..blocks[2])
        .into_par_iter()
        .flat_map_iter(|bz| {
            let mut values: Vec<Vec<(u32, f32)>> = vec![Vec::new(); per_slab];
            for k in (0..nz).filter(|&k| bin[2][k] == bz) {
                sampled_bone_in_plane(scan, atlas, &take, k, |[i, j, _], l, x| {
                    values[bin[0][i] + blocks[0] * bin[1][j]].push((l.into(), x));
                });
            }
            values.into_iter().map(|mut v| {
                v.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                v.chunk_by(|a, b| a.0 == b.0)
                    .filter(|run| run.len() >= MIN_BLOCK_SAMPLES)
                    .map(|run| {
                        // The median of the marrow: voxels darker than a fraction of the
                        // block's median are cortex.
                        let floor = super::local::cortex_floor(run[run.len() / 2].1);
                        let from = run.partition_point(|e| e.1 < floor);
                        (run[0].0, run[from + (run.len() - from) / 2].1)
                    })
                    .collect::<Vec<(u32, f32)>>()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    #[test]
    fn the_local_level_follows_a_marrow_gradient_and_ignores_a_small_lesion() {
        // 2 mm voxels, 60 blocks' worth along i: marrow ramps from 60 to 150 along i; a
        // bright 6 mm lesion in the middle does not lift the level there.
        let grid = Grid { dims: [300, 20, 20], affine: Affine::from_spacing_origin([2.0; 3], [0.0; 3]) };
        let atlas = Volume::filled(grid, 3u16);
        let mut data = vec![0f32; grid.len()];
        for k in 0..20 {
            for j in 0..20 {
                for i in 0..300 {
                    let lesion = (148..151).contains(&i) && (8..11).contains(&j) && (8..11).contains(&k);
                    data[grid.index(i, j, k)] = if lesion { 400.0 } else { 60.0 + 0.3 * i as f32 };
                }
            }
        }
        let map = MarrowMap::new(&Volume::from_vec(grid, data), &atlas);
        let near = |i: usize| map.level([i, 9, 9], 3).unwrap();
        assert!((near(25) - 67.5).abs() < 8.0, "{}", near(25));
        assert!((near(150) - 105.0).abs() < 8.0, "{}", near(150));
        assert!((near(275) - 142.5).abs() < 8.0, "{}", near(275));
        assert_eq!(map.level([150, 9, 9], 4), None, "another label has no level here");
    }

    #[test]
    fn negative_intensities_give_a_level_and_no_panic() {
        // A CT-like scan: every value negative, so a fraction of the median lies above it.
        let grid = Grid { dims: [40, 40, 10], affine: Affine::from_spacing_origin([1.0, 1.0, 4.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u8);
        let data = (0..grid.len()).map(|v| -1000.0 + (v % 7) as f32).collect();
        let map = MarrowMap::new(&Volume::from_vec(grid, data), &atlas);
        let level = map.level([20, 20, 5], 1).unwrap();
        assert!((-1000.0..=-994.0).contains(&level), "{level}");
    }

    #[test]
    fn each_label_has_its_own_level() {
        let grid = Grid { dims: [40, 40, 10], affine: Affine::from_spacing_origin([1.0, 1.0, 4.0], [0.0; 3]) };
        let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| if v % 40 < 20 { 1u8 } else { 2 }).collect());
        let scan = Volume::from_vec(grid, (0..grid.len()).map(|v| if v % 40 < 20 { 60.0 } else { 150.0 }).collect());
        let map = MarrowMap::new(&scan, &atlas);
        assert_eq!(map.level([5, 5, 5], 1), Some(60.0));
        assert_eq!(map.level([25, 5, 5], 2), Some(150.0));
        assert_eq!(map.level([5, 5, 5], 2), None, "no label 2 in the first block");
    }
}
