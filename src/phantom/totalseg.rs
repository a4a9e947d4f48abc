//! The phantom's atlas as TotalSegmentator would write it: whole bones with its class ids and
//! names (the CT `total` task, and its `appendicular_bones` task for the leg bones, numbered
//! after it), on its own coarser grid in another orientation, with the label names in a NIfTI
//! header extension as its `--ml` output stores them.

use crate::labels::totalsegmentator::{APPENDICULAR_BONES, TOTAL};
use crate::labels::{LabelTable, RegionInfo, Side};
use crate::resample;
use crate::volume::{Affine, Grid, Volume};

/// Voxel size of the TotalSegmentator-style atlas (mm): the resolution its models run at.
pub const SPACING_MM: f64 = 1.5;

/// The combined table: `total` (1..=117) then `appendicular_bones` (118..=128).
pub fn table() -> LabelTable {
    LabelTable::from_pairs(
        TOTAL.iter().chain(APPENDICULAR_BONES.iter()).enumerate().map(|(i, n)| (i as u32 + 1, n.to_string())),
    )
}

/// TotalSegmentator's class for one of the phantom's regions, if it has one.
pub fn class_of(region: &str) -> Option<String> {
    let info = RegionInfo::from_name(region);
    let side = match info.side {
        Side::Left => "left",
        Side::Right => "right",
        Side::Midline => "",
    };
    let lower = region.to_ascii_lowercase();
    let class = if let Some(level) = info.vertebral_level.as_deref() {
        if level.starts_with('S') && level != "S1" {
            "sacrum".to_string()
        } else {
            format!("vertebrae_{level}")
        }
    } else if lower.starts_with("ilium")
        || lower.starts_with("acetabulum")
        || lower.starts_with("ischium")
        || lower.starts_with("pubis")
    {
        format!("hip_{side}")
    } else if lower.starts_with("femur") {
        format!("femur_{side}")
    } else if lower.starts_with("humerus") {
        format!("humerus_{side}")
    } else if lower.starts_with("clavicle") {
        format!("clavicula_{side}")
    } else if lower.starts_with("tibia") {
        "tibia".to_string()
    } else if lower.starts_with("fibula") {
        "fibula".to_string()
    } else if lower.starts_with("calcaneus") {
        "tarsal".to_string()
    } else if lower == "sternum" {
        "sternum".to_string()
    } else {
        return None;
    };
    Some(class)
}

/// The grid TotalSegmentator would write: `SPACING_MM` isotropic, LPS voxel order, covering
/// the same world box as `fine`.
pub fn grid(fine: &Grid) -> Grid {
    let corners: Vec<[f64; 3]> = (0..8)
        .map(|c| {
            let ijk = [0, 1, 2].map(|a| if c >> a & 1 == 1 { fine.dims[a] as f64 - 0.5 } else { -0.5 });
            fine.affine.voxel_to_world(ijk)
        })
        .collect();
    let lo = [0, 1, 2].map(|a| corners.iter().map(|p| p[a]).fold(f64::INFINITY, f64::min));
    let hi = [0, 1, 2].map(|a| corners.iter().map(|p| p[a]).fold(f64::NEG_INFINITY, f64::max));
    let s = SPACING_MM;
    let dims = [0, 1, 2].map(|a| ((hi[a] - lo[a]) / s).ceil() as usize);
    let mut m = Affine::from_spacing_origin([s; 3], [0.0; 3]);
    // i toward the subject's left (x falling), j toward posterior (y falling), k superior.
    m.0[0] = [-s, 0.0, 0.0, hi[0] - s / 2.0];
    m.0[1] = [0.0, -s, 0.0, hi[1] - s / 2.0];
    m.0[2] = [0.0, 0.0, s, lo[2] + s / 2.0];
    Grid { dims, affine: m }
}

/// The phantom's fine atlas (named by `labels`) as a TotalSegmentator-style atlas and its
/// table.
pub fn atlas(fine: &Volume<u16>, labels: &LabelTable) -> (Volume<u8>, LabelTable) {
    let table = table();
    let mut to_ts = vec![0u8; labels.max_label() as usize + 1];
    for (l, name) in labels.iter() {
        if let Some(class) = class_of(name) {
            to_ts[l as usize] = table.label_of(&class).expect("a TotalSegmentator class") as u8;
        }
    }
    let whole = Volume { grid: fine.grid, data: fine.data.iter().map(|&l| to_ts[l as usize]).collect::<Vec<u8>>() };
    let (coarse, _) = resample::to_grid(&whole, &grid(&fine.grid)).expect("the same world box overlaps");
    (coarse, table)
}

/// The label names as TotalSegmentator's `--ml` output stores them in a NIfTI header
/// extension (code 0): Caret label-table XML.
pub fn caret_xml(table: &LabelTable) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?> <CaretExtension>  <VolumeInformation Index=\"0\">   <LabelTable>\n",
    );
    for (l, name) in table.iter() {
        s.push_str(&format!(
            "<Label Key=\"{l}\" Red=\"1.0\" Green=\"0.0\" Blue=\"0.0\" Alpha=\"1\"><![CDATA[{name}]]></Label>\n"
        ));
    }
    s.push_str("  </LabelTable>  <VolumeType><![CDATA[Label]]></VolumeType>   </VolumeInformation></CaretExtension>\n");
    s
}
