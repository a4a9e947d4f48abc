//! The report's account of a run: what was read (the scan, the atlas and its labels kept or
//! ignored), the detector's settings and the marrow levels it judged by. The pipeline
//! gathers these facts as it goes; they are put into the report's words here.

use super::{Params, RunConfig};
use crate::detect::{LocalFacts, LocalParams, Method};
use crate::error::{Error, Result};
use crate::io::{self, Loaded};
use crate::labels::{BoneOnly, LabelTable};
use crate::report::{InputInfo, Marrow, Parameters, RegionMarrow};
use crate::volume::Grid;
use std::path::Path;

/// SHA-256 of a small file (the label table; scan and atlas are hashed while they are read).
fn sha256_file(path: &Path) -> Result<String> {
    Ok(io::sha256_hex(&std::fs::read(path).map_err(|e| Error::io(path, e))?))
}

/// What the report says about the atlas file besides its labels.
pub(super) struct AtlasFacts {
    pub(super) sha256: String,
    pub(super) grid: Grid,
    pub(super) resampled: bool,
    pub(super) parcellated: Vec<String>,
    /// The atlas's labels on the scan's grid, analysed or ignored as not bone.
    pub(super) bone_only: BoneOnly,
}

/// The report's account of the local detector's references: every region with voxels, with
/// the faintest oedema that can seed a lesion in it on this scan (grid `spacing`, settings `p`).
pub(super) fn marrow_report(
    f: &LocalFacts,
    hist: &[u64],
    table: &LabelTable,
    p: &LocalParams,
    spacing: [f64; 3],
) -> Marrow {
    let regions = (1..hist.len().min(f.refs.len()))
        .filter(|&l| hist[l] > 0)
        .map(|l| RegionMarrow {
            label: l as u32,
            name: table.name(l as u32).unwrap_or_default().to_string(),
            voxels: hist[l],
            marrow: f.refs[l].marrow,
            seed_floor_ratio: p.seed_floor_ratio(spacing, f.refs[l].marrow, f.refs[l].noise),
        })
        .collect::<Vec<_>>();
    let noise_z_for_seed_ratio = demand_for_the_seed_ratio(&regions, p);
    Marrow { method: "region_histogram_mode".into(), noise_sigma: f.noise_sigma, regions, noise_z_for_seed_ratio }
}

/// Real oedema sits at about 1.1-2.4 times its normal marrow (the readers' masks of
/// ../shared/realdata/sij-stir): where a seed needs more than this ratio, most oedema cannot
/// be found...
pub const FAINT_OEDEMA_RATIO: f64 = 2.0;

/// ... and a run warns when the regions where that is so hold at least this share of the
/// analysed bone.
pub const BLIND_BONE_SHARE: f64 = 0.25;

/// A warning when the seed noise demand hides faint oedema in much of the bone
/// ([`FAINT_OEDEMA_RATIO`], [`BLIND_BONE_SHARE`]): a scan noisy for its marrow, or a grid
/// coarser than the denoising window, so that its noise is not averaged down. It names the
/// demand at which the seed ratio binds again in all but that share of the bone
/// (`marrow.noise_z_for_seed_ratio`, [`demand_for_the_seed_ratio`]).
fn seed_floor_warning(scan: &Path, marrow: &Marrow, p: &LocalParams) -> Option<String> {
    let total: u64 = marrow.regions.iter().map(|r| r.voxels).sum();
    let blind: Vec<_> =
        marrow.regions.iter().filter(|r| r.seed_floor_ratio.is_some_and(|f| f > FAINT_OEDEMA_RATIO)).collect();
    let hidden: u64 = blind.iter().map(|r| r.voxels).sum();
    if total == 0 || (hidden as f64) < BLIND_BONE_SHARE * total as f64 {
        return None;
    }
    let floor = |r: &&RegionMarrow| r.seed_floor_ratio.unwrap_or(0.0);
    let worst = blind.iter().max_by(|a, b| floor(a).total_cmp(&floor(b)))?;
    let lower = marrow.noise_z_for_seed_ratio.map_or("a lower --noise-z".into(), |z| {
        format!(
            "--noise-z {z:.1} or lower (the seed ratio, {}, would then bind in {:.0}% of the bone)",
            p.seed_ratio,
            100.0 * (1.0 - BLIND_BONE_SHARE)
        )
    });
    Some(format!(
        "{}: in {} of {} regions ({:.0}% of the bone) a seed needs more than {FAINT_OEDEMA_RATIO:.1} times the \
         normal marrow (up to {:.1} times, {}): on this scan's noise the seed noise demand (--noise-z {}) asks \
         for more than the seed ratio, so oedema fainter than that, as real oedema often is, cannot be found there; \
         {lower} finds fainter oedema at the cost of more false positives (marrow.regions[].seed_floor_ratio \
         in report.json; docs/ACCURACY.md, \"Carry-over to a coarser grid\")",
        scan.display(),
        blind.len(),
        marrow.regions.len(),
        100.0 * hidden as f64 / total as f64,
        floor(worst),
        worst.name,
        p.noise_z,
    ))
}

