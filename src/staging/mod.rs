//! The staging summary: what CRMO staging consumes, in its own terms (`shared/domain.md`,
//! "What staging consumes").
//!
//! - **Bone units** (CROMRIS, Zhao et al. 2020; RAI-CROMRIS, Capponi et al. 2021): the
//!   sub-regions grouped into the units that staging scores ([`StagingConfig::bone_units`]),
//!   each with the fraction of the unit involved, its extent grade (cut-offs from the
//!   configuration, provisional while unverified), the lesions in it, the largest signal
//!   ratio and z.
//! - **RINBO inputs** (Arnoldi et al. 2017): the number of active lesions, the largest,
//!   spinal involvement; extramedullary involvement is not assessed (marrow signal only).
//! - **Imaging items** of the Jansson score (2009), the Bristol criteria (2016) and the 2025
//!   EULAR/ACR classification: multifocal, symmetric, vertebral, clavicular, sternal and
//!   mandibular sites, more than one bone, a single clavicular lesion.
//! - **Spine**: vertebral involvement and its levels, the finding that is an indication for
//!   bisphosphonates (CARRA consensus plans 2018).
//!
//! Everything is derived from the lesions and the region map: no item here is a diagnosis.

mod config;

pub use config::{GradeRule, StagingConfig, UnitRule, DEFAULT_JSON, MAX_CONFIG_BYTES};

use crate::error::Result;
use crate::io::sha256_hex;
use crate::labels::BoneClass;
use crate::lesions::Lesion;
use crate::regions::RegionRow;
use crate::report::Summary;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Where the staging configuration came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigSource {
    /// `built-in`, or the file given with `--staging-config`.
    pub source: String,
    /// SHA-256 of the configuration's text.
    pub sha256: String,
}

/// A staging configuration and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Configured {
    /// The configuration.
    pub config: StagingConfig,
    /// Its file (or `built-in`) and checksum, for the report.
    pub source: ConfigSource,
}

impl Configured {
    /// The configuration in `path`, or the shipped one.
    ///
    /// # Errors
    /// As [`StagingConfig::read`].
    pub fn load(path: Option<&Path>) -> Result<Configured> {
        let (config, source, text) = match path {
            None => (StagingConfig::default(), "built-in".to_string(), DEFAULT_JSON.to_string()),
            Some(p) => {
                let (config, text) = StagingConfig::read(p)?;
                (config, p.display().to_string(), text)
            }
        };
        Ok(Configured { config, source: ConfigSource { source, sha256: sha256_hex(text.as_bytes()) } })
    }
}

/// One involved bone unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoneUnit {
    /// The unit's name (a region's own name when no rule groups it).
    pub unit: String,
    /// The unit's regions present in the region map.
    pub regions: Vec<String>,
    /// Bone class of the unit's regions.
    pub bone_class: BoneClass,
    /// The subject's side (`left`, `right`, `midline`).
    pub side: String,
    /// Voxels of the unit.
    pub voxels: u64,
    /// Lesion voxels in the unit.
    pub lesion_voxels: u64,
    /// `lesion_voxels / voxels`: the raw CROMRIS extent.
    pub fraction_involved: f64,
    /// Extent grade (0-based index into the configuration's grades).
    pub extent_grade: usize,
    /// The grade's label (`<25%`, ...).
    pub extent_grade_label: String,
    /// The grade comes from unverified cut-offs.
    pub extent_grade_provisional: bool,
    /// Lesions with voxels in the unit.
    pub lesion_count: usize,
    /// Their ids.
    pub lesion_ids: Vec<u32>,
    /// Largest mean signal of a lesion over its region's normal marrow (local detector only).
    pub max_ratio_to_marrow: Option<f64>,
    /// Largest mean signal of a lesion over the whole-bone reference median.
    pub max_ratio_to_reference: f64,
    /// Largest z (the brightest voxel against the whole-bone reference).
    pub max_z: f64,
}

/// The extent grade's definition, as applied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExtentGrade {
    /// What is graded.
    pub name: String,
    /// Cut-offs of the fraction involved.
    pub cutoffs: Vec<f64>,
    /// Grade labels.
    pub grades: Vec<String>,
    /// Grades from unverified cut-offs.
    pub provisional: bool,
    /// Where the cut-offs come from.
    pub source: String,
}

