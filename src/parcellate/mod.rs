//! Whole-bone atlas labels split into the sub-regions that CRMO reporting names.
//!
//! Segmentation tools label whole bones (`hip_left`, `femur_left`, `sacrum`, `vertebrae_T7`);
//! a radiologist writes "acetabular roof", "femoral neck", "S2". Each whole-bone label is cut
//! by the bone's own landmarks in world space (RAS+ mm), into the project's vocabulary
//! (`shared/domain.md`), one module per bone kind with its factors as named constants:
//!
//! - `hip`: the femoral head is the sphere fitted to the femur's surface that faces the hip
//!   bone (radius `r` per patient); head, neck (between head and trochanters, along the neck
//!   axis) and shaft are cut around it; the hip bone is cut around the same side's head
//!   (acetabular roof above it within the acetabulum, the columns around it; ilium, ischium,
//!   pubis outside). The distal femur is named by proportions of the femur's length only
//!   when the whole femur is in view.
//! - `spine`: a vertebra (`vertebrae_T7`) -> its body `vertebra_T7` and
//!   `vertebra_T7_posterior_elements`, behind the front of the canal (found as the hole in the
//!   vertebra seen from above, else the gap in its midline); the sacrum -> `vertebra_S1` ..
//!   `vertebra_S5`, counted down from S1's top (below L5, or the promontory) along the
//!   sacrum's own curve (a child's unfused segments as separate pieces); one label for the
//!   whole spine (TotalSegmentator MR's `vertebrae`) gets levels only from an anchor in view
//!   (the sacrum, or a vertebra the atlas labels): without one, no level is claimed.
//! - `limbs`: tibia, humerus and clavicle by proportions of their length, only when both
//!   ends are in view; the calcaneus as the most posterior tarsal piece; a paired bone named
//!   without a side (TotalSegmentator's `tibia`) split at the body's midline first.
//!
//! A bone that the field of view cuts (voxels on the grid's first or last plane,
//! `bone`) is not split by proportions of its visible length: what its landmarks in view
//! allow is named, the rest keeps the atlas's name.
//!
//! Any other label is kept as it is. Each new region remembers the atlas label it came from
//! (a lesion's `bone_label`).

mod bone;
mod hip;
/// Name recognition and label allocation (kept apart from the per-bone rules' tests).
#[cfg(test)]
mod kind_and_namer_tests;
mod limbs;
mod spine;
#[cfg(test)]
mod tests;

use crate::labels::{BoneClass, LabelTable, RegionInfo, Side};
use crate::vec3::V3;
use crate::volume::{Label, Volume};
use bone::Bone;
use std::collections::BTreeMap;

/// What kind of whole-bone label a name is, if any.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Hip(Side),
    Femur(Side),
    Tibia(Side),
    Humerus(Side),
    Clavicle(Side),
    Sacrum,
    Vertebra(String),
    Spine,
    Tarsal(Side),
    /// A paired bone named without a side: split at the midline, keeping the name's stem.
    Unsided(String),
}

/// Part words that mark a label as already a sub-region (with their plural and adjective
/// forms; a word ending in `s` also counts when it is a part word without it: `necks`,
/// `columns`, `condyles`). A vertebral level (`T7`, `S2`) marks one too, unless the name is
/// TotalSegmentator's whole vertebra `vertebrae_<level>` ([`kind`]).
const PART_WORDS: &[&str] = &[
    "head",
    "capital",
    "neck",
    "trochanter",
    "trochanteric",
    "intertrochanteric",
    "subtrochanteric",
    "shaft",
    "diaphysis",
    "diaphyses",
    "diaphyseal",
    "metaphysis",
    "metaphyses",
    "metaphyseal",
    "epiphysis",
    "epiphyses",
    "epiphyseal",
    "physis",
    "physes",
    "physeal",
    "condyle",
    "condylar",
    "proximal",
    "distal",
    "roof",
    "column",
    "ilium",
    "iliac",
    "ischium",
    "ischial",
    "pubis",
    "pubic",
    "ramus",
    "rami",
    "medial",
    "lateral",
    "body",
    "bodies",
    "segment",
    "posterior",
    "anterior",
    "elements",
    "ala",
    "alae",
];

/// Whether a name's word is a part word ([`PART_WORDS`]).
fn is_part_word(t: &str) -> bool {
    PART_WORDS.contains(&t) || t.starts_with("acetabul") || t.strip_suffix('s').is_some_and(|w| PART_WORDS.contains(&w))
}

