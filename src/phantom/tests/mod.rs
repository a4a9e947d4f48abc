//! Unit tests of the phantom. Most use the coarse 3 x 5 x 3 mm grid; checks that need the
//! default grid render only a crop of it (the per-voxel computation is local, so a crop on the
//! same voxel lattice gives the same atlas and truth as the whole volume).

use super::anatomy::{self, Scene, Tissue};
use super::geom::{dot, norm, sub, V3};
use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

mod anatomy_checks;

const COARSE: [f64; 3] = [3.0, 5.0, 3.0];

fn opts(case: Case, seed: u64, lesions: usize, spacing: [f64; 3]) -> PhantomOptions {
    PhantomOptions { case, seed, lesions, spacing, hard: Hardness::default() }
}

/// The founding case, seed 7, coarse grid: shared by several tests.
fn founding_coarse() -> &'static Phantom {
    static P: OnceLock<Phantom> = OnceLock::new();
    P.get_or_init(|| generate(&opts(Case::Seed, 7, 0, COARSE)).unwrap())
}

/// Random cases on the coarse grid: shared by several tests.
fn random_coarse() -> &'static Vec<Phantom> {
    static P: OnceLock<Vec<Phantom>> = OnceLock::new();
    P.get_or_init(|| [101, 202, 3].iter().map(|&s| generate(&opts(Case::Random, s, 8, COARSE)).unwrap()).collect())
}

/// The region vocabulary of `shared/domain.md`.
fn vocabulary() -> BTreeSet<String> {
    let mut v = BTreeSet::new();
    for (p, r) in [("C", 3..=7), ("T", 1..=12), ("L", 1..=5), ("S", 1..=5)] {
        for n in r {
            v.insert(format!("vertebra_{p}{n}"));
        }
    }
    v.insert("sternum".to_string());
    for side in ["left", "right"] {
        for part in crate::labels::HIP_PARTS.into_iter().chain([
            "femur_head",
            "femur_neck",
            "femur_shaft",
            "femur_distal_metaphysis",
            "femur_distal_epiphysis",
            "tibia_proximal_epiphysis",
            "tibia_proximal_metaphysis",
            "tibia_shaft",
            "tibia_distal_metaphysis",
            "fibula",
            "calcaneus",
            "clavicle",
            "humerus_proximal_metaphysis",
            "humerus_shaft",
        ]) {
            v.insert(format!("{part}_{side}"));
        }
    }
    v
}

/// World centroid of the voxels where `pred` holds.
fn centroid(grid: &Grid, pred: impl Fn(usize) -> bool) -> Option<V3> {
    let (mut s, mut n) = ([0.0; 3], 0usize);
    for idx in 0..grid.len() {
        if pred(idx) {
            let w = grid.affine.voxel_to_world(grid.ijk(idx).map(|x| x as f64));
            for a in 0..3 {
                s[a] += w[a];
            }
            n += 1;
        }
    }
    (n > 0).then(|| s.map(|x| x / n as f64))
}

/// Truth voxel indices per lesion id.
fn lesion_voxels(ph: &Phantom) -> BTreeMap<u16, Vec<usize>> {
    let mut m: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (idx, &t) in ph.truth.data.iter().enumerate() {
        if t != 0 {
            m.entry(t).or_default().push(idx);
        }
    }
    m
}

/// Checks every lesion: its truth voxels exist, carry mostly its region's label, and the
/// `TruthLesion` fields match the truth volume.
fn check_truth(ph: &Phantom) {
    let grid = ph.truth.grid;
    let vox = lesion_voxels(ph);
    assert_eq!(vox.keys().copied().collect::<Vec<_>>(), (1..=ph.lesions.len() as u16).collect::<Vec<_>>());
    for l in &ph.lesions {
        let idxs = &vox[&(l.id as u16)];
        let label = ph.labels.label_of(&l.region).expect("region in the table") as u16;
        let own = idxs.iter().filter(|&&i| ph.atlas.data[i] == label).count();
        assert!(2 * own > idxs.len(), "lesion {} ({}): {own} of {} voxels in its region", l.id, l.region, idxs.len());
        assert!(idxs.iter().all(|&i| ph.atlas.data[i] != 0), "truth outside the atlas");
        assert_eq!(l.voxels, idxs.len());
        assert!((l.volume_mm3 - idxs.len() as f64 * grid.affine.voxel_volume_mm3()).abs() < 1e-6);
        let mut mean = [0.0; 3];
        for &i in idxs {
            let ijk = grid.ijk(i);
            for a in 0..3 {
                mean[a] += ijk[a] as f64 / idxs.len() as f64;
            }
        }
        let c = grid.affine.voxel_to_world(mean);
        assert!(norm(sub(c, l.centroid_mm)) < 1e-6, "{c:?} vs {:?}", l.centroid_mm);
    }
}

