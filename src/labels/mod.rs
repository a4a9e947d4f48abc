//! Atlas label tables: label values to region names, with what each name says about its region.
//!
//! A table maps label values of the atlas volume to region names (label 0 is background).
//! The formats users already have are read, told apart by their content:
//! - BIDS `_dseg.tsv`: a header row with `index` and `name` columns (others allowed);
//! - CSV with the same columns, or 3D Slicer's colour table CSV (`LabelValue`, `Name`, ...);
//! - JSON: `{"1": "vertebra_T7", ...}`, or `{"1": {"name": ..., "bone_class": ..., "side": ...}}`;
//! - ITK-SNAP label description files (`IDX R G B A VIS MSH "LABEL"` lines);
//! - 3D Slicer colour tables (`.ctbl` / `.txt`: `index name R G B A` lines);
//! - TotalSegmentator's class maps, built in ([`LabelTable::built_in`]: `totalsegmentator`,
//!   `totalsegmentator-mr`, ...), and the label names its `--ml` output stores in the atlas's
//!   NIfTI header extension ([`LabelTable::from_caret_xml`]).
//!
//! TSV, CSV and JSON tables may give each label a `bone_class` and a `side`; otherwise
//! [`RegionInfo::from_name`] derives a region's bone, bone class, side and vertebral level
//! from its name, in the project's vocabulary (`<bone>[_<part>][_<side>]`, see
//! `shared/domain.md`) and common spellings of other atlases (TotalSegmentator's
//! `vertebrae_T7`, `hip_left`, `clavicula_left`, ...).

mod bone_only;
mod formats;
mod semantics;
pub mod totalsegmentator;

pub use bone_only::{keep_bone_only, AtlasLabel, BoneOnly};
pub use formats::TableFormat;
pub use semantics::{
    is_variant_site, name_words, region_refines, same_bone, vertebral_level_rank, BoneClass, RegionInfo, Side,
    HIP_PARTS,
};

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// One label of a table: its name and, when the table says so, its bone class and side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Region name.
    pub name: String,
    /// Bone class given by the table (else derived from the name).
    pub bone_class: Option<BoneClass>,
    /// Side given by the table (else derived from the name).
    pub side: Option<Side>,
}

/// Label value to region. Label 0 (background) is never stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelTable {
    entries: BTreeMap<u32, Entry>,
}

impl LabelTable {
    /// Builds a table from (label, name) pairs; label 0 is skipped.
    pub fn from_pairs<I, S>(pairs: I) -> LabelTable
    where
        I: IntoIterator<Item = (u32, S)>,
        S: Into<String>,
    {
        LabelTable {
            entries: pairs
                .into_iter()
                .filter(|(k, _)| *k != 0)
                .map(|(k, v)| (k, Entry { name: v.into(), bone_class: None, side: None }))
                .collect(),
        }
    }

