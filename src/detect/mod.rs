//! Lesion detection: which bone voxels are STIR hyperintense, as connected components.
//!
//! - [`Method::Global`] ([`global`], the naive baseline): inside the atlas and z above
//!   `z_threshold`, z taken against the median and MAD of all bone voxels.
//! - [`Method::Local`] ([`local`], the default): ratios to each region's own normal marrow
//!   and the scan's own noise level, hysteresis from seed cores, a growth-plate guard and a
//!   half-maximum outline.
//!
//! [`interior`] is the atlas-edge guard and [`shape`] the component shape and growth-plate
//! test that the local detector uses.

pub mod global;
pub mod interior;
pub mod local;
pub mod marrow_map;
pub mod shape;

pub use local::{LocalParams, RegionReference};

use crate::ccl::{Components, Connectivity};
use crate::reference::{BoneSamples, Reference};
use crate::volume::{Label, Volume};

/// Which detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One z threshold against all bone (the naive baseline).
    Global,
    /// Ratios to each region's normal marrow, seed cores, growth-plate guard.
    Local,
}

impl Method {
    /// `"global"` or `"local"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Global => "global",
            Method::Local => "local",
        }
    }
}

/// What the local detector measured on the scan, for the report.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalFacts {
    /// The scan's noise level inside bone ([`local::noise_sigma`]).
    pub noise_sigma: f64,
    /// Each label's normal-marrow level (index = label).
    pub refs: Vec<RegionReference>,
}

/// The lesion candidates of `method` as connected components: `cutoff` is the global
/// detector's intensity threshold; the local detector also returns what it measured.
#[allow(clippy::too_many_arguments)]
pub fn components<L: Label>(
    method: Method,
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    samples: &BoneSamples,
    reference: &Reference,
    cutoff: f64,
    local: &LocalParams,
    conn: Connectivity,
    stage: &dyn Fn(&str),
) -> (Components, Option<LocalFacts>) {
    match method {
        Method::Global => {
            stage("thresholding and connected components");
            (global::components(&scan.data, &atlas.data, scan.grid.dims, cutoff as f32, conn), None)
        }
        Method::Local => {
            stage("region references");
            // A scan without two neighbouring bone voxels has no measurable noise: the
            // whole-bone spread stands in.
            let noise_sigma = local::noise_sigma(scan, atlas).unwrap_or_else(|| reference.sigma());
            let refs = local::region_references(samples, noise_sigma, local);
            stage("local detector");
            let comps = local::local_components(scan, atlas, &refs, local, conn);
            (comps, Some(LocalFacts { noise_sigma, refs }))
        }
    }
}
