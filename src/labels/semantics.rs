//! What a region's name says about it: bone, bone class, side and vertebral level, in the
//! project's vocabulary and other atlases' spellings.

use serde::Serialize;

/// Whether a reported region names the true one, or a part of it: the same name, or a
/// sub-region of a true region that is itself a whole bone (`clavicle_medial_left` in
/// `clavicle_left`).
pub fn region_refines(reported: &str, truth: &str) -> bool {
    if reported == truth {
        return true;
    }
    let t = RegionInfo::from_name(truth);
    t.bone == truth.to_ascii_lowercase() && RegionInfo::from_name(reported).bone == t.bone
}

/// Whether two regions lie in the same bone (and side).
pub fn same_bone(a: &str, b: &str) -> bool {
    RegionInfo::from_name(a).bone == RegionInfo::from_name(b).bone
}

/// The subject's side of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The subject's left (world x < 0 in a centred frame).
    Left,
    /// The subject's right.
    Right,
    /// Unpaired, on the midline (spine, sternum, mandible).
    Midline,
}

impl Side {
    /// Parses `left`, `right` or `midline` (also `l`, `r`, `m`, any case).
    pub fn parse(s: &str) -> Option<Side> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" | "l" => Some(Side::Left),
            "right" | "r" => Some(Side::Right),
            "midline" | "m" | "none" | "center" | "centre" => Some(Side::Midline),
            _ => None,
        }
    }

    /// `"left"`, `"right"` or `"midline"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
            Side::Midline => "midline",
        }
    }
}

/// Bone class: what staging criteria ask about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum BoneClass {
    Vertebra,
    Sacrum,
    Pelvis,
    Femur,
    Tibia,
    Fibula,
    Foot,
    Humerus,
    Forearm,
    Hand,
    Clavicle,
    Sternum,
    Rib,
    Scapula,
    Mandible,
    Skull,
    Patella,
    Other,
}

impl BoneClass {
    /// A tubular bone (femur, tibia, fibula, humerus, forearm, clavicle) or a bone of the hand
    /// or foot: its growth plates lie across its own long axis, not across the body.
    pub fn is_tubular_or_foot(self) -> bool {
        matches!(
            self,
            BoneClass::Femur
                | BoneClass::Tibia
                | BoneClass::Fibula
                | BoneClass::Humerus
                | BoneClass::Forearm
                | BoneClass::Clavicle
                | BoneClass::Foot
                | BoneClass::Hand
        )
    }

    /// Every class.
    pub const ALL: [BoneClass; 18] = [
        BoneClass::Vertebra,
        BoneClass::Sacrum,
        BoneClass::Pelvis,
        BoneClass::Femur,
        BoneClass::Tibia,
        BoneClass::Fibula,
        BoneClass::Foot,
        BoneClass::Humerus,
        BoneClass::Forearm,
        BoneClass::Hand,
        BoneClass::Clavicle,
        BoneClass::Sternum,
        BoneClass::Rib,
        BoneClass::Scapula,
        BoneClass::Mandible,
        BoneClass::Skull,
        BoneClass::Patella,
        BoneClass::Other,
    ];

    /// Parses a snake-case class name (any case).
    pub fn parse(s: &str) -> Option<BoneClass> {
        let s = s.trim().to_ascii_lowercase();
        BoneClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            BoneClass::Vertebra => "vertebra",
            BoneClass::Sacrum => "sacrum",
            BoneClass::Pelvis => "pelvis",
            BoneClass::Femur => "femur",
            BoneClass::Tibia => "tibia",
            BoneClass::Fibula => "fibula",
            BoneClass::Foot => "foot",
            BoneClass::Humerus => "humerus",
            BoneClass::Forearm => "forearm",
            BoneClass::Hand => "hand",
            BoneClass::Clavicle => "clavicle",
            BoneClass::Sternum => "sternum",
            BoneClass::Rib => "rib",
            BoneClass::Scapula => "scapula",
            BoneClass::Mandible => "mandible",
            BoneClass::Skull => "skull",
            BoneClass::Patella => "patella",
            BoneClass::Other => "other",
        }
    }
}

