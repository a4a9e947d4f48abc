//! `review.html`: a page a clinician opens from the output folder (`file://`, offline, no
//! request outside the folder) to check every lesion on the scan.
//!
//! - The scan, the lesion map and the region map in NiiVue (bundled by `build.rs`, its
//!   licence beside it), coronal, sagittal and axial, radiological by default with a toggle;
//!   the volumes are review copies ([`copy`]: the full grid up to
//!   [`copy::MAX_REVIEW_VOXELS`], else downsampled in-plane), carried inside
//!   `review/data.js` because browsers do not let a `file://` page fetch files.
//! - Beside it the lesion table and the staging summary; clicking a row (or the keys n / p)
//!   moves the crosshair to that lesion and zooms onto it; clicking a lesion in the image
//!   selects its row.
//! - Without WebGL2 (or without NiiVue in the build) the page shows `overview.png` and a
//!   slice through each lesion (`review/lesion-<id>.png`).
//!
//! Every string from the inputs reaches the page as JSON data and is set as text by
//! `review/app.js`, never parsed as HTML.

pub mod copy;

use crate::io::Loaded;
use crate::palette::{self, Rgb};
use crate::regions::RegionRow;
use crate::render;
use crate::report::Report;
use crate::viewer_tables;
use crate::volume::{Label, Volume};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

/// The page.
const PAGE: &str = include_str!("page.html");
/// Its script.
const APP: &str = include_str!("app.js");
/// NiiVue's UMD bundle (empty when the build had no npm).
const NIIVUE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/niivue.umd.js"));
/// NiiVue's licence, shipped beside the bundle.
const NIIVUE_LICENSE: &str = include_str!("NIIVUE-LICENSE.txt");

/// One lesion as the page shows it.
#[derive(Serialize)]
struct PageLesion<'a> {
    id: u32,
    region: &'a str,
    side: &'a str,
    volume_mm3: f64,
    /// Mean signal over its region's normal marrow (`None`, shown as a dash, with the global
    /// detector).
    ratio_to_marrow: Option<f64>,
    z_max: f64,
    fraction_of_region: f64,
    centroid_mm: [f64; 3],
    /// Where the crosshair goes: the lesion's voxel nearest its centroid (world mm); a
    /// curved lesion's centroid can lie outside it.
    anchor_mm: [f64; 3],
    /// Longest side of its bounding box (mm), to zoom onto it.
    extent_mm: f64,
    colour: String,
}

/// A NiiVue label colour map (`ColorMap`: parallel arrays, `I` the label values).
fn label_lut(entries: impl Iterator<Item = (u32, Rgb, String)>) -> serde_json::Value {
    let (mut r, mut g, mut b, mut a, mut i, mut labels) =
        (vec![0u8], vec![0u8], vec![0u8], vec![0u8], vec![0u32], vec![String::new()]);
    for (index, c, name) in entries {
        r.push(c[0]);
        g.push(c[1]);
        b.push(c[2]);
        a.push(255);
        i.push(index);
        labels.push(name);
    }
    json!({"R": r, "G": g, "B": b, "A": a, "I": i, "labels": labels})
}

/// The page's lesions: table fields, where to put the crosshair, the colour.
fn page_lesions<'a>(rep: &'a Report, lesion_map: &Volume<u16>) -> Vec<PageLesion<'a>> {
    let grid = lesion_map.grid;
    let spacing = grid.spacing();
    rep.lesions
        .iter()
        .map(|l| PageLesion {
            id: l.id,
            region: &l.region,
            side: &l.side,
            volume_mm3: l.volume_mm3,
            ratio_to_marrow: l.intensity.ratio_to_marrow,
            z_max: l.intensity.z_max,
            fraction_of_region: l.fraction_of_region,
            centroid_mm: l.centroid_mm,
            anchor_mm: grid.affine.voxel_to_world(nearest_voxel(lesion_map, l.id, l.centroid_voxel, l.bbox_voxel)),
            extent_mm: l.extent_mm(spacing),
            colour: palette::hex(palette::lesion_colour(l.id)),
        })
        .collect()
}

/// The voxel of lesion `id` nearest `centre` (voxel indices; its bounding box is searched),
/// or `centre` itself when the map has none there.
fn nearest_voxel(map: &Volume<u16>, id: u32, centre: [f64; 3], [lo, hi]: [[usize; 3]; 2]) -> [f64; 3] {
    let g = map.grid;
    let hi = [0, 1, 2].map(|a| hi[a].min(g.dims[a]));
    let mut best = (f64::INFINITY, centre);
    for k in lo[2]..hi[2] {
        for j in lo[1]..hi[1] {
            for i in lo[0]..hi[0] {
                if map.data[g.index(i, j, k)] as u32 == id {
                    let v = [i as f64, j as f64, k as f64];
                    let d: f64 = (0..3).map(|a| (v[a] - centre[a]).powi(2)).sum();
                    if d < best.0 {
                        best = (d, v);
                    }
                }
            }
        }
    }
    best.1
}

