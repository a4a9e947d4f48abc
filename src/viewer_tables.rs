//! Colour tables beside the label maps, so that every viewer shows `lesions.nii.gz` and
//! `regions.nii.gz` with the names and colours of `overview.png`, `regions.png` and the
//! review page: a BIDS `_dseg.tsv` (`regions.tsv` is written by [`crate::regions`]), an
//! ITK-SNAP label description file (`.label.txt`), a 3D Slicer colour table (`.ctbl`) and an
//! FSLeyes lookup table (`.lut`).

use crate::labels::{LabelTable, TableFormat};
use crate::lesions::Lesion;
use crate::palette::{self, Rgb};
use crate::regions::{cell, RegionRow};
use std::collections::BTreeMap;

/// The viewer formats written for each label map.
pub const VIEWER_FORMATS: [TableFormat; 3] = [TableFormat::ItkSnap, TableFormat::SlicerCtbl, TableFormat::FslLut];

/// Columns of `lesions.tsv`.
pub const LESION_TSV_COLUMNS: [&str; 6] = ["index", "name", "color", "region", "side", "volume_mm3"];

/// The name a lesion carries in the viewers' tables: `lesion 3 vertebra_T7`.
pub fn lesion_name(l: &Lesion) -> String {
    format!("lesion {} {}", l.id, l.region)
}

/// `(file name, text)` of the region map's viewer tables (`regions.label.txt`, ...), each
/// region in its `regions.tsv` colour.
pub fn region_tables(rows: &[RegionRow]) -> Vec<(String, String)> {
    let table = LabelTable::from_pairs(rows.iter().map(|r| (r.index, r.name.clone())));
    let colours: BTreeMap<u32, Rgb> = rows.iter().map(|r| (r.index, r.colour)).collect();
    viewer_files("regions", &table, &colours)
}

/// `(file name, text)` of the lesion map's tables: `lesions.tsv` (BIDS `_dseg.tsv` style) and
/// the viewer tables, each lesion in its [`palette::lesion_colour`].
pub fn lesion_tables(lesions: &[Lesion]) -> Vec<(String, String)> {
    let table = LabelTable::from_pairs(lesions.iter().map(|l| (l.id, lesion_name(l))));
    let colours: BTreeMap<u32, Rgb> = lesions.iter().map(|l| (l.id, palette::lesion_colour(l.id))).collect();
    let mut tsv = LESION_TSV_COLUMNS.join("\t") + "\n";
    for l in lesions {
        let row = [
            l.id.to_string(),
            cell(&lesion_name(l)),
            palette::hex(palette::lesion_colour(l.id)),
            cell(&l.region),
            l.side.clone(),
            format!("{:.3}", l.volume_mm3),
        ];
        tsv.push_str(&row.join("\t"));
        tsv.push('\n');
    }
    let mut files = vec![("lesions.tsv".to_string(), tsv)];
    files.extend(viewer_files("lesions", &table, &colours));
    files
}

fn viewer_files(stem: &str, table: &LabelTable, colours: &BTreeMap<u32, Rgb>) -> Vec<(String, String)> {
    let colour = |l: u32| colours.get(&l).copied().unwrap_or_default();
    VIEWER_FORMATS.iter().map(|&f| (format!("{stem}.{}", f.extension()), table.to_format_with(f, &colour))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{BoneClass, Side};

    fn lesion(id: u32, region: &str) -> Lesion {
        let l = Lesion::example(id, region);
        Lesion { bone_class: "vertebra".into(), voxels: 10, volume_mm3: 12.5, fraction_of_region: 0.1, ..l }
    }

    /// Every table reads back (with crmo-map's own reader) to the same ids and names, in the
    /// overview's colours.
    #[test]
    fn lesion_tables_read_back_with_the_overview_colours() {
        let lesions = [lesion(1, "vertebra_T7"), lesion(2, "femur neck, left")];
        let files = lesion_tables(&lesions);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["lesions.tsv", "lesions.label.txt", "lesions.ctbl", "lesions.lut"]);
        assert_eq!(
            files[0].1,
            "index\tname\tcolor\tregion\tside\tvolume_mm3\n\
             1\tlesion 1 vertebra_T7\t#eb2323\tvertebra_T7\tmidline\t12.500\n\
             2\tlesion 2 femur neck, left\t#1e90ff\tfemur neck, left\tmidline\t12.500\n"
        );
        for (name, text) in &files {
            let t = LabelTable::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let want = if name.ends_with(".ctbl") { "lesion_2_femur_neck,_left" } else { "lesion 2 femur neck, left" };
            assert_eq!((t.len(), t.name(2)), (2, Some(want)), "{name}");
        }
        // Colours: ITK-SNAP and Slicer in 0-255, FSLeyes in 0-1, all the overview's.
        let [r, g, b] = palette::lesion_colour(2);
        assert!(files[1].1.contains(&format!("    2 {r:5} {g:4} {b:4}")), "{}", files[1].1);
        assert!(files[2].1.contains(&format!("2 lesion_2_femur_neck,_left {r} {g} {b} 255")), "{}", files[2].1);
        assert!(files[3].1.contains("2 0.11765 0.56471 1.00000 lesion 2 femur neck, left"), "{}", files[3].1);
    }

    #[test]
    fn region_tables_carry_the_region_map_colours() {
        let row = |index, name: &str, colour| RegionRow {
            index,
            name: name.into(),
            colour,
            bone_class: BoneClass::Vertebra,
            side: Side::Midline,
            vertebral_level: None,
            bone_label: name.into(),
            voxels: 1,
        };
        let files = region_tables(&[row(3, "vertebra_T7", [1, 2, 3]), row(300, "sacrum", [250, 128, 0])]);
        assert_eq!(files.len(), 3);
        assert!(files[0].1.contains("  300   250  128    0        1  1  1    \"sacrum\""), "{}", files[0].1);
        assert!(files[1].1.contains("3 vertebra_T7 1 2 3 255"), "{}", files[1].1);
        assert!(files[2].1.contains("300 0.98039 0.50196 0.00000 sacrum"), "{}", files[2].1);
        assert!(region_tables(&[]).iter().all(|(_, t)| LabelTable::parse(t).map_or(true, |t| t.is_empty())));
    }
}
