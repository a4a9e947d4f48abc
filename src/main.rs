//! `crmo-map`: the command line. Parsing and presentation only; the work is in the library.

mod flag_values;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use cli::progress::Progress;
use crmo_map::ccl::Connectivity;
use crmo_map::detect::{LocalParams, Method};
use crmo_map::evaluate::{self, readers::Rules};
use crmo_map::io::Datatype;
use crmo_map::output::OutputSet;
use crmo_map::phantom::{self, AtlasStyle, Case, PhantomOptions, PhantomStorage};
use crmo_map::pipeline::{self, Observer, Params, RunConfig};
use crmo_map::report;
use flag_values::*;
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

/// Bone-lesion maps and lesion reports from whole-body STIR MRI for CRMO/CNO.
#[derive(Parser, Debug)]
#[command(name = "crmo-map", version, about, long_about = None)]
struct Cli {
    /// Worker threads (default: all cores; at most 4 times the cores).
    #[arg(long, global = true, value_name = "N", value_parser = parse_threads)]
    threads: Option<usize>,
    /// Memory limit for what the inputs make crmo-map allocate: bytes, or with a unit (8G,
    /// 512M); inputs that would need more are refused before anything is allocated (default:
    /// the memory available, from /proc/meminfo and a cgroup limit).
    #[arg(long, global = true, value_name = "SIZE", value_parser = crmo_map::limits::parse_size)]
    max_memory: Option<u64>,
    /// No progress display on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print the wall time of each stage on stderr when the command ends.
    #[arg(long, global = true)]
    timings: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Map the bone lesions of one scan: writes report.json, lesions.csv, lesions.nii.gz,
    /// overview.png, the region map (regions.nii.gz, regions.tsv, regions.png), both maps'
    /// colour tables (.tsv, ITK-SNAP .label.txt, Slicer .ctbl, FSLeyes .lut) and the review
    /// page (review.html with review/) into --out.
    Run(RunArgs),
    /// Generate a synthetic whole-body STIR phantom with atlas and ground truth.
    Phantom(PhantomArgs),
    /// Generate the founding-case phantom under DIR/input/, map it into DIR/ and print the lesions.
    Demo(DemoArgs),
    /// Score detection against ground truth over a folder of phantoms or a generated suite.
    Evaluate(EvaluateArgs),
    /// Print the shipped staging configuration (JSON), to edit and pass to `run --staging-config`.
    StagingConfig,
    /// Map a cohort as a BIDS App: `participant` maps every subject (or session) of a BIDS
    /// dataset or a manifest into a BIDS derivative (several at once, resuming where a
    /// previous run stopped, one Slurm array task per shard); `group` gathers the cohort tables.
    Bids(cli::bids::BidsArgs),
}