/// What kind of whole bone a name is; `None` for a sub-region (a part word, or a vertebral
/// level other than in TotalSegmentator's `vertebrae_<level>`) and for what is not split.
fn kind(name: &str, info: &RegionInfo) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let tokens = crate::labels::name_words(&lower);
    if tokens.iter().any(|t| is_part_word(t)) {
        return None;
    }
    let sided = info.side != Side::Midline;
    Some(match info.bone_class {
        BoneClass::Pelvis if sided => Kind::Hip(info.side),
        BoneClass::Femur if sided => Kind::Femur(info.side),
        BoneClass::Tibia if sided => Kind::Tibia(info.side),
        BoneClass::Humerus if sided => Kind::Humerus(info.side),
        BoneClass::Clavicle if sided => Kind::Clavicle(info.side),
        BoneClass::Foot if sided && tokens.iter().any(|t| t.starts_with("tars")) => Kind::Tarsal(info.side),
        BoneClass::Sacrum if info.vertebral_level.is_none() => Kind::Sacrum,
        // A level names a vertebral body or sacral segment (our `vertebra_T7`, `T7`,
        // `T7 vertebra`, `S2`); only TotalSegmentator's `vertebrae_T7` (or `vertebrae_S1`) is
        // the whole vertebra.
        BoneClass::Vertebra | BoneClass::Sacrum => match &info.vertebral_level {
            Some(level) if tokens.len() == 2 && tokens[0] == "vertebrae" => Kind::Vertebra(level.clone()),
            Some(_) => return None,
            None if tokens.iter().any(|t| t.starts_with("vertebra")) => Kind::Spine,
            None => return None,
        },
        BoneClass::Tibia
        | BoneClass::Fibula
        | BoneClass::Humerus
        | BoneClass::Femur
        | BoneClass::Foot
        | BoneClass::Forearm
        | BoneClass::Patella
        | BoneClass::Clavicle
        | BoneClass::Scapula
            if !sided =>
        {
            Kind::Unsided(lower.clone())
        }
        _ => return None,
    })
}

/// How to split an atlas's whole-bone labels into sub-regions: unsplit labels keep their
/// values, sub-regions get new ones.
#[derive(Clone, Debug)]
pub struct Parcellation {
    /// Names of every label of the parcellated atlas.
    pub table: LabelTable,
    /// For each label of `volume`, the name of the atlas label it came from.
    pub bone_label: BTreeMap<u32, String>,
    /// The atlas labels that were split, by name.
    pub split: Vec<String>,
    /// The voxels (flat indices) that take a new label, and the label.
    relabel: Vec<(usize, u32)>,
    /// A sub-region that got no label because all 65535 label values were in use (the split
    /// is then incomplete, and the pipeline refuses it).
    pub unlabelled: Option<String>,
}

impl Parcellation {
    /// The largest label value of the parcellated atlas.
    pub fn max_label(&self) -> u32 {
        self.table.max_label()
    }

    /// Relabels `atlas` in place; its label type must hold [`Parcellation::max_label`].
    ///
    /// # Panics
    /// When a new label does not fit `L`.
    pub fn apply<L: Label>(&self, atlas: &mut Volume<L>) {
        assert!(self.max_label() <= L::MAX, "label {} does not fit the atlas's type", self.max_label());
        for &(v, l) in &self.relabel {
            atlas.data[v] = L::from_u32(l);
        }
    }
}

/// Works out how to split the whole-bone labels of `atlas` (named by `table`) into
/// sub-regions ([`Parcellation::apply`] does it); `None` when the atlas has no whole-bone
/// label. Only the voxels of those labels are visited after one parallel pass.
pub fn parcellate<L: Label>(atlas: &Volume<L>, table: &LabelTable) -> Option<Parcellation> {
    let kinds: BTreeMap<u32, Kind> =
        table.iter().filter_map(|(l, n)| table.info(l).and_then(|i| kind(n, &i)).map(|k| (l, k))).collect();
    if kinds.is_empty() {
        return None;
    }
    let (mut bones, mid_x) = collect_bones(atlas, table, &kinds);
    let mut out = Namer::new(table);
    // Sideless paired bones first: each side becomes a bone of its own.
    let mut all: Vec<(Kind, Bone, Option<String>)> = Vec::new();
    for (l, k) in &kinds {
        let Some(b) = bones.remove(l) else { continue };
        match k {
            Kind::Unsided(stem) => all.extend(limbs::split_sides(b, stem, mid_x, &mut out)),
            _ => all.push((k.clone(), b, None)),
        }
    }
    let anchors = Anchors::of(&all, atlas);
    for (k, b, sided) in &all {
        if b.pos.is_empty() {
            continue;
        }
        if split_bone(k, b, &anchors, mid_x, atlas, &mut out) {
            out.split.push(b.name.clone());
        } else if let Some(name) = sided {
            // One side of a sideless bone that its rule keeps whole.
            out.paint(b, |_| name.clone());
            out.split.push(b.name.clone());
        }
    }
    out.finish()
}