/// RINBO's inputs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rinbo {
    /// Active lesions.
    pub active_lesions: usize,
    /// Volume of the largest lesion (mm^3; 0 when none).
    pub largest_lesion_mm3: f64,
    /// Its id.
    pub largest_lesion_id: Option<u32>,
    /// Longest side of the largest lesion's bounding box in world mm.
    pub largest_lesion_extent_mm: Option<f64>,
    /// A vertebral body or sacral segment involved.
    pub spinal_involvement: bool,
    /// Not assessed: crmo-map measures marrow signal only (always null).
    pub extramedullary_involvement: Option<bool>,
}

/// The Jansson score's imaging items.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Jansson {
    /// Symmetric lesions (a paired bone involved on both sides).
    pub symmetric_lesions: bool,
    /// A vertebral, clavicular or sternal site.
    pub vertebral_clavicular_or_sternal_site: bool,
    /// More than one lesion.
    pub more_than_one_lesion: bool,
}

/// The Bristol criteria's imaging items.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bristol {
    /// More than one bone involved.
    pub more_than_one_bone: bool,
    /// The clavicle alone: one lesion, in a clavicle.
    pub single_clavicular_lesion: bool,
}

/// The 2025 EULAR/ACR classification's imaging items (mandible and clavicle weigh most).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EularAcr2025 {
    /// More than one lesion.
    pub multifocal: bool,
    /// Symmetric lesions.
    pub symmetric_lesions: bool,
    /// Mandible involved.
    pub mandible: bool,
    /// Clavicle involved.
    pub clavicle: bool,
    /// Vertebral body or sacral segment involved.
    pub vertebral: bool,
    /// Sternum involved.
    pub sternum: bool,
}

/// Spinal findings, with the flag that bears on treatment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spine {
    /// A vertebral body or sacral segment involved.
    pub vertebral_involvement: bool,
    /// Levels involved, head to foot.
    pub levels: Vec<String>,
    /// A C, T or L body involved.
    pub mobile_spine_involvement: bool,
    /// Vertebral involvement is an indication for bisphosphonates (CARRA 2018): for the
    /// clinician to weigh, not a recommendation.
    pub bisphosphonate_relevant: bool,
}

/// The staging summary of `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Staging {
    /// The configuration used.
    pub config: ConfigSource,
    /// How the extent grade was given.
    pub extent_grade: ExtentGrade,
    /// Involved bone units, head to foot by their first lesion.
    pub bone_units: Vec<BoneUnit>,
    /// RINBO's inputs.
    pub rinbo: Rinbo,
    /// Jansson imaging items.
    pub jansson: Jansson,
    /// Bristol imaging items.
    pub bristol: Bristol,
    /// EULAR/ACR 2025 imaging items.
    pub eular_acr_2025: EularAcr2025,
    /// Spinal findings.
    pub spine: Spine,
}

/// What staging is computed from.
pub struct Inputs<'a> {
    /// The report's lesions, ids 1..N head to foot.
    pub lesions: &'a [Lesion],
    /// The report's summary of them.
    pub summary: &'a Summary,
    /// The region map's rows (every region with voxels).
    pub regions: &'a [RegionRow],
    /// World mm per voxel along i, j, k (for the largest lesion's extent).
    pub spacing_mm: [f64; 3],
}

