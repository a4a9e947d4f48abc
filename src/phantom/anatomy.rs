//! The child's anatomy: a 10-year-old of about 140 cm lying supine, arms at the sides, feet
//! pointing up (anterior), in RAS+ world millimetres with x = 0 on the midline, the soles at
//! z = 0 and the vertex at z = 1400; the back of the trunk lies near y = -100.
//!
//! The scene has three kinds of object, rendered with this priority:
//! 1. bones ([`Bone`]): a solid with a cortical shell, split into labelled parts (the atlas
//!    regions) by planes, balls and cylinders, with marrow intensity per part and thin growth
//!    plates ([`Physis`]). Labelled bones come first; unlabelled bones (ribs, posterior
//!    vertebral arches, skull, scapulae, forearm, hand and foot bones, patellae) add realism
//!    but no atlas label;
//! 2. soft organs ([`Organ`]): discs, CSF, spinal cord, bladder, lungs, liver, ... first match
//!    wins;
//! 3. the body outline: fat-suppressed subcutaneous fat in a shell of [`Scene::fat`] mm over
//!    muscle and other soft tissue.
//!
//! Sizes follow a 10-year-old's skeleton (vertebral bodies 9-19 mm tall, femoral head 38 mm,
//! femur about 36 cm, tibia about 30 cm), simplified to ellipsoids, tapered capsules and
//! lathes.
//!
//! Physes: each growth plate is a slab about 2 mm thick between an epiphysis and a
//! metaphysis. Its voxels carry the **metaphysis** label (the part boundary runs along the
//! epiphyseal face of the plate). The vocabulary has no separate label for the humeral head,
//! the distal tibial epiphysis or the distal humerus: the humeral head is labelled
//! `humerus_proximal_metaphysis`, the distal tibial epiphysis `tibia_distal_metaphysis` and
//! the distal humerus `humerus_shaft`, so every labelled bone is covered whole. The greater
//! and lesser trochanters belong to `femur_shaft`.

use super::geom::{along, dot, norm, scale, sub, unit, Prim, Section, Shape, V3};

mod limbs;
mod other;
mod spine;

use limbs::{pelvis_and_legs, upper_body};
use other::{other_bones, soft_tissues};
use spine::spine;

/// Noise-free intensities (arbitrary STIR-like units) of the tissues.
pub mod level {
    /// Air.
    pub const AIR: f64 = 0.0;
    /// Fat-suppressed subcutaneous fat.
    pub const FAT: f64 = 40.0;
    /// Muscle and other soft tissue.
    pub const MUSCLE: f64 = 110.0;
    /// Cortical bone.
    pub const CORTEX: f64 = 15.0;
    /// Yellow (fatty) marrow: diaphyses, epiphyses, calcaneus.
    pub const YELLOW: f64 = 60.0;
    /// Red (haematopoietic) marrow: metaphyses, vertebral bodies, pelvis, sternum.
    pub const RED: f64 = 150.0;
    /// Marrow of the unlabelled bones (ribs, arches, scapulae, ...).
    pub const OTHER_MARROW: f64 = 115.0;
    /// Growth-plate cartilage.
    pub const PHYSIS: f64 = 300.0;
    /// Nucleus pulposus of an intervertebral disc.
    pub const DISC_NUCLEUS: f64 = 440.0;
    /// Annulus fibrosus of an intervertebral disc.
    pub const DISC_ANNULUS: f64 = 380.0;
    /// Cerebrospinal fluid.
    pub const CSF: f64 = 650.0;
    /// Urine in the bladder.
    pub const BLADDER: f64 = 700.0;
    /// Lymph nodes.
    pub const NODE: f64 = 360.0;
}