    /// A built-in table by name (`totalsegmentator`, `totalsegmentator-mr`,
    /// `totalsegmentator-vertebrae-mr`, `totalsegmentator-appendicular-bones`).
    pub fn built_in(name: &str) -> Option<LabelTable> {
        totalsegmentator::BUILT_IN
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, classes, _)| LabelTable::from_pairs(classes.iter().enumerate().map(|(i, c)| (i as u32 + 1, *c))))
    }

    /// Reads a table file in any of the formats (told by the content), or a built-in table
    /// when `path` names one and no such file exists.
    ///
    /// # Errors
    /// An unreadable file, a malformed table, duplicate or non-integer indices, or a table
    /// with no label, each as [`Error::Labels`] or [`Error::Io`] naming the file.
    pub fn read(path: &Path) -> Result<LabelTable> {
        if !path.exists() {
            if let Some(t) = path.to_str().and_then(LabelTable::built_in) {
                return Ok(t);
            }
        }
        let text = crate::limits::read_text(path, crate::limits::MAX_TEXT_BYTES, "label table")?;
        let table = Self::parse(&text).map_err(|message| Error::Labels { path: path.to_path_buf(), message })?;
        if table.entries.is_empty() {
            return Err(Error::Labels {
                path: path.to_path_buf(),
                message: "label table lists no label (only background or nothing)".into(),
            });
        }
        Ok(table)
    }

    /// Name of a label, if the table has it.
    pub fn name(&self, label: u32) -> Option<&str> {
        self.entries.get(&label).map(|e| e.name.as_str())
    }

    /// What the table says about a label: the name's [`RegionInfo`] with the table's own bone
    /// class and side where it gives them. `None` for a label the table lacks.
    pub fn info(&self, label: u32) -> Option<RegionInfo> {
        let e = self.entries.get(&label)?;
        Some(RegionInfo::from_name_with(&e.name, e.bone_class, e.side))
    }

    /// Keeps only the labels for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        self.entries.retain(|&l, _| keep(l));
    }

    /// Sets the name of `label` (0 is ignored), without a bone class or side of its own.
    pub fn insert_name(&mut self, label: u32, name: impl Into<String>) {
        if label != 0 {
            self.entries.insert(label, Entry { name: name.into(), bone_class: None, side: None });
        }
    }

    /// Label of a name, if the table has it.
    pub fn label_of(&self, name: &str) -> Option<u32> {
        self.entries.iter().find(|(_, v)| v.name == name).map(|(k, _)| *k)
    }

    /// All (label, name) pairs in label order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.entries.iter().map(|(k, v)| (*k, v.name.as_str()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_and_insert_name() {
        let mut t = LabelTable::parse("index\tname\tbone_class\n1\ta\tpelvis\n2\tb\t\n").unwrap();
        t.retain(|l| l != 2);
        t.insert_name(5, "femur_left");
        t.insert_name(0, "background");
        assert_eq!(t.iter().collect::<Vec<_>>(), [(1, "a"), (5, "femur_left")]);
        assert_eq!(t.info(1).unwrap().bone_class, BoneClass::Pelvis);
    }

    /// What the bone-only rule keeps of TotalSegmentator's class maps.
    #[test]
    fn built_in_tables_bone_labels() {
        let bones = |name: &str| {
            let t = LabelTable::built_in(name).unwrap();
            t.iter()
                .filter(|&(l, _)| t.info(l).unwrap().bone_class != BoneClass::Other)
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
        };
        let mr = bones("totalsegmentator-mr");
        assert_eq!(
            mr,
            [
                "sacrum",
                "vertebrae",
                "humerus_left",
                "humerus_right",
                "scapula_left",
                "scapula_right",
                "clavicula_left",
                "clavicula_right",
                "femur_left",
                "femur_right",
                "hip_left",
                "hip_right"
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
        );
        let ct = bones("totalsegmentator");
        assert_eq!(ct.len(), 62, "{ct:?}");
        assert!(ct.iter().all(|n| !n.contains("cartilage") && !n.contains("cord") && !n.contains("artery")), "{ct:?}");
        assert_eq!(bones("totalsegmentator-vertebrae-mr").len(), 25);
        assert_eq!(bones("totalsegmentator-appendicular-bones").len(), 11);
    }

    #[test]
    fn built_in_totalsegmentator_tables() {
        let t = LabelTable::built_in("totalsegmentator").unwrap();
        assert_eq!(
            (t.len(), t.name(25), t.name(37), t.name(77), t.name(116)),
            (117, Some("sacrum"), Some("vertebrae_T7"), Some("hip_left"), Some("sternum"))
        );
        let mr = LabelTable::built_in("TotalSegmentator-MR").unwrap();
        assert_eq!((mr.len(), mr.name(19), mr.name(38)), (50, Some("vertebrae"), Some("hip_left")));
        assert_eq!(LabelTable::built_in("totalsegmentator-vertebrae-mr").unwrap().name(12), Some("vertebrae_T7"));
        assert!(LabelTable::built_in("nonsense").is_none());
    }
}
