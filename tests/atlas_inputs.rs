//! Atlas inputs that are never silently wrong: a mask folder with a label table is matched to
//! the table by name; our sub-regions under other spellings are not split again; label values
//! up to 65535 parcellate; every mismatch is a one-line error naming the file.

use crate::util::*;
use crmo_map::io::{self, WriteOptions};
use crmo_map::labels::LabelTable;
use crmo_map::Volume;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `crmo-map run` on a scan and an atlas (file or folder), with a table when given.
fn run(scan: &Path, atlas: &Path, labels: Option<&str>, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "--quiet", "--scan", s(scan), "--atlas", s(atlas), "--out", s(out)];
    if let Some(l) = labels {
        args.extend(["--labels", l]);
    }
    args.extend(extra);
    crmo(&args)
}

/// A run that must succeed; its report.
fn run_ok(scan: &Path, atlas: &Path, labels: Option<&str>, out: &Path, extra: &[&str]) -> Value {
    let res = run(scan, atlas, labels, out, extra);
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    json(&out.join("report.json"))
}

/// A run that must be refused: exit 1, one line naming every `needle`, no panic, no output.
fn refused(res: &Output, out: &Path, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert_eq!(res.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("crmo-map: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "the error does not name {n}: {err}");
    }
    assert!(!out.exists(), "a refused run leaves no output");
    err
}

/// The TotalSegmentator-style phantom (its ids and names, whole bones) on a coarse grid.
fn ts_phantom(tmp: &Path) -> PathBuf {
    let input = tmp.join("in");
    phantom(&input, &["--case", "seed", "--atlas-style", "totalsegmentator", "--spacing", "2", "4", "2"]);
    input
}

/// Writes one 0/1 mask per label present in `atlas`, named by `table`, into `dir`, for the
/// names `keep` accepts.
fn write_masks(atlas: &Path, table: &LabelTable, dir: &Path, keep: impl Fn(&str) -> bool) {
    let multi = io::read_labels(atlas).unwrap().volume;
    std::fs::create_dir_all(dir).unwrap();
    let mut present: Vec<u16> = multi.data.iter().copied().filter(|&l| l != 0).collect();
    present.sort_unstable();
    present.dedup();
    for l in present {
        let name = table.name(l as u32).unwrap();
        if keep(name) {
            let mask = Volume { grid: multi.grid, data: multi.data.iter().map(|&v| (v == l) as u8).collect() };
            io::write_volume(&dir.join(format!("{name}.nii.gz")), &mask, &WriteOptions::labels(1), None).unwrap();
        }
    }
}

/// A mask named `name` in `dir` on the grid of `atlas`: the voxels of a 24 mm cube at the
/// grid's centre that no label of it holds.
fn write_extra_mask(dir: &Path, name: &str, atlas: &Path) {
    let a = io::read_labels(atlas).unwrap().volume;
    let g = a.grid;
    let sp = g.spacing();
    let near = |x: usize, d: usize, s: f64| (x as f64 - d as f64 / 2.0).abs() * s < 12.0;
    let data = (0..a.data.len())
        .map(|v| {
            let [i, j, k] = g.ijk(v);
            let inside = near(i, g.dims[0], sp[0]) && near(j, g.dims[1], sp[1]) && near(k, g.dims[2], sp[2]);
            (inside && a.data[v] == 0) as u8
        })
        .collect();
    io::write_volume(&dir.join(format!("{name}.nii.gz")), &Volume { grid: g, data }, &WriteOptions::labels(1), None)
        .unwrap();
}

/// (label, name, voxels) of the report's analysed and ignored labels.
fn listed(rep: &Value) -> Vec<(u64, String, u64)> {
    let input = &rep["input"];
    let mut v: Vec<(u64, String, u64)> = ["labels_analysed", "labels_ignored"]
        .iter()
        .flat_map(|k| input[k].as_array().unwrap().clone())
        .map(|l| (l["label"].as_u64().unwrap(), l["name"].as_str().unwrap().to_string(), l["voxels"].as_u64().unwrap()))
        .collect();
    v.sort();
    v
}

/// Name to voxels of the listed labels (the label values left out).
fn voxels_by_name(rep: &Value) -> BTreeMap<String, u64> {
    listed(rep).into_iter().map(|(_, n, v)| (n, v)).collect()
}

/// The lesions without the label values given to sub-regions (they depend on the table).
fn lesions_without_labels(rep: &Value) -> Value {
    let mut l = rep["lesions"].clone();
    for lesion in l.as_array_mut().unwrap() {
        for r in lesion["regions"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("label");
        }
    }
    l
}

/// A table whose rows are in another order and carry other label values than the atlas's:
/// the masks take the rows' values by name, and the lesions are those of the multilabel file.
#[test]
fn a_mask_folder_takes_the_label_of_the_row_of_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let input = ts_phantom(tmp.path());
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let table = LabelTable::read(&input.join("labels.tsv")).unwrap();
    let masks = tmp.path().join("masks");
    write_masks(&atlas, &table, &masks, |_| true);
    // Value 1000 - l: reversed order, nothing in common with the file order or the atlas.
    let mut tsv = String::from("index\tname\n");
    for (l, n) in table.iter() {
        tsv.push_str(&format!("{}\t{n}\n", 1000 - l));
    }
    let shuffled = tmp.path().join("shuffled.tsv");
    std::fs::write(&shuffled, tsv).unwrap();
    let ml = run_ok(&scan, &atlas, None, &tmp.path().join("ml"), &[]);
    let rep = run_ok(&scan, &masks, Some(s(&shuffled)), &tmp.path().join("by-name"), &[]);
    assert_eq!(regions(&rep), FOUNDING);
    assert_eq!(lesions_without_labels(&rep), lesions_without_labels(&ml));
    for (label, name, _) in listed(&rep) {
        assert_eq!(label as u32, 1000 - table.label_of(&name).unwrap(), "{name}");
    }
    assert_eq!(voxels_by_name(&rep), voxels_by_name(&ml));
    // The phantom's own table and the built-in one, on the masks the latter lists.
    let own = run_ok(&scan, &masks, Some(s(&input.join("labels.tsv"))), &tmp.path().join("own"), &[]);
    assert_eq!(listed(&own), listed(&ml));
    let total = tmp.path().join("total");
    let builtin = LabelTable::built_in("totalsegmentator").unwrap();
    write_masks(&atlas, &table, &total, |n| builtin.label_of(n).is_some());
    let rep = run_ok(&scan, &total, Some("totalsegmentator"), &tmp.path().join("builtin"), &[]);
    assert_eq!(regions(&rep), FOUNDING);
    assert!(listed(&rep).iter().any(|(l, n, _)| (*l, n.as_str()) == (37, "vertebrae_T7")));
}

