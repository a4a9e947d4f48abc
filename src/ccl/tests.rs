//! Tests of the labelling against the flood-fill oracle.

use super::*;
use proptest::prelude::*;

const ALL: [Connectivity; 3] = [Connectivity::Faces6, Connectivity::Edges18, Connectivity::Corners26];

fn random_mask(dims: [usize; 3], density: f64, seed: u64) -> Vec<bool> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..dims.iter().product::<usize>())
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 <= density
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn equals_flood_fill_for_every_connectivity_and_slab_count(
        nx in 1usize..14, ny in 1usize..14, nz in 1usize..14,
        density in 0.05f64..0.95, seed in any::<u64>(), slabs in 1usize..9,
    ) {
        let dims = [nx, ny, nz];
        let mask = random_mask(dims, density, seed);
        let before = mask.clone();
        for conn in ALL {
            let (want, n) = flood_fill(&mask, dims, conn);
            let got = label_with_slabs(&mask, dims, conn, slabs);
            prop_assert_eq!(got.count, n);
            prop_assert_eq!(got.to_volume(), want);
        }
        prop_assert_eq!(mask, before, "Data was modified!");
    }
}

#[test]
fn parallel_equals_sequential_on_every_pool_size() {
    let dims = [37, 23, 41];
    for density in [0.02, 0.3, 0.6] {
        let mask = random_mask(dims, density, 99);
        for conn in ALL {
            let seq = label_with_slabs(&mask, dims, conn, 1);
            for threads in [1, 2, 3, 8] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let par = pool.install(|| label(&mask, dims, conn));
                assert_eq!(par, seq, "{conn:?} threads {threads}");
            }
        }
    }
}

#[test]
fn edge_cases() {
    for conn in ALL {
        let empty = label(&[false; 27], [3, 3, 3], conn);
        assert_eq!((empty.count, empty.runs.len()), (0, 0));
        let full = label(&[true; 60], [3, 4, 5], conn);
        assert_eq!(full.count, 1);
        let one = label(&[false, false, true, false], [1, 1, 4], conn);
        assert_eq!(one.to_volume(), vec![0, 0, 1, 0]);
        let none = label(&[], [0, 5, 5], conn);
        assert_eq!(none.count, 0);
    }
    // A 3-D checkerboard: every voxel its own component under 6, one under 18 and 26.
    let dims = [6, 6, 6];
    let cb: Vec<bool> = (0..216).map(|v| (v % 6 + (v / 6) % 6 + v / 36) % 2 == 0).collect();
    assert_eq!(label(&cb, dims, Connectivity::Faces6).count, 108);
    assert_eq!(label(&cb, dims, Connectivity::Edges18).count, 1);
    // Corner-only contact: two voxels touching at a corner.
    let mut m = vec![false; 8];
    m[0] = true;
    m[7] = true;
    assert_eq!(label(&m, [2, 2, 2], Connectivity::Edges18).count, 2);
    assert_eq!(label(&m, [2, 2, 2], Connectivity::Corners26).count, 1);
}

#[test]
fn connectivity_counts() {
    for conn in ALL {
        let mut n = 0;
        for dk in -1..=1 {
            for dj in -1..=1 {
                for di in -1..=1 {
                    n += conn.connects([di, dj, dk]) as u32;
                }
            }
        }
        assert_eq!(n, conn.count());
        assert_eq!(Connectivity::from_count(conn.count()), Some(conn));
    }
    assert_eq!(Connectivity::from_count(8), None);
}

/// Classes 0..n_classes in blocks of random lengths along `i`, so that runs of different
/// classes touch in rows.
fn random_classes(dims: [usize; 3], n_classes: u32, seed: u64) -> Vec<u32> {
    let mut s = seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1;
    let mut class = 0u32;
    (0..dims.iter().product::<usize>())
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            if s % 5 == 0 {
                class = (s >> 20) as u32 % n_classes;
            }
            class
        })
        .collect()
}

fn label_classed_with_slabs(
    mask: &[bool],
    class: &[u32],
    dims: [usize; 3],
    conn: Connectivity,
    slabs: usize,
) -> Components {
    let nx = dims[0];
    label_rows_with_slabs(dims, conn, slabs, |row, runs, classes| {
        let at = row * nx;
        push_classed_runs(0, nx, |i| mask[at + i].then_some(class[at + i]), runs, classes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn classed_labelling_equals_a_flood_fill_that_stays_in_its_class(
        nx in 1usize..14, ny in 1usize..14, nz in 1usize..14,
        density in 0.05f64..0.95, seed in any::<u64>(), slabs in 1usize..9, n_classes in 1u32..4,
    ) {
        let dims = [nx, ny, nz];
        let mask = random_mask(dims, density, seed);
        let class = random_classes(dims, n_classes, seed ^ 0x5555);
        for conn in ALL {
            let (want, n) = flood_fill_classed(&mask, &class, dims, conn);
            let got = label_classed_with_slabs(&mask, &class, dims, conn, slabs);
            prop_assert_eq!(got.count, n);
            prop_assert_eq!(got.to_volume(), want);
        }
    }
}

#[test]
fn classed_runs_split_where_the_class_changes() {
    let class = [Some(1), Some(1), Some(2), None, Some(2), Some(2)];
    let (mut runs, mut classes) = (Vec::new(), Vec::new());
    push_classed_runs(0, 6, |i| class[i], &mut runs, &mut classes);
    assert_eq!(runs, vec![Run { start: 0, end: 2 }, Run { start: 2, end: 3 }, Run { start: 4, end: 6 }]);
    assert_eq!(classes, vec![1, 2, 2]);
    // One bright bar across two classes: two components, though every voxel touches.
    let comps = label_classed_rows([6, 1, 1], Connectivity::Corners26, |_, runs, classes| {
        push_classed_runs(0, 6, |i| Some(if i < 3 { 7 } else { 9 }), runs, classes)
    });
    assert_eq!(comps.to_volume(), vec![1, 1, 1, 2, 2, 2]);
}
