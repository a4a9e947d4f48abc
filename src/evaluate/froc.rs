//! The detector's operating points and the FROC table.
//!
//! The FROC reruns the detector at several values of its main threshold and scores each run
//! against every reader. Which parameter is swept, and how the others follow it, lives in the
//! two functions below and nowhere else: when the detector changes, re-point them.

use super::readers::Agreement;
use crate::detect::Method;
use crate::pipeline::Params;
use serde::Serialize;

/// The swept parameter's name and its values (ascending, the base's own value included):
/// `seed_ratio` for the local detector, `z_threshold` for the global one.
pub fn operating_points(base: &Params) -> (&'static str, Vec<f64>) {
    let (name, current, mut values) = match base.method {
        Method::Local => ("seed_ratio", base.local.seed_ratio, vec![1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.4, 3.0]),
        Method::Global => ("z_threshold", base.z_threshold, vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 9.0]),
    };
    values.push(current);
    values.sort_by(f64::total_cmp);
    values.dedup();
    (name, values)
}

/// `base` with the swept parameter set to `v`. The local detector's `grow_ratio` stays as it
/// is unless the seed ratio goes below it, where it follows (grow <= seed stays valid).
pub fn at_operating_point(base: &Params, v: f64) -> Params {
    let mut p = base.clone();
    match base.method {
        Method::Local => {
            p.local.seed_ratio = v;
            p.local.grow_ratio = base.local.grow_ratio.min(v);
        }
        Method::Global => p.z_threshold = v,
    }
    p
}

/// The base's own value of the swept parameter.
pub fn current_value(base: &Params) -> f64 {
    match base.method {
        Method::Local => base.local.seed_ratio,
        Method::Global => base.z_threshold,
    }
}

/// One operating point: the detector against every reader.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrocPoint {
    /// Value of the swept parameter.
    pub value: f64,
    /// The detector's parameters as given (the default operating point).
    pub default: bool,
    /// The detector against each reader (`tested` = `detector`), in reader order.
    pub agreements: Vec<Agreement>,
}

/// The whole sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Froc {
    /// The swept parameter (`seed_ratio`, `z_threshold`).
    pub parameter: String,
    /// Points in ascending value.
    pub points: Vec<FrocPoint>,
}

fn fmt(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "NA".into()
    } else {
        format!("{v:.digits$}")
    }
}

impl Froc {
    /// `froc.tsv`: one row per value; per reader the sensitivity, false positives per scan,
    /// Dice (mean, pooled) and the counts.
    pub fn to_tsv(&self, readers: &[String]) -> String {
        let mut cols = vec![self.parameter.clone(), "default".into()];
        for r in readers {
            for c in ["sensitivity", "fp_per_scan", "dice_mean", "dice_pooled", "found", "lesions", "false_positives"] {
                cols.push(format!("{c}_{r}"));
            }
        }
        let mut s = cols.join("\t");
        s.push('\n');
        for p in &self.points {
            let mut row = vec![format!("{}", p.value), (p.default as u8).to_string()];
            for r in readers {
                match p.agreements.iter().find(|a| &a.truth == r) {
                    Some(a) => row.extend([
                        fmt(a.sensitivity, 4),
                        fmt(a.false_positives_per_scan, 4),
                        fmt(a.dice_mean, 4),
                        fmt(a.dice_pooled, 4),
                        a.found.to_string(),
                        a.lesions.to_string(),
                        a.false_positives.to_string(),
                    ]),
                    None => row.extend(std::iter::repeat("NA".to_string()).take(7)),
                }
            }
            s.push_str(&row.join("\t"));
            s.push('\n');
        }
        s
    }
}

/// `froc_subjects.tsv`: the FROC scan by scan, one row per value, subject and reader taken as
/// truth (`subjects`: each subject's name and, per point of `froc` in its order, the detector
/// against each reader). Where a pooled false-positive rate comes from, and which scan loses
/// its lesions as the threshold rises, show here.
pub fn subjects_tsv(froc: &Froc, subjects: &[(&str, &[Vec<super::run::Pair>])]) -> String {
    let mut s = format!("{}\tdefault\tsubject\ttruth\tlesions\tfound\tfalse_positives\tdice\n", froc.parameter);
    for (i, p) in froc.points.iter().enumerate() {
        for (name, points) in subjects {
            for pair in points.get(i).into_iter().flatten() {
                let sc = &pair.score;
                s.push_str(&format!(
                    "{}\t{}\t{name}\t{}\t{}\t{}\t{}\t{}\n",
                    p.value,
                    p.default as u8,
                    pair.truth,
                    sc.lesions,
                    sc.found,
                    sc.false_positives,
                    fmt(sc.dice, 4)
                ));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_sweeps_the_seed_ratio_and_grow_follows_only_below_it() {
        let base = Params::default();
        let (name, values) = operating_points(&base);
        assert_eq!(name, "seed_ratio");
        assert!(values.contains(&base.local.seed_ratio) && values.windows(2).all(|w| w[0] < w[1]));
        let p = at_operating_point(&base, 2.4);
        assert_eq!((p.local.seed_ratio, p.local.grow_ratio), (2.4, base.local.grow_ratio));
        let low = at_operating_point(&base, 1.1);
        assert_eq!((low.local.seed_ratio, low.local.grow_ratio), (1.1, 1.1));
        assert!(p.validate().is_ok() && low.validate().is_ok());
        assert_eq!(at_operating_point(&base, base.local.seed_ratio), base);
        assert_eq!(current_value(&p), 2.4);
    }

    #[test]
    fn global_sweeps_z_threshold() {
        let base = Params { method: Method::Global, z_threshold: 6.5, ..Params::default() };
        let (name, values) = operating_points(&base);
        assert_eq!(name, "z_threshold");
        assert!(values.contains(&6.5));
        let p = at_operating_point(&base, 3.0);
        assert_eq!((p.z_threshold, p.local.seed_ratio), (3.0, base.local.seed_ratio));
    }
}
