//! Lesions: bone-marrow oedema blobs with a soft edge, confined to the marrow of one bone,
//! and their placement (the founding case's seven foci, or random CRMO-like sites); and the
//! normal-variant bright marrow foci, blobs of the same kind that are not lesions.

use super::anatomy::{Scene, Tissue};
use super::geom::{add, dot, norm, scale, sub, unit, Aabb, V3};
use super::rng::{SplitMix64, ValueNoise};
use super::thin::Thin;
use crate::error::{Error, Result};
use std::f64::consts::{PI, TAU};

mod foci;
mod placement;

pub use foci::variant_foci;
pub(super) use placement::{plate_of, point_on_plate};
pub use placement::{random, Placement};

/// Scale (mm) of the logistic edge: the oedema fades from 90% to 10% over about 3 mm.
pub const EDGE: f64 = 0.7;

/// Beyond this signed distance (mm) a lesion no longer changes the marrow.
pub const REACH: f64 = 4.0;

/// Smallest and largest peak intensity of a lesion.
const PEAK: (f64, f64) = (580.0, 680.0);

/// Least gap (mm) between the bounding spheres of two random lesions.
const GAP: f64 = 6.0;

/// One lesion: an ellipsoid whose radius is modulated by a few low-order harmonics.
#[derive(Clone, Debug)]
pub struct Lesion {
    /// Region it was placed in.
    pub region: String,
    /// That region's label.
    pub label: u16,
    /// Index of the bone it lives in.
    pub bone: usize,
    /// Centre (world mm).
    pub c: V3,
    e: [V3; 3],
    r: V3,
    /// Harmonics: direction, amplitude, frequency (half cycles over the sphere), phase.
    harm: Vec<(V3, f64, f64, f64)>,
    /// Peak intensity.
    pub peak: f64,
    /// Radius of a sphere around `c` holding the whole blob.
    pub bound: f64,
    /// Box outside which the lesion changes nothing.
    pub bbox: Aabb,
    tex: ValueNoise,
    /// A normal-variant focus: rendered like a lesion but never part of the truth.
    pub variant: bool,
    /// Signal as a ratio to the local normal marrow ([`super::Hardness::lesion_ratio`]);
    /// `None`: the fixed bright intensity `peak`.
    pub ratio: Option<f64>,
    /// A thin subchondral or periphyseal lesion instead of a blob.
    pub thin: Option<Thin>,
}

impl Lesion {
    /// A lesion of radii `r` along the frame `e`, its shape details drawn from `rng`; the
    /// harmonics' amplitudes sum to at most `wobble`.
    #[allow(clippy::too_many_arguments)]
    fn new(
        region: &str,
        label: u16,
        bone: usize,
        c: V3,
        e: [V3; 3],
        r: V3,
        wobble: f64,
        rng: &mut SplitMix64,
    ) -> Lesion {
        let mut harm = Vec::new();
        let mut left = wobble;
        for freq in [1.0, 2.0, 3.0] {
            let amp = left * rng.range(0.3, 0.6);
            left -= amp;
            harm.push((rng.direction(), amp, freq, rng.range(0.0, std::f64::consts::TAU)));
        }
        let peak = rng.range(PEAK.0, PEAK.1);
        let bound = r[0].max(r[1]).max(r[2]) * (1.0 + wobble);
        let tex = ValueNoise::new(rng.next_u64(), 4.0);
        Lesion { region: region.to_string(), label, harm, ..Lesion::base(bone, c, e, r, bound, peak, tex) }
    }

    /// The fields every lesion has: no region yet, no harmonics, not thin, a fixed peak.
    fn base(bone: usize, c: V3, e: [V3; 3], r: V3, bound: f64, peak: f64, tex: ValueNoise) -> Lesion {
        let bbox = Aabb::around(c, [bound + REACH; 3]);
        let (region, label, harm) = (String::new(), 0, vec![]);
        Lesion { region, label, bone, c, e, r, harm, peak, bound, bbox, tex, variant: false, ratio: None, thin: None }
    }

    /// Calls `visit` with each point of a lattice of `step` mm about the centre (out to the
    /// lesion's bound) that lies in the lesion and in its bone's marrow, with that marrow's
    /// label.
    pub(in crate::phantom) fn marrow_points(&self, scene: &Scene, step: f64, mut visit: impl FnMut(V3, u16)) {
        let bone = &scene.bones[self.bone];
        let n = (self.bound / step).ceil() as i64;
        for k in -n..=n {
            for j in -n..=n {
                for i in -n..=n {
                    let p = add(self.c, scale([i as f64, j as f64, k as f64], step));
                    let mut bd = None;
                    if self.sdf_in(p, || -*bd.insert(bone.shape.sdf(p))) >= 0.0 {
                        continue;
                    }
                    let d = bd.unwrap_or_else(|| bone.shape.sdf(p));
                    if d >= 0.0 {
                        continue;
                    }
                    if let (label, Tissue::Marrow(_)) = bone.classify(p, d) {
                        visit(p, label);
                    }
                }
            }
        }
    }

