//! Rasterisation of the scene onto the voxel grid, slice by slice in parallel.
//!
//! Objects are culled per slice and per row by their bounding boxes, so each primitive is
//! only evaluated near its box. Each voxel is first tested at its centre. A voxel far (more
//! than 1.2 half-diagonals) from every surface takes the centre's tissue. Any other voxel is
//! supersampled on a regular sub-grid (about 1 mm spacing, at most 6 per axis) and gets the
//! mean intensity of its sub-samples: partial volume. Bones are classified exactly at every
//! sub-sample; soft tissue (body outline, fat shell, organs) uses each surface's signed
//! distance linearised at the voxel centre, which is accurate at voxel scale and much
//! cheaper.
//!
//! The atlas label is the most frequent bone label among the sub-samples when labelled bone
//! fills at least half of the voxel; a lesion is present in a voxel when its oedema covers at
//! least half of the sub-samples and the voxel is labelled.
//!
//! Then the acquisition ([`Acquisition`]) is applied: the smooth multiplicative bias field,
//! the station gains (if any) and Rician noise. Every random number of a voxel comes from a
//! hash of (seed, voxel index), so the result does not depend on the number of threads.
//! Normal-variant foci are rendered like lesions but never enter the truth.

mod raster;

use super::anatomy::{level, Scene};
use super::geom::{dot, V3};
use super::hard::Hardness;
use super::lesions::Lesion;
use super::rng::{hash3, SplitMix64, ValueNoise};
use crate::volume::Grid;
use raster::{Renderer, SliceOut};
use rayon::prelude::*;

/// Standard deviation of each of the two Gaussian channels of the Rician noise.
pub const NOISE_SIGMA: f64 = 12.0;

/// Largest relative deviation of the bias field from 1 (unless [`Hardness::bias`] sets it).
pub const BIAS_AMPLITUDE: f64 = 0.13;

/// A smooth multiplicative bias field: 1 plus a sum of four long-wavelength cosines with
/// random directions and phases, scaled so that it stays within 1 +- `amplitude`.
#[derive(Clone, Debug)]
pub struct Bias {
    waves: Vec<(V3, f64, f64)>,
    amplitude: f64,
}

impl Bias {
    /// The field for `seed`, within 1 +- `amplitude`.
    pub fn new(seed: u64, amplitude: f64) -> Bias {
        let mut rng = SplitMix64::new(seed, 3);
        let weights = [0.4, 0.25, 0.2, 0.15];
        let waves = weights
            .iter()
            .map(|w| {
                // Mostly along the body (z): coil sensitivity and station-to-station drift.
                let mut d = rng.direction();
                d[2] *= 2.0;
                let n = dot(d, d).sqrt();
                let wavelength = rng.range(450.0, 1400.0);
                let k = std::f64::consts::TAU / wavelength;
                ([d[0] / n * k, d[1] / n * k, d[2] / n * k], rng.range(0.0, std::f64::consts::TAU), *w)
            })
            .collect();
        Bias { waves, amplitude }
    }

    /// Gain at world position `p`.
    #[inline]
    pub fn at(&self, p: V3) -> f64 {
        1.0 + self.amplitude * self.waves.iter().map(|(k, ph, w)| w * (dot(*k, p) + ph).cos()).sum::<f64>()
    }
}

/// Width (mm) of the linear gain ramp around each seam between two stations.
pub const SEAM: f64 = 16.0;

/// Station gains along z, as on stitched whole-body MRI: each station scales the signal by
/// its own gain, ramping linearly over [`SEAM`] mm around each seam.
#[derive(Clone, Debug, Default)]
pub struct Stations {
    /// z (world mm) of the seams, increasing; one fewer than the gains.
    pub seams: Vec<f64>,
    /// Gain of each station, from the feet up.
    pub gains: Vec<f64>,
}

impl Stations {
    /// `n` stations (0 for none) over the z range `lo..hi`: bands of equal length whose seams
    /// move by up to 10% of a band, gains in [0.75, 1.3) with neighbours at least 0.1 apart,
    /// all drawn from `seed`.
    pub fn new(seed: u64, n: usize, lo: f64, hi: f64) -> Stations {
        if n == 0 {
            return Stations::default();
        }
        let mut rng = SplitMix64::new(seed, 5);
        let band = (hi - lo) / n as f64;
        let seams = (1..n).map(|i| lo + band * (i as f64 + 0.1 * rng.signed())).collect();
        let mut gains: Vec<f64> = Vec::with_capacity(n);
        while gains.len() < n {
            let g = rng.range(0.75, 1.3);
            if gains.last().map_or(true, |p| (g - p).abs() >= 0.1) {
                gains.push(g);
            }
        }
        Stations { seams, gains }
    }

