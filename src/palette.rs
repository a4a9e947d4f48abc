//! Region colours: one deterministic colour per region name, shared by `regions.tsv`,
//! `regions.png` and any colour table written for a viewer.
//!
//! A colour is built in OKLCH (perceptual lightness, chroma, hue) from what the name says
//! ([`RegionInfo`]), never from the label value, so a region has the same colour in every
//! scan and with every atlas:
//!
//! - **hue** by bone class (pelvis orange, femur green, vertebrae blue, sacrum purple, ...);
//! - **part**: a sub-region of a bone (acetabular roof, femoral neck, posterior elements, ...)
//!   takes one of [`VARIANTS`], a lightness and hue offset, chosen so the parts that touch
//!   inside a bone get different variants; an unknown part name picks a variant by hash;
//! - **series**: numbered neighbours (vertebral levels, sacral segments, ribs) alternate
//!   lighter and darker and turn the hue a little, so adjacent levels differ;
//! - **side**: the subject's left is a little darker and turned, so the two pubic bones
//!   differ where they meet at the symphysis.
//!
//! Colours outside the sRGB gamut lose chroma until they fit (same hue and lightness).

use crate::labels::{BoneClass, LabelTable, RegionInfo, Side};

/// An sRGB colour, 8 bits per channel.
pub type Rgb = [u8; 3];

/// Lightness of a region with no offsets (OKLab L, 0..1).
const BASE_L: f64 = 0.72;
/// Chroma of a region colour (OKLab a-b radius).
const BASE_C: f64 = 0.13;
/// Lightness step between neighbours of a numbered series.
const SERIES_L: f64 = 0.08;
/// Hue turn between neighbours of a numbered series, in degrees (cycled over three levels).
const SERIES_H: f64 = 16.0;
/// Lightness and hue offsets of the subject's left side.
const LEFT_L: f64 = -0.06;
const LEFT_H: f64 = 22.0;

/// Lightness and hue offsets (degrees) of a bone's parts; variant 0 is the whole bone.
pub const VARIANTS: [(f64, f64); 7] =
    [(0.0, 0.0), (-0.13, 28.0), (0.11, -26.0), (-0.06, -52.0), (0.14, 34.0), (-0.17, -8.0), (0.06, 56.0)];

/// Name fragments of known parts and their variant: parts that touch within a bone have
/// different variants (acetabulum roof, columns, ischium, pubis, ilium; femoral head, neck,
/// shaft, distal metaphysis and epiphysis; clavicle thirds; vertebral body and posterior
/// elements). The first fragment found in the name wins.
const PARTS: [(&str, usize); 15] = [
    ("posterior_elements", 1),
    ("roof", 1),
    ("anterior_column", 2),
    ("posterior_column", 3),
    ("ischi", 4),
    ("pubi", 5),
    ("head", 1),
    ("neck", 2),
    ("proximal_epiphysis", 4),
    ("proximal_metaphysis", 3),
    ("distal_metaphysis", 3),
    ("distal_epiphysis", 4),
    ("medial", 1),
    ("lateral", 2),
    ("shaft", 0),
];

/// Base hue (OKLCH degrees) of a bone class; `None` for [`BoneClass::Other`] (hashed).
fn class_hue(class: BoneClass) -> Option<f64> {
    Some(match class {
        BoneClass::Vertebra => 255.0,
        BoneClass::Sacrum => 310.0,
        BoneClass::Pelvis => 60.0,
        BoneClass::Femur => 145.0,
        BoneClass::Tibia => 110.0,
        BoneClass::Fibula => 180.0,
        BoneClass::Foot => 25.0,
        BoneClass::Patella => 85.0,
        BoneClass::Humerus => 350.0,
        BoneClass::Forearm => 10.0,
        BoneClass::Hand => 330.0,
        BoneClass::Clavicle => 30.0,
        BoneClass::Sternum => 200.0,
        BoneClass::Rib => 95.0,
        BoneClass::Scapula => 165.0,
        BoneClass::Mandible => 285.0,
        BoneClass::Skull => 225.0,
        BoneClass::Other => return None,
    })
}

/// FNV-1a hash of a string (stable across platforms and releases, unlike `std`'s hasher).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// The part variant of a region: a known part fragment, variant 0 for a whole bone, else a
/// hash of the name.
fn part_variant(lower: &str, info: &RegionInfo) -> usize {
    if let Some(&(_, v)) = PARTS.iter().find(|(frag, _)| lower.contains(frag)) {
        return v;
    }
    let whole = lower == info.bone || info.vertebral_level.is_some() || info.bone_class == BoneClass::Pelvis;
    if whole {
        0
    } else {
        (fnv1a(lower) % VARIANTS.len() as u64) as usize
    }
}

