//! The lesion report: JSON (`report.json`), CSV (`lesions.csv`) and the patient summary
//! that CRMO staging consumes (CROMRIS, RINBO-style counts, Jansson and Bristol inputs).
//!
//! Floats are rounded when written (millimetres and intensities to 3 decimals, fractions and
//! z-scores to 4) so that reports are stable and readable; see [`round_report`].

use crate::labels::{vertebral_level_rank, AtlasLabel, BoneClass, Side};
use crate::lesions::Lesion;
use crate::reference::Reference;
use crate::staging::Staging;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Version of the report layout; bumped when a field changes meaning or is removed.
pub const SCHEMA_VERSION: &str = "1.6.0";

/// The software that wrote the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Software {
    /// `crmo-map`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Software {
    /// This build of crmo-map.
    pub fn current() -> Software {
        Software { name: env!("CARGO_PKG_NAME").into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// What was read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputInfo {
    /// Scan path as given.
    pub scan: String,
    /// Atlas path as given.
    pub atlas: String,
    /// Label table path as given.
    pub labels: String,
    /// SHA-256 of the scan file.
    pub scan_sha256: String,
    /// SHA-256 of the atlas file.
    pub atlas_sha256: String,
    /// SHA-256 of the label table.
    pub labels_sha256: String,
    /// Voxels along i, j, k.
    pub shape: [usize; 3],
    /// Voxel size along i, j, k in mm.
    pub spacing_mm: [f64; 3],
    /// Voxel index to RAS+ world mm, 4x4 rows.
    pub affine: [[f64; 4]; 4],
    /// Which header transform gave the affine (`sform`, `qform`, `pixdim`).
    pub affine_source: String,
    /// Orientation code of the voxel axes (e.g. `RAS`, `LPS`).
    pub orientation: String,
    /// Storage datatype of the scan.
    pub datatype: String,
    /// Number of atlas voxels (label != 0) on the scan's grid, bone or not.
    pub atlas_voxels: usize,
    /// The atlas file's own grid: voxels along i, j, k.
    pub atlas_shape: [usize; 3],
    /// The atlas file's voxel size along i, j, k in mm.
    pub atlas_spacing_mm: [f64; 3],
    /// True when the atlas was on another grid and was resampled onto the scan's (nearest
    /// label through the two affines).
    pub atlas_resampled: bool,
    /// The atlas's whole-bone labels that were split into sub-regions (empty when none were,
    /// or with `--no-parcellate`).
    pub atlas_parcellated: Vec<String>,
    /// The atlas's labels with voxels on the scan's grid that are bone: searched for lesions
    /// and used for the reference statistics (label order).
    pub labels_analysed: Vec<AtlasLabel>,
    /// The atlas's labels with voxels on the scan's grid that are not bone (bone class
    /// `other`): never searched, never in a reference (label order).
    pub labels_ignored: Vec<AtlasLabel>,
    /// Findings about the inputs that do not stop the run but limit what its lesions mean,
    /// one line each (a scan that looks like a CT, [`crate::io::modality`]); empty when none.
    pub warnings: Vec<String>,
}

/// The detection parameters used.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Parameters {
    /// Detection method (`global` or `local`).
    pub method: String,
    /// The local detector's settings (`--method local` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<crate::detect::LocalParams>,
    /// Candidate voxels have z above this.
    pub z_threshold: f64,
    /// That threshold as an intensity.
    pub intensity_threshold: f64,
    /// Components below this volume are dropped.
    pub min_volume_mm3: f64,
    /// 6, 18 or 26.
    pub connectivity: u32,
}

/// The local detector's references: each analysed region's normal-marrow level and the
/// scan's noise level, in scan units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Marrow {
    /// How the levels were taken (`region_histogram_mode`).
    pub method: String,
    /// The scan's noise level inside bone (neighbour differences).
    pub noise_sigma: f64,
    /// One entry per region with voxels, by label value.
    pub regions: Vec<RegionMarrow>,
    /// The seed noise demand (`--noise-z`) at or under which the seed ratio, not the noise,
    /// would set the seed floor (`regions[].seed_floor_ratio`) in three quarters of the bone,
    /// rounded down to a tenth: the demand the seed-floor warning names. `None` where the
    /// ratio sets it there already (or is 1 or under, which no demand lets bind).
    pub noise_z_for_seed_ratio: Option<f64>,
}

