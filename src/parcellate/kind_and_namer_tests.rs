//! Name recognition and label allocation (kept apart from the per-bone rules' tests).

use super::*;
use crate::volume::{Affine, Grid};

fn k(n: &str) -> Option<Kind> {
    kind(n, &RegionInfo::from_name(n))
}

/// Our sub-regions under other spellings are never split again; whole bones still are.
#[test]
fn sub_regions_under_other_spellings_are_not_whole_bones() {
    for n in [
        "femoral_neck_left",
        "Femur neck L",
        "Left femoral neck",
        "femoral necks left",
        "capital femoral epiphysis right",
        "greater trochanter left",
        "femur_trochanters_right",
        "femoral condyles left",
        "distal femoral metaphyses R",
        "Acetabular roof right",
        "acetabular_posterior_column_L",
        "pubic ramus left",
        "iliac wing right",
        "S4",
        "s2",
        "sacral segment S2",
        "S3 segment",
        "T7",
        "D7",
        "T7 vertebra",
        "T7 vertebrae",
        "L3 body",
        "vertebral body L3",
        "Vertebra L3",
        "vertebra_T7_posterior_elements",
    ] {
        assert_eq!(k(n), None, "{n}");
    }
    assert_eq!(k("vertebrae_T7"), Some(Kind::Vertebra("T7".into())));
    assert_eq!(k("Vertebrae_D7"), Some(Kind::Vertebra("T7".into())));
    assert_eq!(k("vertebrae_S1"), Some(Kind::Vertebra("S1".into())));
    assert_eq!(k("Femur L"), Some(Kind::Femur(Side::Left)));
    assert_eq!(k("left femoral bone"), Some(Kind::Femur(Side::Left)));
    assert_eq!(k("hip_right"), Some(Kind::Hip(Side::Right)));
    assert_eq!(k("sacrum"), Some(Kind::Sacrum));
    assert_eq!(k("fibula"), Some(Kind::Unsided("fibula".into())));
}

/// A table's bone class gives a level-named row its level, and the row stays unsplit.
#[test]
fn a_table_class_keeps_a_level_row_whole() {
    let info = RegionInfo::from_name_with("T7 marrow", Some(BoneClass::Vertebra), None);
    assert_eq!(info.vertebral_level.as_deref(), Some("T7"));
    assert_eq!(kind("T7 marrow", &info), None);
    let info = RegionInfo::from_name_with("S4", Some(BoneClass::Sacrum), None);
    assert_eq!((info.vertebral_level.as_deref(), kind("S4", &info)), (Some("S4"), None));
}

fn grid() -> Grid {
    Grid { dims: [4, 4, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }
}

/// New labels are the lowest free values, not above the table's largest, which may be
/// 65535; unsplit labels keep their table columns.
#[test]
fn new_labels_fill_the_lowest_free_values() {
    let t = LabelTable::parse("index\tname\tbone_class\n1\tvertebrae_L2\t\n3\tmy_bone\tpelvis\n65535\tsternum\t\n")
        .unwrap();
    let mut v = Volume::filled(grid(), 0u16);
    v.data[..32].fill(1);
    v.data[40] = 3;
    v.data[60] = 65535;
    let p = parcellate(&v, &t).expect("a whole vertebra");
    assert_eq!(p.unlabelled, None);
    assert_eq!(p.table.label_of("vertebra_L2"), Some(2));
    assert_eq!(p.max_label(), 65535);
    assert_eq!(p.table.info(3).unwrap().bone_class, BoneClass::Pelvis, "the column survives");
    p.apply(&mut v);
    assert_eq!(v.data[0], 2);
}

/// With every value up to 65535 in use, the region that gets none is named.
#[test]
fn no_free_label_is_reported_not_a_panic() {
    let names: Vec<(u32, String)> = (1..=65535u32).map(|l| (l, format!("organ_{l}"))).collect();
    let mut t = LabelTable::from_pairs(names);
    t.insert_name(7, "vertebrae_L2");
    let mut v = Volume::filled(grid(), 0u16);
    v.data[..32].fill(7);
    let p = parcellate(&v, &t).expect("a whole vertebra");
    assert_eq!(p.unlabelled.as_deref(), Some("vertebra_L2 (cut from vertebrae_L2)"));
}