/// The seed noise demand at which the seed ratio, not the noise, sets the seed floor in
/// `1 - BLIND_BONE_SHARE` of the bone, rounded down to a tenth: a region's floor above the
/// ratio is `1 + noise_z k` ([`LocalParams::seed_floor_ratio`]), so it falls to `seed_ratio`
/// at `noise_z (seed_ratio - 1) / (floor - 1)`. `None` when the ratio binds there already, or
/// when it is 1 or under (a floor is never under 1: no demand lets such a ratio bind).
fn demand_for_the_seed_ratio(regions: &[RegionMarrow], p: &LocalParams) -> Option<f64> {
    let floors = regions.iter().filter_map(|r| Some((r.seed_floor_ratio?, r.voxels)));
    let floor = crate::report::bone_floor_quantile(floors, 1.0 - BLIND_BONE_SHARE)?;
    (floor > p.seed_ratio && p.seed_ratio > 1.0)
        .then(|| (10.0 * p.noise_z * (p.seed_ratio - 1.0) / (floor - 1.0)).floor() / 10.0)
}

/// The report's account of what was read, with the warnings about it ([`input_warnings`];
/// `marrow` is the local detector's account of its references).
///
/// # Errors
/// An unreadable label table file (hashed here).
pub(super) fn input_info(
    cfg: &RunConfig,
    scan: &Loaded<f32>,
    facts: AtlasFacts,
    table: &LabelTable,
    marrow: Option<&Marrow>,
) -> Result<InputInfo> {
    let grid = scan.volume.grid;
    Ok(InputInfo {
        scan: cfg.scan.display().to_string(),
        atlas: cfg.atlas.display().to_string(),
        labels: cfg.labels.as_ref().map_or("atlas header extension".into(), |p| p.display().to_string()),
        scan_sha256: scan.sha256.clone(),
        atlas_sha256: facts.sha256,
        labels_sha256: match &cfg.labels {
            Some(p) if p.exists() => sha256_file(p)?,
            _ => io::sha256_hex(table.to_tsv().as_bytes()),
        },
        shape: grid.dims,
        spacing_mm: grid.spacing(),
        affine: grid.affine.0,
        affine_source: scan.affine_source.into(),
        orientation: grid.affine.axcodes(),
        datatype: scan.datatype.name().into(),
        // Every labelled voxel on the scan's grid, bone or not (`reference.voxels`: bone).
        atlas_voxels: facts.bone_only.labelled_voxels() as usize,
        atlas_shape: facts.grid.dims,
        atlas_spacing_mm: facts.grid.spacing(),
        atlas_resampled: facts.resampled,
        atlas_parcellated: facts.parcellated,
        labels_analysed: facts.bone_only.analysed,
        labels_ignored: facts.bone_only.ignored,
        warnings: input_warnings(cfg, &scan.volume.data, marrow),
    })
}

/// The warnings about the inputs: the scan's modality's (a CT), or else the seed floor's
/// ([`seed_floor_warning`]; the local detector's `marrow` only). A CT's warning already says
/// its lesions are bone, not oedema: a floor on oedema means nothing there.
fn input_warnings(cfg: &RunConfig, data: &[f32], marrow: Option<&Marrow>) -> Vec<String> {
    let modality = io::modality::scan_warnings(&cfg.scan, data);
    if !modality.is_empty() {
        return modality;
    }
    marrow.and_then(|m| seed_floor_warning(&cfg.scan, m, &cfg.params.local)).into_iter().collect()
}