/// What a region's name tells: its bone, bone class, side and vertebral level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionInfo {
    /// The whole bone the region belongs to, e.g. `hip_right` for `acetabulum_roof_right`,
    /// `sacrum` for `vertebra_S3`, `vertebra_T7` for `vertebra_T7`.
    pub bone: String,
    /// The bone's class.
    pub bone_class: BoneClass,
    /// The subject's side.
    pub side: Side,
    /// Vertebral level (`C3`, `T7`, `L1`, `S2`) for vertebral bodies and sacral segments.
    pub vertebral_level: Option<String>,
}

/// Vertebral level in a name such as `vertebra_T7`, `vertebrae_T7`, `T7`, `D7` (dorsal = T).
fn vertebral_level(tokens: &[&str]) -> Option<String> {
    for t in tokens.iter().rev() {
        let up = t.to_ascii_uppercase();
        let (letter, num) = up.split_at(1.min(up.len()));
        let Ok(n) = num.parse::<u32>() else { continue };
        let letter = match letter {
            "D" => "T",
            l => l,
        };
        let ok = match letter {
            "C" => (1..=7).contains(&n),
            "T" => (1..=12).contains(&n),
            "L" => (1..=6).contains(&n),
            "S" => (1..=5).contains(&n),
            _ => false,
        };
        if ok {
            return Some(format!("{letter}{n}"));
        }
    }
    None
}

/// Words that, beside a vertebral level, still name just that level's body or sacral segment
/// (`T7 vertebra`, `vertebral body L3`, `sacral segment S2`, `S2 segment`).
const LEVEL_WORDS: [&str; 10] =
    ["vertebra", "vertebrae", "vertebral", "body", "bodies", "segment", "segments", "level", "spine", "sacral"];

impl RegionInfo {
    /// Derives bone, class, side and level from a region name (case-insensitive; `_`, `-`,
    /// space and `.` separate words).
    pub fn from_name(name: &str) -> RegionInfo {
        RegionInfo::from_name_with(name, None, None)
    }

    /// [`RegionInfo::from_name`] with a label table's own bone class and side where it gives
    /// them: the bone and the vertebral level follow the class and side given (a `T7 marrow`
    /// row of class `vertebra` is level T7 of bone `vertebra_T7`).
    pub fn from_name_with(name: &str, bone_class: Option<BoneClass>, side: Option<Side>) -> RegionInfo {
        let lower = name.to_ascii_lowercase();
        let tokens = name_words(&lower);
        let level = vertebral_level(&tokens);
        let side = side.unwrap_or_else(|| side_of(&tokens));
        let class = bone_class.unwrap_or_else(|| class_of(&tokens, level.as_deref()));
        let bone = bone_of(class, side, level.as_deref(), &lower);
        let vertebral_level = level.filter(|_| matches!(class, BoneClass::Vertebra | BoneClass::Sacrum));
        RegionInfo { bone, bone_class: class, side, vertebral_level }
    }
}

/// The words of a name already in lower case: `_`, `-`, space and `.` separate them.
pub fn name_words(lower: &str) -> Vec<&str> {
    lower.split(['_', '-', ' ', '.']).filter(|t| !t.is_empty()).collect()
}

/// The hip bone's sub-regions in the vocabulary (`shared/domain.md`), without their side, from
/// the iliac wing down: the names [`crate::parcellate`] gives a whole-bone hip label's parts.
pub const HIP_PARTS: [&str; 6] =
    ["ilium", "acetabulum_roof", "acetabulum_anterior_column", "acetabulum_posterior_column", "ischium", "pubis"];

