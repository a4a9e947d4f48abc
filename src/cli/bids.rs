//! `crmo-map bids [BIDS_DIR] OUT_DIR participant|group`: the BIDS App interface, its progress
//! display (one line per running unit and an overall bar on a terminal, plain log lines
//! otherwise) and its status table.

use anyhow::{bail, Result};
use clap::Args;
use crmo_map::cohort::{self, discover, BidsLayout, CohortObserver, Selection, Source, Status, UnitStatus};
use crmo_map::pipeline::Params;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Arguments of `crmo-map bids`.
#[derive(Args, Debug)]
#[command(override_usage = "crmo-map bids [OPTIONS] BIDS_DIR OUT_DIR <participant|group>\n       \
                            crmo-map bids [OPTIONS] --manifest FILE.tsv OUT_DIR <participant|group>")]
pub struct BidsArgs {
    /// BIDS_DIR OUT_DIR LEVEL (LEVEL: participant or group); with --manifest, OUT_DIR LEVEL.
    #[arg(value_name = "BIDS_DIR OUT_DIR LEVEL", num_args = 2..=3, required = true)]
    positional: Vec<String>,
    /// Subjects to map (with or without `sub-`); default all.
    #[arg(long = "participant-label", value_name = "LABEL", num_args = 1..)]
    participant_label: Vec<String>,
    /// Sessions to map (with or without `ses-`); default all.
    #[arg(long = "session-label", value_name = "LABEL", num_args = 1..)]
    session_label: Vec<String>,
    /// Scans and atlases from a TSV manifest (columns subject, session, scan, atlas, labels;
    /// paths relative to the manifest) instead of a BIDS dataset.
    #[arg(long, value_name = "FILE.tsv")]
    manifest: Option<PathBuf>,
    /// The STIR scan inside each subject's (or session's) anat/ folder (`*` and `?` wildcards).
    #[arg(long, value_name = "PATTERN", default_value = discover::DEFAULT_STIR_PATTERN)]
    stir_pattern: String,
    /// Folder of the atlases, laid out as the dataset (sub-X[/ses-Y]/anat/) [default:
    /// BIDS_DIR/derivatives/totalsegmentator].
    #[arg(long, value_name = "DIR")]
    atlas_dir: Option<PathBuf>,
    /// The atlas inside its anat/ folder: `{entities}` is the scan's name up to its suffix
    /// (sub-01_ses-1_acq-STIR), `{subject}` and `{session}` the labels. A label volume or a
    /// folder of masks.
    #[arg(long, value_name = "PATTERN", default_value = discover::DEFAULT_ATLAS_PATTERN)]
    atlas_pattern: String,
    /// Label table for every atlas (a file or a built-in name, as for `run`) [default: the
    /// BIDS _dseg.tsv beside the atlas, else the atlas's own names].
    #[arg(long, value_name = "TABLE")]
    labels: Option<PathBuf>,
    /// Staging configuration (JSON), as for `run`.
    #[arg(long, value_name = "FILE")]
    staging_config: Option<PathBuf>,
    /// Units mapped at once at most [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,
    /// Map only shard I of N (0 <= I < N) of the units; inside a Slurm array job the shard is
    /// taken from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<cohort::Shard>,
    /// Redo units whose outputs are already current.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    detect: crate::DetectArgs,
}

fn parse_shard(s: &str) -> std::result::Result<cohort::Shard, String> {
    cohort::Shard::parse(s).map_err(|e| e.to_string())
}