/// One extra mask in a TotalSegmentator folder: refused with a table, naming the mask and the
/// table; without a table the ids are the sorted order and the names still the files'.
#[test]
fn an_extra_mask_is_refused_with_a_table_and_named_by_its_file_without() {
    let tmp = tempfile::tempdir().unwrap();
    let input = ts_phantom(tmp.path());
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let table = LabelTable::read(&input.join("labels.tsv")).unwrap();
    let masks = tmp.path().join("masks");
    let builtin = LabelTable::built_in("totalsegmentator").unwrap();
    write_masks(&atlas, &table, &masks, |n| builtin.label_of(n).is_some());
    write_extra_mask(&masks, "my_extra_structure", &atlas);
    let out = tmp.path().join("out");
    let res = run(&scan, &masks, Some("totalsegmentator"), &out, &[]);
    let err = refused(&res, &out, &["my_extra_structure.nii.gz", "totalsegmentator: ", s(&masks)]);
    assert!(!err.contains("vertebrae_T7"), "only the unmatched mask is named: {err}");
    let res = run(&scan, &masks, Some(s(&input.join("labels.tsv"))), &out, &[]);
    refused(&res, &out, &["my_extra_structure.nii.gz", "labels.tsv: "]);
    // A mask the built-in table lacks (an `appendicular_bones` class) is refused the same way.
    write_masks(&atlas, &table, &masks, |n| n == "tibia");
    refused(&run(&scan, &masks, Some("totalsegmentator"), &out, &[]), &out, &["tibia.nii.gz", "my_extra_structure"]);
    std::fs::remove_file(masks.join("tibia.nii.gz")).unwrap();
    // Without a table: names from the files, whatever the ids (the sorted order from 1, as
    // one name is not TotalSegmentator's); the extra mask lies outside bone and changes nothing.
    let rep = run_ok(&scan, &masks, None, &out, &[]);
    assert_eq!(regions(&rep), FOUNDING);
    std::fs::remove_file(masks.join("my_extra_structure.nii.gz")).unwrap();
    let with_table = run_ok(&scan, &masks, Some("totalsegmentator"), &tmp.path().join("table"), &[]);
    let mut want = voxels_by_name(&with_table);
    let extra = voxels_by_name(&rep).get("my_extra_structure").copied().expect("the extra mask is listed");
    assert!(extra > 0);
    want.insert("my_extra_structure".into(), extra);
    assert_eq!(voxels_by_name(&rep), want);
    let files = listing(&masks).len() as u64 + 1;
    let ids: Vec<u64> = listed(&rep).iter().map(|l| l.0).collect();
    assert!(ids.iter().all(|&l| l <= files), "sorted order from 1: {ids:?}");
    assert_eq!(lesions_without_labels(&rep), lesions_without_labels(&with_table));
}

