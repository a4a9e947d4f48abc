//! `crmo-map evaluate --readers`: the detector and the readers scored against each other on
//! real scans ([`super::dataset`] for the inputs, [`super::readers`] for the rules).
//!
//! Per subject (subjects run in parallel on the rayon pool; each sij-stir scan holds about
//! 40 MB in memory while it is evaluated): the reader masks are read and checked to share one
//! grid; the detector runs once with the parameters given (`OUT/runs/<subject>/`, as `crmo-map
//! run` writes it) and its lesion map is scored against every reader; the reader pairs are
//! scored both ways. For the FROC the scan and atlas are loaded once more and kept in memory,
//! and [`pipeline::analyse`] runs at every operating point ([`super::froc`]). A subject whose
//! inputs fail is listed with its error and the others go on.

use super::dataset::{self, Subject};
use super::froc::{self, Froc, FrocPoint};
use super::interval;
use super::marrow_check::{self, MarrowCheck};
use super::readers::{self, Agreement, PairScore, Rules};
use crate::error::{Error, Result};
use crate::io;
use crate::labels::LabelTable;
use crate::parcellate;
use crate::pipeline::{self, Observer, Params, RunConfig, Silent};
use crate::reference::BoneSamples;
use crate::volume::{Grid, Volume};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Under the agreement table: what its intervals assume.
const CI_NOTE: &str = "95% CI: Wilson for sensitivity, exact Poisson for FP/scan; both take lesions as independent, \
                       so with few subjects read them as the least uncertainty.\n";

/// Under the subject table, when it has a `marrow/ref` column.
const MARROW_NOTE: &str = "marrow/ref: the detector's normal-marrow level over the median of the readers' \
                           normal-marrow region (the same voxels; 1 when the two references agree).\n";

/// What to evaluate and how.
#[derive(Clone, Debug)]
pub struct ReaderConfig {
    /// A dataset folder or manifest ([`dataset::read_dataset`]).
    pub dataset: PathBuf,
    /// Label table for every atlas (`None`: names from each atlas's header).
    pub labels: Option<PathBuf>,
    /// Output folder (each detector run goes to `out/runs/<subject>/`).
    pub out: PathBuf,
    /// Detector parameters: the default operating point.
    pub params: Params,
    /// Matching rules.
    pub rules: Rules,
    /// Score the readers only: no detector run, no FROC.
    pub readers_only: bool,
    /// FROC values of the swept parameter instead of [`froc::operating_points`]'s.
    pub froc_values: Option<Vec<f64>>,
}

/// One comparison on one subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pair {
    /// `detector` or a reader.
    pub tested: String,
    /// The reader taken as truth.
    pub truth: String,
    /// The scores.
    #[serde(flatten)]
    pub score: PairScore,
}

/// One subject's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubjectResult {
    /// Subject name.
    pub name: String,
    /// Readers with masks.
    pub readers: Vec<String>,
    /// Lesions the detector reported (None with `--readers-only`).
    pub detector_lesions: Option<usize>,
    /// Every comparison, detector rows first.
    pub pairs: Vec<Pair>,
    /// The detector's marrow level against the readers' normal-marrow region (local detector,
    /// when the dataset gives the region).
    pub marrow_check: Option<MarrowCheck>,
    /// Per FROC point (same order as the sweep), the detector against each reader.
    #[serde(skip)]
    pub froc: Vec<Vec<Pair>>,
}

/// A subject without reader masks: run, not scored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unscored {
    /// Subject name.
    pub name: String,
    /// Lesions the detector reported (None with `--readers-only`).
    pub detector_lesions: Option<usize>,
    /// As [`SubjectResult::marrow_check`].
    pub marrow_check: Option<MarrowCheck>,
}

/// The detector settings, as `evaluation.json` records them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectorSettings {
    /// `local` or `global`.
    pub method: String,
    /// The swept parameter and its default value.
    pub operating_parameter: String,
    /// Its value in the table's detector rows.
    pub operating_value: f64,
    /// Local detector seed ratio (to the region's normal marrow).
    pub seed_ratio: f64,
    /// Local detector grow ratio.
    pub grow_ratio: f64,
    /// Global detector z.
    pub z_threshold: f64,
    /// The detector's own minimum lesion volume.
    pub min_volume_mm3: f64,
    /// Local detector: foci at normal-variant sites under this size (mm, in plane) are set
    /// aside as equivocal, not lesions.
    pub variant_focus_mm: f64,
}