impl BidsArgs {
    /// The flag values and the output folder: never the dataset itself, nor inside it but
    /// under `derivatives/` (exit 2 when wrong).
    ///
    /// # Errors
    /// [`crmo_map::Error::Parameter`] naming the problem.
    pub fn check(&self) -> std::result::Result<(), crmo_map::Error> {
        self.detect.params().validate()?;
        let p = &self.positional;
        if self.manifest.is_some() || p.len() != 3 {
            return Ok(());
        }
        let abs = |s: &str| std::path::absolute(s).unwrap_or_else(|_| PathBuf::from(s));
        let (bids, out) = (abs(&p[0]), abs(&p[1]));
        let under_derivatives = out
            .strip_prefix(&bids)
            .is_ok_and(|r| r.starts_with("derivatives") && r != std::path::Path::new("derivatives"));
        if out.starts_with(&bids) && !under_derivatives {
            return Err(crmo_map::Error::Parameter(format!(
                "OUT_DIR {} is inside the BIDS dataset {}: use a folder outside it or under its derivatives/",
                p[1], p[0]
            )));
        }
        Ok(())
    }
}

/// The analysis level.
enum Level {
    Participant,
    Group,
}

/// The positional arguments, checked: (BIDS_DIR, OUT_DIR, level); usage errors exit 2.
fn positionals(a: &BidsArgs) -> (Option<PathBuf>, PathBuf, Level) {
    let usage = |msg: String| -> ! {
        use clap::CommandFactory;
        let mut cmd = crate::Cli::command();
        let sub = cmd.find_subcommand_mut("bids").expect("bids is a subcommand").clone();
        sub.bin_name("crmo-map bids").error(clap::error::ErrorKind::ValueValidation, msg).exit()
    };
    let p = &a.positional;
    let level = match p.last().map(String::as_str) {
        Some("participant") => Level::Participant,
        Some("group") => Level::Group,
        other => usage(format!("the analysis level is participant or group, not {:?}", other.unwrap_or(""))),
    };
    match (p.len(), &a.manifest) {
        (3, None) => (Some(PathBuf::from(&p[0])), PathBuf::from(&p[1]), level),
        (2, Some(_)) => (None, PathBuf::from(&p[0]), level),
        (2, None) => usage("give BIDS_DIR OUT_DIR LEVEL (or --manifest FILE.tsv OUT_DIR LEVEL)".into()),
        _ => usage("with --manifest give OUT_DIR and LEVEL only".into()),
    }
}