/// How a [`Surface`] bends away from its tangent plane at `p0`, toward `n`, with the
/// distance r from the normal line through `p0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bend {
    /// A paraboloid: `(p - p0).n = curv * r^2` (the standard, nearly flat plates).
    Parabola,
    /// A sphere of this radius (mm) centred at `p0 + radius n`: a cap whose apex is `p0`
    /// (the femoral head physis with [`super::Hardness::curved_physes`]).
    Sphere(f64),
    /// A cone of this slope: `(p - p0).n = slope * r`, a tent whose apex is `p0` (the proximal
    /// humeral physis with [`super::Hardness::curved_physes`]).
    Cone(f64),
}

/// A surface used to split bones: the plane through `p0` with unit normal `n`, bent as
/// `bend` says (a paraboloid of curvature term `curv` by default).
#[derive(Clone, Copy, Debug)]
pub struct Surface {
    /// A point of the surface.
    pub p0: V3,
    /// Unit normal at `p0`.
    pub n: V3,
    /// Curvature term (1/mm) of [`Bend::Parabola`].
    pub curv: f64,
    /// Shape of the surface.
    pub bend: Bend,
}

impl Surface {
    /// A flat surface.
    pub fn plane(p0: V3, n: V3) -> Surface {
        Surface { p0, n: unit(n), curv: 0.0, bend: Bend::Parabola }
    }

    /// Signed offset of `p` from the surface along the normal (mm; approximately for the
    /// paraboloid, the distance for the sphere and the cone).
    #[inline]
    pub fn eval(&self, p: V3) -> f64 {
        let d = sub(p, self.p0);
        let a = dot(d, self.n);
        match self.bend {
            Bend::Parabola => a - self.curv * (dot(d, d) - a * a),
            Bend::Sphere(r) => r - norm(sub(d, scale(self.n, r))),
            Bend::Cone(k) => (a - k * (dot(d, d) - a * a).max(0.0).sqrt()) / (1.0 + k * k).sqrt(),
        }
    }

    /// Offset along `n` of the surface at squared distance `r2` from the normal line.
    pub fn offset_at(&self, r2: f64) -> f64 {
        match self.bend {
            Bend::Parabola => self.curv * r2,
            Bend::Sphere(r) => r - (r * r - r2).max(0.0).sqrt(),
            Bend::Cone(k) => k * r2.sqrt(),
        }
    }
}

/// A condition on a point, used to assign bone parts.
#[derive(Clone, Debug)]
pub enum Cond {
    /// `surface.eval(p) <= offset`.
    Below(Surface, f64),
    /// Within `r` of a centre.
    InBall(V3, f64),
    /// Within `r` of the line through `a` along unit `u`.
    InCyl(V3, V3, f64),
}

impl Cond {
    #[inline]
    fn holds(&self, p: V3) -> bool {
        match self {
            Cond::Below(s, off) => s.eval(p) <= *off,
            Cond::InBall(c, r) => {
                let d = sub(p, *c);
                dot(d, d) <= r * r
            }
            Cond::InCyl(a, u, r) => {
                let d = sub(p, *a);
                let t = dot(d, *u);
                dot(d, d) - t * t <= r * r
            }
        }
    }
}

/// Marrow intensity of a bone part.
#[derive(Clone, Debug)]
pub enum Marrow {
    /// The same everywhere.
    Const(f64),
    /// Piecewise linear along the line `a + u t`: `[t, value]` stops with increasing t.
    Axial(V3, V3, Vec<[f64; 2]>),
}

impl Marrow {
    fn at(&self, p: V3) -> f64 {
        match self {
            Marrow::Const(v) => *v,
            Marrow::Axial(a, u, stops) => {
                let t = dot(sub(p, *a), *u);
                let last = stops.len() - 1;
                if t <= stops[0][0] {
                    return stops[0][1];
                }
                if t >= stops[last][0] {
                    return stops[last][1];
                }
                let n = stops.partition_point(|s| s[0] <= t).clamp(1, last);
                let (s0, s1) = (stops[n - 1], stops[n]);
                s0[1] + (s1[1] - s0[1]) * (t - s0[0]) / (s1[0] - s0[0]).max(1e-9)
            }
        }
    }
}

