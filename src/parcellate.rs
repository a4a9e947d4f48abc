//! Whole-bone atlas labels split into the sub-regions that CRMO reporting names.
//!
//! Segmentation tools label whole bones (`hip_left`, `femur_left`, `sacrum`, `vertebrae_T7`);
//! a radiologist writes "acetabular roof", "femoral neck", "S2". Each whole-bone label is cut
//! by the bone's own geometry in world space (RAS+ mm), into the project's vocabulary
//! (`shared/domain.md`). The rules, with `r` the femoral head's radius and `L` a long bone's
//! length along its principal axis:
//!
//! - **femur**: the head centre and radius come from a sphere fitted to the femur's surface
//!   where it faces the hip bone; the neck axis runs from the head centre to the middle of
//!   the femur between 1.3 r and 1.9 r from it. `femur_head`: within 1.26 r of the centre and
//!   at most 0.32 r along the neck axis (the capital physis); `femur_neck`: up to 1.9 r along
//!   the neck axis and within 0.95 r of it; `femur_distal_epiphysis`: the distal 7% of `L`
//!   (below the distal physis); `femur_distal_metaphysis`: the distal 21%; `femur_shaft`: the
//!   rest (the trochanters included).
//! - **hip bone**, relative to the same side's femoral head: the acetabular zone lies within
//!   2.1 r of the head centre; in it, `acetabulum_roof` above the centre by 0.47 r,
//!   `acetabulum_posterior_column` behind it by 0.1 r, `acetabulum_anterior_column` the rest;
//!   outside it, `ilium` above the centre by 0.47 r, `ischium` behind it by 0.21 r, `pubis`
//!   the rest.
//! - **tibia**: `tibia_proximal_epiphysis` the proximal 6% of `L`, `tibia_proximal_metaphysis`
//!   to 20%, `tibia_distal_metaphysis` the distal 17% (its epiphysis included), `tibia_shaft`
//!   the rest. **humerus**: `humerus_proximal_metaphysis` the proximal 28% (the head
//!   included), `humerus_shaft` the rest.
//! - **sacrum** -> `vertebra_S1` .. `vertebra_S5` (`S2` .. `S5` when the atlas has its own S1
//!   label, as TotalSegmentator's CT task does): a child's segments are separate pieces
//!   (unfused), numbered head to foot along the sacrum's axis; when the pieces cannot be
//!   counted, the axis is cut in proportion to typical segment heights.
//! - **a vertebra** (`vertebrae_T7`) -> `vertebra_T7` (the body) and
//!   `vertebra_T7_posterior_elements`: behind the vertebral canal, found as the first gap
//!   behind the body in the vertebra's midline.
//! - **one label for the whole spine** (TotalSegmentator MR's `vertebrae`): its separate
//!   bodies are counted from the sacrum up (`vertebra_L5`, `vertebra_L4`, ...).
//! - **clavicle** -> `clavicle_medial`, `clavicle_shaft`, `clavicle_lateral`: thirds of its
//!   length, the medial end the one nearer the body's midline.
//! - **no side in the name** (TotalSegmentator's `tibia`, `fibula`, `tarsal`): split at the
//!   body's midline into `_left` and `_right` (then parcellated as above); the most posterior
//!   piece of a side's tarsal bones is the `calcaneus`.
//!
//! Any other label is kept as it is. Each new region remembers the atlas label it came from
//! (a lesion's `bone_label`).

use crate::ccl::{self, Connectivity};
use crate::detect::shape::{eigenvector, symmetric_eigenvalues};
use crate::labels::{BoneClass, LabelTable, RegionInfo, Side};
use crate::volume::{Label, Volume};
use std::collections::BTreeMap;