/// A vertebral level counted down the spine without gaps (C1 = 1, T1 = 8, L1 = 20, S1 = 26),
/// so that adjacent levels, across the cervico-thoracic and lumbosacral junctions too, are
/// consecutive numbers.
fn level_ordinal(level: &str) -> Option<u32> {
    let (letter, num) = level.split_at(level.len().min(1));
    let n: u32 = num.parse().ok()?;
    Some(
        n + match letter {
            "C" => 0,
            "T" => 7,
            "L" => 19,
            "S" => 25,
            _ => return None,
        },
    )
}

/// The position of a region in a numbered series: its vertebral level's ordinal, else the
/// last number in its name (`rib_left_5`).
fn series_number(lower: &str, info: &RegionInfo) -> Option<u32> {
    if let Some(n) = info.vertebral_level.as_deref().and_then(level_ordinal) {
        return Some(n);
    }
    lower.split(['_', '-', ' ', '.']).rev().find_map(|t| t.parse::<u32>().ok())
}

/// The colour of a region from its name and what the table or name says about it.
pub fn colour(name: &str, info: &RegionInfo) -> Rgb {
    let lower = name.to_ascii_lowercase();
    let (mut l, mut c) = (BASE_L, BASE_C);
    let mut h = match class_hue(info.bone_class) {
        Some(h) => h,
        None => {
            c = 0.06;
            (fnv1a(&info.bone) % 360) as f64
        }
    };
    let (dl, dh) = VARIANTS[part_variant(&lower, info)];
    l += dl;
    h += dh;
    if let Some(n) = series_number(&lower, info) {
        l += if n % 2 == 1 { SERIES_L } else { -SERIES_L };
        h += SERIES_H * ((n % 3) as f64 - 1.0);
    }
    if info.side == Side::Left {
        l += LEFT_L;
        h += LEFT_H;
    }
    oklch_to_srgb(l.clamp(0.35, 0.92), c, h)
}

/// Lesion colours, cycled by id: saturated hues that stand out from a grey background and
/// from each other. Id 1 gets the first entry.
pub const LESION_COLOURS: [[u8; 3]; 14] = [
    [235, 35, 35],   // red
    [30, 144, 255],  // azure
    [40, 205, 60],   // green
    [255, 150, 0],   // orange
    [225, 45, 225],  // magenta
    [0, 225, 225],   // cyan
    [250, 235, 25],  // yellow
    [145, 95, 255],  // violet
    [165, 245, 50],  // lime
    [255, 95, 160],  // rose
    [0, 160, 140],   // teal
    [205, 150, 60],  // ochre
    [120, 200, 255], // sky
    [255, 125, 95],  // coral
];

/// The colour of lesion `id` (ids cycle through [`LESION_COLOURS`]): in `overview.png`, the
/// lesion map's colour tables and the review page alike.
pub fn lesion_colour(id: u32) -> Rgb {
    LESION_COLOURS[(id as usize).wrapping_sub(1) % LESION_COLOURS.len()]
}

/// The colour of a table's label (`None` when the table lacks it).
pub fn label_colour(table: &LabelTable, label: u32) -> Option<Rgb> {
    Some(colour(table.name(label)?, &table.info(label)?))
}

/// `#rrggbb` (lower case), as BIDS `_dseg.tsv` `color` columns write it.
pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// OKLab coordinates of an sRGB colour (to measure how far apart two colours look).
pub fn oklab(c: Rgb) -> [f64; 3] {
    let lin = c.map(|v| {
        let x = v as f64 / 255.0;
        if x <= 0.04045 {
            x / 12.92
        } else {
            ((x + 0.055) / 1.055).powf(2.4)
        }
    });
    let [r, g, b] = lin;
    let l = (0.412_221_470_8 * r + 0.536_332_536_3 * g + 0.051_445_992_9 * b).cbrt();
    let m = (0.211_903_498_2 * r + 0.680_699_545_1 * g + 0.107_396_956_6 * b).cbrt();
    let s = (0.088_302_461_9 * r + 0.281_718_837_6 * g + 0.629_978_700_5 * b).cbrt();
    [
        0.210_454_255_3 * l + 0.793_617_785_0 * m - 0.004_072_046_8 * s,
        1.977_998_495_1 * l - 2.428_592_205_0 * m + 0.450_593_709_9 * s,
        0.025_904_037_1 * l + 0.782_771_766_2 * m - 0.808_675_766_0 * s,
    ]
}

/// Perceptual distance between two colours (Euclidean in OKLab; 0.02 is about a just
/// noticeable difference).
pub fn distance(a: Rgb, b: Rgb) -> f64 {
    let (p, q) = (oklab(a), oklab(b));
    ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt()
}

/// Linear sRGB of an OKLab colour.
fn oklab_to_linear(l: f64, a: f64, b: f64) -> [f64; 3] {
    let l_ = (l + 0.396_337_777_4 * a + 0.215_803_757_3 * b).powi(3);
    let m_ = (l - 0.105_561_345_8 * a - 0.063_854_172_8 * b).powi(3);
    let s_ = (l - 0.089_484_177_5 * a - 1.291_485_548_0 * b).powi(3);
    [
        4.076_741_662_1 * l_ - 3.307_711_591_3 * m_ + 0.230_969_929_2 * s_,
        -1.268_438_004_6 * l_ + 2.609_757_401_1 * m_ - 0.341_319_396_5 * s_,
        -0.004_196_086_3 * l_ - 0.703_418_614_7 * m_ + 1.707_614_701_0 * s_,
    ]
}