/// A labelled part of a bone: the points satisfying every condition (the last part of a bone
/// has no condition and takes the rest).
#[derive(Clone, Debug)]
pub struct Part {
    /// Atlas label (0 for unlabelled bones).
    pub label: u16,
    /// All must hold.
    pub conds: Vec<Cond>,
    /// Marrow intensity.
    pub marrow: Marrow,
}

/// A growth plate: the points within `half` of a surface and within a ball.
#[derive(Clone, Debug)]
pub struct Physis {
    /// Mid-surface of the plate; its normal points toward the metaphysis.
    pub s: Surface,
    /// Half thickness (mm).
    pub half: f64,
    /// Centre and radius of the ball the plate is confined to.
    pub ball: (V3, f64),
}

impl Physis {
    #[inline]
    fn contains(&self, p: V3) -> bool {
        let d = sub(p, self.ball.0);
        dot(d, d) <= self.ball.1 * self.ball.1 && self.s.eval(p).abs() <= self.half
    }
}

/// What a point inside a bone is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tissue {
    /// The cortical shell.
    Cortex,
    /// Marrow with its noise-free intensity.
    Marrow(f64),
    /// Growth-plate cartilage.
    Physis,
}

/// A bone: solid, cortex thickness, parts and growth plates.
#[derive(Clone, Debug)]
pub struct Bone {
    /// Descriptive name (for messages and tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: String,
    /// The outer surface.
    pub shape: Shape,
    /// Cortical thickness (mm).
    pub cortex: f64,
    /// Parts in priority order; the last one is the default.
    pub parts: Vec<Part>,
    /// Growth plates.
    pub physes: Vec<Physis>,
    /// Indices of the lesions that sit in this bone.
    pub lesions: Vec<usize>,
}

impl Bone {
    /// Label and tissue of a point inside the bone whose signed distance is `d` (< 0).
    pub fn classify(&self, p: V3, d: f64) -> (u16, Tissue) {
        let last = self.parts.len() - 1;
        let part =
            self.parts[..last].iter().find(|pt| pt.conds.iter().all(|c| c.holds(p))).unwrap_or(&self.parts[last]);
        let tissue = if self.physes.iter().any(|ph| ph.contains(p)) {
            Tissue::Physis
        } else if d > -self.cortex {
            Tissue::Cortex
        } else {
            Tissue::Marrow(part.marrow.at(p))
        };
        (part.label, tissue)
    }
}

/// A soft-tissue object of uniform intensity.
#[derive(Clone, Debug)]
pub struct Organ {
    /// Descriptive name (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: String,
    /// Its solid.
    pub shape: Shape,
    /// Noise-free intensity.
    pub value: f64,
}

/// Where a lesion may be placed in a region: the centre, a frame for the lesion's axes, how
/// far the centre may move (along the frame axes) and the largest radii that keep the lesion
/// mostly inside the region's marrow.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// Region label.
    pub label: u16,
    /// Index of the bone holding the region.
    pub bone: usize,
    /// Preferred centre.
    pub c: V3,
    /// Lesion frame (orthonormal).
    pub e: [V3; 3],
    /// Half-ranges of the centre's random shift along the frame axes.
    pub spread: V3,
    /// Largest radii along the frame axes.
    pub rmax: V3,
    /// Relative frequency of lesions at this site (CRMO's site distribution).
    pub weight: f64,
}

/// The whole anatomy.
#[derive(Clone, Debug)]
pub struct Scene {
    /// Outer body surface.
    pub body: Shape,
    /// Thickness of the subcutaneous fat shell (mm).
    pub fat: f64,
    /// Soft organs, first match wins.
    pub organs: Vec<Organ>,
    /// Bones, first match wins; labelled bones first.
    pub bones: Vec<Bone>,
    /// Region names; label `n` is `labels[n - 1]`.
    pub labels: Vec<String>,
    /// Random-lesion sites.
    pub anchors: Vec<Anchor>,
    /// The founding case's seven lesion sites, in the order of `FOUNDING_REGIONS`, with the
    /// radii to use in `rmax`.
    pub founding: Vec<Anchor>,
    /// Articular surfaces that thin subchondral lesions may lie under.
    pub articular: Vec<Articular>,
}