/// Masks and tables read by the library: overlaps go to the lower label whatever the names'
/// order; duplicate names, a row above 65535 and two files of one name are errors naming the
/// file.
#[test]
fn mask_folder_overlaps_and_mismatches() {
    use crmo_map::error::Error;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("masks");
    std::fs::create_dir_all(&dir).unwrap();
    let grid = crmo_map::Grid { dims: [4, 4, 4], affine: crmo_map::Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
    let write = |name: &str, range: std::ops::Range<usize>| {
        let data = (0..64).map(|i| range.contains(&i) as u8).collect();
        io::write_volume(&dir.join(name), &Volume { grid, data }, &WriteOptions::labels(1), None).unwrap();
    };
    write("a.nii.gz", 0..40);
    write("b.nii.gz", 20..64);
    let read = |table: Option<&str>| {
        let t = table.map(|t| LabelTable::parse(t).unwrap());
        io::read_mask_folder(&dir, t.as_ref().map(|t| (t, Path::new("t.tsv"))))
    };
    // Without a table a = 1, b = 2; with this one b = 3, a = 9: the lower label wins either way.
    let (atlas, names) = read(None).unwrap();
    assert_eq!(names, [(1, "a".to_string()), (2, "b".to_string())]);
    assert_eq!((atlas.volume.data[30], atlas.volume.data[50]), (1, 2));
    let (atlas, names) = read(Some("index\tname\n9\ta\n3\tb\n4\tunused\n")).unwrap();
    assert_eq!(names, [(9, "a".to_string()), (3, "b".to_string())]);
    assert_eq!((atlas.volume.data[10], atlas.volume.data[30], atlas.volume.data[50]), (9, 3, 3));
    let labels_err = |t: &str| match read(Some(t)) {
        Err(e @ Error::Labels { .. }) => e.to_string(),
        Err(e) => panic!("not a table error: {e}"),
        Ok(_) => panic!("accepted {t:?}"),
    };
    let e = labels_err("index\tname\n1\ta\n");
    assert!(e.starts_with("t.tsv: ") && e.contains("b.nii.gz") && !e.contains("a.nii.gz"), "{e}");
    let e = labels_err("index\tname\n1\ta\n2\tb\n5\tb\n");
    assert!(e.contains("[2, 5]") && e.contains("b.nii.gz"), "{e}");
    let e = labels_err("index\tname\n1\ta\n70000\tb\n");
    assert!(e.contains("70000") && e.contains("b.nii.gz"), "{e}");
    write("b.nii", 0..1);
    let Err(e) = read(None) else { panic!("two masks named b accepted") };
    let e = e.to_string();
    assert!(e.contains("b.nii and b.nii.gz") || e.contains("b.nii.gz and b.nii"), "{e}");
    assert!(e.starts_with(s(&dir)), "{e}");
}

/// Writes `table` (label to name, `bone_class` column from the phantom's table) as TSV.
fn write_table(path: &Path, rows: &[(u32, String, String)]) {
    let mut tsv = String::from("index\tname\tbone_class\tside\n");
    for (l, n, c) in rows {
        tsv.push_str(&format!("{l}\t{n}\t{c}\n"));
    }
    std::fs::write(path, tsv).unwrap();
}

/// The fine phantom's table rows as (label, name, "bone_class\tside").
fn fine_rows(input: &Path) -> Vec<(u32, String, String)> {
    let text = std::fs::read_to_string(input.join("labels.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].parse().unwrap(), f[1].to_string(), format!("{}\t{}", f[2], f[3]))
        })
        .collect()
}

/// Our own sub-regions under other spellings, with a correct `bone_class` column: reported as
/// given, never split again, with their vertebral levels and bone classes.
#[test]
fn sub_regions_under_other_spellings_are_not_split_again() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("fine");
    phantom(&input, &["--case", "seed", "--spacing", "2", "4", "2"]);
    let spellings: [[(&str, &str); 7]; 2] = [
        [
            ("femur_neck_left", "femoral_neck_left"),
            ("acetabulum_roof_right", "Acetabular roof right"),
            ("acetabulum_posterior_column_left", "acetabular posterior column L"),
            ("vertebra_S2", "S2"),
            ("vertebra_S3", "sacral segment S3"),
            ("vertebra_S4", "S4"),
            ("vertebra_T7", "T7 vertebra"),
        ],
        [
            ("femur_neck_left", "Femur neck L"),
            ("acetabulum_roof_right", "Acetabulum roof R"),
            ("acetabulum_posterior_column_left", "Posterior column left acetabulum"),
            ("vertebra_S2", "S2 segment"),
            ("vertebra_S3", "S3 vertebra"),
            ("vertebra_S4", "Sacral S4"),
            ("vertebra_T7", "T7"),
        ],
    ];
    for (n, names) in spellings.iter().enumerate() {
        let rename: BTreeMap<&str, &str> = names.iter().copied().collect();
        let rows: Vec<(u32, String, String)> = fine_rows(&input)
            .into_iter()
            .map(|(l, name, cols)| (l, rename.get(name.as_str()).map_or(name.clone(), |r| r.to_string()), cols))
            .collect();
        let table = tmp.path().join(format!("spelling{n}.tsv"));
        write_table(&table, &rows);
        let out = tmp.path().join(format!("out{n}"));
        let rep = run_ok(&input.join("scan.nii.gz"), &input.join("atlas.nii.gz"), Some(s(&table)), &out, &[]);
        let mut want: Vec<String> = names.iter().map(|(_, r)| r.to_string()).collect();
        want.sort();
        let mut got = regions(&rep);
        got.sort();
        assert_eq!(got, want, "spelling {n}");
        assert_eq!(rep["summary"]["vertebral_levels"], serde_json::json!(["T7", "S2", "S3", "S4"]), "spelling {n}");
        assert_eq!(rep["summary"]["mobile_spine_involvement"], true);
        // Only the phantom's whole clavicles are split.
        assert_eq!(rep["input"]["atlas_parcellated"], serde_json::json!(["clavicle_right", "clavicle_left"]));
        for l in rep["lesions"].as_array().unwrap() {
            let original = names.iter().find(|(_, r)| *r == l["region"]).unwrap().0;
            let class = match original {
                o if o.starts_with("vertebra_S") => "sacrum",
                o if o.starts_with("vertebra_") => "vertebra",
                o if o.starts_with("femur") => "femur",
                _ => "pelvis",
            };
            assert_eq!(l["bone_class"], class, "{l}");
            assert_eq!(l["bone_label"], l["region"], "not split: {l}");
        }
    }
}

