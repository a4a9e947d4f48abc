//! The loader on odd but valid files, checked against nibabel as an independent reader.

use crate::util::*;
use crmo_map::io::{read_labels, read_scan};
use std::process::Command;

#[test]
fn edge_fixtures_read_as_nibabel_reads_them() {
    let names = [
        "nan-slope.nii",
        "qfac-zero.nii",
        "4d-t1.nii.gz",
        "multi-member.nii.gz",
        "big-endian.nii",
        "scaled-int32.nii.gz",
    ];
    let files: Vec<_> = names.iter().map(|n| fixture("edge").join(n)).collect();
    // nibabel's values (Fortran order, i fastest) and affine for each file, as JSON.
    let script = "import sys, json, nibabel as nib, numpy as np\n\
        out = []\n\
        for f in sys.argv[1:]:\n\
        \x20   im = nib.load(f)\n\
        \x20   d = np.asarray(im.get_fdata()).reshape(im.shape[:3], order='F')\n\
        \x20   out.append({'data': d.ravel(order='F').tolist(), 'affine': im.affine.tolist()})\n\
        print(json.dumps(out))\n";
    let res = Command::new(python()).arg("-c").arg(script).args(&files).output().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let want: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    for (i, f) in files.iter().enumerate() {
        let got = read_scan(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let w = &want[i];
        let data: Vec<f64> = w["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(got.volume.data.iter().map(|&v| v as f64).collect::<Vec<_>>(), data, "{}", names[i]);
        for r in 0..4 {
            for c in 0..4 {
                let a = w["affine"][r][c].as_f64().unwrap();
                assert!((got.volume.grid.affine.0[r][c] - a).abs() < 1e-4, "{} affine[{r}][{c}]", names[i]);
            }
        }
    }
}

#[test]
fn label_volumes_must_hold_whole_numbers() {
    // scaled-int32 holds -4 .. 42: negative labels are refused with the file named.
    let err = read_labels(&fixture("edge/scaled-int32.nii.gz")).unwrap_err().to_string();
    assert!(err.contains("scaled-int32.nii.gz") && err.contains("-4"), "{err}");
    let ok = read_labels(&fixture("edge/4d-t1.nii.gz")).unwrap();
    assert_eq!(ok.volume.data, (0..24).collect::<Vec<u16>>());
}

#[test]
fn the_tiny_fixture_has_nibabels_affine() {
    let f = fixture("tiny/scan.nii.gz");
    let got = read_scan(&f).unwrap();
    assert_eq!(got.volume.grid.affine.axcodes(), "LPS");
    assert_eq!(got.datatype.name(), "int16");
    // Stored as value / 0.5: the marrow background of 40 reads back as 40.
    assert_eq!(got.volume.data[0], 40.0);
}
