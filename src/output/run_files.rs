//! The files of one run: the report (JSON, CSV), the lesion and region maps with their
//! pictures and colour tables, and the review page, encoded (in parallel where memory allows)
//! and written as one [`OutputSet`], all or nothing.

use super::{OutputNames, OutputSet};
use crate::error::Result;
use crate::io::{self, Loaded, Storable, WriteOptions};
use crate::regions::{self, RegionRow};
use crate::render;
use crate::report::{self, Report};
use crate::review;
use crate::viewer_tables;
use crate::volume::{Label, Volume};
use std::path::Path;

/// The volumes a run's files are made from.
pub struct RunMaps<'a, L> {
    /// The scan as read (its header gives the maps' geometry).
    pub scan: &'a Loaded<f32>,
    /// The lesion ids on the scan's grid.
    pub lesion_map: &'a Volume<u16>,
    /// The analysed atlas on the scan's grid (the region map).
    pub atlas: &'a Volume<L>,
    /// The region map's rows.
    pub region_rows: &'a [RegionRow],
}

/// Encodes every file of the run described by `rep` and `m` and writes them into `out_dir`
/// under `names`, all or nothing; `written` is told each file staged (its path inside
/// `out_dir` and its bytes).
///
/// # Errors
/// A picture that cannot be encoded, or the output folder ([`OutputSet`]).
pub fn write<L: Label + Storable>(
    out_dir: &Path,
    names: &OutputNames,
    rep: &Report,
    m: &RunMaps<L>,
    written: &dyn Fn(&str, &[u8]),
) -> Result<()> {
    // The review page beside the maps: its copies are small (at most
    // `review::copy::MAX_REVIEW_VOXELS` voxels of 16 bits or less, well under the scan's own
    // 32 bits a voxel), and its work fills the cores where a map's picture runs on one.
    let overview = names.overview_from_review();
    let ((lesion_files, region_files), (json, review_files)) = rayon::join(
        || {
            rayon::join(
                || encode_lesion_map(rep, m.lesion_map, m.scan),
                || encode_region_map(m.scan, m.atlas, m.region_rows),
            )
        },
        || {
            rayon::join(
                || report::to_json(rep),
                || review::files(rep, m.scan, m.lesion_map, m.atlas, m.region_rows, &overview),
            )
        },
    );
    let (map_bytes, png) = lesion_files;
    let (regions_map, regions_png) = region_files;
    let mut out = OutputSet::new(out_dir)?;
    let mut add = |name: &str, bytes: &[u8]| {
        let placed = names.place(name);
        out.add(&placed, bytes)?;
        written(&placed, bytes);
        Ok::<(), crate::error::Error>(())
    };
    add("report.json", json.as_bytes())?;
    add("lesions.csv", report::to_csv(rep).as_bytes())?;
    add("lesions.nii.gz", &map_bytes)?;
    add("overview.png", &png?)?;
    add("regions.nii.gz", &regions_map)?;
    add("regions.tsv", regions::to_tsv(m.region_rows).as_bytes())?;
    add("regions.png", &regions_png?)?;
    for (name, bytes) in review_files? {
        add(&name, &bytes)?;
    }
    // Colour tables beside both maps, for ITK-SNAP, 3D Slicer and FSLeyes.
    for (name, text) in
        viewer_tables::lesion_tables(&rep.lesions).into_iter().chain(viewer_tables::region_tables(m.region_rows))
    {
        add(&name, text.as_bytes())?;
    }
    out.commit()
}

/// `lesions.nii.gz` and `overview.png` bytes.
fn encode_lesion_map(rep: &Report, lesion_map: &Volume<u16>, scan: &Loaded<f32>) -> (Vec<u8>, Result<Vec<u8>>) {
    let markers: Vec<render::Marker> = rep
        .lesions
        .iter()
        .map(|l| render::Marker {
            id: l.id,
            centroid_voxel: l.centroid_voxel,
            region: l.region.clone(),
            volume_mm3: l.volume_mm3,
        })
        .collect();
    rayon::join(
        || {
            let mut opts = WriteOptions::labels(rep.lesions.len() as u32);
            opts.description = "crmo-map lesion ids".into();
            io::encode(lesion_map, &opts, Some(&scan.header), true)
        },
        || render::encode_png(&render::overview(&scan.volume, lesion_map, &markers)),
    )
}

/// `regions.nii.gz` (the analysed atlas, in the narrowest type its largest label needs, with
/// the scan's header geometry) and `regions.png` bytes.
fn encode_region_map<L: Label + Storable>(
    scan: &Loaded<f32>,
    atlas: &Volume<L>,
    rows: &[RegionRow],
) -> (Vec<u8>, Result<Vec<u8>>) {
    rayon::join(
        || {
            let mut opts = WriteOptions::labels(regions::max_index(rows));
            opts.description = "crmo-map regions".into();
            io::encode(atlas, &opts, Some(&scan.header), true)
        },
        || render::encode_png_as(&render::regions::picture(&scan.volume, atlas, rows), "regions.png"),
    )
}
