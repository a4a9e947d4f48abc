//! Atlas label tables and what a region's name says about it.
//!
//! A table maps label values of the atlas volume to region names. Two formats are read:
//! a BIDS-style TSV (a header row with `index` and `name` columns; other columns are allowed
//! and ignored) and JSON (`{"1": "vertebra_T7", ...}`). Label 0 is background.
//!
//! [`RegionInfo::from_name`] derives a region's bone, bone class, side and vertebral level
//! from its name, in the project's vocabulary (`<bone>[_<part>][_<side>]`, see
//! `shared/domain.md`) and common spellings of other atlases (TotalSegmentator's
//! `vertebrae_T7`, `hip_left`, `clavicula_left`, ...).

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Label value to region name. Label 0 (background) is never stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelTable {
    entries: BTreeMap<u32, String>,
}

impl LabelTable {
    /// Builds a table from (label, name) pairs; label 0 is skipped.
    pub fn from_pairs<I, S>(pairs: I) -> LabelTable
    where
        I: IntoIterator<Item = (u32, S)>,
        S: Into<String>,
    {
        LabelTable { entries: pairs.into_iter().filter(|(k, _)| *k != 0).map(|(k, v)| (k, v.into())).collect() }
    }

    /// Reads a TSV or JSON table; the format is told by the content (JSON starts with `{`).
    ///
    /// # Errors
    /// An unreadable file, a malformed table, duplicate or non-integer indices, or a table
    /// with no label, each as [`Error::Labels`] or [`Error::Io`] naming the file.
    pub fn read(path: &Path) -> Result<LabelTable> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let bad = |message: String| Error::Labels { path: path.to_path_buf(), message };
        let table = if text.trim_start().starts_with('{') {
            Self::parse_json(&text).map_err(bad)?
        } else {
            Self::parse_tsv(&text).map_err(bad)?
        };
        if table.entries.is_empty() {
            return Err(Error::Labels {
                path: path.to_path_buf(),
                message: "label table lists no label (only background or nothing)".into(),
            });
        }
        Ok(table)
    }

    fn parse_json(text: &str) -> std::result::Result<LabelTable, String> {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON label table ({e})"))?;
        let mut entries = BTreeMap::new();
        for (k, v) in map {
            let idx: u32 = k.trim().parse().map_err(|_| format!("label key {k:?} is not a non-negative integer"))?;
            let name = v.as_str().ok_or_else(|| format!("label {k}: name is not a string"))?;
            if name.trim().is_empty() {
                return Err(format!("label {k} has an empty name"));
            }
            if idx != 0 {
                entries.insert(idx, name.trim().to_string());
            }
        }
        Ok(LabelTable { entries })
    }

    fn parse_tsv(text: &str) -> std::result::Result<LabelTable, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let (_, header) = lines.next().ok_or("empty label table")?;
        let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
        let find = |want: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(want));
        let (ci, cn) = match (find("index"), find("name")) {
            (Some(i), Some(n)) => (i, n),
            _ => return Err(format!("TSV header must have 'index' and 'name' columns, found {cols:?}")),
        };
        let mut entries = BTreeMap::new();
        for (lineno, line) in lines {
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let (Some(idx), Some(name)) = (fields.get(ci), fields.get(cn)) else {
                return Err(format!("line {}: fewer columns than the header", lineno + 1));
            };
            let idx: u32 =
                idx.parse().map_err(|_| format!("line {}: index {idx:?} is not a non-negative integer", lineno + 1))?;
            if name.is_empty() {
                return Err(format!("line {}: label {idx} has an empty name", lineno + 1));
            }
            if idx == 0 {
                continue;
            }
            if entries.insert(idx, name.to_string()).is_some() {
                return Err(format!("line {}: label {idx} is listed twice", lineno + 1));
            }
        }
        Ok(LabelTable { entries })
    }

    /// The table as BIDS-style TSV text (`index`, `name`, plus the derived `bone_class`).
    pub fn to_tsv(&self) -> String {
        let mut s = String::from("index\tname\tbone_class\n");
        for (k, v) in &self.entries {
            s.push_str(&format!("{k}\t{v}\t{}\n", RegionInfo::from_name(v).bone_class.as_str()));
        }
        s
    }

    /// Name of a label, if the table has it.
    pub fn name(&self, label: u32) -> Option<&str> {
        self.entries.get(&label).map(String::as_str)
    }

    /// Label of a name, if the table has it.
    pub fn label_of(&self, name: &str) -> Option<u32> {
        self.entries.iter().find(|(_, v)| v.as_str() == name).map(|(k, _)| *k)
    }

    /// All (label, name) pairs in label order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.entries.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Number of labels (background excluded).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table has no label.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Largest label value.
    pub fn max_label(&self) -> u32 {
        self.entries.keys().next_back().copied().unwrap_or(0)
    }
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

