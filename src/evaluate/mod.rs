//! Evaluation: the detector scored against ground truth.
//!
//! - `suite`: synthetic phantoms with known lesions (`crmo-map evaluate --phantoms` /
//!   `--suite`), matched per lesion with regions (rules in that module);
//! - [`dataset`], [`readers`], [`run`], [`froc`], [`plot`]: real scans with radiologists' masks
//!   (`crmo-map evaluate --readers`): the detector against every reader and the readers
//!   against each other, side by side, with an FROC over the detector's main threshold (rules
//!   in [`readers`]);
//! - [`marrow_check`]: the detector's normal-marrow level against the readers' reference
//!   region, scan by scan;
//! - [`interval`]: the 95% confidence intervals both give with their sensitivity and false
//!   positives per scan.

pub mod dataset;
pub mod froc;
pub mod interval;
pub mod marrow_check;
pub mod plot;
pub mod readers;
pub mod run;
mod score;
mod suite;

pub use froc::{at_operating_point, operating_points};
pub use run::{evaluate_readers, ReaderConfig, ReaderEvaluation};
pub use suite::*;
