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

/// The axial levels computed the plain way: every sampled voxel's world position projected on
/// the axis, grouped by (label, slab) in a map, each group's mode, the median of three.
fn naive(scan: &Volume<f32>, atlas: &Volume<u16>, axis: &[Option<[f64; 3]>]) -> Vec<(usize, [usize; 3], f64)> {
    use std::collections::BTreeMap;
    let g = &scan.grid;
    let take = sampled(g);
    let slab_at = |a: [f64; 3], ijk: [usize; 3]| {
        let a = canonical(a);
        let p = g.affine.voxel_to_world(ijk.map(|c| c as f64));
        ((p[0] * a[0] + p[1] * a[1] + p[2] * a[2]) / SLAB_MM).floor() as i64
    };
    let mut groups: BTreeMap<(usize, i64), Vec<f32>> = BTreeMap::new();
    for v in 0..g.len() {
        let ijk = g.ijk(v);
        let l = atlas.data[v] as usize;
        if l == 0 || !(0..3).all(|a| take[a][ijk[a]]) {
            continue;
        }
        if let Some(Some(a)) = axis.get(l) {
            groups.entry((l, slab_at(*a, ijk))).or_default().push(scan.data[v]);
        }
    }
    let mode: BTreeMap<(usize, i64), f32> = groups
        .into_iter()
        .filter(|(_, v)| v.len() >= MIN_SLAB_SAMPLES)
        .map(|(k, mut v)| (k, marrow_level(&mut v).unwrap() as f32))
        .collect();
    let mut out = Vec::new();
    for v in 0..g.len() {
        let (ijk, l) = (g.ijk(v), atlas.data[v] as usize);
        let Some(Some(a)) = axis.get(l) else { continue };
        let s = slab_at(*a, ijk);
        if !mode.contains_key(&(l, s)) {
            continue;
        }
        let mut near: Vec<f32> = [s - 1, s, s + 1].iter().filter_map(|t| mode.get(&(l, *t)).copied()).collect();
        near.sort_unstable_by(f32::total_cmp);
        let level = if near.len() == 2 { 0.5 * (near[0] + near[1]) } else { near[near.len() / 2] };
        out.push((l, ijk, level as f64));
    }
    out
}

proptest::proptest! {
    #[test]
    fn axial_levels_match_a_naive_computation(seed in 0u64..200, tilt in -0.6f64..0.6) {
        // Two labels in a 24 x 20 x 40 grid of 1.5 x 2 x 1.2 mm (every other voxel sampled
        // along the two fine axes), random intensities in bands along k, an axis tilted in
        // the y-z plane, and a third label with no axis.
        let grid = Grid { dims: [24, 20, 40], affine: Affine::from_spacing_origin([1.5, 2.0, 1.2], [-7.0, 3.0, 50.0]) };
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut scan, mut atlas) = (vec![0f32; grid.len()], vec![0u16; grid.len()]);
        for v in 0..grid.len() {
            let [i, _, k] = grid.ijk(v);
            let r = next();
            atlas[v] = match (i, r % 7) {
                (_, 0) => 0,
                (0..=9, _) => 1,
                (10..=19, _) => 2,
                _ => 3,
            };
            scan[v] = 50.0 + 30.0 * ((k / 8) % 3) as f32 + (r % 1000) as f32 / 40.0;
        }
        let (scan, atlas) = (Volume::from_vec(grid, scan), Volume::from_vec(grid, atlas));
        let n = (1.0 + tilt * tilt).sqrt();
        let axis = vec![None, Some([0.0, tilt / n, 1.0 / n]), Some([0.0, -1.0 / n, tilt / n]), None];
        let slabs = SlabLevels::new(&scan, &atlas, &axis);
        let expected = naive(&scan, &atlas, &axis);
        for (l, ijk, level) in &expected {
            let got = slabs.level(*ijk, *l);
            proptest::prop_assert!(got.is_some_and(|g| (g - level).abs() < 1e-4), "label {} at {:?}: {:?} against {}", l, ijk, got, level);
        }
        let with_level = (0..grid.len()).filter(|&v| slabs.level(grid.ijk(v), atlas.data[v] as usize).is_some()).count();
        proptest::prop_assert_eq!(with_level, expected.len());
        proptest::prop_assert!(!expected.is_empty());
    }
}
