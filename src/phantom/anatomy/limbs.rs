//! The pelvis, the legs and the upper limbs with the sternum and clavicles: the labelled long
//! and flat bones with their growth plates.

use super::*;
use crate::phantom::geom::{add, along, frame, mirror, norm, scale, sub, unit, Prim, Section, Shape, V3};

/// Splits a long bone at a physis: the surface through `p0` with normal `to_meta` (toward the
/// metaphysis). Returns the physis and the condition "epiphysis side".
pub(super) fn physis_split(p0: V3, to_meta: V3, curv: f64, reach: f64) -> (Physis, Cond) {
    physis_bent(p0, to_meta, curv, Bend::Parabola, reach)
}

/// As [`physis_split`], the plate bent as `bend` says.
fn physis_bent(p0: V3, to_meta: V3, curv: f64, bend: Bend, reach: f64) -> (Physis, Cond) {
    let s = Surface { p0, n: unit(to_meta), curv, bend };
    (Physis { s, half: 1.0, ball: (p0, reach) }, Cond::Below(s, -1.0))
}

/// Radius (mm) of the sphere of the curved femoral head physis: a cap bulging toward the
/// head, about 5 mm deeper at the rim (12 mm from its axis) than at its apex.
const HEAD_CAP_RADIUS: f64 = 17.0;

/// Slope of the tent of the curved proximal humeral physis: its rim (14 mm from the apex's
/// axis) about 8 mm distal to the apex.
const HUMERAL_TENT_SLOPE: f64 = 0.55;

/// One side of the body: its name in labels and the sign of x that mirrors the right side's
/// coordinates onto it.
#[derive(Clone, Copy)]
struct Side {
    name: &'static str,
    s: f64,
}

impl Side {
    /// The right side's point `p` mirrored onto this side.
    fn m(self, p: V3) -> V3 {
        mirror(p, self.s)
    }

    /// A new label `n` of this side (`ilium_right`).
    fn label(self, b: &mut Builder, n: &str) -> u16 {
        b.label(format!("{n}_{}", self.name))
    }

    /// The centre of the femoral head, which the acetabulum is drawn around.
    fn hip_centre(self) -> V3 {
        self.m([72.0, -25.0, 722.0])
    }
}

pub(super) fn pelvis_and_legs(b: &mut Builder, spine: &Spine) {
    for (name, s) in SIDES {
        let side = Side { name, s };
        hip_bone(b, spine, side);
        femur(b, side);
        tibia(b, side);
        fibula(b, side);
        calcaneus(b, side);
    }
}

/// The hip bone of one side (ilium, acetabulum, ischium, pubis), with its anchors and articular surfaces.
fn hip_bone(b: &mut Builder, spine: &Spine, side: Side) {
    let m = |p: V3| side.m(p);
    let hc = side.hip_centre();
    let lab = |b: &mut Builder, n: &str| side.label(b, n);
    let s = side.s;
    let side = side.name;
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
    // Articular surfaces: the acetabular roof (facing the femoral head) and the iliac
    // side of the sacroiliac joint at S1 and S2.
    let roof = unit(m([0.25, 0.0, 0.97]));
    b.articular(hip, along(hc, roof, 22.0), scale(roof, -1.0), Y, [9.0, 8.0], 8.0, PER_SIDE * 2.0);
    for (tip, vb) in spine.ala_tips.iter().zip(&spine.bodies[22..24]) {
        let reach = [0.6 * (vb.h + 2.5), 0.5 * (0.9 * vb.d + 4.0)];
        b.articular(hip, add(m(*tip), [s * 3.5, 0.0, 0.0]), [-s, 0.0, 0.0], vb.u, reach, 8.0, PER_SIDE);
    }
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
}

/// The femur of one side, with its curved head physis and distal physis.
fn femur(b: &mut Builder, side: Side) {
    let m = |p: V3| side.m(p);
    let hc = side.hip_centre();
    let lab = |b: &mut Builder, n: &str| side.label(b, n);
    let side = side.name;
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
    let cap_bend = if b.curved { Bend::Sphere(HEAD_CAP_RADIUS) } else { Bend::Parabola };
    let (cap_phys, head_side) = physis_bent(along(hc, nn, 7.0), nn, 0.008, cap_bend, 24.0);
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
                vec![[0.0, 140.0], [40.0, 135.0], [100.0, 75.0], [140.0, 62.0], [fl - 110.0, 62.0], [fl - 76.0, 110.0]],
            ),
        },
    ];
    let femur = b.bone(&format!("femur_{side}"), femur_shape, 1.8, parts, vec![cap_phys, dist_phys]);
    // The weight-bearing surface of the head, under the acetabular roof.
    let top = unit(m([0.30, 0.0, 0.95]));
    b.articular(femur, along(hc, top, 19.0), top, Y, [9.0, 9.0], 12.0, PER_SIDE);
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
}

/// The tibia of one side, with its physes.
fn tibia(b: &mut Builder, side: Side) {
    let m = |p: V3| side.m(p);
    let lab = |b: &mut Builder, n: &str| side.label(b, n);
    let side = side.name;
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
    b.anchor(l_tshaft, tibia, along(tp, tu, 150.0), frame(tu, X), [50.0, 1.0, 1.0], [20.0, 7.5, 7.5], PER_SIDE * 2.0);
    b.anchor(l_tdmeta, tibia, along(tp, tu, tl - 30.0), tf, [3.0, 2.0, 6.0], [11.0, 10.0, 12.0], PER_SIDE * 10.0);
}

/// The fibula of one side, with its physes.
fn fibula(b: &mut Builder, side: Side) {
    let m = |p: V3| side.m(p);
    let lab = |b: &mut Builder, n: &str| side.label(b, n);
    let side = side.name;
    let l_fib = lab(b, "fibula");
    let f0 = m([86.0, -76.0, 358.0]);
    let f1 = m([85.0, -75.0, 330.0]);
    let f2 = m([83.0, -70.0, 100.0]);
    let f3 = m([81.0, -66.0, 58.0]);
    let fib_shape =
        Shape::union(vec![Prim::cone(f0, f1, 9.0, 6.5), Prim::capsule(f1, f2, 5.5), Prim::cone(f2, f3, 5.5, 8.5)], 4.0);
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
    b.anchor(l_fib, fib, along(fa, fu2, flen - 26.0), frame(fu2, X), [4.0, 0.5, 0.5], [10.0, 5.0, 5.0], PER_SIDE * 1.5);
    b.anchor(l_fib, fib, along(fa, fu2, 24.0), frame(fu2, X), [4.0, 0.5, 0.5], [10.0, 4.5, 4.5], PER_SIDE * 1.5);
}

/// The calcaneus of one side, with its apophysis.
fn calcaneus(b: &mut Builder, side: Side) {
    let m = |p: V3| side.m(p);
    let lab = |b: &mut Builder, n: &str| side.label(b, n);
    let side = side.name;
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

pub(super) fn upper_body(b: &mut Builder) {
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
        let tent = if b.curved { Bend::Cone(HUMERAL_TENT_SLOPE) } else { Bend::Parabola };
        let (hp, head_side) = physis_bent(p0, hu, 0.01, tent, 24.0);
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
