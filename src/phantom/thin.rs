//! Thin lesions ([`super::Hardness::subchondral`], [`super::Hardness::periphyseal`]): a
//! subchondral strip 2-4 mm thick in the marrow just under an articular surface (acetabular
//! roof, femoral head, both sides of the sacroiliac joint, thoracic and lumbar endplates),
//! or a periphyseal band 2-4 mm thick along the metaphyseal face of a growth plate.
//!
//! A thin lesion is a layer cut out by a patch: the points whose lateral position (in the
//! tangent plane at the patch's centre) lies inside a gently wobbling ellipse, whose depth
//! along the patch's normal stays within an axial window, and whose layer coordinate lies in
//! the layer: the depth under the bone's own surface (minus its signed distance) between the
//! cortex and the cortex plus the thickness for a subchondral strip, or the offset from the
//! plate's mid-surface toward the metaphysis between the plate's half thickness and that
//! plus the thickness for a periphyseal band. The layer follows the surface, curved or not.

use super::anatomy::{Articular, Scene, Surface};
use super::geom::{add, dot, frame, scale, sub, V3};
use super::lesions::{plate_of, point_on_plate, Lesion};
use super::rng::SplitMix64;
use std::f64::consts::TAU;

/// Thickness range (mm) of a thin lesion's layer.
pub const THICKNESS: (f64, f64) = (2.0, 4.0);

/// Least marrow volume (mm^3, on a 0.5 mm lattice) a thin lesion must hold to be kept.
const LEAST_MM3: f64 = 60.0;

/// Which thin lesion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThinKind {
    /// Under an articular surface.
    Subchondral,
    /// Along the metaphyseal face of a growth plate.
    Periphyseal,
}

impl ThinKind {
    /// Its name in the truth (`shape`).
    pub fn name(self) -> &'static str {
        match self {
            ThinKind::Subchondral => "subchondral",
            ThinKind::Periphyseal => "periphyseal",
        }
    }
}

/// What the layer coordinate is.
#[derive(Clone, Copy, Debug)]
pub enum Layer {
    /// Depth under the bone's surface (mm).
    Bone,
    /// Offset from a growth plate's mid-surface toward its metaphysis (mm).
    Plate(Surface),
}

/// The shape of a thin lesion.
#[derive(Clone, Debug)]
pub struct Thin {
    /// Subchondral or periphyseal.
    pub kind: ThinKind,
    /// The layer coordinate.
    pub layer: Layer,
    /// The layer: coordinate from `lo` to `hi` (mm).
    pub lo: f64,
    /// See `lo`.
    pub hi: f64,
    /// The patch's centre (on the surface or the plate).
    pub o: V3,
    /// Two tangents and the normal (into the bone, or toward the metaphysis).
    pub e: [V3; 3],
    /// Half-sizes of the patch's ellipse along the tangents.
    pub half: [f64; 2],
    /// Window of the depth along the normal from `o` (mm).
    pub axial: (f64, f64),
    /// Wobble of the ellipse's edge: amplitude, angular frequency, phase.
    wobble: [(f64, f64, f64); 2],
}

impl Thin {
    /// Signed distance (mm, negative inside; exact across the layer, approximate across the
    /// patch's edge); `depth` gives the depth under the bone's surface at `p`.
    pub fn sdf(&self, p: V3, depth: impl FnOnce() -> f64) -> f64 {
        let d = sub(p, self.o);
        let (x, y) = (dot(d, self.e[0]) / self.half[0], dot(d, self.e[1]) / self.half[1]);
        let edge = 1.0 + self.wobble.iter().map(|(a, f, ph)| a * (f * y.atan2(x) + ph).sin()).sum::<f64>();
        let patch = ((x * x + y * y).sqrt() - edge) * self.half[0].min(self.half[1]);
        let a = dot(d, self.e[2]);
        let window = (self.axial.0 - a).max(a - self.axial.1);
        let outside = patch.max(window);
        if outside > 0.0 {
            return outside;
        }
        let v = match self.layer {
            Layer::Bone => depth(),
            Layer::Plate(s) => s.eval(p),
        };
        let layer = (v - 0.5 * (self.lo + self.hi)).abs() - 0.5 * (self.hi - self.lo);
        outside.max(layer)
    }

    /// Thickness of the layer (mm).
    pub fn thickness(&self) -> f64 {
        self.hi - self.lo
    }
}

