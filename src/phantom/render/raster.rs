//! The rasteriser behind [`render`](super::render): one slice at a time, one row at a time,
//! one voxel at a time (see the module doc of [`super`]).

use super::Acquisition;
use crate::phantom::anatomy::{level, Bone, Scene, Tissue};
use crate::phantom::geom::{dot, Aabb, Shape, V3};
use crate::phantom::lesions::{Lesion, REACH};
use crate::phantom::rng::{gauss_pair, hash3, ValueNoise};
use crate::volume::Grid;

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

    /// A surface wholly beside the voxel: `d` everywhere in it.
    fn flat(d: f64) -> Lin {
        Lin { d, g: [0.0; 3] }
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

impl Skip {
    fn fresh(obj: usize) -> Skip {
        Skip { obj, until: f64::NEG_INFINITY, inside: false }
    }
}

/// How far along the row (mm) a surface found `margin` mm beyond `near` stays beyond it. The
/// distances are exact or close estimates (1-Lipschitz up to the ellipse approximations), so
/// half the margin is a safe step.
#[inline]
fn skip_until(margin: f64) -> f64 {
    0.5 * margin
}

/// Adds `v` to the entry of `key` (a new entry when there is none).
fn add_to<V: Copy + std::ops::AddAssign>(entries: &mut Vec<(u16, V)>, key: u16, v: V) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(e) => e.1 += v,
        None => entries.push((key, v)),
    }
}

/// The entry with the largest count; ties go to the smaller key.
fn most_frequent(counts: &[(u16, u32)]) -> Option<(u16, u32)> {
    counts.iter().copied().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// One slice of the three output volumes.
pub(super) struct SliceOut<'s> {
    pub(super) scan: &'s mut [f32],
    pub(super) atlas: &'s mut [u16],
    pub(super) truth: &'s mut [u16],
}

/// The objects whose boxes reach one slice (at world `z`).
struct Near {
    z: f64,
    organs: Vec<usize>,
    bones: Vec<usize>,
    body: Vec<usize>,
}

/// A row's objects, each with its skip cache.
struct RowObjects {
    organs: Vec<Skip>,
    bones: Vec<Skip>,
    body: Vec<usize>,
}

/// Lists reused from voxel to voxel.
#[derive(Default)]
struct Scratch {
    /// Organs near the voxel as linear models, with their intensity.
    soft_models: Vec<(f64, Lin)>,
    /// Bones near the voxel, with the signed distance at its centre.
    near_bones: Vec<(usize, f64)>,
    /// Sub-samples per atlas label.
    label_count: Vec<(u16, u32)>,
    /// Sub-samples per lesion id.
    lesion_count: Vec<(u16, u32)>,
    /// Signal added by gated lesions (see `Lesion::gated`), summed over sub-samples.
    gated_sum: Vec<(u16, f64)>,
}

/// What one voxel holds before the acquisition.
struct Voxel {
    value: f64,
    label: u16,
    lesion: u16,
}

/// The body outline along a row: its distance at the last evaluation and how far along the
/// row that evaluation decides the layer (air, fat, muscle).
struct BodyState {
    until: f64,
    d: f64,
}

/// Everything every slice shares.
pub(super) struct Renderer<'a> {
    scene: &'a Scene,
    lesions: &'a [Lesion],
    acq: &'a Acquisition,
    grid: &'a Grid,
    seed: u64,
    half_diag: f64,
    /// Surfaces within this distance of a voxel centre (mm) make it a mixed voxel.
    near: f64,
    /// Body primitives farther than this from a row cannot change the classification of its
    /// voxels (skin or fat boundary within `near`, blend radius 14 mm).
    body_far: f64,
    /// Sub-sample offsets within a voxel (mm).
    offsets: Vec<V3>,
    marrow_tex: ValueNoise,
    soft_tex: ValueNoise,
}

/// A regular sub-grid of about 1 mm (at most 6 per axis) over a voxel of `sp` mm.
fn sub_offsets(sp: [f64; 3]) -> Vec<V3> {
    let sub_n: [usize; 3] = sp.map(|s| (s.ceil() as usize).clamp(1, 6));
    let mut offsets = Vec::with_capacity(sub_n.iter().product());
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
    offsets
}

