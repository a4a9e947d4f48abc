//! The spine: a vertebra's body and posterior elements (behind the vertebral canal), the
//! sacrum's segments counted down from S1, and one label for the whole spine counted from an
//! anchor in view.
//!
//! Sacral segments follow the sacrum's own curve: the anterior surface of its bodies in the
//! midline, from S1's top (below the L5-S1 disc, or the promontory when L5 is not labelled)
//! to its tip; a voxel takes the segment of the nearest point of that curve in the sagittal
//! plane, so the alae go with the body they flank. A child's unfused segments are counted as
//! separate pieces when there are as many as segments. Heights: a child's sacral segments
//! S1..S5 in proportion 9 : 7.5 : 6.5 : 6 : 4.5 (S1 the tallest, tapering to S5).

use super::bone::{pieces, Bone};
use super::Namer;
use crate::vec3::{norm, sub, V3};
use crate::volume::{Label, Volume};

/// Typical heights of a child's sacral segments S1..S5 (relative).
pub(super) const SACRAL_HEIGHTS: [f64; 5] = [9.0, 7.5, 6.5, 6.0, 4.5];
/// Half-width (mm) of the midline band in which the sacrum's curve and a vertebra's canal are
/// looked for (at least one and a half voxels).
const MIDLINE_HALF_WIDTH_MM: f64 = 5.0;
/// A hole in a vertebra's outline seen from above is its canal when at least this large (mm^2).
const MIN_CANAL_MM2: f64 = 40.0;
/// A sizeable piece of a bone holds at least this fraction of it (1 / n).
const PIECE_FRACTION: usize = 50;
/// The vertebral levels head to foot above the sacrum.
const LEVELS: [&str; 24] = [
    "C1", "C2", "C3", "C4", "C5", "C6", "C7", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11",
    "T12", "L1", "L2", "L3", "L4", "L5",
];

/// The largest voxel side of the atlas's grid (mm).
fn voxel_mm<L: Label>(atlas: &Volume<L>) -> f64 {
    atlas.grid.spacing().into_iter().fold(0.0, f64::max)
}

/// A vertebra (`vertebrae_T7`) -> `vertebra_T7` (its body) and
/// `vertebra_T7_posterior_elements` (behind the front of the canal: pedicles, laminae,
/// processes); all of it `vertebra_T7` when no canal is found.
pub(super) fn vertebra<L: Label>(b: &Bone, level: &str, atlas: &Volume<L>, out: &mut Namer) -> bool {
    let bin = voxel_mm(atlas);
    let front = canal_from_above(b, bin).or_else(|| canal_in_midline(b, bin));
    out.paint(b, |p| {
        if front.is_some_and(|y| p[1] < y) {
            format!("vertebra_{level}_posterior_elements")
        } else {
            format!("vertebra_{level}")
        }
    });
    true
}

/// World y of the front of the vertebral canal: the vertebra's voxels seen from above
/// (binned on world x, y at `bin` mm) enclose the canal as a hole; the largest hole of at
/// least [`MIN_CANAL_MM2`] behind the vertebra's centroid, its most anterior edge.
fn canal_from_above(b: &Bone, bin: f64) -> Option<f64> {
    let (lo, hi) = bounds(&b.pos);
    let (w, h) = (((hi[0] - lo[0]) / bin) as usize + 3, ((hi[1] - lo[1]) / bin) as usize + 3);
    let cell = |p: &V3| (((p[0] - lo[0]) / bin) as usize + 1, ((p[1] - lo[1]) / bin) as usize + 1);
    let mut filled = vec![false; w * h];
    for p in &b.pos {
        let (x, y) = cell(p);
        filled[x + w * y] = true;
    }
    let outside = flood_from_border(&filled, w, h);
    let holes = crate::ccl::label(
        &filled.iter().zip(&outside).map(|(&f, &o)| !f && !o).collect::<Vec<_>>(),
        [w, h, 1],
        crate::ccl::Connectivity::Faces6,
    );
    let map = holes.to_volume();
    let c = super::bone::Bone::centroid(b);
    let mut best: Option<(usize, f64)> = None;
    for l in 1..=holes.count as u32 {
        let cells: Vec<(usize, usize)> = (0..w * h).filter(|&i| map[i] == l).map(|i| (i % w, i / w)).collect();
        let area = cells.len() as f64 * bin * bin;
        let y_of = |y: usize| lo[1] + (y as f64 - 0.5) * bin;
        let mean_y = cells.iter().map(|&(_, y)| y_of(y)).sum::<f64>() / cells.len() as f64;
        if area >= MIN_CANAL_MM2 && mean_y < c[1] && best.map_or(true, |(n, _)| cells.len() > n) {
            let front = cells.iter().map(|&(_, y)| y_of(y) + 0.5 * bin).fold(f64::NEG_INFINITY, f64::max);
            best = Some((cells.len(), front));
        }
    }
    best.map(|(_, front)| front)
}