/// The lesion of shape `shape` in `bone`, named after the region holding most of its marrow
/// when at least 85% of that marrow (and at least [`LEAST_MM3`]) lies in it.
fn finish(scene: &Scene, bone: usize, shape: Thin, rng: &mut SplitMix64) -> Option<Lesion> {
    let c = add(shape.o, scale(shape.e[2], 0.5 * (shape.lo + shape.hi)));
    let wide = shape.half[0].max(shape.half[1]) * 1.25;
    let bound = (wide * wide + shape.axial.1.max(-shape.axial.0).powi(2)).sqrt();
    let r = [shape.half[0], shape.half[1], 0.5 * shape.thickness()];
    let mut l = Lesion::thin(bone, c, shape.e, r, bound, shape, rng);
    let (volume, label, frac) = measure(scene, &l);
    if volume < LEAST_MM3 || frac < 0.85 {
        return None;
    }
    l.label = label;
    l.region = scene.labels[label as usize - 1].clone();
    Some(l)
}

/// Marrow volume (mm^3, on a 0.5 mm lattice) of a lesion, the label holding most of it and
/// that label's share.
pub fn measure(scene: &Scene, l: &Lesion) -> (f64, u16, f64) {
    const STEP: f64 = 0.5;
    let mut counts: Vec<(u16, usize)> = Vec::new();
    l.marrow_points(scene, STEP, |_, label| match counts.iter_mut().find(|c| c.0 == label) {
        Some(c) => c.1 += 1,
        None => counts.push((label, 1)),
    });
    let total: usize = counts.iter().map(|c| c.1).sum();
    let best = counts.iter().copied().filter(|c| c.0 != 0).max_by_key(|c| c.1).unwrap_or((0, 0));
    let frac = if total == 0 { 0.0 } else { best.1 as f64 / total as f64 };
    (total as f64 * STEP.powi(3), best.0, frac)
}

/// Wobble of a patch's edge, drawn from `rng`.
fn wobble(rng: &mut SplitMix64) -> [(f64, f64, f64); 2] {
    [(rng.range(0.0, 0.12), 3.0, rng.range(0.0, TAU)), (rng.range(0.0, 0.08), 5.0, rng.range(0.0, TAU))]
}

/// A subchondral strip at one of the scene's articular sites (drawn by their weights), or
/// `None` when the one drawn does not fit its region.
pub fn subchondral(scene: &Scene, rng: &mut SplitMix64) -> Option<Lesion> {
    let weights: Vec<f64> = scene.articular.iter().map(|a| a.weight).collect();
    let site: &Articular = &scene.articular[rng.weighted(&weights)];
    let bone = &scene.bones[site.bone];
    let t = rng.range(THICKNESS.0, THICKNESS.1);
    let half = [site.reach[0] * rng.range(0.6, 1.0), site.reach[1] * rng.range(0.6, 1.0)];
    let into = scale(site.n, -1.0);
    let lo = bone.cortex;
    let shape = Thin {
        kind: ThinKind::Subchondral,
        layer: Layer::Bone,
        lo,
        hi: lo + t,
        o: site.s,
        e: [site.t[0], site.t[1], into],
        half,
        axial: (-4.0, site.depth.min(lo + t + 3.0)),
        wobble: wobble(rng),
    };
    finish(scene, site.bone, shape, rng)
}

/// A periphyseal band along a growth plate at one of the tubular-bone sites next to a plate
/// (drawn by CRMO's site weights), or `None` when it does not fit its region.
pub fn periphyseal(scene: &Scene, rng: &mut SplitMix64) -> Option<Lesion> {
    let sites: Vec<_> = scene
        .anchors
        .iter()
        .filter_map(|a| plate_of(scene, &scene.labels[a.label as usize - 1], a).map(|ph| (a, ph)))
        .collect();
    let weights: Vec<f64> = sites.iter().map(|s| s.0.weight).collect();
    let (a, ph) = sites[rng.weighted(&weights)];
    let t = rng.range(THICKNESS.0, THICKNESS.1);
    let o = point_on_plate(ph, rng);
    let n = ph.s.n;
    let [_, t0, t1] = frame(n, if n[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] });
    let cap = 0.8 * ph.ball.1;
    let half = [rng.range(6.0, 14.0).min(cap), rng.range(4.0, 10.0).min(cap)];
    let shape = Thin {
        kind: ThinKind::Periphyseal,
        layer: Layer::Plate(ph.s),
        lo: ph.half,
        hi: ph.half + t,
        o,
        e: [t0, t1, n],
        half,
        axial: (-10.0, ph.half + t + 10.0),
        wobble: wobble(rng),
    };
    finish(scene, a.bone, shape, rng)
}
