//! Confounders that break the naive global threshold and that the local detector survives.
//! Each test builds a phantom with one confounder (or the combination a real scan has), runs
//! both detectors on it and scores them against the truth: the global detector must fail (so
//! the test can fail), the local one must pass.

use crmo_map::detect::{LocalParams, Method};
use crmo_map::evaluate::{self, ScanScore};
use crmo_map::phantom::{self, Case, Hardness, PhantomOptions};
use crmo_map::pipeline::{self, Params, Silent};
use crmo_map::reference::BoneSamples;
use std::path::Path;

fn sources() -> pipeline::Sources<'static> {
    pipeline::Sources { scan: Path::new("scan"), atlas: Path::new("atlas") }
}

/// Scores of the global and the local detector on the phantom `opts` describes.
fn both(opts: &PhantomOptions) -> (ScanScore, ScanScore) {
    let ph = phantom::generate(opts).unwrap();
    let samples = BoneSamples::gather(&ph.scan.data, &ph.atlas.data);
    let score = |method| {
        let params = Params { method, ..Params::default() };
        let an =
            pipeline::analyse(&ph.scan, &ph.atlas, &ph.labels, None, &samples, &params, sources(), &Silent).unwrap();
        evaluate::score("t", &ph.truth, &ph.lesions, &an.lesion_map, &an.lesions)
    };
    (score(Method::Global), score(Method::Local))
}

fn show(s: &ScanScore) -> String {
    format!(
        "true {} found {} region {} FP {} Dice {:.3} misses {:?}",
        s.true_lesions,
        s.found,
        s.region_correct,
        s.false_positives,
        s.dice,
        s.lesions.iter().filter(|o| o.matched.is_none()).map(|o| (&o.region, o.volume_mm3)).collect::<Vec<_>>()
    )
}

fn opts(case: Case, seed: u64, hard: Hardness) -> PhantomOptions {
    PhantomOptions { case, seed, lesions: 8, spacing: [1.2, 5.0, 1.2], hard }
}

/// A healthy child's phantom with one hardness setting.
fn healthy(seed: u64, hard: Hardness) -> PhantomOptions {
    opts(Case::Healthy, seed, hard)
}

fn assert_global_fooled_local_clean(o: &PhantomOptions) {
    let (g, l) = both(o);
    assert!(g.false_positives > 0, "the global threshold should be fooled: {}", show(&g));
    assert_eq!(l.false_positives, 0, "local: {}", show(&l));
}

/// Six stations stepping the gain by 0.75-1.3: physes and red marrow under a bright station
/// pass one global threshold.
#[test]
fn station_gain_steps() {
    assert_global_fooled_local_clean(&healthy(11, Hardness { stations: 6, ..Default::default() }));
}

/// A strong coil bias (gain 1 +- 0.45).
#[test]
fn coil_bias() {
    assert_global_fooled_local_clean(&healthy(12, Hardness { bias: 0.45, ..Default::default() }));
}

/// An atlas 4 mm too far up: the vertebra labels take in the bright discs below them.
#[test]
fn atlas_misregistered_into_the_discs() {
    assert_global_fooled_local_clean(&healthy(13, Hardness { atlas_shift_mm: [0.0, 0.0, 4.0], ..Default::default() }));
}

/// An atlas one slice too far forward: labels take in bright soft tissue and fluid at the
/// bones' edges (periosteum, joint fluid, CSF).
#[test]
fn atlas_misregistered_across_slices() {
    assert_global_fooled_local_clean(&healthy(14, Hardness { atlas_shift_mm: [0.0, 4.0, 0.0], ..Default::default() }));
}

/// Lesions against growth plates (as 87% of CRMO lesions are) on a scan with station steps
/// and bias: the global threshold misses one and reports a physis; the local detector finds
/// every lesion in its region, trims the physis off and reports nothing else.
#[test]
#[ignore = "issue 10 (open): every lesion found in its region with no false positive, but the local detector's outlines are about twice the truth's on these fixed-intensity lesions with a 4 mm soft edge (Dice 0.54, the global threshold's 0.88); see docs/ACCURACY.md"]
fn lesions_against_physes_under_station_steps() {
    let o = opts(Case::Random, 19, Hardness { near_physis: 1.0, stations: 5, bias: 0.25, ..Default::default() });
    let (g, l) = both(&o);
    assert!(g.found < g.true_lesions || g.false_positives > 0, "global: {}", show(&g));
    assert_eq!((l.found, l.region_correct, l.false_positives), (l.true_lesions, l.true_lesions, 0), "{}", show(&l));
    assert!(l.dice > 0.9 && l.dice > g.dice, "local {} global {}", l.dice, g.dice);
}

