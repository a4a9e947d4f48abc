//! Tests of the local detector.

use super::*;
use crate::reference::{BoneSamples, MAD_TO_SD};
use crate::volume::{Affine, Grid};

fn local_mask(scan: &Volume<f32>, atlas: &Volume<u16>, refs: &[RegionReference], p: &LocalParams) -> Vec<bool> {
    local_components(scan, atlas, refs, &Bones::default(), p, Connectivity::Corners26)
        .to_volume()
        .iter()
        .map(|&l| l != 0)
        .collect()
}

fn refs(marrow: f64, noise: f64) -> Vec<RegionReference> {
    vec![RegionReference { marrow: 0.0, noise }, RegionReference { marrow, noise }]
}

/// Seeds only on single voxels, no denoising, no edge guard: the hysteresis alone.
fn bare() -> LocalParams {
    LocalParams {
        seed_core_mm3: 1.0,
        noise_z: 0.0,
        grow_noise_z: 0.0,
        denoise_mm: 0.0,
        fine_mm: 0.0,
        edge_mm: 0.0,
        ..LocalParams::default()
    }
}

#[test]
fn the_marrow_level_is_the_mode_of_the_marrow() {
    // 500 marrow voxels peaking at 100, 400 lesion voxels over 240-260 (40% of the
    // region, as the largest real oedema) and 300 cortex voxels at 20 and 35: the mode
    // of what is not cortex is the marrow, where the mean is far above it.
    let mut v: Vec<f32> = (0..500).map(|i| 100.0 + ((i % 11) as f32 - 5.0) * ((i / 11) % 2) as f32).collect();
    v.extend((0..400).map(|i| 240.0 + (i % 21) as f32));
    v.extend((0..300).map(|i| if i % 2 == 0 { 20.0 } else { 35.0 }));
    let mode = marrow_level(&mut v.clone()).unwrap();
    assert!((mode - 100.0).abs() < 2.0, "{mode}");
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    assert!(mean > 130.0);
    assert_eq!(marrow_level(&mut []), None);
    assert_eq!(marrow_level(&mut [7.0, 7.0]), Some(7.0));
}

#[test]
fn the_marrow_level_scales_with_the_intensities() {
    let v: Vec<f32> = (0..5000).map(|i| 100.0 + ((i * 7919) % 61) as f32 - 30.0 + ((i % 97) as f32).sqrt()).collect();
    let a = marrow_level(&mut v.clone()).unwrap();
    let b = marrow_level(&mut v.iter().map(|x| x * 8.0).collect::<Vec<f32>>()).unwrap();
    assert!((b / a - 8.0).abs() < 1e-4, "{a} {b}");
}

#[test]
fn the_noise_level_is_measured_between_neighbouring_bone_voxels() {
    // A smooth ramp (texture) plus alternating +-10 (noise of sd 10): differences are
    // +-20 plus the ramp's 0.1, so the estimate is close to 10 / sqrt(2) * 2 / sqrt(2).
    // Only the finest axis (i, 1 mm) is used.
    let grid = Grid { dims: [200, 30, 4], affine: Affine::from_spacing_origin([1.0, 2.0, 3.0], [0.0; 3]) };
    let data: Vec<f32> =
        (0..grid.len()).map(|v| 100.0 + 0.1 * (v % 200) as f32 + if v % 2 == 0 { 10.0 } else { -10.0 }).collect();
    let scan = Volume::from_vec(grid, data);
    let atlas = Volume::filled(grid, 1u8);
    let s = noise_sigma(&scan, &atlas).unwrap();
    assert!((s - 20.0 * MAD_TO_SD / std::f64::consts::SQRT_2).abs() < 0.2, "{s}");
    assert_eq!(noise_sigma(&scan, &Volume::filled(grid, 0u8)), None);
}

