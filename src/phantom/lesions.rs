//! Lesions: bone-marrow oedema blobs with a soft edge, confined to the marrow of one bone,
//! and their placement (the founding case's seven foci, or random CRMO-like sites); and the
//! normal-variant bright marrow foci, blobs of the same kind that are not lesions.

use super::anatomy::{Anchor, Physis, Scene, Tissue};
use super::geom::{add, dot, frame, norm, scale, sub, unit, Aabb, V3};
use super::hard::VariantFocus;
use super::rng::{SplitMix64, ValueNoise};
use super::thin::{self, Thin};
use crate::error::{Error, Result};
use std::f64::consts::{PI, TAU};

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
        let bbox = Aabb::around(c, [bound + REACH; 3]);
        let tex = ValueNoise::new(rng.next_u64(), 4.0);
        Lesion {
            region: region.to_string(),
            label,
            bone,
            c,
            e,
            r,
            harm,
            peak,
            bound,
            bbox,
            tex,
            variant: false,
            ratio: None,
            thin: None,
        }
    }

    /// A thin lesion of `bone` centred on `c` (frame `e`: two tangents and the normal into
    /// the bone; radii `r`: the patch's half-sizes and half the layer's thickness), within
    /// `bound` of `c`; its region is set once measured.
    pub(super) fn thin(bone: usize, c: V3, e: [V3; 3], r: V3, bound: f64, shape: Thin, rng: &mut SplitMix64) -> Lesion {
        let peak = rng.range(PEAK.0, PEAK.1);
        let tex = ValueNoise::new(rng.next_u64(), 4.0);
        let bbox = Aabb::around(c, [bound + REACH; 3]);
        Lesion {
            region: String::new(),
            label: 0,
            bone,
            c,
            e,
            r,
            harm: vec![],
            peak,
            bound,
            bbox,
            tex,
            variant: false,
            ratio: None,
            thin: Some(shape),
        }
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
                let mut bd = None;
                if l.sdf_in(p, || -*bd.insert(bone.shape.sdf(p))) >= 0.0 {
                    continue;
                }
                let d = bd.unwrap_or_else(|| bone.shape.sdf(p));
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

/// How random lesions are sized, placed and shaped.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// Range of the target volumes (mm^3), drawn log-uniform.
    pub volume_mm3: (f64, f64),
    /// Least marrow volume (mm^3, on a 1 mm lattice) a lesion must cover to be kept.
    pub least_mm3: f64,
    /// Probability that a lesion at a site next to a growth plate is moved against it.
    pub near_physis: f64,
    /// Lobulation of the outline, 0 to 1.
    pub irregularity: f64,
    /// Whether the radii of random aspect keep the target volume (before the site's caps);
    /// otherwise the aspect also changes the volume, by a factor 0.4 to 2.2.
    pub exact_volume: bool,
    /// Share of lesions that are thin subchondral strips.
    pub subchondral: f64,
    /// Share of lesions that are thin periphyseal bands.
    pub periphyseal: f64,
}

impl Default for Placement {
    /// Today's placement: 0.3 to 8 cm^3, no forced contact with the physes, no lobulation.
    fn default() -> Placement {
        Placement {
            volume_mm3: (300.0, 8000.0),
            least_mm3: 300.0,
            near_physis: 0.0,
            irregularity: 0.0,
            exact_volume: false,
            subchondral: 0.0,
            periphyseal: 0.0,
        }
    }
}

/// The growth plate a lesion at anchor `a` (of region `region`) may be placed against: for
/// tubular-bone sites next to a plate (metaphyses, the femoral neck, the fibula), the plate
/// of the anchor's bone nearest to the anchor.
pub(super) fn plate_of<'a>(scene: &'a Scene, region: &str, a: &Anchor) -> Option<&'a Physis> {
    let tubular = region.contains("metaphysis") || region.contains("neck") || region.starts_with("fibula");
    if !tubular {
        return None;
    }
    let dist = |ph: &&Physis| norm(sub(ph.s.p0, a.c));
    scene.bones[a.bone].physes.iter().min_by(|p, q| dist(p).total_cmp(&dist(q)))
}