type V3 = [f64; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

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
    let tokens: Vec<&str> = lower.split(['_', '-', ' ', '.']).filter(|t| !t.is_empty()).collect();
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

/// The voxels of one label: flat indices and world positions.
struct Bone {
    label: u32,
    name: String,
    index: Vec<usize>,
    pos: Vec<V3>,
}

impl Bone {
    fn centroid(&self) -> V3 {
        let n = self.pos.len().max(1) as f64;
        let s = self.pos.iter().fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]]);
        s.map(|x| x / n)
    }

    /// The principal (longest) axis, pointing superior (world z up), and the positions
    /// along it (min, max).
    fn long_axis(&self) -> (V3, f64, f64) {
        self.principal_axis(false)
    }

    /// The principal axis nearest the body's long (world z) axis, pointing superior, and the
    /// positions along it: for the sacrum, whose alae can make it wider than it is long.
    fn head_foot_axis(&self) -> (V3, f64, f64) {
        self.principal_axis(true)
    }

    fn principal_axis(&self, head_foot: bool) -> (V3, f64, f64) {
        let c = self.centroid();
        let mut m = [[0.0; 3]; 3];
        for p in &self.pos {
            let d = sub(*p, c);
            for (r, row) in m.iter_mut().enumerate() {
                for (k, x) in row.iter_mut().enumerate() {
                    *x += d[r] * d[k];
                }
            }
        }
        let ev = symmetric_eigenvalues(m);
        let mut u = if head_foot {
            ev.iter().map(|&e| eigenvector(m, e)).max_by(|a, b| a[2].abs().total_cmp(&b[2].abs())).expect("three axes")
        } else {
            eigenvector(m, ev[2])
        };
        if u[2] < 0.0 {
            u = u.map(|x| -x);
        }
        let (lo, hi) = self
            .pos
            .iter()
            .map(|p| dot(*p, u))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| (a.min(t), b.max(t)));
        (u, lo, hi)
    }
}

