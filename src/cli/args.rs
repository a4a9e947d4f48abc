//! The command line's flags: the detector's settings shared by every command that maps a
//! scan, and each subcommand's own arguments.

use crate::flag_values::*;
use clap::{Args, ValueEnum};
use crmo_map::ccl::Connectivity;
use crmo_map::detect::{LocalParams, Method};
use crmo_map::error::Error;
use crmo_map::evaluate::readers::Rules;
use crmo_map::io::Datatype;
use crmo_map::phantom::{AtlasStyle, Case, PhantomOptions, PhantomStorage};
use crmo_map::pipeline::{self, Params};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct DetectArgs {
    /// Candidate voxels have a z-score (I - median) / (1.4826 MAD) of bone above this.
    #[arg(long, value_name = "Z", default_value_t = pipeline::DEFAULT_Z_THRESHOLD, value_parser = finite)]
    pub(crate) z_threshold: f64,
    /// Drop lesions smaller than this volume in mm^3.
    #[arg(long = "min-volume-mm3", value_name = "V", default_value_t = pipeline::DEFAULT_MIN_VOLUME_MM3, value_parser = non_negative)]
    pub(crate) min_volume_mm3: f64,
    /// Voxel connectivity of a lesion: 6 (faces), 18 (edges) or 26 (corners).
    #[arg(long, value_name = "6|18|26", default_value_t = 26, value_parser = parse_connectivity)]
    pub(crate) connectivity: u32,
    /// Detector: `local` (ratios to each region's own normal marrow, seed cores above the
    /// noise, a growth-plate guard and the half-maximum outline) or `global` (one z threshold
    /// against all bone: the naive baseline).
    #[arg(long, value_enum, default_value_t = MethodArg::Local)]
    pub(crate) method: MethodArg,
    /// Local detector (its main threshold): a lesion holds a seed core whose denoised signal
    /// is at least this ratio to its region's normal marrow.
    #[arg(long = "seed-ratio", value_name = "R", default_value_t = LocalParams::default().seed_ratio, value_parser = positive)]
    pub(crate) seed_ratio: f64,
    /// Local detector: lesion voxels are at least this ratio to their region's normal marrow.
    #[arg(long = "grow-ratio", value_name = "R", default_value_t = LocalParams::default().grow_ratio, value_parser = positive)]
    pub(crate) grow_ratio: f64,
    /// Local detector: a seed core holds at least this volume (mm^3).
    #[arg(long = "seed-core-mm3", value_name = "V", default_value_t = LocalParams::default().seed_core_mm3, value_parser = non_negative)]
    pub(crate) seed_core_mm3: f64,
    /// Local detector: seed voxels also stand this many noise levels above the marrow.
    #[arg(long = "noise-z", value_name = "Z", default_value_t = LocalParams::default().noise_z, value_parser = non_negative)]
    pub(crate) noise_z: f64,
    /// Local detector: lesion voxels also stand this many noise levels above the marrow.
    #[arg(long = "grow-noise-z", value_name = "Z", default_value_t = LocalParams::default().grow_noise_z, value_parser = non_negative)]
    pub(crate) grow_noise_z: f64,
    /// Local detector: judge voxels against the marrow within about this distance (mm; 0: against the region's level).
    #[arg(long = "fine-mm", value_name = "MM", default_value_t = LocalParams::default().fine_mm, value_parser = non_negative)]
    pub(crate) fine_mm: f64,
    /// Local detector: seeds, and lesion voxels beside their own value, are judged on the mean of bone voxels within this radius (mm; 0: each voxel alone).
    #[arg(long = "denoise-mm", value_name = "MM", default_value_t = LocalParams::default().denoise_mm, value_parser = non_negative)]
    pub(crate) denoise_mm: f64,
    /// Local detector: seeds lie at least this many mm inside the atlas.
    #[arg(long = "edge-mm", value_name = "MM", default_value_t = LocalParams::default().edge_mm, value_parser = non_negative)]
    pub(crate) edge_mm: f64,
    /// Local detector: drop components thinner than this (mm, plus one voxel's depth), 2.5 times as
    /// wide and across the body or their tubular bone (growth plates); 0 turns the guard off.
    #[arg(long = "plate-mm", value_name = "MM", default_value_t = LocalParams::default().plate_mm, value_parser = non_negative)]
    pub(crate) plate_mm: f64,
    /// Local detector: keep the voxels at least this fraction of the way from the normal
    /// marrow to the lesion's peak (0.5: the half-maximum outline).
    #[arg(long = "peak-fraction", value_name = "F", default_value_t = LocalParams::default().peak_fraction, value_parser = below_one)]
    pub(crate) peak_fraction: f64,
    /// Local detector: set aside as equivocal (listed in report.json, not reported as lesions)
    /// the foci under this size (mm, in the scan's plane) at sites of normal-variant bright
    /// marrow in children (feet, hands, knees, the hip bone); 0 reports every focus as a lesion.
    #[arg(long = "variant-focus-mm", value_name = "MM", default_value_t = LocalParams::default().variant_focus_mm, value_parser = non_negative)]
    pub(crate) variant_focus_mm: f64,
    /// Report the atlas's labels as they are: no splitting of whole bones (hip, femur,
    /// sacrum, vertebrae, ...) into the sub-regions CRMO reporting names.
    #[arg(long)]
    pub(crate) no_parcellate: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum MethodArg {
    /// Global z threshold (baseline).
    Global,
    /// Ratios to each region's own normal marrow, seed cores, growth-plate guard.
    Local,
}

pub(crate) fn parse_connectivity(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| Connectivity::from_count(*n).is_some())
        .ok_or_else(|| format!("connectivity must be 6, 18 or 26, not {s:?}"))
}