/// Whether a name's words name the hip bone or one of its parts (ilium, ischium, pubis,
/// acetabulum).
fn names_hip_bone(tokens: &[&str]) -> bool {
    ["ilium", "iliac", "acetabul", "ischi", "pubi", "coxa"].iter().any(|w| tokens.iter().any(|t| t.starts_with(w)))
        || tokens.contains(&"hip")
}

/// The side a name's words say (`left`/`l`/`lt`, `right`/`r`/`rt`), else the midline.
fn side_of(tokens: &[&str]) -> Side {
    let has = |w: &str| tokens.contains(&w);
    if has("left") || has("l") || has("lt") {
        Side::Left
    } else if has("right") || has("r") || has("rt") {
        Side::Right
    } else {
        Side::Midline
    }
}

/// The bone class a name's words say; `level` is the vertebral level among them.
fn class_of(tokens: &[&str], level: Option<&str>) -> BoneClass {
    let has = |w: &str| tokens.contains(&w);
    let starts = |w: &str| tokens.iter().any(|t| t.starts_with(w));
    // A spine word, or a level alone or with words that name its body (`T7`, `S2 segment`).
    let spine = starts("vertebra")
        || has("spine")
        || has("vertebral")
        || (level.is_some() && tokens.iter().all(|t| LEVEL_WORDS.contains(t) || vertebral_level(&[*t]).is_some()));
    // Soft tissue named after a bone (TotalSegmentator's `iliac_artery_left`,
    // `intervertebral_discs`, `costal_cartilages`, `spinal_cord`, muscles) is not bone.
    let soft = ["artery", "arteries", "vein", "vena", "venous", "cord", "disc", "discs", "cartilage", "cartilages"]
        .iter()
        .any(|w| has(w))
        || ["gluteus", "iliopsoas", "autochthon", "muscle"].iter().any(|w| starts(w));
    if soft {
        BoneClass::Other
    } else if starts("sacr") || (spine && level.is_some_and(|l| l.starts_with('S'))) {
        BoneClass::Sacrum
    } else if spine {
        BoneClass::Vertebra
    } else if names_hip_bone(tokens) || has("pelvis") {
        BoneClass::Pelvis
    } else if starts("femur") || starts("femor") {
        BoneClass::Femur
    } else if starts("tibia") {
        BoneClass::Tibia
    } else if starts("fibula") {
        BoneClass::Fibula
    } else if starts("calcane")
        || starts("talus")
        || starts("tars")
        || starts("metatars")
        || has("foot")
        || starts("navicular")
        || starts("cuboid")
        || starts("cuneiform")
    {
        BoneClass::Foot
    } else if starts("humer") {
        BoneClass::Humerus
    } else if starts("radius") || starts("ulna") {
        BoneClass::Forearm
    } else if starts("carp") || starts("metacarp") || has("hand") || starts("phalan") {
        BoneClass::Hand
    } else if starts("clavic") {
        BoneClass::Clavicle
    } else if starts("stern") || starts("manubri") {
        BoneClass::Sternum
    } else if starts("rib") || starts("costa") {
        BoneClass::Rib
    } else if starts("scapul") {
        BoneClass::Scapula
    } else if starts("mandib") {
        BoneClass::Mandible
    } else if starts("skull") || starts("cran") {
        BoneClass::Skull
    } else if starts("patell") {
        BoneClass::Patella
    } else {
        BoneClass::Other
    }
}

/// The whole bone a region of `class` and `side` belongs to (`lower`: the name in lower case).
fn bone_of(class: BoneClass, side: Side, level: Option<&str>, lower: &str) -> String {
    let sided = |b: &str| match side {
        Side::Midline => b.to_string(),
        s => format!("{b}_{}", s.as_str()),
    };
    match class {
        BoneClass::Vertebra => match level {
            Some(l) => format!("vertebra_{l}"),
            None => lower.to_string(),
        },
        BoneClass::Sacrum => "sacrum".to_string(),
        BoneClass::Pelvis => sided("hip"),
        BoneClass::Femur => sided("femur"),
        BoneClass::Tibia => sided("tibia"),
        BoneClass::Fibula => sided("fibula"),
        BoneClass::Humerus => sided("humerus"),
        BoneClass::Clavicle => sided("clavicle"),
        BoneClass::Sternum => "sternum".to_string(),
        BoneClass::Mandible => "mandible".to_string(),
        // Bones with many parts or several bones per class keep the region's own name.
        _ => lower.to_string(),
    }
}