    /// A thin lesion of `bone` centred on `c` (frame `e`: two tangents and the normal into
    /// the bone; radii `r`: the patch's half-sizes and half the layer's thickness), within
    /// `bound` of `c`; its region is set once measured.
    pub(super) fn thin(bone: usize, c: V3, e: [V3; 3], r: V3, bound: f64, shape: Thin, rng: &mut SplitMix64) -> Lesion {
        let peak = rng.range(PEAK.0, PEAK.1);
        let tex = ValueNoise::new(rng.next_u64(), 4.0);
        Lesion { thin: Some(shape), ..Lesion::base(bone, c, e, r, bound, peak, tex) }
    }

    /// Signed distance (mm, negative inside) of either kind of lesion; `depth` gives the
    /// depth of `p` under its bone's surface (minus the bone's signed distance), which only a
    /// subchondral lesion asks for.
    #[inline]
    pub fn sdf_in(&self, p: V3, depth: impl FnOnce() -> f64) -> f64 {
        match &self.thin {
            Some(t) => t.sdf(p, depth),
            None => self.sdf(p),
        }
    }

    /// Whether the lesion changes only the voxels of its truth (a ratio to the marrow or a
    /// thin lesion): its signal stops at its outline, and the renderer adds it to a voxel
    /// only when the voxel is in its truth. Otherwise (the standard) its soft edge reaches
    /// [`REACH`] mm out.
    #[inline]
    pub fn gated(&self) -> bool {
        self.ratio.is_some() || self.thin.is_some()
    }

    /// Intensity of a gated lesion at `p` inside it (`d = sdf < 0`) over the marrow
    /// `marrow`: with a ratio r, `marrow (1 + (r - 1) s)` with s = 0.92 at the outline up to
    /// 1.08 in the core times a +-8% texture, so always brighter than the marrow it
    /// replaces; without one, the standard bright intensity.
    #[inline]
    pub fn gated_value(&self, p: V3, d: f64, marrow: f64) -> f64 {
        let core = (-d / (0.5 * self.r[0].min(self.r[1]).min(self.r[2]))).clamp(0.0, 1.0);
        match self.ratio {
            Some(r) => marrow * (1.0 + (r - 1.0) * (0.92 + 0.16 * core) * (1.0 + 0.08 * self.tex.at(p))),
            None => (self.peak * (0.9 + 0.1 * core) * (1.0 + 0.05 * self.tex.at(p))).max(marrow),
        }
    }

    /// Adds lobulation: four more harmonics of 2 to 5 half cycles whose amplitudes sum to at
    /// most `extra` (a fraction of the radius); the bounding sphere grows to hold them.
    fn lobulate(&mut self, extra: f64, rng: &mut SplitMix64) {
        let mut left = extra;
        for freq in [2.0, 3.0, 4.0, 5.0] {
            let amp = left * rng.range(0.4, 0.7);
            left -= amp;
            self.harm.push((rng.direction(), amp, freq, rng.range(0.0, TAU)));
        }
        self.bound += self.r[0].max(self.r[1]).max(self.r[2]) * extra;
        self.bbox = Aabb::around(self.c, [self.bound + REACH; 3]);
    }

    /// The same blob centred on `c`.
    fn moved_to(mut self, c: V3) -> Lesion {
        self.c = c;
        self.bbox = Aabb::around(c, [self.bound + REACH; 3]);
        self
    }

    /// Distance (mm) from the centre to the surface along the unit vector `u`.
    pub fn radius(&self, u: V3) -> f64 {
        let l = [dot(u, self.e[0]) / self.r[0], dot(u, self.e[1]) / self.r[1], dot(u, self.e[2]) / self.r[2]];
        let rho = 1.0 / norm(l);
        let m = 1.0 + self.harm.iter().map(|(v, a, f, ph)| a * (f * PI * dot(u, *v) + ph).sin()).sum::<f64>();
        m * rho
    }

    /// Signed radial distance (mm) to the blob's surface, negative inside: the distance from
    /// the centre minus the modulated ellipsoid radius in that direction.
    pub fn sdf(&self, p: V3) -> f64 {
        let d = sub(p, self.c);
        let len = norm(d);
        if len < 1e-9 {
            return -self.r[0].min(self.r[1]).min(self.r[2]);
        }
        len - self.radius(scale(d, 1.0 / len))
    }

