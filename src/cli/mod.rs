//! The command line's larger parts, kept out of `main.rs`: the flags, the subcommands, the
//! cohort subcommand and the progress display.

pub mod args;
pub mod bids;
pub mod commands;
pub mod progress;