/// Red and yellow marrow: a lesion in suppressed yellow marrow (60) that is three times as
/// bright as its surroundings but no brighter than normal red marrow (150-190) is invisible
/// to one threshold over all bone, and stands out against its own region.
#[test]
fn red_versus_yellow_marrow() {
    use crmo_map::labels::LabelTable;
    use crmo_map::volume::{Affine, Grid, Volume};
    // 40 x 20 x 60 voxels of 1.5 x 4 x 1.5 mm: label 1 (red, 150) for i < 26, label 2 (yellow,
    // 60) beyond; a lesion of 185 in the yellow region; noise of sd about 5.
    let grid = Grid { dims: [40, 20, 60], affine: Affine::from_spacing_origin([1.5, 4.0, 1.5], [0.0; 3]) };
    let mut scan = Volume::filled(grid, 0.0f32);
    let mut atlas = Volume::filled(grid, 0u16);
    let mut truth = Volume::filled(grid, 0u16);
    let mut state = 9u64;
    for k in 0..60 {
        for j in 0..20 {
            for i in 0..40 {
                let mut noise = 0.0;
                for _ in 0..3 {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    noise += ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 10.0;
                }
                let (di, dj, dk) = (i as f64 - 33.0, (j as f64 - 10.0) * 4.0 / 1.5, k as f64 - 30.0);
                let lesion = di * di + dj * dj + dk * dk <= 16.0;
                let idx = grid.index(i, j, k);
                let base = if lesion {
                    185.0
                } else if i < 26 {
                    150.0
                } else {
                    60.0
                };
                scan.data[idx] = (base + noise) as f32;
                atlas.data[idx] = if i < 26 { 1 } else { 2 };
                truth.data[idx] = lesion as u16;
            }
        }
    }
    let table = LabelTable::from_pairs([(1, "femur_distal_metaphysis_left"), (2, "femur_distal_epiphysis_left")]);
    let samples = BoneSamples::gather(&scan.data, &atlas.data);
    let truth_lesions = vec![phantom::TruthLesion {
        id: 1,
        region: "femur_distal_epiphysis_left".into(),
        voxels: truth.data.iter().filter(|&&t| t != 0).count(),
        volume_mm3: 0.0,
        centroid_mm: [0.0; 3],
        ratio_to_marrow: None,
        shape: None,
    }];
    let score = |method| {
        let params = Params { method, ..Params::default() };
        let an = pipeline::analyse(&scan, &atlas, &table, None, &samples, &params, sources(), &Silent).unwrap();
        evaluate::score("t", &truth, &truth_lesions, &an.lesion_map, &an.lesions)
    };
    let (g, l) = (score(Method::Global), score(Method::Local));
    assert_eq!(g.found, 0, "global: {}", show(&g));
    assert_eq!((l.found, l.region_correct, l.false_positives), (1, 1, 0), "local: {}", show(&l));
}

/// A healthy child scanned in stations with gain steps, strong bias, normal-variant bright
/// foci and a shifted atlas: the global threshold reports lesions, the local detector none.
#[test]
fn healthy_control_with_station_steps_and_variant_foci() {
    // hard-005 of the hard suite before its broadening (docs/ACCURACY.md): 10 false positives
    // with the global method. The broadened settings (textured marrow, brighter curved physes)
    // are off: the local detector does not survive them yet (issue 10).
    let hard = Hardness {
        lesion_ratio: None,
        marrow_texture: 0.0,
        physis_ratio: 0.0,
        curved_physes: false,
        subchondral: 0.0,
        periphyseal: 0.0,
        ..Hardness::suite(5505)
    };
    let o = PhantomOptions { case: Case::Healthy, seed: 5505, spacing: [1.2, 5.0, 1.2], hard, ..Default::default() };
    assert_global_fooled_local_clean(&o);
}

/// A healthy child with the most normal-variant bright foci (feet, pelvis, knees), each as
/// bright as a small lesion: the local detector finds three, and sets each aside as an
/// equivocal focus (under a centimetre at a normal-variant site) at one of the phantom's own
/// foci instead of reporting it as a lesion. Without the rule (`variant_focus_mm` 0) the
/// same three are lesions, so the test can fail.
#[test]
fn normal_variant_foci_are_set_aside_as_equivocal() {
    let seed = 9001;
    let hard = Hardness { variant_foci: phantom::MAX_VARIANT_FOCI, ..Hardness::suite(seed) };
    let o = PhantomOptions { case: Case::Healthy, seed, spacing: [1.2, 5.0, 1.2], hard, ..Default::default() };
    let ph = phantom::generate(&o).unwrap();
    let samples = BoneSamples::gather(&ph.scan.data, &ph.atlas.data);
    let run = |variant_focus_mm| {
        let local = LocalParams { variant_focus_mm, ..LocalParams::default() };
        let params = Params { local, ..Params::default() };
        pipeline::analyse(&ph.scan, &ph.atlas, &ph.labels, None, &samples, &params, sources(), &Silent).unwrap()
    };
    // Distance (mm) from `c` to the nearest of the phantom's normal-variant foci.
    let nearest = |c: [f64; 3]| {
        ph.variant_foci
            .iter()
            .map(|f| (0..3).map(|a| (f.centroid_mm[a] - c[a]).powi(2)).sum::<f64>().sqrt())
            .fold(f64::INFINITY, f64::min)
    };
    let at_foci = |v: &[crmo_map::lesions::Lesion]| v.iter().all(|l| nearest(l.centroid_mm) < 10.0);
    let off = run(0.0);
    assert_eq!(off.lesions.len(), 3, "{:?}", off.lesions.iter().map(|l| &l.region).collect::<Vec<_>>());
    assert!(at_foci(&off.lesions) && off.equivocal.is_empty());
    let on = run(crmo_map::equivocal::VARIANT_FOCUS_MM);
    assert!(on.lesions.is_empty(), "{:?}", on.lesions.iter().map(|l| &l.region).collect::<Vec<_>>());
    assert_eq!(on.equivocal.len(), 3);
    assert!(at_foci(&on.equivocal));
    assert_eq!(on.equivocal.iter().map(|l| l.id).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(on.lesion_map.data.iter().all(|&id| id == 0), "an equivocal focus is in the lesion map");
}
