//! Integration tests: one binary, one module per concern.

mod atlas_inputs;
mod atomic_outputs;
mod bad_inputs;
mod bone_only;
mod cli;
mod cohort;
mod confounders;
mod corpus;
mod evaluate;
mod golden;
mod loader;
mod parcellation;
mod phantom_runs;
mod readers;
mod realdata;
mod regions;
mod review;
mod schema;
mod staging;
mod util;
mod viewer_tables;
