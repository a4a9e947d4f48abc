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

use super::anatomy::{level, Scene, Tissue};
use super::geom::{dot, Aabb, Shape, V3};
use super::hard::Hardness;
use super::lesions::{Lesion, REACH};
use super::rng::{gauss_pair, hash3, SplitMix64, ValueNoise};
use crate::volume::Grid;
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

/// Distance from the line `{(x, y, z): x any}` to a box, in the y-z plane.
#[inline]
fn row_dist(b: &Aabb, y: f64, z: f64) -> f64 {
    let dy = (b.lo[1] - y).max(y - b.hi[1]).max(0.0);
    let dz = (b.lo[2] - z).max(z - b.hi[2]).max(0.0);
    (dy * dy + dz * dz).sqrt()
}

/// A signed distance linearised at a voxel centre: value and gradient.
#[derive(Clone, Copy)]
struct Lin {
    d: f64,
    g: V3,
}

impl Lin {
    const STEP: f64 = 0.25;

    fn new(d: f64, f: impl Fn(V3) -> f64, p: V3) -> Lin {
        let h = Lin::STEP;
        let g = [
            (f([p[0] + h, p[1], p[2]]) - d) / h,
            (f([p[0], p[1] + h, p[2]]) - d) / h,
            (f([p[0], p[1], p[2] + h]) - d) / h,
        ];
        Lin { d, g }
    }

    #[inline]
    fn at(&self, off: V3) -> f64 {
        self.d + dot(self.g, off)
    }
}

/// Intensity of the body layers at signed distance `d` from the skin.
#[inline]
fn body_layer(d: f64, fat: f64, tex: f64) -> f64 {
    if d >= 0.0 {
        level::AIR
    } else if d > -fat {
        level::FAT
    } else {
        level::MUSCLE * tex
    }
}

/// Per-row cache of an object's last evaluation: up to x = `until` the object's surface is
/// known to stay farther than `near` from the voxel, and `inside` tells on which side.
struct Skip {
    obj: usize,
    until: f64,
    inside: bool,
}

/// How far along the row (mm) a surface found `margin` mm beyond `near` stays beyond it. The
/// distances are exact or close estimates (1-Lipschitz up to the ellipse approximations), so
/// half the margin is a safe step.
#[inline]
fn skip_until(margin: f64) -> f64 {
    0.5 * margin
}

/// The body distance to use for a voxel whose body layer was decided by a cached evaluation:
/// the cached distance has the right layer, which is all that is used.
#[inline]
fn body_layer_d(_skip: &Skip, cached: f64) -> f64 {
    cached
}