impl DetectArgs {
    pub(crate) fn params(&self) -> Params {
        Params {
            z_threshold: self.z_threshold,
            min_volume_mm3: self.min_volume_mm3,
            connectivity: Connectivity::from_count(self.connectivity).expect("validated by clap"),
            method: match self.method {
                MethodArg::Global => Method::Global,
                MethodArg::Local => Method::Local,
            },
            local: LocalParams {
                seed_ratio: self.seed_ratio,
                grow_ratio: self.grow_ratio,
                seed_core_mm3: self.seed_core_mm3,
                noise_z: self.noise_z,
                grow_noise_z: self.grow_noise_z,
                fine_mm: self.fine_mm,
                denoise_mm: self.denoise_mm,
                edge_mm: self.edge_mm,
                plate_mm: self.plate_mm,
                peak_fraction: self.peak_fraction,
                variant_focus_mm: self.variant_focus_mm,
                ..LocalParams::default()
            },
            parcellate: !self.no_parcellate,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// The STIR scan (NIfTI-1 .nii or .nii.gz, 3-D or 4-D with one volume).
    #[arg(long, value_name = "SCAN")]
    pub(crate) scan: PathBuf,
    /// Atlas label volume, or a folder of one 0/1 mask per class (file name = class name);
    /// on another grid (shape, voxel size, orientation, field of view) it is resampled onto
    /// the scan's by nearest label.
    #[arg(long, value_name = "ATLAS")]
    pub(crate) atlas: PathBuf,
    /// Label table, told by its content: BIDS `_dseg.tsv`, CSV, JSON, ITK-SNAP label file,
    /// 3D Slicer colour table (.ctbl/.txt/.csv); or a built-in: totalsegmentator,
    /// totalsegmentator-mr, totalsegmentator-vertebrae-mr, totalsegmentator-appendicular-bones.
    /// A mask folder's masks are matched to its rows by name. Without it, the names come from
    /// the atlas's header (TotalSegmentator --ml output) or a mask folder's file names.
    #[arg(long, value_name = "TABLE")]
    pub(crate) labels: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Staging configuration (JSON): how sub-regions group into bone units and the extent
    /// grade's cut-offs; `crmo-map staging-config` prints the shipped one to start from.
    #[arg(long = "staging-config", value_name = "FILE")]
    pub(crate) staging_config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum CaseArg {
    /// The founding case's seven foci.
    Seed,
    /// K lesions drawn from CRMO's site distribution.
    Random,
    /// A healthy control: no lesion.
    Healthy,
}

#[derive(Args, Debug)]
pub(crate) struct PhantomArgs {
    /// Which lesions to place.
    #[arg(long, value_enum, default_value_t = CaseArg::Seed)]
    pub(crate) case: CaseArg,
    /// Seed of every random choice (noise, bias, lesion shapes and, for random, sites).
    #[arg(long, default_value_t = PhantomOptions::default().seed)]
    pub(crate) seed: u64,
    /// Number of lesions for --case random.
    #[arg(long, value_name = "K", default_value_t = PhantomOptions::default().lesions, value_parser = parse_lesions)]
    pub(crate) lesions: usize,
    /// Voxel size in mm along x (right-left), y (anterior-posterior) and z (head-foot).
    #[arg(long, num_args = 3, value_names = ["X", "Y", "Z"], value_parser = positive)]
    pub(crate) spacing: Option<Vec<f64>>,
    /// Orientation of the stored voxel axes, as an orientation code (RAS, LPS, ASR, ...).
    #[arg(long, default_value = "RAS")]
    pub(crate) orientation: String,
    /// Storage datatype of the scan (uint8, int16, uint16, int32, float32, float64, ...).
    #[arg(long, default_value = "int16", value_parser = parse_datatype)]
    pub(crate) datatype: String,
    /// Multiply the scan's intensities by this factor.
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub(crate) scale: f64,
    /// How to write the atlas: `fine` (the phantom's sub-regions on the scan's grid) or
    /// `totalsegmentator` (whole bones with TotalSegmentator's ids and names, 1.5 mm, LPS, names
    /// in the header extension as its --ml output stores them).
    #[arg(long, value_enum, default_value_t = AtlasStyleArg::Fine)]
    pub(crate) atlas_style: AtlasStyleArg,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum AtlasStyleArg {
    /// The phantom's sub-region labels.
    Fine,
    /// Whole bones as TotalSegmentator writes them.
    Totalsegmentator,
}

impl From<AtlasStyleArg> for AtlasStyle {
    fn from(a: AtlasStyleArg) -> AtlasStyle {
        match a {
            AtlasStyleArg::Fine => AtlasStyle::Fine,
            AtlasStyleArg::Totalsegmentator => AtlasStyle::TotalSegmentator,
        }
    }
}

pub(crate) fn parse_datatype(s: &str) -> Result<String, String> {
    Datatype::from_name(s).map(|d| d.name().to_string()).ok_or_else(|| {
        let all: Vec<&str> = Datatype::ALL.iter().map(|d| d.name()).collect();
        format!("unknown datatype {s:?}; one of {}", all.join(", "))
    })
}

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Folder for the phantom (DIR/input/) and the outputs.
    #[arg(long, value_name = "DIR", default_value = "crmo-map-demo")]
    pub(crate) out: PathBuf,
    /// Seed of the phantom's noise and lesion shapes.
    #[arg(long, default_value_t = PhantomOptions::default().seed)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum SuiteArg {
    /// Founding and random cases across voxel sizes, orientations, datatypes and scales.
    Basic,
    /// Whole-body geometry with station steps, bias, noise, a shifted atlas, normal-variant
    /// foci, physis-adjacent irregular lesions and healthy controls.
    Hard,
}

#[derive(Args, Debug)]
pub(crate) struct EvaluateArgs {
    /// Folder of phantom folders (each as `crmo-map phantom` writes it, with truth.json).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["suite", "readers"], required_unless_present_any = ["suite", "readers"])]
    pub(crate) phantoms: Option<PathBuf>,
    /// Real scans with reader masks: a folder in the sij-stir layout (sub-*/stir.nii.gz,
    /// region.nii.gz, oedema_R<reader><session>.nii.gz, optionally normal_marrow.nii.gz) or a
    /// TSV manifest (subject, scan, atlas, reader, session, mask, optionally normal_marrow).
    /// Scores the detector against every reader and the readers against each other (with 95%
    /// intervals), checks the detector's marrow level against the readers' normal-marrow
    /// region, and sweeps the detector for an FROC.
    #[arg(long, value_name = "DIR_OR_MANIFEST", conflicts_with = "suite")]
    pub(crate) readers: Option<PathBuf>,
    /// With --readers: label table for every atlas (as for `run`).
    #[arg(long, value_name = "TABLE")]
    pub(crate) labels: Option<PathBuf>,
    /// With --readers: score the readers against each other only (no detector run, no FROC).
    #[arg(long)]
    pub(crate) readers_only: bool,
    /// With --readers: truth lesions are components of the truth reader's first session at
    /// least this large (mm^3).
    #[arg(long = "truth-min-volume-mm3", value_name = "V", default_value_t = Rules::default().min_volume_mm3, value_parser = non_negative)]
    pub(crate) truth_min_volume_mm3: f64,
    /// With --readers: a truth lesion is found when this share of its voxels lies in the tested mask.
    #[arg(long, value_name = "F", default_value_t = Rules::default().found_fraction, value_parser = fraction)]
    pub(crate) found_fraction: f64,
    /// With --readers: only tested components at least this large (mm^3) can be false positives.
    #[arg(long = "fp-min-volume-mm3", value_name = "V", default_value_t = Rules::default().fp_min_volume_mm3, value_parser = non_negative)]
    pub(crate) fp_min_volume_mm3: f64,
    /// With --readers: FROC values of the detector's swept parameter (seed_ratio for local,
    /// z_threshold for global), comma-separated; the given value is always added.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = positive)]
    pub(crate) froc_values: Option<Vec<f64>>,
    /// Generate this suite into OUT/phantoms/ (kept, so a rerun resumes) and evaluate it.
    #[arg(long, value_enum)]
    pub(crate) suite: Option<SuiteArg>,
    /// Number of phantoms in the suite.
    #[arg(long, default_value_t = 30, value_name = "N", value_parser = parse_count)]
    pub(crate) count: usize,
    /// First seed of the suite.
    #[arg(long, default_value_t = 5000)]
    pub(crate) seed: u64,
    /// How the suite's atlases are written (as `crmo-map phantom --atlas-style`).
    #[arg(long, value_enum, default_value_t = AtlasStyleArg::Fine)]
    pub(crate) atlas_style: AtlasStyleArg,
    /// With --suite: multiply every phantom's noise level by this (0 to 8; 0 is noiseless), the
    /// anatomy, lesions and noise pattern staying the same: how the detector fares at another
    /// signal-to-noise ratio.
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = parse_noise_scale)]
    pub(crate) noise_scale: f64,
    /// Output folder: runs/<phantom or subject>/ with each run's outputs, evaluation.json,
    /// evaluation.txt; with --readers also froc.tsv, froc_subjects.tsv and froc.png.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

impl EvaluateArgs {
    /// Flags that only mean something beside another, all checked here (clap's `requires`
    /// is skipped when the other conflicts with a flag given, `--labels` with `--phantoms`
    /// say, and never holds for a flag with a default). `given` says whether a flag (by its
    /// field name) was on the command line.
    ///
    /// # Errors
    /// [`Error::Parameter`] naming the flag and the one it needs.
    pub(crate) fn check_companions(&self, given: &dyn Fn(&str) -> bool) -> Result<(), Error> {
        let (readers, suite) = (self.readers.is_some(), self.suite.is_some());
        let needs = [
            ("noise_scale", "--suite", suite),
            ("count", "--suite", suite),
            ("seed", "--suite", suite),
            ("atlas_style", "--suite", suite),
            ("labels", "--readers", readers),
            ("readers_only", "--readers", readers),
            ("froc_values", "--readers", readers),
            ("truth_min_volume_mm3", "--readers", readers),
            ("found_fraction", "--readers", readers),
            ("fp_min_volume_mm3", "--readers", readers),
        ];
        match needs.iter().find(|(flag, _, with)| !with && given(flag)) {
            Some((flag, other, _)) => {
                Err(Error::Parameter(format!("--{} works only with {other}", flag.replace('_', "-"))))
            }
            None => Ok(()),
        }
    }
}

pub(crate) fn phantom_options(case: Case, seed: u64, lesions: usize, spacing: Option<&[f64]>) -> PhantomOptions {
    let mut o = PhantomOptions { case, seed, lesions, ..PhantomOptions::default() };
    if let Some(s) = spacing {
        o.spacing = [s[0], s[1], s[2]];
    }
    o
}

pub(crate) fn case(c: CaseArg) -> Case {
    match c {
        CaseArg::Seed => Case::Seed,
        CaseArg::Random => Case::Random,
        CaseArg::Healthy => Case::Healthy,
    }
}

pub(crate) fn phantom_storage(a: &PhantomArgs) -> PhantomStorage {
    PhantomStorage {
        orientation: a.orientation.clone(),
        datatype: Datatype::from_name(&a.datatype).expect("validated by clap"),
        scale: a.scale,
        atlas_style: a.atlas_style.into(),
    }
}
