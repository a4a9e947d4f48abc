//! Round trips of the reader and writer.

use super::read::{convert_run, widen_in_place, CHUNK};
use super::*;
use crate::volume::{Affine, Grid};
use std::io::Read;

fn grid() -> Grid {
    let mut a = Affine::from_spacing_origin([1.5, 4.0, 2.0], [-20.0, 10.0, -30.0]);
    // An oblique-free but permuted and flipped affine: i -> -y, j -> z, k -> x.
    a.0 = [[0.0, 0.0, 2.0, -20.0], [-1.5, 0.0, 0.0, 10.0], [0.0, 4.0, 0.0, -30.0], [0.0, 0.0, 0.0, 1.0]];
    Grid { dims: [5, 4, 3], affine: a }
}

#[test]
fn every_datatype_round_trips_with_and_without_scaling() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid();
    let vol = Volume::from_vec(g, (0..g.len()).map(|v| v as f32 * 2.0).collect());
    for dt in Datatype::ALL {
        for (slope, inter) in [(1.0f32, 0.0f32), (0.5, 10.0)] {
            for gz in [false, true] {
                let name = format!("v-{}-{slope}.{}", dt.name(), if gz { "nii.gz" } else { "nii" });
                let path = dir.path().join(name);
                let opts = WriteOptions { slope, inter, ..WriteOptions::new(dt) };
                // Keep values inside the range of the narrow types (int8: stored <= 127 with slope 0.5).
                let v = Volume::from_vec(g, vol.data.iter().map(|x| x.min(50.0) + inter).collect());
                write_volume(&path, &v, &opts, None).unwrap();
                let back = read_scan(&path).unwrap();
                assert_eq!(back.datatype, dt);
                assert!(back.volume.grid.affine.max_abs_diff(&g.affine) < 1e-5);
                assert_eq!(back.volume.grid.dims, g.dims);
                for (a, b) in back.volume.data.iter().zip(&v.data) {
                    assert!((a - b).abs() <= slope / 2.0 + 1e-4, "{} {a} vs {b}", dt.name());
                }
            }
        }
    }
}

/// Volumes big enough for the in-place conversion's parallel phases and for several gzip
/// blocks, in every datatype, read back as scans and as labels, stored and gzipped.
#[test]
fn large_volumes_convert_in_place_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let g = Grid { dims: [97, 83, 151], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
    // Whole numbers 0..=127 (int8 holds them) in a pattern that no shift or misplaced phase would preserve.
    let values: Vec<f32> = (0..g.len()).map(|i| ((i * 7919) % 113 + (i / 100_003) % 5) as f32).collect();
    let vol = Volume::from_vec(g, values.clone());
    let mut gz_blocks = 0;
    for dt in Datatype::ALL {
        for gz in [false, true] {
            let path = dir.path().join(format!("big-{}.{}", dt.name(), if gz { "nii.gz" } else { "nii" }));
            write_volume(&path, &vol, &WriteOptions::new(dt), None).unwrap();
            let scan = read_scan(&path).unwrap();
            assert!(scan.volume.data == values, "{} as scan (gz {gz})", dt.name());
            let labels = read_labels(&path).unwrap();
            assert!(labels.volume.data.iter().zip(&values).all(|(&a, &b)| a as f32 == b), "{} as labels", dt.name());
            let stored = std::fs::read(&path).unwrap();
            assert_eq!(scan.sha256, sha256_hex(&stored));
            if gz {
                // One gzip member whose stream inflates (by another decoder) to the whole file.
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(&stored[..]).read_to_end(&mut plain).unwrap();
                assert_eq!(plain.len(), 352 + g.len() * dt.size());
                // The nifti crate's own reader (single-member gzip only) takes it too.
                let obj = nifti::ReaderOptions::new().fix_header(true).read_file(&path).unwrap();
                assert_eq!(&nifti::NiftiObject::header(&obj).dim[1..4], &[97, 83, 151]);
                gz_blocks += 1;
            }
        }
    }
    assert_eq!(gz_blocks, Datatype::ALL.len());
}

#[test]
fn in_place_widening_matches_a_plain_conversion_for_any_length() {
    for n in [0usize, 1, 2, 3, 1000, CHUNK - 1, 2 * CHUNK + 17, 5 * CHUNK + 3] {
        for first_extra in [0usize, 352] {
            // u8 -> u16: the stored bytes fill the buffer's tail.
            let stored: Vec<u8> = (0..n).map(|i| (i * 31 % 256) as u8).collect();
            let first = n + first_extra;
            let mut buf = vec![0u16; (first + n).div_ceil(2)];
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
            bytes[first..first + n].copy_from_slice(&stored);
            widen_in_place(
                &mut buf,
                n,
                first,
                |i: &[u8], o: &mut [u16]| convert_run(Datatype::U8, true, i, o, &|v| v as u16),
                1,
            );
            assert!(buf[..n].iter().zip(&stored).all(|(&a, &b)| a == b as u16), "n {n}, extra {first_extra}");
        }
    }
}

#[test]
fn qform_alone_gives_the_same_affine() {
    let g = grid();
    let mut h = make_header(&g, &WriteOptions::new(Datatype::U8), None);
    h.sform_code = 0;
    let (a, src) = header_affine(&h);
    assert_eq!(src, "qform");
    assert!(a.max_abs_diff(&g.affine) < 1e-5, "{a:?}");
}
