//! Lesions: bone-marrow oedema blobs with a soft edge, confined to the marrow of one bone,
//! and their placement (the founding case's seven foci, or random CRMO-like sites).

use super::anatomy::{Anchor, Scene, Tissue};
use super::geom::{add, dot, norm, scale, sub, unit, Aabb, V3};
use super::rng::{SplitMix64, ValueNoise};
use crate::error::{Error, Result};

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
        let bbox = Aabb::around(c, [bound + REACH; 3]);
        let tex = ValueNoise::new(rng.next_u64(), 4.0);
        Lesion { region: region.to_string(), label, bone, c, e, r, harm, peak, bound, bbox, tex }
    }

    /// Signed radial distance (mm) to the blob's surface, negative inside: the distance from
    /// the centre minus the modulated ellipsoid radius in that direction.
    pub fn sdf(&self, p: V3) -> f64 {
        let d = sub(p, self.c);
        let len = norm(d);
        if len < 1e-9 {
            return -self.r[0].min(self.r[1]).min(self.r[2]);
        }
        let u = scale(d, 1.0 / len);
        let l = [dot(u, self.e[0]) / self.r[0], dot(u, self.e[1]) / self.r[1], dot(u, self.e[2]) / self.r[2]];
        let rho = 1.0 / norm(l);
        let m = 1.0
            + self.harm.iter().map(|(v, a, f, ph)| a * (f * std::f64::consts::PI * dot(u, *v) + ph).sin()).sum::<f64>();
        len - m * rho
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

/// Volume (mm^3) of a lesion's marrow and the fraction of it carrying its own label,
/// measured on a 1 mm lattice.
pub fn fit(scene: &Scene, l: &Lesion) -> (f64, f64) {
    let bone = &scene.bones[l.bone];
    let (mut inside, mut own) = (0usize, 0usize);
    let n = l.bound.ceil() as i64;
    for k in -n..=n {
        for j in -n..=n {
            for i in -n..=n {
                let p = add(l.c, [i as f64, j as f64, k as f64]);
                if l.sdf(p) >= 0.0 {
                    continue;
                }
                let d = bone.shape.sdf(p);
                if d >= 0.0 {
                    continue;
                }
                let (label, tissue) = bone.classify(p, d);
                if matches!(tissue, Tissue::Marrow(_)) {
                    inside += 1;
                    own += usize::from(label == l.label);
                }
            }
        }
    }
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

/// The founding case's seven lesions: fixed sites and sizes; the seed changes only their
/// outline details, orientation by a few degrees and intensity.
pub fn founding(scene: &Scene, seed: u64) -> Vec<Lesion> {
    let mut rng = SplitMix64::new(seed, 2);
    scene
        .founding
        .iter()
        .zip(super::anatomy::FOUNDING_REGIONS)
        .map(|(a, region)| {
            let r = a.rmax.map(|x| x * rng.range(0.97, 1.03));
            let e = jitter_frame(a.e, 6.0, &mut rng);
            Lesion::new(region, a.label, a.bone, a.c, e, r, 0.12, &mut rng)
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

/// `k` random lesions at CRMO's usual sites (weights of the anchors), 0.3 to 8 cm^3 each but
/// no larger than the region allows, at least 85% of each lesion's marrow in its region,
/// bounding spheres at least [`GAP`] mm apart. About half of the sided lesions are followed
/// by one on the mirror site when possible (CRMO is often bilateral and symmetric).
pub fn random(scene: &Scene, seed: u64, k: usize) -> Result<Vec<Lesion>> {
    let mut rng = SplitMix64::new(seed, 1);
    let weights: Vec<f64> = scene.anchors.iter().map(|a| a.weight).collect();
    let mut out: Vec<Lesion> = Vec::with_capacity(k);
    let mut want_mirror: Option<String> = None;
    let mut attempts = 0usize;
    while out.len() < k {
        attempts += 1;
        if attempts > 20_000 {
            return Err(Error::Parameter(format!(
                "could not place {k} separate lesions in the phantom; ask for fewer"
            )));
        }
        let idx = match want_mirror.take() {
            Some(name) => match scene.anchors.iter().position(|a| scene.labels[a.label as usize - 1] == name) {
                Some(i) => i,
                None => rng.weighted(&weights),
            },
            None => rng.weighted(&weights),
        };
        let a: &Anchor = &scene.anchors[idx];
        let region = scene.labels[a.label as usize - 1].clone();
        let mut c = a.c;
        for (ax, sp) in a.e.iter().zip(a.spread) {
            c = add(c, scale(*ax, sp * rng.signed()));
        }
        // Log-uniform target volume, then radii of random aspect capped by the anchor.
        let vol = (rng.range(300f64.ln(), 8000f64.ln())).exp();
        let base = (3.0 * vol / (4.0 * std::f64::consts::PI)).cbrt();
        let mut r = [0.0; 3];
        for (i, ri) in r.iter_mut().enumerate() {
            *ri = (base * rng.range(0.75, 1.3)).min(a.rmax[i] * rng.range(0.85, 1.0)).max(2.5);
        }
        let e = jitter_frame(a.e, 10.0, &mut rng);
        let mut lesion = Lesion::new(&region, a.label, a.bone, c, e, r, 0.18, &mut rng);
        // Cheap test first: the bounding spheres of two lesions must stay apart.
        if out.iter().any(|o| norm(sub(o.c, lesion.c)) < o.bound + lesion.bound + GAP) {
            continue;
        }
        // Shrink until most of the lesion's marrow lies in its region.
        let mut ok = false;
        for _ in 0..4 {
            let (vol, frac) = fit(scene, &lesion);
            if vol < 300.0 {
                break;
            }
            if frac >= 0.85 {
                ok = true;
                break;
            }
            let r2 = lesion.r.map(|x| (x * 0.85).max(2.5));
            lesion = Lesion::new(&region, a.label, a.bone, c, lesion.e, r2, 0.18, &mut rng);
        }
        if !ok {
            continue;
        }
        if rng.unit() < 0.5 {
            want_mirror = mirror_name(&region);
        }
        out.push(lesion);
    }
    Ok(out)
}
