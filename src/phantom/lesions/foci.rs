//! Normal-variant bright marrow foci: blobs of a lesion's kind at the sites where healthy
//! children show them (feet, pelvis, knees), recorded for evaluation and never lesions.

use super::super::anatomy::{Anchor, Scene, Tissue};
use super::super::geom::{add, norm, scale, sub};
use super::super::hard::VariantFocus;
use super::super::rng::SplitMix64;
use super::{jitter_frame, one_more_attempt, Lesion, REACH};
use crate::error::Result;
use std::f64::consts::PI;

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
        one_more_attempt(&mut attempts, k, "normal-variant foci")?;
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
