//! Cohorts: many scans at once, as a BIDS App (`crmo-map bids BIDS_DIR OUT_DIR participant`,
//! then `group`) or from a manifest.
//!
//! [`participant`] finds the units ([`discover`]), takes this shard's share ([`Shard`]), skips
//! those whose outputs are current ([`provenance`]), runs the rest several at once within a
//! memory budget ([`schedule`]) and puts each unit's outputs into place all at once
//! ([`crate::output::publish`]) as a BIDS derivative. A unit that fails is reported and the rest go on.
//! [`group`] gathers the finished units into cohort tables, a summary and a plot.

pub mod discover;
pub mod group;
mod manifest;
mod plot;
pub mod provenance;

pub mod schedule;

pub use discover::{BidsLayout, Inputs, Selection, Unit};

use crate::error::{Error, Result};
use crate::output::{publish, OutputNames};
use crate::pipeline::{self, Observer, Params, RunConfig};
use provenance::{Basis, FileRecord, Provenance, ReadDigests};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// BIDS version the derivative follows.
pub const BIDS_VERSION: &str = "1.10.0";

/// Where the cohort's scans come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A BIDS dataset.
    Bids(BidsLayout),
    /// A manifest (TSV: subject, session, scan, atlas, labels), with one label table for rows
    /// that name none.
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// Label table for rows without one.
        labels: Option<PathBuf>,
    },
}

/// One of `count` disjoint shares of the units (`index` from 0): unit `k` of the sorted list
/// belongs to shard `k % count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N`.
    ///
    /// # Errors
    /// [`Error::Parameter`] unless `0 <= I < N`.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || Error::Parameter(format!("--shard {s:?}: expected I/N with 0 <= I < N (e.g. 0/4)"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm array task: `SLURM_ARRAY_TASK_ID` counted from
    /// `SLURM_ARRAY_TASK_MIN`, out of `SLURM_ARRAY_TASK_COUNT`; `None` outside an array job.
    ///
    /// # Errors
    /// [`Error::Parameter`] when the variables are set but inconsistent.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>> {
        let Some(id) = var("SLURM_ARRAY_TASK_ID") else { return Ok(None) };
        let num = |name: &str, v: Option<String>| -> Result<usize> {
            let v = v.ok_or_else(|| Error::Parameter(format!("SLURM_ARRAY_TASK_ID is set but {name} is not")))?;
            v.trim().parse().map_err(|_| Error::Parameter(format!("{name}={v:?} is not a number")))
        };
        let id = num("SLURM_ARRAY_TASK_ID", Some(id))?;
        let min = var("SLURM_ARRAY_TASK_MIN").map_or(Ok(0), |v| num("SLURM_ARRAY_TASK_MIN", Some(v)))?;
        let count = num("SLURM_ARRAY_TASK_COUNT", var("SLURM_ARRAY_TASK_COUNT"))?;
        if id < min {
            return Err(Error::Parameter(format!("SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}")));
        }
        Shard::parse(&format!("{}/{count}", id - min)).map(Some)
    }

    fn takes(&self, k: usize) -> bool {
        k % self.count == self.index
    }
}

/// Settings of a participant-level run.
#[derive(Clone, Debug)]
pub struct ParticipantConfig {
    /// Where the scans are.
    pub source: Source,
    /// Which participants and sessions.
    pub selection: Selection,
    /// The derivative dataset written.
    pub out: PathBuf,
    /// Detection parameters.
    pub params: Params,
    /// Staging configuration (`None`: the shipped one).
    pub staging: Option<PathBuf>,
    /// This process's share of the units.
    pub shard: Option<Shard>,
    /// Units run at once at most.
    pub jobs: usize,
    /// Memory budget (bytes) of the units running at once.
    pub max_memory: u64,
    /// Redo units whose outputs are current.
    pub overwrite: bool,
    /// The command line, for the dataset description.
    pub command: String,
}