/// Works out how to split the whole-bone labels of `atlas` (named by `table`) into
/// sub-regions ([`Parcellation::apply`] does it); `None` when the atlas has no whole-bone
/// label. Only the voxels of those labels are visited after one parallel pass.
pub fn parcellate<L: Label>(atlas: &Volume<L>, table: &LabelTable) -> Option<Parcellation> {
    use rayon::prelude::*;
    let grid = atlas.grid;
    let kinds: BTreeMap<u32, Kind> =
        table.iter().filter_map(|(l, n)| table.info(l).and_then(|i| kind(n, &i)).map(|k| (l, k))).collect();
    if kinds.is_empty() {
        return None;
    }
    let wanted: Vec<bool> = (0..=L::MAX).map(|l| kinds.contains_key(&l)).collect();
    // One parallel pass over planes: the whole-bone labels' voxels, and the mean voxel index
    // of every labelled voxel (whose world x is the body's midline).
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
    // The body's midline (world x), for sides and medial ends.
    let mid_x = grid.affine.voxel_to_world(mean_ijk)[0];
    let mut out = Namer::new(table);

    // Sideless paired bones first: each side becomes a bone of its own.
    let mut extra: Vec<(Kind, Bone)> = Vec::new();
    for (l, k) in &kinds {
        if let Kind::Unsided(stem) = k {
            let b = bones.remove(l).expect("collected");
            for side in [Side::Left, Side::Right] {
                let keep: Vec<usize> =
                    (0..b.pos.len()).filter(|&i| (b.pos[i][0] < mid_x) == (side == Side::Left)).collect();
                let name = format!("{stem}_{}", side.as_str());
                let info = RegionInfo::from_name(&name);
                let bone = Bone {
                    label: b.label,
                    name: b.name.clone(),
                    index: keep.iter().map(|&i| b.index[i]).collect(),
                    pos: keep.iter().map(|&i| b.pos[i]).collect(),
                };
                match kind(&name, &info) {
                    Some(k) => extra.push((k, bone)),
                    None => out.paint(&bone, |_| name.clone()),
                }
            }
        }
    }
    let mut all: Vec<(Kind, Bone)> =
        kinds.iter().filter_map(|(l, k)| bones.remove(l).map(|b| (k.clone(), b))).collect();
    all.extend(extra);

    // Femoral heads first: the hip bones are cut around them.
    let mut heads: BTreeMap<&'static str, (V3, f64)> = BTreeMap::new();
    for (k, b) in &all {
        if let Kind::Femur(side) = k {
            let hip = all.iter().find(|(k, _)| *k == Kind::Hip(*side)).map(|(_, h)| h);
            heads.insert(side.as_str(), femoral_head(b, hip, atlas));
        }
    }
    let has_s1 = table.iter().any(|(_, n)| RegionInfo::from_name(n).vertebral_level.as_deref() == Some("S1"));
    let sacrum_bottom = all.iter().find(|(k, _)| *k == Kind::Sacrum).map(|(_, b)| b.centroid());
    for (k, b) in &all {
        if b.pos.is_empty() {
            continue;
        }
        match k {
            Kind::Femur(side) => {
                let (hc, r) = heads[side.as_str()];
                let s = side.as_str();
                let (u, lo, hi) = b.long_axis();
                let len = hi - lo;
                // The neck axis: from the head centre to the middle of the femur 1.3-1.9 r away.
                let shell: Vec<V3> =
                    b.pos.iter().copied().filter(|p| (1.3 * r..1.9 * r).contains(&norm(sub(*p, hc)))).collect();
                let nn = if shell.is_empty() {
                    [0.0, 0.0, -1.0]
                } else {
                    let m = shell
                        .iter()
                        .fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]])
                        .map(|x| x / shell.len() as f64);
                    let d = sub(m, hc);
                    d.map(|x| x / norm(d).max(1e-9))
                };
                out.paint(b, |p| {
                    let d = sub(p, hc);
                    let a = dot(d, nn);
                    let perp = norm(sub(d, nn.map(|x| x * a)));
                    let t = dot(p, u) - lo;
                    let part = if norm(d) <= 1.26 * r && a <= 0.32 * r {
                        "femur_head"
                    } else if a <= 1.9 * r && perp <= 0.95 * r {
                        "femur_neck"
                    } else if t < 0.07 * len {
                        "femur_distal_epiphysis"
                    } else if t < 0.21 * len {
                        "femur_distal_metaphysis"
                    } else {
                        "femur_shaft"
                    };
                    format!("{part}_{s}")
                });
            }
            Kind::Hip(side) => {
                let Some(&(hc, r)) = heads.get(side.as_str()) else {
                    continue;
                };
                let s = side.as_str();
                out.paint(b, |p| {
                    let zone = norm(sub(p, hc)) < 2.1 * r;
                    let above = p[2] > hc[2] + 0.47 * r;
                    let part = match (zone, above) {
                        (true, true) => "acetabulum_roof",
                        (true, false) if p[1] < hc[1] - 0.1 * r => "acetabulum_posterior_column",
                        (true, false) => "acetabulum_anterior_column",
                        (false, true) => "ilium",
                        (false, false) if p[1] < hc[1] - 0.21 * r => "ischium",
                        (false, false) => "pubis",
                    };
                    format!("{part}_{s}")
                });
            }
            Kind::Tibia(side) => {
                let (u, lo, hi) = b.long_axis();
                let len = hi - lo;
                let s = side.as_str();
                out.paint(b, |p| {
                    let from_top = hi - dot(p, u);
                    let part = if from_top < 0.06 * len {
                        "tibia_proximal_epiphysis"
                    } else if from_top < 0.2 * len {
                        "tibia_proximal_metaphysis"
                    } else if from_top > 0.83 * len {
                        "tibia_distal_metaphysis"
                    } else {
                        "tibia_shaft"
                    };
                    format!("{part}_{s}")
                });
            }
            Kind::Humerus(side) => {
                let (u, lo, hi) = b.long_axis();
                let len = hi - lo;
                let s = side.as_str();
                out.paint(b, |p| {
                    let part =
                        if hi - dot(p, u) < 0.28 * len { "humerus_proximal_metaphysis" } else { "humerus_shaft" };
                    format!("{part}_{s}")
                });
            }
            Kind::Clavicle(side) => {
                let (mut u, lo, hi) = b.long_axis();
                // Orient the axis medial -> lateral: the medial end lies nearer the midline.
                let ends = [lo, hi].map(|t| {
                    let near: Vec<&V3> = b.pos.iter().filter(|p| (dot(**p, u) - t).abs() < 0.1 * (hi - lo)).collect();
                    near.iter().map(|p| (p[0] - mid_x).abs()).sum::<f64>() / near.len().max(1) as f64
                });
                let (start, flip) = if ends[0] <= ends[1] { (lo, 1.0) } else { (hi, -1.0) };
                u = u.map(|x| x * flip);
                let len = hi - lo;
                let s = side.as_str();
                out.paint(b, |p| {
                    let t = (dot(p, u) - flip * start) / len;
                    let part = if t < 1.0 / 3.0 {
                        "clavicle_medial"
                    } else if t < 2.0 / 3.0 {
                        "clavicle_shaft"
                    } else {
                        "clavicle_lateral"
                    };
                    format!("{part}_{s}")
                });
            }
            Kind::Tarsal(side) => {
                let (of, parts) = pieces(b, atlas);
                // The calcaneus: the most posterior sizeable piece.
                let calc = (0..parts.len())
                    .filter(|&i| parts[i].0 * 10 >= b.pos.len())
                    .min_by(|&a, &c| parts[a].1[1].total_cmp(&parts[c].1[1]));
                let s = side.as_str();
                let names: Vec<String> = (0..parts.len())
                    .map(|i| if Some(i) == calc { format!("calcaneus_{s}") } else { format!("tarsal_{s}") })
                    .collect();
                out.paint_each(b, |i| names[of[i]].clone());
            }
            Kind::Sacrum => {
                let first = if has_s1 { 2 } else { 1 };
                let names: Vec<String> = (first..=5).map(|n| format!("vertebra_S{n}")).collect();
                let of = segments_along_axis(b, atlas, names.len(), &SACRAL_HEIGHTS[first - 1..]);
                out.paint_each(b, |i| names[of[i]].clone());
            }
            Kind::Vertebra(level) => {
                let canal = canal_y(b, grid.spacing().into_iter().fold(1.0, f64::max) + 0.01);
                out.paint(b, |p| match canal {
                    Some(y) if p[1] < y => format!("vertebra_{level}_posterior_elements"),
                    _ => format!("vertebra_{level}"),
                });
            }
            Kind::Spine => {
                let Some(bottom) = sacrum_bottom else { continue };
                let (of, parts) = pieces(b, atlas);
                // Bodies above the sacrum, from the lowest up.
                let mut order: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].1[2] > bottom[2]).collect();
                order.sort_by(|&a, &c| parts[a].1[2].total_cmp(&parts[c].1[2]));
                let levels: Vec<String> = (1..=5)
                    .rev()
                    .map(|n| format!("L{n}"))
                    .chain((1..=12).rev().map(|n| format!("T{n}")))
                    .chain((1..=7).rev().map(|n| format!("C{n}")))
                    .collect();
                let mut names = vec![b.name.clone(); parts.len()];
                for (rank, &i) in order.iter().enumerate() {
                    if let Some(l) = levels.get(rank) {
                        names[i] = format!("vertebra_{l}");
                    }
                }
                out.paint_each(b, |i| names[of[i]].clone());
            }
            Kind::Unsided(_) => unreachable!("split into sides above"),
        }
        out.split.push(b.name.clone());
    }
    out.finish()
}

