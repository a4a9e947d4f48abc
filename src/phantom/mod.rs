//! Synthetic whole-body coronal STIR-like phantoms of a 10-year-old child with CRMO, with a
//! labelled skeleton atlas and lesions with ground truth.
//!
//! [`generate`] returns four things on one grid:
//! - `scan`: the STIR-like volume. Noise-free levels (arbitrary units): air 0, fat-suppressed
//!   subcutaneous fat 40, muscle and soft tissue 110, cortical bone 15 (a 1.2-1.8 mm shell),
//!   yellow marrow 60-65 (diaphyses, epiphyses, calcaneus), red marrow 150 (metaphyses,
//!   vertebral bodies, pelvis, sternum, femoral neck, proximal humerus; graded into the
//!   shafts), growth plates 300 (2 mm), intervertebral discs 380 (annulus) and 440
//!   (nucleus), CSF 650, bladder 700, lymph nodes 360, lungs 12, spleen 240, kidneys 210;
//!   lesions (bone-marrow oedema) peak at 580-680, about 520-680 inside. Marrow carries a
//!   +-8% low-frequency texture, soft tissue +-4%. Then a smooth multiplicative bias field
//!   (within +-13%) and Rician noise (sigma 12 per channel) are applied; partial volume
//!   comes from supersampling every voxel near a surface.
//! - `atlas` and `labels`: the skeleton regions of `shared/domain.md`'s vocabulary. A
//!   voxel is labelled when labelled bone (cortex included) fills at least half of it, with
//!   the most frequent region. Growth-plate voxels belong to the **metaphysis**; the humeral
//!   head is labelled `humerus_proximal_metaphysis`, the distal tibial epiphysis
//!   `tibia_distal_metaphysis` and the distal humerus `humerus_shaft` (the vocabulary has no
//!   label of their own), and the trochanters belong to `femur_shaft`.
//! - `truth` and `lesions`: lesion ids 1..N where a lesion covers at least half of a voxel
//!   that is in the atlas.
//!
//! Everything random comes from `opts.seed` through a small SplitMix64 stream (lesion sites,
//! shapes, bias field) and stateless hashes of (seed, voxel index) (noise), so the output is
//! bit-identical for the same options whatever the number of threads.
//!
//! [`PhantomOptions::hard`] ([`Hardness`]) makes harder phantoms: station gain steps, a
//! stronger bias field, other noise levels, an atlas shifted off the true bone, normal-variant
//! bright marrow foci, a wider range of lesion sizes, lesions against the growth plates and
//! lobulated lesion shapes; and, closer to real scans, lesion signal as a ratio to the local
//! marrow (1.2-6 in the hard suite), heterogeneous red and yellow marrow (MAD 20-40% of the
//! median), brighter curved physes (a spherical cap at the femoral head, a tent at the
//! proximal humerus) and thin subchondral and periphyseal lesions. Its default changes
//! nothing: the output stays bit-identical to a phantom generated without it.

mod anatomy;
mod geom;
mod hard;
mod lesions;
mod render;
mod rng;
mod thin;
pub mod totalseg;
mod write;

pub use hard::{Hardness, VariantFocus, MAX_NOISE_SIGMA, MAX_VARIANT_FOCI, SUITE_NOISE_SIGMAS};
pub use render::NOISE_SIGMA;
pub use write::{write_phantom, AtlasStyle, PhantomStorage, SCALE_RANGE};

use crate::error::{Error, Result};
use crate::labels::LabelTable;
use crate::volume::{Affine, Grid, Volume};
use serde::{Deserialize, Serialize};

/// Which lesions the phantom carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// The founding case's seven foci: right acetabular roof, left posterior acetabular
    /// column, left femoral neck, S2, S3, S4 and T7 (`opts.lesions` is ignored).
    Seed,
    /// `opts.lesions` lesions drawn from CRMO's site distribution.
    Random,
    /// A healthy control: no lesion at all (`opts.lesions` is ignored); the truth volume is
    /// all zero and `lesions` is empty. Normal-variant foci ([`Hardness::variant_foci`]) may
    /// still be present.
    Healthy,
}

/// Options of [`generate`].
#[derive(Clone, Debug, PartialEq)]
pub struct PhantomOptions {
    /// Founding case or random lesions.
    pub case: Case,
    /// Seed of noise, bias field, lesion shapes (and, for [`Case::Random`], lesion sites).
    pub seed: u64,
    /// Number of lesions for [`Case::Random`] (1 to 40).
    pub lesions: usize,
    /// Voxel size in mm along x (in-plane, left-right), y (slice thickness,
    /// anterior-posterior) and z (in-plane, head-foot).
    pub spacing: [f64; 3],
    /// Harder acquisition, atlas and lesion settings; the default changes nothing.
    pub hard: Hardness,
}