/// The whole evaluation (`evaluation.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReaderEvaluation {
    /// The dataset as given.
    pub dataset: String,
    /// Readers seen, in order.
    pub readers: Vec<String>,
    /// The matching rules.
    pub rules: Rules,
    /// The detector's settings (None with `--readers-only`).
    pub detector: Option<DetectorSettings>,
    /// The table: detector vs each reader, then every reader pair.
    pub agreements: Vec<Agreement>,
    /// Per scored subject.
    pub subjects: Vec<SubjectResult>,
    /// Subjects without masks.
    pub unscored: Vec<Unscored>,
    /// Subjects whose evaluation failed, with the error.
    pub failures: Vec<(String, String)>,
    /// The FROC (None with `--readers-only`).
    pub froc: Option<Froc>,
}

/// Binary masks of each reader's sessions, on one grid.
struct Masks {
    grid: Grid,
    readers: Vec<(String, Vec<Vec<bool>>)>,
}

/// Reads every reader mask of `s`; each must lie on the scan's grid (so a mismatch names the
/// mask at fault, whichever it is).
fn read_masks(s: &Subject) -> Result<Option<Masks>> {
    if s.readers.is_empty() {
        return Ok(None);
    }
    let grid = io::read_grid(&s.scan)?;
    let mut readers = Vec::new();
    for r in &s.readers {
        let mut sessions = Vec::new();
        for (_, path) in &r.sessions {
            sessions.push(dataset::read_mask(path, &grid, &s.scan)?);
        }
        readers.push((r.reader.clone(), sessions));
    }
    Ok(Some(Masks { grid, readers }))
}

/// `tested` against every reader in `masks` (except `skip`, the tested reader itself).
fn against_readers(tested_name: &str, tested: &[bool], masks: &Masks, rules: &Rules) -> Vec<Pair> {
    let vv = masks.grid.affine.voxel_volume_mm3();
    masks
        .readers
        .iter()
        .filter(|(r, _)| r != tested_name)
        .map(|(r, sessions)| {
            let refs: Vec<&[bool]> = sessions.iter().map(Vec::as_slice).collect();
            Pair {
                tested: tested_name.into(),
                truth: r.clone(),
                score: readers::compare(&refs, tested, masks.grid.dims, vv, rules),
            }
        })
        .collect()
}

/// The scan, the atlas on its grid in final labels (parcellated as `run` does), the table
/// and the sub-region origins: what [`pipeline::analyse`] needs.
struct Prepared {
    scan: Volume<f32>,
    atlas: Volume<u16>,
    table: LabelTable,
    bone_label: Option<BTreeMap<u32, String>>,
    samples: BoneSamples,
}

fn prepare(cfg: &RunConfig) -> Result<Prepared> {
    let given = cfg.labels.as_deref().map(LabelTable::read).transpose()?;
    let scan = io::read_scan(&cfg.scan)?.volume;
    let (atlas, table) = if cfg.atlas.is_dir() {
        let (a, table) = pipeline::read_mask_atlas(cfg, given)?;
        (a.volume, table)
    } else {
        let a = io::read_labels(&cfg.atlas)?;
        let table = match given {
            Some(t) => t,
            None => pipeline::table_from_header(&a.extensions, cfg)?,
        };
        (a.volume, table)
    };
    let (mut atlas, _, _) = pipeline::bone_atlas_on_grid(atlas, &table, &scan.grid, cfg)?;
    let (table, bone_label) = match cfg.params.parcellate.then(|| parcellate::parcellate(&atlas, &table)).flatten() {
        Some(p) => {
            pipeline::require_labelled(&p, &cfg.atlas)?;
            p.apply(&mut atlas);
            (p.table, Some(p.bone_label))
        }
        None => (table, None),
    };
    let samples = BoneSamples::gather(&scan.data, &atlas.data);
    pipeline::check_labels(&samples.hist, &table, cfg)?;
    Ok(Prepared { scan, atlas, table, bone_label, samples })
}

