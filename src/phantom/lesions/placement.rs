//! Random CRMO-like lesions: sized, placed at the vocabulary's sites (moved against a growth
//! plate where one is near) and shaped, as [`Placement`] asks.

use super::super::anatomy::{Anchor, Physis, Scene};
use super::super::geom::{add, dot, frame, norm, scale, sub, V3};
use super::super::rng::SplitMix64;
use super::super::thin::{self};
use super::{fit, jitter_frame, mirror_name, one_more_attempt, Lesion, GAP, LOBES};
use crate::error::Result;
use std::f64::consts::PI;

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
pub(in crate::phantom) fn plate_of<'a>(scene: &'a Scene, region: &str, a: &Anchor) -> Option<&'a Physis> {
    let tubular = region.contains("metaphysis") || region.contains("neck") || region.starts_with("fibula");
    if !tubular {
        return None;
    }
    let dist = |ph: &&Physis| norm(sub(ph.s.p0, a.c));
    scene.bones[a.bone].physes.iter().min_by(|p, q| dist(p).total_cmp(&dist(q)))
}

/// A point of the plate's mid-surface near its centre (within 30% of the plate's radius),
/// drawn from `rng`.
pub(in crate::phantom) fn point_on_plate(ph: &Physis, rng: &mut SplitMix64) -> V3 {
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
        one_more_attempt(&mut attempts, k, "separate lesions")?;
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