impl Default for PhantomOptions {
    /// The founding case, seed 7, 6 lesions (unused by the founding case), 1.5 x 4 x 1.5 mm,
    /// no added hardness.
    fn default() -> PhantomOptions {
        PhantomOptions { case: Case::Seed, seed: 7, lesions: 6, spacing: [1.5, 4.0, 1.5], hard: Hardness::default() }
    }
}

/// Ground truth of one lesion.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TruthLesion {
    /// Value of the lesion's voxels in the truth volume (1..N, in placement order).
    pub id: u32,
    /// Atlas region the lesion was placed in; most of its voxels carry that label.
    pub region: String,
    /// Number of truth voxels.
    pub voxels: usize,
    /// `voxels` times the voxel volume.
    pub volume_mm3: f64,
    /// World position (RAS+ mm) of the unweighted mean of the truth voxels' indices.
    pub centroid_mm: [f64; 3],
    /// The lesion's signal as a ratio to the local normal marrow
    /// ([`Hardness::lesion_ratio`]); absent for the standard fixed intensity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_to_marrow: Option<f64>,
    /// `blob`, `subchondral` or `periphyseal` ([`Hardness::subchondral`],
    /// [`Hardness::periphyseal`]); absent unless a lesion setting of [`Hardness`] that changes
    /// what lesions look like is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
}

/// A generated phantom.
pub struct Phantom {
    /// The STIR-like scan.
    pub scan: Volume<f32>,
    /// Skeleton atlas, labels as in `labels`, 0 = background.
    pub atlas: Volume<u16>,
    /// Region names of the atlas labels.
    pub labels: LabelTable,
    /// Lesion ids (see `lesions`), 0 elsewhere.
    pub truth: Volume<u16>,
    /// One entry per lesion, in id order.
    pub lesions: Vec<TruthLesion>,
    /// Normal-variant bright marrow foci ([`Hardness::variant_foci`]): bright on the scan but
    /// not lesions, so absent from `truth` and `lesions`. Empty by default.
    pub variant_foci: Vec<VariantFocus>,
    /// World shift (mm) actually applied to the atlas labels: [`Hardness::atlas_shift_mm`]
    /// rounded to whole voxels; zero by default. `truth` stays on the true anatomy.
    pub atlas_shift_mm: [f64; 3],
}

/// Field of view in world mm: x symmetric about the midline, y from the table to past the
/// toes, z from below the soles to above the vertex.
const FOV_LO: [f64; 3] = [-180.0, -108.0, -10.0];
const FOV_HI: [f64; 3] = [180.0, 114.0, 1410.0];

/// Largest number of random lesions.
pub const MAX_LESIONS: usize = 40;

/// Largest grid (voxels) [`generate`] accepts: 8 bytes per voxel over the three volumes.
const MAX_VOXELS: usize = 1 << 28;

/// Checks a phantom's options (as [`generate`] does first).
///
/// # Errors
/// [`Error::Parameter`] naming the bad value: a spacing outside (0, 10] mm or giving too many
/// voxels, a lesion count outside 1 to [`MAX_LESIONS`] for a random case, bad hard-suite settings.
pub fn validate(opts: &PhantomOptions) -> Result<()> {
    for (a, s) in opts.spacing.iter().enumerate() {
        if !s.is_finite() || *s <= 0.0 || *s > 10.0 {
            return Err(Error::Parameter(format!(
                "phantom spacing must be finite, above 0 and at most 10 mm; got {s} along axis {a}"
            )));
        }
    }
    let voxels: f64 = (0..3).map(|a| ((FOV_HI[a] - FOV_LO[a]) / opts.spacing[a]).ceil()).product();
    if voxels > MAX_VOXELS as f64 {
        return Err(Error::Parameter(format!(
            "phantom spacing {:?} mm would need {voxels:.0} voxels, more than {MAX_VOXELS}; use a coarser spacing",
            opts.spacing
        )));
    }
    if opts.case == Case::Random && !(1..=MAX_LESIONS).contains(&opts.lesions) {
        return Err(Error::Parameter(format!(
            "a random phantom needs 1 to {MAX_LESIONS} lesions; got {}",
            opts.lesions
        )));
    }
    opts.hard.validate()
}

/// The phantom's grid for a spacing: RAS+, x = 0 on the midline (a voxel boundary when the
/// number of columns is even), covering [`FOV_LO`]..[`FOV_HI`].
fn grid_for(spacing: [f64; 3]) -> Grid {
    let mut dims = [0usize; 3];
    let mut origin = [0.0; 3];
    for a in 0..3 {
        let extent = FOV_HI[a] - FOV_LO[a];
        dims[a] = (extent / spacing[a]).ceil() as usize;
        // Centre the voxels on the field of view (and so x on the midline).
        let mid = 0.5 * (FOV_LO[a] + FOV_HI[a]);
        origin[a] = mid - 0.5 * (dims[a] as f64 - 1.0) * spacing[a];
    }
    Grid { dims, affine: Affine::from_spacing_origin(spacing, origin) }
}