impl Marrow {
    /// A lesion's mean signal over the normal-marrow level of its region (`None` when the
    /// region has no level here).
    pub fn ratio_of(&self, l: &Lesion) -> Option<f64> {
        self.regions.iter().find(|r| r.name == l.region).map(|r| l.intensity.mean / r.marrow)
    }
}

/// Sets each lesion's `intensity.ratio_to_marrow` from `marrow` ([`Marrow::ratio_of`]; `None`
/// without region levels), as [`Report::assemble`] does.
pub fn set_ratios_to_marrow(lesions: &mut [Lesion], marrow: Option<&Marrow>) {
    for l in lesions {
        l.intensity.ratio_to_marrow = marrow.and_then(|m| m.ratio_of(l));
    }
}

/// One region's normal-marrow level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionMarrow {
    /// Label value.
    pub label: u32,
    /// Region name.
    pub name: String,
    /// Voxels of the region.
    pub voxels: u64,
    /// Normal-marrow intensity (the mode of the region's intensities, or all bone's for a
    /// region too small to have its own).
    pub marrow: f64,
    /// The faintest oedema that can seed a lesion where the marrow is at `marrow`, as a signal
    /// ratio to it: the seed ratio, or more where the seed noise demand asks for more (a noisy
    /// scan, or a grid coarser than the denoising window) ([`LocalParams::seed_floor_ratio`]);
    /// `null` for a level at or below 0.
    ///
    /// [`LocalParams::seed_floor_ratio`]: crate::detect::LocalParams::seed_floor_ratio
    pub seed_floor_ratio: Option<f64>,
}

/// The seed floor of the bone's voxel at quantile `q` (0-1) of `(seed_floor_ratio, voxels)`
/// pairs, ordered by floor: the lowest floor at which at least `q` of the voxels with a floor
/// have that floor or a lower one. `None` when no voxel has one.
pub fn bone_floor_quantile(floors: impl IntoIterator<Item = (f64, u64)>, q: f64) -> Option<f64> {
    let mut floors: Vec<(f64, u64)> = floors.into_iter().collect();
    floors.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = floors.iter().map(|f| f.1).sum::<u64>();
    let need = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    floors
        .iter()
        .find(|&&(_, v)| {
            seen += v;
            seen >= need
        })
        .map(|f| f.0)
}

/// Per-patient figures for staging.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Number of lesions.
    pub lesion_count: usize,
    /// Sorted unique `region` of the lesions.
    pub regions_involved: Vec<String>,
    /// Sorted unique whole bones involved.
    pub bones_involved: Vec<String>,
    /// Number of bones involved (Bristol: more than one bone).
    pub bone_count: usize,
    /// More than one lesion (Jansson: more than one lesion).
    pub multifocal: bool,
    /// Paired bones involved on both sides (e.g. `hip`, `femur`): symmetric lesions.
    pub symmetric_pairs: Vec<String>,
    /// Any vertebral body or sacral segment involved.
    pub vertebral_involvement: bool,
    /// Any vertebral body above the sacrum (C, T, L) involved: a bisphosphonate indication.
    pub mobile_spine_involvement: bool,
    /// Levels involved, head to foot (`T7`, `S2`, ...).
    pub vertebral_levels: Vec<String>,
    /// A clavicle is involved.
    pub clavicle_involvement: bool,
    /// The sternum is involved.
    pub sternum_involvement: bool,
    /// The mandible is involved.
    pub mandible_involvement: bool,
    /// Lesions per bone class.
    pub lesions_by_bone_class: BTreeMap<String, usize>,
    /// Volume of the largest lesion (0 when none).
    pub largest_lesion_mm3: f64,
    /// Sum of lesion volumes.
    pub total_lesion_volume_mm3: f64,
}

