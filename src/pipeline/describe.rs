//! The report's account of a run: what was read (the scan, the atlas and its labels kept or
//! ignored), the detector's settings and the marrow levels it judged by. The pipeline
//! gathers these facts as it goes; they are put into the report's words here.

use super::{Params, RunConfig};
use crate::detect::{LocalFacts, Method};
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

/// The report's account of the local detector's references: every region with voxels.
pub(super) fn marrow_report(f: &LocalFacts, hist: &[u64], table: &LabelTable) -> Marrow {
    let regions = (1..hist.len().min(f.refs.len()))
        .filter(|&l| hist[l] > 0)
        .map(|l| RegionMarrow {
            label: l as u32,
            name: table.name(l as u32).unwrap_or_default().to_string(),
            voxels: hist[l],
            marrow: f.refs[l].marrow,
        })
        .collect();
    Marrow { method: "region_histogram_mode".into(), noise_sigma: f.noise_sigma, regions }
}

/// The report's account of what was read.
///
/// # Errors
/// An unreadable label table file (hashed here).
pub(super) fn input_info(
    cfg: &RunConfig,
    scan: &Loaded<f32>,
    facts: AtlasFacts,
    table: &LabelTable,
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
        warnings: io::modality::scan_warnings(&cfg.scan, &scan.volume.data),
    })
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
