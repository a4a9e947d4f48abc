//! The NIfTI reader through the gzip path: the input is a NIfTI file, gzipped here so that the
//! mutations reach the header and data behind a valid stream (headers that lie about sizes).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Write;
mod common;

fuzz_target!(|data: &[u8]| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("in memory");
    let path = common::file("input.nii.gz", &gz.finish().expect("in memory"));
    let _ = crmo_map::io::read_scan(&path);
    let _ = crmo_map::io::read_atlas(&path);
});