/// A patch of articular bone surface under which a thin subchondral lesion may lie.
#[derive(Clone, Debug)]
pub struct Articular {
    /// Index of the bone.
    pub bone: usize,
    /// A point on the bone's surface, the patch's centre.
    pub s: V3,
    /// Unit normal at `s`, pointing out of the bone (into the joint).
    pub n: V3,
    /// Two unit tangents at `s`, orthogonal to `n` and to each other.
    pub t: [V3; 2],
    /// Largest half-sizes (mm) of the patch along the two tangents.
    pub reach: [f64; 2],
    /// How deep (mm, along -`n` from `s`) a strip may reach before it comes near the bone's
    /// opposite surface.
    pub depth: f64,
    /// Relative frequency among the subchondral sites.
    pub weight: f64,
}

/// The founding case's regions, in placement order.
pub const FOUNDING_REGIONS: [&str; 7] = [
    "acetabulum_roof_right",
    "acetabulum_posterior_column_left",
    "femur_neck_left",
    "vertebra_S2",
    "vertebra_S3",
    "vertebra_S4",
    "vertebra_T7",
];

/// Site weights of paired regions are given per child and split between the two sides.
const PER_SIDE: f64 = 0.5;

/// The two sides with their x sign.
const SIDES: [(&str, f64); 2] = [("right", 1.0), ("left", -1.0)];

const X: V3 = [1.0, 0.0, 0.0];
const Y: V3 = [0.0, 1.0, 0.0];
const Z: V3 = [0.0, 0.0, 1.0];

/// A vertebral body (or sacral segment body): centre, superior axis, half sizes.
#[derive(Clone, Debug)]
struct VBody {
    name: String,
    c: V3,
    u: V3,
    h: f64,
    w: f64,
    d: f64,
}

impl VBody {
    /// Unit vector toward anterior, normal to the axis.
    fn ant(&self) -> V3 {
        [0.0, self.u[2], -self.u[1]]
    }

    fn prim(&self, round: f64) -> Prim {
        let a = along(self.c, self.u, -self.h);
        let b = along(self.c, self.u, self.h);
        // A slight waist, as vertebral bodies have.
        let prof = [[0.0, self.w, self.d], [self.h, 0.94 * self.w, 0.94 * self.d], [2.0 * self.h, self.w, self.d]];
        Prim::lathe(a, b, X, &prof, Section::Ellipse, round)
    }
}

/// Body-centre y of the spine as a function of z: cervical lordosis, thoracic kyphosis,
/// lumbar lordosis.
fn spine_y(z: f64) -> (f64, f64) {
    const K: [[f64; 2]; 10] = [
        [780.0, -24.0],
        [820.0, -24.0],
        [860.0, -29.0],
        [900.0, -35.0],
        [950.0, -40.0],
        [1000.0, -42.0],
        [1050.0, -37.0],
        [1100.0, -27.0],
        [1150.0, -16.0],
        [1220.0, -18.0],
    ];
    let n = K.partition_point(|k| k[0] <= z).clamp(1, K.len() - 1);
    let (a, b) = (K[n - 1], K[n]);
    let slope = (b[1] - a[1]) / (b[0] - a[0]);
    (a[1] + slope * (z - a[0]), slope)
}

struct Builder {
    /// Curved physes at the femoral head (a spherical cap) and the proximal humerus (a tent).
    curved: bool,
    labels: Vec<String>,
    bones: Vec<Bone>,
    organs: Vec<Organ>,
    body: Vec<Prim>,
    anchors: Vec<Anchor>,
    founding: Vec<(String, Anchor)>,
    articular: Vec<Articular>,
}

