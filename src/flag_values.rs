//! The binary's flag value parsers (clap `value_parser`s): each flag's value is checked where
//! it is parsed, so that a value out of range is clap's error with exit 2. Ranges that depend
//! on other flags are checked once after parsing (`check_flags` in `main.rs`).

use crmo_map::phantom;

/// A number, for the flag parsers below.
pub fn number(s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|_| format!("{s:?} is not a number"))
}

pub fn finite(s: &str) -> Result<f64, String> {
    Some(number(s)?).filter(|v| v.is_finite()).ok_or_else(|| "must be a finite number".into())
}

pub fn non_negative(s: &str) -> Result<f64, String> {
    Some(finite(s)?).filter(|v| *v >= 0.0).ok_or_else(|| "must be a finite number >= 0".into())
}

pub fn positive(s: &str) -> Result<f64, String> {
    Some(finite(s)?).filter(|v| *v > 0.0).ok_or_else(|| "must be a finite number > 0".into())
}

/// In [0, 1).
pub fn below_one(s: &str) -> Result<f64, String> {
    Some(non_negative(s)?).filter(|v| *v < 1.0).ok_or_else(|| "must be in [0, 1)".into())
}

/// In (0, 1].
pub fn fraction(s: &str) -> Result<f64, String> {
    Some(positive(s)?).filter(|v| *v <= 1.0).ok_or_else(|| "must be in (0, 1]".into())
}

/// `--scale`: within [`phantom::SCALE_RANGE`].
pub fn parse_scale(s: &str) -> Result<f64, String> {
    let (lo, hi) = phantom::SCALE_RANGE;
    Some(positive(s)?).filter(|v| (lo..=hi).contains(v)).ok_or_else(|| format!("must be from {lo:e} to {hi:e}"))
}

/// `--noise-scale`: from 0 to [`MAX_NOISE_SCALE`].
pub fn parse_noise_scale(s: &str) -> Result<f64, String> {
    Some(non_negative(s)?)
        .filter(|v| *v <= MAX_NOISE_SCALE)
        .ok_or_else(|| format!("must be from 0 to {MAX_NOISE_SCALE}"))
}

/// The largest `--noise-scale`: the hard suite's noisiest phantoms (the last of its sigmas)
/// reach the phantom's largest noise sigma.
pub const MAX_NOISE_SCALE: f64 =
    phantom::MAX_NOISE_SIGMA / phantom::SUITE_NOISE_SIGMAS[phantom::SUITE_NOISE_SIGMAS.len() - 1];

pub fn parse_lesions(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number"))?;
    let max = phantom::MAX_LESIONS;
    Some(n).filter(|n| (1..=max).contains(n)).ok_or_else(|| format!("must be from 1 to {max}"))
}

/// `--count`: a suite of 1 to 10000 phantoms.
pub fn parse_count(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number"))?;
    Some(n).filter(|n| (1..=10_000).contains(n)).ok_or_else(|| "must be from 1 to 10000".into())
}

/// `--threads`: from 1 to four times the cores (more only adds switching: 2000 threads made
/// a 0.05 s run take 40 s).
pub fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number"))?;
    let max = 4 * std::thread::available_parallelism().map_or(1, |c| c.get());
    Some(n).filter(|n| (1..=max).contains(n)).ok_or_else(|| format!("must be from 1 to {max} (4 times the cores)"))
}
