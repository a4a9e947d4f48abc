//! Tests of the per-bone rules on synthetic bones.

use super::hip::fit_sphere;
use super::*;
use crate::vec3::{norm, sub};
use crate::volume::{Affine, Grid};

/// Parcellates a copy of `v` as u16 labels.
fn split(v: &Volume<u8>, table: &LabelTable) -> (Parcellation, Volume<u16>) {
    let p = parcellate(v, table).expect("a whole-bone label");
    let mut w = Volume { grid: v.grid, data: v.data.iter().map(|&l| l as u16).collect() };
    p.apply(&mut w);
    (p, w)
}

fn grid(dims: [usize; 3]) -> Grid {
    Grid { dims, affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }
}

#[test]
fn names_tell_whole_bones_from_sub_regions() {
    let k = |n: &str| kind(n, &RegionInfo::from_name(n));
    assert_eq!(k("hip_left"), Some(Kind::Hip(Side::Left)));
    assert_eq!(k("femur_right"), Some(Kind::Femur(Side::Right)));
    assert_eq!(k("sacrum"), Some(Kind::Sacrum));
    assert_eq!(k("vertebrae_T7"), Some(Kind::Vertebra("T7".into())));
    assert_eq!(k("vertebrae_S1"), Some(Kind::Vertebra("S1".into())));
    assert_eq!(k("vertebrae"), Some(Kind::Spine));
    assert_eq!(k("clavicula_left"), Some(Kind::Clavicle(Side::Left)));
    assert_eq!(k("tibia"), Some(Kind::Unsided("tibia".into())));
    // An atlas of sub-regions only needs no parcellation.
    let fine = LabelTable::from_pairs([(1, "femur_neck_left"), (2, "vertebra_T7")]);
    assert!(parcellate(&Volume::filled(grid([2, 2, 2]), 1u8), &fine).is_none());
    // Already sub-regions, or not bones at all: kept.
    for n in
        ["vertebra_T7", "vertebra_S3", "acetabulum_roof_right", "femur_neck_left", "ilium_left", "liver", "sternum"]
    {
        assert_eq!(k(n), None, "{n}");
    }
}

#[test]
fn a_sphere_fit_recovers_centre_and_radius_from_a_cap() {
    let (c, r) = ([10.0, -4.0, 30.0], 19.0);
    let pts: Vec<V3> = (0..400)
        .map(|i| {
            // A cap of half-angle 70 degrees around +z.
            let (t, p) = ((i % 20) as f64 * 3.5f64.to_radians(), (i / 20) as f64 * 18f64.to_radians());
            [c[0] + r * t.sin() * p.cos(), c[1] + r * t.sin() * p.sin(), c[2] + r * t.cos()]
        })
        .collect();
    let (fc, fr) = fit_sphere(&pts).unwrap();
    assert!(norm(sub(fc, c)) < 1e-6 && (fr - r).abs() < 1e-6, "{fc:?} {fr}");
}

/// A block body with a ring of posterior elements behind a canal: the body keeps the
/// vertebra's name, the ring becomes its posterior elements; a body alone stays whole.
#[test]
fn a_vertebra_splits_at_its_canal() {
    let g = grid([40, 50, 10]);
    let mut v = Volume::filled(g, 0u8);
    for k in 0..10 {
        for j in 0..50 {
            for i in 0..40 {
                let body = (30..50).contains(&j) && (8..32).contains(&i);
                let ring =
                    (5..22).contains(&j) && (8..32).contains(&i) && !((9..19).contains(&j) && (14..26).contains(&i));
                if body || ring {
                    v.data[g.index(i, j, k)] = 1;
                }
            }
        }
    }
    let table = LabelTable::from_pairs([(1, "vertebrae_L2")]);
    let (p, w) = split(&v, &table);
    let name = |i, j| p.table.name(w.get(i, j, 5) as u32).unwrap().to_string();
    assert_eq!(name(20, 40), "vertebra_L2");
    assert_eq!(name(20, 6), "vertebra_L2_posterior_elements");
    assert_eq!(p.bone_label[&(w.get(20, 6, 5) as u32)], "vertebrae_L2");
    // Without the ring: the body alone.
    v.data.iter_mut().enumerate().for_each(|(x, l)| {
        if g.ijk(x)[1] < 30 {
            *l = 0
        }
    });
    let (p, _) = split(&v, &table);
    assert_eq!(p.table.iter().map(|(_, n)| n.to_string()).collect::<Vec<_>>(), vec!["vertebra_L2"]);
}

