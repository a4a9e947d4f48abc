//! Equivocal foci: small bright foci where healthy children often show them.
//!
//! Small foci of bright marrow on STIR are common in healthy children in the feet, hands,
//! knees and pelvis (`domain.md`, "Confounders"), and radiologists read a sub-centimetre focus
//! there as a possible normal variant rather than as a lesion. So a detected focus is
//! *equivocal* when it lies at such a site ([`is_variant_site`]) and is under
//! [`VARIANT_FOCUS_MM`] across in the scan's plane ([`in_plane_extent_mm`]). Equivocal foci
//! are set aside: they are listed in the report (`equivocal_foci`) for review, but they are
//! not lesions (not in `lesions.csv`, the lesion map, the summary or staging), and evaluation
//! scores only lesions.
//!
//! The size is measured in the scan's plane because whole-body STIR is acquired in slices
//! 4-6 mm thick: a 5 mm focus is spread over two such slices by partial volume, so its extent
//! and volume across the slices say little about its own size.

use crate::labels::{is_variant_site, BoneClass};
use crate::lesions::Lesion;

/// Default size (mm) under which a focus at a normal-variant site is equivocal: a
/// sub-centimetre focus (docs/ACCURACY.md says how it was chosen); 0 sets nothing aside.
pub const VARIANT_FOCUS_MM: f64 = 10.0;

/// Voxel axes at most this many times as coarse as the finest lie in the scan's plane; the
/// others are across its slices.
pub const IN_PLANE_SPACING_RATIO: f64 = 2.0;

/// The longest side (mm) of a bounding box (half-open voxel ranges) along the voxel axes that
/// lie in the scan's plane (spacing at most [`IN_PLANE_SPACING_RATIO`] times the finest);
/// every axis of a near-isotropic grid.
pub fn in_plane_extent_mm(bbox: [[usize; 3]; 2], spacing: [f64; 3]) -> f64 {
    let finest = spacing.iter().copied().fold(f64::INFINITY, f64::min);
    let [lo, hi] = bbox;
    (0..3)
        .filter(|&a| spacing[a] <= IN_PLANE_SPACING_RATIO * finest)
        .map(|a| hi[a].saturating_sub(lo[a]) as f64 * spacing[a])
        .fold(0.0, f64::max)
}

/// Whether `lesion` is an equivocal focus: at a normal-variant site and under `limit_mm`
/// across in the scan's plane (`spacing`: the voxel size along each voxel axis).
pub fn is_equivocal(lesion: &Lesion, spacing: [f64; 3], limit_mm: f64) -> bool {
    let class = BoneClass::parse(&lesion.bone_class).unwrap_or(BoneClass::Other);
    is_variant_site(&lesion.region, class) && in_plane_extent_mm(lesion.bbox_voxel, spacing) < limit_mm
}

/// Sets the equivocal foci aside ([`is_equivocal`]): returns the lesions, renumbered 1..N in
/// their order, and the equivocal foci, numbered 1..M in theirs. `to_id` (component label to
/// lesion id, as [`crate::lesions::measure`] gives it) is rewritten to the new lesion ids, 0
/// for the foci set aside, so that the lesion map holds lesions only.
pub fn set_aside(
    lesions: Vec<Lesion>,
    to_id: &mut [u16],
    spacing: [f64; 3],
    limit_mm: f64,
) -> (Vec<Lesion>, Vec<Lesion>) {
    let mut new_id = vec![0u16; lesions.len() + 1];
    let (mut kept, mut aside) = (Vec::new(), Vec::new());
    for mut l in lesions {
        let old = l.id as usize;
        if is_equivocal(&l, spacing, limit_mm) {
            l.id = aside.len() as u32 + 1;
            aside.push(l);
        } else {
            l.id = kept.len() as u32 + 1;
            new_id[old] = l.id as u16;
            kept.push(l);
        }
    }
    for id in to_id.iter_mut() {
        *id = new_id.get(*id as usize).copied().unwrap_or(0);
    }
    (kept, aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesion(id: u32, region: &str, class: &str, bbox: [[usize; 3]; 2]) -> Lesion {
        Lesion { bone_class: class.into(), bbox_voxel: bbox, ..Lesion::example(id, region) }
    }

    #[test]
    fn the_extent_in_plane_leaves_out_thick_slices() {
        // Coronal 1.2 x 6 x 1.2 mm voxels: 7 voxels across in plane, 3 slices deep.
        let bbox = [[10, 4, 20], [17, 7, 25]];
        assert!((in_plane_extent_mm(bbox, [1.2, 6.0, 1.2]) - 8.4).abs() < 1e-9);
        // Near-isotropic voxels: every axis is in plane.
        assert!((in_plane_extent_mm(bbox, [1.0, 1.5, 1.0]) - 7.0).abs() < 1e-9);
        // 0.6 x 0.6 x 3.3 mm (the real sacroiliac scans): the 3.3 mm axis is across the slices.
        assert!((in_plane_extent_mm([[0, 0, 0], [10, 12, 9]], [0.6, 0.6, 3.3]) - 7.2).abs() < 1e-9);
    }

    #[test]
    fn small_foci_at_variant_sites_are_set_aside_and_the_map_renumbered() {
        let sp = [1.2, 6.0, 1.2];
        let small = [[0, 0, 0], [7, 3, 7]]; // 8.4 mm in plane, 18 mm across the slices
        let large = [[0, 0, 0], [9, 1, 7]]; // 10.8 mm in plane
        let lesions = vec![
            lesion(1, "vertebra_T7", "vertebra", small),
            lesion(2, "calcaneus_left", "foot", small),
            lesion(3, "calcaneus_right", "foot", large),
            lesion(4, "ilium_left", "pelvis", small),
            lesion(5, "sacroiliac_region", "pelvis", small),
        ];
        // Component labels 1..6 (label 6 was dropped as too small: id 0).
        let mut to_id = vec![0u16, 3, 1, 2, 5, 4, 0];
        let (kept, aside) = set_aside(lesions.clone(), &mut to_id, sp, VARIANT_FOCUS_MM);
        let names = |v: &[Lesion]| v.iter().map(|l| (l.id, l.region.clone())).collect::<Vec<_>>();
        assert_eq!(
            names(&kept),
            [(1, "vertebra_T7".to_string()), (2, "calcaneus_right".into()), (3, "sacroiliac_region".into())]
        );
        assert_eq!(names(&aside), [(1, "calcaneus_left".to_string()), (2, "ilium_left".into())]);
        assert_eq!(to_id, [0, 2, 1, 0, 3, 0, 0]);
        // A limit of 0 sets nothing aside and keeps every id.
        let mut same = vec![0u16, 3, 1, 2, 5, 4, 0];
        let (kept, aside) = set_aside(lesions, &mut same, sp, 0.0);
        assert_eq!((kept.len(), aside.len()), (5, 0));
        assert_eq!(same, [0, 3, 1, 2, 5, 4, 0]);
    }
}
