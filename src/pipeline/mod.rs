//! The whole job: inputs on disk to an output folder.
//!
//! [`run`] loads, checks, [`analyse`]s and hands the report and the maps to
//! [`run_files`], which writes `report.json`, `lesions.csv`,
//! `lesions.nii.gz`, `overview.png`, the region map the detector used (`regions.nii.gz`,
//! `regions.tsv`, `regions.png`), both maps' colour tables and the review page into the output
//! folder, all or nothing.

use crate::ccl::Connectivity;
use crate::detect::{self, LocalFacts, LocalParams, Method};
use crate::equivocal;
use crate::error::{Error, Result};
use crate::io::{self, Loaded, Storable};
use crate::labels::{self, BoneOnly, LabelTable};
use crate::lesions::{self, Lesion};
use crate::output::run_files::{self, RunMaps};
use crate::output::OutputNames;
use crate::parcellate;
use crate::reference::{BoneSamples, Reference};
use crate::regions;
use crate::report::Report;
use crate::resample;
use crate::staging::{self, Configured};
use crate::volume::{Grid, Label, Volume};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod describe;
use describe::{input_info, marrow_report, parameters, AtlasFacts};

/// Default z-score threshold (see the README for how it was chosen).
pub const DEFAULT_Z_THRESHOLD: f64 = 6.0;
/// Default minimum lesion volume in mm^3.
pub const DEFAULT_MIN_VOLUME_MM3: f64 = 100.0;

/// Detection parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Candidates have z above this.
    pub z_threshold: f64,
    /// Smaller components are dropped.
    pub min_volume_mm3: f64,
    /// Voxel connectivity of lesions.
    pub connectivity: Connectivity,
    /// Which detector.
    pub method: Method,
    /// Settings of the local detector.
    pub local: LocalParams,
    /// Split whole-bone atlas labels into sub-regions ([`parcellate`]).
    pub parcellate: bool,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            z_threshold: DEFAULT_Z_THRESHOLD,
            min_volume_mm3: DEFAULT_MIN_VOLUME_MM3,
            connectivity: Connectivity::Corners26,
            method: Method::Local,
            local: LocalParams::default(),
            parcellate: true,
        }
    }
}

impl Params {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`Error::Parameter`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        if !self.z_threshold.is_finite() {
            return Err(Error::Parameter(format!("--z-threshold must be a finite number, got {}", self.z_threshold)));
        }
        if !self.min_volume_mm3.is_finite() || self.min_volume_mm3 < 0.0 {
            return Err(Error::Parameter(format!(
                "--min-volume-mm3 must be a number >= 0, got {}",
                self.min_volume_mm3
            )));
        }
        self.local.validate()
    }
}

/// Told about each stage as it starts (for progress display) and about each output file.
pub trait Observer: Sync {
    /// A stage begins.
    fn stage(&self, _name: &str) {}
    /// An output file was staged: its path inside the output folder and its bytes (a cohort
    /// hashes them for its provenance record without reading them back).
    fn output(&self, _name: &str, _bytes: &[u8]) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// What [`analyse`] finds.
pub struct Analysis {
    /// Reference statistics.
    pub reference: Reference,
    /// The intensity threshold applied.
    pub cutoff: f64,
    /// Lesions, ids 1..N head to foot.
    pub lesions: Vec<Lesion>,
    /// Equivocal foci set aside ([`equivocal`]), numbered 1..M head to foot; not in the map.
    pub equivocal: Vec<Lesion>,
    /// Lesion ids on the scan's grid.
    pub lesion_map: Volume<u16>,
    /// Atlas voxels (label != 0).
    pub atlas_voxels: usize,
    /// What the local detector measured (its marrow levels and the noise level).
    pub local: Option<LocalFacts>,
}

/// The files the volumes of [`analyse`] came from, for its messages.
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    /// The scan.
    pub scan: &'a Path,
    /// The atlas.
    pub atlas: &'a Path,
}