/// Typical heights of a child's sacral segments S1..S5 (relative).
const SACRAL_HEIGHTS: [f64; 5] = [9.0, 7.5, 6.5, 6.0, 4.5];

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

/// The femoral head's centre and radius: a sphere fitted to the femur's voxels within 6 mm
/// of the hip bone (the joint surface); without a hip bone, or when the fit fails, the top of
/// the femur stands in (centre one twentieth of its length below its top).
fn femoral_head<L: Label>(femur: &Bone, hip: Option<&Bone>, atlas: &Volume<L>) -> (V3, f64) {
    let (u, lo, hi) = femur.long_axis();
    let len = hi - lo;
    let top: Vec<V3> = femur.pos.iter().copied().filter(|p| dot(*p, u) > hi - 0.1 * len).collect();
    let fallback = {
        let c = top
            .iter()
            .fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]])
            .map(|x| x / top.len().max(1) as f64);
        (c, 0.05 * len)
    };
    let Some(hip) = hip else { return fallback };
    let grid = &atlas.grid;
    let sp = grid.spacing();
    let reach = sp.map(|s| (6.0 / s).ceil() as i64);
    let hip_label = hip.label;
    let [nx, ny, nz] = grid.dims.map(|d| d as i64);
    let is_hip = |i: i64, j: i64, k: i64| {
        i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && {
            let l: u32 = atlas.data[(i + nx * (j + ny * k)) as usize].into();
            l == hip_label
        }
    };
    let mut contact = Vec::new();
    for (n, &v) in femur.index.iter().enumerate() {
        if dot(femur.pos[n], u) < hi - 0.25 * len {
            continue;
        }
        let [i, j, k] = grid.ijk(v).map(|x| x as i64);
        // Only the femur's surface can face the hip bone: skip voxels whose six neighbours
        // are all femur (most of them), so fine grids stay cheap.
        let is_femur = |i: i64, j: i64, k: i64| {
            i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && {
                let l: u32 = atlas.data[(i + nx * (j + ny * k)) as usize].into();
                l == femur.label
            }
        };
        let surface = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
            .iter()
            .any(|&(di, dj, dk)| !is_femur(i + di, j + dj, k + dk));
        if !surface {
            continue;
        }
        let near = (-reach[2]..=reach[2])
            .any(|dk| (-reach[1]..=reach[1]).any(|dj| (-reach[0]..=reach[0]).any(|di| is_hip(i + di, j + dj, k + dk))));
        if near {
            contact.push(femur.pos[n]);
        }
    }
    match fit_sphere(&contact) {
        Some((c, r)) if contact.len() >= 20 && (0.02 * len..0.12 * len).contains(&r) => (c, r),
        _ => fallback,
    }
}

