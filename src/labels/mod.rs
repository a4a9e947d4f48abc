//! Atlas label tables and what a region's name says about it.
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

pub mod totalsegmentator;

use crate::error::{Error, Result};
use crate::volume::Label;
use rayon::prelude::*;
use serde::Serialize;
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

/// The table formats written by [`LabelTable::to_format`] (all of them are read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// BIDS `_dseg.tsv` with `bone_class` and `side` columns.
    Tsv,
    /// CSV with `index,name,bone_class,side`.
    Csv,
    /// JSON `{"1": {"name": ..., "bone_class": ..., "side": ...}}`.
    Json,
    /// ITK-SNAP label description file.
    ItkSnap,
    /// 3D Slicer colour table (`.ctbl` / `.txt`).
    SlicerCtbl,
    /// 3D Slicer colour table CSV (`LabelValue,Name,Color_R,...`).
    SlicerCsv,
}

impl TableFormat {
    /// Every format.
    pub const ALL: [TableFormat; 6] = [
        TableFormat::Tsv,
        TableFormat::Csv,
        TableFormat::Json,
        TableFormat::ItkSnap,
        TableFormat::SlicerCtbl,
        TableFormat::SlicerCsv,
    ];

    /// The usual file name ending.
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Tsv => "tsv",
            TableFormat::Csv => "csv",
            TableFormat::Json => "json",
            TableFormat::ItkSnap => "label.txt",
            TableFormat::SlicerCtbl => "ctbl",
            TableFormat::SlicerCsv => "slicer.csv",
        }
    }
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
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let table = Self::parse(&text).map_err(|message| Error::Labels { path: path.to_path_buf(), message })?;
        if table.entries.is_empty() {
            return Err(Error::Labels {
                path: path.to_path_buf(),
                message: "label table lists no label (only background or nothing)".into(),
            });
        }
        Ok(table)
    }

    /// Parses a table in any of the formats, told by the content.
    ///
    /// # Errors
    /// A message saying what is wrong and where.
    pub fn parse(text: &str) -> std::result::Result<LabelTable, String> {
        let text = text.trim_start_matches('\u{feff}');
        if text.trim_start().starts_with('{') {
            return Self::parse_json(text);
        }
        let (_, first) = data_lines(text).next().ok_or("empty label table")?;
        if first.contains('\t') {
            Self::parse_delimited(text, '\t')
        } else if first.contains(',') {
            Self::parse_delimited(text, ',')
        } else if first.ends_with('"') {
            Self::parse_itksnap(text)
        } else {
            Self::parse_ctbl(text)
        }
    }

    fn insert(&mut self, idx: u32, entry: Entry, line: usize) -> std::result::Result<(), String> {
        if entry.name.is_empty() {
            return Err(format!("line {line}: label {idx} has an empty name"));
        }
        if idx != 0 && self.entries.insert(idx, entry).is_some() {
            return Err(format!("line {line}: label {idx} is listed twice"));
        }
        Ok(())
    }

    fn parse_json(text: &str) -> std::result::Result<LabelTable, String> {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON label table ({e})"))?;
        let mut t = LabelTable::default();
        for (k, v) in map {
            let idx: u32 = k.trim().parse().map_err(|_| format!("label key {k:?} is not a non-negative integer"))?;
            let field = |f: &str| v.get(f).and_then(|x| x.as_str()).map(str::trim);
            let name = match v.as_str() {
                Some(n) => n.trim(),
                None => field("name").ok_or_else(|| format!("label {k}: neither a name nor an object with one"))?,
            };
            let entry = Entry {
                name: name.to_string(),
                bone_class: parse_opt(field("bone_class"), BoneClass::parse, "bone class")
                    .map_err(|e| format!("label {k}: {e}"))?,
                side: parse_opt(field("side"), Side::parse, "side").map_err(|e| format!("label {k}: {e}"))?,
            };
            if entry.name.is_empty() {
                return Err(format!("label {k} has an empty name"));
            }
            if idx != 0 {
                t.entries.insert(idx, entry);
            }
        }
        Ok(t)
    }

    /// TSV or CSV with a header: `index` (or Slicer's `LabelValue`) and `name`, optional
    /// `bone_class` and `side`.
    fn parse_delimited(text: &str, sep: char) -> std::result::Result<LabelTable, String> {
        let mut lines = data_lines(text);
        let (_, header) = lines.next().ok_or("empty label table")?;
        let cols: Vec<String> = split_fields(header, sep);
        let find = |want: &[&str]| cols.iter().position(|c| want.iter().any(|w| c.eq_ignore_ascii_case(w)));
        let (ci, cn) = match (find(&["index", "labelvalue", "label_value", "value"]), find(&["name", "label_name"])) {
            (Some(i), Some(n)) => (i, n),
            _ => {
                return Err(format!(
                    "the header must have 'index' (or 'LabelValue') and 'name' columns, found {cols:?}"
                ))
            }
        };
        let (cb, cs) = (find(&["bone_class"]), find(&["side"]));
        let mut t = LabelTable::default();
        for (line_no, line) in lines {
            let f = split_fields(line, sep);
            let (Some(idx), Some(name)) = (f.get(ci), f.get(cn)) else {
                return Err(format!("line {line_no}: fewer columns than the header"));
            };
            let idx: u32 =
                idx.parse().map_err(|_| format!("line {line_no}: index {idx:?} is not a non-negative integer"))?;
            let opt = |c: Option<usize>| {
                c.and_then(|c| f.get(c)).map(String::as_str).filter(|v| !v.is_empty() && *v != "n/a")
            };
            let entry = Entry {
                name: name.clone(),
                bone_class: parse_opt(opt(cb), BoneClass::parse, "bone class")
                    .map_err(|e| format!("line {line_no}: {e}"))?,
                side: parse_opt(opt(cs), Side::parse, "side").map_err(|e| format!("line {line_no}: {e}"))?,
            };
            t.insert(idx, entry, line_no)?;
        }
        Ok(t)
    }

    /// ITK-SNAP: `IDX R G B A VIS MSH "LABEL"` per line, `#` comments.
    fn parse_itksnap(text: &str) -> std::result::Result<LabelTable, String> {
        let mut t = LabelTable::default();
        for (line_no, line) in data_lines(text) {
            let (fields, name) = match (line.find('"'), line.rfind('"')) {
                (Some(a), Some(b)) if b > a => (&line[..a], &line[a + 1..b]),
                _ => return Err(format!("line {line_no}: not an ITK-SNAP label line (no quoted label name)")),
            };
            let nums: Vec<&str> = fields.split_whitespace().collect();
            if nums.len() != 7 {
                return Err(format!(
                    "line {line_no}: an ITK-SNAP label line has 7 numbers before the name, found {}",
                    nums.len()
                ));
            }
            let idx: u32 = nums[0]
                .parse()
                .map_err(|_| format!("line {line_no}: index {:?} is not a non-negative integer", nums[0]))?;
            t.insert(idx, Entry { name: name.trim().to_string(), bone_class: None, side: None }, line_no)?;
        }
        Ok(t)
    }

    /// 3D Slicer colour table: `index name R G B A` per line, `#` comments.
    fn parse_ctbl(text: &str) -> std::result::Result<LabelTable, String> {
        let mut t = LabelTable::default();
        for (line_no, line) in data_lines(text) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 2 {
                return Err(format!("line {line_no}: a colour table line is 'index name R G B A'"));
            }
            let idx: u32 =
                f[0].parse().map_err(|_| format!("line {line_no}: index {:?} is not a non-negative integer", f[0]))?;
            t.insert(idx, Entry { name: f[1].to_string(), bone_class: None, side: None }, line_no)?;
        }
        Ok(t)
    }

    /// Label names from the XML that TotalSegmentator's `--ml` output stores in the atlas's
    /// NIfTI header extension (`<Label Key="N" ...><![CDATA[name]]></Label>`, as CIFTI/Caret
    /// label tables are written). `None` when the text holds no such label.
    pub fn from_caret_xml(xml: &str) -> Option<LabelTable> {
        let mut t = LabelTable::default();
        let mut rest = xml;
        // `<Label ` with its attributes (not `<LabelTable>`).
        while let Some(at) = rest.find("<Label ") {
            rest = &rest[at + 7..];
            let end = rest.find("</Label>")?;
            let (tag, body) = rest[..end].split_once('>')?;
            let key = tag.split("Key=\"").nth(1).and_then(|k| k.split('"').next()).and_then(|k| k.trim().parse().ok());
            let name = body.trim().trim_start_matches("<![CDATA[").trim_end_matches("]]>").trim();
            if let Some(key) = key.filter(|&k: &u32| k != 0 && !name.is_empty()) {
                t.entries.insert(key, Entry { name: name.to_string(), bone_class: None, side: None });
            }
            rest = &rest[end..];
        }
        (!t.entries.is_empty()).then_some(t)
    }

    /// The table written in `format`.
    pub fn to_format(&self, format: TableFormat) -> String {
        let info = |l: u32| self.info(l).expect("a listed label");
        let colour = |l: u32| [(l * 67) % 256, (l * 151 + 80) % 256, (l * 211 + 160) % 256];
        let mut s = String::new();
        match format {
            TableFormat::Tsv | TableFormat::Csv => {
                let sep = if format == TableFormat::Tsv { "\t" } else { "," };
                s.push_str(&["index", "name", "bone_class", "side"].join(sep));
                s.push('\n');
                for (k, e) in &self.entries {
                    let i = info(*k);
                    s.push_str(
                        &[k.to_string(), e.name.clone(), i.bone_class.as_str().into(), i.side.as_str().into()]
                            .join(sep),
                    );
                    s.push('\n');
                }
            }
            TableFormat::Json => {
                let map: serde_json::Map<String, serde_json::Value> = self
                    .entries
                    .iter()
                    .map(|(k, e)| {
                        let i = info(*k);
                        let v = serde_json::json!({"name": e.name, "bone_class": i.bone_class.as_str(), "side": i.side.as_str()});
                        (k.to_string(), v)
                    })
                    .collect();
                s = serde_json::to_string_pretty(&map).expect("JSON of strings") + "\n";
            }
            TableFormat::ItkSnap => {
                s.push_str("# ITK-SNAP Label Description File\n# IDX R G B A VIS MSH LABEL\n");
                s.push_str("    0     0    0    0        0  0  0    \"Clear Label\"\n");
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k);
                    s.push_str(&format!("{k:5} {r:5} {g:4} {b:4}        1  1  1    \"{}\"\n", e.name));
                }
            }
            TableFormat::SlicerCtbl => {
                s.push_str(&format!("# Color table file\n# {} values\n0 Background 0 0 0 0\n", self.len() + 1));
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k);
                    s.push_str(&format!("{k} {} {r} {g} {b} 255\n", e.name));
                }
            }
            TableFormat::SlicerCsv => {
                s.push_str("LabelValue,Name,Color_R,Color_G,Color_B,Color_A\n");
                for (k, e) in &self.entries {
                    let [r, g, b] = colour(*k);
                    s.push_str(&format!("{k},{},{r},{g},{b},255\n", e.name));
                }
            }
        }
        s
    }

    /// The table as BIDS-style TSV text (`index`, `name`, `bone_class`, `side`).
    pub fn to_tsv(&self) -> String {
        self.to_format(TableFormat::Tsv)
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

/// A label present in the atlas (with voxels on the scan's grid), as `report.json` lists it
/// in `input.labels_analysed` / `input.labels_ignored`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AtlasLabel {
    /// Label value in the atlas file.
    pub label: u32,
    /// Name from the label table.
    pub name: String,
    /// Bone class (the table's `bone_class` column, else from the name); `other` is not bone.
    pub bone_class: BoneClass,
    /// Voxels of the label on the scan's grid.
    pub voxels: u64,
}