/// The cells of a `w` x `h` raster reached from its border through cells not `filled`
/// (4-connected).
fn flood_from_border(filled: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut seen = vec![false; w * h];
    let mut stack: Vec<usize> =
        (0..w * h).filter(|&i| (i % w == 0 || i % w == w - 1 || i / w == 0 || i / w == h - 1) && !filled[i]).collect();
    stack.iter().for_each(|&i| seen[i] = true);
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        let next =
            [(x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1), (y > 0).then(|| i - w), (y + 1 < h).then(|| i + w)];
        for n in next.into_iter().flatten() {
            if !filled[n] && !seen[n] {
                seen[n] = true;
                stack.push(n);
            }
        }
    }
    seen
}

/// World y of the front of the vertebral canal from the vertebra's midline band alone: the
/// first empty slab (`bin` thick) behind the body, when at least a tenth of the vertebra
/// lies behind it (for a canal whose outline is open seen from above).
fn canal_in_midline(b: &Bone, bin: f64) -> Option<f64> {
    let c = b.centroid();
    let band = MIDLINE_HALF_WIDTH_MM.max(1.5 * bin);
    let ys: Vec<f64> = b.pos.iter().filter(|p| (p[0] - c[0]).abs() <= band).map(|p| p[1]).collect();
    let (ymin, ymax) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), &y| (a.min(y), z.max(y)));
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

/// The per-axis minimum and maximum of `pos`.
fn bounds(pos: &[V3]) -> (V3, V3) {
    pos.iter().fold(([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]), |(lo, hi), p| {
        ([0, 1, 2].map(|a| lo[a].min(p[a])), [0, 1, 2].map(|a| hi[a].max(p[a])))
    })
}

/// The sacrum's curve in the sagittal plane, from S1's top down: the most anterior point of the
/// midline band per `bin`-thick slab of world z, as (y, z) pairs, and each point's distance
/// along the curve from the top.
struct SacralCurve {
    points: Vec<[f64; 2]>,
    arc: Vec<f64>,
    /// The sacrum's axis in the sagittal plane (y, z), pointing superior.
    axis: [f64; 2],
}

impl SacralCurve {
    /// `above`: where the sacrum's top lies (the L5 body's or the S1 label's centroid); without
    /// it, the promontory (the curve's most anterior-superior point, largest y + z) is the top.
    fn new(b: &Bone, bin: f64, above: Option<V3>) -> Option<SacralCurve> {
        let cx = b.centroid()[0];
        let band = MIDLINE_HALF_WIDTH_MM.max(1.5 * bin);
        let mid: Vec<[f64; 2]> = b.pos.iter().filter(|p| (p[0] - cx).abs() <= band).map(|p| [p[1], p[2]]).collect();
        let (u, v) = sagittal_axes(&mid)?;
        let along = |q: [f64; 2]| q[0] * u[0] + q[1] * u[1];
        let across = |q: [f64; 2]| q[0] * v[0] + q[1] * v[1];
        let (lo, hi) =
            mid.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), &q| (a.min(along(q)), z.max(along(q))));
        let slabs = ((hi - lo) / bin) as usize + 1;
        // Per slab across the sacrum's axis: its most anterior point.
        let mut front: Vec<Option<[f64; 2]>> = vec![None; slabs];
        for &q in &mid {
            let s = (((along(q) - lo) / bin) as usize).min(slabs - 1);
            if front[s].map_or(true, |f| across(q) > across(f)) {
                front[s] = Some(q);
            }
        }
        // Top first.
        let mut points: Vec<[f64; 2]> = front.iter().rev().flatten().copied().collect();
        let top = match above {
            Some(a) => (0..points.len()).min_by(|&i, &j| dist2(points[i], a).total_cmp(&dist2(points[j], a)))?,
            None => (0..points.len())
                .max_by(|&i, &j| (points[i][0] + points[i][1]).total_cmp(&(points[j][0] + points[j][1])))?,
        };
        points.drain(..top);
        let mut arc = vec![0.0];
        for w in points.windows(2) {
            arc.push(
                arc.last().copied().unwrap_or(0.0) + ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt(),
            );
        }
        (points.len() >= 2).then_some(SacralCurve { points, arc, axis: u })
    }

    /// The fraction (0 at the top, 1 at the tip) of the curve's length at the level of `p`
    /// along the sacrum's axis (its slab across the axis): the posterior elements and the
    /// alae go with the body in front of or beside them.
    fn fraction(&self, p: V3) -> f64 {
        let along = |q: [f64; 2]| q[0] * self.axis[0] + q[1] * self.axis[1];
        let t = along([p[1], p[2]]);
        let i = (0..self.points.len())
            .min_by(|&i, &j| (along(self.points[i]) - t).abs().total_cmp(&(along(self.points[j]) - t).abs()));
        let len = self.arc.last().copied().unwrap_or(0.0).max(1e-9);
        i.map_or(0.0, |i| self.arc[i] / len)
    }
}

