//! Unlabelled bones (arches, ribs, scapulae, hands, feet, skull) and the soft tissues.

use super::*;
use crate::phantom::geom::{add, along, mirror, Prim, Section, Shape, V3};

pub(super) fn other_bones(b: &mut Builder, spine: &Spine) {
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

pub(super) fn soft_tissues(b: &mut Builder, spine: &Spine) {
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