/// A table's `bone_class` and `side` survive parcellation for the labels that are not split:
/// a name that says nothing keeps the class and side the table gives it.
#[test]
fn table_columns_survive_parcellation() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("fine");
    phantom(&input, &["--case", "seed", "--spacing", "2", "4", "2"]);
    let rows: Vec<(u32, String, String)> = fine_rows(&input)
        .into_iter()
        .map(|(l, name, cols)| if name == "femur_neck_left" { (l, "FN neck".into(), cols) } else { (l, name, cols) })
        .collect();
    let table = tmp.path().join("t.tsv");
    write_table(&table, &rows);
    let rep =
        run_ok(&input.join("scan.nii.gz"), &input.join("atlas.nii.gz"), Some(s(&table)), &tmp.path().join("o"), &[]);
    let l = rep["lesions"].as_array().unwrap().iter().find(|l| l["region"] == "FN neck").expect("the neck lesion");
    assert_eq!((l["bone_class"].as_str(), l["side"].as_str()), (Some("femur"), Some("left")), "{l}");
}

/// Label values up to 65535 parcellate (new sub-regions take the lowest free values); with
/// every value in use, a one-line atlas error instead of a panic.
#[test]
fn labels_up_to_65535_parcellate() {
    let tmp = tempfile::tempdir().unwrap();
    let input = ts_phantom(tmp.path());
    let (scan, atlas) = (input.join("scan.nii.gz"), input.join("atlas.nii.gz"));
    let table = LabelTable::read(&input.join("labels.tsv")).unwrap();
    let a = io::read_labels(&atlas).unwrap();
    // l -> 65536 - l: 1 becomes 65535, 128 becomes 65408.
    let high = Volume {
        grid: a.volume.grid,
        data: a.volume.data.iter().map(|&l| if l == 0 { 0 } else { (65536 - l as u32) as u16 }).collect(),
    };
    let high_atlas = tmp.path().join("high.nii.gz");
    io::write_volume(&high_atlas, &high, &WriteOptions::labels(65535), Some(&a.header)).unwrap();
    let rows: Vec<(u32, String)> = table.iter().map(|(l, n)| (65536 - l, n.to_string())).collect();
    let mut tsv = String::from("index\tname\n");
    rows.iter().for_each(|(l, n)| tsv.push_str(&format!("{l}\t{n}\n")));
    let high_table = tmp.path().join("high.tsv");
    std::fs::write(&high_table, &tsv).unwrap();
    let ml = run_ok(&scan, &atlas, None, &tmp.path().join("ml"), &[]);
    let rep = run_ok(&scan, &high_atlas, Some(s(&high_table)), &tmp.path().join("high"), &[]);
    assert_eq!(regions(&rep), FOUNDING);
    assert_eq!(lesions_without_labels(&rep), lesions_without_labels(&ml));
    let sub_labels: Vec<u64> =
        rep["lesions"].as_array().unwrap().iter().map(|l| l["regions"][0]["label"].as_u64().unwrap()).collect();
    assert!(sub_labels.iter().all(|&l| l < 65408), "new labels are the lowest free values: {sub_labels:?}");
    // Every value from 1 to 65535 in use: refused, naming the atlas.
    for l in 1..65408u32 {
        tsv.push_str(&format!("{l}\tfiller_{l}\n"));
    }
    std::fs::write(&high_table, &tsv).unwrap();
    let out = tmp.path().join("full");
    let res = run(&scan, &high_atlas, Some(s(&high_table)), &out, &[]);
    let err = refused(&res, &out, &[&format!("{}: ", high_atlas.display()), "65535", "--no-parcellate"]);
    assert!(err.contains("cut from"), "{err}");
    // And without parcellation it runs.
    let rep = run_ok(&scan, &high_atlas, Some(s(&high_table)), &out, &["--no-parcellate"]);
    assert!(regions(&rep).contains(&"vertebrae_T7".to_string()));
}

