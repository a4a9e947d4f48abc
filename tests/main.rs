//! Integration tests: one binary, one module per concern.

mod bad_inputs;
mod cli;
mod confounders;
mod evaluate;
mod golden;
mod loader;
mod phantom_runs;
mod readers;
mod util;
