//! `crmo-map`: the command line. Parsing and presentation only; the work is in the library.

mod flag_values;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
pub(crate) use cli::args::DetectArgs;
use cli::args::{case, phantom_options, phantom_storage, DemoArgs, EvaluateArgs, PhantomArgs, RunArgs};
use cli::commands;
use cli::progress::Progress;
use crmo_map::{evaluate, phantom};
use flag_values::parse_threads;
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
    /// No progress display on stderr (warnings about the inputs still print).
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

/// The one place where flag values are checked beyond each flag's own parser: ranges that
/// depend on other flags (the library's validators) and `--out` against the inputs. A
/// failure is a malformed command line: exit 2, as for clap's own rejections.
fn check_flags(cli: &Cli, matches: &clap::ArgMatches) -> Result<(), crmo_map::error::Error> {
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
            let sub = matches.subcommand_matches("evaluate");
            let given = |id: &str| sub.and_then(|m| m.value_source(id)) == Some(clap::parser::ValueSource::CommandLine);
            a.check_companions(&given)?;
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

fn run_cli(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start the thread pool")?;
    }
    if let Some(bytes) = cli.max_memory {
        crmo_map::limits::set_max_memory(bytes);
    }
    let progress = Progress::new(cli.quiet, cli.timings);
    let result = match cli.command {
        Command::Bids(a) => return cli::bids::run(a, cli.quiet),
        Command::Run(a) => commands::run(a, &progress, cli.quiet),
        Command::Phantom(a) => commands::phantom(a, &progress),
        Command::Demo(a) => commands::demo(a, &progress),
        Command::Evaluate(a) if a.readers.is_some() => commands::evaluate_readers(a, &progress),
        Command::Evaluate(a) => commands::evaluate_phantoms(a, &progress),
        Command::StagingConfig => Ok(crmo_map::staging::DEFAULT_JSON.to_string()),
    };
    progress.done();
    progress.print_timings();
    // What the command prints is written at the end, so that a full disk or a closed pipe is
    // an error message rather than a panic.
    let stdout = result?;
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
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(e) = check_flags(&cli, &matches) {
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
