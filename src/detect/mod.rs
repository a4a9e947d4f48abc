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
use crate::labels::LabelTable;
use crate::reference::{BoneSamples, Reference};
use crate::volume::{Label, Volume};
use std::collections::BTreeMap;

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

/// Each label's bone as a number (index = label): labels of one bone (by
/// [`RegionInfo::bone`](crate::labels::RegionInfo::bone), say `femur_neck_left` and
/// `femur_head_left`) share it; a label the table does not name is a bone of its own.
pub fn bone_ids(table: &LabelTable, labels: usize) -> Vec<u32> {
    let mut ids: BTreeMap<String, u32> = BTreeMap::new();
    (0..labels as u32)
        .map(|label| {
            let name = table.info(label).map_or_else(|| format!("\0label {label}"), |info| info.bone);
            let next = ids.len() as u32;
            *ids.entry(name).or_insert(next)
        })
        .collect()
}

/// The lesion candidates of `method` as connected components: `cutoff` is the global
/// detector's intensity threshold; the local detector also returns what it measured, and
/// its components never cross from one bone to another (`bone_of`, from [`bone_ids`]).
#[allow(clippy::too_many_arguments)]
pub fn components<L: Label>(
    method: Method,
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    samples: &BoneSamples,
    reference: &Reference,
    cutoff: f64,
    bone_of: &[u32],
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
            let comps = local::local_components(scan, atlas, &refs, bone_of, local, conn);
            (comps, Some(LocalFacts { noise_sigma, refs }))
        }
    }
}