impl<'a> Renderer<'a> {
    pub(super) fn new(
        scene: &'a Scene,
        lesions: &'a [Lesion],
        grid: &'a Grid,
        seed: u64,
        acq: &'a Acquisition,
    ) -> Renderer<'a> {
        let sp = grid.spacing();
        let half_diag = 0.5 * (sp[0] * sp[0] + sp[1] * sp[1] + sp[2] * sp[2]).sqrt();
        let near = 1.2 * half_diag;
        Renderer {
            scene,
            lesions,
            acq,
            grid,
            seed,
            half_diag,
            near,
            body_far: near + half_diag + scene.fat + 16.0,
            offsets: sub_offsets(sp),
            marrow_tex: ValueNoise::new(hash3(seed, 11, 0), 14.0),
            soft_tex: ValueNoise::new(hash3(seed, 12, 0), 20.0),
        }
    }

    fn body(&self) -> &Shape {
        &self.scene.body
    }

    /// Renders slice `k` into `out`.
    pub(super) fn slice(&self, k: usize, mut out: SliceOut) {
        let z = self.grid.affine.voxel_to_world([0.0, 0.0, k as f64])[2];
        let slab = |b: &Aabb, m: f64| b.hi[2] >= z - m && b.lo[2] <= z + m;
        let (scene, near) = (self.scene, self.near);
        let objects = Near {
            z,
            organs: (0..scene.organs.len()).filter(|&o| slab(&scene.organs[o].shape.bbox, near)).collect(),
            bones: (0..scene.bones.len()).filter(|&b| slab(&scene.bones[b].shape.bbox, near)).collect(),
            body: (0..self.body().prims().len())
                .filter(|&i| slab(&self.body().prims()[i].bbox, self.body_far))
                .collect(),
        };
        let mut scratch = Scratch::default();
        for j in 0..self.grid.dims[1] {
            self.row(j, k, &objects, &mut scratch, &mut out);
        }
    }

    /// The objects of `slice` that can reach its row at `y`.
    fn row_objects(&self, slice: &Near, y: f64) -> RowObjects {
        let (scene, near, z) = (self.scene, self.near, slice.z);
        let reach = |b: &Aabb, m: f64| row_dist(b, y, z) <= m;
        let skips = |objects: &[usize], bbox: &dyn Fn(usize) -> Aabb| {
            objects.iter().filter(|&&o| reach(&bbox(o), near)).map(|&o| Skip::fresh(o)).collect()
        };
        RowObjects {
            organs: skips(&slice.organs, &|o| scene.organs[o].shape.bbox),
            bones: skips(&slice.bones, &|b| scene.bones[b].shape.bbox),
            body: slice.body.iter().copied().filter(|&i| reach(&self.body().prims()[i].bbox, self.body_far)).collect(),
        }
    }

    /// Signed distance to the body's skin from the primitives that reach the row.
    fn body_sdf(&self, row: &RowObjects, q: V3) -> f64 {
        if row.body.is_empty() {
            self.body_far
        } else {
            self.body().sdf_subset(q, &row.body, self.body_far)
        }
    }

    /// Renders row `j` of slice `k`.
    fn row(&self, j: usize, k: usize, slice: &Near, scratch: &mut Scratch, out: &mut SliceOut) {
        let aff = self.grid.affine;
        let nx = self.grid.dims[0];
        let y = aff.voxel_to_world([0.0, j as f64, k as f64])[1];
        let mut row = self.row_objects(slice, y);
        let mut body = BodyState { until: f64::NEG_INFINITY, d: self.body_far };
        for i in 0..nx {
            let p = aff.voxel_to_world([i as f64, j as f64, k as f64]);
            let voxel = self.voxel(p, &mut row, &mut body, scratch);
            let at = i + nx * j;
            out.scan[at] = self.acquire(voxel.value, p, (at + nx * self.grid.dims[1] * k) as u64);
            out.atlas[at] = voxel.label;
            out.truth[at] = voxel.lesion;
        }
    }

    /// The voxel centred at `p`, the next along its row.
    fn voxel(&self, p: V3, row: &mut RowObjects, body: &mut BodyState, scratch: &mut Scratch) -> Voxel {
        let x = p[0];
        // Body outline: the layer (air, fat, muscle) is known while the skin and the fat's
        // inner surface are both farther than `near`.
        let mut mixed = false;
        let mut body_fresh = false;
        if x > body.until {
            body.d = self.body_sdf(row, p);
            body_fresh = true;
            let margin = body.d.abs().min((body.d + self.scene.fat).abs()) - self.near;
            if margin > 0.0 {
                body.until = x + skip_until(margin);
            } else {
                mixed = true;
            }
        }
        let centre_organ = self.organ_models(p, &mut row.organs, &mut scratch.soft_models, &mut mixed);
        self.bones_near(p, &mut row.bones, &mut scratch.near_bones);
        if scratch.near_bones.is_empty() && !mixed {
            let value = match centre_organ {
                Some(o) => self.scene.organs[o].value,
                None if body.d < -self.scene.fat => level::MUSCLE * (1.0 + 0.04 * self.soft_tex.at(p)),
                None => body_layer(body.d, self.scene.fat, 1.0),
            };
            return Voxel { value, label: 0, lesion: 0 };
        }
        if !body_fresh {
            body.d = self.body_sdf(row, p);
        }
        // The body's linear model is only needed where no organ or bone is.
        let body_lin = if mixed || body.d.abs().min((body.d + self.scene.fat).abs()) < self.near {
            Lin::new(body.d, |q| self.body_sdf(row, q), p)
        } else {
            Lin::flat(body.d)
        };
        self.mixed_voxel(p, body_lin, scratch)
    }

    /// Organs near `p` become linear models in `models`; the others are known to be wholly
    /// inside or outside the voxel. Sets `mixed` when a surface is near; returns the first
    /// organ holding the centre.
    fn organ_models(
        &self,
        p: V3,
        organs: &mut [Skip],
        models: &mut Vec<(f64, Lin)>,
        mixed: &mut bool,
    ) -> Option<usize> {
        let x = p[0];
        models.clear();
        let mut centre_organ = None;
        for sk in organs.iter_mut() {
            let org = &self.scene.organs[sk.obj];
            if x <= sk.until {
                if sk.inside {
                    centre_organ.get_or_insert(sk.obj);
                    models.push((org.value, Lin::flat(-1e9)));
                }
                continue;
            }
            let d = org.shape.sdf(p);
            if d < 0.0 {
                centre_organ.get_or_insert(sk.obj);
            }
            if d.abs() < self.near {
                *mixed = true;
                models.push((org.value, Lin::new(d, |q| org.shape.sdf(q), p)));
            } else {
                sk.until = x + skip_until(d.abs() - self.near);
                sk.inside = d < 0.0;
                if sk.inside {
                    models.push((org.value, Lin::flat(-1e9)));
                }
            }
        }
        centre_organ
    }

    /// The bones whose surface is within `near` of `p` (or that hold it), into `out`.
    fn bones_near(&self, p: V3, bones: &mut [Skip], out: &mut Vec<(usize, f64)>) {
        out.clear();
        for sk in bones.iter_mut() {
            if p[0] <= sk.until {
                continue;
            }
            let d = self.scene.bones[sk.obj].shape.sdf(p);
            if d < self.near {
                out.push((sk.obj, d));
            } else {
                sk.until = p[0] + skip_until(d - self.near);
            }
        }
    }

    /// A voxel near a surface: the mean of its sub-samples, its majority bone label and
    /// lesion.
    fn mixed_voxel(&self, p: V3, body_lin: Lin, scratch: &mut Scratch) -> Voxel {
        let tex_s = 1.0 + 0.04 * self.soft_tex.at(p);
        let tex_m = match &self.acq.texture {
            Some(t) => t.at(p),
            None => 1.0 + 0.08 * self.marrow_tex.at(p),
        };
        scratch.label_count.clear();
        scratch.lesion_count.clear();
        scratch.gated_sum.clear();
        let mut sum = 0.0;
        for off in &self.offsets {
            let q = [p[0] + off[0], p[1] + off[1], p[2] + off[2]];
            sum += match self.bone_hit(q, &scratch.near_bones) {
                Some((bone, d, deep)) => self.bone_sample(bone, q, d, deep, tex_m, scratch),
                None => soft_sample(&scratch.soft_models, body_lin, *off, self.scene.fat, tex_s),
            };
        }
        self.majority(sum, scratch)
    }

    /// The first near bone that holds sub-sample `q`: the bone, the signed distance and
    /// whether the voxel's centre lies so deep inside that no evaluation was needed.
    fn bone_hit(&self, q: V3, near_bones: &[(usize, f64)]) -> Option<(&'a Bone, f64, bool)> {
        near_bones.iter().find_map(|&(bi, dc)| {
            let bone = &self.scene.bones[bi];
            // A centre deep inside needs no evaluation: every sample is inside and, deeper
            // than the cortex too, in the marrow.
            let deep = dc < -(self.half_diag + bone.cortex);
            let d = if deep { dc } else { bone.shape.sdf(q) };
            (d < 0.0).then_some((bone, d, deep))
        })
    }

    /// The signal of sub-sample `q` inside `bone` (at signed distance `d`), counting its
    /// label and lesion.
    fn bone_sample(&self, bone: &Bone, q: V3, d: f64, deep: bool, tex_m: f64, scratch: &mut Scratch) -> f64 {
        let (lab, tissue) = bone.classify(q, d);
        if lab != 0 {
            add_to(&mut scratch.label_count, lab, 1);
        }
        match tissue {
            Tissue::Cortex => level::CORTEX,
            Tissue::Physis => self.acq.physis,
            Tissue::Marrow(m) => self.marrow_sample(bone, q, d, deep, m * tex_m, scratch),
        }
    }

    /// Marrow of signal `marrow` at sub-sample `q` with the lesions of `bone` blended in
    /// (gated lesions are only counted here, and added once the voxel is known to be theirs).
    fn marrow_sample(&self, bone: &Bone, q: V3, d: f64, deep: bool, marrow: f64, scratch: &mut Scratch) -> f64 {
        let mut v = marrow;
        for &li in &bone.lesions {
            let les = &self.lesions[li];
            if !les.bbox.contains(q) {
                continue;
            }
            let id = li as u16 + 1;
            if les.gated() {
                // Only inside the outline, and only added when the voxel is this lesion's.
                let ld = les.sdf_in(q, || -(if deep { bone.shape.sdf(q) } else { d }));
                if ld < 0.0 {
                    add_to(&mut scratch.gated_sum, id, les.gated_value(q, ld, marrow) - marrow);
                    add_to(&mut scratch.lesion_count, id, 1);
                }
                continue;
            }
            let ld = les.sdf(q);
            if ld < REACH {
                v = les.blend(q, ld, v);
            }
            if ld < 0.0 && !les.variant {
                add_to(&mut scratch.lesion_count, id, 1);
            }
        }
        v
    }

    /// The voxel from its sub-samples' summed signal and counts: labelled when bone with a
    /// label fills at least half of it (the most frequent label), a lesion's when that
    /// lesion does too (its gated signal added then).
    fn majority(&self, sum: f64, scratch: &Scratch) -> Voxel {
        let nsub = self.offsets.len();
        let mut voxel = Voxel { value: sum / nsub as f64, label: 0, lesion: 0 };
        let labelled: u32 = scratch.label_count.iter().map(|e| e.1).sum();
        if 2 * labelled as usize >= nsub {
            voxel.label = most_frequent(&scratch.label_count).map_or(0, |e| e.0);
        }
        if voxel.label == 0 {
            return voxel;
        }
        if let Some((id, n)) = most_frequent(&scratch.lesion_count) {
            if 2 * n as usize >= nsub {
                voxel.lesion = id;
                if let Some(&(_, add)) = scratch.gated_sum.iter().find(|(l, _)| *l == id) {
                    voxel.value += add / nsub as f64;
                }
            }
        }
        voxel
    }

    /// Bias and station gain, then Rician noise (the magnitude of a complex signal whose real
    /// and imaginary channels carry independent Gaussian noise), for the voxel at `p` whose
    /// index in the volume is `index`.
    fn acquire(&self, mut value: f64, p: V3, index: u64) -> f32 {
        if value > 0.0 {
            value *= self.acq.bias.at(p) * self.acq.stations.gain(p[2]);
        }
        let (n1, n2) = gauss_pair(hash3(self.seed, index, 1), hash3(self.seed, index, 2));
        let re = value + self.acq.sigma * n1;
        let im = self.acq.sigma * n2;
        (re * re + im * im).sqrt() as f32
    }
}

/// A soft-tissue sub-sample at offset `off`: the first organ model holding it, else the body
/// layer.
fn soft_sample(models: &[(f64, Lin)], body: Lin, off: V3, fat: f64, tex: f64) -> f64 {
    models.iter().find(|(_, l)| l.at(off) < 0.0).map_or_else(|| body_layer(body.at(off), fat, tex), |(v, _)| *v)
}