/// Smallest world distance between voxels of two different lesions (mm).
fn min_gap(ph: &Phantom) -> f64 {
    let grid = ph.truth.grid;
    let vox = lesion_voxels(ph);
    let pos: Vec<(u16, V3)> = vox
        .iter()
        .flat_map(|(&id, v)| v.iter().map(move |&i| (id, grid.affine.voxel_to_world(grid.ijk(i).map(|x| x as f64)))))
        .collect();
    let mut best = f64::INFINITY;
    for (a, pa) in &pos {
        for (b, pb) in &pos {
            if a < b {
                best = best.min(norm(sub(*pa, *pb)));
            }
        }
    }
    best
}

/// A crop of `grid` on the same voxel lattice: voxels `lo..hi`.
fn crop(grid: &Grid, lo: [usize; 3], hi: [usize; 3]) -> Grid {
    let origin = grid.affine.voxel_to_world(lo.map(|x| x as f64));
    Grid {
        dims: [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]],
        affine: Affine::from_spacing_origin(grid.spacing(), origin),
    }
}

/// Renders the founding case (seed `seed`) in the world box `lo..hi` of the grid for
/// `spacing`; returns the crop's grid, scan, atlas and truth.
fn founding_crop(seed: u64, spacing: [f64; 3], lo: V3, hi: V3) -> (Grid, render::Raster, Vec<lesions::Lesion>, Scene) {
    let mut scene = anatomy::build();
    let les = lesions::founding(&scene, seed, 0.0);
    for (i, l) in les.iter().enumerate() {
        scene.bones[l.bone].lesions.push(i);
    }
    let full = grid_for(spacing);
    let a = full.affine.world_to_voxel(lo).unwrap().map(|x| x.floor().max(0.0) as usize);
    let b = full.affine.world_to_voxel(hi).unwrap().map(|x| x.ceil() as usize);
    let g = crop(&full, a, [b[0].min(full.dims[0]), b[1].min(full.dims[1]), b[2].min(full.dims[2])]);
    let acq = render::Acquisition::new(seed, &Hardness::default(), (FOV_LO[2], FOV_HI[2]));
    let r = render::render(&scene, &les, &g, seed, &acq);
    (g, r, les, scene)
}

#[test]
fn bad_options_are_parameter_errors() {
    let bad = [
        opts(Case::Seed, 1, 6, [0.0, 4.0, 1.5]),
        opts(Case::Seed, 1, 6, [1.5, -4.0, 1.5]),
        opts(Case::Seed, 1, 6, [1.5, 4.0, 10.5]),
        opts(Case::Seed, 1, 6, [f64::NAN, 4.0, 1.5]),
        opts(Case::Seed, 1, 6, [1.5, f64::INFINITY, 1.5]),
        opts(Case::Seed, 1, 6, [0.1, 0.1, 0.1]),
        opts(Case::Random, 1, 0, COARSE),
        opts(Case::Random, 1, 41, COARSE),
    ];
    for o in bad {
        match generate(&o) {
            Err(Error::Parameter(m)) => assert!(!m.is_empty()),
            Err(e) => panic!("{o:?}: wrong error {e}"),
            Ok(_) => panic!("{o:?} accepted"),
        }
    }
    // The founding case ignores the lesion count, even 0 or more than 40.
    assert!(validate(&opts(Case::Seed, 1, 0, COARSE)).is_ok());
    assert!(validate(&opts(Case::Seed, 1, 99, [10.0, 10.0, 10.0])).is_ok());
    let d = PhantomOptions::default();
    assert_eq!((d.case, d.seed, d.lesions, d.spacing), (Case::Seed, 7, 6, [1.5, 4.0, 1.5]));
}