/// Runs detection on volumes already in memory and on the same grid; `samples` are the
/// atlas's voxels ([`BoneSamples::gather`]).
///
/// # Errors
/// [`Error::Atlas`] (naming `paths.atlas`) when the atlas has no voxel; [`Error::Scan`] (naming
/// `paths.scan`) when the scan has no finite intensity inside the atlas, the reference marrow
/// has no spread, or there are more than 65535 lesions.
#[allow(clippy::too_many_arguments)]
pub fn analyse<L: Label>(
    scan: &Volume<f32>,
    atlas: &Volume<L>,
    table: &LabelTable,
    bone_label: Option<&BTreeMap<u32, String>>,
    samples: &BoneSamples,
    params: &Params,
    paths: Sources,
    obs: &dyn Observer,
) -> Result<Analysis> {
    let scan_err = |message: String| Error::Scan { path: paths.scan.to_path_buf(), message };
    obs.stage("reference statistics");
    let reference = samples.reference().ok_or_else(|| match samples.atlas_voxels() {
        0 => Error::Atlas { path: paths.atlas.to_path_buf(), message: "the atlas has no labelled voxel".into() },
        n => scan_err(format!("no finite intensity at the atlas's {n} labelled voxels (NaN or infinite values)")),
    })?;
    if reference.mad.is_nan() || reference.mad <= 0.0 {
        return Err(scan_err(format!(
            "scan intensities inside the atlas have no spread (all near {}); cannot compute z-scores",
            reference.median
        )));
    }
    let cutoff = reference.intensity_at(params.z_threshold);
    let (comps, local) = detect::components(
        params.method,
        scan,
        atlas,
        samples,
        &reference,
        cutoff,
        &detect::Bones::new(atlas, table, samples.labels_used()),
        &params.local,
        params.connectivity,
        &|name| obs.stage(name),
    );
    obs.stage("lesion statistics");
    let inputs = lesions::Inputs {
        scan,
        atlas: &atlas.data,
        table,
        region_voxels: &samples.hist,
        reference: &reference,
        bone_label,
    };
    let (lesions, mut to_id) = lesions::measure(&comps, &inputs, params.min_volume_mm3);
    if lesions.len() > u16::MAX as usize {
        return Err(scan_err(format!(
            "{} lesions found, more than a lesion map can hold (65535): raise --z-threshold or --min-volume-mm3",
            lesions.len()
        )));
    }
    // The global detector, the naive baseline, reports every focus.
    let limit_mm = if params.method == Method::Local { params.local.variant_focus_mm } else { 0.0 };
    let (lesions, equivocal) = equivocal::set_aside(lesions, &mut to_id, scan.grid.spacing(), limit_mm);
    let lesion_map = Volume { grid: scan.grid, data: comps.paint(|l| to_id[l as usize]) };
    let atlas_voxels = samples.atlas_voxels() as usize;
    Ok(Analysis { reference, cutoff, lesions, equivocal, lesion_map, atlas_voxels, local })
}

/// Inputs and settings of `crmo-map run`.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The STIR scan.
    pub scan: PathBuf,
    /// The atlas label volume on the scan's grid.
    pub atlas: PathBuf,
    /// The label table: a file, or a built-in table's name (`totalsegmentator`, ...); `None`
    /// reads the names from the atlas's own header extension (TotalSegmentator `--ml`).
    pub labels: Option<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Detection parameters.
    pub params: Params,
    /// The staging configuration file (`--staging-config`); `None` takes the shipped one.
    pub staging: Option<PathBuf>,
    /// Where each output goes inside `out` (the native names, or a BIDS derivative's).
    pub names: OutputNames,
}

impl RunConfig {
    /// The input files and folders (scan, atlas, label table and staging configuration given).
    pub fn inputs(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.scan), Some(&self.atlas), self.labels.as_ref(), self.staging.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| p.as_path())
    }
}

/// The atlas on the scan's grid: as read when it is already there (same shape, affines
/// within 0.001 mm), else resampled by nearest label ([`resample::to_grid`]). Also says
/// whether it was resampled.
///
/// # Errors
/// [`Error::Atlas`] naming `path` when the atlas cannot be mapped (a singular affine, or no
/// overlap with the scan at all).
pub fn atlas_on_grid<L: Label>(atlas: Volume<L>, scan: &Grid, path: &Path) -> Result<(Volume<L>, bool)> {
    if atlas.grid.same_as(scan) {
        return Ok((atlas, false));
    }
    let (mapped, _) =
        resample::to_grid(&atlas, scan).map_err(|message| Error::Atlas { path: path.to_path_buf(), message })?;
    Ok((mapped, true))
}

/// Checks that the table names every label value present (`hist`: voxels per label value).
///
/// # Errors
/// [`Error::Labels`] for unnamed label values.
pub fn check_labels(hist: &[u64], table: &LabelTable, cfg: &RunConfig) -> Result<()> {
    let missing: Vec<String> =
        (1..hist.len()).filter(|&l| hist[l] > 0 && table.name(l as u32).is_none()).map(|l| l.to_string()).collect();
    if !missing.is_empty() {
        let shown = missing.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        return Err(Error::Labels {
            path: cfg.labels.clone().unwrap_or_else(|| cfg.atlas.clone()),
            message: format!("atlas {} has label value(s) {shown}{more} that the table lacks", cfg.atlas.display()),
        });
    }
    Ok(())
}

