//! Unit tests of the broadened hard phantoms: lesion ratios to marrow, heterogeneous marrow,
//! curved physes and thin (subchondral, periphyseal) lesions.

use super::anatomy::{self, Scene, Tissue};
use super::geom::{add, dot, scale, sub, V3};
use super::rng::SplitMix64;
use super::thin::{self, Layer, ThinKind};
use super::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// MAD / median of the scan over the voxels labelled `name` outside every lesion.
fn relative_mad(ph: &Phantom, name: &str) -> f64 {
    let l = ph.labels.label_of(name).unwrap() as u16;
    let v: Vec<f64> = (0..ph.scan.data.len())
        .filter(|&i| ph.atlas.data[i] == l && ph.truth.data[i] == 0)
        .map(|i| ph.scan.data[i] as f64)
        .collect();
    assert!(v.len() > 200, "{name}: {} voxels", v.len());
    let m = median(v.clone());
    median(v.iter().map(|x| (x - m).abs()).collect()) / m
}

#[test]
fn hard_marrow_mad_is_20_to_40_percent_in_long_bones() {
    for seed in [11u64, 12] {
        let hard = Hardness { atlas_shift_mm: [0.0; 3], ..Hardness::suite(seed) };
        let o = PhantomOptions { case: Case::Random, seed, lesions: 6, spacing: [2.0, 4.0, 2.0], hard };
        let ph = generate(&o).unwrap();
        let mut all = vec![];
        for side in ["left", "right"] {
            for part in ["femur_shaft", "tibia_shaft", "humerus_shaft", "femur_head", "femur_distal_epiphysis"] {
                let r = relative_mad(&ph, &format!("{part}_{side}"));
                assert!((0.15..=0.42).contains(&r), "seed {seed}: {part}_{side} MAD/median {r:.3}");
                all.push(r);
            }
        }
        let m = median(all.clone());
        assert!((0.2..=0.4).contains(&m), "seed {seed}: median MAD/median {m:.3} over {all:?}");
    }
}

#[test]
fn lesion_ratios_are_drawn_skewed_low_and_recorded() {
    let mut rng = SplitMix64::new(1, 1);
    let draws: Vec<f64> = (0..20_000).map(|_| Hardness::draw_ratio(1.2, 6.0, &mut rng)).collect();
    assert!(draws.iter().all(|r| (1.2..=6.0).contains(r)));
    let m = median(draws.clone());
    assert!((m - 1.2 * 5f64.powf(0.25)).abs() < 0.05, "median {m}");
    let low = draws.iter().filter(|&&r| r < 2.4).count() as f64 / draws.len() as f64;
    assert!((low - 0.656).abs() < 0.02, "{low}");
    for (case, seed) in [(Case::Random, 21u64), (Case::Seed, 22)] {
        let ph =
            generate(&PhantomOptions { case, seed, lesions: 8, spacing: [3.0, 5.0, 3.0], hard: Hardness::suite(seed) })
                .unwrap();
        assert!(!ph.lesions.is_empty());
        for l in &ph.lesions {
            let r = l.ratio_to_marrow.unwrap();
            assert!((1.2..=6.0).contains(&r), "{l:?}");
            assert!(l.shape.is_some());
        }
        let json = serde_json::to_string(&ph.lesions).unwrap();
        assert!(json.contains("\"ratio_to_marrow\"") && json.contains("\"shape\""));
    }
    // The standard truth has neither field.
    let json = serde_json::to_string(&generate(&PhantomOptions::default()).unwrap().lesions).unwrap();
    assert!(!json.contains("ratio_to_marrow") && !json.contains("shape"));
}

