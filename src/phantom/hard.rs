//! Harder phantoms: the settings of [`Hardness`], a seeded draw of a hard configuration
//! ([`Hardness::suite`]), and the shift of the atlas labels off the true anatomy.
//!
//! What each setting does to the image is described on its field. The default of every field
//! means "as without hardness", so `Hardness::default()` leaves the output bit-identical.

use super::lesions::Placement;
use super::rng::SplitMix64;
use crate::error::{Error, Result};
use crate::volume::Grid;
use serde::{Deserialize, Serialize};

/// Largest number of normal-variant foci.
pub const MAX_VARIANT_FOCI: usize = 20;

/// The noise sigmas [`Hardness::suite`] draws from.
pub const SUITE_NOISE_SIGMAS: [f64; 4] = [8.0, 12.0, 18.0, 25.0];

/// Largest noise sigma a phantom takes (the marrow is 60-150 on the phantom's scale).
pub const MAX_NOISE_SIGMA: f64 = 200.0;

/// Range of the lesions' ratios to marrow in [`Hardness::suite`].
pub const SUITE_RATIO: (f64, f64) = (1.2, 6.0);

/// Largest atlas shift (mm) along any axis.
const MAX_SHIFT_MM: f64 = 50.0;

/// Settings that make a phantom harder to read. Every random choice they imply comes from
/// the phantom's seed, so the output stays deterministic.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Hardness {
    /// Number of acquisition stations along z: 0 for none (one seamless volume), else 3 to 6.
    /// The field of view is cut into this many bands of about equal length along z (seams
    /// moved by up to 10% of a band from the seed); each station multiplies the signal by its
    /// own gain, drawn from the seed in [0.75, 1.3) with neighbours at least 0.1 apart, and
    /// the gain ramps linearly between neighbours over 16 mm around each seam, as on stitched
    /// whole-body MRI.
    pub stations: usize,
    /// Amplitude of the smooth multiplicative bias field: the gain stays within 1 +- `bias`.
    /// 0 keeps the standard amplitude (0.13); otherwise 0 < `bias` <= 0.9 (0.3 is strong).
    pub bias: f64,
    /// Standard deviation of each Gaussian channel of the Rician noise (at most
    /// [`MAX_NOISE_SIGMA`]); `None` keeps the standard 12.
    pub noise_sigma: Option<f64>,
    /// World vector (mm, RAS+) by which the **atlas labels** are translated, as after a
    /// registration or segmentation error; rounded to whole voxels along each axis (the
    /// applied shift is in [`super::Phantom::atlas_shift_mm`]), at most 50 mm per axis.
    /// The scan and the truth stay on the true anatomy: truth voxels lie in the true bone and
    /// may fall outside the shifted atlas or under another label, and every lesion keeps the
    /// region it was placed in.
    pub atlas_shift_mm: [f64; 3],
    /// Number of small normal-variant bright marrow foci (0 to [`MAX_VARIANT_FOCI`]):
    /// 20-90 mm^3 blobs of peak intensity 420-560 in the marrow of the calcanei, the pelvis
    /// (ilium, ischium, pubis) and the knees (distal femoral and proximal tibial metaphyses
    /// and epiphyses), as healthy children have. They are not lesions: absent from the truth
    /// and from `lesions`, recorded in [`super::Phantom::variant_foci`], and their bounding
    /// spheres at least 8 mm clear of every lesion's.
    pub variant_foci: usize,
    /// Range (cm^3, 0.05 <= low <= high <= 60) of the target volumes of random lesions,
    /// drawn log-uniform, the radii of random aspect keeping the volume; `None` keeps the
    /// standard 0.3 to 8 (and an aspect that changes the volume). A lesion never grows past what
    /// its site holds (the largest sites, the distal femoral and proximal tibial metaphyses,
    /// hold about 10-14 cm^3), so large targets are clamped.
    pub lesion_volume_cm3: Option<(f64, f64)>,
    /// Probability (0 to 1) that a random lesion at a tubular-bone site next to a growth
    /// plate (femoral neck, distal femoral, proximal and distal tibial and proximal humeral
    /// metaphyses, fibular ends) is moved against that plate, on its metaphyseal side, so
    /// that it touches the physis. 0 keeps the standard placement; CRMO's share is 0.87.
    pub near_physis: f64,
    /// Lobulation of the lesion outlines, 0 (the standard, gently irregular ellipsoids) to 1
    /// (strongly lobulated: four more harmonics of 2 to 5 half cycles with amplitudes up to
    /// 40% of the radius in all). Applies to random and founding lesions; founding lesions are
    /// scaled down so that they reach no farther than without it.
    pub irregularity: f64,
    /// Range `(low, high)` (1.05 <= low <= high <= 10) of the lesions' signal as a ratio to
    /// the local normal marrow (the marrow, texture included, at the same point), drawn per
    /// lesion (founding and random) from the seed, skewed toward low ratios, the common real
    /// case: `low (high / low)^(u^2)`, u uniform in [0, 1), so that for 1.2 to 6 the median
    /// is 1.79, two thirds lie below 2.4 and a quarter above 3.3. Inside its outline a
    /// lesion's intensity is `marrow (1 + (ratio - 1) s)`, s from 0.92 at the outline to 1.08
    /// in the core times a +-8% texture, so every voxel of its truth is brighter than the
    /// marrow it replaced; nothing outside the truth changes (no soft edge reaching out), and
    /// a voxel gets the lesion's signal exactly when it is in the truth (at least half of its
    /// sub-samples inside the lesion's marrow). The ratio is recorded in
    /// [`super::TruthLesion::ratio_to_marrow`]. `None` keeps the standard fixed bright
    /// intensity (peak 580-680) with its 4 mm soft edge.
    pub lesion_ratio: Option<(f64, f64)>,
    /// Heterogeneous red and yellow marrow: 0 keeps the standard +-8% texture; otherwise (at
    /// most 0.6) the noise-free marrow is multiplied by a smooth log-normal texture (patches
    /// of 6-16 mm) whose median absolute deviation is about this fraction of its median, over
    /// the standard pattern (red marrow brighter in metaphyses, vertebrae and pelvis, yellow
    /// darker in diaphyses and epiphyses). With the noise, the marrow's MAD in long bones is
    /// then about 20-40% of its median for 0.2-0.3.
    pub marrow_texture: f64,
    /// Growth-plate intensity as a multiple of red marrow (150): 0 keeps the standard 300
    /// (2.0); otherwise 1 to 5 (real physes are about 1.5-3 times the marrow).
    pub physis_ratio: f64,
    /// Curved physes: the femoral head physis becomes a spherical cap (radius 17 mm) bulging
    /// toward the head, about 5 mm deeper at its rim than at its apex, and the proximal
    /// humeral physis a tent (a cone of slope 0.55, its rim about 8 mm distal to its apex),
    /// instead of the standard nearly flat plates; the epiphysis/metaphysis boundaries follow.
    pub curved_physes: bool,
    /// Share (0 to 1) of random lesions that are thin subchondral strips instead of blobs:
    /// 2-4 mm of marrow just under the cortex of an articular surface (acetabular roof,
    /// femoral head, iliac and sacral sides of the sacroiliac joint at S1-S2, thoracic and
    /// lumbar endplates), a wobbling elliptical patch of 60-100% of the site's reach.
    pub subchondral: f64,
    /// Share (0 to 1; with `subchondral` at most 1) of random lesions that are thin
    /// periphyseal bands: 2-4 mm of marrow along the metaphyseal face of a growth plate
    /// (femoral head, distal femoral, proximal and distal tibial, proximal humeral and
    /// fibular plates, drawn by CRMO's site weights), a patch of 12-28 by 8-20 mm.
    pub periphyseal: f64,
}

