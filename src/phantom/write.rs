//! Writing a phantom to disk as `crmo-map phantom` does: the scan in a chosen orientation,
//! datatype and intensity scale, the atlas (fine, or whole bones as TotalSegmentator labels
//! them), its label table and the ground truth, all or nothing.

use super::Phantom;
use crate::error::{Error, Result};
use crate::io::{self, Datatype, WriteOptions};
use crate::output::OutputSet;
use crate::volume::Volume;
use std::path::Path;

/// The intensity scales a phantom may be stored at: its intensities (up to a few thousand)
/// times the scale stay far inside float32's range and above its subnormals, so that every
/// datatype stores them with a finite slope.
pub const SCALE_RANGE: (f64, f64) = (1e-6, 1e6);

/// How `crmo-map phantom` stores a phantom.
#[derive(Clone, Debug)]
pub struct PhantomStorage {
    /// Orientation code of the stored voxel axes (e.g. `RAS`, `LPS`, `ASR`).
    pub orientation: String,
    /// Storage datatype of the scan.
    pub datatype: Datatype,
    /// Multiply every scan intensity by this before storing.
    pub scale: f64,
    /// How the atlas is written.
    pub atlas_style: AtlasStyle,
}

/// How `crmo-map phantom` writes the atlas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AtlasStyle {
    /// The phantom's own sub-region labels on the scan's grid (`labels.tsv` names them).
    #[default]
    Fine,
    /// Whole bones as TotalSegmentator labels them: its class ids and names (`labels.tsv`
    /// and the `--ml` header extension), 1.5 mm voxels in LPS order
    /// ([`crate::phantom::totalseg`]).
    TotalSegmentator,
}

impl PhantomStorage {
    /// Checks the orientation code and the scale.
    ///
    /// # Errors
    /// [`Error::Parameter`] naming the bad value.
    pub fn validate(&self) -> Result<()> {
        if crate::volume::parse_axcodes(&self.orientation).is_none() {
            return Err(Error::Parameter(format!(
                "--orientation {:?} is not an orientation code such as RAS, LPS or ASR",
                self.orientation
            )));
        }
        let (lo, hi) = SCALE_RANGE;
        if !(lo..=hi).contains(&self.scale) {
            return Err(Error::Parameter(format!("--scale must be from {lo:e} to {hi:e}, got {}", self.scale)));
        }
        Ok(())
    }
}

impl Default for PhantomStorage {
    fn default() -> PhantomStorage {
        PhantomStorage { orientation: "RAS".into(), datatype: Datatype::I16, scale: 1.0, atlas_style: AtlasStyle::Fine }
    }
}

/// Writes `scan.nii.gz`, `atlas.nii.gz`, `labels.tsv`, `truth.nii.gz` and `truth.json` into
/// `dir`, all or nothing. Integer scans get a `scl_slope` when their range needs one.
///
/// # Errors
/// [`Error::Parameter`] for a bad orientation or scale; [`Error::Io`] when writing fails.
pub fn write_phantom(ph: &Phantom, dir: &Path, storage: &PhantomStorage) -> Result<()> {
    storage.validate()?;
    let bad_code = || Error::Parameter(format!("--orientation {:?} does not fit this grid", storage.orientation));
    let orient = |v: &Volume<u16>| v.reoriented(&storage.orientation).ok_or_else(bad_code);
    let mut scan = ph.scan.reoriented(&storage.orientation).ok_or_else(bad_code)?;
    if storage.scale != 1.0 {
        let s = storage.scale as f32;
        scan.data.iter_mut().for_each(|v| *v *= s);
    }
    let atlas = orient(&ph.atlas)?;
    let truth = orient(&ph.truth)?;
    // Integer storage: use the type's range with a slope if the values would not fit or
    // would lose too much precision.
    let max = scan.data.iter().copied().fold(0f32, f32::max) as f64;
    let mut scan_opts = WriteOptions::new(storage.datatype);
    let int_max = match storage.datatype {
        Datatype::U8 => Some(255.0),
        Datatype::I8 => Some(127.0),
        Datatype::I16 => Some(32767.0),
        Datatype::U16 => Some(65535.0),
        _ => None,
    };
    if let Some(top) = int_max {
        if max > top || max < top / 64.0 {
            scan_opts.slope = (max / (top * 0.9)).max(f32::MIN_POSITIVE as f64) as f32;
        }
    }
    scan_opts.description = "crmo-map phantom STIR".into();
    let mut atlas_opts = WriteOptions::labels(ph.labels.max_label());
    atlas_opts.description = "crmo-map phantom atlas".into();
    let ts =
        (storage.atlas_style == AtlasStyle::TotalSegmentator).then(|| super::totalseg::atlas(&ph.atlas, &ph.labels));
    if let Some((_, table)) = &ts {
        atlas_opts = WriteOptions::labels(table.max_label());
        atlas_opts.description = "crmo-map phantom atlas, TotalSegmentator style".into();
        atlas_opts.extensions = vec![(0, super::totalseg::caret_xml(table).into_bytes())];
    }
    let mut truth_opts = WriteOptions::labels(ph.lesions.len() as u32);
    truth_opts.description = "crmo-map phantom truth".into();
    let (s, (a, t)) = rayon::join(
        || io::encode(&scan, &scan_opts, None, true),
        || {
            rayon::join(
                || match &ts {
                    Some((coarse, _)) => io::encode(coarse, &atlas_opts, None, true),
                    None => io::encode(&atlas, &atlas_opts, None, true),
                },
                || io::encode(&truth, &truth_opts, None, true),
            )
        },
    );
    let mut out = OutputSet::new(dir)?;
    out.add("scan.nii.gz", &s)?;
    out.add("atlas.nii.gz", &a)?;
    let table = ts.as_ref().map_or(&ph.labels, |(_, t)| t);
    out.add("labels.tsv", table.to_tsv().as_bytes())?;
    out.add("truth.nii.gz", &t)?;
    let mut truth_json = serde_json::to_string_pretty(&ph.lesions).expect("truth serialises");
    truth_json.push('\n');
    out.add("truth.json", truth_json.as_bytes())?;
    out.commit()
}
