//! A folder of per-class masks read as one atlas.

use super::read::read_labels_as;
use super::{sha256_hex, Loaded};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Label values and names.
pub type LabelNames = Vec<(u32, String)>;

/// A mask folder's label table, when one is given (`--labels`): the table and where it came
/// from (a file, or a built-in table's name), for error messages.
pub type MaskTable<'a> = (&'a crate::labels::LabelTable, &'a Path);

/// Reads a folder of per-class masks (`femur_left.nii.gz`, ..., as TotalSegmentator writes
/// them without `--ml`) as one atlas on the masks' grid: each mask's non-zero voxels take its
/// class's label; the names are the file names without `.nii.gz`/`.nii`.
///
/// With a `table`, each mask takes the label of the table row whose name is the mask's file
/// name (exactly, case included): matched by name, never by position. A row without a mask is
/// fine. Without one, labels follow TotalSegmentator's numbering (its `total` task, then
/// `appendicular_bones` from 118) when every name is one of its classes, else the names'
/// sorted order from 1; the names are always the files'. Where masks overlap, the lower label
/// wins, whatever the files' order. The atlas's SHA-256 is that of the list of the masks'
/// names and SHA-256s.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder; [`Error::Atlas`] when it holds no mask, two masks
/// of the same name, or masks on different grids; [`Error::Labels`] naming the table when a
/// mask has no row of that name, when two rows share a mask's name or when a row's label is
/// above 65535; any error of reading a mask.
pub fn read_mask_folder(dir: &Path, table: Option<MaskTable>) -> Result<(Loaded<u16>, LabelNames)> {
    let masks = list_masks(dir)?;
    let ids = match table {
        Some((t, from)) => ids_from_table(&masks, dir, t, from)?,
        None => ids_from_names(&masks),
    };
    let atlas = paint_masks(&masks, &ids, dir)?;
    Ok((atlas, masks.into_iter().zip(ids).map(|((n, _), id)| (id as u32, n)).collect()))
}

/// The `.nii.gz` / `.nii` files of a mask folder as (name, path), sorted by name.
fn list_masks(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut masks: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let stem = name.strip_suffix(".nii.gz").or_else(|| name.strip_suffix(".nii"))?;
            Some((stem.to_string(), p.clone()))
        })
        .collect();
    masks.sort();
    let atlas_err = |message: String| Error::Atlas { path: dir.to_path_buf(), message };
    if masks.is_empty() {
        return Err(atlas_err("the folder holds no .nii.gz or .nii mask".into()));
    }
    if masks.len() > u16::MAX as usize {
        return Err(atlas_err(format!("the folder holds {} masks, more than an atlas holds (65535)", masks.len())));
    }
    if let Some(w) = masks.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(atlas_err(format!(
            "masks {} and {} have the same name {:?}: keep one",
            file_name(&w[0].1),
            file_name(&w[1].1),
            w[0].0
        )));
    }
    Ok(masks)
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Labels without a table: TotalSegmentator's when every name is one of its classes, else
/// the sorted order from 1.
fn ids_from_names(masks: &[(String, PathBuf)]) -> Vec<u16> {
    use crate::labels::totalsegmentator::{APPENDICULAR_BONES, TOTAL};
    let ts_id = |n: &str| TOTAL.iter().chain(APPENDICULAR_BONES.iter()).position(|c| *c == n).map(|i| i as u16 + 1);
    match masks.iter().map(|(n, _)| ts_id(n)).collect::<Option<Vec<u16>>>() {
        Some(ids) => ids,
        None => (1..=masks.len() as u16).collect(),
    }
}

/// Labels from a table, by name: each mask takes the label of the row named as its file.
fn ids_from_table(
    masks: &[(String, PathBuf)],
    dir: &Path,
    table: &crate::labels::LabelTable,
    from: &Path,
) -> Result<Vec<u16>> {
    let labels_err = |message: String| Error::Labels { path: from.to_path_buf(), message };
    let mut rows: std::collections::HashMap<&str, Vec<u32>> = std::collections::HashMap::new();
    for (l, n) in table.iter() {
        rows.entry(n).or_default().push(l);
    }
    let unmatched: Vec<String> =
        masks.iter().filter(|(n, _)| !rows.contains_key(n.as_str())).map(|(_, p)| file_name(p)).collect();
    if !unmatched.is_empty() {
        return Err(labels_err(unmatched_message(&unmatched, dir)));
    }
    masks
        .iter()
        .map(|(n, p)| match rows[n.as_str()].as_slice() {
            [l] if *l <= u16::MAX as u32 => Ok(*l as u16),
            [l] => Err(labels_err(format!(
                "row {n:?} (for mask {}) has label {l}, above 65535, the largest a mask folder's atlas holds",
                p.display()
            ))),
            many => Err(labels_err(format!(
                "rows {many:?} are all named {n:?}, so mask {} matches more than one row",
                p.display()
            ))),
        })
        .collect()
}

/// The message for masks that no row of the table names.
fn unmatched_message(unmatched: &[String], dir: &Path) -> String {
    let shown = unmatched.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    let more = match unmatched.len().saturating_sub(10) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "no row of this label table is named after mask(s) {shown}{more} in {}: a mask folder's masks are \
         matched to the table's rows by name (file name without .nii.gz/.nii = the row's name); rename the \
         mask, add a row for it, or leave out --labels to take the names from the files",
        dir.display()
    )
}

/// Paints the masks into one atlas, highest label first so that a lower label painted later
/// wins where masks overlap.
fn paint_masks(masks: &[(String, PathBuf)], ids: &[u16], dir: &Path) -> Result<Loaded<u16>> {
    let mut order: Vec<usize> = (0..masks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ids[i]));
    let mut atlas: Option<Loaded<u16>> = None;
    let mut hashes = vec![String::new(); masks.len()];
    for i in order {
        let (name, path) = &masks[i];
        let mask = read_labels_as::<u16>(path)?;
        hashes[i] = format!("{name}.nii {}\n", mask.sha256);
        let id = ids[i];
        match &mut atlas {
            None => {
                let mut first = mask;
                first.volume.data.par_iter_mut().for_each(|v| *v = if *v != 0 { id } else { 0 });
                atlas = Some(first);
            }
            Some(a) => {
                if a.volume.grid.dims != mask.volume.grid.dims
                    || a.volume.grid.affine.max_abs_diff(&mask.volume.grid.affine) > 1e-3
                {
                    return Err(Error::Atlas {
                        path: dir.to_path_buf(),
                        message: format!("mask {} lies on another grid than the others", file_name(path)),
                    });
                }
                a.volume.data.par_iter_mut().zip(&mask.volume.data).for_each(|(o, &m)| {
                    if m != 0 {
                        *o = id;
                    }
                });
            }
        }
    }
    let mut atlas = atlas.expect("at least one mask");
    atlas.sha256 = sha256_hex(hashes.concat().as_bytes());
    atlas.extensions.clear();
    Ok(atlas)
}