/// Runs the whole job and returns the report written.
///
/// # Errors
/// Any [`Error`] from reading, checking, analysing or writing; on error nothing is left in
/// the output folder (and the folder itself is removed if this run created it).
pub fn run(cfg: &RunConfig, obs: &dyn Observer) -> Result<Report> {
    run_with_map(cfg, obs).map(|(report, _)| report)
}

/// [`run`], also returning the lesion map it wrote.
///
/// # Errors
/// As [`run`].
pub fn run_with_map(cfg: &RunConfig, obs: &dyn Observer) -> Result<(Report, Volume<u16>)> {
    cfg.params.validate()?;
    crate::guard::check_outputs_spare_inputs(&cfg.out, cfg.inputs())?;
    let job = &Job { cfg, staging: Configured::load(cfg.staging.as_deref())?, obs };
    obs.stage("reading scan and atlas");
    let given = cfg.labels.as_deref().map(LabelTable::read).transpose()?;
    if cfg.atlas.is_dir() {
        // A folder of per-class masks: matched to the table's rows by name, else named by the files.
        let (scan, masks) = rayon::join(|| io::read_scan(&cfg.scan), || read_mask_atlas(cfg, given));
        let (scan, (atlas, table)) = (scan?, masks?);
        return map_scan(job, Some(table), scan, atlas);
    }
    let (scan, atlas) = rayon::join(|| io::read_scan(&cfg.scan), || io::read_atlas(&cfg.atlas));
    // When both fail, the scan's error is the one reported (as the command line names it first).
    let (scan, atlas) = (scan?, atlas?);
    match atlas {
        io::Atlas::U8(a) => map_scan(job, given, scan, a),
        io::Atlas::U16(a) => map_scan(job, given, scan, a),
    }
}

/// The atlas of a mask folder (`cfg.atlas` is a folder) and its table: the `given` one, whose
/// rows the masks are matched to by name, else the masks' file names.
///
/// # Errors
/// As [`io::read_mask_folder`].
pub fn read_mask_atlas(cfg: &RunConfig, given: Option<LabelTable>) -> Result<(Loaded<u16>, LabelTable)> {
    let from = cfg.labels.as_deref().unwrap_or(Path::new("--labels"));
    let (atlas, names) = io::read_mask_folder(&cfg.atlas, given.as_ref().map(|t| (t, from)))?;
    Ok((atlas, given.unwrap_or_else(|| LabelTable::from_pairs(names))))
}

/// The label names a TotalSegmentator `--ml` atlas stores in its header extension.
///
/// # Errors
/// [`Error::Labels`] naming the atlas when it carries none.
pub fn table_from_header(extensions: &[(i32, Vec<u8>)], cfg: &RunConfig) -> Result<LabelTable> {
    extensions.iter().find_map(|(_, c)| LabelTable::from_caret_xml(&String::from_utf8_lossy(c))).ok_or_else(|| {
        Error::Labels {
            path: cfg.atlas.clone(),
            message: "no --labels given and the atlas carries no label names (no TotalSegmentator --ml header \
                      extension): pass --labels TABLE"
                .into(),
        }
    })
}

/// One run: its settings, its staging configuration (read before the volumes, so that a bad
/// one fails at once) and who is told of its stages.
struct Job<'a> {
    cfg: &'a RunConfig,
    staging: Configured,
    obs: &'a dyn Observer,
}

