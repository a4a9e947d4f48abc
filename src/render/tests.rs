//! Tests of the overview picture.

use super::projection::consider;
use super::*;
use crate::volume::Affine;

const DIMS: [usize; 3] = [40, 30, 50];

fn grid(spacing: [f64; 3]) -> Grid {
    Grid { dims: DIMS, affine: Affine::from_spacing_origin(spacing, [-20.0, -15.0, -25.0]) }
}

/// A dim textured background with a bright block at high i (subject's right) and high k
/// (superior), in RAS storage.
fn scan_with_block(spacing: [f64; 3]) -> Volume<f32> {
    let g = grid(spacing);
    let mut v = Volume::filled(g, 0.0f32);
    for k in 0..DIMS[2] {
        for j in 0..DIMS[1] {
            for i in 0..DIMS[0] {
                let idx = g.index(i, j, k);
                v.data[idx] = ((i * 7 + j * 3 + k * 5) % 11) as f32 * 5.0;
                if (30..38).contains(&i) && (10..20).contains(&j) && (38..46).contains(&k) {
                    v.data[idx] = 1000.0;
                }
            }
        }
    }
    v
}

fn lesion_box(
    map: &mut Volume<u16>,
    id: u16,
    i: std::ops::Range<usize>,
    j: std::ops::Range<usize>,
    k: std::ops::Range<usize>,
) {
    for kk in k {
        for jj in j.clone() {
            for ii in i.clone() {
                let idx = map.grid.index(ii, jj, kk);
                map.data[idx] = id;
            }
        }
    }
}

fn layout_of(v: &Volume<f32>) -> Layout {
    Layout::new(&View::new(&v.grid))
}

fn is_grey(p: &image::Rgb<u8>) -> bool {
    p[0] == p[1] && p[1] == p[2]
}

#[test]
fn bright_block_on_the_right_and_superior_is_at_the_top_left() {
    let scan = scan_with_block([1.0, 1.0, 1.0]);
    let lesions = Volume::filled(scan.grid, 0u16);
    let img = overview(&scan, &lesions, &[]);
    let l = layout_of(&scan);
    assert_eq!((img.width() as usize, img.height() as usize), (l.canvas_w, l.canvas_h));
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (usize::MAX, 0, usize::MAX, 0);
    for y in 0..l.h {
        for x in 0..l.w {
            let p = img.get_pixel((l.x0 + x) as u32, (l.y0 + y) as u32);
            if p[0] == 255 && is_grey(p) {
                (x_min, x_max, y_min, y_max) = (x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y));
            }
        }
    }
    // i 30..38 of 40 counted from the viewer's left is cells 2..10; k 38..46 of 50 from
    // the top is cells 4..12. Interpolation saturates from the first cell centre to the
    // last.
    let (fx, fy) = (l.w as f64 / 40.0, l.h as f64 / 50.0);
    let msg = format!("block at x {x_min}..={x_max}, y {y_min}..={y_max} of {} x {}", l.w, l.h);
    assert!(x_max < l.w / 2 && y_max < l.h / 2, "{msg}");
    assert!((x_min as f64 - 2.5 * fx).abs() <= 1.0 && (x_max as f64 - 9.5 * fx).abs() <= 1.0, "{msg}");
    assert!((y_min as f64 - 4.5 * fy).abs() <= 1.0 && (y_max as f64 - 11.5 * fy).abs() <= 1.0, "{msg}");
}

#[test]
fn pixels_are_square_in_mm() {
    let scan = scan_with_block([1.0, 2.0, 3.0]);
    let l = layout_of(&scan);
    assert_eq!((l.w, l.h), (267, TARGET_LONG_SIDE)); // 40 mm x 150 mm
    let scan = scan_with_block([2.5, 1.0, 1.0]);
    let l = layout_of(&scan);
    assert_eq!((l.w, l.h), (TARGET_LONG_SIDE, 500)); // 100 mm x 50 mm
}