/// Renders the scene with its lesions and normal-variant foci (already attached to their
/// bones) through the acquisition `acq`.
pub fn render(scene: &Scene, lesions: &[Lesion], grid: &Grid, seed: u64, acq: &Acquisition) -> Raster {
    let [nx, ny, _] = grid.dims;
    let sp = grid.spacing();
    let half_diag = 0.5 * (sp[0] * sp[0] + sp[1] * sp[1] + sp[2] * sp[2]).sqrt();
    let near = 1.2 * half_diag;
    let body: &Shape = &scene.body;
    // Body primitives farther than this from a row cannot change the classification of
    // its voxels (skin or fat boundary within `near`, blend radius 14 mm).
    let body_far = near + half_diag + scene.fat + 16.0;
    let sub_n: [usize; 3] = sp.map(|s| (s.ceil() as usize).clamp(1, 6));
    let nsub = sub_n[0] * sub_n[1] * sub_n[2];
    let mut offsets = Vec::with_capacity(nsub);
    for c in 0..sub_n[2] {
        for b in 0..sub_n[1] {
            for a in 0..sub_n[0] {
                offsets.push([
                    ((a as f64 + 0.5) / sub_n[0] as f64 - 0.5) * sp[0],
                    ((b as f64 + 0.5) / sub_n[1] as f64 - 0.5) * sp[1],
                    ((c as f64 + 0.5) / sub_n[2] as f64 - 0.5) * sp[2],
                ]);
            }
        }
    }
    let marrow_tex = ValueNoise::new(hash3(seed, 11, 0), 14.0);
    let soft_tex = ValueNoise::new(hash3(seed, 12, 0), 20.0);
    let aff = grid.affine;

    let plane = nx * ny;
    let mut scan = vec![0f32; grid.len()];
    let mut atlas = vec![0u16; grid.len()];
    let mut truth = vec![0u16; grid.len()];
    scan.par_chunks_mut(plane).zip(atlas.par_chunks_mut(plane)).zip(truth.par_chunks_mut(plane)).enumerate().for_each(
        |(k, ((scan_k, atlas_k), truth_k))| {
            let z = aff.voxel_to_world([0.0, 0.0, k as f64])[2];
            let slab = |b: &Aabb, m: f64| b.hi[2] >= z - m && b.lo[2] <= z + m;
            let organs_k: Vec<usize> =
                (0..scene.organs.len()).filter(|&o| slab(&scene.organs[o].shape.bbox, near)).collect();
            let bones_k: Vec<usize> =
                (0..scene.bones.len()).filter(|&b| slab(&scene.bones[b].shape.bbox, near)).collect();
            let body_k: Vec<usize> =
                (0..body.prims().len()).filter(|&i| slab(&body.prims()[i].bbox, body_far)).collect();
            let mut soft_models: Vec<(f64, Lin)> = Vec::with_capacity(8);
            let mut near_bones: Vec<(usize, f64)> = Vec::with_capacity(8);
            let mut label_count: Vec<(u16, u32)> = Vec::with_capacity(4);
            let mut lesion_count: Vec<(u16, u32)> = Vec::with_capacity(2);
            // Signal added by gated lesions (see `Lesion::gated`), summed over sub-samples.
            let mut gated_sum: Vec<(u16, f64)> = Vec::with_capacity(2);
            for j in 0..ny {
                let y = aff.voxel_to_world([0.0, j as f64, k as f64])[1];
                // Objects that can reach this row, each with the x up to which its last
                // evaluation still decides the voxel (see `skip_until`).
                let mut organs_r: Vec<Skip> = organs_k
                    .iter()
                    .filter(|&&o| row_dist(&scene.organs[o].shape.bbox, y, z) <= near)
                    .map(|&o| Skip { obj: o, until: f64::NEG_INFINITY, inside: false })
                    .collect();
                let mut bones_r: Vec<Skip> = bones_k
                    .iter()
                    .filter(|&&b| row_dist(&scene.bones[b].shape.bbox, y, z) <= near)
                    .map(|&b| Skip { obj: b, until: f64::NEG_INFINITY, inside: false })
                    .collect();
                let body_r: Vec<usize> =
                    body_k.iter().copied().filter(|&i| row_dist(&body.prims()[i].bbox, y, z) <= body_far).collect();
                let body_sdf = |q: V3| if body_r.is_empty() { body_far } else { body.sdf_subset(q, &body_r, body_far) };
                let mut body_skip = Skip { obj: 0, until: f64::NEG_INFINITY, inside: false };
                let mut body_db = body_far;
                for i in 0..nx {
                    let idx_k = i + nx * j;
                    let p = aff.voxel_to_world([i as f64, j as f64, k as f64]);
                    let x = p[0];
                    // Body outline: the layer (air, fat, muscle) is known while the skin and
                    // the fat's inner surface are both farther than `near`.
                    let mut mixed = false;
                    let mut db_fresh = false;
                    if x > body_skip.until {
                        body_db = body_sdf(p);
                        db_fresh = true;
                        let margin = body_db.abs().min((body_db + scene.fat).abs()) - near;
                        if margin > 0.0 {
                            body_skip.until = x + skip_until(margin);
                        } else {
                            mixed = true;
                        }
                    }
                    // Organs: near ones become linear models; the others are known to be
                    // wholly inside or outside the voxel.
                    soft_models.clear();
                    let mut centre_organ = None;
                    for sk in organs_r.iter_mut() {
                        let org = &scene.organs[sk.obj];
                        if x <= sk.until {
                            if sk.inside {
                                centre_organ.get_or_insert(sk.obj);
                                soft_models.push((org.value, Lin { d: -1e9, g: [0.0; 3] }));
                            }
                            continue;
                        }
                        let d = org.shape.sdf(p);
                        if d < 0.0 {
                            centre_organ.get_or_insert(sk.obj);
                        }
                        if d.abs() < near {
                            mixed = true;
                            soft_models.push((org.value, Lin::new(d, |q| org.shape.sdf(q), p)));
                        } else {
                            sk.until = x + skip_until(d.abs() - near);
                            sk.inside = d < 0.0;
                            if sk.inside {
                                soft_models.push((org.value, Lin { d: -1e9, g: [0.0; 3] }));
                            }
                        }
                    }
                    near_bones.clear();
                    for sk in bones_r.iter_mut() {
                        if x <= sk.until {
                            continue;
                        }
                        let d = scene.bones[sk.obj].shape.sdf(p);
                        if d < near {
                            near_bones.push((sk.obj, d));
                        } else {
                            sk.until = x + skip_until(d - near);
                        }
                    }
                    let mut value;
                    let mut label = 0u16;
                    let mut lesion_id = 0u16;
                    if near_bones.is_empty() && !mixed {
                        value = match centre_organ {
                            Some(o) => scene.organs[o].value,
                            None => {
                                let d = if db_fresh { body_db } else { body_layer_d(&body_skip, body_db) };
                                if d < -scene.fat {
                                    level::MUSCLE * (1.0 + 0.04 * soft_tex.at(p))
                                } else {
                                    body_layer(d, scene.fat, 1.0)
                                }
                            }
                        };
                    } else {
                        let tex_s = 1.0 + 0.04 * soft_tex.at(p);
                        let tex_m = match &acq.texture {
                            Some(t) => t.at(p),
                            None => 1.0 + 0.08 * marrow_tex.at(p),
                        };
                        if !db_fresh {
                            body_db = body_sdf(p);
                        }
                        // The body's linear model is only needed where no organ or bone is.
                        let body_lin = if mixed || body_db.abs().min((body_db + scene.fat).abs()) < near {
                            Lin::new(body_db, body_sdf, p)
                        } else {
                            Lin { d: body_db, g: [0.0; 3] }
                        };
                        let soft = |off: V3| -> f64 {
                            for (v, l) in &soft_models {
                                if l.at(off) < 0.0 {
                                    return *v;
                                }
                            }
                            body_layer(body_lin.at(off), scene.fat, tex_s)
                        };
                        let mut sum = 0.0;
                        label_count.clear();
                        lesion_count.clear();
                        gated_sum.clear();
                        for off in &offsets {
                            let q = [p[0] + off[0], p[1] + off[1], p[2] + off[2]];
                            let mut hit = None;
                            for &(bi, dc) in &near_bones {
                                let bone = &scene.bones[bi];
                                // A centre deep inside needs no evaluation: every sample is
                                // inside and, deeper than the cortex too, in the marrow.
                                let deep = dc < -(half_diag + bone.cortex);
                                let d = if deep { dc } else { bone.shape.sdf(q) };
                                if d < 0.0 {
                                    hit = Some((bi, d, deep));
                                    break;
                                }
                            }
                            let Some((bi, d, deep)) = hit else {
                                sum += soft(*off);
                                continue;
                            };
                            let bone = &scene.bones[bi];
                            let (lab, tissue) = bone.classify(q, d);
                            if lab != 0 {
                                match label_count.iter_mut().find(|(l, _)| *l == lab) {
                                    Some(e) => e.1 += 1,
                                    None => label_count.push((lab, 1)),
                                }
                            }
                            sum += match tissue {
                                Tissue::Cortex => level::CORTEX,
                                Tissue::Physis => acq.physis,
                                Tissue::Marrow(m) => {
                                    let mut v = m * tex_m;
                                    let marrow = v;
                                    for &li in &bone.lesions {
                                        let les = &lesions[li];
                                        if !les.bbox.contains(q) {
                                            continue;
                                        }
                                        if les.gated() {
                                            // Only inside the outline, and only added below
                                            // when the voxel is this lesion's.
                                            let ld = les.sdf_in(q, || -(if deep { bone.shape.sdf(q) } else { d }));
                                            if ld < 0.0 {
                                                let id = li as u16 + 1;
                                                let add = les.gated_value(q, ld, marrow) - marrow;
                                                match gated_sum.iter_mut().find(|(l, _)| *l == id) {
                                                    Some(e) => e.1 += add,
                                                    None => gated_sum.push((id, add)),
                                                }
                                                match lesion_count.iter_mut().find(|(l, _)| *l == id) {
                                                    Some(e) => e.1 += 1,
                                                    None => lesion_count.push((id, 1)),
                                                }
                                            }
                                            continue;
                                        }
                                        let ld = les.sdf(q);
                                        if ld < REACH {
                                            v = les.blend(q, ld, v);
                                        }
                                        if ld < 0.0 && !les.variant {
                                            let id = li as u16 + 1;
                                            match lesion_count.iter_mut().find(|(l, _)| *l == id) {
                                                Some(e) => e.1 += 1,
                                                None => lesion_count.push((id, 1)),
                                            }
                                        }
                                    }
                                    v
                                }
                            };
                        }
                        value = sum / nsub as f64;
                        let labelled: u32 = label_count.iter().map(|e| e.1).sum();
                        if 2 * labelled as usize >= nsub {
                            // Most frequent label; ties go to the smaller label.
                            label = label_count
                                .iter()
                                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                                .map(|e| e.0)
                                .unwrap_or(0);
                        }
                        if label != 0 {
                            if let Some(&(id, n)) = lesion_count.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                            {
                                if 2 * n as usize >= nsub {
                                    lesion_id = id;
                                    if let Some(&(_, add)) = gated_sum.iter().find(|(l, _)| *l == id) {
                                        value += add / nsub as f64;
                                    }
                                }
                            }
                        }
                    }
                    // Bias and station gain, then Rician noise: the magnitude of a complex
                    // signal whose real and imaginary channels carry independent Gaussian noise.
                    if value > 0.0 {
                        value *= acq.bias.at(p) * acq.stations.gain(p[2]);
                    }
                    let gidx = (idx_k + plane * k) as u64;
                    let (n1, n2) = gauss_pair(hash3(seed, gidx, 1), hash3(seed, gidx, 2));
                    let re = value + acq.sigma * n1;
                    let im = acq.sigma * n2;
                    scan_k[idx_k] = (re * re + im * im).sqrt() as f32;
                    atlas_k[idx_k] = label;
                    truth_k[idx_k] = lesion_id;
                }
            }
        },
    );
    Raster { scan, atlas, truth }
}
