//! Refusing an output folder whose outputs would overwrite an input.
//!
//! `run` writes `report.json`, `overview.png`, `review.html`, the `review/` folder and files
//! named `lesions.*` and `regions.*` into `--out`. An input at one of those paths (say
//! `--out` is the folder that holds the scan, stored as `lesions.nii.gz`), or `--out` being an
//! input itself, is refused before anything is read or written.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// True when `name` (a path relative to the output folder) is one that `run` may write.
pub fn is_run_output(name: &Path) -> bool {
    let mut parts = name.components();
    let first = parts.next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
    let nested = parts.next().is_some();
    if nested {
        return first == "review";
    }
    matches!(first, "report.json" | "overview.png" | "review.html" | "review")
        || first.starts_with("lesions.")
        || first.starts_with("regions.")
}

/// Where `p` lies: its folder resolved (symbolic links, `..`), its own name kept, so that a
/// link named like an output is compared as the link it is. `None` when the folder does not
/// exist.
fn located(p: &Path) -> Option<PathBuf> {
    let Some(name) = p.file_name() else { return p.canonicalize().ok() };
    let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(parent.canonicalize().ok()?.join(name))
}

/// Checks that writing `run`'s outputs into `out` overwrites none of `inputs`.
///
/// # Errors
/// [`Error::Parameter`] naming the input and `--out` when `out` is an input, or an input lies
/// at a path that `run` writes inside `out`.
pub fn check_outputs_spare_inputs<'a>(out: &Path, inputs: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    // The folder written into, links resolved; one that does not exist holds no input.
    let Some(out_at) = out.canonicalize().ok() else { return Ok(()) };
    for input in inputs {
        let Some(at) = located(input) else { continue };
        let clash = if at == out_at {
            Some("--out is this input itself".to_string())
        } else {
            at.strip_prefix(&out_at).ok().filter(|rel| is_run_output(rel)).map(|rel| {
                format!("the run would overwrite it with its own {} in --out {}", rel.display(), out.display())
            })
        };
        if let Some(why) = clash {
            return Err(Error::Parameter(format!(
                "input {} lies where an output goes: {why}; choose another --out",
                input.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_are_recognised() {
        for yes in ["report.json", "lesions.nii.gz", "lesions.csv", "regions.tsv", "review", "review/app.js"] {
            assert!(is_run_output(Path::new(yes)), "{yes}");
        }
        for no in ["scan.nii.gz", "atlas.nii.gz", "labels.tsv", "input/lesions.nii.gz", "lesions"] {
            assert!(!is_run_output(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn inputs_at_output_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["lesions.nii.gz", "scan.nii.gz"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let clash = d.join("lesions.nii.gz");
        let e = check_outputs_spare_inputs(d, [clash.as_path()]).unwrap_err().to_string();
        assert!(e.contains("lesions.nii.gz") && e.contains("overwrite"), "{e}");
        // The same folder through another spelling.
        let e = check_outputs_spare_inputs(&d.join("."), [clash.as_path()]).unwrap_err().to_string();
        assert!(e.contains("overwrite"), "{e}");
        let e = check_outputs_spare_inputs(&d.join(".."), [d.parent().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("itself"), "{e}");
        let e = check_outputs_spare_inputs(&clash, [clash.as_path()]).unwrap_err().to_string();
        assert!(e.contains("itself"), "{e}");
        assert!(check_outputs_spare_inputs(d, [d.join("scan.nii.gz").as_path()]).is_ok());
        assert!(check_outputs_spare_inputs(&d.join("new"), [clash.as_path()]).is_ok());
    }
}