#[test]
fn truth_is_exactly_the_voxels_the_lesions_brightened() {
    for seed in [31u64, 32] {
        let hard = Hardness {
            noise_sigma: Some(0.0),
            variant_foci: 0,
            subchondral: 0.3,
            periphyseal: 0.3,
            ..Hardness::suite(seed)
        };
        let o = PhantomOptions { case: Case::Random, seed, lesions: 10, spacing: [2.0, 4.0, 2.0], hard };
        let sick = generate(&o).unwrap();
        let healthy = generate(&PhantomOptions { case: Case::Healthy, ..o }).unwrap();
        assert_eq!(sick.atlas, healthy.atlas);
        let mut inside = vec![0usize; sick.lesions.len() + 1];
        for i in 0..sick.scan.data.len() {
            let (s, h, t) = (sick.scan.data[i], healthy.scan.data[i], sick.truth.data[i]);
            if t == 0 {
                assert_eq!(s, h, "voxel {i} changed outside the truth");
            } else {
                assert!(s > h, "truth voxel {i} of lesion {t}: {s} not above the marrow's {h}");
                inside[t as usize] += 1;
            }
        }
        assert!(sick.lesions.iter().all(|l| inside[l.id as usize] == l.voxels));
        let kinds: Vec<&str> = sick.lesions.iter().map(|l| l.shape.as_deref().unwrap()).collect();
        assert!(kinds.iter().any(|k| *k != "blob"), "seed {seed}: {kinds:?}");
    }
}

/// Root-mean-square distance of `pts` from their best-fitting plane: the square root of the
/// smallest eigenvalue of their covariance.
fn plane_rms(pts: &[V3]) -> f64 {
    let n = pts.len() as f64;
    let c = pts.iter().fold([0.0; 3], |a, p| add(a, *p)).map(|x| x / n);
    let mut m = [[0.0; 3]; 3];
    for p in pts {
        let d = sub(*p, c);
        for (a, row) in m.iter_mut().enumerate() {
            for (b, v) in row.iter_mut().enumerate() {
                *v += d[a] * d[b] / n;
            }
        }
    }
    // Smallest eigenvalue of a symmetric 3x3 matrix (trigonometric solution).
    let q = (m[0][0] + m[1][1] + m[2][2]) / 3.0;
    let p1 = m[0][1].powi(2) + m[0][2].powi(2) + m[1][2].powi(2);
    let p2 = (0..3).map(|i| (m[i][i] - q).powi(2)).sum::<f64>() + 2.0 * p1;
    let p = (p2 / 6.0).sqrt();
    let b: Vec<Vec<f64>> =
        (0..3).map(|i| (0..3).map(|j| (m[i][j] - if i == j { q } else { 0.0 }) / p).collect()).collect();
    let det = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) - b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0])
        + b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0]);
    let phi = (det / 2.0).clamp(-1.0, 1.0).acos() / 3.0;
    let smallest = q + 2.0 * p * (phi + 2.0 * std::f64::consts::PI / 3.0).cos();
    smallest.max(0.0).sqrt()
}

/// Points (0.5 mm lattice) of the growth plate of bone `bone` nearest to `near`.
fn plate_points(scene: &Scene, bone: &str, near: V3) -> Vec<V3> {
    let b = scene.bones.iter().find(|b| b.name == bone).unwrap();
    let ph = b
        .physes
        .iter()
        .min_by(|p, q| {
            dot(sub(p.ball.0, near), sub(p.ball.0, near)).total_cmp(&dot(sub(q.ball.0, near), sub(q.ball.0, near)))
        })
        .unwrap();
    let (c, r) = ph.ball;
    let n = (r / 0.5).ceil() as i64;
    let mut out = vec![];
    for k in -n..=n {
        for j in -n..=n {
            for i in -n..=n {
                let p = add(c, scale([i as f64, j as f64, k as f64], 0.5));
                let d = b.shape.sdf(p);
                if d < 0.0 && b.classify(p, d).1 == Tissue::Physis && ph.s.eval(p).abs() <= ph.half {
                    out.push(p);
                }
            }
        }
    }
    out
}

