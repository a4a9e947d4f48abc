//! Tests of the staging summary on hand-made lesions and region maps.

use super::*;
use crate::labels::{RegionInfo, Side};
use crate::lesions::{Intensity, RegionOverlap};
use crate::palette::Rgb;
use crate::report::{Marrow, RegionMarrow};

fn row(index: u32, name: &str, voxels: u64) -> RegionRow {
    let info = RegionInfo::from_name(name);
    RegionRow {
        index,
        name: name.into(),
        colour: Rgb::default(),
        bone_class: info.bone_class,
        side: info.side,
        vertebral_level: info.vertebral_level,
        bone_label: name.into(),
        voxels,
    }
}

/// A lesion of `overlaps` (region, label, voxels), its main region the first; mean 300 on a
/// reference median of 100.
fn lesion(id: u32, overlaps: &[(&str, u32, u64)]) -> Lesion {
    let info = RegionInfo::from_name(overlaps[0].0);
    let voxels: u64 = overlaps.iter().map(|o| o.2).sum();
    Lesion {
        id,
        region: overlaps[0].0.into(),
        bone_label: overlaps[0].0.into(),
        bone: info.bone.clone(),
        bone_class: info.bone_class.as_str().into(),
        vertebral_level: info.vertebral_level.clone(),
        regions: overlaps
            .iter()
            .map(|&(name, label, v)| RegionOverlap {
                name: name.into(),
                label,
                voxels: v,
                fraction_of_lesion: v as f64 / voxels as f64,
                fraction_of_region: 0.0,
            })
            .collect(),
        side: info.side.as_str().into(),
        voxels,
        volume_mm3: voxels as f64 * 2.0,
        fraction_of_region: 0.0,
        centroid_mm: [0.0; 3],
        centroid_voxel: [0.0; 3],
        peak_mm: [0.0; 3],
        bbox_voxel: [[0, 0, 0], [4, 2, 1]],
        intensity: Intensity {
            mean: 300.0,
            max: 400.0,
            z_mean: 5.0,
            z_max: 8.0 + id as f64,
            ratio_to_reference: 3.0,
            ratio_to_marrow: None,
        },
    }
}

/// Stages `lesions` with their ratios to marrow from `marrow`, as a report is assembled.
fn staged(lesions: &[Lesion], regions: &[RegionRow], marrow: Option<&Marrow>) -> Staging {
    let mut lesions = lesions.to_vec();
    crate::report::set_ratios_to_marrow(&mut lesions, marrow);
    let lesions = &lesions[..];
    let summary = Summary::of(lesions);
    let inputs = Inputs { lesions, summary: &summary, regions, spacing_mm: [1.0, 1.0, 2.0] };
    stage(&inputs, &Configured::load(None).unwrap())
}

/// The founding case's sites: units grouped as configured, fractions over the whole unit,
/// the criteria's items and the spinal flag.
#[test]
fn founding_case_units_and_items() {
    let regions = [
        row(1, "vertebra_T7", 1000),
        row(2, "vertebra_T7_posterior_elements", 1000),
        row(3, "vertebra_S2", 400),
        row(4, "acetabulum_roof_right", 300),
        row(5, "acetabulum_posterior_column_right", 300),
        row(6, "acetabulum_posterior_column_left", 600),
        row(7, "femur_neck_left", 500),
        row(8, "femur_head_left", 500),
    ];
    let lesions = [
        lesion(1, &[("vertebra_T7", 1, 400), ("vertebra_T7_posterior_elements", 2, 100)]),
        lesion(2, &[("vertebra_S2", 3, 40)]),
        lesion(3, &[("acetabulum_roof_right", 4, 100), ("acetabulum_posterior_column_right", 5, 50)]),
        lesion(4, &[("acetabulum_posterior_column_left", 6, 60)]),
        lesion(5, &[("femur_neck_left", 7, 300), ("femur_head_left", 8, 10)]),
    ];
    let marrow = Marrow {
        method: "region_histogram_mode".into(),
        noise_sigma: 1.0,
        regions: vec![RegionMarrow {
            label: 1,
            name: "vertebra_T7".into(),
            voxels: 1000,
            marrow: 150.0,
            seed_floor_ratio: None,
        }],
        noise_z_for_seed_ratio: None,
    };
    let s = staged(&lesions, &regions, Some(&marrow));
    let units: Vec<(&str, u64, u64, usize)> =
        s.bone_units.iter().map(|u| (u.unit.as_str(), u.voxels, u.lesion_voxels, u.extent_grade)).collect();
    assert_eq!(
        units,
        [
            ("vertebra_T7", 2000, 500, 1),
            ("vertebra_S2", 400, 40, 0),
            ("acetabulum_right", 600, 150, 1),
            ("acetabulum_left", 600, 60, 0),
            ("femur_proximal_left", 1000, 310, 1),
        ]
    );
    let t7 = &s.bone_units[0];
    assert_eq!((t7.fraction_involved, t7.extent_grade_label.as_str()), (0.25, "25-50%"));
    assert!(t7.extent_grade_provisional && s.extent_grade.provisional);
    assert_eq!((t7.max_ratio_to_marrow, t7.max_z, t7.lesion_ids.clone()), (Some(2.0), 9.0, vec![1]));
    assert_eq!(s.bone_units[1].max_ratio_to_marrow, None, "no marrow level for S2");
    assert_eq!((t7.bone_class, t7.side.as_str()), (BoneClass::Vertebra, "midline"));
    assert_eq!(s.bone_units[3].side, Side::Left.as_str());
    assert!(s.spine.bisphosphonate_relevant && s.spine.mobile_spine_involvement);
    assert_eq!(s.spine.levels, ["T7", "S2"]);
    assert!(s.jansson.vertebral_clavicular_or_sternal_site && s.jansson.more_than_one_lesion);
    assert!(s.jansson.symmetric_lesions, "hip bone on both sides");
    assert!(s.bristol.more_than_one_bone && !s.bristol.single_clavicular_lesion);
    assert_eq!(
        (s.rinbo.active_lesions, s.rinbo.largest_lesion_id, s.rinbo.extramedullary_involvement),
        (5, Some(1), None)
    );
    assert_eq!(s.rinbo.largest_lesion_extent_mm, Some(4.0));
}

/// One clavicular lesion: Bristol's "clavicle alone"; no lesion: nothing involved.
#[test]
fn a_single_clavicular_lesion_and_no_lesion() {
    let regions = [row(1, "clavicle_medial_left", 200), row(2, "clavicle_shaft_left", 200)];
    let s = staged(&[lesion(1, &[("clavicle_medial_left", 1, 50)])], &regions, None);
    assert!(s.bristol.single_clavicular_lesion && s.eular_acr_2025.clavicle && !s.eular_acr_2025.multifocal);
    assert_eq!((s.bone_units[0].unit.as_str(), s.bone_units[0].voxels), ("clavicle_left", 400));
    let none = staged(&[], &regions, None);
    assert!(none.bone_units.is_empty() && !none.spine.bisphosphonate_relevant);
    assert_eq!((none.rinbo.active_lesions, none.rinbo.largest_lesion_id), (0, None));
}
