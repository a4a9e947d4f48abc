//! The staging configuration: which sub-regions form one bone unit, and the cut-offs of
//! grades whose published values are not verified (`shared/domain.md` marks them
//! `[unverified]`: such numbers live here, never in the code).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The configuration shipped with crmo-map (`crmo-map staging-config` prints it).
pub const DEFAULT_JSON: &str = include_str!("default.json");

/// Largest configuration file read (a staging configuration is a few kB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Vertebral levels that `{level}` stands for in a unit rule.
const LEVELS: [&str; 29] = [
    "C1", "C2", "C3", "C4", "C5", "C6", "C7", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11",
    "T12", "L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5",
];

/// One grouping of regions into a bone unit; `{side}` stands for `left` and `right`,
/// `{level}` for a vertebral level (`C1` ... `S5`), the same value in the unit's name.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRule {
    /// The unit's name.
    pub unit: String,
    /// The region names that belong to it.
    pub regions: Vec<String>,
    /// Where the grouping comes from.
    #[serde(default)]
    pub source: String,
}

/// A grade from a fraction: grade `n` when the fraction is at least `cutoffs[n - 1]` and
/// below `cutoffs[n]` (grade 0 under the first cut-off).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    /// What is graded.
    pub name: String,
    /// Increasing cut-offs in (0, 1].
    pub cutoffs: Vec<f64>,
    /// One label per grade (`cutoffs.len() + 1` of them).
    pub grades: Vec<String>,
    /// Whether the cut-offs were checked against the publication; the report marks a grade
    /// from unverified cut-offs provisional.
    pub verified: bool,
    /// Where the cut-offs come from.
    pub source: String,
}

impl GradeRule {
    /// The grade (0-based) of `fraction`.
    pub fn grade(&self, fraction: f64) -> usize {
        self.cutoffs.iter().take_while(|&&c| fraction >= c).count()
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StagingConfig {
    /// What the file is (free text).
    #[serde(default)]
    pub about: String,
    /// Groupings of regions into bone units.
    pub bone_units: Vec<UnitRule>,
    /// The extent grade of a bone unit (CROMRIS).
    pub extent_grade: GradeRule,
}

impl Default for StagingConfig {
    fn default() -> StagingConfig {
        StagingConfig::parse(DEFAULT_JSON).expect("the shipped staging configuration is valid")
    }
}

impl StagingConfig {
    /// Reads a configuration file (at most [`MAX_CONFIG_BYTES`]); also returns its text.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Limit`] naming the file when it cannot be read, is too large or
    /// binary; [`Error::Parameter`] naming it when it is not a valid configuration.
    pub fn read(path: &Path) -> Result<(StagingConfig, String)> {
        let bad = |m: String| Error::Parameter(format!("--staging-config {}: {m}", path.display()));
        let text = crate::limits::read_text(path, MAX_CONFIG_BYTES, "staging configuration")?;
        let config = StagingConfig::parse(&text).map_err(bad)?;
        Ok((config, text))
    }

    /// Parses and checks a configuration.
    ///
    /// # Errors
    /// A one-line message saying what is wrong.
    pub fn parse(text: &str) -> std::result::Result<StagingConfig, String> {
        let c: StagingConfig = serde_json::from_str(text).map_err(|e| format!("not a staging configuration ({e})"))?;
        let g = &c.extent_grade;
        let increasing = g.cutoffs.windows(2).all(|w| w[0] < w[1]);
        if g.cutoffs.is_empty() || !increasing || g.cutoffs.iter().any(|&x| !(x > 0.0 && x <= 1.0)) {
            return Err(format!("extent_grade.cutoffs must increase within (0, 1], got {:?}", g.cutoffs));
        }
        if g.grades.len() != g.cutoffs.len() + 1 {
            return Err(format!(
                "extent_grade has {} cut-offs, so it needs {} grade labels, got {}",
                g.cutoffs.len(),
                g.cutoffs.len() + 1,
                g.grades.len()
            ));
        }
        if let Some(r) = c.bone_units.iter().find(|r| r.unit.trim().is_empty() || r.regions.is_empty()) {
            return Err(format!("bone unit {:?} needs a name and at least one region", r.unit));
        }
        c.unit_table()?;
        Ok(c)
    }

    /// Region name to unit name, every rule expanded (`{side}`, `{level}`).
    ///
    /// # Errors
    /// A region listed in two units.
    pub fn unit_table(&self) -> std::result::Result<HashMap<String, String>, String> {
        let mut table = HashMap::new();
        for rule in &self.bone_units {
            for (unit, region) in rule.regions.iter().flat_map(|r| expand(&rule.unit, r)) {
                if let Some(other) = table.insert(region.clone(), unit.clone()) {
                    if other != unit {
                        return Err(format!("region {region:?} is in two bone units ({other:?} and {unit:?})"));
                    }
                }
            }
        }
        Ok(table)
    }
}

/// Every (unit, region) that a rule's names stand for.
fn expand(unit: &str, region: &str) -> Vec<(String, String)> {
    let mut out = vec![(unit.to_string(), region.to_string())];
    for (key, values) in [("{side}", &["left", "right"][..]), ("{level}", &LEVELS[..])] {
        if out.iter().any(|(u, r)| u.contains(key) || r.contains(key)) {
            out = out
                .iter()
                .flat_map(|(u, r)| values.iter().map(move |v| (u.replace(key, v), r.replace(key, v))))
                .collect();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_configuration_expands_sides_and_levels() {
        let c = StagingConfig::default();
        assert!(!c.extent_grade.verified);
        let t = c.unit_table().unwrap();
        assert_eq!(t["femur_neck_left"], "femur_proximal_left");
        assert_eq!(t["acetabulum_roof_right"], "acetabulum_right");
        assert_eq!(t["vertebra_T7_posterior_elements"], "vertebra_T7");
        assert_eq!(t["vertebra_S3"], "vertebra_S3");
        assert!(!t.contains_key("femur_shaft_left"));
    }

    #[test]
    fn grades_follow_the_cutoffs() {
        let g = StagingConfig::default().extent_grade;
        assert_eq!([0.0, 0.2499, 0.25, 0.4, 0.5, 1.0].map(|f| g.grade(f)), [0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(DEFAULT_JSON).unwrap();
            f(&mut v);
            StagingConfig::parse(&v.to_string()).unwrap_err()
        };
        assert!(with(&|v| v["extent_grade"]["cutoffs"] = serde_json::json!([0.5, 0.25])).contains("must increase"));
        assert!(with(&|v| v["extent_grade"]["grades"] = serde_json::json!(["a"])).contains("needs 3 grade labels"));
        assert!(with(&|v| v["bone_units"][1]["regions"] = serde_json::json!(["femur_neck_{side}"]))
            .contains("in two bone units"));
        assert!(with(&|v| v["surprise"] = serde_json::json!(1)).contains("unknown field"));
        assert!(StagingConfig::parse("[]").unwrap_err().starts_with("not a staging configuration"));
    }
}