/// Whether `name` (of bone class `class`) is a site where healthy children often show small
/// normal-variant foci of bright marrow on STIR (`domain.md`: pelvis, feet, hands, knees): a
/// bone of the foot or hand, the patella, the hip bone or one of its parts (ilium, ischium,
/// pubis, acetabulum), or a part of the knee (the distal femur, the proximal tibia or
/// fibula). A region named for a joint that is itself being assessed (`sacroiliac_region`)
/// names no such part, nor does a whole femur or tibia, of which only one end is the knee.
pub fn is_variant_site(name: &str, class: BoneClass) -> bool {
    let lower = name.to_ascii_lowercase();
    let tokens = name_words(&lower);
    let has = |w: &str| tokens.contains(&w);
    match class {
        BoneClass::Foot | BoneClass::Hand | BoneClass::Patella => true,
        BoneClass::Pelvis => names_hip_bone(&tokens),
        BoneClass::Femur => has("distal") || has("knee"),
        BoneClass::Tibia | BoneClass::Fibula => has("proximal") || has("knee"),
        _ => false,
    }
}

/// Sort key placing vertebral levels in cranio-caudal order (C1 .. C7, T1 .. T12, L1 .., S1 ..).
pub fn vertebral_level_rank(level: &str) -> u32 {
    let (letter, num) = level.split_at(1);
    let base = match letter {
        "C" => 0,
        "T" => 10,
        "L" => 30,
        "S" => 40,
        _ => 90,
    };
    base + num.parse::<u32>().unwrap_or(9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_bone_class_side_and_level() {
        let r = RegionInfo::from_name("acetabulum_roof_right");
        assert_eq!((r.bone.as_str(), r.bone_class, r.side), ("hip_right", BoneClass::Pelvis, Side::Right));
        let r = RegionInfo::from_name("vertebra_S3");
        assert_eq!(
            (r.bone.as_str(), r.bone_class, r.vertebral_level.as_deref()),
            ("sacrum", BoneClass::Sacrum, Some("S3"))
        );
        let r = RegionInfo::from_name("vertebrae_T7");
        assert_eq!((r.bone.as_str(), r.bone_class, r.side), ("vertebra_T7", BoneClass::Vertebra, Side::Midline));
        let r = RegionInfo::from_name("vertebra_D7");
        assert_eq!(r.vertebral_level.as_deref(), Some("T7"));
        let r = RegionInfo::from_name("femur_neck_left");
        assert_eq!((r.bone.as_str(), r.side), ("femur_left", Side::Left));
        assert_eq!(RegionInfo::from_name("clavicula_left").bone_class, BoneClass::Clavicle);
        assert_eq!(RegionInfo::from_name("sternum").side, Side::Midline);
        assert_eq!(RegionInfo::from_name("hip_left").bone, "hip_left");
        assert_eq!(RegionInfo::from_name("sacrum").bone_class, BoneClass::Sacrum);
        assert_eq!(RegionInfo::from_name("calcaneus_right").bone_class, BoneClass::Foot);
        for soft in [
            "iliac_artery_left",
            "iliac_vena_right",
            "intervertebral_discs",
            "costal_cartilages",
            "spinal_cord",
            "iliopsoas_left",
        ] {
            assert_eq!(RegionInfo::from_name(soft).bone_class, BoneClass::Other, "{soft}");
        }
        assert!(vertebral_level_rank("T7") < vertebral_level_rank("S2"));
        assert!(vertebral_level_rank("C7") < vertebral_level_rank("T1"));
    }

    #[test]
    fn normal_variant_sites_are_feet_hands_knees_and_the_hip_bone() {
        let site = |n: &str| is_variant_site(n, RegionInfo::from_name(n).bone_class);
        for n in [
            "calcaneus_left",
            "talus_right",
            "metatarsal",
            "phalanges_hand",
            "carpal",
            "patella",
            "ilium_right",
            "ischium_left",
            "pubis_left",
            "acetabulum_roof_right",
            "hip_left",
            "femur_distal_metaphysis_left",
            "femur_distal_epiphysis_right",
            "tibia_proximal_epiphysis_left",
            "tibia_proximal_metaphysis_right",
        ] {
            assert!(site(n), "{n}");
        }
        for n in [
            "vertebra_T7",
            "vertebra_S2",
            "sacrum",
            "femur_neck_left",
            "femur_head_right",
            "femur_shaft_left",
            "femur_left",
            "tibia_shaft_right",
            "tibia_distal_metaphysis_left",
            "fibula_left",
            "clavicle_medial_left",
            "sternum",
            "humerus_proximal_metaphysis_left",
        ] {
            assert!(!site(n), "{n}");
        }
        // The class a table gives decides: a hand-drawn region of the sacroiliac joints
        // filed under the pelvis is not the hip bone's own part.
        assert!(!is_variant_site("sacroiliac_region", BoneClass::Pelvis));
        assert!(is_variant_site("bone 3", BoneClass::Foot));
    }

    /// Our sub-regions under other spellings: bone, class, side and level as for ours.
    #[test]
    fn other_spellings_of_sub_regions() {
        let r = |n: &str| {
            let i = RegionInfo::from_name(n);
            (i.bone, i.bone_class, i.side, i.vertebral_level)
        };
        let level = |b: &str, c, l: &str| (b.to_string(), c, Side::Midline, Some(l.to_string()));
        assert_eq!(r("S4"), level("sacrum", BoneClass::Sacrum, "S4"));
        assert_eq!(r("sacral segment S2"), level("sacrum", BoneClass::Sacrum, "S2"));
        assert_eq!(r("S3 segment"), level("sacrum", BoneClass::Sacrum, "S3"));
        assert_eq!(r("T7 vertebra"), level("vertebra_T7", BoneClass::Vertebra, "T7"));
        assert_eq!(r("T7 body"), level("vertebra_T7", BoneClass::Vertebra, "T7"));
        assert_eq!(r("vertebral body L3"), level("vertebra_L3", BoneClass::Vertebra, "L3"));
        assert_eq!(r("D7"), level("vertebra_T7", BoneClass::Vertebra, "T7"));
        let femur_left = ("femur_left".to_string(), BoneClass::Femur, Side::Left, None);
        for n in ["femoral_neck_left", "Femur neck L", "Left femoral neck", "capital femoral epiphysis left"] {
            assert_eq!(r(n), femur_left, "{n}");
        }
        assert_eq!(r("Acetabular roof right").0, "hip_right");
        // A level among other words is no vertebra.
        assert_eq!(RegionInfo::from_name("phalanx_c3").bone_class, BoneClass::Hand);
        assert_eq!(RegionInfo::from_name("my_t7_thing").vertebral_level, None);
        // A table's class and side decide the bone and the level too.
        let i = RegionInfo::from_name_with("T7 marrow", Some(BoneClass::Vertebra), None);
        assert_eq!((i.bone.as_str(), i.vertebral_level.as_deref()), ("vertebra_T7", Some("T7")));
        let i = RegionInfo::from_name_with("bone 3", Some(BoneClass::Pelvis), Some(Side::Left));
        assert_eq!(i.bone, "hip_left");
        let i = RegionInfo::from_name_with("S4", Some(BoneClass::Other), None);
        assert_eq!(i.vertebral_level, None);
    }
}