/// A point of the plate's mid-surface near its centre (within 30% of the plate's radius),
/// drawn from `rng`.
pub(super) fn point_on_plate(ph: &Physis, rng: &mut SplitMix64) -> V3 {
    let n = ph.s.n;
    let [_, v1, v2] = frame(n, if n[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] });
    let reach = 0.3 * ph.ball.1;
    let lateral = add(scale(v1, reach * rng.signed()), scale(v2, reach * rng.signed()));
    // On the surface (p - p0).n = curv r^2, r the distance from the normal line.
    add(add(ph.s.p0, lateral), scale(n, ph.s.offset_at(dot(lateral, lateral))))
}

/// `k` random lesions at CRMO's usual sites (weights of the anchors), of target volumes drawn
/// from `pl.volume_mm3` but no larger than the region allows, at least 85% of each lesion's
/// marrow in its region, bounding spheres at least [`GAP`] mm apart. About half of the sided
/// lesions are followed by one on the mirror site when possible (CRMO is often bilateral and
/// symmetric). With probability `pl.near_physis`, a lesion at a site next to a growth plate
/// is centred so that its outline just reaches into the plate from the metaphyseal side.
pub fn random(scene: &Scene, seed: u64, k: usize, pl: &Placement) -> Result<Vec<Lesion>> {
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
        let apart = |l: &Lesion| out.iter().all(|o| norm(sub(o.c, l.c)) >= o.bound + l.bound + GAP);
        if let Some(thin) = thin_draw(scene, pl, &mut rng) {
            if let Some(l) = thin.filter(|l| apart(l)) {
                out.push(l);
            }
            continue;
        }
        let idx = match want_mirror.take().and_then(|name| anchor_named(scene, &name)) {
            Some(i) => i,
            None => rng.weighted(&weights),
        };
        let draft = Draft::new(scene, &scene.anchors[idx], pl, &mut rng);
        let Some(lesion) = draft.place(scene, pl, &mut rng, &apart) else { continue };
        if rng.unit() < 0.5 {
            want_mirror = mirror_name(&draft.region);
        }
        out.push(lesion);
    }
    Ok(out)
}

/// A thin lesion instead of a blob, with the shares `pl` asks for: `None` when the draw
/// says a blob (no draw without such shares, so the standard placement is unchanged), else
/// the thin lesion if one could be placed.
fn thin_draw(scene: &Scene, pl: &Placement, rng: &mut SplitMix64) -> Option<Option<Lesion>> {
    let share = pl.subchondral + pl.periphyseal;
    if share > 0.0 {
        let u = rng.unit();
        if u < share {
            return Some(if u < pl.subchondral {
                thin::subchondral(scene, rng)
            } else {
                thin::periphyseal(scene, rng)
            });
        }
    }
    None
}

/// The anchor of the region named `name` (the mirror site of the last lesion).
fn anchor_named(scene: &Scene, name: &str) -> Option<usize> {
    scene.anchors.iter().position(|a| scene.labels[a.label as usize - 1] == name)
}

/// A blob lesion drawn at an anchor, before its fit to the region.
struct Draft<'a> {
    anchor: &'a Anchor,
    region: String,
    centre: V3,
    radii: V3,
    frame: [V3; 3],
    /// The growth plate it is placed against, with the point drawn on the plate.
    plate: Option<(&'a Physis, V3)>,
}