/// The real TotalSegmentator (v1) mask folder: one extra mask with `--labels totalsegmentator`
/// is refused, naming it; the v1 classes that the v2 `total` table lacks are refused the same
/// way; without a table, and with the table on the masks it lists, the names are right.
#[test]
fn real_totalsegmentator_mask_folder() {
    let Some(real) = realdata("real_totalsegmentator_mask_folder") else { return };
    let src = real.join("totalsegmentator/ct_pelvis_masks");
    if !src.is_dir() {
        eprintln!("SKIPPED real_totalsegmentator_mask_folder: {} is absent", src.display());
        return;
    }
    let scan = real.join("totalsegmentator/ct_pelvis.nii.gz");
    let tmp = tempfile::tempdir().unwrap();
    let masks = tmp.path().join("masks");
    std::fs::create_dir_all(&masks).unwrap();
    let mut stems = Vec::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::copy(&p, masks.join(&name)).unwrap();
        stems.push(name.trim_end_matches(".nii.gz").to_string());
    }
    let builtin = LabelTable::built_in("totalsegmentator").unwrap();
    let v1_only: Vec<&String> = stems.iter().filter(|n| builtin.label_of(n).is_none()).collect();
    let out = tmp.path().join("out");
    // As it is: the classes TotalSegmentator v1 has and v2 has not are named.
    let err = refused(&run(&scan, &masks, Some("totalsegmentator"), &out, &[]), &out, &["totalsegmentator: "]);
    for n in &v1_only {
        assert!(err.contains(&format!("{n}.nii.gz")), "{n}: {err}");
    }
    // Names from the files: every mask with voxels listed under its own name, the voxels
    // those of the mask less any voxel of a mask earlier in name order (the lower label).
    let rep = run_ok(&scan, &masks, None, &tmp.path().join("files"), &["--no-parcellate"]);
    assert_eq!(rep["input"]["atlas_resampled"], false);
    let mut sorted = stems.clone();
    sorted.sort();
    let mut taken: Vec<bool> = Vec::new();
    let mut want = BTreeMap::new();
    for (i, n) in sorted.iter().enumerate() {
        let m = io::read_labels(&masks.join(format!("{n}.nii.gz"))).unwrap().volume.data;
        taken.resize(m.len(), false);
        let own = m.iter().zip(&taken).filter(|(&v, &t)| v != 0 && !t).count() as u64;
        m.iter().zip(taken.iter_mut()).for_each(|(&v, t)| *t |= v != 0);
        if own > 0 {
            want.insert(n.clone(), (i as u64 + 1, own));
        }
    }
    let got: BTreeMap<String, (u64, u64)> = listed(&rep).into_iter().map(|(l, n, v)| (n, (l, v))).collect();
    assert_eq!(got, want);
    // With the table, on the masks it lists: each mask takes its v2 id.
    for n in &v1_only {
        std::fs::remove_file(masks.join(format!("{n}.nii.gz"))).unwrap();
    }
    let rep = run_ok(&scan, &masks, Some("totalsegmentator"), &tmp.path().join("table"), &["--no-parcellate"]);
    for (l, n, _) in listed(&rep) {
        assert_eq!(builtin.label_of(&n), Some(l as u32), "{n}");
    }
    assert!(listed(&rep).iter().any(|(l, n, _)| (*l, n.as_str()) == (75, "femur_left")));
    // One extra mask: refused, naming it (and only it).
    let like = masks.join("femur_left.nii.gz");
    let a = io::read_labels(&like).unwrap();
    let extra = Volume { grid: a.volume.grid, data: vec![0u8; a.volume.data.len()] };
    io::write_volume(&masks.join("my_extra_structure.nii.gz"), &extra, &WriteOptions::labels(1), Some(&a.header))
        .unwrap();
    let err = refused(
        &run(&scan, &masks, Some("totalsegmentator"), &out, &[]),
        &out,
        &["totalsegmentator: ", "my_extra_structure.nii.gz", s(&masks)],
    );
    assert!(!err.contains("femur_left"), "{err}");
}