    /// Gain at height `z` (1 without stations).
    #[inline]
    pub fn gain(&self, z: f64) -> f64 {
        let Some(&first) = self.gains.first() else {
            return 1.0;
        };
        let mut g = first;
        for (s, pair) in self.seams.iter().zip(self.gains.windows(2)) {
            // 0 below the ramp, 1 above it.
            let t = ((z - s) / SEAM + 0.5).clamp(0.0, 1.0);
            if t == 0.0 {
                break;
            }
            g = pair[0] + (pair[1] - pair[0]) * t;
        }
        g
    }
}

/// Median absolute deviation of `a + 0.5 b` for two independent [`ValueNoise`] fields
/// (measured over 200 000 random points), which scales [`MarrowTexture`] to its target.
const FBM_MAD: f64 = 0.29;

/// Heterogeneous marrow ([`Hardness::marrow_texture`]): the noise-free marrow intensity is
/// multiplied by `exp(k n(p))`, `n` two octaves of smooth value noise (cells of 16 and 6 mm)
/// scaled to a median absolute deviation of 1, so that the texture's MAD is about `k` times
/// its median (0.2 gives 20%), patches of redder and yellower marrow over the standard
/// red/yellow pattern.
#[derive(Clone, Debug)]
pub struct MarrowTexture {
    coarse: ValueNoise,
    fine: ValueNoise,
    k: f64,
}

impl MarrowTexture {
    /// The texture of relative spread `k` for `seed`.
    pub fn new(seed: u64, k: f64) -> MarrowTexture {
        MarrowTexture {
            coarse: ValueNoise::new(hash3(seed, 13, 0), 16.0),
            fine: ValueNoise::new(hash3(seed, 14, 0), 6.0),
            k,
        }
    }

    /// Gain at `p`.
    #[inline]
    pub fn at(&self, p: V3) -> f64 {
        (self.k * (self.coarse.at(p) + 0.5 * self.fine.at(p)) / FBM_MAD).exp()
    }
}

/// What the scanner adds to the anatomy: bias field, station gains and noise level; and the
/// tissue settings of [`Hardness`] that change intensities only (physis brightness, marrow
/// texture).
#[derive(Clone, Debug)]
pub struct Acquisition {
    /// Smooth multiplicative bias.
    pub bias: Bias,
    /// Station gains (none by default).
    pub stations: Stations,
    /// Standard deviation of each Gaussian channel of the Rician noise.
    pub sigma: f64,
    /// Growth-plate intensity.
    pub physis: f64,
    /// Heterogeneous marrow, if asked for (else the standard +-8% texture).
    pub texture: Option<MarrowTexture>,
}

impl Acquisition {
    /// The acquisition for `seed` with the settings of `hard` over the field of view's z
    /// range `z_range`; the default `hard` gives the standard one.
    pub fn new(seed: u64, hard: &Hardness, z_range: (f64, f64)) -> Acquisition {
        let amplitude = if hard.bias > 0.0 { hard.bias } else { BIAS_AMPLITUDE };
        Acquisition {
            bias: Bias::new(seed, amplitude),
            stations: Stations::new(seed, hard.stations, z_range.0, z_range.1),
            sigma: hard.noise_sigma.unwrap_or(NOISE_SIGMA),
            physis: if hard.physis_ratio > 0.0 { hard.physis_ratio * level::RED } else { level::PHYSIS },
            texture: (hard.marrow_texture > 0.0).then(|| MarrowTexture::new(seed, hard.marrow_texture)),
        }
    }
}

/// Rendered volumes, `i` fastest.
pub struct Raster {
    /// Intensities.
    pub scan: Vec<f32>,
    /// Atlas labels.
    pub atlas: Vec<u16>,
    /// Lesion ids (1-based index into the lesion list), 0 elsewhere.
    pub truth: Vec<u16>,
}

/// Renders the scene with its lesions and normal-variant foci (already attached to their
/// bones) through the acquisition `acq`.
pub fn render(scene: &Scene, lesions: &[Lesion], grid: &Grid, seed: u64, acq: &Acquisition) -> Raster {
    let renderer = Renderer::new(scene, lesions, grid, seed, acq);
    let plane = grid.dims[0] * grid.dims[1];
    let mut scan = vec![0f32; grid.len()];
    let mut atlas = vec![0u16; grid.len()];
    let mut truth = vec![0u16; grid.len()];
    scan.par_chunks_mut(plane)
        .zip(atlas.par_chunks_mut(plane))
        .zip(truth.par_chunks_mut(plane))
        .enumerate()
        .for_each(|(k, ((scan, atlas), truth))| renderer.slice(k, SliceOut { scan, atlas, truth }));
    Raster { scan, atlas, truth }
}