#[test]
fn grid_is_ras_centred_on_the_midline_and_holds_the_child() {
    let g = grid_for([1.5, 4.0, 1.5]);
    assert_eq!(g.affine.axcodes(), "RAS");
    assert_eq!(g.spacing(), [1.5, 4.0, 1.5]);
    assert!(g.len() > 10_000_000 && g.len() < 14_000_000, "{:?}", g.dims);
    // x = 0 lies halfway between the two middle columns.
    let mid = g.affine.world_to_voxel([0.0, 0.0, 0.0]).unwrap()[0];
    assert!((mid - (g.dims[0] as f64 - 1.0) / 2.0).abs() < 1e-9);
    // The whole body is inside the field of view: the faces of the box of voxel centres lie
    // outside the body.
    let body = anatomy::build().body;
    let lo = g.affine.voxel_to_world([0.0; 3]);
    let hi = g.affine.voxel_to_world(g.dims.map(|d| d as f64 - 1.0));
    for a in 0..3 {
        let (b, c) = ((a + 1) % 3, (a + 2) % 3);
        for face in [lo[a], hi[a]] {
            let mut u = lo[b];
            while u <= hi[b] {
                let mut v = lo[c];
                while v <= hi[c] {
                    let mut p = [0.0; 3];
                    (p[a], p[b], p[c]) = (face, u, v);
                    assert!(body.sdf(p) > 0.0, "the body reaches the edge of the field of view at {p:?}");
                    v += 2.0;
                }
                u += 2.0;
            }
        }
    }
    let ph = founding_coarse();
    assert_eq!(ph.scan.grid, ph.atlas.grid);
    assert_eq!(ph.scan.grid, ph.truth.grid);
    // The child's left (x < 0) holds the left femur.
    let lf = ph.labels.label_of("femur_shaft_left").unwrap() as u16;
    let c = centroid(&ph.atlas.grid, |i| ph.atlas.data[i] == lf).unwrap();
    assert!(c[0] < -30.0, "{c:?}");
}