    /// Marrow intensity `marrow` at `p` changed by the oedema, `d` being `self.sdf(p)`: the
    /// logistic edge blends marrow into the lesion, which is a little brighter at its core
    /// and mildly textured.
    pub fn blend(&self, p: V3, d: f64, marrow: f64) -> f64 {
        let w = 1.0 / (1.0 + (d / EDGE).exp());
        let core = (-d / (0.5 * self.r[0].min(self.r[1]).min(self.r[2]))).clamp(0.0, 1.0);
        let value = self.peak * (0.9 + 0.1 * core) * (1.0 + 0.05 * self.tex.at(p));
        marrow + (value - marrow) * w
    }
}

/// Most draws [`random`] and [`variant_foci`] make before they give up.
const MAX_ATTEMPTS: usize = 20_000;

/// Counts one more draw towards `k` `what`; once [`MAX_ATTEMPTS`] have been made, an error
/// asking for fewer.
fn one_more_attempt(attempts: &mut usize, k: usize, what: &str) -> Result<()> {
    *attempts += 1;
    if *attempts > MAX_ATTEMPTS {
        return Err(Error::Parameter(format!("could not place {k} {what} in the phantom; ask for fewer")));
    }
    Ok(())
}

/// Volume (mm^3) of a lesion's marrow and the fraction of it carrying its own label,
/// measured on a 1 mm lattice.
pub fn fit(scene: &Scene, l: &Lesion) -> (f64, f64) {
    let (mut inside, mut own) = (0usize, 0usize);
    l.marrow_points(scene, 1.0, |_, label| {
        inside += 1;
        own += usize::from(label == l.label);
    });
    let frac = if inside == 0 { 0.0 } else { own as f64 / inside as f64 };
    (inside as f64, frac)
}

/// Rotates the frame `e` by a small random angle (up to `max_deg` degrees per axis).
fn jitter_frame(e: [V3; 3], max_deg: f64, rng: &mut SplitMix64) -> [V3; 3] {
    let mut e = e;
    for (a, b) in [(0, 1), (1, 2), (0, 2)] {
        let t = rng.signed() * max_deg.to_radians();
        let (s, c) = t.sin_cos();
        let (ea, eb) = (e[a], e[b]);
        e[a] = add(scale(ea, c), scale(eb, s));
        e[b] = add(scale(eb, c), scale(ea, -s));
    }
    // Re-orthonormalise against rounding.
    let e0 = unit(e[0]);
    let e1 = unit(sub(e[1], scale(e0, dot(e[1], e0))));
    [e0, e1, super::geom::cross(e0, e1)]
}

/// Largest total amplitude of the lobulating harmonics (fraction of the radius), reached at
/// irregularity 1.
const LOBES: f64 = 0.4;

/// The founding case's seven lesions: fixed sites and sizes; the seed changes only their
/// outline details, orientation by a few degrees and intensity. With `irregularity` above 0
/// the outlines are lobulated and the radii scaled down so that no lesion reaches farther.
pub fn founding(scene: &Scene, seed: u64, irregularity: f64) -> Vec<Lesion> {
    const WOBBLE: f64 = 0.12;
    let extra = LOBES * irregularity;
    let mut rng = SplitMix64::new(seed, 2);
    scene
        .founding
        .iter()
        .zip(super::anatomy::FOUNDING_REGIONS)
        .map(|(a, region)| {
            let mut r = a.rmax.map(|x| x * rng.range(0.97, 1.03));
            let e = jitter_frame(a.e, 6.0, &mut rng);
            if extra > 0.0 {
                r = r.map(|x| x * (1.0 + WOBBLE) / (1.0 + WOBBLE + extra));
            }
            let mut l = Lesion::new(region, a.label, a.bone, a.c, e, r, WOBBLE, &mut rng);
            if extra > 0.0 {
                l.lobulate(extra, &mut rng);
            }
            l
        })
        .collect()
}

/// The name of the same region on the other side, if it is sided.
fn mirror_name(name: &str) -> Option<String> {
    if let Some(b) = name.strip_suffix("_left") {
        Some(format!("{b}_right"))
    } else {
        name.strip_suffix("_right").map(|b| format!("{b}_left"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_gives_up_after_its_attempts_with_a_parameter_error() {
        let mut attempts = 0;
        for _ in 0..MAX_ATTEMPTS {
            one_more_attempt(&mut attempts, 7, "separate lesions").unwrap();
        }
        let e = one_more_attempt(&mut attempts, 7, "separate lesions").unwrap_err();
        assert!(matches!(e, Error::Parameter(_)), "{e:?}");
        assert!(e.to_string().contains("could not place 7 separate lesions in the phantom; ask for fewer"), "{e}");
    }
}
