//! The phantom's anatomy: region names against the vocabulary, sensible bone positions and
//! sizes, no overlap between labelled bones, and fluid confounders clear of bone.

use super::*;

#[test]
fn region_names_follow_the_vocabulary_and_cover_the_atlas() {
    let ph = founding_coarse();
    let vocab = vocabulary();
    let names: BTreeSet<String> = ph.labels.iter().map(|(_, n)| n.to_string()).collect();
    assert_eq!(names, vocab, "the table holds exactly the vocabulary");
    let used: BTreeSet<u16> = ph.atlas.data.iter().copied().filter(|&l| l != 0).collect();
    for l in &used {
        assert!(ph.labels.name(*l as u32).is_some(), "atlas label {l} not in the table");
    }
    // Every region is present, even on the coarse grid.
    let table: BTreeSet<u16> = ph.labels.iter().map(|(l, _)| l as u16).collect();
    assert_eq!(used, table);
    // Sides follow the subject: left regions at x < 0.
    for (l, name) in ph.labels.iter() {
        let c = centroid(&ph.atlas.grid, |i| ph.atlas.data[i] as u32 == l).unwrap();
        if name.ends_with("_left") {
            assert!(c[0] < -5.0, "{name} {c:?}");
        } else if name.ends_with("_right") {
            assert!(c[0] > 5.0, "{name} {c:?}");
        } else {
            assert!(c[0].abs() < 3.0, "{name} {c:?}");
        }
    }
}

#[test]
fn anatomy_is_sensible() {
    let ph = founding_coarse();
    let g = ph.atlas.grid;
    let c = |name: &str| {
        let l = ph.labels.label_of(name).unwrap() as u16;
        centroid(&g, |i| ph.atlas.data[i] == l).unwrap()
    };
    for side in ["left", "right"] {
        let s = if side == "left" { -1.0 } else { 1.0 };
        let n = |p: &str| c(&format!("{p}_{side}"));
        let head = n("femur_head");
        assert!(n("acetabulum_roof")[2] > head[2] + 10.0, "roof above the femoral head");
        assert!(n("acetabulum_posterior_column")[1] < head[1] - 10.0, "posterior column behind it");
        assert!(n("acetabulum_anterior_column")[1] > head[1] + 10.0, "anterior column in front");
        let (neck, shaft) = (n("femur_neck"), n("femur_shaft"));
        assert!(s * neck[0] > s * head[0] && neck[2] < head[2] && neck[2] > shaft[2], "neck between head and shaft");
        assert!(n("ilium")[2] > n("acetabulum_roof")[2] && n("ischium")[2] < head[2] && n("pubis")[1] > head[1]);
        let chain = ["femur_shaft", "femur_distal_metaphysis", "femur_distal_epiphysis", "tibia_proximal_epiphysis"];
        for w in chain.windows(2) {
            assert!(n(w[0])[2] > n(w[1])[2], "{} above {}", w[0], w[1]);
        }
        let chain = ["tibia_proximal_metaphysis", "tibia_shaft", "tibia_distal_metaphysis", "calcaneus"];
        for w in chain.windows(2) {
            assert!(n(w[0])[2] > n(w[1])[2], "{} above {}", w[0], w[1]);
        }
        assert!(s * n("fibula")[0] > s * n("tibia_shaft")[0], "fibula lateral to the tibia");
        assert!(n("humerus_proximal_metaphysis")[2] > n("humerus_shaft")[2]);
        assert!(s * n("clavicle")[0] > 30.0 && n("clavicle")[2] > c("sternum")[2]);
    }
    // The spine from C3 down to S5, the sacrum tilted (lower segments further back).
    let mut levels: Vec<String> = (3..=7).map(|n| format!("vertebra_C{n}")).collect();
    levels.extend((1..=12).map(|n| format!("vertebra_T{n}")));
    levels.extend((1..=5).map(|n| format!("vertebra_L{n}")));
    levels.extend((1..=5).map(|n| format!("vertebra_S{n}")));
    let cs: Vec<V3> = levels.iter().map(|n| c(n)).collect();
    for (w, n) in cs.windows(2).zip(&levels) {
        assert!(w[0][2] > w[1][2] + 5.0, "{n} above the next level");
    }
    for w in cs[22..].windows(2) {
        assert!(w[1][1] < w[0][1] - 3.0, "sacral segments step backwards");
    }
    // T7 is mid-thorax: between the clavicles and the lowest rib level, behind the sternum.
    let t7 = c("vertebra_T7");
    assert!(t7[2] < c("clavicle_left")[2] - 40.0 && t7[2] > c("vertebra_L1")[2] + 80.0);
    assert!(t7[1] < c("sternum")[1] - 50.0);
}