/// The staging summary of `inputs` under `configured` (see the module docs).
pub fn stage(inputs: &Inputs, configured: &Configured) -> Staging {
    let (config, source) = (&configured.config, configured.source.clone());
    let s = inputs.summary;
    let g = &config.extent_grade;
    let largest = inputs.lesions.iter().max_by(|a, b| a.volume_mm3.total_cmp(&b.volume_mm3).then(b.id.cmp(&a.id)));
    let clavicle = |l: &Lesion| l.bone_class == BoneClass::Clavicle.as_str();
    Staging {
        config: source,
        extent_grade: ExtentGrade {
            name: g.name.clone(),
            cutoffs: g.cutoffs.clone(),
            grades: g.grades.clone(),
            provisional: !g.verified,
            source: g.source.clone(),
        },
        bone_units: bone_units(inputs, config),
        rinbo: Rinbo {
            active_lesions: s.lesion_count,
            largest_lesion_mm3: s.largest_lesion_mm3,
            largest_lesion_id: largest.map(|l| l.id),
            largest_lesion_extent_mm: largest.map(|l| l.extent_mm(inputs.spacing_mm)),
            spinal_involvement: s.vertebral_involvement,
            extramedullary_involvement: None,
        },
        jansson: Jansson {
            symmetric_lesions: !s.symmetric_pairs.is_empty(),
            vertebral_clavicular_or_sternal_site: s.vertebral_involvement
                || s.clavicle_involvement
                || s.sternum_involvement,
            more_than_one_lesion: s.multifocal,
        },
        bristol: Bristol {
            more_than_one_bone: s.bone_count > 1,
            single_clavicular_lesion: inputs.lesions.len() == 1 && clavicle(&inputs.lesions[0]),
        },
        eular_acr_2025: EularAcr2025 {
            multifocal: s.multifocal,
            symmetric_lesions: !s.symmetric_pairs.is_empty(),
            mandible: s.mandible_involvement,
            clavicle: s.clavicle_involvement,
            vertebral: s.vertebral_involvement,
            sternum: s.sternum_involvement,
        },
        spine: Spine {
            vertebral_involvement: s.vertebral_involvement,
            levels: s.vertebral_levels.clone(),
            mobile_spine_involvement: s.mobile_spine_involvement,
            bisphosphonate_relevant: s.vertebral_involvement,
        },
    }
}

/// The involved units: each region's unit by the configuration (else the region itself),
/// lesion voxels summed over the unit's regions.
fn bone_units(inputs: &Inputs, config: &StagingConfig) -> Vec<BoneUnit> {
    let table = config.unit_table().unwrap_or_default();
    let unit_of = |region: &str| table.get(region).cloned().unwrap_or_else(|| region.to_string());
    // Every unit's regions and voxels from the region map.
    let mut units: BTreeMap<String, (Vec<&RegionRow>, u64)> = BTreeMap::new();
    for row in inputs.regions {
        let u = units.entry(unit_of(&row.name)).or_default();
        u.0.push(row);
        u.1 += row.voxels;
    }
    // Lesion voxels and lesions per unit, in lesion order (head to foot).
    let mut order: Vec<String> = Vec::new();
    let mut hits: HashMap<String, (u64, Vec<&Lesion>)> = HashMap::new();
    for l in inputs.lesions {
        for o in &l.regions {
            let unit = unit_of(&o.name);
            let h = hits.entry(unit.clone()).or_insert_with(|| {
                order.push(unit.clone());
                (0, Vec::new())
            });
            h.0 += o.voxels;
            if h.1.last().map(|x| x.id) != Some(l.id) {
                h.1.push(l);
            }
        }
    }
    let g = &config.extent_grade;
    order
        .into_iter()
        .map(|unit| {
            let (lesion_voxels, lesions) = hits.remove(&unit).unwrap_or_default();
            let (rows, voxels) = units.remove(&unit).unwrap_or_default();
            let fraction = if voxels > 0 { (lesion_voxels as f64 / voxels as f64).min(1.0) } else { 0.0 };
            let grade = g.grade(fraction);
            let first = rows.first();
            BoneUnit {
                regions: rows.iter().map(|r| r.name.clone()).collect(),
                bone_class: first.map_or(BoneClass::Other, |r| r.bone_class),
                side: first.map_or(lesions[0].side.clone(), |r| r.side.as_str().to_string()),
                voxels,
                lesion_voxels,
                fraction_involved: fraction,
                extent_grade: grade,
                extent_grade_label: g.grades.get(grade).cloned().unwrap_or_default(),
                extent_grade_provisional: !g.verified,
                lesion_count: lesions.len(),
                lesion_ids: lesions.iter().map(|l| l.id).collect(),
                max_ratio_to_marrow: lesions.iter().filter_map(|l| l.intensity.ratio_to_marrow).reduce(f64::max),
                max_ratio_to_reference: lesions.iter().map(|l| l.intensity.ratio_to_reference).fold(0.0, f64::max),
                max_z: lesions.iter().map(|l| l.intensity.z_max).fold(f64::NEG_INFINITY, f64::max),
                unit,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
