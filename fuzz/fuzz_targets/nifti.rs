//! The NIfTI header and volume reader on an uncompressed `.nii`: as a scan and as an atlas.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("input.nii", data);
    let _ = crmo_map::io::read_scan(&path);
    let _ = crmo_map::io::read_atlas(&path);
});
