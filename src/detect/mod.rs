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

pub mod chords;
pub mod fine_level;
pub mod global;
pub mod interior;
pub mod local;
pub mod marrow_map;
pub mod shape;
pub mod slab_level;

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

/// Which bone each atlas label belongs to, for the local detector: components never cross
/// from one bone to another, and a growth plate lies across its own bone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bones {
    /// Each label's bone as a number (index = label): labels of one bone (by
    /// [`RegionInfo::bone`](crate::labels::RegionInfo::bone), say `femur_neck_left` and
    /// `femur_head_left`) share it; a label the table does not name is a bone of its own.
    /// Labels past the end are one further bone.
    pub of: Vec<u32>,
    /// The axis a growth plate of the label's bone lies across ([`shape::plate_axes`]);
    /// world z past the end.
    pub plate_axis: Vec<[f64; 3]>,
    /// Whether the label is part of a tubular or foot bone, whose growth plates may be
    /// curved (the femoral head's cap, the proximal humeral tent): [`shape::is_plate`].
    pub tubular: Vec<bool>,
}

impl Bones {
    /// The bones of the first `labels` labels of `atlas`, named by `table`.
    pub fn new<L: Label>(atlas: &Volume<L>, table: &LabelTable, labels: usize) -> Bones {
        let mut ids: BTreeMap<String, u32> = BTreeMap::new();
        let infos: Vec<_> = (0..labels as u32).map(|label| table.info(label)).collect();
        let of: Vec<u32> = infos
            .iter()
            .enumerate()
            .map(|(label, info)| {
                let name = info.as_ref().map_or_else(|| format!("\0label {label}"), |i| i.bone.clone());
                let next = ids.len() as u32;
                *ids.entry(name).or_insert(next)
            })
            .collect();
        let tubular: Vec<bool> =
            infos.iter().map(|info| info.as_ref().is_some_and(|i| i.bone_class.is_tubular_or_foot())).collect();
        let plate_axis = shape::plate_axes(atlas, &of, &tubular);
        Bones { of, plate_axis, tubular }
    }

    /// The bone number of label `l`.
    pub fn of<L: Label>(&self, l: L) -> u32 {
        self.of.get(l.index()).copied().unwrap_or(u32::MAX)
    }

    /// The axis growth plates in label `l` lie across.
    pub fn plate_axis<L: Label>(&self, l: L) -> [f64; 3] {
        self.plate_axis.get(l.index()).copied().unwrap_or(shape::WORLD_Z)
    }

    /// Per label up to `labels`: its bone's long axis (world, unit) for a tubular bone or a
    /// bone of the foot, `None` for the others.
    pub fn long_axes(&self, labels: usize) -> Vec<Option<[f64; 3]>> {
        (0..labels).map(|l| self.tubular.get(l).is_some_and(|&t| t).then(|| self.plate_axis[l])).collect()
    }

    /// Whether growth plates in label `l` may be curved (a tubular or foot bone's).
    pub fn curved_plates<L: Label>(&self, l: L) -> bool {
        self.tubular.get(l.index()).copied().unwrap_or(false)
    }
}

/// The lesion candidates of `method` as connected components: `cutoff` is the global
/// detector's intensity threshold; the local detector also returns what it measured, and
/// its components never cross from one bone to another ([`Bones`]).
#[allow(clippy::too_many_arguments)]
pub fn components<L: Label>(
    method: Method,
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    samples: &BoneSamples,
    reference: &Reference,
    cutoff: f64,
    bones: &Bones,
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
            let labels = samples.labels_used();
            let core = interior::core_samples(scan, atlas, labels);
            let refs = local::region_references(samples, &core, noise_sigma, local);
            stage("local detector");
            let comps = local::local_components(scan, atlas, &refs, bones, local, conn);
            (comps, Some(LocalFacts { noise_sigma, refs }))
        }
    }
}