#[test]
fn same_options_same_phantom_on_any_thread_count() {
    let o = opts(Case::Random, 42, 5, [4.0, 6.0, 4.0]);
    let a = generate(&o).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let b = pool.install(|| generate(&o).unwrap());
    assert!(a.scan.data.iter().zip(&b.scan.data).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_eq!(a.atlas, b.atlas);
    assert_eq!(a.truth, b.truth);
    assert_eq!(a.lesions, b.lesions);
    assert_eq!(a.labels, b.labels);
    // Another seed: other noise and lesions, same anatomy.
    let c = generate(&opts(Case::Random, 43, 5, [4.0, 6.0, 4.0])).unwrap();
    assert_eq!(a.atlas, c.atlas);
    let same = a.scan.data.iter().zip(&c.scan.data).filter(|(x, y)| x == y).count();
    assert!(same < a.scan.data.len() / 100, "{same} identical voxels");
    assert_ne!(a.lesions, c.lesions);
}

#[test]
fn founding_seed_changes_noise_not_regions() {
    let a = founding_coarse();
    let b = generate(&opts(Case::Seed, 8, 3, COARSE)).unwrap();
    assert_eq!(a.atlas, b.atlas);
    assert_ne!(a.scan.data, b.scan.data);
    let ra: Vec<&str> = a.lesions.iter().map(|l| l.region.as_str()).collect();
    let rb: Vec<&str> = b.lesions.iter().map(|l| l.region.as_str()).collect();
    assert_eq!(ra, rb);
    for (x, y) in a.lesions.iter().zip(&b.lesions) {
        assert!(norm(sub(x.centroid_mm, y.centroid_mm)) < 3.0, "{x:?} {y:?}");
    }
}

#[test]
fn founding_case_has_its_seven_foci_in_the_right_regions() {
    for seed in [7u64, 11, 12345] {
        let ph = if seed == 7 { founding_coarse() } else { &generate(&opts(Case::Seed, seed, 0, COARSE)).unwrap() };
        let regions: Vec<&str> = ph.lesions.iter().map(|l| l.region.as_str()).collect();
        assert_eq!(regions, anatomy::FOUNDING_REGIONS, "seed {seed}");
        check_truth(ph);
        for l in &ph.lesions {
            assert!(l.volume_mm3 >= 250.0 && l.volume_mm3 <= 2500.0, "seed {seed}: {l:?}");
        }
        let gap = min_gap(ph);
        assert!(gap >= 6.0, "seed {seed}: lesions only {gap} mm apart");
    }
}

#[test]
fn founding_case_at_the_default_spacing() {
    // Pelvis to mid-thorax, where all seven foci lie.
    for seed in [7u64, 99] {
        let (g, r, les, _) = founding_crop(seed, [1.5, 4.0, 1.5], [-110.0, -108.0, 690.0], [110.0, 114.0, 1060.0]);
        let ph = Phantom {
            scan: Volume::from_vec(g, r.scan),
            atlas: Volume::from_vec(g, r.atlas),
            labels: LabelTable::from_pairs(
                anatomy::build().labels.iter().enumerate().map(|(i, n)| (i as u32 + 1, n.clone())),
            ),
            truth: Volume::from_vec(g, r.truth),
            lesions: vec![],
            variant_foci: vec![],
            atlas_shift_mm: [0.0; 3],
        };
        let vox = lesion_voxels(&ph);
        assert_eq!(vox.len(), 7);
        for (id, v) in &vox {
            let l = &les[*id as usize - 1];
            let label = ph.labels.label_of(&l.region).unwrap() as u16;
            let own = v.iter().filter(|&&i| ph.atlas.data[i] == label).count();
            let mm3 = v.len() as f64 * g.affine.voxel_volume_mm3();
            assert!(2 * own > v.len(), "{}: {own}/{}", l.region, v.len());
            assert!((300.0..=2500.0).contains(&mm3), "{}: {mm3} mm3", l.region);
        }
        assert!(min_gap(&ph) >= 5.0, "{}", min_gap(&ph));
    }
}

#[test]
fn random_lesions_fit_their_regions_and_keep_apart() {
    for ph in random_coarse() {
        assert_eq!(ph.lesions.len(), 8);
        check_truth(ph);
        for l in &ph.lesions {
            assert!(l.volume_mm3 >= 150.0 && l.volume_mm3 <= 9000.0, "{l:?}");
        }
        assert!(min_gap(ph) >= 6.0);
    }
    // Placement alone, many lesions: sizes, region share and separation by construction.
    let scene = anatomy::build();
    for seed in [1u64, 2] {
        let les = lesions::random(&scene, seed, 40, &lesions::Placement::default()).unwrap();
        assert_eq!(les.len(), 40);
        for (i, a) in les.iter().enumerate() {
            let (vol, frac) = lesions::fit(&scene, a);
            assert!((300.0..=8500.0).contains(&vol) && frac >= 0.85, "{} {vol} {frac}", a.region);
            for b in &les[i + 1..] {
                assert!(norm(sub(a.c, b.c)) >= a.bound + b.bound + 6.0);
            }
        }
        let sites: BTreeSet<&str> = les.iter().map(|l| l.region.as_str()).collect();
        assert!(sites.len() >= 12, "{sites:?}");
        let metaphyseal = les.iter().filter(|l| l.region.contains("metaphysis") || l.region.contains("neck")).count();
        assert!(metaphyseal >= 8, "long-bone metaphyses are the commonest site");
    }
}

/// Robust z-scores as the pipeline computes them: median and MAD over the atlas.
fn z_scorer(ph: &Phantom) -> impl Fn(f32) -> f64 {
    let mut v: Vec<f32> = ph.scan.data.iter().zip(&ph.atlas.data).filter(|(_, &a)| a != 0).map(|(s, _)| *s).collect();
    v.sort_by(f32::total_cmp);
    let med = v[v.len() / 2] as f64;
    let mut d: Vec<f64> = v.iter().map(|x| (*x as f64 - med).abs()).collect();
    d.sort_by(f64::total_cmp);
    let sigma = 1.4826 * d[d.len() / 2];
    move |x| (x as f64 - med) / sigma
}

#[test]
fn physes_are_bright_but_clearly_dimmer_than_lesions() {
    // Left knee and the left hip at the default spacing: classify each voxel centre.
    let (g, r, _, scene) = founding_crop(7, [1.5, 4.0, 1.5], [-110.0, -108.0, 330.0], [-20.0, 114.0, 760.0]);
    let (mut phys, mut red, mut les) = (vec![], vec![], vec![]);
    for idx in 0..g.len() {
        if r.atlas[idx] == 0 {
            continue;
        }
        let p = g.affine.voxel_to_world(g.ijk(idx).map(|x| x as f64));
        if r.truth[idx] != 0 {
            les.push(r.scan[idx] as f64);
            continue;
        }
        for bone in &scene.bones {
            let d = bone.shape.sdf(p);
            if d < -2.0 {
                match bone.classify(p, d).1 {
                    Tissue::Physis => phys.push(r.scan[idx] as f64),
                    Tissue::Marrow(m) if m >= 145.0 => red.push(r.scan[idx] as f64),
                    _ => {}
                }
                break;
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(phys.len() > 100 && red.len() > 1000 && les.len() > 50, "{} {} {}", phys.len(), red.len(), les.len());
    let (mp, mr, ml) = (mean(&phys), mean(&red), mean(&les));
    assert!(mp > 1.5 * mr && mp > 220.0, "physes {mp:.0} vs red marrow {mr:.0}");
    assert!(mp < 0.6 * ml, "physes {mp:.0} vs lesions {ml:.0}");
    let max_phys = phys.iter().copied().fold(0.0, f64::max);
    let mut sorted = les.clone();
    sorted.sort_by(f64::total_cmp);
    assert!(max_phys < sorted[sorted.len() / 2], "brightest physis {max_phys:.0} vs median lesion voxel");
}

#[test]
fn a_global_z_threshold_separates_lesions_from_normal_bone() {
    // On the coarse grid: components (26-connected) of atlas voxels above z = 6 hold one
    // lesion each, every lesion has one, and none holds no lesion.
    let mut all = vec![founding_coarse()];
    all.extend(random_coarse().iter());
    for ph in all {
        let z = z_scorer(ph);
        let g = ph.scan.grid;
        let cand: Vec<bool> = (0..g.len()).map(|i| ph.atlas.data[i] != 0 && z(ph.scan.data[i]) > 6.0).collect();
        let mut seen = vec![false; g.len()];
        let mut found = BTreeSet::new();
        for start in 0..g.len() {
            if !cand[start] || seen[start] {
                continue;
            }
            seen[start] = true;
            let (mut stack, mut ids, mut n) = (vec![start], BTreeSet::new(), 0usize);
            while let Some(v) = stack.pop() {
                n += 1;
                if ph.truth.data[v] != 0 {
                    ids.insert(ph.truth.data[v]);
                }
                let [i, j, k] = g.ijk(v).map(|x| x as i64);
                for (di, dj, dk) in (0..27).map(|m| (m % 3 - 1, (m / 3) % 3 - 1, m / 9 - 1)) {
                    let (a, b, c) = (i + di, j + dj, k + dk);
                    if a < 0
                        || b < 0
                        || c < 0
                        || a >= g.dims[0] as i64
                        || b >= g.dims[1] as i64
                        || c >= g.dims[2] as i64
                    {
                        continue;
                    }
                    let w = g.index(a as usize, b as usize, c as usize);
                    if cand[w] && !seen[w] {
                        seen[w] = true;
                        stack.push(w);
                    }
                }
            }
            assert!(ids.len() <= 1, "lesions {ids:?} merge");
            if n >= 3 {
                assert_eq!(ids.len(), 1, "a component of {n} voxels holds no lesion");
            }
            found.extend(ids);
        }
        assert_eq!(found.len(), ph.lesions.len());
    }
}

#[test]
fn truth_serialises_and_lesion_shapes_are_blobs() {
    let ph = founding_coarse();
    let json = serde_json::to_string(&ph.lesions).unwrap();
    let back: Vec<TruthLesion> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ph.lesions);
    // Lesions are irregular: the radius varies with direction by more than the ellipsoid's.
    let scene = anatomy::build();
    let les = lesions::founding(&scene, 7, 0.0);
    for l in &les {
        let mut radii = vec![];
        for n in 0..200 {
            let t = n as f64 * 2.399963;
            let zc = 1.0 - 2.0 * (n as f64 + 0.5) / 200.0;
            let rr = (1.0 - zc * zc).sqrt();
            let u = [rr * t.cos(), rr * t.sin(), zc];
            // March out to the surface.
            let mut s = 0.0;
            while l.sdf([l.c[0] + u[0] * s, l.c[1] + u[1] * s, l.c[2] + u[2] * s]) < 0.0 {
                s += 0.05;
            }
            radii.push(s);
        }
        let (lo, hi) = radii.iter().fold((f64::MAX, 0f64), |(a, b), r| (a.min(*r), b.max(*r)));
        assert!(lo > 2.0 && hi < 14.0 && hi / lo > 1.2, "{}: {lo} {hi}", l.region);
        assert!(dot(l.c, l.c) > 0.0);
    }
}

/// Diagnostic, not a check: robust statistics of the atlas and z-scores per tissue at the
/// default spacing. Run with `cargo test --release phantom::tests::intensity_report --
/// --ignored --nocapture`.
#[test]
#[ignore = "a diagnostic printout, not a check: run it by name with --ignored --nocapture"]
fn intensity_report() {
    for (case, seed, n, spacing) in
        [(Case::Seed, 7, 0, [1.5, 4.0, 1.5]), (Case::Seed, 7, 0, COARSE), (Case::Random, 101, 8, [2.0, 4.0, 2.0])]
    {
        let ph = generate(&opts(case, seed, n, spacing)).unwrap();
        let scene = anatomy::build();
        let mut v: Vec<f64> =
            ph.scan.data.iter().zip(&ph.atlas.data).filter(|(_, &a)| a != 0).map(|(s, _)| *s as f64).collect();
        v.sort_by(f64::total_cmp);
        let med = v[v.len() / 2];
        let mut d: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
        d.sort_by(f64::total_cmp);
        let mad = d[d.len() / 2];
        let z = |x: f64| (x - med) / (1.4826 * mad);
        println!("{case:?} seed {seed} spacing {spacing:?}: {} atlas voxels, median {med:.1}, MAD {mad:.1}", v.len());
        let g = ph.scan.grid;
        let mut groups: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for idx in 0..g.len() {
            if ph.atlas.data[idx] == 0 {
                continue;
            }
            let x = ph.scan.data[idx] as f64;
            if ph.truth.data[idx] != 0 {
                groups.entry("lesion (truth voxels)").or_default().push(x);
                continue;
            }
            let p = g.affine.voxel_to_world(g.ijk(idx).map(|c| c as f64));
            for bone in &scene.bones {
                let dd = bone.shape.sdf(p);
                if dd < 0.0 {
                    let key = match bone.classify(p, dd).1 {
                        Tissue::Physis => "physis (voxel centre)",
                        Tissue::Cortex => "cortex (voxel centre)",
                        Tissue::Marrow(m) if m >= 140.0 => "red marrow (centre)",
                        Tissue::Marrow(m) if m <= 70.0 => "yellow marrow (centre)",
                        Tissue::Marrow(_) => "mixed marrow (centre)",
                    };
                    groups.entry(key).or_default().push(x);
                    break;
                }
            }
        }
        for (k, mut xs) in groups {
            xs.sort_by(f64::total_cmp);
            let q = |f: f64| xs[((xs.len() - 1) as f64 * f) as usize];
            println!(
                "  {k:<24} n {:>7}  median {:>5.0} (z {:>5.2})  p5 z {:>5.2}  p95 z {:>5.2}  max z {:>5.2}",
                xs.len(),
                q(0.5),
                z(q(0.5)),
                z(q(0.05)),
                z(q(0.95)),
                z(q(1.0))
            );
        }
    }
}