#[test]
fn the_noise_level_does_not_depend_on_the_storage_order() {
    let grid = Grid { dims: [40, 30, 12], affine: Affine::from_spacing_origin([1.5, 1.5, 4.0], [-30.75, 10.0, 2.0]) };
    let mut state = 12345u64;
    let data: Vec<f32> = (0..grid.len())
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            100.0 + ((state >> 33) % 1000) as f32 / 20.0
        })
        .collect();
    let scan = Volume::from_vec(grid, data);
    let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| (v % 7 != 0) as u8).collect());
    let want = noise_sigma(&scan, &atlas).unwrap();
    for code in ["LPS", "ASR", "PIL", "SRA"] {
        let (s, a) = (scan.reoriented(code).unwrap(), atlas.reoriented(code).unwrap());
        assert_eq!(noise_sigma(&s, &a), Some(want), "{code}");
        let (m, n) = (MarrowMap::new(&scan, &atlas), MarrowMap::new(&s, &a));
        for v in (0..grid.len()).step_by(97) {
            let o = grid.ijk(v).map(|x| x as f64);
            let w = grid.affine.voxel_to_world(o);
            let r = s.grid.affine.world_to_voxel(w).unwrap().map(|x| x.round() as usize);
            assert_eq!(m.level(grid.ijk(v), 1), n.level(r, 1), "{code} voxel {v}");
        }
    }
}

#[test]
fn region_references_take_each_regions_mode_and_fall_back_when_small() {
    let mut scan: Vec<f32> = (0..300).map(|i| 100.0 + (i % 5) as f32).collect();
    scan.extend((0..300).map(|i| 50.0 + (i % 5) as f32));
    scan.push(7.0);
    let mut atlas = vec![1u16; 300];
    atlas.extend([2u16; 300]);
    atlas.push(3);
    let samples = BoneSamples::gather(&scan, &atlas);
    let r = region_references(&samples, &[], 4.0, &LocalParams::default());
    // Uniform over 100..=104 and 50..=54: the mode lies within each region's values.
    assert!((99.9..104.1).contains(&r[1].marrow) && (49.9..54.1).contains(&r[2].marrow), "{:?}", &r[..4]);
    let whole = marrow_level(&mut samples.by_label.concat()).unwrap();
    assert_eq!(r[3].marrow, whole, "the one-voxel region takes all bone's mode");
    assert!(r.iter().all(|x| x.noise == 4.0));
}

