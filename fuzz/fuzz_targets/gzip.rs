//! The gzip path on raw bytes: truncated, corrupt and multi-member streams, bombs.
#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("input.nii.gz", data);
    let _ = crmo_map::io::read_scan(&path);
});