#[derive(Args, Debug)]
struct DetectArgs {
    /// Candidate voxels have a z-score (I - median) / (1.4826 MAD) of bone above this.
    #[arg(long, value_name = "Z", default_value_t = pipeline::DEFAULT_Z_THRESHOLD, value_parser = finite)]
    z_threshold: f64,
    /// Drop lesions smaller than this volume in mm^3.
    #[arg(long = "min-volume-mm3", value_name = "V", default_value_t = pipeline::DEFAULT_MIN_VOLUME_MM3, value_parser = non_negative)]
    min_volume_mm3: f64,
    /// Voxel connectivity of a lesion: 6 (faces), 18 (edges) or 26 (corners).
    #[arg(long, value_name = "6|18|26", default_value_t = 26, value_parser = parse_connectivity)]
    connectivity: u32,
    /// Detector: `local` (ratios to each region's own normal marrow, seed cores above the
    /// noise, a growth-plate guard and the half-maximum outline) or `global` (one z threshold
    /// against all bone: the naive baseline).
    #[arg(long, value_enum, default_value_t = MethodArg::Local)]
    method: MethodArg,
    /// Local detector (its main threshold): a lesion holds a seed core whose denoised signal
    /// is at least this ratio to its region's normal marrow.
    #[arg(long = "seed-ratio", value_name = "R", default_value_t = LocalParams::default().seed_ratio, value_parser = positive)]
    seed_ratio: f64,
    /// Local detector: lesion voxels are at least this ratio to their region's normal marrow.
    #[arg(long = "grow-ratio", value_name = "R", default_value_t = LocalParams::default().grow_ratio, value_parser = positive)]
    grow_ratio: f64,
    /// Local detector: a seed core holds at least this volume (mm^3).
    #[arg(long = "seed-core-mm3", value_name = "V", default_value_t = LocalParams::default().seed_core_mm3, value_parser = non_negative)]
    seed_core_mm3: f64,
    /// Local detector: seed voxels also stand this many noise levels above the marrow.
    #[arg(long = "noise-z", value_name = "Z", default_value_t = LocalParams::default().noise_z, value_parser = non_negative)]
    noise_z: f64,
    /// Local detector: lesion voxels also stand this many noise levels above the marrow.
    #[arg(long = "grow-noise-z", value_name = "Z", default_value_t = LocalParams::default().grow_noise_z, value_parser = non_negative)]
    grow_noise_z: f64,
    /// Local detector: judge voxels against the marrow within about this distance (mm; 0: against the region's level).
    #[arg(long = "fine-mm", value_name = "MM", default_value_t = LocalParams::default().fine_mm, value_parser = non_negative)]
    fine_mm: f64,
    /// Local detector: seeds are judged on the mean of bone voxels within this radius (mm).
    #[arg(long = "denoise-mm", value_name = "MM", default_value_t = LocalParams::default().denoise_mm, value_parser = non_negative)]
    denoise_mm: f64,
    /// Local detector: seeds lie at least this many mm inside the atlas.
    #[arg(long = "edge-mm", value_name = "MM", default_value_t = LocalParams::default().edge_mm, value_parser = non_negative)]
    edge_mm: f64,
    /// Local detector: drop components thinner than this (mm, plus one voxel's depth), 2.5 times as
    /// wide and across the body or their tubular bone (growth plates); 0 turns the guard off.
    #[arg(long = "plate-mm", value_name = "MM", default_value_t = LocalParams::default().plate_mm, value_parser = non_negative)]
    plate_mm: f64,
    /// Local detector: keep the voxels at least this fraction of the way from the normal
    /// marrow to the lesion's peak (0.5: the half-maximum outline).
    #[arg(long = "peak-fraction", value_name = "F", default_value_t = LocalParams::default().peak_fraction, value_parser = below_one)]
    peak_fraction: f64,
    /// Report the atlas's labels as they are: no splitting of whole bones (hip, femur,
    /// sacrum, vertebrae, ...) into the sub-regions CRMO reporting names.
    #[arg(long)]
    no_parcellate: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MethodArg {
    /// Global z threshold (baseline).
    Global,
    /// Ratios to each region's own normal marrow, seed cores, growth-plate guard.
    Local,
}

fn parse_connectivity(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| Connectivity::from_count(*n).is_some())
        .ok_or_else(|| format!("connectivity must be 6, 18 or 26, not {s:?}"))
}

impl DetectArgs {
    fn params(&self) -> Params {
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
                ..LocalParams::default()
            },
            parcellate: !self.no_parcellate,
        }
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The STIR scan (NIfTI-1 .nii or .nii.gz, 3-D or 4-D with one volume).
    #[arg(long, value_name = "SCAN")]
    scan: PathBuf,
    /// Atlas label volume, or a folder of one 0/1 mask per class (file name = class name);
    /// on another grid (shape, voxel size, orientation, field of view) it is resampled onto
    /// the scan's by nearest label.
    #[arg(long, value_name = "ATLAS")]
    atlas: PathBuf,
    /// Label table, told by its content: BIDS `_dseg.tsv`, CSV, JSON, ITK-SNAP label file,
    /// 3D Slicer colour table (.ctbl/.txt/.csv); or a built-in: totalsegmentator,
    /// totalsegmentator-mr, totalsegmentator-vertebrae-mr, totalsegmentator-appendicular-bones.
    /// A mask folder's masks are matched to its rows by name. Without it, the names come from
    /// the atlas's header (TotalSegmentator --ml output) or a mask folder's file names.
    #[arg(long, value_name = "TABLE")]
    labels: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Staging configuration (JSON): how sub-regions group into bone units and the extent
    /// grade's cut-offs; `crmo-map staging-config` prints the shipped one to start from.
    #[arg(long = "staging-config", value_name = "FILE")]
    staging_config: Option<PathBuf>,
    #[command(flatten)]
    detect: DetectArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CaseArg {
    /// The founding case's seven foci.
    Seed,
    /// K lesions drawn from CRMO's site distribution.
    Random,
    /// A healthy control: no lesion.
    Healthy,
}

