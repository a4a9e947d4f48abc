//! The text parsers: label tables in every format, the staging configuration, the cohort
//! manifest and the readers' manifest.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("table.tsv", data);
    let _ = crmo_map::labels::LabelTable::read(&path);
    let _ = crmo_map::staging::Configured::load(Some(&path));
    let _ = crmo_map::cohort::discover::manifest_units(&path, &Default::default(), None::<&Path>);
    let _ = crmo_map::evaluate::dataset::read_dataset(&path);
});