/// The landmarks that one bone's rule takes from another: femoral heads for the hip bones,
/// the sacrum and labelled vertebrae for the spine's levels.
struct Anchors {
    heads: BTreeMap<&'static str, hip::Head>,
    /// Centroid of the atlas's own S1 label (TotalSegmentator's CT `vertebrae_S1`).
    s1: Option<V3>,
    /// Centroid of the L5 vertebra when the atlas labels it.
    l5: Option<V3>,
    /// Centroid of the sacrum when it is in view.
    sacrum: Option<V3>,
    /// Vertebrae labelled with their level: (level, centroid).
    vertebrae: Vec<(String, V3)>,
}

impl Anchors {
    fn of<L: Label>(all: &[(Kind, Bone, Option<String>)], atlas: &Volume<L>) -> Anchors {
        let find = |want: &Kind| all.iter().find(|(k, b, _)| k == want && !b.pos.is_empty()).map(|(_, b, _)| b);
        let mut heads = BTreeMap::new();
        for (k, b, _) in all {
            if let Kind::Femur(side) = k {
                if let Some(h) = hip::femoral_head(b, find(&Kind::Hip(*side)), atlas) {
                    heads.insert(side.as_str(), h);
                }
            }
        }
        let vertebrae: Vec<(String, V3)> = all
            .iter()
            .filter_map(|(k, b, _)| match k {
                Kind::Vertebra(level) if !b.pos.is_empty() => Some((level.clone(), b.centroid())),
                _ => None,
            })
            .collect();
        let centroid_of = |level: &str| vertebrae.iter().find(|(l, _)| l == level).map(|(_, c)| *c);
        Anchors {
            heads,
            s1: centroid_of("S1"),
            l5: centroid_of("L5"),
            sacrum: find(&Kind::Sacrum).map(Bone::centroid),
            vertebrae,
        }
    }
}

/// Applies the rule of `k` to bone `b`; false when it was kept whole.
fn split_bone<L: Label>(k: &Kind, b: &Bone, a: &Anchors, mid_x: f64, atlas: &Volume<L>, out: &mut Namer) -> bool {
    match k {
        Kind::Femur(side) => hip::femur(b, a.heads.get(side.as_str()).copied(), *side, atlas, out),
        Kind::Hip(side) => hip::hip(b, a.heads.get(side.as_str()).copied(), *side, out),
        Kind::Tibia(side) => limbs::tibia(b, *side, atlas, out),
        Kind::Humerus(side) => limbs::humerus(b, *side, atlas, out),
        Kind::Clavicle(side) => limbs::clavicle(b, *side, mid_x, atlas, out),
        Kind::Tarsal(side) => limbs::tarsal(b, *side, atlas, out),
        Kind::Sacrum => spine::sacrum(b, a.s1, a.l5, atlas, out),
        Kind::Vertebra(level) => spine::vertebra(b, level, atlas, out),
        Kind::Spine => spine::spine(b, a.sacrum, &a.vertebrae, atlas, out),
        Kind::Unsided(_) => false,
    }
}