#[test]
fn seeds_need_a_core_inside_and_growth_keeps_the_whole_component() {
    // One line of 12 voxels, all atlas; marrow 100. The line is 1 voxel thick along j and
    // k (10 mm), so the 2 mm edge guard acts along i only.
    let grid = Grid { dims: [12, 1, 1], affine: Affine::from_spacing_origin([1.0, 10.0, 10.0], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let p = LocalParams { seed_ratio: 1.8, grow_ratio: 1.4, edge_mm: 2.0, ..bare() };
    // A bright edge blob (0..2) never seeds; an inner lesion (5..8) seeds at 6 and grows
    // over 5..8; 10 is bright but at the edge.
    let mut v = vec![100.0f32; 12];
    for (i, x) in [(0, 200.0), (1, 200.0), (5, 150.0), (6, 190.0), (7, 150.0), (10, 190.0)] {
        v[i] = x;
    }
    let scan = Volume::from_vec(grid, v);
    let got = local_mask(&scan, &atlas, &refs(100.0, 1.0), &p);
    assert_eq!(got, (0..12).map(|i| (5..8).contains(&i)).collect::<Vec<bool>>());
    // A core of 2 voxels (20 mm^3 here... 200 mm^3) is more than the lesion's one seed.
    let strict = LocalParams { seed_core_mm3: 150.0, ..p };
    assert!(!local_mask(&scan, &atlas, &refs(100.0, 1.0), &strict).iter().any(|&b| b));
}

#[test]
fn noisy_scans_need_seeds_above_the_noise_as_well_as_the_ratio() {
    let grid = Grid { dims: [12, 1, 1], affine: Affine::from_spacing_origin([1.0, 10.0, 10.0], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let mut v = vec![100.0f32; 12];
    v[5..8].copy_from_slice(&[170.0, 170.0, 170.0]);
    let scan = Volume::from_vec(grid, v);
    let p = LocalParams { noise_z: 3.0, ..bare() };
    assert!(local_mask(&scan, &atlas, &refs(100.0, 20.0), &p).iter().any(|&b| b), "70 > 3 x 20");
    assert!(!local_mask(&scan, &atlas, &refs(100.0, 30.0), &p).iter().any(|&b| b), "70 < 3 x 30");
}

#[test]
fn a_bright_edge_beside_brighter_fluid_outside_the_bone_is_no_seed() {
    // A bone (i < 10) of marrow 100 whose outer column is 200; outside it (i >= 10)
    // fluid at 400 (CSF beside a vertebra: partial volume) or soft tissue at 50.
    let grid = Grid { dims: [14, 10, 3], affine: Affine::from_spacing_origin([1.0, 1.0, 3.0], [0.0; 3]) };
    let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| u16::from(v % 14 < 10)).collect());
    let scan_with = |outside: f32| {
        Volume::from_vec(
            grid,
            (0..grid.len())
                .map(|v| match v % 14 {
                    0..=8 => 100.0,
                    9 => 200.0,
                    _ => outside,
                })
                .collect(),
        )
    };
    let count =
        |scan: &Volume<f32>| local_mask(scan, &atlas, &refs(100.0, 1.0), &bare()).iter().filter(|&&x| x).count();
    assert_eq!(count(&scan_with(50.0)), 10 * 3, "beside dark soft tissue the bright edge is a lesion");
    assert_eq!(count(&scan_with(400.0)), 0, "beside brighter fluid it has no seed");
}

#[test]
fn denoising_averages_bone_voxels_only() {
    // A 1-voxel bright line (ratio 2) at the edge of a bone: with a 1 mm radius its
    // denoised value averages itself with bone voxels only (the outside is brighter
    // fluid and must not count).
    let grid = Grid { dims: [9, 9, 1], affine: Affine::from_spacing_origin([1.0, 1.0, 5.0], [0.0; 3]) };
    let mut atlas = Volume::filled(grid, 0u16);
    let mut scan = Volume::filled(grid, 900.0f32);
    for j in 0..9 {
        for i in 0..5 {
            atlas.data[grid.index(i, j, 0)] = 1;
            scan.data[grid.index(i, j, 0)] = if i == 4 { 200.0 } else { 100.0 };
        }
    }
    let p = LocalParams { denoise_mm: 1.0, ..bare() };
    let map = MarrowMap::new(&scan, &atlas);
    let r = refs(100.0, 1.0);
    let bones = Bones::default();
    let no_slabs = SlabLevels::default();
    let levels = Levels::new(&scan, &atlas, &r, &map, &no_slabs, 0.0);
    let seeds = Seeds::new(&scan, &atlas, &r, &levels, &bones, &p);
    // Window at (4, 4): i 3..5 (bone only: 3, 4) x j 3..6 -> (3 x 100 + 3 x 200) / 6.
    assert!((seeds.denoised([4, 4, 0]) - 150.0).abs() < 1e-9);
    assert_eq!(seeds.radius, [1, 1, 0]);
}

#[test]
fn bright_speckle_beside_a_lesion_does_not_join_its_outline() {
    // One 5 mm slice of 1 mm voxels, marrow 100. A lesion (300) at i 4..12, j 10..18; right
    // of it (i 12..30) a checkerboard of 200 and 60: every bright square clears the growth
    // ratio on its own, but the mean around it (5 bright and 4 dark voxels: 138) does not.
    // (The bright squares are the ones the marrow map's every-other-voxel sampling skips.)
    let grid = Grid { dims: [30, 28, 1], affine: Affine::from_spacing_origin([1.0, 1.0, 5.0], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let scan = Volume::from_vec(
        grid,
        (0..grid.len())
            .map(|v| {
                let [i, j, _] = grid.ijk(v);
                match (i, j) {
                    (4..12, 10..18) => 300.0,
                    (12.., _) if (i + j) % 2 == 1 => 200.0,
                    (12.., _) => 60.0,
                    _ => 100.0,
                }
            })
            .collect(),
    );
    let p = LocalParams { grow_ratio: 1.4, plate_mm: 0.0, ..bare() };
    let far = |mask: &[bool]| (0..grid.len()).filter(|&v| mask[v] && grid.ijk(v)[0] >= 14).count();
    let raw = local_mask(&scan, &atlas, &refs(100.0, 1.0), &p);
    assert!(far(&raw) > 100, "judged voxel by voxel the speckle percolates into the lesion");
    let denoised = local_mask(&scan, &atlas, &refs(100.0, 1.0), &LocalParams { denoise_mm: 1.0, ..p });
    assert_eq!(far(&denoised), 0, "judged on the mean around each voxel it does not");
    for v in (0..grid.len()).filter(|&v| matches!(grid.ijk(v), [4..12, 10..18, _])) {
        assert!(denoised[v], "the lesion keeps its voxels: {:?}", grid.ijk(v));
    }
}

#[test]
fn multiplying_every_intensity_by_a_constant_changes_nothing() {
    let grid = Grid { dims: [40, 30, 6], affine: Affine::from_spacing_origin([0.7, 0.7, 4.0], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let data: Vec<f32> = (0..grid.len())
        .map(|v| {
            let (i, j) = (v % 40, (v / 40) % 30);
            let lesion = (12..20).contains(&i) && (10..18).contains(&j);
            let noise = ((v * 2654435761) % 97) as f32 - 48.0;
            (if lesion { 230.0 } else { 120.0 }) + 0.4 * noise
        })
        .collect();
    let run = |k: f32| {
        let scan = Volume::from_vec(grid, data.iter().map(|x| x * k).collect());
        let samples = BoneSamples::gather(&scan.data, &atlas.data);
        let noise = noise_sigma(&scan, &atlas).unwrap();
        let p = LocalParams::default();
        local_mask(&scan, &atlas, &region_references(&samples, &[], noise, &p), &p)
    };
    let base = run(1.0);
    assert!(base.iter().filter(|&&b| b).count() > 100);
    for k in [0.01, 0.37, 3.0, 250.0] {
        assert_eq!(run(k), base, "scale {k}");
    }
}

#[test]
fn a_physis_touching_a_lesion_is_trimmed_off_and_a_lone_physis_dropped() {
    // 30 x 12 x 40 voxels of 1 x 1 x 1 mm, one region (marrow 100). A physis (200) spans
    // i 0..30 at k 20..22; a lesion (500) sits on it at i 10..16, k 22..28; a second
    // physis far away at k 5..7 stands alone.
    let grid = Grid { dims: [30, 12, 40], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let mut scan = Volume::filled(grid, 100.0f32);
    for k in 0..40 {
        for j in 0..12 {
            for i in 0..30 {
                let v = &mut scan.data[grid.index(i, j, k)];
                if (20..22).contains(&k) || (5..7).contains(&k) {
                    *v = 200.0;
                }
                if (10..16).contains(&i) && (22..28).contains(&k) {
                    *v = 500.0;
                }
            }
        }
    }
    let p = LocalParams { seed_ratio: 3.0, grow_ratio: 1.6, ..bare() };
    let got = local_mask(&scan, &atlas, &refs(100.0, 1.0), &p);
    for k in 0..40 {
        for i in 0..30 {
            let want = (10..16).contains(&i) && (22..28).contains(&k);
            assert_eq!(got[grid.index(i, 1, k)], want, "i {i} k {k}");
        }
    }
    // Without the half-maximum cut the physis stays fused to the lesion.
    let loose = LocalParams { peak_fraction: 0.0, ..p };
    let got = local_mask(&scan, &atlas, &refs(100.0, 1.0), &loose);
    assert!(got[grid.index(0, 1, 20)] && !got[grid.index(0, 1, 5)]);
}

#[test]
fn the_marrow_level_of_a_small_region_does_not_move_when_the_scan_is_rounded() {
    // 300 voxels of marrow around 56 with a spread of about 12 (a fibula's core on a coarse
    // grid): rounding to integers, as an int16 copy of the scan does, moves the level by
    // well under 1%; so does a shift of a quarter of a bin.
    let mut state = 12345u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let v: Vec<f32> = (0..300).map(|_| (56.0 + 12.0 * ((next() + next() + next()) - 1.5) * 2.0) as f32).collect();
    let level = marrow_level(&mut v.clone()).unwrap();
    let rounded = marrow_level(&mut v.iter().map(|x| x.round()).collect::<Vec<_>>()).unwrap();
    assert!((level - 56.0).abs() < 6.0, "{level}");
    assert!((rounded / level - 1.0).abs() < 0.01, "{level} vs {rounded}");
    let shifted = marrow_level(&mut v.iter().map(|x| x + 0.1).collect::<Vec<_>>()).unwrap();
    assert!((shifted - level - 0.1).abs() < 0.1, "{level} vs {shifted}");
}

#[test]
fn oedema_filling_a_whole_neighbourhood_does_not_become_its_own_marrow() {
    // A 20 cm bone whose region level is 100 (its normal marrow, the mode) with oedema over
    // 10 cm of it, a little above the seed ratio times MAX_LIFT (about 2.8 x): the block
    // medians there are the oedema's, but the level a voxel is judged against stops at
    // MAX_LIFT times the region's, so the oedema stays a lesion.
    let oedema = (1.1 * LocalParams::default().seed_ratio * MAX_LIFT * 100.0) as f32;
    let grid = Grid { dims: [200, 40, 20], affine: Affine::from_spacing_origin([1.0, 1.0, 3.0], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let scan = Volume::from_vec(grid, (0..grid.len()).map(|v| if v % 200 < 100 { oedema } else { 100.0 }).collect());
    let map = MarrowMap::new(&scan, &atlas);
    assert!(map.level([50, 20, 10], 1).unwrap() > 200.0, "the blocks see the oedema");
    let r = refs(100.0, 1.0);
    let no_slabs = SlabLevels::default();
    let levels = Levels::new(&scan, &atlas, &r, &map, &no_slabs, 0.0);
    assert!((levels.at([50, 20, 10], 1u16) - MAX_LIFT * 100.0).abs() < 1e-9);
    assert_eq!(levels.at([190, 20, 10], 1u16), 100.0, "normal marrow keeps its level");
    let found = local_mask(&scan, &atlas, &r, &LocalParams { plate_mm: 0.0, ..bare() });
    assert!(found[grid.index(50, 20, 10)] && !found[grid.index(190, 20, 10)]);
}

#[test]
fn a_curved_physis_is_dropped_in_a_tubular_bone_unless_a_brighter_focus_rides_on_it() {
    // 40 x 40 x 30 voxels of 1 mm, one region (marrow 100). A spherical cap (sphere radius
    // 17 mm, 3 mm thick, rim radius 12 mm, bulging 5 mm along z) at 250: a femoral head's
    // physis. Its spread along z takes in the bulge, so only its short runs across it tell
    // a plate, and only in a tubular bone.
    let grid = Grid { dims: [40, 40, 30], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
    let atlas = Volume::filled(grid, 1u16);
    let in_cap = |v: usize| {
        let [i, j, k] = grid.ijk(v).map(|c| c as f64);
        let (x, y, z) = (i - 20.0, j - 20.0, k - 5.0);
        let r = (x * x + y * y + (z - 17.0).powi(2)).sqrt();
        (14.0..17.0).contains(&r) && x * x + y * y <= 12.0 * 12.0 && z < 17.0
    };
    let scan_with = |focus: f32| {
        let data = (0..grid.len())
            .map(|v| {
                let [i, j, _] = grid.ijk(v);
                match (in_cap(v), i >= 20 && j >= 20) {
                    (true, true) => focus,
                    (true, false) => 250.0,
                    _ => 100.0,
                }
            })
            .collect();
        Volume::from_vec(grid, data)
    };
    let tubular =
        Bones { of: vec![0, 0], plate_axis: vec![crate::detect::shape::WORLD_Z; 2], tubular: vec![false, true] };
    let p = LocalParams { seed_ratio: 2.0, grow_ratio: 1.6, ..bare() };
    let found = |scan: &Volume<f32>, bones: &Bones| {
        local_components(scan, &atlas, &refs(100.0, 1.0), bones, &p, Connectivity::Corners26).count
    };
    let even = scan_with(250.0);
    assert_eq!(found(&even, &tubular), 0, "an even curved physis in a tubular bone");
    assert_eq!(found(&even, &Bones::default()), 1, "no curved plates outside the tubular bones");
    // A quarter of it at 400 (a band of oedema along the physis, 1.6 times the rest): too
    // dim for the half-maximum cut to take the physis off, but not even.
    assert_eq!(found(&scan_with(400.0), &tubular), 1);
}

#[test]
fn red_marrow_along_a_tubular_bone_is_judged_against_its_own_slabs() {
    // A bone along k, 30 mm across, 2 mm voxels: yellow marrow (60, the region's level) with
    // red marrow (150, 2.5 times) over its first 60 mm, and a 10 mm lesion at twice the
    // yellow in the yellow part. Against the region's level (and the blocks' capped lift)
    // the red marrow is a lesion; against the marrow of its own slabs along the bone it is
    // not, and the lesion stays.
    let grid = Grid { dims: [20, 20, 100], affine: Affine::from_spacing_origin([2.0; 3], [0.0; 3]) };
    let in_bone = |i: usize, j: usize| (i as f64 - 9.5).powi(2) + (j as f64 - 9.5).powi(2) <= 7.5f64.powi(2);
    let lesion = |i: usize, j: usize, k: usize| (8..13).contains(&i) && (8..13).contains(&j) && (70..75).contains(&k);
    let atlas = Volume::from_vec(grid, (0..grid.len()).map(|v| in_bone(v % 20, (v / 20) % 20) as u16).collect());
    let scan = Volume::from_vec(
        grid,
        (0..grid.len())
            .map(|v| {
                let [i, j, k] = grid.ijk(v);
                let texture = 1.0 + 0.04 * (((i * 7 + j * 3 + k * 5) % 9) as f32 - 4.0) / 4.0;
                match (lesion(i, j, k), k < 30) {
                    (true, _) => 120.0,
                    (false, true) => 150.0 * texture,
                    (false, false) => 60.0 * texture,
                }
            })
            .collect(),
    );
    let tubular = Bones { of: vec![0, 0], plate_axis: vec![[0.0, 0.0, 1.0]; 2], tubular: vec![false, true] };
    let p = LocalParams { plate_mm: 0.0, seed_core_mm3: 40.0, ..bare() };
    let found = |bones: &Bones| {
        local_components(&scan, &atlas, &refs(60.0, 1.0), bones, &p, Connectivity::Corners26).to_volume()
    };
    let (red, focus) = (grid.index(9, 9, 10), grid.index(10, 10, 72));
    let flat = found(&Bones::default());
    assert!(flat[red] != 0 && flat[focus] != 0, "against the region's level the red marrow is a lesion");
    let along = found(&tubular);
    assert!(along[red] == 0 && along[focus] != 0, "against its slabs it is not; the lesion stays");
}

#[test]
fn the_seed_floor_is_the_seed_ratio_or_the_noise_demand_over_the_level() {
    let p = LocalParams { seed_ratio: 1.55, noise_z: 17.0, denoise_mm: 1.0, ..LocalParams::default() };
    // 0.6 mm in plane: a 3 x 3 x 1 window, the demand 17 x 30 / 3 = 170 over the level.
    let fine = [0.6, 0.6, 3.3];
    assert_eq!(p.denoise_radius(fine), [1, 1, 0]);
    assert!((p.seed_noise_excess(fine, 30.0) - 170.0).abs() < 1e-9);
    assert_eq!(p.seed_floor_ratio(fine, 400.0, 30.0), Some(1.55));
    assert!((p.seed_floor_ratio(fine, 200.0, 30.0).unwrap() - 1.85).abs() < 1e-12);
    // 1.2 mm: no averaging, the demand 17 x 30 = 510 over the level.
    let coarse = [1.2, 1.2, 3.3];
    assert_eq!(p.denoise_radius(coarse), [0, 0, 0]);
    assert!((p.seed_floor_ratio(coarse, 400.0, 30.0).unwrap() - 2.275).abs() < 1e-12);
    // Exactly 1 mm voxels average (a window reaching 1 mm holds the neighbour).
    assert_eq!(p.denoise_radius([1.0, 1.0, 1.0]), [1, 1, 1]);
    // No ratio to a level at or below 0; no demand, the seed ratio alone.
    assert_eq!(p.seed_floor_ratio(coarse, 0.0, 30.0), None);
    assert_eq!(LocalParams { noise_z: 0.0, ..p.clone() }.seed_floor_ratio(coarse, 100.0, 30.0), Some(1.55));
}
