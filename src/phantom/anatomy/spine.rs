//! The spine: vertebral bodies, sacral segments, discs and the canal.

use super::*;
use crate::phantom::geom::{add, along, mirror, norm, scale, sub, unit, Prim, Section, Shape};

pub(super) fn spine(b: &mut Builder) -> Spine {
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
        // Subchondral sites: both endplates of a thoracic or lumbar body (cervical bodies are
        // too thin for a strip under one endplate alone); the sacral side of the
        // sacroiliac joint (the alae of S1 and S2).
        let plate_weight = match vb.name.as_bytes()[0] {
            b'T' => 0.1,
            b'L' => 0.15,
            _ => 0.0,
        };
        if plate_weight > 0.0 {
            for dir in [1.0, -1.0] {
                let n = scale(vb.u, dir);
                b.articular(bone, along(vb.c, n, vb.h), n, X, [0.55 * vb.w, 0.45 * vb.d], vb.h, plate_weight);
            }
        }
        if sacral && i - 22 < 2 {
            let tip = *ala_tips.last().expect("this segment's ala");
            let reach = [0.5 * (vb.h - 0.5), 0.4 * (0.9 * vb.d + 3.0)];
            for (_, s) in SIDES {
                b.articular(bone, mirror(tip, s), [s, 0.0, 0.0], vb.u, reach, 8.0, PER_SIDE);
            }
        }
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