/// `review/data.js`: the volumes (base64 `.nii.gz`) and everything the page lists.
fn data_js<L: Label + crate::io::Storable>(
    rep: &Report,
    scan: &Loaded<f32>,
    lesion_map: &Volume<u16>,
    atlas: &Volume<L>,
    rows: &[RegionRow],
    overview: &str,
) -> String {
    let grid = scan.volume.grid;
    let f = copy::factors(&grid);
    let rest = json!({
        "scan": rep.input.scan,
        "warnings": rep.input.warnings,
        "version": rep.software.version,
        "overview": overview,
        "reduced": f != [1, 1, 1],
        "factor": f,
        "lesions": page_lesions(rep, lesion_map),
        "lesion_lut": label_lut(rep.lesions.iter().map(|l| (l.id, palette::lesion_colour(l.id), viewer_tables::lesion_name(l)))),
        "region_lut": label_lut(rows.iter().map(|r| (r.index, r.colour, r.name.clone()))),
        "summary": rep.summary,
        "staging": rep.staging,
        "equivocal": rep.equivocal_foci.iter().map(|f| json!({
            "region": f.region,
            "volume_mm3": f.volume_mm3,
            "ratio_to_marrow": f.intensity.ratio_to_marrow,
            "centroid_mm": f.centroid_mm,
        })).collect::<Vec<_>>(),
        "variant_focus_mm": rep.parameters.local.as_ref().map(|l| l.variant_focus_mm),
    })
    .to_string();
    // The volumes go straight into the script as base64 (no second copy of them in a JSON
    // value): each copy is encoded, appended and dropped in turn, the scan first.
    let mut js = String::from("window.CRMO_REVIEW = {\"volumes\": {");
    let mut append = |name: &str, bytes: Vec<u8>| {
        js.reserve(bytes.len() / 3 * 4 + 16);
        js.push_str(&format!("{}\"{name}\": \"", if name == "scan" { "" } else { ", " }));
        base64_engine::encode_into(&bytes, &mut js);
        js.push('"');
    };
    append("scan", copy::scan_copy(&scan.volume, f));
    append("lesions", copy::label_copy(lesion_map, f, true));
    append("regions", copy::label_copy(atlas, f, false));
    js.push_str("}, ");
    js.push_str(&rest[1..]);
    js.push_str(";\n");
    js
}

/// Every file of the review page, as (path in the output folder, bytes): `review.html` and
/// the `review/` folder (script, NiiVue and its licence, data, one slice picture per lesion).
pub fn files<L: Label + crate::io::Storable>(
    rep: &Report,
    scan: &Loaded<f32>,
    lesion_map: &Volume<u16>,
    atlas: &Volume<L>,
    rows: &[RegionRow],
    overview: &str,
) -> crate::error::Result<Vec<(String, Vec<u8>)>> {
    let (data, slices) = rayon::join(
        || data_js(rep, scan, lesion_map, atlas, rows, overview),
        || {
            rep.lesions
                .par_iter()
                .map(|l| {
                    let img = render::slices::lesion_slice(
                        &scan.volume,
                        lesion_map,
                        l.id,
                        &l.region,
                        l.centroid_voxel,
                        l.bbox_voxel,
                    );
                    let name = format!("review/lesion-{}.png", l.id);
                    render::encode_png_as(&img, &name).map(|b| (name, b))
                })
                .collect::<crate::error::Result<Vec<_>>>()
        },
    );
    let mut out = vec![
        ("review.html".to_string(), PAGE.as_bytes().to_vec()),
        ("review/app.js".to_string(), APP.as_bytes().to_vec()),
        ("review/data.js".to_string(), data.into_bytes()),
        ("review/NIIVUE-LICENSE.txt".to_string(), NIIVUE_LICENSE.as_bytes().to_vec()),
    ];
    if !NIIVUE.is_empty() {
        out.push(("review/niivue.umd.js".to_string(), NIIVUE.to_vec()));
    }
    out.extend(slices?);
    Ok(out)
}

/// The review page's files that are the same in every run (page, script, viewer and its
/// licence), as [`files`] gives them.
pub fn bundled() -> [&'static [u8]; 4] {
    [PAGE.as_bytes(), APP.as_bytes(), NIIVUE, NIIVUE_LICENSE.as_bytes()]
}

/// Whether this build carries NiiVue (else the page shows its static pictures).
pub fn has_viewer() -> bool {
    !NIIVUE.is_empty()
}

/// Standard base64 (RFC 4648, with padding), for the volumes inside `data.js`.
mod base64_engine {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// `bytes` in base64.
    #[cfg(test)]
    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        encode_into(bytes, &mut out);
        out
    }

    /// Appends `bytes` in base64 to `out`.
    pub fn encode_into(bytes: &[u8], out: &mut String) {
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn rfc_4648_vectors() {
            let cases =
                [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
            for (plain, coded) in cases {
                assert_eq!(super::encode(plain.as_bytes()), coded);
            }
        }
    }
}
