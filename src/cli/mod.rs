//! The command line's larger parts, kept out of `main.rs`: the cohort subcommand.

pub mod bids;
