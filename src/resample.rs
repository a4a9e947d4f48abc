//! An atlas on another grid, mapped onto the scan's.
//!
//! Segmentation tools write their label maps on their own grid (TotalSegmentator resamples to
//! 1.5 mm, often in another orientation), so an atlas may differ from the scan in shape,
//! voxel size, orientation and field of view. Each scan voxel takes the label of the atlas
//! voxel whose centre is nearest to it in the atlas's own index space (through the two
//! affines: scan index -> world mm -> atlas index, rounded); scan voxels that fall outside
//! the atlas are background. Nearest-neighbour keeps labels whole: no interpolation ever
//! invents a label between two others.

use crate::volume::{Grid, Label, Volume};
use rayon::prelude::*;

/// What resampling found, besides the volume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coverage {
    /// Scan voxels whose centre falls inside the atlas's field of view.
    pub inside: usize,
    /// Scan voxels given a non-zero label.
    pub labelled: usize,
}

/// Maps `atlas` onto `target` by nearest neighbour.
///
/// # Errors
/// A message when the atlas's affine cannot be inverted, or when no scan voxel falls inside
/// the atlas's field of view (no overlap at all).
pub fn to_grid<L: Label>(atlas: &Volume<L>, target: &Grid) -> Result<(Volume<L>, Coverage), String> {
    let inv = atlas.grid.affine.inverse().ok_or("the atlas affine cannot be inverted")?;
    // Scan index -> atlas index is one affine map: origin plus a step per scan axis.
    let origin = inv.voxel_to_world(target.affine.voxel_to_world([0.0; 3]));
    let step: [[f64; 3]; 3] = [0, 1, 2].map(|a| {
        let mut e = [0.0; 3];
        e[a] = 1.0;
        let p = inv.voxel_to_world(target.affine.voxel_to_world(e));
        [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]]
    });
    let [nx, ny, _] = target.dims;
    let [ax, ay, az] = atlas.grid.dims;
    let mut data = vec![L::default(); target.len()];
    let counts: Vec<(usize, usize)> = data
        .par_chunks_mut(nx * ny)
        .enumerate()
        .map(|(k, plane)| {
            let (mut inside, mut labelled) = (0, 0);
            for j in 0..ny {
                let row = [0, 1, 2].map(|c| origin[c] + j as f64 * step[1][c] + k as f64 * step[2][c]);
                for (i, out) in plane[j * nx..(j + 1) * nx].iter_mut().enumerate() {
                    let p = [0, 1, 2].map(|c| (row[c] + i as f64 * step[0][c]).round());
                    if p.iter().zip([ax, ay, az]).all(|(&v, n)| v >= 0.0 && v < n as f64) {
                        inside += 1;
                        let l = atlas.data[p[0] as usize + ax * (p[1] as usize + ay * p[2] as usize)];
                        if l != L::default() {
                            labelled += 1;
                        }
                        *out = l;
                    }
                }
            }
            (inside, labelled)
        })
        .collect();
    let coverage = Coverage { inside: counts.iter().map(|c| c.0).sum(), labelled: counts.iter().map(|c| c.1).sum() };
    if coverage.inside == 0 {
        return Err("the atlas does not overlap the scan at all (no scan voxel lies inside its field of view)".into());
    }
    Ok((Volume { grid: *target, data }, coverage))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::Affine;

    fn labelled_grid(grid: Grid) -> Volume<u16> {
        // Label = 1 + the world-space octant-ish cell of 10 mm, so a label names a place.
        let data = (0..grid.len())
            .map(|v| {
                let w = grid.affine.voxel_to_world(grid.ijk(v).map(|x| x as f64));
                (1.0 + (w[0] / 10.0).floor().rem_euclid(4.0) + 4.0 * (w[2] / 10.0).floor().rem_euclid(4.0)) as u16
            })
            .collect();
        Volume::from_vec(grid, data)
    }

    #[test]
    fn the_same_grid_maps_every_voxel_to_itself() {
        let grid = Grid { dims: [7, 5, 6], affine: Affine::from_spacing_origin([1.5, 2.0, 3.0], [-4.0, 2.0, 9.0]) };
        let a = labelled_grid(grid);
        let (r, cov) = to_grid(&a, &grid).unwrap();
        assert_eq!(r.data, a.data);
        assert_eq!(cov.inside, grid.len());
    }

    #[test]
    fn another_orientation_and_voxel_size_keep_labels_where_they_are_in_the_world() {
        // Atlas: LPS-like orientation (i -> -x, j -> -y), 2 mm; scan: RAS, 1 mm, smaller field.
        let mut aff = Affine::from_spacing_origin([2.0, 2.0, 2.0], [0.0; 3]);
        aff.0[0] = [-2.0, 0.0, 0.0, 39.0];
        aff.0[1] = [0.0, -2.0, 0.0, 39.0];
        aff.0[2] = [0.0, 0.0, 2.0, 0.0];
        let atlas_grid = Grid { dims: [20, 20, 20], affine: aff };
        let atlas = labelled_grid(atlas_grid);
        let scan = Grid { dims: [30, 30, 30], affine: Affine::from_spacing_origin([1.0; 3], [5.2, 5.2, 5.2]) };
        let (r, cov) = to_grid(&atlas, &scan).unwrap();
        assert_eq!(cov.inside, scan.len());
        for v in (0..scan.len()).step_by(7) {
            let w = scan.affine.voxel_to_world(scan.ijk(v).map(|x| x as f64));
            let src = atlas_grid.affine.world_to_voxel(w).unwrap().map(|x| x.round() as usize);
            assert_eq!(r.data[v], atlas.get(src[0], src[1], src[2]), "voxel {v} at {w:?}");
        }
    }

    #[test]
    fn voxels_outside_the_atlas_are_background_and_no_overlap_is_an_error() {
        let atlas =
            Volume::filled(Grid { dims: [4, 4, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }, 3u8);
        let half = Grid { dims: [8, 4, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let (r, cov) = to_grid(&atlas, &half).unwrap();
        assert_eq!((cov.inside, cov.labelled), (64, 64));
        assert_eq!(r.data.iter().filter(|&&l| l == 3).count(), 64);
        let far = Grid { dims: [4, 4, 4], affine: Affine::from_spacing_origin([1.0; 3], [500.0, 0.0, 0.0]) };
        assert!(to_grid(&atlas, &far).unwrap_err().contains("does not overlap"));
        let mut flat = atlas.clone();
        flat.grid.affine.0[2][2] = 0.0;
        assert!(to_grid(&flat, &half).unwrap_err().contains("inverted"));
    }
}