/// Runs `crmo-map bids`; `quiet` is the global flag.
pub fn run(a: BidsArgs, quiet: bool) -> Result<()> {
    let params: Params = a.detect.params();
    let (bids_dir, out, level) = positionals(&a);
    if let Level::Group = level {
        let c = cohort::group::group(&out)?;
        if !quiet {
            let s = c.summary();
            eprintln!(
                "{} scans ({} children); cohort tables and summary in {}",
                s["scans"],
                s["children"],
                out.display()
            );
        }
        return Ok(());
    }
    let source = match (&a.manifest, bids_dir) {
        (Some(path), _) => Source::Manifest { path: path.clone(), labels: a.labels.clone() },
        (None, Some(dir)) => {
            let mut l = BidsLayout::new(&dir);
            l.stir_pattern = a.stir_pattern.clone();
            l.atlas_pattern = a.atlas_pattern.clone();
            l.atlas_dir = a.atlas_dir.clone().unwrap_or(l.atlas_dir);
            l.labels = a.labels.clone();
            Source::Bids(l)
        }
        (None, None) => unreachable!("checked by positionals"),
    };
    let shard = match a.shard {
        Some(s) => Some(s),
        None => cohort::Shard::from_slurm(|k| std::env::var(k).ok())?,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cfg = cohort::ParticipantConfig {
        source,
        selection: Selection { participants: a.participant_label.clone(), sessions: a.session_label.clone() },
        out: out.clone(),
        params,
        staging: a.staging_config.clone(),
        shard,
        jobs: a.jobs.map_or(cores, |j| j as usize),
        max_memory: crmo_map::limits::max_memory(),
        overwrite: a.overwrite,
        command: command_line(),
    };
    let display = Display::new(quiet);
    let outcome = cohort::participant(&cfg, &display)?;
    display.done();
    let table = outcome.table();
    let log = out.join("logs").join(match shard {
        Some(s) => format!("participant-shard-{}-of-{}.tsv", s.index, s.count),
        None => "participant.tsv".into(),
    });
    crmo_map::output::publish::write_file(&log, table.as_bytes())?;
    print!("{table}");
    report_end(&outcome, quiet)
}

/// The closing line, and the error when units failed.
fn report_end(outcome: &cohort::Outcome, quiet: bool) -> Result<()> {
    let n = outcome.units.len();
    let failed = outcome.failed();
    let current = outcome.units.iter().filter(|u| u.status == cohort::Status::UpToDate).count();
    if !quiet {
        if outcome.all_current() {
            eprintln!("nothing to do: all {n} units are up to date (--overwrite redoes them)");
        } else {
            eprintln!(
                "{n} units: {} mapped, {} failed, {current} up to date",
                n - failed.len() - current,
                failed.len()
            );
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> =
        failed.iter().map(|u| format!("{} ({})", u.unit, u.status.label().trim_start_matches("failed: "))).collect();
    bail!("{} of {n} units failed: {}", failed.len(), list.join("; "))
}

/// The command as typed, for the dataset description.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c)) {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Progress of a cohort: on a terminal an overall bar and a line per running unit, else one
/// log line per finished unit.
struct Display {
    multi: Option<MultiProgress>,
    /// The overall bar (on a terminal), made once the units are known.
    overall: OnceLock<ProgressBar>,
    /// A line per running unit.
    lines: Mutex<HashMap<String, ProgressBar>>,
    quiet: bool,
    done: Mutex<(usize, usize)>,
}

impl Display {
    fn new(quiet: bool) -> Display {
        let terminal = !quiet && std::io::stderr().is_terminal();
        let multi = terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Display { multi, overall: OnceLock::new(), lines: Mutex::new(HashMap::new()), quiet, done: Mutex::new((0, 0)) }
    }

    fn done(&self) {
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }
}

impl CohortObserver for Display {
    fn planned(&self, units: &[String]) {
        self.done.lock().unwrap_or_else(|e| e.into_inner()).1 = units.len();
        if let Some(m) = &self.multi {
            let bar = m.add(ProgressBar::new(units.len() as u64));
            bar.set_style(
                ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} units {msg}")
                    .expect("valid template"),
            );
            let _ = self.overall.set(bar);
        }
    }

    fn started(&self, unit: &str) {
        if let Some(m) = &self.multi {
            let line = m.add(ProgressBar::new_spinner());
            line.set_style(ProgressStyle::with_template("  {spinner} {prefix}: {msg}").expect("valid template"));
            line.set_prefix(unit.to_string());
            line.enable_steady_tick(Duration::from_millis(120));
            self.lines.lock().unwrap_or_else(|e| e.into_inner()).insert(unit.to_string(), line);
        }
    }

    fn stage(&self, unit: &str, stage: &str) {
        if let Some(line) = self.lines.lock().unwrap_or_else(|e| e.into_inner()).get(unit) {
            line.set_message(stage.to_string());
        }
    }

    fn finished(&self, s: &UnitStatus) {
        let (n, total) = {
            let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
            d.0 += 1;
            *d
        };
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(line) = lines.remove(&s.unit) {
            line.finish_and_clear();
        }
        // A unit whose run warned about its inputs (a scan that looks like a CT) says so.
        let warned = match s.status {
            Status::Ok { warnings: w @ 1.., .. } => format!(", {w} warning(s) in its report"),
            _ => String::new(),
        };
        if let Some(bar) = self.overall.get() {
            bar.inc(1);
            bar.println(format!("{}: {}{warned} ({:.1} s)", s.unit, s.status.label(), s.seconds));
        } else if !self.quiet {
            eprintln!("crmo-map: [{n}/{total}] {}: {}{warned} ({:.1} s)", s.unit, s.status.label(), s.seconds);
        }
    }
}
