//! Unit tests of the harder phantoms ([`Hardness`]) and of healthy controls, on coarse grids.

use super::anatomy;
use super::geom::{norm, sub, V3};
use super::render::{Stations, SEAM};
use super::*;
use std::collections::BTreeSet;

const COARSE: [f64; 3] = [3.0, 5.0, 3.0];

fn opts(case: Case, seed: u64, lesions: usize, hard: Hardness) -> PhantomOptions {
    PhantomOptions { case, seed, lesions, spacing: COARSE, hard }
}

/// FNV-1a over the scan's bits, the atlas and the truth.
fn fingerprint(ph: &Phantom) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u64| {
        h ^= b;
        h = h.wrapping_mul(0x100_0000_01b3);
    };
    ph.scan.data.iter().for_each(|x| eat(x.to_bits() as u64));
    ph.atlas.data.iter().for_each(|x| eat(*x as u64));
    ph.truth.data.iter().for_each(|x| eat(*x as u64 + 77));
    h
}

/// World centroid of the voxels of `data` equal to `value`.
fn centroid_of(grid: &Grid, data: &[u16], value: u16) -> V3 {
    let (mut s, mut n) = ([0.0; 3], 0.0);
    for (idx, _) in data.iter().enumerate().filter(|(_, &v)| v == value) {
        let w = grid.affine.voxel_to_world(grid.ijk(idx).map(|x| x as f64));
        (0..3).for_each(|a| s[a] += w[a]);
        n += 1.0;
    }
    assert!(n > 0.0, "no voxel of value {value}");
    s.map(|x| x / n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn default_hardness_changes_nothing() {
    let explicit = Hardness {
        stations: 0,
        bias: 0.0,
        noise_sigma: None,
        atlas_shift_mm: [0.0; 3],
        variant_foci: 0,
        lesion_volume_cm3: None,
        near_physis: 0.0,
        irregularity: 0.0,
        lesion_ratio: None,
        marrow_texture: 0.0,
        physis_ratio: 0.0,
        curved_physes: false,
        subchondral: 0.0,
        periphyseal: 0.0,
    };
    assert_eq!(explicit, Hardness::default());
    assert_eq!(PhantomOptions::default().hard, explicit);
    // Fingerprints of the phantoms generated before `Hardness` existed.
    let golden = [
        (Case::Seed, 7, 0, COARSE, 0x3ce6_7205_5383_b94c_u64),
        (Case::Random, 101, 8, COARSE, 0xfb88_fa5e_39c9_5606),
        (Case::Random, 42, 5, [4.0, 6.0, 4.0], 0x9b6e_2131_6a13_fef2),
    ];
    for (case, seed, lesions, spacing, want) in golden {
        let o = PhantomOptions { case, seed, lesions, spacing, hard: explicit.clone() };
        let ph = generate(&o).unwrap();
        assert_eq!(fingerprint(&ph), want, "{case:?} seed {seed}");
        assert!(ph.variant_foci.is_empty());
        assert_eq!(ph.atlas_shift_mm, [0.0; 3]);
    }
}

#[test]
fn healthy_control_has_no_lesion() {
    let ph = generate(&opts(Case::Healthy, 7, 99, Hardness::default())).unwrap();
    assert!(ph.lesions.is_empty());
    assert!(ph.truth.data.iter().all(|&t| t == 0));
    assert!(ph.variant_foci.is_empty());
    // Same anatomy as the founding case; no marrow as bright as a lesion.
    let sick = generate(&opts(Case::Seed, 7, 0, Hardness::default())).unwrap();
    assert_eq!(ph.atlas, sick.atlas);
    let brightest = |p: &Phantom| {
        p.scan.data.iter().zip(&p.atlas.data).filter(|(_, &a)| a != 0).map(|(s, _)| *s).fold(0f32, f32::max)
    };
    assert!(brightest(&ph) < 0.75 * brightest(&sick), "{} vs {}", brightest(&ph), brightest(&sick));
    // The lesion count is ignored, even 0.
    assert!(generate(&opts(Case::Healthy, 3, 0, Hardness::default())).is_ok());
}

#[test]
fn stations_step_the_gain_per_band() {
    let seed = 5;
    let plain = generate(&opts(Case::Healthy, seed, 0, Hardness::default())).unwrap();
    let hard = generate(&opts(Case::Healthy, seed, 0, Hardness { stations: 4, ..Hardness::default() })).unwrap();
    assert_eq!(plain.atlas, hard.atlas);
    let st = Stations::new(seed, 4, FOV_LO[2], FOV_HI[2]);
    assert_eq!((st.gains.len(), st.seams.len()), (4, 3));
    for w in st.gains.windows(2) {
        assert!((w[1] - w[0]).abs() >= 0.1, "{:?}", st.gains);
    }
    assert!(st.gains.iter().all(|g| (0.75..1.3).contains(g)));
    // Median soft-tissue intensity per band (away from the seams), against the same voxels
    // without stations.
    let g = plain.scan.grid;
    let mut edges = vec![FOV_LO[2]];
    edges.extend(&st.seams);
    edges.push(FOV_HI[2]);
    let mut measured = vec![];
    for (b, gain) in st.gains.iter().enumerate() {
        let (lo, hi) = (edges[b] + SEAM, edges[b + 1] - SEAM);
        let (mut with, mut without) = (vec![], vec![]);
        for idx in 0..g.len() {
            let z = g.affine.voxel_to_world(g.ijk(idx).map(|x| x as f64))[2];
            let v = plain.scan.data[idx] as f64;
            if z > lo && z < hi && plain.atlas.data[idx] == 0 && (90.0..130.0).contains(&v) {
                without.push(v);
                with.push(hard.scan.data[idx] as f64);
            }
        }
        assert!(with.len() > 1000, "band {b}: {} soft-tissue voxels", with.len());
        let ratio = median(with) / median(without);
        assert!((ratio - gain).abs() < 0.03, "band {b}: measured gain {ratio:.3}, station gain {gain:.3}");
        measured.push(ratio);
    }
    for w in measured.windows(2) {
        assert!((w[1] - w[0]).abs() > 0.07, "{measured:?}");
    }
    // Across a seam the gain ramps linearly.
    let s = st.seams[0];
    assert!((st.gain(s) - 0.5 * (st.gains[0] + st.gains[1])).abs() < 1e-9);
    assert_eq!(st.gain(s - SEAM), st.gains[0]);
    assert!((st.gain(s + SEAM) - st.gains[1]).abs() < 1e-12);
}

#[test]
fn bias_and_noise_settings_change_the_scan() {
    let seed = 9;
    let plain = generate(&opts(Case::Healthy, seed, 0, Hardness::default())).unwrap();
    let g = plain.scan.grid;
    let sigma = |ph: &Phantom| {
        // Air beside the body: Rician noise of zero signal, whose mean is sigma sqrt(pi/2).
        let air: Vec<f64> = (0..g.len())
            .filter(|&i| g.affine.voxel_to_world(g.ijk(i).map(|x| x as f64))[0] > 165.0)
            .map(|i| ph.scan.data[i] as f64)
            .collect();
        air.iter().sum::<f64>() / air.len() as f64 / (std::f64::consts::PI / 2.0).sqrt()
    };
    assert!((sigma(&plain) - 12.0).abs() < 0.5, "{}", sigma(&plain));
    let noisy = Hardness { noise_sigma: Some(25.0), ..Hardness::default() };
    let noisy = generate(&opts(Case::Healthy, seed, 0, noisy)).unwrap();
    assert!((sigma(&noisy) - 25.0).abs() < 1.0, "{}", sigma(&noisy));
    // Without noise, the scan with bias amplitude 0.3 is the standard one times the ratio of
    // the two fields.
    let quiet = |bias: f64| Hardness { bias, noise_sigma: Some(0.0), ..Hardness::default() };
    let standard = generate(&opts(Case::Healthy, seed, 0, quiet(0.0))).unwrap();
    let strong = generate(&opts(Case::Healthy, seed, 0, quiet(0.3))).unwrap();
    let (b0, b1) = (render::Bias::new(seed, render::BIAS_AMPLITUDE), render::Bias::new(seed, 0.3));
    let (mut lo, mut hi, mut n) = (f64::MAX, f64::MIN, 0);
    for i in (0..g.len()).filter(|&i| standard.scan.data[i] > 50.0) {
        let p = g.affine.voxel_to_world(g.ijk(i).map(|x| x as f64));
        let want = b1.at(p) / b0.at(p);
        let got = strong.scan.data[i] as f64 / standard.scan.data[i] as f64;
        assert!((got - want).abs() < 1e-5, "{p:?}: {got} vs {want}");
        (lo, hi, n) = (lo.min(b1.at(p)), hi.max(b1.at(p)), n + 1);
    }
    assert!(n > 100_000 && lo >= 0.7 && hi <= 1.3 && hi - lo > 0.2, "{n} {lo} {hi}");
}

#[test]
fn atlas_shift_moves_labels_not_truth() {
    let plain = generate(&opts(Case::Seed, 7, 0, Hardness::default())).unwrap();
    let want = [4.0, -5.0, 7.0];
    let hard = generate(&opts(Case::Seed, 7, 0, Hardness { atlas_shift_mm: want, ..Default::default() })).unwrap();
    // Rounded to whole voxels of 3 x 5 x 3 mm.
    assert_eq!(hard.atlas_shift_mm, [3.0, -5.0, 6.0]);
    for a in 0..3 {
        assert!((hard.atlas_shift_mm[a] - want[a]).abs() <= 0.5 * COARSE[a] + 1e-9);
    }
    assert_eq!(hard.scan.data, plain.scan.data);
    assert_eq!(hard.truth, plain.truth);
    assert_eq!(hard.lesions, plain.lesions);
    let g = plain.atlas.grid;
    for name in ["femur_shaft_left", "vertebra_T7", "calcaneus_right", "acetabulum_roof_right", "sternum"] {
        let l = plain.labels.label_of(name).unwrap() as u16;
        let moved = sub(centroid_of(&g, &hard.atlas.data, l), centroid_of(&g, &plain.atlas.data, l));
        assert!(norm(sub(moved, hard.atlas_shift_mm)) < 1e-6, "{name}: moved {moved:?}");
        assert!(norm(sub(moved, want)) <= 0.5 * norm(COARSE), "{name}: moved {moved:?}, asked {want:?}");
    }
    // The truth stays in the true bone: some lesion voxels now fall outside the shifted atlas
    // or under another label, none outside the true one.
    let off = (0..g.len()).filter(|&i| plain.truth.data[i] != 0 && hard.atlas.data[i] != plain.atlas.data[i]).count();
    assert!(off > 0);
    assert!((0..g.len()).all(|i| plain.truth.data[i] == 0 || plain.atlas.data[i] != 0));
}

/// Region name without its side.
fn base_name(region: &str) -> &str {
    region.strip_suffix("_left").or_else(|| region.strip_suffix("_right")).unwrap_or(region)
}

#[test]
fn variant_foci_are_small_bright_and_not_lesions() {
    let sites: BTreeSet<&str> = [
        "calcaneus",
        "ilium",
        "ischium",
        "pubis",
        "femur_distal_metaphysis",
        "femur_distal_epiphysis",
        "tibia_proximal_epiphysis",
        "tibia_proximal_metaphysis",
    ]
    .into();
    let spacing = [2.0, 4.0, 2.0];
    for (case, seed, lesions) in [(Case::Random, 3, 8), (Case::Healthy, 4, 0)] {
        let plain = generate(&PhantomOptions { case, seed, lesions, spacing, hard: Hardness::default() }).unwrap();
        let hard = Hardness { variant_foci: 10, ..Hardness::default() };
        let ph = generate(&PhantomOptions { case, seed, lesions, spacing, hard }).unwrap();
        // Foci come from their own stream: the lesions and the truth do not change.
        assert_eq!(ph.lesions, plain.lesions);
        assert_eq!(ph.truth, plain.truth);
        assert_eq!(ph.variant_foci.len(), 10);
        let g = ph.scan.grid;
        let truth_pos: Vec<V3> = (0..g.len())
            .filter(|&i| ph.truth.data[i] != 0)
            .map(|i| g.affine.voxel_to_world(g.ijk(i).map(|x| x as f64)))
            .collect();
        for f in &ph.variant_foci {
            assert!(sites.contains(base_name(&f.region)), "{f:?}");
            assert!((20.0..=90.0).contains(&f.volume_mm3), "{f:?}");
            let near = truth_pos.iter().map(|p| norm(sub(*p, f.centroid_mm))).fold(f64::INFINITY, f64::min);
            assert!(near > 8.0, "{f:?} within {near} mm of a lesion voxel");
            assert!(ph.lesions.iter().all(|l| norm(sub(l.centroid_mm, f.centroid_mm)) > 8.0));
            // The focus is in its region of the true atlas and brightens the scan there.
            let v = g.affine.world_to_voxel(f.centroid_mm).unwrap().map(|x| x.round() as usize);
            let idx = g.index(v[0], v[1], v[2]);
            assert_eq!(ph.labels.name(ph.atlas.data[idx] as u32), Some(f.region.as_str()), "{f:?}");
            let gain = ph.scan.data[idx] - plain.scan.data[idx];
            assert!(gain > 100.0, "{f:?}: +{gain}");
        }
        let json = serde_json::to_string(&ph.variant_foci).unwrap();
        let back: Vec<VariantFocus> = serde_json::from_str(&json).unwrap();
        for (b, f) in back.iter().zip(&ph.variant_foci) {
            assert_eq!((&b.region, b.volume_mm3), (&f.region, f.volume_mm3));
            assert!(norm(sub(b.centroid_mm, f.centroid_mm)) < 1e-9);
        }
    }
}

#[test]
fn lesion_volume_range_is_honoured_where_it_fits() {
    let scene = anatomy::build();
    let placed = |lo: f64, hi: f64, seed: u64| {
        let p = Hardness { lesion_volume_cm3: Some((lo, hi)), ..Hardness::default() }.placement();
        let les = lesions::random(&scene, seed, 12, &p).unwrap();
        les.iter().map(|l| lesions::fit(&scene, l).0).collect::<Vec<f64>>()
    };
    // Small lesions: within the range, give or take the outline's wobble and the 2.5 mm
    // least radius.
    for seed in [1, 2] {
        for v in placed(0.1, 0.4, seed) {
            assert!((60.0..=520.0).contains(&v), "{v} mm3");
        }
    }
    // Large targets: clamped to what the sites hold, never above the range, and larger than
    // the standard lesions.
    let big = placed(10.0, 30.0, 3);
    assert!(big.iter().all(|&v| v <= 30_000.0));
    let standard = lesions::random(&scene, 3, 12, &lesions::Placement::default()).unwrap();
    let standard: Vec<f64> = standard.iter().map(|l| lesions::fit(&scene, l).0).collect();
    assert!(median(big.clone()) > 1.5 * median(standard.clone()), "{big:?} vs {standard:?}");
    assert!(big.iter().any(|&v| v > 9000.0), "{big:?}");
}

/// Whether some point of the lesion (on a 0.5 mm lattice) lies within 1 mm of a growth
/// plate of its bone.
fn touches_plate(scene: &anatomy::Scene, l: &lesions::Lesion) -> bool {
    let n = (l.bound / 0.5).ceil() as i64;
    let plates = &scene.bones[l.bone].physes;
    for k in -n..=n {
        for j in -n..=n {
            for i in -n..=n {
                let p = [l.c[0] + 0.5 * i as f64, l.c[1] + 0.5 * j as f64, l.c[2] + 0.5 * k as f64];
                if l.sdf(p) < 0.0
                    && plates
                        .iter()
                        .any(|ph| norm(sub(p, ph.ball.0)) <= ph.ball.1 && ph.s.eval(p).abs() <= ph.half + 1.0)
                {
                    return true;
                }
            }
        }
    }
    false
}

#[test]
fn near_physis_lesions_touch_the_growth_plate() {
    let scene = anatomy::build();
    let share = |near: f64| {
        let p = Hardness { near_physis: near, ..Hardness::default() }.placement();
        let (mut sites, mut touching) = (0, 0);
        for seed in [1, 2, 3] {
            for l in lesions::random(&scene, seed, 16, &p).unwrap() {
                let a = scene.anchors.iter().find(|a| a.label == l.label).unwrap();
                if lesions::plate_of(&scene, &l.region, a).is_some() {
                    sites += 1;
                    touching += usize::from(touches_plate(&scene, &l));
                    let (_, frac) = lesions::fit(&scene, &l);
                    assert!(frac >= 0.85, "{} {frac}", l.region);
                }
            }
        }
        assert!(sites >= 15, "{sites} lesions at sites next to a plate");
        touching as f64 / sites as f64
    };
    let (always, standard) = (share(1.0), share(0.0));
    assert_eq!(always, 1.0);
    assert!(standard < 0.8, "{standard}");
}

#[test]
fn irregularity_lobulates_outlines() {
    let scene = anatomy::build();
    // Spread of the radius over directions, max / min.
    let spread = |l: &lesions::Lesion| {
        let radii: Vec<f64> = (0..400)
            .map(|n| {
                let t = n as f64 * 2.399963;
                let zc = 1.0 - 2.0 * (n as f64 + 0.5) / 400.0;
                let rr = (1.0 - zc * zc).sqrt();
                l.radius([rr * t.cos(), rr * t.sin(), zc])
            })
            .collect();
        radii.iter().copied().fold(0.0, f64::max) / radii.iter().copied().fold(f64::MAX, f64::min)
    };
    let smooth = lesions::founding(&scene, 7, 0.0);
    let rough = lesions::founding(&scene, 7, 1.0);
    let (mut s0, mut s1) = (vec![], vec![]);
    for (a, b) in smooth.iter().zip(&rough) {
        let anchor = &scene.founding[anatomy::FOUNDING_REGIONS.iter().position(|r| *r == b.region).unwrap()];
        let reach = anchor.rmax.iter().copied().fold(0.0, f64::max) * 1.03 * 1.12;
        assert!(b.bound <= reach + 1e-9, "{}: reaches farther", a.region);
        s0.push(spread(a));
        s1.push(spread(b));
    }
    assert!(median(s1.clone()) > median(s0.clone()) + 0.3, "{s0:?} vs {s1:?}");
    // Random lesions still fit their regions when lobulated.
    let p = Hardness { irregularity: 1.0, ..Hardness::default() }.placement();
    for l in lesions::random(&scene, 5, 12, &p).unwrap() {
        assert!(lesions::fit(&scene, &l).1 >= 0.85);
    }
    // And the founding case renders with its seven foci.
    let ph = generate(&opts(Case::Seed, 7, 0, Hardness { irregularity: 1.0, ..Hardness::default() })).unwrap();
    let regions: Vec<&str> = ph.lesions.iter().map(|l| l.region.as_str()).collect();
    assert_eq!(regions, anatomy::FOUNDING_REGIONS);
}

#[test]
fn suite_is_deterministic_and_in_range() {
    let mut distinct = BTreeSet::new();
    for seed in 0..64u64 {
        let h = Hardness::suite(seed);
        assert_eq!(h, Hardness::suite(seed));
        assert!(h.validate().is_ok());
        assert!((3..=6).contains(&h.stations));
        assert!((0.15..0.3).contains(&h.bias));
        assert!([8.0, 12.0, 18.0, 25.0].contains(&h.noise_sigma.unwrap()));
        assert!(norm(h.atlas_shift_mm) <= 4.0 + 1e-9);
        assert!(h.variant_foci <= 6);
        assert_eq!((h.lesion_volume_cm3, h.near_physis), (Some((0.1, 30.0)), 0.87));
        assert!((0.3..1.0).contains(&h.irregularity));
        assert_eq!(h.lesion_ratio, Some((1.2, 6.0)));
        assert!((0.08..0.14).contains(&h.marrow_texture) && (1.5..3.0).contains(&h.physis_ratio));
        assert!(h.curved_physes && (h.subchondral, h.periphyseal) == (0.15, 0.2));
        distinct.insert(format!("{h:?}"));
    }
    assert_eq!(distinct.len(), 64);
    // A whole hard phantom: the truth sits on the true anatomy, whatever the atlas shift.
    let hard = Hardness::suite(11);
    let ph = generate(&opts(Case::Random, 11, 8, hard.clone())).unwrap();
    let unshifted = generate(&opts(Case::Random, 11, 8, Hardness { atlas_shift_mm: [0.0; 3], ..hard })).unwrap();
    assert_eq!(ph.truth, unshifted.truth);
    assert_eq!(ph.lesions, unshifted.lesions);
    assert!(ph.truth.data.iter().zip(&unshifted.atlas.data).all(|(&t, &a)| t == 0 || a != 0));
    assert!(!ph.lesions.is_empty());
}

#[test]
fn bad_hardness_is_rejected() {
    let d = Hardness::default;
    let bad = [
        Hardness { stations: 2, ..d() },
        Hardness { stations: 7, ..d() },
        Hardness { bias: -0.1, ..d() },
        Hardness { bias: 0.95, ..d() },
        Hardness { bias: f64::NAN, ..d() },
        Hardness { noise_sigma: Some(-1.0), ..d() },
        Hardness { noise_sigma: Some(f64::INFINITY), ..d() },
        Hardness { atlas_shift_mm: [60.0, 0.0, 0.0], ..d() },
        Hardness { atlas_shift_mm: [0.0, f64::NAN, 0.0], ..d() },
        Hardness { variant_foci: MAX_VARIANT_FOCI + 1, ..d() },
        Hardness { lesion_volume_cm3: Some((0.5, 0.2)), ..d() },
        Hardness { lesion_volume_cm3: Some((0.01, 1.0)), ..d() },
        Hardness { lesion_volume_cm3: Some((1.0, 100.0)), ..d() },
        Hardness { near_physis: 1.5, ..d() },
        Hardness { irregularity: -0.1, ..d() },
        Hardness { lesion_ratio: Some((1.0, 3.0)), ..d() },
        Hardness { lesion_ratio: Some((3.0, 2.0)), ..d() },
        Hardness { lesion_ratio: Some((1.2, 12.0)), ..d() },
        Hardness { marrow_texture: 0.7, ..d() },
        Hardness { physis_ratio: 0.5, ..d() },
        Hardness { physis_ratio: 6.0, ..d() },
        Hardness { subchondral: 1.2, ..d() },
        Hardness { subchondral: 0.6, periphyseal: 0.6, ..d() },
    ];
    for h in bad {
        match generate(&opts(Case::Healthy, 1, 0, h.clone())) {
            Err(Error::Parameter(m)) => assert!(m.contains("phantom"), "{m}"),
            Err(e) => panic!("{h:?}: wrong error {e}"),
            Ok(_) => panic!("{h:?} accepted"),
        }
    }
}