/// The principal axis `u` of sagittal points (y, z), pointing superior, and its perpendicular
/// `v`, pointing anterior.
fn sagittal_axes(q: &[[f64; 2]]) -> Option<([f64; 2], [f64; 2])> {
    if q.len() < 2 {
        return None;
    }
    let n = q.len() as f64;
    let m = [q.iter().map(|p| p[0]).sum::<f64>() / n, q.iter().map(|p| p[1]).sum::<f64>() / n];
    let (mut syy, mut syz, mut szz) = (0.0, 0.0, 0.0);
    for p in q {
        let (y, z) = (p[0] - m[0], p[1] - m[1]);
        (syy, syz, szz) = (syy + y * y, syz + y * z, szz + z * z);
    }
    let t = 0.5 * (2.0 * syz).atan2(syy - szz);
    let mut u = [t.cos(), t.sin()];
    if u[1] < 0.0 {
        u = [-u[0], -u[1]];
    }
    let v = [u[1], -u[0]];
    Some((u, if v[0] < 0.0 { [-v[0], -v[1]] } else { v }))
}

/// Squared distance in the sagittal plane between a curve point (y, z) and `p`.
fn dist2(c: [f64; 2], p: V3) -> f64 {
    (c[0] - p[1]).powi(2) + (c[1] - p[2]).powi(2)
}

/// The sacrum -> `vertebra_S1` .. `vertebra_S5` (`S2` .. when the atlas labels S1 itself:
/// `s1`, its centroid), counted down from the top (`l5`: the L5 body's centroid, when the
/// atlas labels L5). Kept whole when the field of view cuts it (its length is unknown) or no
/// curve is found.
pub(super) fn sacrum<L: Label>(b: &Bone, s1: Option<V3>, l5: Option<V3>, atlas: &Volume<L>, out: &mut Namer) -> bool {
    if !b.cut_points(&atlas.grid).is_empty() {
        return false;
    }
    let first = if s1.is_some() { 2 } else { 1 };
    let names: Vec<String> = (first..=5).map(|n| format!("vertebra_S{n}")).collect();
    let heights = &SACRAL_HEIGHTS[first - 1..];
    let Some(curve) = SacralCurve::new(b, voxel_mm(atlas), s1.or(l5)) else { return false };
    let of = match separate_segments(b, atlas, names.len(), &curve) {
        Some(of) => of,
        None => {
            let total: f64 = heights.iter().sum();
            let mut acc = 0.0;
            let cuts: Vec<f64> = heights
                .iter()
                .map(|h| {
                    acc += h / total;
                    acc
                })
                .collect();
            b.pos.iter().map(|p| cuts.iter().position(|&c| curve.fraction(*p) < c).unwrap_or(names.len() - 1)).collect()
        }
    };
    out.paint_each(b, |i| names[of[i].min(names.len() - 1)].clone());
    true
}