impl Hardness {
    /// A hard configuration drawn from `seed`: 3 to 6 stations, bias amplitude 0.15 to 0.3,
    /// noise sigma 8, 12, 18 or 25, an atlas shift of 0 to 4 mm in a uniformly random
    /// direction, 0 to 6 variant foci, lesion volumes 0.1 to 30 cm^3, 87% of tubular-bone
    /// lesions against a growth plate (CRMO's share) and irregularity 0.3 to 1 (these drawn
    /// as before the broadened settings, so they are unchanged for a seed); then lesion
    /// ratios to marrow 1.2 to 6 (skewed low), marrow texture 0.2 to 0.3, physes 1.5 to 3
    /// times red marrow, curved physes, and 15% subchondral and 20% periphyseal random
    /// lesions. Deterministic: the same seed gives the same configuration.
    pub fn suite(seed: u64) -> Hardness {
        let mut rng = SplitMix64::new(seed, 8);
        let stations = 3 + (rng.next_u64() % 4) as usize;
        let bias = rng.range(0.15, 0.3);
        let noise_sigma = Some(SUITE_NOISE_SIGMAS[(rng.next_u64() % 4) as usize]);
        let length = rng.range(0.0, 4.0);
        let atlas_shift_mm = rng.direction().map(|d| d * length);
        let variant_foci = (rng.next_u64() % 7) as usize;
        let irregularity = rng.range(0.3, 1.0);
        // The fine texture of normal marrow: the readers' normal-marrow regions of the real
        // sacroiliac STIR (../shared/realdata/sij-stir) have a MAD of 7-12% of their median
        // with the noise; a bone's MAD (with its cortex, red and yellow marrow and noise) is
        // then 17-34%, as the real regions' 17-33%.
        let marrow_texture = rng.range(0.08, 0.14);
        let physis_ratio = rng.range(1.5, 3.0);
        Hardness {
            stations,
            bias,
            noise_sigma,
            atlas_shift_mm,
            variant_foci,
            lesion_volume_cm3: Some((0.1, 30.0)),
            near_physis: 0.87,
            irregularity,
            lesion_ratio: Some(SUITE_RATIO),
            marrow_texture,
            physis_ratio,
            curved_physes: true,
            subchondral: 0.15,
            periphyseal: 0.2,
        }
    }

