//! Tests of the axial marrow level.

use super::*;
use crate::volume::{Affine, Grid};

/// A 2 mm grid holding one bone along k (label 3, 40 mm across) in marrow of `yellow`, red
/// marrow of `red` over its first `red_mm`, and a bright lesion (a 10 mm cube at `lesion`
/// times the yellow) in its yellow middle; label 4 beside it has no axis.
fn long_bone(yellow: f32, red: f32, red_mm: usize, lesion: f32) -> (Volume<f32>, Volume<u16>) {
    let grid = Grid { dims: [30, 30, 100], affine: Affine::from_spacing_origin([2.0; 3], [-30.0, 5.0, 100.0]) };
    let (mut scan, mut atlas) = (vec![0f32; grid.len()], vec![0u16; grid.len()]);
    for k in 0..100 {
        for j in 0..30 {
            for i in 0..30 {
                let v = grid.index(i, j, k);
                let (di, dj) = (i as f32 - 10.0, j as f32 - 10.0);
                if di * di + dj * dj <= 100.0 {
                    atlas[v] = 3;
                    // A little texture, so that the histogram has a peak to find.
                    let base = if 2 * k < red_mm { red } else { yellow };
                    scan[v] = base * (1.0 + 0.05 * (((i * 7 + j * 3 + k * 5) % 9) as f32 - 4.0) / 4.0);
                    let inside = (8..13).contains(&i) && (8..13).contains(&j) && (60..65).contains(&k);
                    if inside {
                        scan[v] = lesion * yellow;
                    }
                } else if i >= 25 {
                    atlas[v] = 4;
                    scan[v] = yellow;
                }
            }
        }
    }
    (Volume::from_vec(grid, scan), Volume::from_vec(grid, atlas))
}

fn axes() -> Vec<Option<[f64; 3]>> {
    vec![None, None, None, Some([0.0, 0.0, -1.0]), None]
}

#[test]
fn the_axial_level_follows_red_marrow_along_the_bone_and_not_a_lesion() {
    let (scan, atlas) = long_bone(60.0, 150.0, 60, 3.0);
    let slabs = SlabLevels::new(&scan, &atlas, &axes());
    let at = |k: usize| slabs.level([10, 10, k], 3).unwrap();
    // Red marrow over the first 60 mm (k < 30), yellow after it.
    for k in [2, 10, 20] {
        assert!((at(k) - 150.0).abs() < 10.0, "k {k}: {}", at(k));
    }
    for k in [40, 55, 62, 75, 95] {
        assert!((at(k) - 60.0).abs() < 5.0, "k {k}: {}", at(k));
    }
    assert_eq!(slabs.level([27, 10, 50], 4), None, "a label without an axis has no axial level");
    assert_eq!(slabs.level([10, 10, 50], 9), None, "nor has a label beyond the table");
}

#[test]
fn the_axial_level_does_not_depend_on_the_storage_order() {
    let (scan, atlas) = long_bone(60.0, 150.0, 50, 2.0);
    let slabs = SlabLevels::new(&scan, &atlas, &axes());
    // The same volume stored with k reversed (and the axis given with the other sign).
    let (s2, a2) = (scan.reoriented("LPI").unwrap(), atlas.reoriented("LPI").unwrap());
    let flipped = SlabLevels::new(&s2, &a2, &[None, None, None, Some([0.0, 0.0, 1.0]), None]);
    let g = &scan.grid;
    for k in 0..g.dims[2] {
        let world = g.affine.voxel_to_world([10.0, 10.0, k as f64]);
        let v = s2.grid.affine.world_to_voxel(world).unwrap().map(|c| c.round() as usize);
        assert_eq!(slabs.level([10, 10, k], 3), flipped.level(v, 3), "k {k}");
    }
}

#[test]
fn a_thin_slab_edge_has_no_level_of_its_own() {
    let mut own = vec![f32::NAN, 60.0, 150.0, 62.0, f32::NAN];
    own.push(61.0);
    let m = median_of_three(&own);
    assert!(m[0].is_nan() && m[4].is_nan());
    assert_eq!(m[1], 105.0, "two neighbours with a level: their mean");
    assert_eq!(m[2], 62.0, "a lone bright slab takes its neighbours' level");
    assert_eq!(m[5], 61.0);
    assert_eq!(canonical([0.1, -0.9, 0.2]), [-0.1, 0.9, -0.2]);
}