impl<'a> Draft<'a> {
    /// Draws the centre (jittered over the anchor's spread), a log-uniform target volume,
    /// radii of random aspect capped by the anchor, the frame, and whether it lies against
    /// the anchor's growth plate.
    fn new(scene: &'a Scene, a: &'a Anchor, pl: &Placement, rng: &mut SplitMix64) -> Draft<'a> {
        let region = scene.labels[a.label as usize - 1].clone();
        let mut centre = a.c;
        for (ax, sp) in a.e.iter().zip(a.spread) {
            centre = add(centre, scale(*ax, sp * rng.signed()));
        }
        let vol = (rng.range(pl.volume_mm3.0.ln(), pl.volume_mm3.1.ln())).exp();
        let mut base = (3.0 * vol / (4.0 * PI)).cbrt();
        let (mut aspect, mut cap) = ([0.0; 3], [0.0; 3]);
        for i in 0..3 {
            aspect[i] = rng.range(0.75, 1.3);
            cap[i] = a.rmax[i] * rng.range(0.85, 1.0);
        }
        if pl.exact_volume {
            base /= (aspect[0] * aspect[1] * aspect[2]).cbrt();
        }
        let radii: V3 = std::array::from_fn(|i| (base * aspect[i]).min(cap[i]).max(2.5));
        let frame = jitter_frame(a.e, 10.0, rng);
        let plate = match plate_of(scene, &region, a) {
            Some(ph) if pl.near_physis > 0.0 && rng.unit() < pl.near_physis => Some((ph, point_on_plate(ph, rng))),
            _ => None,
        };
        Draft { anchor: a, region, centre, radii, frame, plate }
    }

    /// The lesion of radii `r`: lobulated when asked, and against the plate when drawn so
    /// (its surface 0.5 mm into the plate, straight across from the point drawn on it).
    fn lesion(&self, r: V3, pl: &Placement, rng: &mut SplitMix64) -> Lesion {
        let a = self.anchor;
        let mut l = Lesion::new(&self.region, a.label, a.bone, self.centre, self.frame, r, 0.18, rng);
        if pl.irregularity > 0.0 {
            l.lobulate(LOBES * pl.irregularity, rng);
        }
        match self.plate {
            Some((ph, q)) => {
                let depth = l.radius(scale(ph.s.n, -1.0));
                l.moved_to(add(q, scale(ph.s.n, ph.half + depth - 0.5)))
            }
            None => l,
        }
    }

    /// The lesion, shrunk until at least 85% of its marrow lies in its region, if it stays
    /// `apart` from the others (before and after: one moved against a plate moves again when
    /// it shrinks) and no smaller than `pl.least_mm3`.
    fn place(
        &self,
        scene: &Scene,
        pl: &Placement,
        rng: &mut SplitMix64,
        apart: &dyn Fn(&Lesion) -> bool,
    ) -> Option<Lesion> {
        let mut lesion = self.lesion(self.radii, pl, rng);
        // Cheap test first: the bounding spheres of two lesions must stay apart.
        if !apart(&lesion) {
            return None;
        }
        for _ in 0..4 {
            let (vol, frac) = fit(scene, &lesion);
            if vol < pl.least_mm3 {
                return None;
            }
            if frac >= 0.85 {
                return apart(&lesion).then_some(lesion);
            }
            lesion = self.lesion(lesion.r.map(|x| (x * 0.85).max(2.5)), pl, rng);
        }
        None
    }
}

/// Regions holding normal-variant foci, with weights that make the three groups (feet,
/// pelvis, knees) equally likely.
const VARIANT_SITES: [(&str, f64); 8] = [
    ("calcaneus", 1.0),
    ("ilium", 1.0 / 3.0),
    ("ischium", 1.0 / 3.0),
    ("pubis", 1.0 / 3.0),
    ("femur_distal_metaphysis", 0.25),
    ("femur_distal_epiphysis", 0.25),
    ("tibia_proximal_epiphysis", 0.25),
    ("tibia_proximal_metaphysis", 0.25),
];

/// Smallest and largest volume (mm^3) of a normal-variant focus.
pub const FOCUS_MM3: (f64, f64) = (20.0, 90.0);

/// Smallest and largest peak intensity of a normal-variant focus: like a lesion or a little
/// dimmer.
const FOCUS_PEAK: (f64, f64) = (420.0, 560.0);

/// A normal-variant focus: the blob to render and its record.
pub struct Focus {
    /// The blob, marked [`Lesion::variant`].
    pub blob: Lesion,
    /// What evaluation is told about it.
    pub record: VariantFocus,
}

