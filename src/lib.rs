//! # crmo-map
//!
//! Bone-lesion maps and lesion reports from whole-body STIR MRI for children with chronic
//! recurrent multifocal osteomyelitis (CRMO, also called CNO).
//!
//! The pipeline, one module per stage:
//!
//! 1. [`io`]: load a NIfTI scan and atlas (any datatype, `scl_slope`, any orientation) into
//!    [`volume::Volume`]s that carry their RAS+ affine;
//! 2. [`reference`](mod@reference): robust statistics (median, MAD) of the patient's own bone marrow;
//! 3. [`detect`]: lesion candidates as connected components (the local detector, against each
//!    region's own normal marrow, and the naive global threshold);
//! 4. [`ccl`]: 3-D connected components (6/18/26), parallel over slabs, canonical labels;
//! 5. [`lesions`]: per-lesion statistics and atlas regions, computed from the foreground only;
//!    [`equivocal`] sets aside small foci at the sites of normal-variant bright marrow;
//! 6. [`report`]: JSON, CSV and the summary that staging consumes; [`staging`]: the staging
//!    summary (bone units, RINBO inputs, the criteria's imaging items);
//! 7. [`render`]: the overview PNG and the region map picture ([`render::regions`]), in the
//!    colours of [`palette`]; [`regions`] describes the region map written with every run.
//!
//! [`pipeline::run`] chains them; [`phantom`] generates synthetic whole-body scans with
//! ground truth, including the founding case.
#![deny(missing_docs)]

pub mod ccl;
pub mod cohort;
pub mod detect;
pub mod equivocal;
pub mod error;
pub mod evaluate;
pub mod guard;
pub mod io;
pub mod labels;
pub mod lesions;
pub mod limits;
pub mod output;
pub mod palette;
pub mod parcellate;
pub mod phantom;
pub mod pipeline;
pub mod reference;
pub mod regions;
pub mod render;
pub mod report;
pub mod resample;
pub mod review;
pub mod staging;
pub mod tsv;
pub mod vec3;
pub mod viewer_tables;
pub mod volume;

pub use error::{Error, Result};
pub use volume::{Affine, Grid, Volume};
