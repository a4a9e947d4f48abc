//! Tests of `regions.png`.

use super::*;
use crate::labels::BoneClass;
use crate::volume::Affine;

fn row(index: u32, name: &str, side: Side, colour: Rgb) -> RegionRow {
    RegionRow {
        index,
        name: name.into(),
        colour,
        bone_class: BoneClass::Pelvis,
        side,
        vertebral_level: None,
        bone_label: name.into(),
        voxels: 1,
    }
}

/// A 40 x 30 x 50 RAS grid at (2, 3, 1) mm with a block of label 1 at the subject's
/// right (high i), label 2 on the midline, anterior (high j).
fn scene() -> (Volume<f32>, Volume<u8>, Vec<RegionRow>) {
    let grid = Grid { dims: [40, 30, 50], affine: Affine::from_spacing_origin([2.0, 3.0, 1.0], [0.0; 3]) };
    let scan = Volume::filled(grid, 100.0f32);
    let mut atlas = Volume::filled(grid, 0u8);
    for k in 10..40 {
        for j in 5..25 {
            for i in 28..38 {
                atlas.data[grid.index(i, j, k)] = 1;
            }
            for i in 17..23 {
                atlas.data[grid.index(i, j + 4, k)] = 2;
            }
        }
    }
    let rows = vec![row(1, "hip_right", Side::Right, [255, 0, 0]), row(2, "sacrum", Side::Midline, [0, 0, 255])];
    (scan, atlas, rows)
}

#[test]
fn panels_keep_the_physical_aspect_and_the_orientation() {
    let (scan, atlas, rows) = scene();
    let scale = picture_scale(&scan.grid);
    let cor = Panel::new(&scan, &atlas, &rows, Look::Coronal, scale);
    let sag = Panel::new(&scan, &atlas, &rows, Look::Sagittal, scale);
    // 80 x 50 mm coronal, 90 x 50 mm sagittal at one scale: summed width 1000 px.
    assert_eq!((cor.w + sag.w, cor.h), (1000, 294));
    assert!((cor.w as f64 / cor.h as f64 - 80.0 / 50.0).abs() < 0.02);
    // Label 1 sits at the subject's right: the viewer's left in the coronal panel.
    let cols: Vec<usize> = (0..cor.w).filter(|&x| cor.labels[(cor.h / 2) * cor.w + x] == 1).collect();
    assert!(!cols.is_empty() && *cols.iter().max().unwrap() < cor.w / 2, "{cols:?}");
    // Sagittal: only the midline slab (label 2), anterior on the viewer's left.
    assert!(!sag.labels.contains(&1));
    let cols: Vec<usize> = (0..sag.w).filter(|&x| sag.labels[(sag.h / 2) * sag.w + x] == 2).collect();
    let (lo, hi) = (*cols.iter().min().unwrap(), *cols.iter().max().unwrap());
    assert!(lo < sag.w / 10 && hi > sag.w / 2 && hi < sag.w * 3 / 4, "{cols:?}");
}

#[test]
fn picture_has_regions_coloured_numbered_and_listed() {
    let (scan, atlas, rows) = scene();
    let img = picture(&scan, &atlas, &rows);
    assert!(img.width() > 1000 && img.height() as usize >= HEADER + 294);
    let reds = img.pixels().filter(|p| p.0 == [255, 0, 0]).count();
    assert!(reds > 50, "legend swatch and name in the region colour: {reds}");
    let mixed = img.pixels().filter(|p| p[0] as u16 > p[1] as u16 + 40 && p[0] as u16 > p[2] as u16 + 40).count();
    assert!(mixed > 1000, "red fill: {mixed}");
}

/// The memory-order walk (columns along the fastest axis) and the ray walk give the same
/// picture, whatever the storage orientation.
#[test]
fn every_storage_orientation_gives_the_same_picture() {
    let (scan, atlas, rows) = scene();
    let want = picture(&scan, &atlas, &rows);
    for code in ["LPS", "ASR", "PIL", "SRA", "ILP"] {
        let (s, a) = (scan.reoriented(code).unwrap(), atlas.reoriented(code).unwrap());
        assert!(picture(&s, &a, &rows) == want, "{code}");
    }
}

#[test]
fn mode_prefers_more_voxels_then_the_lower_label() {
    assert_eq!(mode(&[]), 0);
    assert_eq!(mode(&[(5, 2), (3, 2), (9, 1)]), 3);
    assert_eq!(mode(&[(5, 3), (3, 2)]), 5);
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let grid = Grid { dims: [0, 0, 0], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
    let img = picture(&Volume::filled(grid, 0.0f32), &Volume::filled(grid, 0u8), &[]);
    assert!(img.width() > 0 && img.height() > 0);
    let (scan, _, rows) = scene();
    let wrong = Volume::filled(Grid { dims: [2, 2, 2], ..scan.grid }, 1u16);
    let img = picture(&scan, &wrong, &rows);
    assert!(img.width() > 0);
}