/// The record of a focus whose blob lies (at least 95% of it, on a 0.5 mm lattice) in the
/// marrow of its own region, or `None` if it does not or its marrow volume is outside
/// [`FOCUS_MM3`].
fn measure_focus(scene: &Scene, f: &Lesion) -> Option<VariantFocus> {
    const STEP: f64 = 0.5;
    let bone = &scene.bones[f.bone];
    let n = (f.bound / STEP).ceil() as i64;
    let (mut total, mut inside, mut sum) = (0usize, 0usize, [0.0; 3]);
    for k in -n..=n {
        for j in -n..=n {
            for i in -n..=n {
                let p = add(f.c, scale([i as f64, j as f64, k as f64], STEP));
                if f.sdf(p) >= 0.0 {
                    continue;
                }
                total += 1;
                let d = bone.shape.sdf(p);
                if d < 0.0 && matches!(bone.classify(p, d), (l, Tissue::Marrow(_)) if l == f.label) {
                    inside += 1;
                    sum = add(sum, p);
                }
            }
        }
    }
    let volume_mm3 = inside as f64 * STEP.powi(3);
    let whole = 20 * inside >= 19 * total;
    (whole && (FOCUS_MM3.0..=FOCUS_MM3.1).contains(&volume_mm3)).then(|| VariantFocus {
        region: f.region.clone(),
        centroid_mm: scale(sum, 1.0 / inside as f64),
        volume_mm3,
    })
}

/// `k` normal-variant bright marrow foci in the calcanei, the pelvis and the knees, drawn from
/// `seed`: small blobs wholly in one region's marrow, their bounding spheres at least
/// 2 [`REACH`] (8 mm) clear of every lesion's and of each other.
pub fn variant_foci(scene: &Scene, seed: u64, k: usize, lesions: &[Lesion]) -> Result<Vec<Focus>> {
    let mut out: Vec<Focus> = Vec::with_capacity(k);
    if k == 0 {
        return Ok(out);
    }
    let mut rng = SplitMix64::new(seed, 6);
    let sites: Vec<(&Anchor, f64)> = scene
        .anchors
        .iter()
        .filter_map(|a| {
            let name = scene.labels[a.label as usize - 1].as_str();
            let base = name.strip_suffix("_left").or_else(|| name.strip_suffix("_right")).unwrap_or(name);
            VARIANT_SITES.iter().find(|(s, _)| *s == base).map(|(_, w)| (a, *w))
        })
        .collect();
    let weights: Vec<f64> = sites.iter().map(|s| s.1).collect();
    let mut attempts = 0usize;
    while out.len() < k {
        attempts += 1;
        if attempts > 20_000 {
            return Err(Error::Parameter(format!(
                "could not place {k} normal-variant foci in the phantom; ask for fewer"
            )));
        }
        let a = sites[rng.weighted(&weights)].0;
        let mut c = a.c;
        for (ax, rm) in a.e.iter().zip(a.rmax) {
            c = add(c, scale(*ax, 0.8 * rm * rng.signed()));
        }
        let vol = rng.range(FOCUS_MM3.0 + 5.0, FOCUS_MM3.1 - 5.0);
        let base = (3.0 * vol / (4.0 * PI)).cbrt();
        let r = [base * rng.range(0.85, 1.15), base * rng.range(0.85, 1.15), base * rng.range(0.85, 1.15)];
        let e = jitter_frame(a.e, 30.0, &mut rng);
        let region = &scene.labels[a.label as usize - 1];
        let mut blob = Lesion::new(region, a.label, a.bone, c, e, r, 0.1, &mut rng);
        blob.peak = rng.range(FOCUS_PEAK.0, FOCUS_PEAK.1);
        blob.variant = true;
        let others = lesions.iter().chain(out.iter().map(|f| &f.blob));
        if others.into_iter().any(|o| norm(sub(o.c, blob.c)) < o.bound + blob.bound + 2.0 * REACH) {
            continue;
        }
        if let Some(record) = measure_focus(scene, &blob) {
            out.push(Focus { blob, record });
        }
    }
    Ok(out)
}