fn scene() -> (Volume<f32>, Volume<u16>, Vec<Marker>) {
    let scan = scan_with_block([1.2, 2.0, 1.5]);
    let mut map = Volume::filled(scan.grid, 0u16);
    lesion_box(&mut map, 1, 5..12, 5..10, 5..12);
    lesion_box(&mut map, 2, 31..35, 12..14, 40..43);
    lesion_box(&mut map, 3, 20..21, 3..4, 25..26);
    lesion_box(&mut map, 14, 0..3, 0..30, 47..50);
    let markers = vec![
        Marker { id: 1, centroid_voxel: [8.0, 7.0, 8.0], ..Default::default() },
        Marker { id: 2, centroid_voxel: [32.5, 12.5, 41.0], ..Default::default() },
        Marker { id: 3, centroid_voxel: [20.0, 3.0, 25.0], ..Default::default() },
        Marker { id: 14, centroid_voxel: [1.0, 14.5, 48.0], ..Default::default() },
    ];
    (scan, map, markers)
}

#[test]
fn every_storage_orientation_gives_the_same_picture() {
    let (scan, map, markers) = scene();
    let reference = overview(&scan, &map, &markers);
    // p = 1 (LPS), p = 0 (ASR, PIL), p = 2 (SRA, ILP).
    for code in ["LPS", "ASR", "PIL", "SRA", "ILP"] {
        let s = scan.reoriented(code).unwrap();
        let m = map.reoriented(code).unwrap();
        let moved: Vec<Marker> = markers
            .iter()
            .map(|mk| {
                let world = scan.grid.affine.voxel_to_world(mk.centroid_voxel);
                Marker { id: mk.id, centroid_voxel: s.grid.affine.world_to_voxel(world).unwrap(), ..Default::default() }
            })
            .collect();
        let img = overview(&s, &m, &moved);
        assert_eq!(img.dimensions(), reference.dimensions(), "{code}");
        let differing = img.pixels().zip(reference.pixels()).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{code}: {differing} pixels differ");
    }
}

#[test]
fn lesions_are_coloured_where_they_project() {
    let scan = scan_with_block([1.0, 1.0, 1.0]);
    let mut map = Volume::filled(scan.grid, 0u16);
    // Left (low i) and inferior (low k): display columns 28..35 of 40, rows 38..45 of 50.
    lesion_box(&mut map, 1, 5..12, 5..10, 5..12);
    let img = overview(&scan, &map, &[]);
    let l = layout_of(&scan);
    let (fx, fy) = (l.w as f64 / 40.0, l.h as f64 / 50.0);
    let inside = |x: usize, y: usize| {
        (x as f64) >= 28.0 * fx - 1.0
            && (x as f64) <= 35.0 * fx + 1.0
            && (y as f64) >= 38.0 * fy - 1.0
            && (y as f64) <= 45.0 * fy + 1.0
    };
    let mut coloured = 0;
    for y in 0..l.h {
        for x in 0..l.w {
            let p = img.get_pixel((l.x0 + x) as u32, (l.y0 + y) as u32);
            if !is_grey(p) {
                assert!(inside(x, y), "colour outside the lesion at ({x}, {y})");
                coloured += 1;
            }
        }
    }
    assert!(coloured as f64 >= 0.9 * (7.0 * fx) * (7.0 * fy));
    // Centre: a red-tinted blend; rim: the solid palette colour.
    let cx = (l.x0 as f64 + 31.5 * fx) as u32;
    let cy = (l.y0 as f64 + 41.5 * fy) as u32;
    let c = img.get_pixel(cx, cy);
    assert!(c[0] as i32 > c[1] as i32 + 40 && c[0] as i32 > c[2] as i32 + 40, "{c:?}");
    let rim = img.get_pixel(cx, (l.y0 as f64 + 38.0 * fy).ceil() as u32);
    assert_eq!(rim.0, crate::palette::LESION_COLOURS[0]);
}