fn evaluate_subject(s: &Subject, cfg: &ReaderConfig, sweep: &[f64], obs: &dyn Observer) -> Result<SubjectResult> {
    obs.stage(&format!("evaluating {}", s.name));
    let masks = read_masks(s)?;
    let mut pairs = Vec::new();
    let mut detector_lesions = None;
    let mut froc = Vec::new();
    let mut marrow_check = None;
    if !cfg.readers_only {
        let run = RunConfig {
            scan: s.scan.clone(),
            atlas: s.atlas.clone(),
            labels: cfg.labels.clone(),
            out: run_folder(&cfg.out, &s.name),
            params: cfg.params.clone(),
            staging: None,
            names: Default::default(),
        };
        let (report, map) = pipeline::run_with_map(&run, &Silent)?;
        detector_lesions = Some(report.lesions.len());
        let reference = s.normal_marrow.as_deref().zip(report.marrow.as_ref());
        let prep = (masks.is_some() || reference.is_some()).then(|| prepare(&run)).transpose()?;
        if let (Some((path, marrow)), Some(prep)) = (reference, &prep) {
            let mask = dataset::read_mask(path, &prep.scan.grid, &s.scan)?;
            marrow_check = marrow_check::check(&mask, &prep.scan, &prep.atlas, marrow);
        }
        if let (Some(m), Some(prep)) = (&masks, &prep) {
            if !m.grid.same_as(&map.grid) {
                // The masks were checked against the scan's header: the file changed meanwhile.
                return Err(Error::Dataset {
                    path: s.scan.clone(),
                    message: format!(
                        "the scan's grid {:?} changed during the run (its masks lie on {:?})",
                        map.grid.dims, m.grid.dims
                    ),
                });
            }
            let found: Vec<bool> = map.data.iter().map(|&l| l != 0).collect();
            pairs.extend(against_readers("detector", &found, m, &cfg.rules));
            froc = froc_pairs(s, cfg, sweep, prep, m)?;
        }
    }
    if let Some(m) = &masks {
        for (tested, sessions) in &m.readers {
            pairs.extend(against_readers(tested, &sessions[0], m, &cfg.rules));
        }
    }
    let readers = masks.map(|m| m.readers.into_iter().map(|r| r.0).collect()).unwrap_or_default();
    Ok(SubjectResult { name: s.name.clone(), readers, detector_lesions, pairs, marrow_check, froc })
}

/// The detector at each FROC value of `sweep` on the prepared subject, against every reader.
fn froc_pairs(s: &Subject, cfg: &ReaderConfig, sweep: &[f64], prep: &Prepared, m: &Masks) -> Result<Vec<Vec<Pair>>> {
    let mut froc = Vec::new();
    for &v in sweep {
        let p = froc::at_operating_point(&cfg.params, v);
        p.validate()?;
        let an = pipeline::analyse(
            &prep.scan,
            &prep.atlas,
            &prep.table,
            prep.bone_label.as_ref(),
            &prep.samples,
            &p,
            pipeline::Sources { scan: &s.scan, atlas: &s.atlas },
            &Silent,
        )?;
        let found: Vec<bool> = an.lesion_map.data.iter().map(|&l| l != 0).collect();
        froc.push(against_readers("detector", &found, m, &cfg.rules));
    }
    Ok(froc)
}

/// Order of the table's rows: detector vs each reader, then for each truth reader the others.
fn row_order(readers: &[String], detector: bool) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if detector {
        rows.extend(readers.iter().map(|r| ("detector".to_string(), r.clone())));
    }
    for t in readers {
        rows.extend(readers.iter().filter(|q| *q != t).map(|q| (q.clone(), t.clone())));
    }
    rows
}

fn totals(
    subjects: &[SubjectResult],
    rows: &[(String, String)],
    pick: impl Fn(&SubjectResult) -> &[Pair],
) -> Vec<Agreement> {
    rows.iter()
        .map(|(tested, truth)| {
            let scores: Vec<&PairScore> = subjects
                .iter()
                .flat_map(|s| pick(s).iter())
                .filter(|p| &p.tested == tested && &p.truth == truth)
                .map(|p| &p.score)
                .collect();
            Agreement::of(tested, truth, &scores)
        })
        .collect()
}

/// Checks the scoring rules' ranges; messages name the command-line flag.
fn check_rules(r: &Rules) -> Result<()> {
    if !(r.found_fraction > 0.0 && r.found_fraction <= 1.0) {
        return Err(Error::Parameter(format!("--found-fraction must be in (0, 1], got {}", r.found_fraction)));
    }
    if !(r.min_volume_mm3 >= 0.0 && r.fp_min_volume_mm3 >= 0.0) {
        return Err(Error::Parameter("--truth-min-volume-mm3 and --fp-min-volume-mm3 must be >= 0".into()));
    }
    Ok(())
}