/// Four separate pieces stacked along z are S2..S5 head to foot when the atlas has its
/// own S1; one whole spine label is counted from the sacrum up.
#[test]
fn sacral_segments_and_spine_levels_are_counted_head_to_foot() {
    let g = grid([10, 10, 80]);
    let mut v = Volume::filled(g, 0u8);
    for k in 0..80 {
        let label = match k {
            1..=8 => 2, // sacrum pieces: 1-8, 11-18, 21-27, 30-36 (off the grid's edge)
            11..=18 => 2,
            21..=27 => 2,
            30..=36 => 2,
            39..=44 => 1, // S1
            47..=55 => 3, // spine: two bodies
            58..=66 => 3,
            _ => 0,
        };
        for j in 2..8 {
            for i in 2..8 {
                v.data[g.index(i, j, k)] = label;
            }
        }
    }
    let table = LabelTable::from_pairs([(1, "vertebrae_S1"), (2, "sacrum"), (3, "vertebrae")]);
    let (p, w) = split(&v, &table);
    let at = |k| p.table.name(w.get(5, 5, k) as u32).unwrap().to_string();
    assert_eq!([at(4), at(15), at(24), at(33)], ["vertebra_S5", "vertebra_S4", "vertebra_S3", "vertebra_S2"]);
    assert_eq!(at(42), "vertebra_S1");
    assert_eq!([at(50), at(60)], ["vertebra_L5", "vertebra_L4"]);
    assert_eq!(p.bone_label[&(w.get(5, 5, 15) as u32)], "sacrum");
}

#[test]
fn a_sideless_bone_splits_at_the_midline_and_a_clavicle_into_thirds() {
    // Two rods along z either side of x = 0 (world), both labelled "tibia"; a clavicle
    // along x on the right, its medial end near the midline.
    let g = Grid { dims: [61, 5, 40], affine: Affine::from_spacing_origin([1.0; 3], [-30.0, 0.0, 0.0]) };
    let mut v = Volume::filled(g, 0u8);
    for k in 1..39 {
        for i in [10, 11, 49, 50] {
            v.data[g.index(i, 2, k)] = 1;
        }
    }
    // Not on the last plane: the field of view would cut it there.
    for i in 33..60 {
        v.data[g.index(i, 2, 38)] = 2;
        v.data[g.index(i, 3, 38)] = 2;
    }
    let table = LabelTable::from_pairs([(1, "tibia"), (2, "clavicula_right")]);
    let (p, w) = split(&v, &table);
    let name = |i, j, k| p.table.name(w.get(i, j, k) as u32).unwrap().to_string();
    assert!(name(10, 2, 20).ends_with("_left") && name(50, 2, 20).ends_with("_right"));
    assert_eq!(name(10, 2, 20), "tibia_shaft_left");
    assert_eq!(name(34, 2, 38), "clavicle_medial_right");
    assert_eq!(name(46, 2, 38), "clavicle_shaft_right");
    assert_eq!(name(58, 2, 38), "clavicle_lateral_right");
}

/// Two separate bodies in one `vertebrae` label: with no anchor in view (a sacrum row in
/// the table but no sacrum voxel) no level is claimed; with a labelled L1 above them they
/// are L2 and L3.
#[test]
fn spine_levels_need_an_anchor_in_view() {
    let g = grid([10, 10, 60]);
    let mut v = Volume::filled(g, 0u8);
    for k in 1..59 {
        let label = match k {
            5..=13 | 16..=24 => 3,
            27..=35 => 1,
            _ => 0,
        };
        for j in 2..8 {
            for i in 2..8 {
                v.data[g.index(i, j, k)] = label;
            }
        }
    }
    let no_anchor = LabelTable::from_pairs([(2, "sacrum"), (3, "vertebrae")]);
    let mut bodies = v.clone();
    bodies.data.iter_mut().for_each(|l| *l = if *l == 1 { 0 } else { *l });
    assert!(parcellate(&bodies, &no_anchor).is_none(), "no level without an anchor");
    let table = LabelTable::from_pairs([(1, "vertebrae_L1"), (3, "vertebrae")]);
    let (p, w) = split(&v, &table);
    let at = |k| p.table.name(w.get(5, 5, k) as u32).unwrap().to_string();
    assert_eq!([at(20), at(9)], ["vertebra_L2", "vertebra_L3"]);
}

/// A femur whose distal half the field of view cuts: no distal metaphysis or epiphysis is
/// claimed from the proportions of its visible length.
#[test]
fn a_cut_femur_names_no_distal_parts() {
    // A rod along z from the grid's bottom plane, a ball on top; a bowl of hip bone over it.
    let g = grid([40, 40, 60]);
    let mut v = Volume::filled(g, 0u8);
    for k in 0..60 {
        for j in 0..40 {
            for i in 0..40 {
                let (x, y, z) = (i as f64 - 20.0, j as f64 - 20.0, k as f64 - 40.0);
                let ball = (x * x + y * y + z * z).sqrt() <= 8.0;
                let rod = x * x + y * y <= 16.0 && z < 0.0;
                let r = (x * x + y * y + z * z).sqrt();
                let bowl = (9.5..13.0).contains(&r) && z > 0.0;
                v.data[g.index(i, j, k)] = if ball || rod {
                    1
                } else if bowl {
                    2
                } else {
                    0
                };
            }
        }
    }
    let table = LabelTable::from_pairs([(1, "femur_left"), (2, "hip_left")]);
    let (p, _) = split(&v, &table);
    let names: Vec<String> = p.table.iter().map(|(_, n)| n.to_string()).collect();
    assert!(names.contains(&"femur_head_left".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("distal")), "{names:?}");
}