/// How a unit ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Mapped; its outputs are in place.
    Ok {
        /// Lesions found.
        lesions: usize,
        /// Warnings about its inputs (its report's `input.warnings`: a scan that looks like
        /// a CT); 0 in a status recorded before they were counted.
        #[serde(default)]
        warnings: usize,
    },
    /// Not mapped, and why (its previous outputs, if any, are untouched).
    Failed {
        /// The one-line reason.
        reason: String,
    },
    /// Its outputs were current.
    UpToDate,
}

impl Status {
    /// `ok`, `failed: <reason>` or `skipped: up to date`.
    pub fn label(&self) -> String {
        match self {
            Status::Ok { .. } => "ok".into(),
            Status::Failed { reason } => format!("failed: {reason}"),
            Status::UpToDate => "skipped: up to date".into(),
        }
    }
}

/// A unit's status, as the participant step records it in `logs/status/<unit>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitStatus {
    /// `sub-01` or `sub-01_ses-1`.
    pub unit: String,
    /// Subject label.
    pub subject: String,
    /// Session label.
    pub session: Option<String>,
    /// How it ended.
    #[serde(flatten)]
    pub status: Status,
    /// Wall time (s).
    pub seconds: f64,
}

/// What a participant-level run did, unit by unit.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every unit of this shard, in order.
    pub units: Vec<UnitStatus>,
}

impl Outcome {
    /// The units that failed.
    pub fn failed(&self) -> Vec<&UnitStatus> {
        self.units.iter().filter(|u| matches!(u.status, Status::Failed { .. })).collect()
    }

    /// Whether nothing was done because everything was current.
    pub fn all_current(&self) -> bool {
        self.units.iter().all(|u| u.status == Status::UpToDate)
    }

    /// The status table (TSV: unit, status, seconds).
    pub fn table(&self) -> String {
        let mut s = String::from("unit\tstatus\tseconds\n");
        for u in &self.units {
            s.push_str(&format!("{}\t{}\t{:.2}\n", u.unit, crate::regions::cell(&u.status.label()), u.seconds));
        }
        s
    }
}

/// What a participant run reports as it goes (progress is the caller's business).
pub trait CohortObserver: Sync {
    /// The units this run will look at, in order.
    fn planned(&self, _units: &[String]) {}
    /// A unit starts.
    fn started(&self, _unit: &str) {}
    /// A unit enters a stage of its run.
    fn stage(&self, _unit: &str, _stage: &str) {}
    /// A unit ended.
    fn finished(&self, _status: &UnitStatus) {}
}

/// A cohort observer that ignores everything.
pub struct Quiet;
impl CohortObserver for Quiet {}

/// Passes a unit's pipeline stages on to the cohort observer, and records each output as it
/// is written (for the provenance record).
struct UnitStages<'a> {
    unit: &'a str,
    obs: &'a dyn CohortObserver,
    written: Mutex<Vec<FileRecord>>,
}

impl Observer for UnitStages<'_> {
    fn stage(&self, name: &str) {
        self.obs.stage(self.unit, name);
    }

    fn output(&self, name: &str, bytes: &[u8]) {
        let record = FileRecord::written(name, bytes);
        self.written.lock().unwrap_or_else(|e| e.into_inner()).push(record);
    }
}