    /// This configuration with its noise sigma (the standard 12 when unset) times `factor`:
    /// the same anatomy, lesions and acquisition at another signal-to-noise ratio.
    pub fn with_noise_scaled(&self, factor: f64) -> Hardness {
        Hardness { noise_sigma: Some(self.noise_sigma.unwrap_or(super::render::NOISE_SIGMA) * factor), ..self.clone() }
    }

    /// Checks every setting against its documented range.
    pub(super) fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Parameter(m));
        if self.stations != 0 && !(3..=6).contains(&self.stations) {
            return bad(format!("phantom stations must be 0 or 3 to 6; got {}", self.stations));
        }
        if !(0.0..=0.9).contains(&self.bias) {
            return bad(format!("phantom bias amplitude must be 0 to 0.9; got {}", self.bias));
        }
        if let Some(s) = self.noise_sigma {
            if !(0.0..=MAX_NOISE_SIGMA).contains(&s) {
                return bad(format!("phantom noise sigma must be 0 to {MAX_NOISE_SIGMA}; got {s}"));
            }
        }
        if self.atlas_shift_mm.iter().any(|v| !(-MAX_SHIFT_MM..=MAX_SHIFT_MM).contains(v)) {
            return bad(format!(
                "phantom atlas shift must be finite and at most {MAX_SHIFT_MM} mm per axis; got {:?}",
                self.atlas_shift_mm
            ));
        }
        if self.variant_foci > MAX_VARIANT_FOCI {
            return bad(format!("phantom variant foci must be 0 to {MAX_VARIANT_FOCI}; got {}", self.variant_foci));
        }
        if let Some((lo, hi)) = self.lesion_volume_cm3 {
            if !(lo >= 0.05 && lo <= hi && hi <= 60.0) {
                return bad(format!(
                    "phantom lesion volumes must satisfy 0.05 <= low <= high <= 60 cm3; got {lo} to {hi}"
                ));
            }
        }
        for (name, v) in [
            ("near_physis", self.near_physis),
            ("irregularity", self.irregularity),
            ("subchondral", self.subchondral),
            ("periphyseal", self.periphyseal),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("phantom {name} must be 0 to 1; got {v}"));
            }
        }
        if self.subchondral + self.periphyseal > 1.0 {
            return bad(format!(
                "phantom subchondral and periphyseal shares must sum to at most 1; got {} + {}",
                self.subchondral, self.periphyseal
            ));
        }
        if let Some((lo, hi)) = self.lesion_ratio {
            if !(lo >= 1.05 && lo <= hi && hi <= 10.0) {
                return bad(format!("phantom lesion ratios must satisfy 1.05 <= low <= high <= 10; got {lo} to {hi}"));
            }
        }
        if !(0.0..=0.6).contains(&self.marrow_texture) {
            return bad(format!("phantom marrow texture must be 0 to 0.6; got {}", self.marrow_texture));
        }
        if !(self.physis_ratio == 0.0 || (1.0..=5.0).contains(&self.physis_ratio)) {
            return bad(format!("phantom physis ratio must be 0 or 1 to 5; got {}", self.physis_ratio));
        }
        Ok(())
    }

    /// How random lesions are sized, placed and shaped.
    pub(super) fn placement(&self) -> Placement {
        let mut p = Placement {
            near_physis: self.near_physis,
            irregularity: self.irregularity,
            subchondral: self.subchondral,
            periphyseal: self.periphyseal,
            ..Placement::default()
        };
        if let Some((lo, hi)) = self.lesion_volume_cm3 {
            p.volume_mm3 = (lo * 1000.0, hi * 1000.0);
            // Accept a lesion whose marrow holds a little less than the smallest target, or
            // whatever its site holds.
            p.least_mm3 = (0.6 * lo * 1000.0).min(p.least_mm3);
            p.exact_volume = true;
        }
        p
    }

    /// Whether lesions carry a shape in the truth: any of the lesion settings that change what
    /// a lesion looks like beyond its size and outline.
    pub(super) fn shaped(&self) -> bool {
        self.lesion_ratio.is_some() || self.subchondral > 0.0 || self.periphyseal > 0.0
    }

    /// A ratio drawn from `lesion_ratio`'s range, skewed toward its low end (see there).
    pub(super) fn draw_ratio(lo: f64, hi: f64, rng: &mut SplitMix64) -> f64 {
        let u = rng.unit();
        lo * (hi / lo).powf(u * u)
    }

    /// The atlas shift in whole voxels of `grid` (nearest).
    pub(super) fn shift_voxels(&self, grid: &Grid) -> [i64; 3] {
        let sp = grid.spacing();
        std::array::from_fn(|a| (self.atlas_shift_mm[a] / sp[a]).round() as i64)
    }
}

