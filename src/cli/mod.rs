//! The command line's larger parts, kept out of `main.rs`: the cohort subcommand and the
//! progress display.

pub mod bids;
pub mod progress;