/// Least-squares sphere through points (algebraic fit: |p|^2 = 2 c.p + k).
fn fit_sphere(pts: &[V3]) -> Option<(V3, f64)> {
    let mut a = [[0.0f64; 5]; 4];
    for p in pts {
        let row = [2.0 * p[0], 2.0 * p[1], 2.0 * p[2], 1.0];
        let rhs = dot(*p, *p);
        for r in 0..4 {
            for c in 0..4 {
                a[r][c] += row[r] * row[c];
            }
            a[r][4] += row[r] * rhs;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..4 {
        let piv = (col..4).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, piv);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                row.iter_mut().zip(pivot_row).skip(col).for_each(|(x, p)| *x -= f * p);
            }
        }
    }
    let x: Vec<f64> = (0..4).map(|r| a[r][4] / a[r][r]).collect();
    let c = [x[0], x[1], x[2]];
    let r2 = x[3] + dot(c, c);
    (r2 > 0.0).then(|| (c, r2.sqrt()))
}

/// The 6-connected pieces of a bone (canonical labelling within its bounding box): the
/// piece (0-based) of each of its voxels, and each piece's voxel count and centroid.
fn pieces<L: Label>(b: &Bone, atlas: &Volume<L>) -> (Vec<usize>, Vec<(usize, V3)>) {
    let grid = &atlas.grid;
    let ijk: Vec<[usize; 3]> = b.index.iter().map(|&v| grid.ijk(v)).collect();
    let lo = [0, 1, 2].map(|a| ijk.iter().map(|p| p[a]).min().unwrap_or(0));
    let hi = [0, 1, 2].map(|a| ijk.iter().map(|p| p[a]).max().unwrap_or(0) + 1);
    let dims = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    let at = |p: &[usize; 3]| (p[0] - lo[0]) + dims[0] * ((p[1] - lo[1]) + dims[1] * (p[2] - lo[2]));
    let mut mask = vec![false; dims.iter().product()];
    for p in &ijk {
        mask[at(p)] = true;
    }
    // Face connectivity: thin joints (sacral discs, intervertebral discs) that a coarse
    // atlas bridges only at corners still separate the pieces.
    let comps = ccl::label(&mask, dims, Connectivity::Faces6);
    let map = comps.to_volume();
    let of: Vec<usize> = ijk.iter().map(|p| map[at(p)] as usize - 1).collect();
    let mut acc = vec![(0usize, [0.0; 3]); comps.count];
    for (i, &l) in of.iter().enumerate() {
        let a = &mut acc[l];
        a.0 += 1;
        a.1 = [a.1[0] + b.pos[i][0], a.1[1] + b.pos[i][1], a.1[2] + b.pos[i][2]];
    }
    (of, acc.into_iter().map(|(n, s)| (n, s.map(|x| x / n.max(1) as f64))).collect())
}

/// Splits a bone into `n` segments head to foot along its long axis: its pieces when there
/// are exactly `n` sizeable ones (small fragments join the nearest along the axis), else cuts
/// of the axis in proportion to `heights`. Returns the segment (0 = most superior) of each
/// voxel.
fn segments_along_axis<L: Label>(b: &Bone, atlas: &Volume<L>, n: usize, heights: &[f64]) -> Vec<usize> {
    let (u, lo, hi) = b.head_foot_axis();
    let (labels, parts) = pieces(b, atlas);
    let big: Vec<usize> = (0..parts.len()).filter(|&l| parts[l].0 * 50 >= b.pos.len()).collect();
    if big.len() == n {
        let mean = |l: usize| dot(parts[l].1, u);
        let mut order = big.clone();
        order.sort_by(|&a, &c| mean(c).total_cmp(&mean(a)));
        let rank = |l: usize| order.iter().position(|&x| x == l);
        return labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                rank(l).unwrap_or_else(|| {
                    let t = dot(b.pos[i], u);
                    (0..n)
                        .min_by(|&a, &c| (mean(order[a]) - t).abs().total_cmp(&(mean(order[c]) - t).abs()))
                        .unwrap_or(0)
                })
            })
            .collect();
    }
    let total: f64 = heights.iter().sum();
    let cuts: Vec<f64> = heights
        .iter()
        .scan(0.0, |acc, h| {
            *acc += h / total;
            Some(*acc)
        })
        .collect();
    b.pos
        .iter()
        .map(|p| {
            let f = (hi - dot(*p, u)) / (hi - lo).max(1e-9);
            cuts.iter().position(|&c| f < c).unwrap_or(n - 1).min(n - 1)
        })
        .collect()
}

