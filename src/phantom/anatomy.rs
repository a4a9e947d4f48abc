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

use super::geom::{add, along, dot, frame, mirror, norm, scale, sub, unit, Prim, Section, Shape, V3};

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

/// A surface used to split bones: the plane through `p0` with unit normal `n`, bent by
/// `curv` (the surface is `(p - p0).n = curv * r^2`, r the distance from the normal line).
#[derive(Clone, Copy, Debug)]
pub struct Surface {
    /// A point of the surface.
    pub p0: V3,
    /// Unit normal at `p0`.
    pub n: V3,
    /// Curvature term (1/mm).
    pub curv: f64,
}

impl Surface {
    /// A flat surface.
    pub fn plane(p0: V3, n: V3) -> Surface {
        Surface { p0, n: unit(n), curv: 0.0 }
    }

    /// Signed offset of `p` from the surface along the normal (mm, approximately).
    #[inline]
    pub fn eval(&self, p: V3) -> f64 {
        let d = sub(p, self.p0);
        let a = dot(d, self.n);
        a - self.curv * (dot(d, d) - a * a)
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
    labels: Vec<String>,
    bones: Vec<Bone>,
    organs: Vec<Organ>,
    body: Vec<Prim>,
    anchors: Vec<Anchor>,
    founding: Vec<(String, Anchor)>,
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

    fn founding(&mut self, region: &str, bone: usize, c: V3, e: [V3; 3], r: V3) {
        let label = self.labels.iter().position(|n| n == region).expect("founding region exists") as u16 + 1;
        self.founding.push((region.to_string(), Anchor { label, bone, c, e, spread: [0.0; 3], rmax: r, weight: 0.0 }));
    }
}

/// Builds the anatomy. Deterministic: no randomness is involved.
pub fn build() -> Scene {
    let mut b =
        Builder { labels: vec![], bones: vec![], organs: vec![], body: vec![], anchors: vec![], founding: vec![] };
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

fn spine(b: &mut Builder) -> Spine {
    // Levels: name, half height, half width, half depth, gap to the next body below.
    let mut levels: Vec<(String, f64, f64, f64, f64)> = Vec::new();
    for n in 3..=7 {
        levels.push((format!("C{n}"), 4.75, 11.0, 7.5, 3.5));
    }
    for n in 1..=12 {
        let i = (n - 1) as f64;
        let gap = if n == 12 { 5.0 } else { 4.0 };
        levels.push((format!("T{n}"), 6.0 + 0.2 * i, 12.0 + 0.5 * i, 9.0 + 0.4 * i, gap));
    }
    for n in 1..=5 {
        let i = (n - 1) as f64;
        levels.push((format!("L{n}"), 8.75 + 0.15 * i, 18.0 + 0.6 * i, 13.5 + 0.15 * i, 6.5));
    }
    let mut bodies = Vec::new();
    let mut ztop = 1206.0;
    for (name, h, w, d, gap) in &levels {
        let zc = ztop - h;
        let (y, slope) = spine_y(zc);
        let u = unit([0.0, slope, 1.0]);
        bodies.push(VBody { name: name.clone(), c: [0.0, y, zc], u, h: *h, w: *w, d: *d });
        ztop = zc - h - gap;
    }
    // Sacrum: five segment bodies stacked along an axis tilted 32 degrees (the upper end
    // forward), separated by thin rudimentary discs, as in a child before fusion.
    let l5 = bodies.last().expect("lumbar levels").clone();
    let us = unit([0.0, 32f64.to_radians().sin(), 32f64.to_radians().cos()]);
    let sac: [(f64, f64, f64); 5] =
        [(9.0, 18.0, 11.0), (7.5, 15.5, 10.0), (6.5, 13.0, 8.5), (6.0, 11.0, 7.5), (4.5, 8.0, 5.5)];
    let top = [0.0, l5.c[1] - 3.0, l5.c[2] - l5.h - 9.0];
    let mut c = along(top, us, -sac[0].0);
    for (i, (h, w, d)) in sac.iter().enumerate() {
        if i > 0 {
            c = along(c, us, -(sac[i - 1].0 + 3.5 + h));
        }
        bodies.push(VBody { name: format!("S{}", i + 1), c, u: us, h: *h, w: *w, d: *d });
    }

    // Labels and bones of the bodies; alae for S1 .. S3.
    let mut ala_tips = Vec::new();
    let ala_reach = [36.0, 33.0, 27.0];
    let mut canal = Vec::new();
    for (i, vb) in bodies.iter().enumerate() {
        let name = format!("vertebra_{}", vb.name);
        let label = b.label(name.clone());
        let mut prims = vec![vb.prim(if vb.name.starts_with('C') { 1.5 } else { 2.0 })];
        let sacral = vb.name.starts_with('S');
        if sacral && i - 22 < 3 {
            let reach = ala_reach[i - 22];
            let half = (reach - vb.w + 6.0) / 2.0;
            let ant = vb.ant();
            for (_, s) in SIDES {
                let ac = add(along(vb.c, ant, -4.0), [s * (reach - half), 0.0, 0.0]);
                prims.push(Prim::ellipsoid_rot(ac, X, vb.u, [half, vb.h - 0.5, 0.9 * vb.d + 3.0]));
            }
            ala_tips.push(add(along(vb.c, ant, -4.0), [reach, 0.0, 0.0]));
        }
        let bone = b.bone(&name, Shape::union(prims, 4.0), 1.5, one_part(label, level::RED), vec![]);
        // Random lesions: the upper part of the body, where CRMO oedema usually starts.
        let e = [X, vb.ant(), vb.u];
        let weight = match vb.name.as_bytes()[0] {
            b'C' => 0.2,
            b'T' => 10.0 / 12.0,
            b'L' => 1.0,
            _ if vb.name == "S5" => 0.0,
            _ => 0.75,
        };
        b.anchor(
            label,
            bone,
            along(vb.c, vb.u, 0.2 * vb.h),
            e,
            [0.3 * vb.w, 0.15 * vb.d, 0.1 * vb.h],
            [0.6 * vb.w, 0.55 * vb.d, 0.6 * vb.h],
            weight,
        );
        match vb.name.as_str() {
            "T7" => b.founding(&name, bone, along(vb.c, vb.u, 0.4 * vb.h), e, [0.6 * vb.w, 0.55 * vb.d, 0.6 * vb.h]),
            "S2" => b.founding(&name, bone, add(vb.c, [12.0, 0.0, 0.0]), e, [8.0, 6.0, 4.8]),
            "S3" => b.founding(&name, bone, add(vb.c, [-9.0, 0.0, 0.0]), e, [7.0, 5.5, 4.3]),
            "S4" => b.founding(&name, bone, add(vb.c, [3.0, 0.0, 0.0]), e, [7.0, 5.0, 4.0]),
            _ => {}
        }
        // The canal behind the body (down to S2, where the thecal sac ends), 3 mm of
        // epidural tissue between the body and the CSF.
        if i <= 23 {
            let r = match vb.name.as_bytes()[0] {
                b'C' => 6.5,
                b'T' => 5.5,
                b'L' => 6.5,
                _ => 5.0,
            };
            canal.push((along(vb.c, vb.ant(), -(vb.d + 3.0 + r)), r));
        }
    }
    // Discs: a lathe from body centre to body centre; the bones hide the parts inside them.
    for pair in bodies.windows(2) {
        let (up, lo) = (&pair[0], &pair[1]);
        let sacral = lo.name.starts_with('S') && up.name.starts_with('S');
        let (w, d) = (0.97 * up.w.min(lo.w), 0.97 * up.d.min(lo.d));
        let annulus = Prim::lathe(up.c, lo.c, X, &[[0.0, w, d], [norm(sub(lo.c, up.c)), w, d]], Section::Ellipse, 1.5);
        let nucleus = Prim::lathe(
            up.c,
            lo.c,
            X,
            &[[0.0, 0.55 * w, 0.55 * d], [norm(sub(lo.c, up.c)), 0.55 * w, 0.55 * d]],
            Section::Ellipse,
            1.0,
        );
        let (vn, va) = if sacral { (330.0, 250.0) } else { (level::DISC_NUCLEUS, level::DISC_ANNULUS) };
        b.organ(&format!("disc_{}_{}_nucleus", up.name, lo.name), Shape::one(nucleus), vn);
        b.organ(&format!("disc_{}_{}_annulus", up.name, lo.name), Shape::one(annulus), va);
    }
    Spine { bodies, canal, ala_tips }
}

/// Splits a long bone at a physis: the surface through `p0` with normal `to_meta` (toward the
/// metaphysis). Returns the physis and the condition "epiphysis side".
fn physis_split(p0: V3, to_meta: V3, curv: f64, reach: f64) -> (Physis, Cond) {
    let s = Surface { p0, n: unit(to_meta), curv };
    (Physis { s, half: 1.0, ball: (p0, reach) }, Cond::Below(s, -1.0))
}

fn pelvis_and_legs(b: &mut Builder, spine: &Spine) {
    for (side, s) in SIDES {
        let m = |p: V3| mirror(p, s);
        let hc = m([72.0, -25.0, 722.0]);
        let lab = |b: &mut Builder, n: &str| b.label(format!("{n}_{side}"));

        // ---- Hip bone -------------------------------------------------------------------
        let l_ilium = lab(b, "ilium");
        let l_roof = lab(b, "acetabulum_roof");
        let l_ant = lab(b, "acetabulum_anterior_column");
        let l_post = lab(b, "acetabulum_posterior_column");
        let l_isch = lab(b, "ischium");
        let l_pub = lab(b, "pubis");
        let rel = |d: V3| add(hc, m(d));
        // Acetabular socket: a thick shell around the femoral head (radius 19 mm, 3 mm of
        // cartilage and joint space), open laterally, anteriorly and inferiorly.
        let open = unit(m([0.62, 0.35, -0.70]));
        let half_space = Prim::rbox(along(hc, open, 4.0 + 60.0), open, Y, [60.0; 3], 0.0);
        let shell = Prim::ellipsoid(hc, [33.0; 3]);
        let socket = Prim::ellipsoid(hc, [22.0; 3]);
        let mut prims = vec![Prim::difference(shell, vec![socket.clone(), half_space])];
        // Iliac wing: a thin lathe from above the acetabulum up to the crest, flaring
        // laterally; its width runs from the sacro-iliac joint forward to the anterior spine.
        let wa = rel([-6.0, -10.0, 20.0]);
        let wc = m([94.0, -36.0, 846.0]);
        let wv = m([0.67, 0.74, 0.0]);
        let wl = norm(sub(wc, wa));
        prims.push(Prim::lathe(
            wa,
            wc,
            wv,
            &[[0.0, 20.0, 10.0], [35.0, 36.0, 7.0], [70.0, 46.0, 6.0], [95.0, 43.0, 6.5], [wl, 30.0, 6.0]],
            Section::Ellipse,
            4.0,
        ));
        // Auricular part facing the sacral alae across a 3.5 mm joint.
        for (i, tip) in spine.ala_tips.iter().enumerate() {
            let t = m(*tip);
            let vb = &spine.bodies[22 + i];
            let c = add(t, [s * 11.5, 0.0, 0.0]);
            prims.push(Prim::ellipsoid_rot(c, X, vb.u, [8.0, vb.h + 2.5, 0.9 * vb.d + 4.0]));
        }
        let si_low = add(m(spine.ala_tips[2]), [s * 11.5, 0.0, -2.0]);
        // Posterior column pillar down to the back of the acetabulum; ischium to the
        // tuberosity; pubic rami to the symphysis.
        prims.push(Prim::cone(si_low, rel([-6.0, -23.0, 6.0]), 10.0, 11.0));
        let tub = rel([-20.0, -18.0, -54.0]);
        prims.push(Prim::cone(rel([-8.0, -20.0, -14.0]), tub, 11.0, 9.0));
        prims.push(Prim::ellipsoid(tub, [9.0, 12.0, 10.0]));
        let sym = m([9.5, 26.0, 702.0]);
        prims.push(Prim::cone(rel([-12.0, 15.0, -2.0]), m([10.0, 27.0, 710.0]), 9.0, 6.5));
        prims.push(Prim::ellipsoid(sym, [5.5, 8.0, 13.0]));
        prims.push(Prim::cone(m([11.0, 22.0, 692.0]), rel([-22.0, -12.0, -50.0]), 5.5, 6.5));
        let hip_shape = Shape::union(prims, 5.0).minus(socket);
        let zone = Cond::InBall(hc, 40.0);
        let above = Cond::Below(Surface::plane(rel([0.0, 0.0, 9.0]), [0.0, 0.0, -1.0]), 0.0);
        let behind = |dy: f64| Cond::Below(Surface::plane(rel([0.0, dy, 0.0]), Y), 0.0);
        let part = |label, conds| Part { label, conds, marrow: Marrow::Const(level::RED) };
        let parts = vec![
            part(l_roof, vec![zone.clone(), above.clone()]),
            part(l_post, vec![zone.clone(), behind(-2.0)]),
            part(l_ant, vec![zone]),
            part(l_ilium, vec![above]),
            part(l_isch, vec![behind(-4.0)]),
            part(l_pub, vec![]),
        ];
        let hip = b.bone(&format!("hip_{side}"), hip_shape, 1.5, parts, vec![]);
        let ef = |u: V3, v: V3| frame(u, v);
        b.anchor(l_roof, hip, rel([0.0, -3.0, 28.0]), [X, Y, Z], [3.0, 3.0, 1.0], [10.0, 8.0, 4.5], PER_SIDE * 2.0);
        b.anchor(l_post, hip, rel([-2.0, -27.0, -4.0]), [X, Y, Z], [2.0, 1.0, 3.0], [7.0, 4.5, 9.0], PER_SIDE * 1.5);
        b.anchor(l_ant, hip, rel([-4.0, 26.0, -6.0]), [X, Y, Z], [2.0, 1.0, 3.0], [7.0, 4.5, 8.0], PER_SIDE * 1.0);
        let wu = unit(sub(wc, wa));
        b.anchor(l_ilium, hip, along(wa, wu, 45.0), ef(wv, wu), [12.0, 12.0, 1.0], [16.0, 16.0, 4.5], PER_SIDE * 4.0);
        b.anchor(l_isch, hip, tub, [X, Y, Z], [2.0, 2.0, 2.0], [7.0, 9.0, 8.0], PER_SIDE * 2.5);
        b.anchor(
            l_pub,
            hip,
            rel([-24.0, 21.0, -3.0]),
            ef(unit(sub(m([10.0, 27.0, 710.0]), rel([-12.0, 15.0, -2.0]))), Z),
            [4.0, 1.0, 1.0],
            [10.0, 6.0, 6.0],
            PER_SIDE * 2.0,
        );
        if side == "right" {
            b.founding("acetabulum_roof_right", hip, rel([0.0, -3.0, 28.0]), [X, Y, Z], [9.0, 7.0, 4.6]);
        } else {
            b.founding("acetabulum_posterior_column_left", hip, rel([-2.0, -27.0, -4.0]), [X, Y, Z], [7.0, 4.5, 9.0]);
        }

        // ---- Femur ----------------------------------------------------------------------
        let l_head = lab(b, "femur_head");
        let l_neck = lab(b, "femur_neck");
        let l_shaft = lab(b, "femur_shaft");
        let l_dmeta = lab(b, "femur_distal_metaphysis");
        let l_depi = lab(b, "femur_distal_epiphysis");
        let nn = unit(m([0.67, -0.29, -0.67]));
        let base = along(hc, nn, 36.0);
        let st = m([98.0, -38.0, 700.0]);
        let kb = m([55.0, -52.0, 379.0]);
        let fu = unit(sub(kb, st));
        let fl = norm(sub(kb, st));
        let shaft = Prim::lathe(
            st,
            kb,
            X,
            &[
                [0.0, 14.0, 14.0],
                [40.0, 11.5, 11.0],
                [150.0, 10.5, 10.5],
                [fl - 85.0, 11.0, 11.0],
                [fl - 50.0, 17.0, 15.0],
                [fl - 26.0, 30.0, 23.0],
                [fl - 12.0, 32.0, 25.0],
                [fl, 30.0, 24.0],
            ],
            Section::Ellipse,
            9.0,
        );
        let femur_shape = Shape::union(
            vec![
                Prim::ellipsoid(hc, [19.0; 3]),
                Prim::cone(hc, base, 12.0, 13.0),
                Prim::ellipsoid(m([104.0, -40.0, 703.0]), [11.0, 13.0, 17.0]),
                Prim::ellipsoid(m([86.0, -45.0, 679.0]), [7.0, 7.0, 8.0]),
                shaft,
            ],
            5.0,
        );
        let (cap_phys, head_side) = physis_split(along(hc, nn, 7.0), nn, 0.008, 24.0);
        let phys_d = along(st, fu, fl - 26.0);
        let up = scale(fu, -1.0);
        let (dist_phys, depi_side) = physis_split(phys_d, up, 0.003, 40.0);
        let parts = vec![
            Part { label: l_head, conds: vec![head_side, Cond::InBall(hc, 24.0)], marrow: Marrow::Const(65.0) },
            Part {
                label: l_neck,
                conds: vec![Cond::Below(Surface::plane(base, nn), 0.0), Cond::InCyl(hc, nn, 18.0)],
                marrow: Marrow::Const(level::RED),
            },
            Part { label: l_depi, conds: vec![depi_side], marrow: Marrow::Const(65.0) },
            Part {
                label: l_dmeta,
                conds: vec![Cond::Below(Surface::plane(along(phys_d, up, 50.0), up), 0.0)],
                marrow: Marrow::Axial(st, fu, vec![[fl - 80.0, 120.0], [fl - 60.0, 150.0], [fl, 155.0]]),
            },
            Part {
                label: l_shaft,
                conds: vec![],
                marrow: Marrow::Axial(
                    st,
                    fu,
                    vec![
                        [0.0, 140.0],
                        [40.0, 135.0],
                        [100.0, 75.0],
                        [140.0, 62.0],
                        [fl - 110.0, 62.0],
                        [fl - 76.0, 110.0],
                    ],
                ),
            },
        ];
        let femur = b.bone(&format!("femur_{side}"), femur_shape, 1.8, parts, vec![cap_phys, dist_phys]);
        let nf = frame(nn, Z);
        b.anchor(l_neck, femur, along(hc, nn, 21.0), nf, [3.0, 2.0, 2.0], [9.0, 8.0, 8.0], PER_SIDE * 4.0);
        b.anchor(l_head, femur, along(hc, nn, -4.0), nf, [3.0, 3.0, 3.0], [9.0, 9.0, 9.0], PER_SIDE * 1.0);
        let sf = frame(fu, X);
        b.anchor(l_shaft, femur, along(st, fu, 150.0), sf, [50.0, 1.0, 1.0], [22.0, 7.5, 7.5], PER_SIDE * 2.0);
        let ff = [X, frame(fu, X)[2], fu];
        b.anchor(l_dmeta, femur, along(phys_d, up, 14.0), ff, [10.0, 5.0, 5.0], [20.0, 15.0, 11.0], PER_SIDE * 14.0);
        b.anchor(l_depi, femur, along(phys_d, fu, 11.0), ff, [8.0, 5.0, 2.0], [17.0, 13.0, 6.5], PER_SIDE * 2.0);
        if side == "left" {
            b.founding("femur_neck_left", femur, along(hc, nn, 20.0), nf, [8.5, 7.0, 7.0]);
        }

        // ---- Tibia ----------------------------------------------------------------------
        let l_pepi = lab(b, "tibia_proximal_epiphysis");
        let l_pmeta = lab(b, "tibia_proximal_metaphysis");
        let l_tshaft = lab(b, "tibia_shaft");
        let l_tdmeta = lab(b, "tibia_distal_metaphysis");
        let tp = m([55.0, -54.0, 374.0]);
        let td = m([52.0, -58.0, 72.0]);
        let tu = unit(sub(td, tp));
        let tl = norm(sub(td, tp));
        let tib = Prim::lathe(
            tp,
            td,
            X,
            &[
                [0.0, 31.0, 22.0],
                [8.0, 32.0, 23.0],
                [18.0, 30.0, 22.0],
                [30.0, 26.0, 20.0],
                [55.0, 16.0, 15.0],
                [80.0, 12.0, 12.0],
                [150.0, 10.5, 10.5],
                [tl - 70.0, 11.0, 11.0],
                [tl - 40.0, 14.0, 13.0],
                [tl - 16.0, 17.0, 15.0],
                [tl, 17.0, 15.0],
            ],
            Section::Ellipse,
            4.0,
        );
        let tub_t = Prim::ellipsoid(m([55.0, -32.0, 342.0]), [9.0, 6.0, 14.0]);
        let (pp, pepi_side) = physis_split(along(tp, tu, 18.0), tu, -0.002, 40.0);
        let pd0 = along(tp, tu, tl - 16.0);
        let (dp, _) = physis_split(pd0, scale(tu, -1.0), 0.004, 25.0);
        let parts = vec![
            Part { label: l_pepi, conds: vec![pepi_side], marrow: Marrow::Const(65.0) },
            Part {
                label: l_pmeta,
                conds: vec![Cond::Below(Surface::plane(along(tp, tu, 60.0), tu), 0.0)],
                marrow: Marrow::Axial(tp, tu, vec![[18.0, 155.0], [45.0, 150.0], [62.0, 125.0]]),
            },
            Part {
                label: l_tdmeta,
                conds: vec![Cond::Below(Surface::plane(along(tp, tu, tl - 50.0), scale(tu, -1.0)), 0.0)],
                marrow: Marrow::Axial(
                    tp,
                    tu,
                    vec![[tl - 58.0, 95.0], [tl - 44.0, 150.0], [tl - 17.0, 155.0], [tl - 15.0, 65.0], [tl, 62.0]],
                ),
            },
            Part {
                label: l_tshaft,
                conds: vec![],
                marrow: Marrow::Axial(tp, tu, vec![[60.0, 115.0], [90.0, 65.0], [tl - 80.0, 62.0], [tl - 52.0, 110.0]]),
            },
        ];
        let tibia = b.bone(&format!("tibia_{side}"), Shape::union(vec![tib, tub_t], 4.0), 1.8, parts, vec![pp, dp]);
        let tf = [X, frame(tu, X)[2], tu];
        b.anchor(l_pmeta, tibia, along(tp, tu, 31.0), tf, [8.0, 5.0, 6.0], [19.0, 14.0, 12.0], PER_SIDE * 12.0);
        b.anchor(l_pepi, tibia, along(tp, tu, 9.0), tf, [8.0, 5.0, 1.0], [18.0, 13.0, 6.0], PER_SIDE * 2.0);
        b.anchor(
            l_tshaft,
            tibia,
            along(tp, tu, 150.0),
            frame(tu, X),
            [50.0, 1.0, 1.0],
            [20.0, 7.5, 7.5],
            PER_SIDE * 2.0,
        );
        b.anchor(l_tdmeta, tibia, along(tp, tu, tl - 30.0), tf, [3.0, 2.0, 6.0], [11.0, 10.0, 12.0], PER_SIDE * 10.0);

        // ---- Fibula ---------------------------------------------------------------------
        let l_fib = lab(b, "fibula");
        let f0 = m([86.0, -76.0, 358.0]);
        let f1 = m([85.0, -75.0, 330.0]);
        let f2 = m([83.0, -70.0, 100.0]);
        let f3 = m([81.0, -66.0, 58.0]);
        let fib_shape = Shape::union(
            vec![Prim::cone(f0, f1, 9.0, 6.5), Prim::capsule(f1, f2, 5.5), Prim::cone(f2, f3, 5.5, 8.5)],
            4.0,
        );
        let fa = along(f0, unit(sub(f0, f3)), 9.0);
        let fu2 = unit(sub(f3, f0));
        let flen = norm(sub(f3, fa)) + 8.5;
        let (fp1, _) = physis_split(along(fa, fu2, 11.0), fu2, 0.0, 12.0);
        let (fp2, _) = physis_split(along(fa, fu2, flen - 14.0), scale(fu2, -1.0), 0.0, 12.0);
        let fib_marrow = Marrow::Axial(
            fa,
            fu2,
            vec![
                [10.0, 65.0],
                [12.0, 145.0],
                [30.0, 140.0],
                [50.0, 62.0],
                [flen - 50.0, 62.0],
                [flen - 32.0, 140.0],
                [flen - 15.0, 145.0],
                [flen - 13.0, 65.0],
            ],
        );
        let fib = b.bone(
            &format!("fibula_{side}"),
            fib_shape,
            1.5,
            vec![Part { label: l_fib, conds: vec![], marrow: fib_marrow }],
            vec![fp1, fp2],
        );
        b.anchor(
            l_fib,
            fib,
            along(fa, fu2, flen - 26.0),
            frame(fu2, X),
            [4.0, 0.5, 0.5],
            [10.0, 5.0, 5.0],
            PER_SIDE * 1.5,
        );
        b.anchor(l_fib, fib, along(fa, fu2, 24.0), frame(fu2, X), [4.0, 0.5, 0.5], [10.0, 4.5, 4.5], PER_SIDE * 1.5);

        // ---- Calcaneus ------------------------------------------------------------------
        let l_calc = lab(b, "calcaneus");
        let cc = m([52.0, -64.0, 28.0]);
        let cu = unit([0.0, 0.94, 0.34]);
        let calc_shape = Shape::union(
            vec![
                Prim::ellipsoid_rot(cc, cu, X, [30.0, 13.0, 15.0]),
                Prim::ellipsoid(m([52.0, -50.0, 42.0]), [12.0, 12.0, 6.0]),
            ],
            4.0,
        );
        // The calcaneal apophysis: a plate near the posterior end.
        let (ap, _) = physis_split(along(cc, cu, -21.0), cu, 0.01, 16.0);
        let calc = b.bone(&format!("calcaneus_{side}"), calc_shape, 1.5, one_part(l_calc, 62.0), vec![ap]);
        b.anchor(l_calc, calc, along(cc, cu, 2.0), frame(cu, X), [8.0, 3.0, 3.0], [15.0, 9.0, 10.0], PER_SIDE * 3.0);
    }
}

fn upper_body(b: &mut Builder) {
    // ---- Sternum: manubrium and three sternebrae separated by cartilage ------------------
    let l_st = b.label("sternum".into());
    let st_prims = vec![
        Prim::rbox([0.0, 36.0, 1069.0], X, unit([0.0, 1.0, -0.15]), [13.0, 5.0, 18.0], 4.0),
        Prim::rbox([0.0, 39.0, 1030.0], X, unit([0.0, 1.0, -0.2]), [10.5, 4.7, 13.0], 3.5),
        Prim::rbox([0.0, 41.5, 1000.0], X, unit([0.0, 1.0, -0.2]), [10.5, 4.7, 13.0], 3.5),
        Prim::rbox([0.0, 44.0, 970.0], X, unit([0.0, 1.0, -0.2]), [9.5, 4.5, 12.0], 3.5),
    ];
    let st = b.bone("sternum", Shape::union(st_prims, 0.0), 1.3, one_part(l_st, level::RED), vec![]);
    b.anchor(l_st, st, [0.0, 36.0, 1068.0], [X, Y, Z], [3.0, 0.5, 5.0], [9.0, 3.6, 11.0], 1.0);
    b.anchor(l_st, st, [0.0, 40.5, 1015.0], [X, Y, Z], [2.0, 0.5, 15.0], [8.0, 3.3, 11.0], 1.0);

    for (side, s) in SIDES {
        let m = |p: V3| mirror(p, s);
        // ---- Clavicle: an S-shaped rod from the sternal notch to the acromion ------------
        let l_cl = b.label(format!("clavicle_{side}"));
        let c0 = m([24.0, 30.0, 1093.0]);
        let c1 = m([60.0, 24.0, 1103.0]);
        let c2 = m([110.0, -28.0, 1113.0]);
        let cl_shape = Shape::union(vec![Prim::cone(c0, c1, 7.5, 6.5), Prim::cone(c1, c2, 6.5, 7.0)], 4.0);
        let cl = b.bone(&format!("clavicle_{side}"), cl_shape, 1.5, one_part(l_cl, 130.0), vec![]);
        b.anchor(
            l_cl,
            cl,
            along(c0, unit(sub(c1, c0)), 17.0),
            frame(sub(c1, c0), Z),
            [6.0, 0.5, 0.5],
            [13.0, 4.6, 4.6],
            3.0,
        );
        b.anchor(
            l_cl,
            cl,
            along(c1, unit(sub(c2, c1)), 25.0),
            frame(sub(c2, c1), Z),
            [10.0, 0.5, 0.5],
            [13.0, 4.2, 4.2],
            3.0,
        );

        // ---- Humerus --------------------------------------------------------------------
        let l_hm = b.label(format!("humerus_proximal_metaphysis_{side}"));
        let l_hs = b.label(format!("humerus_shaft_{side}"));
        let hh = m([122.0, -45.0, 1078.0]);
        let h0 = m([127.0, -46.0, 1060.0]);
        let h1 = m([135.0, -44.0, 852.0]);
        let hu = unit(sub(h1, h0));
        let hl = norm(sub(h1, h0));
        let shaft = Prim::lathe(
            h0,
            h1,
            X,
            &[
                [0.0, 15.0, 15.0],
                [25.0, 11.0, 11.0],
                [60.0, 9.5, 9.0],
                [150.0, 9.0, 8.5],
                [185.0, 14.0, 9.0],
                [hl, 21.0, 10.0],
            ],
            Section::Ellipse,
            4.0,
        );
        let hshape = Shape::union(
            vec![Prim::ellipsoid(hh, [17.0; 3]), Prim::ellipsoid(m([132.0, -42.0, 1074.0]), [8.0, 10.0, 12.0]), shaft],
            5.0,
        );
        let p0 = add(hh, m([1.5, 0.0, -10.0]));
        let (hp, head_side) = physis_split(p0, hu, 0.01, 24.0);
        let parts = vec![
            Part { label: l_hm, conds: vec![head_side, Cond::InBall(hh, 22.0)], marrow: Marrow::Const(65.0) },
            Part {
                label: l_hm,
                conds: vec![Cond::Below(Surface::plane(along(p0, hu, 42.0), hu), 0.0)],
                marrow: Marrow::Axial(p0, hu, vec![[0.0, 155.0], [30.0, 150.0], [42.0, 125.0]]),
            },
            Part { label: l_hs, conds: vec![], marrow: Marrow::Axial(p0, hu, vec![[42.0, 120.0], [75.0, 62.0]]) },
        ];
        let hum = b.bone(&format!("humerus_{side}"), hshape, 1.6, parts, vec![hp]);
        let hf = [X, frame(hu, X)[2], hu];
        b.anchor(l_hm, hum, along(p0, hu, 16.0), hf, [3.0, 3.0, 5.0], [11.0, 10.0, 10.0], PER_SIDE * 3.0);
        b.anchor(l_hs, hum, along(p0, hu, 110.0), frame(hu, X), [40.0, 0.5, 0.5], [18.0, 6.5, 6.0], PER_SIDE * 1.0);
    }
}

fn other_bones(b: &mut Builder, spine: &Spine) {
    let om = level::OTHER_MARROW;
    // Posterior arches (pedicles, laminae, spinous processes) of C3 .. S1.
    for (i, vb) in spine.bodies.iter().enumerate().take(23) {
        let (cc, r) = spine.canal[i];
        let ant = vb.ant();
        let cerv = vb.name.starts_with('C');
        let pr = if cerv { 2.6 } else { 3.4 };
        let mut prims = Vec::new();
        let lat = r + 3.0 + pr;
        let tip_len = if cerv { 12.0 } else { 18.0 };
        let drop = if vb.name.starts_with('T') { 12.0 } else { 4.0 };
        let back = along(cc, ant, -(r + 3.0 + pr));
        for (_, s) in SIDES {
            let ped0 = add(along(vb.c, ant, -0.75 * vb.d), [s * 0.55 * vb.w, 0.0, 0.0]);
            let ped1 = add(cc, [s * lat, 0.0, 0.0]);
            prims.push(Prim::capsule(ped0, ped1, pr));
            prims.push(Prim::capsule(ped1, add(back, [s * 0.3 * lat, 0.0, 0.0]), pr * 0.85));
        }
        prims.push(Prim::capsule(back, along(along(back, ant, -tip_len), vb.u, -drop), pr));
        b.plain_bone(&format!("arch_{}", vb.name), Shape::union(prims, 2.0), om);
    }
    // C1 and C2 (unlabelled).
    b.plain_bone(
        "C2",
        Shape::one(Prim::lathe(
            [0.0, -16.0, 1211.0],
            [0.0, -16.0, 1236.0],
            X,
            &[[0.0, 10.0, 7.5], [16.0, 9.0, 7.0], [25.0, 4.5, 4.5]],
            Section::Ellipse,
            2.0,
        )),
        om,
    );
    // Ribs: each a chain of capsules from beside its thoracic body around the chest wall.
    let scale_x = [0.55, 0.68, 0.77, 0.84, 0.89, 0.93, 0.96, 0.98, 1.0, 1.0, 0.98, 0.96];
    for (n, &sx) in scale_x.iter().enumerate() {
        let vb = &spine.bodies[5 + n];
        let z0 = vb.c[2] + 2.0;
        let fall = 40.0 + 3.0 * n as f64;
        for (side, s) in SIDES {
            let mut pts: Vec<V3> = vec![
                [s * (vb.w + 8.0), vb.c[1] - 0.6 * vb.d, z0],
                [s * 42.0 * sx, -76.0, z0 - 4.0],
                [s * 86.0 * sx, -62.0, z0 - 0.35 * fall],
                [s * 103.0 * sx, -20.0, z0 - 0.7 * fall],
            ];
            if n < 10 {
                pts.push([s * 88.0 * sx, 22.0, z0 - 1.0 * fall]);
                pts.push([s * 58.0 * sx, 40.0, z0 - 1.15 * fall]);
            }
            if n == 0 {
                // The first rib is short and steep.
                pts = vec![
                    [s * (vb.w + 8.0), vb.c[1] - 0.6 * vb.d, z0],
                    [s * 40.0, -60.0, z0 - 2.0],
                    [s * 58.0, -30.0, z0 - 12.0],
                    [s * 45.0, 12.0, z0 - 35.0],
                    [s * 22.0, 28.0, z0 - 62.0],
                ];
            }
            let prims = pts.windows(2).map(|w| Prim::capsule(w[0], w[1], 3.6)).collect();
            b.plain_bone(&format!("rib_{}_{side}", n + 1), Shape::union(prims, 2.0), om);
        }
    }
    for (side, s) in SIDES {
        let m = |p: V3| mirror(p, s);
        // Scapula: a thin plate on the back of the chest, its glenoid neck and acromion.
        let sc = Shape::union(
            vec![
                Prim::ellipsoid_rot(m([78.0, -70.0, 1038.0]), m([0.93, 0.35, 0.0]), Z, [34.0, 52.0, 4.5]),
                Prim::capsule(m([90.0, -64.0, 1062.0]), m([96.0, -53.0, 1075.0]), 6.5),
                Prim::capsule(m([96.0, -76.0, 1088.0]), m([116.0, -46.0, 1105.0]), 5.0),
            ],
            3.0,
        );
        b.plain_bone(&format!("scapula_{side}"), sc, om);
        // Forearm and hand.
        b.plain_bone(
            &format!("radius_{side}"),
            Shape::one(Prim::cone(m([134.0, -38.0, 842.0]), m([140.0, -33.0, 668.0]), 6.0, 8.0)),
            70.0,
        );
        b.plain_bone(
            &format!("ulna_{side}"),
            Shape::one(Prim::cone(m([140.0, -60.0, 838.0]), m([145.0, -50.0, 672.0]), 7.0, 5.0)),
            70.0,
        );
        let mut hand = vec![Prim::ellipsoid(m([143.0, -42.0, 650.0]), [8.0, 17.0, 9.0])];
        for y in [-54.0, -46.0, -38.0, -30.0] {
            hand.push(Prim::capsule(m([143.0, y, 636.0]), m([143.5, y + 1.0, 592.0]), 3.4));
        }
        b.plain_bone(&format!("hand_{side}"), Shape::union(hand, 2.0), 70.0);
        // Knee cap, talus, mid-foot and metatarsals.
        b.plain_bone(
            &format!("patella_{side}"),
            Shape::one(Prim::ellipsoid(m([55.0, -19.0, 402.0]), [16.0, 7.5, 18.0])),
            70.0,
        );
        b.plain_bone(
            &format!("talus_{side}"),
            Shape::one(Prim::ellipsoid_rot(m([52.0, -50.0, 58.0]), Y, X, [19.0, 14.0, 10.0])),
            70.0,
        );
        let mut foot = vec![Prim::ellipsoid(m([53.0, -12.0, 36.0]), [22.0, 17.0, 11.0])];
        for (k, dx) in [-16.0, -8.0, 0.0, 8.0, 16.0].iter().enumerate() {
            let len = 52.0 - 4.0 * k as f64;
            foot.push(Prim::capsule(m([53.0 + dx, 10.0, 32.0]), m([54.0 + dx * 1.2, 10.0 + len, 22.0]), 4.0));
        }
        b.plain_bone(&format!("foot_{side}"), Shape::union(foot, 2.0), 70.0);
    }
    let skull = Shape::one(Prim::difference(
        Prim::ellipsoid([0.0, -10.0, 1302.0], [66.0, 84.0, 94.0]),
        vec![Prim::ellipsoid([0.0, -10.0, 1302.0], [60.0, 78.0, 88.0])],
    ));
    b.bone("skull", skull, 1.5, one_part(0, level::YELLOW), vec![]);
    let mut mand = Vec::new();
    for (_, s) in SIDES {
        mand.push(Prim::capsule([s * 44.0, -6.0, 1232.0], [s * 40.0, 0.0, 1200.0], 6.0));
        mand.push(Prim::capsule([s * 40.0, 0.0, 1200.0], [s * 26.0, 38.0, 1192.0], 6.0));
        mand.push(Prim::capsule([s * 26.0, 38.0, 1192.0], [0.0, 50.0, 1190.0], 6.5));
    }
    b.plain_bone("mandible", Shape::union(mand, 3.0), 90.0);
}

fn soft_tissues(b: &mut Builder, spine: &Spine) {
    // ---- Body outline ----------------------------------------------------------------------
    let mut body = vec![
        Prim::ellipsoid([0.0, -10.0, 1300.0], [71.0, 89.0, 102.0]),
        Prim::ellipsoid([0.0, 14.0, 1212.0], [52.0, 54.0, 40.0]),
        Prim::lathe(
            [0.0, -24.0, 1130.0],
            [0.0, -24.0, 1240.0],
            X,
            &[[0.0, 56.0, 56.0], [30.0, 47.0, 50.0], [110.0, 50.0, 56.0]],
            Section::Ellipse,
            6.0,
        ),
        Prim::lathe(
            [0.0, -25.0, 672.0],
            [0.0, -25.0, 1148.0],
            X,
            &[
                [0.0, 95.0, 70.0],
                [28.0, 122.0, 76.0],
                [88.0, 126.0, 78.0],
                [128.0, 121.0, 77.0],
                [188.0, 108.0, 74.0],
                [258.0, 111.0, 76.0],
                [328.0, 117.0, 78.0],
                [388.0, 121.0, 75.0],
                [438.0, 128.0, 68.0],
                [476.0, 112.0, 56.0],
            ],
            Section::RoundRect(0.8),
            20.0,
        ),
    ];
    for (_, s) in SIDES {
        let m = |p: V3| mirror(p, s);
        body.push(Prim::lathe(
            m([125.0, -45.0, 1102.0]),
            m([141.0, -42.0, 660.0]),
            X,
            &[[0.0, 34.0, 37.0], [90.0, 31.0, 33.0], [240.0, 25.0, 28.0], [300.0, 26.0, 27.0], [442.0, 19.0, 18.0]],
            Section::Ellipse,
            8.0,
        ));
        body.push(Prim::ellipsoid(m([143.0, -40.0, 607.0]), [13.0, 36.0, 60.0]));
        body.push(Prim::lathe(
            m([72.0, -38.0, 748.0]),
            m([56.0, -50.0, 378.0]),
            X,
            &[[0.0, 62.0, 60.0], [120.0, 52.0, 52.0], [300.0, 41.0, 43.0], [371.0, 42.0, 44.0]],
            Section::Ellipse,
            10.0,
        ));
        body.push(Prim::lathe(
            m([56.0, -50.0, 378.0]),
            m([52.0, -62.0, 40.0]),
            X,
            &[[0.0, 42.0, 44.0], [70.0, 40.0, 45.0], [180.0, 30.0, 33.0], [300.0, 24.0, 27.0], [338.0, 25.0, 31.0]],
            Section::Ellipse,
            10.0,
        ));
        body.push(Prim::lathe(
            m([52.0, -97.0, 30.0]),
            m([57.0, 108.0, 24.0]),
            X,
            &[[0.0, 28.0, 28.0], [30.0, 33.0, 31.0], [100.0, 38.0, 29.0], [170.0, 40.0, 18.0], [205.0, 30.0, 10.0]],
            Section::Ellipse,
            8.0,
        ));
    }
    b.body = body;

    // ---- Organs (first match wins) -----------------------------------------------------
    // Spinal cord inside the CSF-filled canal, from the foramen magnum to L1, and the
    // thecal sac down to S2.
    let top = ([0.0, spine.canal[0].0[1] - 3.0, 1250.0], 7.0);
    let mut csf = vec![Prim::cone(top.0, spine.canal[0].0, top.1, spine.canal[0].1)];
    for w in spine.canal.windows(2) {
        csf.push(Prim::cone(w[0].0, w[1].0, w[0].1, w[1].1));
    }
    let mut cord = vec![Prim::capsule(top.0, spine.canal[0].0, 4.5)];
    for w in spine.canal[..18].windows(2) {
        cord.push(Prim::capsule(w[0].0, w[1].0, if w[1].0[2] > 1100.0 { 4.5 } else { 3.8 }));
    }
    b.organ("spinal_cord", Shape::union(cord, 0.0), 115.0);
    b.organ("csf_canal", Shape::union(csf, 0.0), level::CSF);
    // Brain with its lateral ventricles.
    for (_, s) in SIDES {
        b.organ("ventricle", Shape::one(Prim::ellipsoid([s * 9.0, -8.0, 1318.0], [4.0, 20.0, 9.0])), level::CSF);
    }
    b.organ("brain", Shape::one(Prim::ellipsoid([0.0, -10.0, 1302.0], [59.0, 77.0, 87.0])), 125.0);
    // Bladder: fluid-bright, kept clear of the pubis and the acetabula.
    b.organ("bladder", Shape::one(Prim::ellipsoid([0.0, -2.0, 742.0], [28.0, 22.0, 21.0])), level::BLADDER);
    // Lymph nodes: small bright ovals (inguinal, axillary, cervical), away from labelled bone.
    for (_, s) in SIDES {
        for (c, r) in [
            ([80.0, 24.0, 676.0], [6.0, 5.0, 9.0]),
            ([64.0, 28.0, 690.0], [5.0, 4.0, 7.0]),
            ([92.0, -28.0, 1035.0], [6.0, 6.0, 8.0]),
            ([36.0, 0.0, 1168.0], [5.0, 5.0, 8.0]),
        ] {
            b.organ("lymph_node", Shape::one(Prim::ellipsoid(mirror(c, s), r)), level::NODE);
        }
    }
    // Thoracic and abdominal organs.
    b.organ("aorta", Shape::one(Prim::capsule([-10.0, -14.0, 760.0], [-8.0, -16.0, 1040.0], 7.0)), 25.0);
    b.organ("heart", Shape::one(Prim::ellipsoid([-14.0, 8.0, 960.0], [50.0, 40.0, 52.0])), 75.0);
    b.organ("liver", Shape::one(Prim::ellipsoid([32.0, -10.0, 862.0], [78.0, 60.0, 58.0])), 85.0);
    b.organ("spleen", Shape::one(Prim::ellipsoid([-72.0, -48.0, 880.0], [20.0, 28.0, 40.0])), 240.0);
    for (_, s) in SIDES {
        b.organ("kidney", Shape::one(Prim::ellipsoid([s * 56.0, -52.0, 828.0], [18.0, 17.0, 42.0])), 210.0);
    }
    b.organ("lung_right", Shape::one(Prim::ellipsoid([52.0, -24.0, 1000.0], [44.0, 52.0, 108.0])), 12.0);
    b.organ("lung_left", Shape::one(Prim::ellipsoid([-54.0, -26.0, 1000.0], [42.0, 50.0, 105.0])), 12.0);
    b.organ("bowel", Shape::one(Prim::ellipsoid([0.0, 10.0, 800.0], [75.0, 45.0, 50.0])), 135.0);
}