fn one_part(label: u16, marrow: f64) -> Vec<Part> {
    vec![Part { label, conds: vec![], marrow: Marrow::Const(marrow) }]
}

impl Builder {
    fn label(&mut self, name: String) -> u16 {
        self.labels.push(name);
        self.labels.len() as u16
    }

    fn bone(&mut self, name: &str, shape: Shape, cortex: f64, parts: Vec<Part>, physes: Vec<Physis>) -> usize {
        self.bones.push(Bone { name: name.to_string(), shape, cortex, parts, physes, lesions: vec![] });
        self.bones.len() - 1
    }

    /// An unlabelled bone with uniform marrow.
    fn plain_bone(&mut self, name: &str, shape: Shape, marrow: f64) {
        self.bone(name, shape, 1.2, one_part(0, marrow), vec![]);
    }

    fn organ(&mut self, name: &str, shape: Shape, value: f64) {
        self.organs.push(Organ { name: name.to_string(), shape, value });
    }

    #[allow(clippy::too_many_arguments)]
    fn anchor(&mut self, label: u16, bone: usize, c: V3, e: [V3; 3], spread: V3, rmax: V3, weight: f64) {
        self.anchors.push(Anchor { label, bone, c, e, spread, rmax, weight });
    }

    /// An articular patch of `bone` at `s` with outward normal `n`, tangent hint `v`.
    #[allow(clippy::too_many_arguments)]
    fn articular(&mut self, bone: usize, s: V3, n: V3, v: V3, reach: [f64; 2], depth: f64, weight: f64) {
        let [n, t0, t1] = super::geom::frame(n, v);
        self.articular.push(Articular { bone, s, n, t: [t0, t1], reach, depth, weight });
    }

    fn founding(&mut self, region: &str, bone: usize, c: V3, e: [V3; 3], r: V3) {
        let label = self.labels.iter().position(|n| n == region).expect("founding region exists") as u16 + 1;
        self.founding.push((region.to_string(), Anchor { label, bone, c, e, spread: [0.0; 3], rmax: r, weight: 0.0 }));
    }
}

/// Builds the standard anatomy. Deterministic: no randomness is involved.
#[cfg_attr(not(test), allow(dead_code))]
pub fn build() -> Scene {
    build_with(false)
}

/// Builds the anatomy, with curved physes at the femoral head and the proximal humerus when
/// `curved` (see [`super::Hardness::curved_physes`]).
pub fn build_with(curved: bool) -> Scene {
    let mut b = Builder {
        curved,
        labels: vec![],
        bones: vec![],
        organs: vec![],
        body: vec![],
        anchors: vec![],
        founding: vec![],
        articular: vec![],
    };
    let spine = spine(&mut b);
    pelvis_and_legs(&mut b, &spine);
    upper_body(&mut b);
    // Unlabelled bones after every labelled one, so labelled bones win any contact.
    other_bones(&mut b, &spine);
    soft_tissues(&mut b, &spine);
    let founding = FOUNDING_REGIONS
        .iter()
        .map(|r| b.founding.iter().find(|(n, _)| n == r).expect("every founding site is defined").1.clone())
        .collect();
    Scene {
        body: Shape::union(b.body, 14.0),
        fat: 7.0,
        organs: b.organs,
        bones: b.bones,
        labels: b.labels,
        anchors: b.anchors,
        founding,
        articular: b.articular,
    }
}

/// Geometry of the spine shared with the other builders.
struct Spine {
    /// C3 .. C7, T1 .. T12, L1 .. L5, S1 .. S5.
    bodies: Vec<VBody>,
    /// Canal centre and CSF radius per body, C3 .. S2.
    canal: Vec<(V3, f64)>,
    /// Lateral extreme of the sacral alae of S1 .. S3 (right side; mirror for left).
    ala_tips: Vec<V3>,
}