/// Finds this shard's units, maps those not current, and records every unit's status.
///
/// # Errors
/// Only for the cohort as a whole: the source cannot be read, the output folder cannot be
/// written. A unit's own failure is its [`Status::Failed`].
pub fn participant(cfg: &ParticipantConfig, obs: &dyn CohortObserver) -> Result<Outcome> {
    let units: Vec<Unit> = match &cfg.source {
        Source::Bids(layout) => discover::bids_units(layout, &cfg.selection)?,
        Source::Manifest { path, labels } => discover::manifest_units(path, &cfg.selection, labels.as_deref())?,
    }
    .into_iter()
    .enumerate()
    .filter(|(k, _)| cfg.shard.map_or(true, |s| s.takes(*k)))
    .map(|(_, u)| u)
    .collect();
    std::fs::create_dir_all(&cfg.out).map_err(|e| Error::io(&cfg.out, e))?;
    for dir in [cfg.out.clone(), cfg.out.join("logs"), cfg.out.join("logs").join("status")] {
        publish::sweep(&dir);
    }
    write_description(cfg)?;
    obs.planned(&units.iter().map(Unit::key).collect::<Vec<_>>());
    let need: Vec<u64> = units
        .iter()
        .map(|u| {
            u.inputs.as_ref().ok().and_then(|i| schedule::estimate(&i.scan, &i.atlas)).unwrap_or(schedule::BASE_BYTES)
        })
        .collect();
    schedule::reuse_freed_memory();
    let order = schedule::largest_first(&need);
    let need_in_order: Vec<u64> = order.iter().map(|&k| need[k]).collect();
    let statuses = schedule::run_all(&order, &need_in_order, cfg.jobs, cfg.max_memory, |&k| {
        let unit = &units[k];
        let start = Instant::now();
        obs.started(&unit.key());
        let status = if need[k] > cfg.max_memory {
            Status::Failed {
                reason: format!(
                    "needs about {} of memory, more than --max-memory {}",
                    schedule::show_size(need[k]),
                    schedule::show_size(cfg.max_memory)
                ),
            }
        } else {
            map_unit(cfg, unit, obs).unwrap_or_else(|e| Status::Failed { reason: one_line(&e) })
        };
        let s = UnitStatus {
            unit: unit.key(),
            subject: unit.subject.clone(),
            session: unit.session.clone(),
            status,
            seconds: start.elapsed().as_secs_f64(),
        };
        let _ = record_status(&cfg.out, &s);
        obs.finished(&s);
        (k, s)
    });
    Ok(Outcome { units: schedule::in_unit_order(statuses) })
}

fn one_line(e: &Error) -> String {
    e.to_string().replace('\n', " ")
}

/// `logs/status/<unit>.json`: the unit's latest status, for the group step.
fn record_status(out: &Path, s: &UnitStatus) -> Result<()> {
    let json =
        serde_json::to_string_pretty(s).map_err(|e| Error::Output { path: out.into(), message: e.to_string() })?;
    publish::write_file(&status_path(out, &s.unit), json.as_bytes())
}

/// Where a unit's latest status is kept.
pub fn status_path(out: &Path, unit: &str) -> PathBuf {
    out.join("logs").join("status").join(format!("{unit}.json"))
}

/// The provenance record's path inside a unit's folder.
pub fn provenance_name(unit: &Unit) -> String {
    format!("anat/{}_desc-crmomap_provenance.json", unit.key())
}

/// Maps one unit into a fresh folder and swaps it in, unless its outputs are current.
fn map_unit(cfg: &ParticipantConfig, unit: &Unit, obs: &dyn CohortObserver) -> Result<Status> {
    let inputs = match &unit.inputs {
        Ok(i) => i,
        Err(reason) => return Ok(Status::Failed { reason: reason.clone() }),
    };
    let dest = cfg.out.join(unit.rel_dir());
    publish::recover(&dest)?;
    if !cfg.overwrite && is_current(cfg, unit, inputs, &dest)? {
        return Ok(Status::UpToDate);
    }
    let new = publish::fresh_dir(&dest)?;
    let result = write_unit(cfg, unit, inputs, &new, obs);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&new);
    }
    let (lesions, warnings) = result?;
    if let Err(e) = publish::swap_in(&new, &dest) {
        let _ = std::fs::remove_dir_all(&new);
        return Err(e);
    }
    Ok(Status::Ok { lesions, warnings })
}

/// Whether the unit's outputs in `dest` are current: its inputs are hashed only when it has
/// a provenance record to compare with.
///
/// # Errors
/// [`Error::Io`] when an input cannot be read.
fn is_current(cfg: &ParticipantConfig, unit: &Unit, inputs: &Inputs, dest: &Path) -> Result<bool> {
    let own = provenance_name(unit);
    let Some(previous) = Provenance::read(&dest.join(&own)) else { return Ok(false) };
    let basis = Basis::of(inputs, &cfg.params, cfg.staging.as_deref())?;
    Ok(previous.is_current(dest, &basis, &own))
}