/// The detector's swept parameter and its FROC values: the default sweep, or the values
/// asked for with the current value added, sorted; none with `readers_only`.
///
/// # Errors
/// A value that makes invalid settings.
fn sweep_values(cfg: &ReaderConfig) -> Result<(&'static str, Vec<f64>)> {
    let (parameter, mut sweep) = froc::operating_points(&cfg.params);
    if let Some(v) = &cfg.froc_values {
        sweep = v.clone();
        sweep.push(froc::current_value(&cfg.params));
        sweep.sort_by(f64::total_cmp);
        sweep.dedup();
    }
    if cfg.readers_only {
        sweep.clear();
    }
    for &v in &sweep {
        froc::at_operating_point(&cfg.params, v).validate()?;
    }
    Ok((parameter, sweep))
}

/// Runs the evaluation; the caller writes [`ReaderEvaluation::to_json`], [`ReaderEvaluation::table`],
/// the FROC table and plot.
///
/// # Errors
/// Errors of reading the dataset, bad parameters or FROC values; a subject's own failure is
/// recorded in `failures` instead.
pub fn evaluate_readers(cfg: &ReaderConfig, obs: &dyn Observer) -> Result<ReaderEvaluation> {
    cfg.params.validate()?;
    check_rules(&cfg.rules)?;
    let subjects = dataset::read_dataset(&cfg.dataset)?;
    let (parameter, sweep) = sweep_values(cfg)?;
    let results: Vec<(String, Result<SubjectResult>)> =
        subjects.par_iter().map(|s| (s.name.clone(), evaluate_subject(s, cfg, &sweep, obs))).collect();
    let (mut scored, mut unscored, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (name, res) in results {
        match res {
            Ok(s) if s.readers.is_empty() => {
                unscored.push(Unscored { name, detector_lesions: s.detector_lesions, marrow_check: s.marrow_check })
            }
            Ok(s) => scored.push(s),
            Err(e) => failures.push((name, e.to_string())),
        }
    }
    if scored.is_empty() && unscored.is_empty() {
        return Err(super::suite::every_one_failed(&cfg.dataset, &failures, "subject"));
    }
    let mut readers: Vec<String> = scored.iter().flat_map(|s| s.readers.clone()).collect();
    readers.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    readers.dedup();
    let detector = !cfg.readers_only;
    let agreements = totals(&scored, &row_order(&readers, detector), |s| &s.pairs);
    let current = froc::current_value(&cfg.params);
    let froc = detector.then(|| Froc {
        parameter: parameter.into(),
        points: sweep
            .iter()
            .enumerate()
            .map(|(i, &value)| FrocPoint {
                value,
                default: value == current,
                agreements: totals(&scored, &row_order(&readers, true)[..readers.len()], |s| &s.froc[i]),
            })
            .collect(),
    });
    let p = &cfg.params;
    Ok(ReaderEvaluation {
        dataset: cfg.dataset.display().to_string(),
        readers,
        rules: cfg.rules,
        detector: detector.then(|| DetectorSettings {
            method: p.method.as_str().into(),
            operating_parameter: parameter.into(),
            operating_value: current,
            seed_ratio: p.local.seed_ratio,
            grow_ratio: p.local.grow_ratio,
            z_threshold: p.z_threshold,
            min_volume_mm3: p.min_volume_mm3,
            variant_focus_mm: p.local.variant_focus_mm,
        }),
        agreements,
        subjects: scored,
        unscored,
        failures,
        froc,
    })
}

fn f3(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.3}")
    }
}

impl ReaderEvaluation {
    /// `froc_subjects.tsv` ([`froc::subjects_tsv`]): the FROC scan by scan; `None` without a
    /// detector.
    pub fn froc_subjects_tsv(&self) -> Option<String> {
        let subjects: Vec<(&str, &[Vec<Pair>])> =
            self.subjects.iter().map(|s| (s.name.as_str(), s.froc.as_slice())).collect();
        self.froc.as_ref().map(|f| froc::subjects_tsv(f, &subjects))
    }