/// An OKLCH colour in 8-bit sRGB, chroma reduced until it is inside the gamut.
fn oklch_to_srgb(l: f64, c: f64, hue_deg: f64) -> Rgb {
    let (sin, cos) = hue_deg.to_radians().sin_cos();
    let mut chroma = c;
    let mut rgb = oklab_to_linear(l, chroma * cos, chroma * sin);
    while chroma > 0.0 && rgb.iter().any(|v| !(-1e-9..=1.0 + 1e-9).contains(v)) {
        chroma = (chroma - 0.005).max(0.0);
        rgb = oklab_to_linear(l, chroma * cos, chroma * sin);
    }
    rgb.map(|v| {
        let v = v.clamp(0.0, 1.0);
        let g = if v <= 0.003_130_8 { 12.92 * v } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
        (g * 255.0).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str) -> Rgb {
        colour(name, &RegionInfo::from_name(name))
    }

    #[test]
    fn same_name_same_colour_and_hex_is_bids_style() {
        assert_eq!(col("acetabulum_roof_right"), col("acetabulum_roof_right"));
        let h = hex(col("femur_neck_left"));
        assert_eq!(h.len(), 7);
        assert!(h.starts_with('#') && h[1..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(hex([0, 15, 255]), "#000fff");
    }

    #[test]
    fn oklab_round_trips_through_srgb() {
        for (l, c, h) in [(0.72, 0.1, 60.0), (0.5, 0.05, 250.0), (0.85, 0.12, 145.0)] {
            let rgb = oklch_to_srgb(l, c, h);
            let lab = oklab(rgb);
            assert!((lab[0] - l).abs() < 0.01, "{rgb:?} {lab:?}");
        }
        assert_eq!(oklch_to_srgb(1.0, 0.0, 0.0), [255, 255, 255]);
    }

    /// Parts of one bone that touch, adjacent vertebral levels and the two pubic bones look
    /// different (OKLab distance well above a just noticeable difference).
    #[test]
    fn neighbouring_regions_are_distinct() {
        let hip = crate::labels::HIP_PARTS;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for side in ["left", "right"] {
            for (i, a) in hip.iter().enumerate() {
                for b in &hip[i + 1..] {
                    pairs.push((format!("{a}_{side}"), format!("{b}_{side}")));
                }
            }
            let femur =
                ["femur_head", "femur_neck", "femur_shaft", "femur_distal_metaphysis", "femur_distal_epiphysis"];
            let tibia =
                ["tibia_proximal_epiphysis", "tibia_proximal_metaphysis", "tibia_shaft", "tibia_distal_metaphysis"];
            let clav = ["clavicle_medial", "clavicle_shaft", "clavicle_lateral"];
            for chain in [&femur[..], &tibia[..], &clav[..]] {
                for w in chain.windows(2) {
                    pairs.push((format!("{}_{side}", w[0]), format!("{}_{side}", w[1])));
                }
            }
            pairs.push((format!("femur_head_{side}"), format!("acetabulum_roof_{side}")));
            pairs.push((format!("ilium_{side}"), "vertebra_S1".into()));
            pairs.push((format!("rib_{side}_6"), format!("rib_{side}_7")));
        }
        pairs.push(("pubis_left".into(), "pubis_right".into()));
        pairs.push(("hip_left".into(), "hip_right".into()));
        let levels: Vec<String> = (1..=7)
            .map(|n| format!("C{n}"))
            .chain((1..=12).map(|n| format!("T{n}")))
            .chain((1..=5).map(|n| format!("L{n}")))
            .chain((1..=5).map(|n| format!("S{n}")))
            .collect();
        for w in levels.windows(2) {
            pairs.push((format!("vertebra_{}", w[0]), format!("vertebra_{}", w[1])));
            pairs.push((format!("vertebrae_{}", w[0]), format!("vertebrae_{}", w[1])));
        }
        for l in &levels[..24] {
            pairs.push((format!("vertebra_{l}"), format!("vertebra_{l}_posterior_elements")));
        }
        pairs.push(("vertebra_L5".into(), "sacrum".into()));
        for (a, b) in &pairs {
            let d = distance(col(a), col(b));
            assert!(d >= 0.05, "{a} {:?} and {b} {:?} are too alike ({d:.3})", col(a), col(b));
        }
    }

    #[test]
    fn unknown_names_still_get_a_stable_colour() {
        let a = col("os_trigonum_left");
        assert_eq!(a, col("os_trigonum_left"));
        let t = LabelTable::from_pairs([(3, "femur_neck_right")]);
        assert_eq!(label_colour(&t, 3), Some(col("femur_neck_right")));
        assert_eq!(label_colour(&t, 4), None);
    }
}
