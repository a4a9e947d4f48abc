//! Each subcommand but `bids` ([`super::bids`]): the library call and what it prints. What a
//! command prints on stdout is returned, so that `main` writes it once at the end.

use super::args::{case, phantom_options, phantom_storage, DemoArgs, EvaluateArgs, PhantomArgs, RunArgs, SuiteArg};
use super::progress::Progress;
use anyhow::Result;
use crmo_map::ccl::Connectivity;
use crmo_map::evaluate::{self, readers::Rules};
use crmo_map::output::OutputSet;
use crmo_map::phantom::{self, Case, PhantomStorage};
use crmo_map::pipeline::{self, Observer, RunConfig};
use crmo_map::report;

/// `run`: maps one scan into `--out`.
pub fn run(a: RunArgs, progress: &Progress, quiet: bool) -> Result<String> {
    let cfg = RunConfig {
        scan: a.scan,
        atlas: a.atlas,
        labels: a.labels,
        out: a.out,
        params: a.detect.params(),
        staging: a.staging_config,
        names: Default::default(),
    };
    let rep = pipeline::run(&cfg, progress)?;
    progress.done();
    warn(&rep);
    if !quiet {
        let aside = match rep.equivocal_foci.len() {
            0 => String::new(),
            n => format!(", {n} equivocal focus/foci at normal-variant sites set aside (report.json)"),
        };
        eprintln!("{} lesion(s){aside}; outputs in {}", rep.summary.lesion_count, cfg.out.display());
    }
    Ok(String::new())
}

/// The report's warnings about its inputs on stderr, `--quiet` or not: they say what the
/// lesions mean, not how far the run has got.
fn warn(rep: &report::Report) {
    for w in &rep.input.warnings {
        eprintln!("crmo-map: warning: {w}");
    }
}

/// `phantom`: generates and writes one phantom.
pub fn phantom(a: PhantomArgs, progress: &Progress) -> Result<String> {
    let storage = phantom_storage(&a);
    progress.stage("generating phantom");
    let ph = phantom::generate(&phantom_options(case(a.case), a.seed, a.lesions, a.spacing.as_deref()))?;
    progress.stage("writing phantom");
    phantom::write_phantom(&ph, &a.out, &storage)?;
    progress.done();
    Ok(String::new())
}

/// `demo`: the founding-case phantom under `DIR/input/`, mapped into `DIR/`; prints the lesions.
pub fn demo(a: DemoArgs, progress: &Progress) -> Result<String> {
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
    let rep = pipeline::run(&cfg, progress)?;
    progress.done();
    warn(&rep);
    Ok(format!("{}outputs: {}\n", report::text_table(&rep), a.out.display()))
}

/// `evaluate --readers`: the detector and the readers scored against each other, with the FROC.
pub fn evaluate_readers(a: EvaluateArgs, progress: &Progress) -> Result<String> {
    let cfg = evaluate::ReaderConfig {
        dataset: a.readers.clone().expect("checked by the caller"),
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
    let ev = evaluate::evaluate_readers(&cfg, progress)?;
    progress.done();
    let mut set = OutputSet::new(&a.out)?;
    set.add("evaluation.json", ev.to_json().as_bytes())?;
    set.add("evaluation.txt", ev.table().as_bytes())?;
    if let Some(froc) = &ev.froc {
        set.add("froc.tsv", froc.to_tsv(&ev.readers).as_bytes())?;
        if let Some(by_subject) = ev.froc_subjects_tsv() {
            set.add("froc_subjects.tsv", by_subject.as_bytes())?;
        }
        let png = evaluate::plot::froc_plot(froc, &ev.readers, &ev.reader_agreements());
        set.add("froc.png", &crmo_map::render::encode_png(&png)?)?;
    }
    set.commit()?;
    Ok(ev.table())
}

/// `evaluate --phantoms` or `--suite`: the detector scored against the phantoms' truth.
pub fn evaluate_phantoms(a: EvaluateArgs, progress: &Progress) -> Result<String> {
    let phantoms = match (&a.phantoms, a.suite) {
        (Some(p), _) => p.clone(),
        (None, Some(suite)) => {
            let mut members = match suite {
                SuiteArg::Basic => evaluate::basic_suite(a.count, a.seed),
                SuiteArg::Hard => evaluate::hard_suite(a.count, a.seed),
            };
            members.iter_mut().for_each(|m| m.storage.atlas_style = a.atlas_style.into());
            evaluate::scale_noise(&mut members, a.noise_scale);
            let dir = a.out.join("phantoms");
            evaluate::write_suite(&members, &dir, progress)?;
            dir
        }
        (None, None) => unreachable!("clap requires --phantoms or --suite"),
    };
    let ev = evaluate::evaluate_folder(&phantoms, &a.out.join("runs"), &a.detect.params(), progress)?;
    progress.done();
    let mut set = OutputSet::new(&a.out)?;
    set.add("evaluation.json", ev.to_json().as_bytes())?;
    set.add("evaluation.txt", ev.table().as_bytes())?;
    set.commit()?;
    Ok(ev.table())
}