/// Generates a phantom.
///
/// # Errors
/// [`Error::Parameter`] when a spacing is not finite, not above 0 or above 10 mm, or so
/// fine that the grid would exceed 2^28 voxels (below about 0.75 mm isotropic), when a
/// random case asks for 0 or more than 40 lesions (or the lesions cannot all be placed), or
/// when a [`Hardness`] setting is out of its documented range (or its variant foci cannot
/// all be placed).
pub fn generate(opts: &PhantomOptions) -> Result<Phantom> {
    validate(opts)?;
    let hard = &opts.hard;
    let mut scene = anatomy::build_with(hard.curved_physes);
    let mut lesions = match opts.case {
        Case::Seed => lesions::founding(&scene, opts.seed, hard.irregularity),
        Case::Random => lesions::random(&scene, opts.seed, opts.lesions, &hard.placement())?,
        Case::Healthy => Vec::new(),
    };
    if let Some((lo, hi)) = hard.lesion_ratio {
        // Their own stream: the sites and shapes do not change with the ratios.
        let mut rng = rng::SplitMix64::new(opts.seed, 9);
        for l in &mut lesions {
            l.ratio = Some(Hardness::draw_ratio(lo, hi, &mut rng));
        }
    }
    let foci = lesions::variant_foci(&scene, opts.seed, hard.variant_foci, &lesions)?;
    // True lesions first (their index + 1 is their truth id), then the foci, which render
    // like lesions but never enter the truth.
    let n = lesions.len();
    let blobs: Vec<lesions::Lesion> = lesions.into_iter().chain(foci.iter().map(|f| f.blob.clone())).collect();
    for (i, l) in blobs.iter().enumerate() {
        scene.bones[l.bone].lesions.push(i);
    }
    let grid = grid_for(opts.spacing);
    let acq = render::Acquisition::new(opts.seed, hard, (FOV_LO[2], FOV_HI[2]));
    let raster = render::render(&scene, &blobs, &grid, opts.seed, &acq);
    let render::Raster { scan, mut atlas, mut truth } = raster;
    let lesions = &blobs[..n];
    let shift = hard.shift_voxels(&grid);
    if shift != [0; 3] {
        atlas = hard::shift_labels(&atlas, &grid, shift);
    }

    // Truth statistics; lesions that cover no voxel (possible only at very coarse spacing)
    // are dropped and the ids renumbered so that they stay 1..N.
    let mut count = vec![0usize; n + 1];
    let mut sum = vec![[0f64; 3]; n + 1];
    for (idx, &t) in truth.iter().enumerate() {
        if t != 0 {
            let ijk = grid.ijk(idx);
            count[t as usize] += 1;
            for a in 0..3 {
                sum[t as usize][a] += ijk[a] as f64;
            }
        }
    }
    let mut remap = vec![0u16; n + 1];
    let mut out = Vec::with_capacity(n);
    for (i, l) in lesions.iter().enumerate() {
        let id = i + 1;
        if count[id] == 0 {
            continue;
        }
        remap[id] = out.len() as u16 + 1;
        let c = count[id] as f64;
        let mean = [sum[id][0] / c, sum[id][1] / c, sum[id][2] / c];
        out.push(TruthLesion {
            id: out.len() as u32 + 1,
            region: l.region.clone(),
            voxels: count[id],
            volume_mm3: count[id] as f64 * grid.affine.voxel_volume_mm3(),
            centroid_mm: grid.affine.voxel_to_world(mean),
            ratio_to_marrow: l.ratio,
            shape: hard.shaped().then(|| l.thin.as_ref().map_or("blob", |t| t.kind.name()).to_string()),
        });
    }
    if out.len() != n {
        truth.iter_mut().for_each(|t| *t = remap[*t as usize]);
    }
    let labels = LabelTable::from_pairs(scene.labels.iter().enumerate().map(|(i, n)| (i as u32 + 1, n.clone())));
    Ok(Phantom {
        scan: Volume::from_vec(grid, scan),
        atlas: Volume::from_vec(grid, atlas),
        labels,
        truth: Volume::from_vec(grid, truth),
        lesions: out,
        variant_foci: foci.into_iter().map(|f| f.record).collect(),
        atlas_shift_mm: std::array::from_fn(|a| shift[a] as f64 * grid.spacing()[a]),
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_broad;
#[cfg(test)]
mod tests_hard;