impl RegionInfo {
    /// Derives bone, class, side and level from a region name (case-insensitive; `_`, `-`,
    /// space and `.` separate words).
    pub fn from_name(name: &str) -> RegionInfo {
        let lower = name.to_ascii_lowercase();
        let tokens: Vec<&str> = lower.split(['_', '-', ' ', '.']).filter(|t| !t.is_empty()).collect();
        let has = |w: &str| tokens.contains(&w);
        let starts = |w: &str| tokens.iter().any(|t| t.starts_with(w));
        let side = if has("left") || has("l") || has("lt") {
            Side::Left
        } else if has("right") || has("r") || has("rt") {
            Side::Right
        } else {
            Side::Midline
        };
        let raw_tokens: Vec<&str> = name.split(['_', '-', ' ', '.']).filter(|t| !t.is_empty()).collect();
        let level = vertebral_level(&raw_tokens);
        let spine_word = starts("vertebra") || has("spine") || has("vertebral");
        let class = if starts("sacr") || (spine_word && level.as_deref().is_some_and(|l| l.starts_with('S'))) {
            BoneClass::Sacrum
        } else if spine_word || (level.is_some() && tokens.len() == 1) {
            BoneClass::Vertebra
        } else if starts("ilium")
            || starts("iliac")
            || starts("acetabul")
            || starts("ischi")
            || starts("pubi")
            || has("hip")
            || has("pelvis")
            || starts("coxa")
        {
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
        };
        let sided = |b: &str| match side {
            Side::Midline => b.to_string(),
            s => format!("{b}_{}", s.as_str()),
        };
        let bone = match class {
            BoneClass::Vertebra => match &level {
                Some(l) => format!("vertebra_{l}"),
                None => lower.clone(),
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
            _ => lower.clone(),
        };
        let vertebral_level = match class {
            BoneClass::Vertebra | BoneClass::Sacrum => level,
            _ => None,
        };
        RegionInfo { bone, bone_class: class, side, vertebral_level }
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
        assert!(vertebral_level_rank("T7") < vertebral_level_rank("S2"));
        assert!(vertebral_level_rank("C7") < vertebral_level_rank("T1"));
    }

    #[test]
    fn tsv_and_json_tables() {
        let t =
            LabelTable::parse_tsv("index\tname\tcolor\n0\tbackground\t#000\n1\tvertebra_T7\t#fff\n7\tsternum\t#f00\n")
                .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.name(7), Some("sternum"));
        let j = LabelTable::parse_json(r#"{"1": "vertebra_T7", "7": "sternum"}"#).unwrap();
        assert_eq!(t, j);
        assert!(LabelTable::parse_tsv("idx\tname\n1\ta\n").is_err());
        assert!(LabelTable::parse_tsv("index\tname\n1\ta\n1\tb\n").is_err());
        assert!(LabelTable::parse_tsv("index\tname\nx\ta\n").is_err());
        assert!(LabelTable::parse_json(r#"{"a": "b"}"#).is_err());
        let round = LabelTable::parse_tsv(&t.to_tsv()).unwrap();
        assert_eq!(round, t);
    }
}