/// The report's account of the detector's settings; `cutoff` is the global threshold in
/// scan units.
pub(super) fn parameters(params: &Params, cutoff: f64) -> Parameters {
    Parameters {
        method: params.method.as_str().into(),
        local: (params.method == Method::Local).then(|| params.local.clone()),
        z_threshold: params.z_threshold,
        intensity_threshold: cutoff,
        min_volume_mm3: params.min_volume_mm3,
        connectivity: params.connectivity.count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(floors: &[(u64, Option<f64>)]) -> Vec<RegionMarrow> {
        floors
            .iter()
            .enumerate()
            .map(|(i, &(voxels, f))| RegionMarrow {
                label: i as u32 + 1,
                name: format!("r{}", i + 1),
                voxels,
                marrow: 100.0,
                seed_floor_ratio: f,
            })
            .collect()
    }

    /// A marrow account of `floors` as `marrow_report` makes it at the default settings.
    fn marrow(floors: &[(u64, Option<f64>)]) -> Marrow {
        let regions = regions(floors);
        let noise_z_for_seed_ratio = demand_for_the_seed_ratio(&regions, &LocalParams::default());
        Marrow { method: "region_histogram_mode".into(), noise_sigma: 10.0, regions, noise_z_for_seed_ratio }
    }

    #[test]
    fn the_seed_floor_warning_needs_a_quarter_of_the_bone_past_the_faint_oedema_ratio() {
        let (scan, p) = (Path::new("scan.nii.gz"), LocalParams::default());
        assert_eq!((p.seed_ratio, p.noise_z), (1.55, 17.0), "the figures below assume the defaults");
        // 24% of the bone past 2.0: no warning; 25%: one, naming the worst region.
        assert_eq!(seed_floor_warning(scan, &marrow(&[(76, Some(1.55)), (24, Some(3.0))]), &p), None);
        let w = seed_floor_warning(scan, &marrow(&[(50, Some(1.55)), (25, Some(2.5)), (25, Some(3.04))]), &p).unwrap();
        assert!(
            w.starts_with("scan.nii.gz: in 2 of 3 regions (50% of the bone) a seed needs more than 2.0 times"),
            "{w}"
        );
        assert!(w.contains("(up to 3.0 times, r3)") && w.contains("--noise-z 17)"), "{w}");
        // The bone's 75th-percentile floor is 2.5: 1 + 17 k = 2.5 meets 1.55 at 17 x 0.55 / 1.5 = 6.23.
        assert!(
            w.contains(
                "; --noise-z 6.2 or lower (the seed ratio, 1.55, would then bind in 75% of the bone) finds fainter"
            ),
            "{w}"
        );
        // At exactly the ratio, or without a floor (a level at or below 0), nothing is hidden.
        assert_eq!(seed_floor_warning(scan, &marrow(&[(10, Some(FAINT_OEDEMA_RATIO)), (10, None)]), &p), None);
        assert_eq!(seed_floor_warning(scan, &marrow(&[]), &p), None);
    }

    #[test]
    fn the_demand_for_the_seed_ratio_reads_the_floor_of_three_quarters_of_the_bone() {
        let p = LocalParams::default();
        // Three quarters of the bone at 1.55 or under: the ratio binds there already.
        assert_eq!(demand_for_the_seed_ratio(&regions(&[(75, Some(1.55)), (25, Some(9.0))]), &p), None);
        // A region without a floor holds no voxel of the quantile: 3.2 is the floor of all the rest.
        let z = demand_for_the_seed_ratio(&regions(&[(10, Some(3.2)), (90, None)]), &p).unwrap();
        assert_eq!(z, (10.0 * 17.0 * 0.55 / 2.2_f64).floor() / 10.0);
        // Rounded down, so that the demand named lets the ratio bind: 17 x 0.55 / 1.1 = 8.5 exactly.
        assert_eq!(demand_for_the_seed_ratio(&regions(&[(1, Some(2.1))]), &p), Some(8.5));
        assert_eq!(demand_for_the_seed_ratio(&regions(&[]), &p), None);
        let under_one = LocalParams { seed_ratio: 0.9, grow_ratio: 0.9, ..p };
        assert_eq!(demand_for_the_seed_ratio(&regions(&[(1, Some(2.1))]), &under_one), None);
    }
}