/// World y (anterior is +y) of the vertebral canal behind a vertebral body: the first empty
/// slab (as thick as the largest voxel side, `bin`) behind the body in the vertebra's midline
/// band, when at least a tenth of the vertebra lies behind it.
fn canal_y(b: &Bone, bin: f64) -> Option<f64> {
    let c = b.centroid();
    let (xlo, xhi) = b.pos.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), p| (a.min(p[0]), z.max(p[0])));
    let band = 0.15 * (xhi - xlo);
    let ys: Vec<f64> = b.pos.iter().filter(|p| (p[0] - c[0]).abs() <= band).map(|p| p[1]).collect();
    let ymax = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ymin = ys.iter().copied().fold(f64::INFINITY, f64::min);
    if !ymax.is_finite() {
        return None;
    }
    let bins = ((ymax - ymin) / bin) as usize + 1;
    let mut filled = vec![false; bins];
    for y in &ys {
        filled[(((ymax - y) / bin) as usize).min(bins - 1)] = true;
    }
    let gap = filled.iter().position(|&f| !f)?;
    let y = ymax - gap as f64 * bin;
    let behind = b.pos.iter().filter(|p| p[1] < y).count();
    (behind * 10 >= b.pos.len()).then_some(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    /// Parcellates a copy of `v` as u16 labels.
    fn split(v: &Volume<u8>, table: &LabelTable) -> (Parcellation, Volume<u16>) {
        let p = parcellate(v, table).expect("a whole-bone label");
        let mut w = Volume { grid: v.grid, data: v.data.iter().map(|&l| l as u16).collect() };
        p.apply(&mut w);
        (p, w)
    }

    fn grid(dims: [usize; 3]) -> Grid {
        Grid { dims, affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }
    }

    #[test]
    fn names_tell_whole_bones_from_sub_regions() {
        let k = |n: &str| kind(n, &RegionInfo::from_name(n));
        assert_eq!(k("hip_left"), Some(Kind::Hip(Side::Left)));
        assert_eq!(k("femur_right"), Some(Kind::Femur(Side::Right)));
        assert_eq!(k("sacrum"), Some(Kind::Sacrum));
        assert_eq!(k("vertebrae_T7"), Some(Kind::Vertebra("T7".into())));
        assert_eq!(k("vertebrae_S1"), Some(Kind::Vertebra("S1".into())));
        assert_eq!(k("vertebrae"), Some(Kind::Spine));
        assert_eq!(k("clavicula_left"), Some(Kind::Clavicle(Side::Left)));
        assert_eq!(k("tibia"), Some(Kind::Unsided("tibia".into())));
        // An atlas of sub-regions only needs no parcellation.
        let fine = LabelTable::from_pairs([(1, "femur_neck_left"), (2, "vertebra_T7")]);
        assert!(parcellate(&Volume::filled(grid([2, 2, 2]), 1u8), &fine).is_none());
        // Already sub-regions, or not bones at all: kept.
        for n in
            ["vertebra_T7", "vertebra_S3", "acetabulum_roof_right", "femur_neck_left", "ilium_left", "liver", "sternum"]
        {
            assert_eq!(k(n), None, "{n}");
        }
    }

    #[test]
    fn a_sphere_fit_recovers_centre_and_radius_from_a_cap() {
        let (c, r) = ([10.0, -4.0, 30.0], 19.0);
        let pts: Vec<V3> = (0..400)
            .map(|i| {
                // A cap of half-angle 70 degrees around +z.
                let (t, p) = ((i % 20) as f64 * 3.5f64.to_radians(), (i / 20) as f64 * 18f64.to_radians());
                [c[0] + r * t.sin() * p.cos(), c[1] + r * t.sin() * p.sin(), c[2] + r * t.cos()]
            })
            .collect();
        let (fc, fr) = fit_sphere(&pts).unwrap();
        assert!(norm(sub(fc, c)) < 1e-6 && (fr - r).abs() < 1e-6, "{fc:?} {fr}");
    }

    /// A block body with a ring of posterior elements behind a canal: the body keeps the
    /// vertebra's name, the ring becomes its posterior elements; a body alone stays whole.
    #[test]
    fn a_vertebra_splits_at_its_canal() {
        let g = grid([40, 50, 10]);
        let mut v = Volume::filled(g, 0u8);
        for k in 0..10 {
            for j in 0..50 {
                for i in 0..40 {
                    let body = (30..50).contains(&j) && (8..32).contains(&i);
                    let ring = (5..22).contains(&j)
                        && (8..32).contains(&i)
                        && !((9..19).contains(&j) && (14..26).contains(&i));
                    if body || ring {
                        v.data[g.index(i, j, k)] = 1;
                    }
                }
            }
        }
        let table = LabelTable::from_pairs([(1, "vertebrae_L2")]);
        let (p, w) = split(&v, &table);
        let name = |i, j| p.table.name(w.get(i, j, 5) as u32).unwrap().to_string();
        assert_eq!(name(20, 40), "vertebra_L2");
        assert_eq!(name(20, 6), "vertebra_L2_posterior_elements");
        assert_eq!(p.bone_label[&(w.get(20, 6, 5) as u32)], "vertebrae_L2");
        // Without the ring: the body alone.
        v.data.iter_mut().enumerate().for_each(|(x, l)| {
            if g.ijk(x)[1] < 30 {
                *l = 0
            }
        });
        let (p, _) = split(&v, &table);
        assert_eq!(p.table.iter().map(|(_, n)| n.to_string()).collect::<Vec<_>>(), vec!["vertebra_L2"]);
    }

    /// Four separate pieces stacked along z are S2..S5 head to foot when the atlas has its
    /// own S1; one whole spine label is counted from the sacrum up.
    #[test]
    fn sacral_segments_and_spine_levels_are_counted_head_to_foot() {
        let g = grid([10, 10, 80]);
        let mut v = Volume::filled(g, 0u8);
        for k in 0..80 {
            let label = match k {
                0..=8 => 2, // sacrum pieces: 0-8, 11-18, 21-27, 30-36
                11..=18 => 2,
                21..=27 => 2,
                30..=36 => 2,
                39..=44 => 1, // S1
                47..=55 => 3, // spine: two bodies
                58..=66 => 3,
                _ => 0,
            };
            for j in 2..8 {
                for i in 2..8 {
                    v.data[g.index(i, j, k)] = label;
                }
            }
        }
        let table = LabelTable::from_pairs([(1, "vertebrae_S1"), (2, "sacrum"), (3, "vertebrae")]);
        let (p, w) = split(&v, &table);
        let at = |k| p.table.name(w.get(5, 5, k) as u32).unwrap().to_string();
        assert_eq!([at(4), at(15), at(24), at(33)], ["vertebra_S5", "vertebra_S4", "vertebra_S3", "vertebra_S2"]);
        assert_eq!(at(42), "vertebra_S1");
        assert_eq!([at(50), at(60)], ["vertebra_L5", "vertebra_L4"]);
        assert_eq!(p.bone_label[&(w.get(5, 5, 15) as u32)], "sacrum");
    }

    #[test]
    fn a_sideless_bone_splits_at_the_midline_and_a_clavicle_into_thirds() {
        // Two rods along z either side of x = 0 (world), both labelled "tibia"; a clavicle
        // along x on the right, its medial end near the midline.
        let g = Grid { dims: [61, 5, 40], affine: Affine::from_spacing_origin([1.0; 3], [-30.0, 0.0, 0.0]) };
        let mut v = Volume::filled(g, 0u8);
        for k in 0..40 {
            for i in [10, 11, 49, 50] {
                v.data[g.index(i, 2, k)] = 1;
            }
        }
        for i in 33..60 {
            v.data[g.index(i, 2, 39)] = 2;
            v.data[g.index(i, 3, 39)] = 2;
        }
        let table = LabelTable::from_pairs([(1, "tibia"), (2, "clavicula_right")]);
        let (p, w) = split(&v, &table);
        let name = |i, j, k| p.table.name(w.get(i, j, k) as u32).unwrap().to_string();
        assert!(name(10, 2, 20).ends_with("_left") && name(50, 2, 20).ends_with("_right"));
        assert_eq!(name(10, 2, 20), "tibia_shaft_left");
        assert_eq!(name(34, 2, 39), "clavicle_medial_right");
        assert_eq!(name(46, 2, 39), "clavicle_shaft_right");
        assert_eq!(name(58, 2, 39), "clavicle_lateral_right");
    }
}

