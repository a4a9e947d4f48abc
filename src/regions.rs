//! The region map written with every run: which sub-region each bone voxel belongs to.
//!
//! `regions.nii.gz` holds the atlas exactly as the detector used it (on the scan's grid, bone
//! labels only, parcellated); `regions.tsv` describes its labels in the BIDS `_dseg.tsv`
//! style, one row per label present, with the colour [`crate::palette`] gives the region
//! (the same colour `regions.png` draws it in).

use crate::labels::{BoneClass, LabelTable, RegionInfo, Side};
use crate::palette::{self, Rgb};
use std::collections::BTreeMap;

/// The columns of `regions.tsv`, in order.
pub const TSV_COLUMNS: [&str; 8] =
    ["index", "name", "color", "bone_class", "side", "vertebral_level", "bone_label", "voxels"];

/// One label of the region map.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionRow {
    /// The label value in `regions.nii.gz`.
    pub index: u32,
    /// Region name, as the label table (or the parcellation) gives it.
    pub name: String,
    /// Display colour ([`palette::colour`]).
    pub colour: Rgb,
    /// Bone class.
    pub bone_class: BoneClass,
    /// The subject's side.
    pub side: Side,
    /// Vertebral level of a vertebral body or sacral segment.
    pub vertebral_level: Option<String>,
    /// The atlas label the region came from (its own name when it was not split).
    pub bone_label: String,
    /// Voxels of the region on the scan's grid.
    pub voxels: u64,
}

/// One row per label with voxels (`hist[l]`: voxels of label `l`), in label order. Labels the
/// table lacks are skipped (the pipeline has already refused an atlas with such labels).
pub fn rows(hist: &[u64], table: &LabelTable, bone_label: Option<&BTreeMap<u32, String>>) -> Vec<RegionRow> {
    (1..hist.len())
        .filter(|&l| hist[l] > 0)
        .filter_map(|l| {
            let index = l as u32;
            let name = table.name(index)?.to_string();
            let info = table.info(index).unwrap_or_else(|| RegionInfo::from_name(&name));
            Some(RegionRow {
                index,
                colour: palette::colour(&name, &info),
                bone_class: info.bone_class,
                side: info.side,
                vertebral_level: info.vertebral_level,
                bone_label: bone_label.and_then(|m| m.get(&index)).cloned().unwrap_or_else(|| name.clone()),
                voxels: hist[l],
                name,
            })
        })
        .collect()
}

/// A TSV cell: tabs and line breaks become spaces, an empty value `n/a` (BIDS).
pub(crate) fn cell(s: &str) -> String {
    let s: String = s.chars().map(|c| if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c }).collect();
    if s.is_empty() {
        "n/a".into()
    } else {
        s
    }
}

/// `regions.tsv`: a header of [`TSV_COLUMNS`], then one line per row; a missing vertebral
/// level is `n/a`.
pub fn to_tsv(rows: &[RegionRow]) -> String {
    let mut s = TSV_COLUMNS.join("\t");
    s.push('\n');
    for r in rows {
        let fields = [
            r.index.to_string(),
            cell(&r.name),
            palette::hex(r.colour),
            r.bone_class.as_str().into(),
            r.side.as_str().into(),
            cell(r.vertebral_level.as_deref().unwrap_or("")),
            cell(&r.bone_label),
            r.voxels.to_string(),
        ];
        s.push_str(&fields.join("\t"));
        s.push('\n');
    }
    s
}

/// The largest label of the rows (0 when there is none): sets the map's datatype.
pub fn max_index(rows: &[RegionRow]) -> u32 {
    rows.iter().map(|r| r.index).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> LabelTable {
        LabelTable::from_pairs([
            (1, "vertebra_S2"),
            (2, "acetabulum_roof_right"),
            (3, "femur_neck_left"),
            (7, "sternum"),
            (300, "acetabulum_posterior_column_left"),
        ])
    }

    #[test]
    fn one_row_per_present_label_with_the_palette_colour() {
        let mut hist = vec![0u64; 301];
        hist[0] = 1000;
        hist[1] = 5;
        hist[3] = 9;
        hist[300] = 2;
        let parts = BTreeMap::from([(300, "hip_left".to_string())]);
        let rows = rows(&hist, &table(), Some(&parts));
        assert_eq!(rows.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 3, 300]);
        assert_eq!(max_index(&rows), 300);
        let tsv = to_tsv(&rows);
        let lines: Vec<&str> = tsv.lines().collect();
        assert_eq!(lines[0], "index\tname\tcolor\tbone_class\tside\tvertebral_level\tbone_label\tvoxels");
        assert_eq!(lines.len(), 4);
        let t = table();
        for (line, row) in lines[1..].iter().zip(&rows) {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), TSV_COLUMNS.len(), "{line}");
            let index: u32 = f[0].parse().unwrap();
            assert_eq!(f[1], t.name(index).unwrap());
            let want = palette::label_colour(&t, index).unwrap();
            assert_eq!(f[2], palette::hex(want));
            assert!(f[2].len() == 7 && f[2].starts_with('#'));
            assert_eq!(row.colour, want);
        }
        assert_eq!(
            lines[1],
            format!("1\tvertebra_S2\t{}\tsacrum\tmidline\tS2\tvertebra_S2\t5", palette::hex(rows[0].colour))
        );
        assert!(lines[2].ends_with("\tfemur\tleft\tn/a\tfemur_neck_left\t9"), "{}", lines[2]);
        assert!(lines[3].ends_with("\tpelvis\tleft\tn/a\thip_left\t2"), "{}", lines[3]);
    }

    #[test]
    fn table_columns_override_the_name_and_cells_stay_on_one_line() {
        let t = LabelTable::parse("index\tname\tbone_class\tside\n4\tbone four\tfemur\tright\n").unwrap();
        let rows = rows(&[0, 0, 0, 0, 3], &t, None);
        assert_eq!((rows[0].bone_class, rows[0].side), (BoneClass::Femur, Side::Right));
        assert_eq!(cell("a\tb\nc"), "a b c");
        assert_eq!(to_tsv(&[]), TSV_COLUMNS.join("\t") + "\n");
    }
}