#[test]
fn labelled_bones_do_not_overlap_any_bone() {
    let scene = anatomy::build();
    let labelled: Vec<usize> =
        (0..scene.bones.len()).filter(|&b| scene.bones[b].parts.iter().any(|p| p.label != 0)).collect();
    let mut clashes = BTreeSet::new();
    for &a in &labelled {
        for b in 0..scene.bones.len() {
            // Unlabelled posterior arches attach to their vertebral body by design.
            if a == b || scene.bones[b].name.starts_with("arch_") {
                continue;
            }
            let (ba, bb) = (scene.bones[a].shape.bbox, scene.bones[b].shape.bbox);
            let lo = [0, 1, 2].map(|i| ba.lo[i].max(bb.lo[i]));
            let hi = [0, 1, 2].map(|i| ba.hi[i].min(bb.hi[i]));
            let mut p = lo;
            while p[2] <= hi[2] {
                p[1] = lo[1];
                while p[1] <= hi[1] {
                    p[0] = lo[0];
                    while p[0] <= hi[0] {
                        if scene.bones[a].shape.sdf(p) < 0.0 && scene.bones[b].shape.sdf(p) < 0.0 {
                            clashes.insert(format!("{} / {} at {p:.0?}", scene.bones[a].name, scene.bones[b].name));
                            p[0] = hi[0];
                            p[1] = hi[1];
                            p[2] = hi[2];
                        }
                        p[0] += 1.0;
                    }
                    p[1] += 1.0;
                }
                p[2] += 1.0;
            }
        }
    }
    assert!(clashes.is_empty(), "overlapping bones: {clashes:#?}");
}

#[test]
fn fluid_confounders_stay_clear_of_labelled_bone() {
    // CSF, bladder and lymph nodes keep at least 2.5 mm of other tissue from labelled bone, so
    // that they cannot brighten atlas voxels by partial volume. (Discs touch their bodies by
    // design: a disc lathe runs from body centre to body centre and the bones hide the rest.)
    let scene = anatomy::build();
    let bones: Vec<&anatomy::Bone> = scene.bones.iter().filter(|b| b.parts.iter().any(|pt| pt.label != 0)).collect();
    for org in scene.organs.iter().filter(|o| o.value >= 300.0 && !o.name.starts_with("disc_")) {
        let bb = org.shape.bbox;
        let mut p = bb.lo;
        while p[2] <= bb.hi[2] {
            p[1] = bb.lo[1];
            while p[1] <= bb.hi[1] {
                p[0] = bb.lo[0];
                while p[0] <= bb.hi[0] {
                    if org.shape.sdf(p) < 0.0 {
                        for bone in bones.iter().filter(|b| b.shape.bbox.grow(3.0).contains(p)) {
                            let d = bone.shape.sdf(p);
                            assert!(d > 2.5, "{} within {d:.1} mm of {} at {p:?}", org.name, bone.name);
                        }
                    }
                    p[0] += 1.5;
                }
                p[1] += 1.5;
            }
            p[2] += 1.5;
        }
    }
}
