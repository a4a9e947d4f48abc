//! Long bones cut by proportions of their length (tibia, humerus, clavicle), the tarsal
//! bones' calcaneus, and paired bones named without a side.
//!
//! Proportions of a length hold only when the whole length is in view: a bone whose end the
//! field of view cuts is kept whole (a proportion of its visible part would name the wrong
//! part). Fractions: physes and metaphyses of the growing tibia and humerus (proximal tibial
//! physis about 6% and metaphysis to about 20% of the length from the top, distal tibia about
//! 17%; humeral head and metaphysis about 28%), as the phantom's anatomy draws them.

use super::bone::{pieces, Bone};
use super::{kind, Kind, Namer};
use crate::labels::{RegionInfo, Side};
use crate::vec3::dot;
use crate::volume::{Label, Volume};

/// Tibia, from the top: epiphysis, metaphysis (fractions of its length); the distal
/// metaphysis (its epiphysis included) from `TIBIA_DISTAL` on.
const TIBIA_PROXIMAL_EPIPHYSIS: f64 = 0.06;
const TIBIA_PROXIMAL_METAPHYSIS: f64 = 0.2;
const TIBIA_DISTAL: f64 = 0.83;
/// Humerus: the proximal metaphysis (head included) is the top fraction.
const HUMERUS_PROXIMAL: f64 = 0.28;
/// The calcaneus is the most posterior tarsal piece holding at least this fraction of them.
const CALCANEUS_MIN_FRACTION: f64 = 0.1;
/// A cut point within this fraction of the length from an end cuts that end.
const END_FRACTION: f64 = 0.25;

/// The long axis and its extent (`lo`, `hi`), when neither end of the bone is cut by the
/// field of view.
fn whole_length<L: Label>(b: &Bone, atlas: &Volume<L>) -> Option<([f64; 3], f64, f64)> {
    let (u, lo, hi) = b.long_axis();
    let len = hi - lo;
    let cut = b.cut_points(&atlas.grid).iter().any(|p| {
        let t = dot(*p, u);
        t < lo + END_FRACTION * len || t > hi - END_FRACTION * len
    });
    (!cut).then_some((u, lo, hi))
}

/// Tibia by fractions of its length from the top; kept whole (false) when an end is cut.
pub(super) fn tibia<L: Label>(b: &Bone, side: Side, atlas: &Volume<L>, out: &mut Namer) -> bool {
    let Some((u, lo, hi)) = whole_length(b, atlas) else { return false };
    let len = hi - lo;
    let s = side.as_str();
    out.paint(b, |p| {
        let from_top = (hi - dot(p, u)) / len;
        let part = if from_top < TIBIA_PROXIMAL_EPIPHYSIS {
            "tibia_proximal_epiphysis"
        } else if from_top < TIBIA_PROXIMAL_METAPHYSIS {
            "tibia_proximal_metaphysis"
        } else if from_top > TIBIA_DISTAL {
            "tibia_distal_metaphysis"
        } else {
            "tibia_shaft"
        };
        format!("{part}_{s}")
    });
    true
}

/// Humerus: proximal metaphysis and shaft; kept whole (false) when an end is cut.
pub(super) fn humerus<L: Label>(b: &Bone, side: Side, atlas: &Volume<L>, out: &mut Namer) -> bool {
    let Some((u, lo, hi)) = whole_length(b, atlas) else { return false };
    let len = hi - lo;
    let s = side.as_str();
    out.paint(b, |p| {
        let part =
            if hi - dot(p, u) < HUMERUS_PROXIMAL * len { "humerus_proximal_metaphysis" } else { "humerus_shaft" };
        format!("{part}_{s}")
    });
    true
}

/// Clavicle in thirds of its length, the medial end the one nearer the body's midline
/// (`mid_x`); kept whole (false) when an end is cut.
pub(super) fn clavicle<L: Label>(b: &Bone, side: Side, mid_x: f64, atlas: &Volume<L>, out: &mut Namer) -> bool {
    let Some((u, lo, hi)) = whole_length(b, atlas) else { return false };
    let len = hi - lo;
    // Orient the axis medial -> lateral: the medial end lies nearer the midline.
    let ends = [lo, hi].map(|t| {
        let near: Vec<f64> =
            b.pos.iter().filter(|p| (dot(**p, u) - t).abs() < 0.1 * len).map(|p| (p[0] - mid_x).abs()).collect();
        near.iter().sum::<f64>() / near.len().max(1) as f64
    });
    let medial_is_lo = ends[0] <= ends[1];
    let s = side.as_str();
    out.paint(b, |p| {
        let t = (if medial_is_lo { dot(p, u) - lo } else { hi - dot(p, u) }) / len;
        let part = if t < 1.0 / 3.0 {
            "clavicle_medial"
        } else if t < 2.0 / 3.0 {
            "clavicle_shaft"
        } else {
            "clavicle_lateral"
        };
        format!("{part}_{s}")
    });
    true
}

/// A side's tarsal bones: the most posterior sizeable piece is the calcaneus.
pub(super) fn tarsal<L: Label>(b: &Bone, side: Side, atlas: &Volume<L>, out: &mut Namer) -> bool {
    let (of, parts) = pieces(b, atlas);
    let calc = (0..parts.len())
        .filter(|&i| parts[i].0 as f64 >= CALCANEUS_MIN_FRACTION * b.pos.len() as f64)
        .min_by(|&a, &c| parts[a].1[1].total_cmp(&parts[c].1[1]));
    let s = side.as_str();
    let names: Vec<String> = (0..parts.len())
        .map(|i| if Some(i) == calc { format!("calcaneus_{s}") } else { format!("tarsal_{s}") })
        .collect();
    out.paint_each(b, |i| names[of[i]].clone());
    true
}

/// A paired bone named without a side (TotalSegmentator's `tibia`, `fibula`, `tarsal`), split at
/// the body's midline `mid_x` into one bone per side named `<stem>_<side>`: those that are
/// whole bones of a known kind are returned for their own rule, with the sided name to paint
/// when the rule keeps them whole; the others are painted now.
pub(super) fn split_sides(b: Bone, stem: &str, mid_x: f64, out: &mut Namer) -> Vec<(Kind, Bone, Option<String>)> {
    let mut sided = Vec::new();
    for side in [Side::Left, Side::Right] {
        let keep: Vec<usize> = (0..b.pos.len()).filter(|&i| (b.pos[i][0] < mid_x) == (side == Side::Left)).collect();
        let name = format!("{stem}_{}", side.as_str());
        let bone = Bone {
            label: b.label,
            name: b.name.clone(),
            index: keep.iter().map(|&i| b.index[i]).collect(),
            pos: keep.iter().map(|&i| b.pos[i]).collect(),
        };
        match kind(&name, &RegionInfo::from_name(&name)) {
            Some(k) => sided.push((k, bone, Some(name))),
            None => out.paint(&bone, |_| name.clone()),
        }
    }
    sided
}