/// The labels `atlas` (on `grid`) translated by `shift` voxels: the label of voxel `v` becomes
/// that of `v - shift`; voxels whose source lies outside the grid get 0.
pub(super) fn shift_labels(atlas: &[u16], grid: &Grid, shift: [i64; 3]) -> Vec<u16> {
    let dims = grid.dims.map(|d| d as i64);
    let mut out = vec![0u16; atlas.len()];
    for k in 0..dims[2] {
        let sk = k - shift[2];
        if !(0..dims[2]).contains(&sk) {
            continue;
        }
        for j in 0..dims[1] {
            let sj = j - shift[1];
            if !(0..dims[1]).contains(&sj) {
                continue;
            }
            for i in 0..dims[0] {
                let si = i - shift[0];
                if (0..dims[0]).contains(&si) {
                    out[grid.index(i as usize, j as usize, k as usize)] =
                        atlas[grid.index(si as usize, sj as usize, sk as usize)];
                }
            }
        }
    }
    out
}

/// A normal-variant bright marrow focus: bright like a small lesion, but normal.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VariantFocus {
    /// Atlas region (of the true anatomy) holding it.
    pub region: String,
    /// World position (RAS+ mm) of its centroid: the mean of the 0.5 mm lattice points
    /// inside it.
    pub centroid_mm: [f64; 3],
    /// Its volume (mm^3), measured on a 0.5 mm lattice (independent of the voxel size).
    pub volume_mm3: f64,
}
