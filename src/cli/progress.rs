//! The single-scan commands' progress on stderr.

use crmo_map::pipeline::Observer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress on stderr: a spinner naming the stage, drawn only on a terminal; with `--timings`,
/// the stages' wall times when the command ends.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Stage names and start times, kept only with `--timings`.
    stages: Option<Mutex<Vec<(String, Instant)>>>,
}

impl Progress {
    pub fn new(quiet: bool, timings: bool) -> Progress {
        let stages = timings.then(|| Mutex::new(Vec::new()));
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None, stages };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("valid template"));
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar: Some(bar), stages }
    }

    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    /// Prints each stage's wall time (once; later calls print nothing).
    pub fn print_timings(&self) {
        let Some(stages) = &self.stages else { return };
        let stages = std::mem::take(&mut *stages.lock().unwrap_or_else(|e| e.into_inner()));
        let Some(first) = stages.first().map(|s| s.1) else { return };
        let end = Instant::now();
        for (i, (name, start)) in stages.iter().enumerate() {
            let stop = stages.get(i + 1).map_or(end, |s| s.1);
            eprintln!("timing: {:>8.3} s  {name}", (stop - *start).as_secs_f64());
        }
        eprintln!("timing: {:>8.3} s  total", (end - first).as_secs_f64());
    }
}

impl Observer for Progress {
    fn stage(&self, name: &str) {
        if let Some(s) = &self.stages {
            s.lock().unwrap_or_else(|e| e.into_inner()).push((name.to_string(), Instant::now()));
        }
        if let Some(b) = &self.bar {
            b.set_message(name.to_string());
        }
    }
}