/// A child's unfused sacrum: when it has exactly `n` sizeable separate pieces, the segment
/// (0 = top) of each voxel, the pieces ordered along `curve` (small fragments join the piece
/// nearest along it).
fn separate_segments<L: Label>(b: &Bone, atlas: &Volume<L>, n: usize, curve: &SacralCurve) -> Option<Vec<usize>> {
    let (labels, parts) = pieces(b, atlas);
    let big: Vec<usize> = (0..parts.len()).filter(|&l| parts[l].0 * PIECE_FRACTION >= b.pos.len()).collect();
    if big.len() != n {
        return None;
    }
    let along = |p: V3| curve.fraction(p);
    let mut order = big;
    order.sort_by(|&a, &c| along(parts[a].1).total_cmp(&along(parts[c].1)));
    let rank = |l: usize| order.iter().position(|&x| x == l);
    Some(
        labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                rank(l).unwrap_or_else(|| {
                    let t = along(b.pos[i]);
                    (0..n)
                        .min_by(|&a, &c| {
                            (along(parts[order[a]].1) - t).abs().total_cmp(&(along(parts[order[c]].1) - t).abs())
                        })
                        .unwrap_or(0)
                })
            })
            .collect(),
    )
}

/// One label for the whole spine (TotalSegmentator MR's `vertebrae`): its separate bodies get
/// levels counted from an anchor in view: up from the top of the sacrum (`sacrum_top`: the
/// sacrum's voxel centroid), else from a vertebra the atlas labels (`anchors`: level and
/// centroid). Without an anchor no level is claimed (kept whole, false).
pub(super) fn spine<L: Label>(
    b: &Bone,
    sacrum: Option<V3>,
    anchors: &[(String, V3)],
    atlas: &Volume<L>,
    out: &mut Namer,
) -> bool {
    let (of, parts) = pieces(b, atlas);
    let bodies: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].0 * PIECE_FRACTION >= b.pos.len()).collect();
    let level_of = levels_from_anchor(&bodies, &parts, sacrum, anchors);
    if level_of.is_empty() {
        return false;
    }
    let names: Vec<String> = (0..parts.len())
        .map(|i| {
            level_of.iter().find(|(p, _)| *p == i).map_or_else(|| b.name.clone(), |(_, l)| format!("vertebra_{l}"))
        })
        .collect();
    out.paint_each(b, |i| names[of[i]].clone());
    true
}

/// Levels of the `bodies` (piece indices; `parts`: their sizes and centroids) counted from the
/// sacrum (the lowest body above it is L5) or from the nearest labelled vertebra.
fn levels_from_anchor(
    bodies: &[usize],
    parts: &[(usize, V3)],
    sacrum: Option<V3>,
    anchors: &[(String, V3)],
) -> Vec<(usize, &'static str)> {
    let mut order: Vec<usize> = bodies.to_vec();
    // Foot to head.
    order.sort_by(|&a, &c| parts[a].1[2].total_cmp(&parts[c].1[2]));
    if let Some(s) = sacrum {
        let above: Vec<usize> = order.iter().copied().filter(|&i| parts[i].1[2] > s[2]).collect();
        return above.iter().zip(LEVELS.iter().rev()).map(|(&i, &l)| (i, l)).collect();
    }
    // A labelled vertebra: the bodies below it count down, those above count up. A body
    // that is the anchor itself (within half a body's height) is left as it is.
    let Some((level, at)) = anchors.iter().find_map(|(l, c)| LEVELS.iter().position(|x| x == l).map(|r| (r, *c)))
    else {
        return Vec::new();
    };
    let near = |i: usize| norm(sub(parts[i].1, at));
    let spacing = median_gap(&order, parts).max(1.0);
    let mut out = Vec::new();
    let (below, above): (Vec<usize>, Vec<usize>) =
        order.iter().copied().filter(|&i| near(i) > 0.5 * spacing).partition(|&i| parts[i].1[2] < at[2]);
    for (n, &i) in below.iter().rev().enumerate() {
        if let Some(l) = LEVELS.get(level + 1 + n) {
            out.push((i, *l));
        }
    }
    for (n, &i) in above.iter().enumerate() {
        if let Some(r) = level.checked_sub(1 + n) {
            out.push((i, LEVELS[r]));
        }
    }
    out
}

/// The median head-to-foot gap (mm) between consecutive bodies in `order` (foot to head).
fn median_gap(order: &[usize], parts: &[(usize, V3)]) -> f64 {
    let mut gaps: Vec<f64> = order.windows(2).map(|w| parts[w[1]].1[2] - parts[w[0]].1[2]).collect();
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).copied().unwrap_or(0.0)
}