impl Summary {
    /// The summary of a list of lesions (from each lesion's bone, bone class, side and level).
    pub fn of(lesions: &[Lesion]) -> Summary {
        let regions: BTreeSet<String> = lesions.iter().map(|l| l.region.clone()).collect();
        let bones: BTreeSet<String> = lesions.iter().map(|l| l.bone.clone()).collect();
        let mut sides: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for l in lesions {
            if l.side != Side::Midline.as_str() {
                let stem = l.bone.trim_end_matches("_left").trim_end_matches("_right").to_string();
                sides.entry(stem).or_default().insert(l.side.as_str());
            }
        }
        let symmetric_pairs = sides.into_iter().filter(|(_, s)| s.len() == 2).map(|(b, _)| b).collect();
        let mut levels: Vec<String> =
            lesions.iter().filter_map(|l| l.vertebral_level.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        levels.sort_by_key(|l| vertebral_level_rank(l));
        let has = |c: BoneClass| lesions.iter().any(|l| l.bone_class == c.as_str());
        let mut by_class = BTreeMap::new();
        for l in lesions {
            *by_class.entry(l.bone_class.clone()).or_insert(0) += 1;
        }
        Summary {
            lesion_count: lesions.len(),
            regions_involved: regions.into_iter().collect(),
            bone_count: bones.len(),
            bones_involved: bones.into_iter().collect(),
            multifocal: lesions.len() > 1,
            symmetric_pairs,
            vertebral_involvement: !levels.is_empty(),
            mobile_spine_involvement: levels.iter().any(|l| !l.starts_with('S')),
            vertebral_levels: levels,
            clavicle_involvement: has(BoneClass::Clavicle),
            sternum_involvement: has(BoneClass::Sternum),
            mandible_involvement: has(BoneClass::Mandible),
            lesions_by_bone_class: by_class,
            largest_lesion_mm3: lesions.iter().map(|l| l.volume_mm3).fold(0.0, f64::max),
            total_lesion_volume_mm3: lesions.iter().map(|l| l.volume_mm3).sum(),
        }
    }
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// Who wrote it.
    pub software: Software,
    /// What was read.
    pub input: InputInfo,
    /// How detection was set up.
    pub parameters: Parameters,
    /// The reference marrow statistics.
    pub reference: Reference,
    /// The local detector's marrow levels and noise level (`--method local` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marrow: Option<Marrow>,
    /// Lesions, ids 1..N head to foot.
    pub lesions: Vec<Lesion>,
    /// Equivocal foci: sub-centimetre foci at sites of normal-variant bright marrow
    /// ([`crate::equivocal`]), set aside for review, numbered 1..M head to foot on their own
    /// (not in the lesion map, the summary or staging).
    pub equivocal_foci: Vec<Lesion>,
    /// Per-patient figures.
    pub summary: Summary,
    /// What staging consumes, in its own terms.
    pub staging: Staging,
}

impl Report {
    /// The report of a run: this software and schema version, the run's own parts, each
    /// lesion's (and equivocal focus's) ratio to its region's normal marrow (from `marrow`,
    /// when the local detector ran), the summary of the lesions and the staging summary that
    /// `staging` makes of them, rounded for writing ([`round_report`]).
    pub fn assemble(
        input: InputInfo,
        parameters: Parameters,
        reference: Reference,
        marrow: Option<Marrow>,
        (mut lesions, mut equivocal_foci): (Vec<Lesion>, Vec<Lesion>),
        staging: impl FnOnce(&[Lesion], &Summary) -> Staging,
    ) -> Report {
        set_ratios_to_marrow(&mut lesions, marrow.as_ref());
        set_ratios_to_marrow(&mut equivocal_foci, marrow.as_ref());
        let summary = Summary::of(&lesions);
        let staging = staging(&lesions, &summary);
        let mut rep = Report {
            schema_version: SCHEMA_VERSION.into(),
            software: Software::current(),
            input,
            parameters,
            reference,
            marrow,
            summary,
            lesions,
            equivocal_foci,
            staging,
        };
        round_report(&mut rep);
        rep
    }
}

fn r(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    let v = (x * p).round() / p;
    if v == 0.0 {
        0.0
    } else {
        v
    }
}

/// Rounds the report's floats for writing (mm and intensities 3 decimals, fractions and
/// z-scores 4). Voxel counts, ids and boxes are exact.
pub fn round_report(rep: &mut Report) {
    for row in &mut rep.input.affine {
        row.iter_mut().for_each(|x| *x = r(*x, 6));
    }
    rep.input.spacing_mm.iter_mut().for_each(|x| *x = r(*x, 6));
    rep.parameters.intensity_threshold = r(rep.parameters.intensity_threshold, 3);
    rep.reference.median = r(rep.reference.median, 4);
    rep.reference.mad = r(rep.reference.mad, 4);
    if let Some(m) = &mut rep.marrow {
        m.noise_sigma = r(m.noise_sigma, 4);
        for g in &mut m.regions {
            g.marrow = r(g.marrow, 4);
            g.seed_floor_ratio = g.seed_floor_ratio.map(|x| r(x, 4));
        }
    }
    rep.lesions.iter_mut().chain(&mut rep.equivocal_foci).for_each(round_lesion);
    rep.summary.largest_lesion_mm3 = r(rep.summary.largest_lesion_mm3, 3);
    rep.summary.total_lesion_volume_mm3 = r(rep.summary.total_lesion_volume_mm3, 3);
    let s = &mut rep.staging;
    for u in &mut s.bone_units {
        u.fraction_involved = r(u.fraction_involved, 6);
        u.max_ratio_to_marrow = u.max_ratio_to_marrow.map(|x| r(x, 4));
        u.max_ratio_to_reference = r(u.max_ratio_to_reference, 4);
        u.max_z = r(u.max_z, 4);
    }
    s.rinbo.largest_lesion_mm3 = r(s.rinbo.largest_lesion_mm3, 3);
    s.rinbo.largest_lesion_extent_mm = s.rinbo.largest_lesion_extent_mm.map(|x| r(x, 3));
}

/// Rounds one lesion's floats as [`round_report`] does.
fn round_lesion(l: &mut Lesion) {
    let mm = |v: &mut [f64; 3]| v.iter_mut().for_each(|x| *x = r(*x, 3));
    l.volume_mm3 = r(l.volume_mm3, 3);
    l.fraction_of_region = r(l.fraction_of_region, 6);
    mm(&mut l.centroid_mm);
    mm(&mut l.centroid_voxel);
    mm(&mut l.peak_mm);
    let i = &mut l.intensity;
    i.mean = r(i.mean, 3);
    i.max = r(i.max, 3);
    i.z_mean = r(i.z_mean, 4);
    i.z_max = r(i.z_max, 4);
    i.ratio_to_reference = r(i.ratio_to_reference, 4);
    i.ratio_to_marrow = i.ratio_to_marrow.map(|x| r(x, 4));
    for g in &mut l.regions {
        g.fraction_of_lesion = r(g.fraction_of_lesion, 6);
        g.fraction_of_region = r(g.fraction_of_region, 6);
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_json(rep: &Report) -> String {
    let mut s = serde_json::to_string_pretty(rep).expect("report serialises");
    s.push('\n');
    s
}

/// Column names of `lesions.csv`.
pub const CSV_COLUMNS: [&str; 31] = [
    "id",
    "region",
    "bone_label",
    "bone",
    "bone_class",
    "vertebral_level",
    "side",
    "voxels",
    "volume_mm3",
    "fraction_of_region",
    "centroid_x_mm",
    "centroid_y_mm",
    "centroid_z_mm",
    "centroid_i",
    "centroid_j",
    "centroid_k",
    "peak_x_mm",
    "peak_y_mm",
    "peak_z_mm",
    "bbox_i0",
    "bbox_j0",
    "bbox_k0",
    "bbox_i1",
    "bbox_j1",
    "bbox_k1",
    "intensity_mean",
    "intensity_max",
    "z_mean",
    "z_max",
    "ratio_to_reference",
    "ratio_to_marrow",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `lesions.csv`: one row per lesion, the report's lesion fields flattened, plus a last
/// column `regions` listing `name:fraction_of_lesion:fraction_of_region` joined by `;`.
pub fn to_csv(rep: &Report) -> String {
    let mut s = CSV_COLUMNS.join(",");
    s.push_str(",regions\n");
    for l in &rep.lesions {
        let mut f: Vec<String> = vec![
            l.id.to_string(),
            csv_field(&l.region),
            csv_field(&l.bone_label),
            csv_field(&l.bone),
            l.bone_class.clone(),
            l.vertebral_level.clone().unwrap_or_default(),
            l.side.clone(),
            l.voxels.to_string(),
            l.volume_mm3.to_string(),
            l.fraction_of_region.to_string(),
        ];
        f.extend(l.centroid_mm.iter().map(|v| v.to_string()));
        f.extend(l.centroid_voxel.iter().map(|v| v.to_string()));
        f.extend(l.peak_mm.iter().map(|v| v.to_string()));
        f.extend(l.bbox_voxel.iter().flatten().map(|v| v.to_string()));
        let i = &l.intensity;
        f.extend([i.mean, i.max, i.z_mean, i.z_max, i.ratio_to_reference].iter().map(|v| v.to_string()));
        f.push(i.ratio_to_marrow.map_or(String::new(), |v| v.to_string()));
        let regions: Vec<String> =
            l.regions.iter().map(|g| format!("{}:{}:{}", g.name, g.fraction_of_lesion, g.fraction_of_region)).collect();
        f.push(csv_field(&regions.join(";")));
        s.push_str(&f.join(","));
        s.push('\n');
    }
    s
}

/// A short human-readable table of lesions (what `crmo-map demo` prints): with the local
/// detector, each lesion's signal over its region's normal marrow (`x marrow`).
pub fn text_table(rep: &Report) -> String {
    let mut s = format!(
        "{:>3}  {:<36} {:<8} {:>10} {:>8} {:>7}  centroid RAS mm\n",
        "id", "region", "side", "volume mm3", "x marrow", "z max"
    );
    for l in &rep.lesions {
        let ratio = l.intensity.ratio_to_marrow.map_or("-".to_string(), |r| format!("{r:.2}"));
        s.push_str(&format!(
            "{:>3}  {:<36} {:<8} {:>10.1} {:>8} {:>7.1}  ({:.1}, {:.1}, {:.1})\n",
            l.id,
            l.region,
            l.side,
            l.volume_mm3,
            ratio,
            l.intensity.z_max,
            l.centroid_mm[0],
            l.centroid_mm[1],
            l.centroid_mm[2]
        ));
    }
    let sm = &rep.summary;
    s.push_str(&format!(
        "{} lesion(s) in {} bone(s); regions: {}\nvertebral involvement: {}{}\n",
        sm.lesion_count,
        sm.bone_count,
        if sm.regions_involved.is_empty() { "none".to_string() } else { sm.regions_involved.join(", ") },
        if sm.vertebral_involvement { "yes" } else { "no" },
        if sm.vertebral_levels.is_empty() { String::new() } else { format!(" ({})", sm.vertebral_levels.join(", ")) },
    ));
    if !rep.equivocal_foci.is_empty() {
        let regions: Vec<&str> = rep.equivocal_foci.iter().map(|f| f.region.as_str()).collect();
        s.push_str(&format!(
            "equivocal foci set aside (sub-centimetre, normal-variant sites; not lesions): {}\n",
            regions.join(", ")
        ));
    }
    s.push_str(&staging_lines(&rep.staging));
    s
}

/// The staging summary in three lines: the flag that bears on treatment, the criteria's
/// imaging items, the bone units with their extent.
fn staging_lines(st: &Staging) -> String {
    let yn = |b: bool| if b { "yes" } else { "no" };
    let units: Vec<String> = st
        .bone_units
        .iter()
        .map(|u| format!("{} {:.0}% ({})", u.unit, 100.0 * u.fraction_involved, u.extent_grade_label))
        .collect();
    format!(
        "bisphosphonate-relevant (vertebral involvement): {}\n\
         imaging items: multifocal {}, symmetric {}, vertebral/clavicular/sternal site {}, more than one bone {}, \
         single clavicular lesion {}, mandible {}\n\
         bone units{}: {}\n",
        yn(st.spine.bisphosphonate_relevant),
        yn(st.eular_acr_2025.multifocal),
        yn(st.jansson.symmetric_lesions),
        yn(st.jansson.vertebral_clavicular_or_sternal_site),
        yn(st.bristol.more_than_one_bone),
        yn(st.bristol.single_clavicular_lesion),
        yn(st.eular_acr_2025.mandible),
        if st.extent_grade.provisional { " (extent grades provisional)" } else { "" },
        if units.is_empty() { "none".to_string() } else { units.join(", ") },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_stable_and_drops_negative_zero() {
        assert_eq!(r(1.23456, 3), 1.235);
        assert_eq!(r(-0.0001, 3).to_string(), "0");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }

    #[test]
    fn empty_summary() {
        let s = Summary::of(&[]);
        assert_eq!(s.lesion_count, 0);
        assert!(!s.multifocal && !s.vertebral_involvement);
        assert_eq!(s.largest_lesion_mm3, 0.0);
    }
}