/// Name recognition and label allocation (kept apart from the per-bone rules' tests).
#[cfg(test)]
mod kind_and_namer_tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    fn k(n: &str) -> Option<Kind> {
        kind(n, &RegionInfo::from_name(n))
    }

    /// Our sub-regions under other spellings are never split again; whole bones still are.
    #[test]
    fn sub_regions_under_other_spellings_are_not_whole_bones() {
        for n in [
            "femoral_neck_left",
            "Femur neck L",
            "Left femoral neck",
            "femoral necks left",
            "capital femoral epiphysis right",
            "greater trochanter left",
            "femur_trochanters_right",
            "femoral condyles left",
            "distal femoral metaphyses R",
            "Acetabular roof right",
            "acetabular_posterior_column_L",
            "pubic ramus left",
            "iliac wing right",
            "S4",
            "s2",
            "sacral segment S2",
            "S3 segment",
            "T7",
            "D7",
            "T7 vertebra",
            "T7 vertebrae",
            "L3 body",
            "vertebral body L3",
            "Vertebra L3",
            "vertebra_T7_posterior_elements",
        ] {
            assert_eq!(k(n), None, "{n}");
        }
        assert_eq!(k("vertebrae_T7"), Some(Kind::Vertebra("T7".into())));
        assert_eq!(k("Vertebrae_D7"), Some(Kind::Vertebra("T7".into())));
        assert_eq!(k("vertebrae_S1"), Some(Kind::Vertebra("S1".into())));
        assert_eq!(k("Femur L"), Some(Kind::Femur(Side::Left)));
        assert_eq!(k("left femoral bone"), Some(Kind::Femur(Side::Left)));
        assert_eq!(k("hip_right"), Some(Kind::Hip(Side::Right)));
        assert_eq!(k("sacrum"), Some(Kind::Sacrum));
        assert_eq!(k("fibula"), Some(Kind::Unsided("fibula".into())));
    }

    /// A table's bone class gives a level-named row its level, and the row stays unsplit.
    #[test]
    fn a_table_class_keeps_a_level_row_whole() {
        let info = RegionInfo::from_name_with("T7 marrow", Some(BoneClass::Vertebra), None);
        assert_eq!(info.vertebral_level.as_deref(), Some("T7"));
        assert_eq!(kind("T7 marrow", &info), None);
        let info = RegionInfo::from_name_with("S4", Some(BoneClass::Sacrum), None);
        assert_eq!((info.vertebral_level.as_deref(), kind("S4", &info)), (Some("S4"), None));
    }

    fn grid() -> Grid {
        Grid { dims: [4, 4, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }
    }

    /// New labels are the lowest free values, not above the table's largest, which may be
    /// 65535; unsplit labels keep their table columns.
    #[test]
    fn new_labels_fill_the_lowest_free_values() {
        let t = LabelTable::parse("index\tname\tbone_class\n1\tvertebrae_L2\t\n3\tmy_bone\tpelvis\n65535\tsternum\t\n")
            .unwrap();
        let mut v = Volume::filled(grid(), 0u16);
        v.data[..32].fill(1);
        v.data[40] = 3;
        v.data[60] = 65535;
        let p = parcellate(&v, &t).expect("a whole vertebra");
        assert_eq!(p.unlabelled, None);
        assert_eq!(p.table.label_of("vertebra_L2"), Some(2));
        assert_eq!(p.max_label(), 65535);
        assert_eq!(p.table.info(3).unwrap().bone_class, BoneClass::Pelvis, "the column survives");
        p.apply(&mut v);
        assert_eq!(v.data[0], 2);
    }

    /// With every value up to 65535 in use, the region that gets none is named.
    #[test]
    fn no_free_label_is_reported_not_a_panic() {
        let names: Vec<(u32, String)> = (1..=65535u32).map(|l| (l, format!("organ_{l}"))).collect();
        let mut t = LabelTable::from_pairs(names);
        t.insert_name(7, "vertebrae_L2");
        let mut v = Volume::filled(grid(), 0u16);
        v.data[..32].fill(7);
        let p = parcellate(&v, &t).expect("a whole vertebra");
        assert_eq!(p.unlabelled.as_deref(), Some("vertebra_L2 (cut from vertebrae_L2)"));
    }
}
