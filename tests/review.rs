//! The review page's files (the browser test, scripts/browser-test.sh, drives the page
//! itself): every file is in the output folder, the page and its script name nothing outside
//! it, the data carries the report's lesions and staging, hostile names only as JSON strings,
//! and large scans get a downsampled copy.

use crate::util::*;

fn data(out: &std::path::Path) -> serde_json::Value {
    let js = std::fs::read_to_string(out.join("review/data.js")).unwrap();
    let json = js.trim().strip_prefix("window.CRMO_REVIEW = ").unwrap().strip_suffix(';').unwrap();
    serde_json::from_str(json).unwrap()
}

#[test]
fn the_page_its_files_and_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let hostile = "<script>alert(1)</script>";
    let table = tmp.path().join("hostile.tsv");
    std::fs::write(
        &table,
        format!("index\tname\tbone_class\tside\n1\t{hostile}\tpelvis\tright\n2\tfemur_neck_left\tfemur\tleft\n"),
    )
    .unwrap();
    let mut args = tiny_args("labels.tsv");
    args[6] = s(&table).to_string();
    args.extend(["--quiet".into(), "--out".into(), s(&out).into()]);
    crmo_ok(&args);
    let rep = json(&out.join("report.json"));
    for f in [
        "review.html",
        "review/app.js",
        "review/data.js",
        "review/NIIVUE-LICENSE.txt",
        "review/lesion-1.png",
        "review/lesion-2.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(out.join("review/niivue.umd.js").is_file(), crmo_map::review::has_viewer());
    // Nothing outside the folder: no address in the page or its script.
    for f in ["review.html", "review/app.js"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        for scheme in ["http:", "https:", "//cdn", "fetch("] {
            assert!(!text.contains(scheme), "{f} mentions {scheme}");
        }
    }
    // The hostile name reaches the page only inside the data, as a JSON string.
    assert!(!std::fs::read_to_string(out.join("review.html")).unwrap().contains("alert"));
    let d = data(&out);
    assert_eq!(d["lesions"][0]["region"], hostile);
    assert_eq!(d["lesions"].as_array().unwrap().len(), rep["lesions"].as_array().unwrap().len());
    assert_eq!(d["staging"], rep["staging"]);
    assert_eq!(d["reduced"], false);
    for v in ["scan", "lesions", "regions"] {
        assert!(d["volumes"][v].as_str().unwrap().len() > 100, "{v}");
    }
    assert_eq!(d["lesions"][0]["colour"], crmo_map::palette::hex(crmo_map::palette::lesion_colour(1)));
}

/// A scan above the review size limit gets a downsampled copy in the page, said so.
#[test]
fn a_large_scan_gets_a_downsampled_review_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    // The founding case at 1.0 x 4 x 1.0 mm: about 18 M voxels.
    phantom(&input, &["--spacing", "1.0", "4", "1.0"]);
    let out = tmp.path().join("o");
    run_on(&input, &out, &[]);
    let d = data(&out);
    assert_eq!(d["reduced"], true);
    assert_eq!(d["factor"], serde_json::json!([2, 1, 2]));
}