    /// `evaluation.json` text.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("evaluation serialises");
        s.push('\n');
        s
    }

    /// `evaluation.txt`: the rules, the agreement table, the per-subject table, unscored
    /// subjects and failures.
    pub fn table(&self) -> String {
        let mut s = self.rules_line();
        if let Some(d) = &self.detector {
            s.push_str(&format!("Detector: {} at {} = {}.\n", d.method, d.operating_parameter, d.operating_value));
        }
        s.push_str(&self.agreement_table());
        s.push_str(&self.subject_table());
        s
    }

    /// What was scored and by which rules.
    fn rules_line(&self) -> String {
        let r = &self.rules;
        format!(
            "{} subject(s) scored, {} run only, {} failed. Truth lesions: {}-connected components of the truth \
             reader's first session >= {} mm3; found: >= {}% of a lesion's voxels in the tested mask; FP: a tested \
             component >= {} mm3 touching none of the truth reader's sessions; Dice against the first session.\n",
            self.subjects.len(),
            self.unscored.len(),
            self.failures.len(),
            r.connectivity.count(),
            r.min_volume_mm3,
            r.found_fraction * 100.0,
            r.fp_min_volume_mm3,
        )
    }

    /// One row per comparison (tested against truth), over all subjects.
    fn agreement_table(&self) -> String {
        let row = |cells: [String; 12]| {
            let [a, b, c, d, e, f, g, h, i, j, k, l] = cells;
            format!("{a:<16} {b:>8} {c:>7} {d:>5} {e:>11} {f:>11} {g:>4} {h:>7} {i:>11} {j:>9} {k:>10} {l:>11}\n")
        };
        let head = [
            "comparison",
            "subjects",
            "lesions",
            "found",
            "sensitivity",
            "(95% CI)",
            "FP",
            "FP/scan",
            "(95% CI)",
            "Dice mean",
            "Dice range",
            "Dice pooled",
        ];
        let mut s = "\n".to_string() + &row(head.map(String::from));
        for a in &self.agreements {
            let per_scan = a.false_positives_per_scan;
            s.push_str(&row([
                a.name(),
                a.subjects.to_string(),
                a.lesions.to_string(),
                a.found.to_string(),
                f3(a.sensitivity),
                interval::format(a.sensitivity_ci95, 3),
                a.false_positives.to_string(),
                if per_scan.is_nan() { "-".into() } else { format!("{per_scan:.2}") },
                interval::format(a.false_positives_per_scan_ci95, 2),
                f3(a.dice_mean),
                if a.dice_min.is_nan() { "-".into() } else { format!("{:.2}-{:.2}", a.dice_min, a.dice_max) },
                f3(a.dice_pooled),
            ]));
        }
        s.push_str(CI_NOTE);
        s
    }

    /// Per subject, one cell per comparison (found/lesions, false positives, Dice), then the
    /// subjects run only and the failures.
    fn subject_table(&self) -> String {
        const CELL: usize = 18;
        let mut s =
            format!("\nper subject: found/lesions FP Dice\n{:<12} {:>9} {:>10}", "subject", "det. les.", "marrow/ref");
        for a in &self.agreements {
            s.push_str(&format!(" | {:^CELL$}", a.name()));
        }
        s.push('\n');
        let lead = |name: &str, lesions: Option<usize>, check: &Option<MarrowCheck>| {
            let det = lesions.map_or("-".into(), |n| n.to_string());
            let ratio = check.as_ref().map_or("-".into(), |c| format!("{:.2}", c.ratio));
            format!("{name:<12} {det:>9} {ratio:>10}")
        };
        for sub in &self.subjects {
            s.push_str(&lead(&sub.name, sub.detector_lesions, &sub.marrow_check));
            for a in &self.agreements {
                let cell = match sub.pairs.iter().find(|p| p.tested == a.tested && p.truth == a.truth) {
                    Some(p) => {
                        let sc = &p.score;
                        format!("{:>3}/{:<3} {:>3} {:>6}", sc.found, sc.lesions, sc.false_positives, f3(sc.dice))
                    }
                    None => "-".into(),
                };
                s.push_str(&format!(" | {cell:^CELL$}"));
            }
            s.push('\n');
        }
        for u in &self.unscored {
            s.push_str(&lead(&u.name, u.detector_lesions, &u.marrow_check));
            s.push_str("   (no reader masks: not scored)\n");
        }
        for (name, err) in &self.failures {
            s.push_str(&format!("{name:<12} FAILED: {err}\n"));
        }
        if self.subjects.iter().any(|s| s.marrow_check.is_some())
            || self.unscored.iter().any(|u| u.marrow_check.is_some())
        {
            s.push_str(MARROW_NOTE);
        }
        s
    }

    /// The reader-vs-reader rows (for the FROC plot's reader points).
    pub fn reader_agreements(&self) -> Vec<&Agreement> {
        self.agreements.iter().filter(|a| a.tested != "detector").collect()
    }
}

/// Where the evaluation puts each subject's detector run.
pub fn run_folder(out: &Path, subject: &str) -> PathBuf {
    out.join("runs").join(subject)
}