/// Runs the pipeline into `new` under BIDS names, adds the sidecars and the provenance record
/// (the scan and atlas digests the run computed as it read them; each output hashed from the
/// bytes written). Returns the lesions found and the warnings about the inputs.
fn write_unit(
    cfg: &ParticipantConfig,
    unit: &Unit,
    inputs: &Inputs,
    new: &Path,
    obs: &dyn CohortObserver,
) -> Result<(usize, usize)> {
    let key = unit.key();
    let run = RunConfig {
        scan: inputs.scan.clone(),
        atlas: inputs.atlas.clone(),
        labels: inputs.labels.clone(),
        out: new.to_path_buf(),
        params: cfg.params.clone(),
        staging: cfg.staging.clone(),
        names: OutputNames::Bids { prefix: key.clone() },
    };
    let stages = UnitStages { unit: &key, obs, written: Mutex::new(Vec::new()) };
    let report = pipeline::run(&run, &stages)?;
    let mut written = stages.written.into_inner().unwrap_or_else(|e| e.into_inner());
    for (desc, what) in [("lesions", "Lesion ids (crmo-map)"), ("regions", "Regions the detector analysed (crmo-map)")]
    {
        let sidecar = serde_json::json!({
            "Description": what,
            "Sources": [format!("bids:raw:{}", source_name(cfg, inputs))],
            "SkullStripped": false,
        });
        let name = format!("anat/{key}_desc-{desc}_dseg.json");
        let text = format!("{sidecar:#}\n");
        publish::write_file(&new.join(&name), text.as_bytes())?;
        written.push(FileRecord::written(&name, text.as_bytes()));
    }
    let read = ReadDigests { scan: &report.input.scan_sha256, atlas: &report.input.atlas_sha256 };
    let basis = Basis::as_read(inputs, &cfg.params, cfg.staging.as_deref(), read)?;
    let record = Provenance::of_written(new, basis, written)?;
    let json = serde_json::to_string_pretty(&record)
        .map_err(|e| Error::Output { path: new.into(), message: e.to_string() })?;
    publish::write_file(&new.join(provenance_name(unit)), json.as_bytes())?;
    Ok((report.summary.lesion_count, report.input.warnings.len()))
}

/// The scan's path as a BIDS URI would name it: relative to the dataset when it is inside.
fn source_name(cfg: &ParticipantConfig, inputs: &Inputs) -> String {
    let base = match &cfg.source {
        Source::Bids(l) => l.dir.as_path(),
        Source::Manifest { .. } => Path::new(""),
    };
    inputs.scan.strip_prefix(base).unwrap_or(&inputs.scan).display().to_string()
}

/// `dataset_description.json` of the derivative.
fn write_description(cfg: &ParticipantConfig) -> Result<()> {
    let source = match &cfg.source {
        Source::Bids(l) => &l.dir,
        Source::Manifest { path, .. } => path,
    };
    let source = format!("file://{}", std::fs::canonicalize(source).unwrap_or(source.clone()).display());
    let d = serde_json::json!({
        "Name": "crmo-map bone-lesion maps",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": [{
            "Name": env!("CARGO_PKG_NAME"),
            "Version": env!("CARGO_PKG_VERSION"),
            "Description": format!("command: {}", cfg.command),
        }],
        "SourceDatasets": [{ "URL": source }],
    });
    publish::write_file(&cfg.out.join("dataset_description.json"), format!("{d:#}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_units_without_overlap() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard::parse(&format!("{i}/3")).unwrap()).collect();
        for k in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.takes(k)).count(), 1);
        }
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slurm_array_variables_give_the_shard() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(Shard::from_slurm(env(&[])).unwrap(), None);
        let s = Shard::from_slurm(env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]));
        assert_eq!(s.unwrap(), Some(Shard { index: 2, count: 4 }));
        assert!(Shard::from_slurm(env(&[("SLURM_ARRAY_TASK_ID", "3")])).is_err());
        assert!(Shard::from_slurm(env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4")
        ]))
        .is_err());
    }
}