/// The atlas's labels sorted by the bone-only rule ([`keep_bone_only`]), each list in label
/// order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoneOnly {
    /// Bone labels: searched for lesions and used for the reference statistics.
    pub analysed: Vec<AtlasLabel>,
    /// Labels of bone class `other` (organs, muscles, vessels, discs, spinal cord,
    /// cartilage): made background.
    pub ignored: Vec<AtlasLabel>,
}

impl BoneOnly {
    /// Voxels of every label listed, bone or not.
    pub fn labelled_voxels(&self) -> u64 {
        self.analysed.iter().chain(&self.ignored).map(|l| l.voxels).sum()
    }

    /// Checks that some label is bone; an atlas with no voxel at all passes (the reference
    /// statistics say so later).
    ///
    /// # Errors
    /// [`Error::Atlas`] naming `atlas` when every label present is not bone.
    pub fn require_bone(&self, atlas: &Path) -> Result<()> {
        if !self.analysed.is_empty() || self.ignored.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = self.ignored.iter().take(6).map(|l| l.name.as_str()).collect();
        let more = match self.ignored.len() - shown.len() {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        Err(Error::Atlas {
            path: atlas.to_path_buf(),
            message: format!(
                "no label of the atlas is bone, so there is nowhere to look for lesions: its {} label(s) ({}{more}) \
                 are all of bone class 'other' (crmo-map searches bone only; a --labels table with a bone_class \
                 column says which labels are bone)",
                self.ignored.len(),
                shown.join(", ")
            ),
        })
    }
}

/// The bone-only rule, in place: every voxel of a label that `table` says is not bone (bone
/// class `other`) becomes background (0), so that it is never searched for lesions and never
/// enters a reference statistic. Label values the table lacks are left as they are (the label
/// check reports them). Returns the labels present by the rule, and every label value's voxel
/// count before masking (index = label; 0 the background). One parallel pass; no copy of the
/// atlas.
pub fn keep_bone_only<L: Label>(atlas: &mut [L], table: &LabelTable) -> (BoneOnly, Vec<u64>) {
    let n = L::MAX as usize + 1;
    let mut keep = vec![true; n];
    for (l, _) in table.iter().filter(|&(l, _)| l <= L::MAX) {
        keep[l as usize] = !matches!(table.info(l), Some(i) if i.bone_class == BoneClass::Other);
    }
    let any_dropped = keep.iter().any(|k| !k);
    const SLAB: usize = 1 << 20;
    let mut hist = atlas
        .par_chunks_mut(SLAB)
        .fold(
            || vec![0u64; n],
            |mut h, chunk| {
                // Most of an atlas is background: a branch-free test of each block first.
                for block in chunk.chunks_mut(64) {
                    if bytemuck::cast_slice::<L, u8>(block).iter().fold(0u8, |a, &x| a | x) == 0 {
                        continue;
                    }
                    for v in block.iter_mut().filter(|v| **v != L::default()) {
                        let i = v.index();
                        h[i] += 1;
                        if any_dropped && !keep[i] {
                            *v = L::default();
                        }
                    }
                }
                h
            },
        )
        .reduce(
            || vec![0u64; n],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    hist[0] = atlas.len() as u64 - hist[1..].iter().sum::<u64>();
    let mut out = BoneOnly::default();
    for (l, name) in table.iter().filter(|&(l, _)| l <= L::MAX && hist[l as usize] > 0) {
        let info = table.info(l).expect("a listed label");
        let entry =
            AtlasLabel { label: l, name: name.to_string(), bone_class: info.bone_class, voxels: hist[l as usize] };
        if keep[l as usize] {
            out.analysed.push(entry);
        } else {
            out.ignored.push(entry);
        }
    }
    (out, hist)
}

/// The non-empty, non-comment (`#`) lines of a table, trimmed, with their 1-based numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Fields of one delimited line, trimmed, with surrounding double quotes removed.
fn split_fields(line: &str, sep: char) -> Vec<String> {
    line.split(sep).map(|f| f.trim().trim_matches('"').trim().to_string()).collect()
}

fn parse_opt<T>(v: Option<&str>, parse: fn(&str) -> Option<T>, what: &str) -> std::result::Result<Option<T>, String> {
    match v {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| format!("unknown {what} {s:?}")),
    }
}

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
        let tokens: Vec<&str> = lower.split(['_', '-', ' ', '.']).filter(|t| !t.is_empty()).collect();
        let level = vertebral_level(&tokens);
        let side = side.unwrap_or_else(|| side_of(&tokens));
        let class = bone_class.unwrap_or_else(|| class_of(&tokens, level.as_deref()));
        let bone = bone_of(class, side, level.as_deref(), &lower);
        let vertebral_level = level.filter(|_| matches!(class, BoneClass::Vertebra | BoneClass::Sacrum));
        RegionInfo { bone, bone_class: class, side, vertebral_level }
    }
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

    #[test]
    fn retain_and_insert_name() {
        let mut t = LabelTable::parse("index\tname\tbone_class\n1\ta\tpelvis\n2\tb\t\n").unwrap();
        t.retain(|l| l != 2);
        t.insert_name(5, "femur_left");
        t.insert_name(0, "background");
        assert_eq!(t.iter().collect::<Vec<_>>(), [(1, "a"), (5, "femur_left")]);
        assert_eq!(t.info(1).unwrap().bone_class, BoneClass::Pelvis);
    }

    #[test]
    fn tsv_and_json_tables() {
        let t = LabelTable::parse("index\tname\tcolor\n0\tbackground\t#000\n1\tvertebra_T7\t#fff\n7\tsternum\t#f00\n")
            .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.name(7), Some("sternum"));
        let j = LabelTable::parse(r#"{"1": "vertebra_T7", "7": "sternum"}"#).unwrap();
        assert_eq!(t, j);
        assert!(LabelTable::parse("idx\tname\n1\ta\n").is_err());
        assert!(LabelTable::parse("index\tname\n1\ta\n1\tb\n").is_err());
        assert!(LabelTable::parse("index\tname\nx\ta\n").is_err());
        assert!(LabelTable::parse(r#"{"a": "b"}"#).is_err());
    }

    /// Every format written and read back gives the same names, bone classes and sides.
    #[test]
    fn every_format_round_trips() {
        let mut t = LabelTable::from_pairs([(1, "vertebrae_T7"), (4, "hip_left"), (9, "tibia"), (12, "os_odd")]);
        // Table columns override what the name says.
        t.entries.get_mut(&9).unwrap().side = Some(Side::Right);
        t.entries.get_mut(&12).unwrap().bone_class = Some(BoneClass::Mandible);
        let infos = |t: &LabelTable| t.iter().map(|(l, n)| (l, n.to_string(), t.info(l).unwrap())).collect::<Vec<_>>();
        for f in TableFormat::ALL {
            let text = t.to_format(f);
            let back = LabelTable::parse(&text).unwrap_or_else(|e| panic!("{f:?}: {e}\n{text}"));
            let names: Vec<(u32, String)> = back.iter().map(|(l, n)| (l, n.to_string())).collect();
            assert_eq!(names, t.iter().map(|(l, n)| (l, n.to_string())).collect::<Vec<_>>(), "{f:?}");
            // Formats without class and side columns give what the names say.
            let carries = matches!(f, TableFormat::Tsv | TableFormat::Csv | TableFormat::Json);
            if carries {
                assert_eq!(infos(&back), infos(&t), "{f:?}");
            } else {
                assert_eq!(back.info(9).unwrap().side, Side::Midline, "{f:?}");
            }
        }
        assert_eq!(t.info(9).unwrap().side, Side::Right);
        assert_eq!(t.info(12).unwrap().bone_class, BoneClass::Mandible);
    }

    #[test]
    fn itk_snap_slicer_and_caret_tables_as_their_tools_write_them() {
        let itk = "################################################\n# ITK-SnAP Label Description File\n\
                   #    IDX:   Zero-based index\n\
                       0     0    0    0        0  0  0    \"Clear Label\"\n\
                       1   255    0    0        1  1  1    \"femur left\"\n\
                      26     0  255    0        1  1  0    \"vertebrae_S1\"\n";
        let t = LabelTable::parse(itk).unwrap();
        assert_eq!((t.len(), t.name(1), t.name(26)), (2, Some("femur left"), Some("vertebrae_S1")));
        let ctbl = "# Color table file /tmp/x.ctbl\n# 3 values\n0 Background 0 0 0 0\n25 sacrum 10 20 30 255\n77 hip_left 1 2 3 255\n";
        let t = LabelTable::parse(ctbl).unwrap();
        assert_eq!((t.name(25), t.info(77).unwrap().bone_class), (Some("sacrum"), BoneClass::Pelvis));
        let csv = "LabelValue,Name,Color_R,Color_G,Color_B,Color_A\n0,Background,0,0,0,0\n75,femur_left,1,2,3,255\n";
        assert_eq!(LabelTable::parse(csv).unwrap().name(75), Some("femur_left"));
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?> <CaretExtension> <VolumeInformation Index="0"> <LabelTable>
<Label Key="25" Red="1.0" Green="0.0" Blue="0.0" Alpha="1"><![CDATA[sacrum]]></Label>
<Label Key="37" Red="0.0" Green="1.0" Blue="0.0" Alpha="1"><![CDATA[vertebrae_T7]]></Label>
</LabelTable></VolumeInformation></CaretExtension>"#;
        let t = LabelTable::from_caret_xml(xml).unwrap();
        assert_eq!((t.name(25), t.name(37), t.len()), (Some("sacrum"), Some("vertebrae_T7"), 2));
        assert!(LabelTable::from_caret_xml("<CaretExtension/>").is_none());
        assert!(LabelTable::parse("1 \"a\"\n").is_err(), "an ITK-SNAP line needs 7 numbers");
    }

    /// Non-bone labels become background in place; the lists say what was kept and dropped,
    /// in label order, with the voxel counts before masking; both label types.
    #[test]
    fn keep_bone_only_masks_soft_tissue_in_place() {
        let t = LabelTable::from_pairs([
            (1, "vertebrae"),
            (2, "stomach"),
            (3, "autochthon_left"),
            (5, "hip_left"),
            (6, "intervertebral_discs"),
            (7, "spinal_cord"),
            (9, "liver"),
        ]);
        let atlas = [0u8, 1, 2, 2, 3, 5, 5, 6, 7, 1, 0, 4];
        let mut a = atlas;
        let (b, hist) = keep_bone_only(&mut a, &t);
        // Label 4 is not in the table: left for the label check; 9 has no voxel: not listed.
        assert_eq!(a, [0u8, 1, 0, 0, 0, 5, 5, 0, 0, 1, 0, 4]);
        assert_eq!((hist[0], hist[1], hist[2], hist[4], hist[9], hist.len()), (2, 2, 2, 1, 0, 256));
        let names = |v: &[AtlasLabel]| v.iter().map(|l| (l.label, l.name.clone(), l.voxels)).collect::<Vec<_>>();
        assert_eq!(names(&b.analysed), vec![(1, "vertebrae".into(), 2), (5, "hip_left".into(), 2)]);
        assert_eq!(
            names(&b.ignored),
            vec![
                (2, "stomach".into(), 2),
                (3, "autochthon_left".into(), 1),
                (6, "intervertebral_discs".into(), 1),
                (7, "spinal_cord".into(), 1)
            ]
        );
        assert_eq!(b.analysed[0].bone_class, BoneClass::Vertebra);
        assert!(b.ignored.iter().all(|l| l.bone_class == BoneClass::Other));
        assert!(b.require_bone(Path::new("a.nii.gz")).is_ok());
        // u16 atlases, values beyond 255 and a large volume (several parallel slabs).
        let t16 = LabelTable::from_pairs([(300, "femur_left"), (301, "iliopsoas_left")]);
        let mut a16: Vec<u16> = (0..3_000_000).map(|i| [0, 300, 301][i % 3]).collect();
        let (b16, hist16) = keep_bone_only(&mut a16, &t16);
        assert!(a16.iter().enumerate().all(|(i, &l)| l == if i % 3 == 1 { 300 } else { 0 }));
        assert_eq!((hist16[300], hist16[301], hist16[0]), (1_000_000, 1_000_000, 1_000_000));
        assert_eq!((b16.analysed.len(), b16.ignored[0].name.as_str()), (1, "iliopsoas_left"));
        // An all-bone atlas is untouched.
        let mut bone = [0u8, 1, 5, 5];
        keep_bone_only(&mut bone, &t);
        assert_eq!(bone, [0, 1, 5, 5]);
    }

    /// A table's `bone_class` column of `other` excludes a label whose name says bone; a
    /// column saying bone keeps one whose name does not.
    #[test]
    fn table_bone_class_decides_what_is_bone() {
        let t = LabelTable::parse("index\tname\tbone_class\n1\tfemur_left\tother\n2\tsternum\t\n3\tmy_bone\tpelvis\n")
            .unwrap();
        let mut a = [1u8, 2, 3, 0];
        let (b, _) = keep_bone_only(&mut a, &t);
        assert_eq!(a, [0, 2, 3, 0]);
        assert_eq!(b.ignored.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["femur_left"]);
        assert_eq!(
            b.analysed.iter().map(|l| l.bone_class).collect::<Vec<_>>(),
            [BoneClass::Sternum, BoneClass::Pelvis]
        );
    }

    /// Every label present not bone: one error naming the atlas and some of its labels; an
    /// empty atlas is left to the reference statistics.
    #[test]
    fn an_atlas_without_bone_is_an_atlas_error() {
        let names: Vec<String> = (1..=9).map(|i| format!("organ{i}")).collect();
        let t = LabelTable::from_pairs(names.iter().enumerate().map(|(i, n)| (i as u32 + 1, n.clone())));
        let mut a: Vec<u8> = (0..=9).collect();
        let (b, _) = keep_bone_only(&mut a, &t);
        assert!(a.iter().all(|&l| l == 0));
        let e = b.require_bone(Path::new("dir/atlas.nii.gz")).unwrap_err();
        assert!(matches!(e, Error::Atlas { .. }));
        let msg = e.to_string();
        assert!(msg.starts_with("dir/atlas.nii.gz: no label of the atlas is bone"), "{msg}");
        assert!(msg.contains("9 label(s) (organ1, organ2, organ3, organ4, organ5, organ6 and 3 more)"), "{msg}");
        assert!(!msg.contains('\n'));
        let (empty, _) = keep_bone_only(&mut [0u8; 4], &t);
        assert!(empty.require_bone(Path::new("a")).is_ok());
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