#[derive(Args, Debug)]
struct PhantomArgs {
    /// Which lesions to place.
    #[arg(long, value_enum, default_value_t = CaseArg::Seed)]
    case: CaseArg,
    /// Seed of every random choice (noise, bias, lesion shapes and, for random, sites).
    #[arg(long, default_value_t = PhantomOptions::default().seed)]
    seed: u64,
    /// Number of lesions for --case random.
    #[arg(long, value_name = "K", default_value_t = PhantomOptions::default().lesions, value_parser = parse_lesions)]
    lesions: usize,
    /// Voxel size in mm along x (right-left), y (anterior-posterior) and z (head-foot).
    #[arg(long, num_args = 3, value_names = ["X", "Y", "Z"], value_parser = positive)]
    spacing: Option<Vec<f64>>,
    /// Orientation of the stored voxel axes, as an orientation code (RAS, LPS, ASR, ...).
    #[arg(long, default_value = "RAS")]
    orientation: String,
    /// Storage datatype of the scan (uint8, int16, uint16, int32, float32, float64, ...).
    #[arg(long, default_value = "int16", value_parser = parse_datatype)]
    datatype: String,
    /// Multiply the scan's intensities by this factor.
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    scale: f64,
    /// How to write the atlas: `fine` (the phantom's sub-regions on the scan's grid) or
    /// `totalsegmentator` (whole bones with TotalSegmentator's ids and names, 1.5 mm, LPS, names
    /// in the header extension as its --ml output stores them).
    #[arg(long, value_enum, default_value_t = AtlasStyleArg::Fine)]
    atlas_style: AtlasStyleArg,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AtlasStyleArg {
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

fn parse_datatype(s: &str) -> Result<String, String> {
    Datatype::from_name(s).map(|d| d.name().to_string()).ok_or_else(|| {
        let all: Vec<&str> = Datatype::ALL.iter().map(|d| d.name()).collect();
        format!("unknown datatype {s:?}; one of {}", all.join(", "))
    })
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Folder for the phantom (DIR/input/) and the outputs.
    #[arg(long, value_name = "DIR", default_value = "crmo-map-demo")]
    out: PathBuf,
    /// Seed of the phantom's noise and lesion shapes.
    #[arg(long, default_value_t = PhantomOptions::default().seed)]
    seed: u64,
    #[command(flatten)]
    detect: DetectArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SuiteArg {
    /// Founding and random cases across voxel sizes, orientations, datatypes and scales.
    Basic,
    /// Whole-body geometry with station steps, bias, noise, a shifted atlas, normal-variant
    /// foci, physis-adjacent irregular lesions and healthy controls.
    Hard,
}

#[derive(Args, Debug)]
struct EvaluateArgs {
    /// Folder of phantom folders (each as `crmo-map phantom` writes it, with truth.json).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["suite", "readers"], required_unless_present_any = ["suite", "readers"])]
    phantoms: Option<PathBuf>,
    /// Real scans with reader masks: a folder in the sij-stir layout (sub-*/stir.nii.gz,
    /// region.nii.gz, oedema_R<reader><session>.nii.gz) or a TSV manifest (subject, scan,
    /// atlas, reader, session, mask). Scores the detector against every reader and the readers
    /// against each other, and sweeps the detector for an FROC.
    #[arg(long, value_name = "DIR_OR_MANIFEST", conflicts_with = "suite")]
    readers: Option<PathBuf>,
    /// With --readers: label table for every atlas (as for `run`).
    #[arg(long, value_name = "TABLE", requires = "readers")]
    labels: Option<PathBuf>,
    /// With --readers: score the readers against each other only (no detector run, no FROC).
    #[arg(long, requires = "readers")]
    readers_only: bool,
    /// With --readers: truth lesions are components of the truth reader's first session at
    /// least this large (mm^3).
    #[arg(long = "truth-min-volume-mm3", value_name = "V", default_value_t = Rules::default().min_volume_mm3, value_parser = non_negative)]
    truth_min_volume_mm3: f64,
    /// With --readers: a truth lesion is found when this share of its voxels lies in the tested mask.
    #[arg(long, value_name = "F", default_value_t = Rules::default().found_fraction, value_parser = fraction)]
    found_fraction: f64,
    /// With --readers: only tested components at least this large (mm^3) can be false positives.
    #[arg(long = "fp-min-volume-mm3", value_name = "V", default_value_t = Rules::default().fp_min_volume_mm3, value_parser = non_negative)]
    fp_min_volume_mm3: f64,
    /// With --readers: FROC values of the detector's swept parameter (seed_ratio for local,
    /// z_threshold for global), comma-separated; the given value is always added.
    #[arg(long, value_name = "LIST", value_delimiter = ',', requires = "readers", value_parser = positive)]
    froc_values: Option<Vec<f64>>,
    /// Generate this suite into OUT/phantoms/ (kept, so a rerun resumes) and evaluate it.
    #[arg(long, value_enum)]
    suite: Option<SuiteArg>,
    /// Number of phantoms in the suite.
    #[arg(long, default_value_t = 30, value_name = "N", value_parser = parse_count)]
    count: usize,
    /// First seed of the suite.
    #[arg(long, default_value_t = 5000)]
    seed: u64,
    /// How the suite's atlases are written (as `crmo-map phantom --atlas-style`).
    #[arg(long, value_enum, default_value_t = AtlasStyleArg::Fine)]
    atlas_style: AtlasStyleArg,
    /// Output folder: runs/<phantom or subject>/ with each run's outputs, evaluation.json,
    /// evaluation.txt; with --readers also froc.tsv and froc.png.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    detect: DetectArgs,
}

fn phantom_options(case: Case, seed: u64, lesions: usize, spacing: Option<&[f64]>) -> PhantomOptions {
    let mut o = PhantomOptions { case, seed, lesions, ..PhantomOptions::default() };
    if let Some(s) = spacing {
        o.spacing = [s[0], s[1], s[2]];
    }
    o
}

/// The one place where flag values are checked beyond each flag's own parser: ranges that
/// depend on other flags (the library's validators) and `--out` against the inputs. A
/// failure is a malformed command line: exit 2, as for clap's own rejections.
fn check_flags(cli: &Cli) -> Result<(), crmo_map::error::Error> {
    use crmo_map::guard::check_outputs_spare_inputs;
    match &cli.command {
        Command::Run(a) => {
            a.detect.params().validate()?;
            let inputs = [Some(&a.scan), Some(&a.atlas), a.labels.as_ref(), a.staging_config.as_ref()];
            check_outputs_spare_inputs(&a.out, inputs.into_iter().flatten().map(|p| p.as_path()))
        }
        Command::Phantom(a) => {
            phantom_storage(a).validate()?;
            phantom::validate(&phantom_options(case(a.case), a.seed, a.lesions, a.spacing.as_deref()))
        }
        Command::Demo(a) => a.detect.params().validate(),
        Command::Evaluate(a) => {
            let params = a.detect.params();
            params.validate()?;
            for &v in a.froc_values.iter().flatten() {
                evaluate::froc::at_operating_point(&params, v).validate()?;
            }
            Ok(())
        }
        Command::Bids(a) => a.check(),
        Command::StagingConfig => Ok(()),
    }
}

fn case(c: CaseArg) -> Case {
    match c {
        CaseArg::Seed => Case::Seed,
        CaseArg::Random => Case::Random,
        CaseArg::Healthy => Case::Healthy,
    }
}

fn phantom_storage(a: &PhantomArgs) -> PhantomStorage {
    PhantomStorage {
        orientation: a.orientation.clone(),
        datatype: Datatype::from_name(&a.datatype).expect("validated by clap"),
        scale: a.scale,
        atlas_style: a.atlas_style.into(),
    }
}

fn run_cli(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start the thread pool")?;
    }
    if let Some(bytes) = cli.max_memory {
        crmo_map::limits::set_max_memory(bytes);
    }
    let command = match cli.command {
        Command::Bids(a) => return cli::bids::run(a, cli.quiet),
        other => other,
    };
    let progress = Progress::new(cli.quiet, cli.timings);
    // What the command prints, written at the end so that a full disk or a closed pipe is an
    // error message rather than a panic.
    let mut stdout = String::new();
    let result = match command {
        Command::Run(a) => {
            let cfg = RunConfig {
                scan: a.scan,
                atlas: a.atlas,
                labels: a.labels,
                out: a.out,
                params: a.detect.params(),
                staging: a.staging_config,
                names: Default::default(),
            };
            pipeline::run(&cfg, &progress).map(|rep| {
                progress.done();
                if !cli.quiet {
                    eprintln!("{} lesion(s); outputs in {}", rep.summary.lesion_count, cfg.out.display());
                }
            })
        }
        Command::Phantom(a) => {
            let storage = phantom_storage(&a);
            progress.stage("generating phantom");
            let ph = phantom::generate(&phantom_options(case(a.case), a.seed, a.lesions, a.spacing.as_deref()))?;
            progress.stage("writing phantom");
            phantom::write_phantom(&ph, &a.out, &storage).map(|()| progress.done())
        }
        Command::Demo(a) => {
            let input = a.out.join("input");
            progress.stage("generating the founding-case phantom");
            let ph = phantom::generate(&phantom_options(Case::Seed, a.seed, 0, None))?;
            phantom::write_phantom(&ph, &input, &PhantomStorage::default())?;
            let cfg = RunConfig {
                scan: input.join("scan.nii.gz"),
                atlas: input.join("atlas.nii.gz"),
                labels: Some(input.join("labels.tsv")),
                out: a.out.clone(),
                params: a.detect.params(),
                staging: None,
                names: Default::default(),
            };
            pipeline::run(&cfg, &progress).map(|rep| {
                progress.done();
                stdout.push_str(&report::text_table(&rep));
                stdout.push_str(&format!("outputs: {}\n", a.out.display()));
            })
        }
        Command::Evaluate(a) if a.readers.is_some() => {
            let cfg = evaluate::ReaderConfig {
                dataset: a.readers.clone().expect("checked"),
                labels: a.labels.clone(),
                out: a.out.clone(),
                params: a.detect.params(),
                rules: Rules {
                    min_volume_mm3: a.truth_min_volume_mm3,
                    found_fraction: a.found_fraction,
                    fp_min_volume_mm3: a.fp_min_volume_mm3,
                    connectivity: Connectivity::from_count(a.detect.connectivity).expect("validated by clap"),
                },
                readers_only: a.readers_only,
                froc_values: a.froc_values.clone(),
            };
            let ev = evaluate::evaluate_readers(&cfg, &progress)?;
            progress.done();
            let mut set = OutputSet::new(&a.out)?;
            set.add("evaluation.json", ev.to_json().as_bytes())?;
            set.add("evaluation.txt", ev.table().as_bytes())?;
            if let Some(froc) = &ev.froc {
                set.add("froc.tsv", froc.to_tsv(&ev.readers).as_bytes())?;
                let png = evaluate::plot::froc_plot(froc, &ev.readers, &ev.reader_agreements());
                set.add("froc.png", &crmo_map::render::encode_png(&png)?)?;
            }
            set.commit()?;
            stdout.push_str(&ev.table());
            Ok(())
        }
        Command::Evaluate(a) => {
            let phantoms = match (&a.phantoms, a.suite) {
                (Some(p), _) => p.clone(),
                (None, Some(suite)) => {
                    let mut members = match suite {
                        SuiteArg::Basic => evaluate::basic_suite(a.count, a.seed),
                        SuiteArg::Hard => evaluate::hard_suite(a.count, a.seed),
                    };
                    members.iter_mut().for_each(|m| m.storage.atlas_style = a.atlas_style.into());
                    let dir = a.out.join("phantoms");
                    evaluate::write_suite(&members, &dir, &progress)?;
                    dir
                }
                (None, None) => unreachable!("clap requires --phantoms or --suite"),
            };
            let ev = evaluate::evaluate_folder(&phantoms, &a.out.join("runs"), &a.detect.params(), &progress)?;
            progress.done();
            let mut set = OutputSet::new(&a.out)?;
            set.add("evaluation.json", ev.to_json().as_bytes())?;
            set.add("evaluation.txt", ev.table().as_bytes())?;
            set.commit()?;
            stdout.push_str(&ev.table());
            Ok(())
        }
        Command::Bids(_) => unreachable!("handled above"),
        Command::StagingConfig => {
            stdout.push_str(crmo_map::staging::DEFAULT_JSON);
            Ok(())
        }
    };
    progress.done();
    progress.print_timings();
    result?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(stdout.as_bytes()).and_then(|()| out.flush()).context("standard output")
}

/// The error and its causes on one line, each cause once: a library error's message already
/// holds the OS error it wraps, which the chain gives again.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if !msg.contains(&cause) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&cause);
        }
    }
    msg.replace('\n', " ")
}

/// A write past the file-size limit (`ulimit -f`) then fails with EFBIG, which ends in a
/// message, instead of killing the process with SIGXFSZ and no word.
fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN runs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn main() -> ExitCode {
    ignore_file_size_signal();
    let cli = Cli::parse();
    if let Err(e) = check_flags(&cli) {
        eprintln!("crmo-map: error: {}", e.to_string().replace('\n', " "));
        return ExitCode::from(2);
    }
    match run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crmo-map: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}
