//! The colour tables beside the label maps: every viewer's table names the ids that are in
//! the map, in the colours of regions.tsv and of the overview.

use crate::util::*;
use crmo_map::labels::LabelTable;

fn table(dir: &std::path::Path, name: &str) -> LabelTable {
    LabelTable::parse(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn tables_name_every_id_of_both_maps_in_their_colours() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let rep = run_tiny("labels.tsv", &out, &[]);
    let ids: Vec<u32> = rep["lesions"].as_array().unwrap().iter().map(|l| l["id"].as_u64().unwrap() as u32).collect();
    assert_eq!(ids, [1, 2]);
    let regions_tsv = std::fs::read_to_string(out.join("regions.tsv")).unwrap();
    let region_rows: Vec<Vec<&str>> = regions_tsv.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    for stem in ["lesions", "regions"] {
        for ext in ["tsv", "label.txt", "ctbl", "lut"] {
            let t = table(&out, &format!("{stem}.{ext}"));
            let got: Vec<u32> = t.iter().map(|(l, _)| l).collect();
            let want: Vec<u32> = if stem == "lesions" {
                ids.clone()
            } else {
                region_rows.iter().map(|r| r[0].parse().unwrap()).collect()
            };
            assert_eq!(got, want, "{stem}.{ext}");
        }
    }
    // The region tables' colours are regions.tsv's.
    let lut = std::fs::read_to_string(out.join("regions.lut")).unwrap();
    for (row, line) in region_rows.iter().zip(lut.lines()) {
        let hex = row[2].trim_start_matches('#');
        let rgb: Vec<u8> = (0..3).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
        let f: Vec<f64> = line.split_whitespace().skip(1).take(3).map(|x| x.parse().unwrap()).collect();
        for (a, b) in rgb.iter().zip(&f) {
            assert!((*a as f64 / 255.0 - b).abs() < 1e-4, "{line} vs {}", row[2]);
        }
    }
    // The lesion tables' colours are the overview's.
    let tsv = std::fs::read_to_string(out.join("lesions.tsv")).unwrap();
    for (line, id) in tsv.lines().skip(1).zip(&ids) {
        let hex = crmo_map::palette::hex(crmo_map::palette::lesion_colour(*id));
        assert_eq!(line.split('\t').nth(2), Some(hex.as_str()), "{line}");
    }
}