/// The rest of [`run_with_map`] once the scan and atlas are in memory; without a `given`
/// table the names come from the atlas's header.
fn map_scan<L: Label + Storable>(
    job: &Job,
    given: Option<LabelTable>,
    scan: Loaded<f32>,
    atlas: Loaded<L>,
) -> Result<(Report, Volume<u16>)> {
    let (cfg, obs) = (job.cfg, job.obs);
    let table = match given {
        Some(t) => t,
        None => table_from_header(&atlas.extensions, cfg)?,
    };
    let table = &table;
    obs.stage("checking the atlas");
    let grid = atlas.volume.grid;
    let (mut volume, resampled, bone_only) = bone_atlas_on_grid(atlas.volume, table, &scan.volume.grid, cfg)?;
    let mut facts = AtlasFacts { sha256: atlas.sha256, grid, resampled, parcellated: Vec::new(), bone_only };
    if cfg.params.parcellate {
        obs.stage("parcellating the atlas");
        if let Some(p) = parcellate::parcellate(&volume, table) {
            require_labelled(&p, &cfg.atlas)?;
            facts.parcellated = p.split.clone();
            if p.max_label() <= L::MAX {
                // In place: no second copy of the atlas.
                p.apply(&mut volume);
                return analyse_and_write(job, &p.table, Some(&p.bone_label), scan, volume, facts);
            }
            let mut wide = Volume { grid: volume.grid, data: volume.data.iter().map(|&l| l.into() as u16).collect() };
            drop(volume);
            p.apply(&mut wide);
            return analyse_and_write(job, &p.table, Some(&p.bone_label), scan, wide, facts);
        }
    }
    analyse_and_write(job, table, None, scan, volume, facts)
}

/// Checks that parcellation found a label value for every sub-region.
///
/// # Errors
/// [`Error::Atlas`] naming `atlas` when all 65535 label values were in use.
pub fn require_labelled(p: &parcellate::Parcellation, atlas: &Path) -> Result<()> {
    match &p.unlabelled {
        None => Ok(()),
        Some(region) => Err(Error::Atlas {
            path: atlas.to_path_buf(),
            message: format!(
                "parcellation needs a new label value for sub-region {region}, but the atlas's table uses all \
                 65535 label values: free some or pass --no-parcellate"
            ),
        }),
    }
}

/// The atlas on the scan's grid ([`atlas_on_grid`]) with every label that is not bone made
/// background (before anything reads the atlas), its labels checked against the table; also
/// whether it was resampled and which labels were kept.
///
/// # Errors
/// As [`atlas_on_grid`] and [`check_labels`]; [`Error::Atlas`] when no label is bone.
pub fn bone_atlas_on_grid<L: Label>(
    atlas: Volume<L>,
    table: &LabelTable,
    scan: &Grid,
    cfg: &RunConfig,
) -> Result<(Volume<L>, bool, BoneOnly)> {
    let (mut volume, resampled) = atlas_on_grid(atlas, scan, &cfg.atlas)?;
    let (bone_only, hist) = labels::keep_bone_only(&mut volume.data, table);
    check_labels(&hist, table, cfg)?;
    bone_only.require_bone(&cfg.atlas)?;
    Ok((volume, resampled, bone_only))
}

/// Detection and outputs, once the atlas is on the scan's grid in its final labels.
fn analyse_and_write<L: Label + Storable>(
    job: &Job,
    table: &LabelTable,
    bone_label: Option<&BTreeMap<u32, String>>,
    scan: Loaded<f32>,
    atlas: Volume<L>,
    facts: AtlasFacts,
) -> Result<(Report, Volume<u16>)> {
    let (cfg, obs) = (job.cfg, job.obs);
    obs.stage("atlas samples");
    // One pass over the atlas serves the label check, the references and the region sizes.
    let samples = BoneSamples::gather(&scan.volume.data, &atlas.data);
    check_labels(&samples.hist, table, cfg)?;
    let an = analyse(
        &scan.volume,
        &atlas,
        table,
        bone_label,
        &samples,
        &cfg.params,
        Sources { scan: &cfg.scan, atlas: &cfg.atlas },
        obs,
    )?;
    // The atlas stays: it is written and drawn as the region map.
    let region_rows = regions::rows(&samples.hist, table, bone_label);

    obs.stage("writing outputs");
    let grid = scan.volume.grid;
    let parameters = parameters(&cfg.params, an.cutoff);
    let spacing_mm = grid.spacing();
    let marrow = an.local.as_ref().map(|f| marrow_report(f, &samples.hist, table, &cfg.params.local, spacing_mm));
    let input = input_info(cfg, &scan, facts, table, marrow.as_ref())?;
    let found = (an.lesions, an.equivocal);
    let rep = Report::assemble(input, parameters, an.reference.clone(), marrow, found, |lesions, summary| {
        let inputs = staging::Inputs { lesions, summary, regions: &region_rows, spacing_mm };
        staging::stage(&inputs, &job.staging)
    });

    let maps = RunMaps { scan: &scan, lesion_map: &an.lesion_map, atlas: &atlas, region_rows: &region_rows };
    run_files::write(&cfg.out, &cfg.names, &rep, &maps, &|name, bytes| obs.output(name, bytes))?;
    Ok((rep, an.lesion_map))
}