#[test]
fn the_brightest_lesion_on_a_ray_wins() {
    let scan = scan_with_block([1.0, 1.0, 1.0]);
    let mut scan = scan;
    let mut map = Volume::filled(scan.grid, 0u16);
    // Two lesions on the same rays (same i, k), lesion 2 brighter.
    lesion_box(&mut map, 1, 5..12, 2..5, 5..12);
    lesion_box(&mut map, 2, 5..12, 20..25, 5..12);
    for (idx, &id) in map.data.iter().enumerate() {
        if id == 2 {
            scan.data[idx] = 500.0;
        }
    }
    let img = overview(&scan, &map, &[]);
    let l = layout_of(&scan);
    let rim = img.get_pixel(
        (l.x0 as f64 + 31.5 * l.w as f64 / 40.0) as u32,
        (l.y0 as f64 + 38.0 * l.h as f64 / 50.0).ceil() as u32,
    );
    assert_eq!(rim.0, crate::palette::LESION_COLOURS[1]);
}

#[test]
fn projection_matches_a_direct_computation_along_every_axis() {
    let dims = [7usize, 5, 6];
    let n = dims.iter().product::<usize>();
    let data: Vec<f32> = (0..n).map(|x| ((x * 37) % 101) as f32).collect();
    let labels: Vec<u16> = (0..n).map(|x| if (x * 13) % 7 == 0 { ((x % 3) + 1) as u16 } else { 0 }).collect();
    for p in 0..3 {
        let proj = project(&data, Some(&labels), dims, p);
        let (a, b) = match p {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        for ib in 0..dims[b] {
            for ia in 0..dims[a] {
                let (mut m, mut bv, mut bid) = (f32::NEG_INFINITY, f32::NEG_INFINITY, 0u16);
                for t in 0..dims[p] {
                    let mut ijk = [0; 3];
                    (ijk[a], ijk[b], ijk[p]) = (ia, ib, t);
                    let idx = ijk[0] + dims[0] * (ijk[1] + dims[1] * ijk[2]);
                    m = m.max(data[idx]);
                    consider(&mut bv, &mut bid, data[idx], labels[idx]);
                }
                let s = ia + dims[a] * ib;
                assert_eq!((proj.mip[s], proj.lid[s]), (m, bid), "axis {p} at ({ia}, {ib})");
            }
        }
    }
}

#[test]
fn taps_cover_the_source() {
    assert_eq!(taps(4, 2), vec![Tap::Span(0, 2), Tap::Span(2, 4)]);
    assert_eq!(taps(3, 2), vec![Tap::Span(0, 2), Tap::Span(1, 3)]);
    assert_eq!(taps(1, 3), vec![Tap::Lerp(0, 0, 0.0); 3]);
    let t = taps(2, 4);
    assert_eq!(t[0], Tap::Lerp(0, 1, 0.0));
    assert_eq!(t[3], Tap::Lerp(1, 1, 0.0));
}

#[test]
fn numbers_stay_whole_at_the_edges() {
    // Black scan, so every white pixel is a digit or an orientation letter.
    let scan = Volume::filled(grid([1.0; 3]), 0.0f32);
    let mut map = Volume::filled(scan.grid, 0u16);
    lesion_box(&mut map, 7, 0..2, 0..2, 0..2);
    lesion_box(&mut map, 23, 38..40, 28..30, 48..50);
    let markers = [
        Marker { id: 7, centroid_voxel: [0.0, 0.0, 0.0], ..Default::default() },
        Marker { id: 23, centroid_voxel: [39.0, 29.0, 49.0], ..Default::default() },
        Marker { id: 5, centroid_voxel: [f64::NAN, 0.0, 0.0], ..Default::default() },
    ];
    let img = overview(&scan, &map, &markers);
    let lit =
        |s: &str| s.chars().map(|c| glyph(c).iter().map(|r| r.count_ones() as usize).sum::<usize>()).sum::<usize>();
    let expected = lit("723") * LABEL_SCALE * LABEL_SCALE + lit("RL") * LETTER_SCALE * LETTER_SCALE;
    // The picture part; the legend to its right keys every marker's id in white.
    let picture_w = layout_of(&scan).canvas_w as u32;
    let white =
        |inside: bool| img.enumerate_pixels().filter(|(x, _, p)| (*x < picture_w) == inside && p.0 == WHITE).count();
    assert_eq!(white(true), expected);
    assert_eq!(white(false), lit("5723") * legend::LEGEND_SCALE * legend::LEGEND_SCALE);
}

/// The legend lists every lesion by id with its region and volume in the lesion's colour,
/// right of the picture, which keeps its size and place.
#[test]
fn the_legend_lists_each_lesion_in_its_colour() {
    let (scan, map, mut markers) = scene();
    for m in &mut markers {
        (m.region, m.volume_mm3) = (format!("region_{}", m.id), 10.0 * m.id as f64);
    }
    let plain = overview(&scan, &map, &[]);
    let img = overview(&scan, &map, &markers);
    let l = layout_of(&scan);
    assert_eq!(plain.width() as usize, l.canvas_w);
    assert!(img.width() as usize > l.canvas_w + 100 && img.height() >= plain.height());
    for m in &markers {
        let c = crate::palette::lesion_colour(m.id);
        let n = img.enumerate_pixels().filter(|(x, _, p)| *x as usize >= l.canvas_w && p.0 == c).count();
        // The swatch (a square of the text height) and the label's glyphs.
        let label = format!("region_{} {} mm3", m.id, 10 * m.id);
        let glyphs: usize =
            label.chars().map(|ch| glyph(ch).iter().map(|r| r.count_ones() as usize).sum::<usize>()).sum();
        let s = legend::LEGEND_SCALE;
        let swatch = (GLYPH_H * s) * (GLYPH_H * s);
        assert_eq!(n, swatch + glyphs * s * s, "lesion {}", m.id);
    }
}

#[test]
fn empty_and_degenerate_inputs_do_not_panic() {
    let scan = Volume::filled(grid([1.0; 3]), 0.0f32);
    let map = Volume::filled(scan.grid, 0u16);
    let img = overview(&scan, &map, &[]);
    let l = layout_of(&scan);
    assert_eq!((img.width() as usize, img.height() as usize), (l.canvas_w, l.canvas_h));
    assert!((0..l.h).all(|y| (0..l.w).all(|x| img.get_pixel((l.x0 + x) as u32, (l.y0 + y) as u32).0 == BLACK)));

    // A lesion map on another grid is ignored; NaNs and infinities are tolerated.
    let mut odd = scan_with_block([1.0; 3]);
    odd.data[5] = f32::NAN;
    odd.data[6] = f32::INFINITY;
    odd.data[7] = f32::NEG_INFINITY;
    let other = Volume::filled(Grid { dims: [2, 2, 2], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }, 1u16);
    overview(&odd, &other, &[Marker { id: 1, centroid_voxel: [1e9, -1e9, 3.0], ..Default::default() }]);

    // No voxels at all, and a singular affine.
    for g in [
        Grid { dims: [0, 3, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) },
        Grid { dims: [3, 4, 5], affine: Affine([[0.0; 4]; 4]) },
    ] {
        let img = overview(&Volume::filled(g, 1.0f32), &Volume::filled(g, 0u16), &[]);
        assert!(img.width() >= MIN_CANVAS_W as u32 && img.height() > HEADER as u32);
    }
}

#[test]
fn png_round_trips() {
    let (scan, map, markers) = scene();
    let img = overview(&scan, &map, &markers);
    let bytes = encode_png(&img).unwrap();
    let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(back.dimensions(), img.dimensions());
    assert_eq!(back, img);
}

#[test]
fn digits_are_distinct() {
    let glyphs: Vec<_> = ('0'..='9').map(glyph).collect();
    for (a, ga) in glyphs.iter().enumerate() {
        assert!(ga.iter().any(|&r| r != 0));
        for gb in &glyphs[a + 1..] {
            assert_ne!(ga, gb);
        }
    }
}