/// One parallel pass over planes: the voxels of the whole-bone labels (`kinds`), and the body's
/// midline (world x of the mean position of every labelled voxel), for sides and medial ends.
fn collect_bones<L: Label>(
    atlas: &Volume<L>,
    table: &LabelTable,
    kinds: &BTreeMap<u32, Kind>,
) -> (BTreeMap<u32, Bone>, f64) {
    use rayon::prelude::*;
    let grid = atlas.grid;
    let wanted: Vec<bool> = (0..=L::MAX).map(|l| kinds.contains_key(&l)).collect();
    let [nx, ny, _] = grid.dims;
    // Per plane: (label, voxel) of the whole-bone labels, the sum of labelled voxels' indices,
    // their count.
    type PlaneFinds = (Vec<(u32, usize)>, [f64; 3], usize);
    let parts: Vec<PlaneFinds> = atlas
        .data
        .par_chunks(nx * ny)
        .enumerate()
        .map(|(k, plane)| {
            let (mut found, mut s, mut n) = (Vec::new(), [0.0; 3], 0usize);
            for (j, row) in plane.chunks(nx).enumerate() {
                // Most rows are background: a branch-free test first.
                if bytemuck::cast_slice::<L, u8>(row).iter().fold(0u8, |a, &x| a | x) == 0 {
                    continue;
                }
                for (i, &l) in row.iter().enumerate() {
                    if l == L::default() {
                        continue;
                    }
                    s = [s[0] + i as f64, s[1] + j as f64, s[2] + k as f64];
                    n += 1;
                    if wanted[l.index()] {
                        found.push((l.into(), i + nx * (j + ny * k)));
                    }
                }
            }
            (found, s, n)
        })
        .collect();
    let count: usize = parts.iter().map(|p| p.2).sum();
    let mean_ijk = [0, 1, 2].map(|a| parts.iter().map(|p| p.1[a]).sum::<f64>() / count.max(1) as f64);
    let mut bones: BTreeMap<u32, Bone> = kinds
        .keys()
        .map(|&l| {
            let name = table.name(l).unwrap_or_default().to_string();
            (l, Bone { label: l, name, index: Vec::new(), pos: Vec::new() })
        })
        .collect();
    for (l, v) in parts.into_iter().flat_map(|p| p.0) {
        let b = bones.get_mut(&l).expect("a whole-bone label");
        b.index.push(v);
        b.pos.push(grid.affine.voxel_to_world(grid.ijk(v).map(|x| x as f64)));
    }
    (bones, grid.affine.voxel_to_world(mean_ijk)[0])
}
/// Hands out label values to region names and remembers where each came from. New values
/// are the lowest that the table does not use (at most 65535, the most an atlas holds).
struct Namer {
    /// The atlas's own table, with its `bone_class` and `side` columns.
    base: LabelTable,
    table: BTreeMap<u32, String>,
    by_name: BTreeMap<String, u32>,
    bone_label: BTreeMap<u32, String>,
    /// No value below this one is free.
    next: u32,
    split: Vec<String>,
    /// Atlas labels whose every voxel was relabelled.
    replaced: std::collections::BTreeSet<u32>,
    relabel: Vec<(usize, u32)>,
    /// The first region that found no free label value, and the label it was cut from.
    unlabelled: Option<String>,
}

impl Namer {
    fn new(table: &LabelTable) -> Namer {
        Namer {
            base: table.clone(),
            table: table.iter().map(|(l, n)| (l, n.to_string())).collect(),
            by_name: BTreeMap::new(),
            bone_label: table.iter().map(|(l, n)| (l, n.to_string())).collect(),
            next: 1,
            split: Vec::new(),
            replaced: Default::default(),
            relabel: Vec::new(),
            unlabelled: None,
        }
    }

    /// The label of region `name` (cut from the atlas label `from`), a new one the first
    /// time; `None` when every value up to 65535 is taken.
    fn label(&mut self, name: &str, from: &str) -> Option<u32> {
        if let Some(&l) = self.by_name.get(name) {
            return Some(l);
        }
        while self.table.contains_key(&self.next) {
            self.next += 1;
        }
        let l = self.next;
        if l > u16::MAX as u32 {
            self.unlabelled.get_or_insert_with(|| format!("{name} (cut from {from})"));
            return None;
        }
        self.by_name.insert(name.to_string(), l);
        self.table.insert(l, name.to_string());
        self.bone_label.insert(l, from.to_string());
        Some(l)
    }

    /// Relabels every voxel of `b` with the region `part(position)` names.
    fn paint(&mut self, b: &Bone, part: impl Fn(V3) -> String) {
        self.paint_each(b, |i| part(b.pos[i]));
    }

    /// Relabels voxel `i` of `b` with the region `part(i)` names.
    fn paint_each(&mut self, b: &Bone, part: impl Fn(usize) -> String) {
        for (i, &v) in b.index.iter().enumerate() {
            let name = part(i);
            if let Some(l) = self.label(&name, &b.name) {
                self.relabel.push((v, l));
            }
        }
        self.replaced.insert(b.label);
    }

    fn finish(self) -> Option<Parcellation> {
        if self.relabel.is_empty() && self.unlabelled.is_none() {
            return None;
        }
        // A split bone's own label no longer names any voxel: it leaves the table. The labels
        // kept keep their table columns; new ones are named by the region.
        let keep = |l: u32| !self.replaced.contains(&l) || self.by_name.values().any(|&n| n == l);
        let mut table = self.base;
        table.retain(keep);
        for (name, &l) in &self.by_name {
            table.insert_name(l, name.clone());
        }
        let bone_label = self.bone_label.iter().filter(|(l, _)| keep(**l)).map(|(l, n)| (*l, n.clone())).collect();
        Some(Parcellation { table, bone_label, split: self.split, relabel: self.relabel, unlabelled: self.unlabelled })
    }
}