#[test]
fn curved_physes_are_not_flat() {
    let (flat, curved) = (anatomy::build(), anatomy::build_with(true));
    // The femoral head (centre [-72, -25, 722] on the left) and the humeral head.
    for (bone, near, least) in
        [("femur_left", [-72.0, -25.0, 722.0], 1.2), ("humerus_left", [-122.0, -45.0, 1070.0], 1.2)]
    {
        let (f, c) = (plate_points(&flat, bone, near), plate_points(&curved, bone, near));
        assert!(f.len() > 500 && c.len() > 500, "{bone}: {} {}", f.len(), c.len());
        let (rf, rc) = (plane_rms(&f), plane_rms(&c));
        assert!(rf < 0.9, "{bone}: standard plate {rf:.2} mm off its plane");
        assert!(rc > least, "{bone}: curved plate only {rc:.2} mm off its plane");
    }
    // Bright as real physes: 1.5-3 times red marrow in the suite.
    for seed in 0..32 {
        let h = Hardness::suite(seed);
        assert!((1.5..3.0).contains(&h.physis_ratio) && h.curved_physes);
    }
}

#[test]
fn thin_lesions_are_thin_and_touch_their_surface() {
    let scene = anatomy::build_with(true);
    let mut rng = SplitMix64::new(5, 1);
    let (mut sub_n, mut peri_n) = (0, 0);
    for n in 0..60 {
        let l = if n % 2 == 0 { thin::subchondral(&scene, &mut rng) } else { thin::periphyseal(&scene, &mut rng) };
        let Some(l) = l else { continue };
        let t = l.thin.as_ref().unwrap();
        assert!((thin::THICKNESS.0..=thin::THICKNESS.1).contains(&t.thickness()));
        let (vol, label, frac) = thin::measure(&scene, &l);
        assert!(vol >= 60.0 && frac >= 0.85 && label == l.label, "{} {vol} {frac}", l.region);
        let bone = &scene.bones[l.bone];
        // Layer coordinate of the lesion's marrow points (0.5 mm lattice: the shallowest point
        // sampled may lie up to 0.43 mm below the layer's top).
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        let m = (l.bound / 0.5).ceil() as i64;
        for k in -m..=m {
            for j in -m..=m {
                for i in -m..=m {
                    let p = add(l.c, scale([i as f64, j as f64, k as f64], 0.5));
                    let d = bone.shape.sdf(p);
                    if d >= 0.0 || l.sdf_in(p, || -d) >= 0.0 {
                        continue;
                    }
                    let v = match t.layer {
                        Layer::Bone => -d,
                        Layer::Plate(s) => s.eval(p),
                    };
                    (lo, hi) = (lo.min(v), hi.max(v));
                }
            }
        }
        assert!(hi - lo < 5.0, "{}: {:.2} mm thick", l.region, hi - lo);
        match t.kind {
            ThinKind::Subchondral => {
                // Just under the cortex of the articular surface.
                assert!(lo <= bone.cortex + 0.5, "{}: {lo:.2} mm deep", l.region);
                sub_n += 1;
            }
            ThinKind::Periphyseal => {
                let half = t.lo;
                assert!(lo <= half + 0.5, "{}: {lo:.2} mm from the plate", l.region);
                assert!(
                    l.region.contains("metaphysis") || l.region.contains("neck") || l.region.starts_with("fibula"),
                    "{}",
                    l.region
                );
                peri_n += 1;
            }
        }
    }
    assert!(sub_n >= 15 && peri_n >= 15, "{sub_n} subchondral, {peri_n} periphyseal");
    // In a rendered phantom the strips leave truth voxels.
    let hard = Hardness { subchondral: 1.0, periphyseal: 0.0, ..Hardness::suite(3) };
    let ph =
        generate(&PhantomOptions { case: Case::Random, seed: 3, lesions: 6, spacing: [1.5, 4.0, 1.5], hard }).unwrap();
    assert!(ph.lesions.len() >= 5, "{:?}", ph.lesions);
    assert!(ph.lesions.iter().all(|l| l.shape.as_deref() == Some("subchondral") && l.voxels > 0));
}
