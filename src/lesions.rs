//! Per-lesion statistics and atlas regions, from the foreground runs only.
//!
//! One pass over the labelled runs of [`crate::ccl::Components`] accumulates, per component,
//! its voxel count, index sums (for the centroid), bounding box, intensity sum and peak, and
//! how many of its voxels fall in each atlas label. Components below the minimum volume are
//! dropped; the rest become lesions numbered 1..N from head to foot (descending world z of
//! the centroid; ties by the subject's right first, then anterior first).

use crate::ccl::Components;
use crate::labels::{LabelTable, RegionInfo};
use crate::reference::Reference;
use crate::volume::{Label, Volume};
use serde::Serialize;
use std::collections::BTreeMap;

/// One atlas region a lesion overlaps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionOverlap {
    /// Region name from the label table.
    pub name: String,
    /// Atlas label value.
    pub label: u32,
    /// Lesion voxels in this region.
    pub voxels: u64,
    /// Share of the lesion's voxels in this region.
    pub fraction_of_lesion: f64,
    /// Share of the region's voxels that belong to the lesion (CROMRIS extent).
    pub fraction_of_region: f64,
}

/// Intensity statistics of a lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Intensity {
    /// Mean intensity.
    pub mean: f64,
    /// Maximum intensity.
    pub max: f64,
    /// z-score of the mean against the reference.
    pub z_mean: f64,
    /// z-score of the maximum.
    pub z_max: f64,
    /// Mean intensity divided by the reference median.
    pub ratio_to_reference: f64,
    /// Mean intensity divided by the normal-marrow level of the lesion's region, the local
    /// detector's own measure (`None` until the report is assembled, and with the global
    /// detector, which has no region levels).
    pub ratio_to_marrow: Option<f64>,
}

/// A detected lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lesion {
    /// 1..N, head to foot.
    pub id: u32,
    /// The atlas region holding most of the lesion's voxels.
    pub region: String,
    /// The atlas's own label that `region` lies in: the same as `region` unless a whole-bone
    /// label was parcellated into sub-regions (`hip_right` for `acetabulum_roof_right`).
    pub bone_label: String,
    /// The whole bone of `region` (e.g. `hip_right` for `acetabulum_roof_right`).
    pub bone: String,
    /// Bone class of `region` (vertebra, sacrum, pelvis, femur, ...).
    pub bone_class: String,
    /// Vertebral level of `region`, for vertebral bodies and sacral segments.
    pub vertebral_level: Option<String>,
    /// Every overlapped region, most voxels first.
    pub regions: Vec<RegionOverlap>,
    /// The subject's side of `region`.
    pub side: String,
    /// Voxel count.
    pub voxels: u64,
    /// Volume in mm^3 (voxels times the voxel volume).
    pub volume_mm3: f64,
    /// Share of `region`'s voxels in the lesion.
    pub fraction_of_region: f64,
    /// Unweighted mean of the voxel centres, RAS+ world mm.
    pub centroid_mm: [f64; 3],
    /// The same centroid in voxel indices.
    pub centroid_voxel: [f64; 3],
    /// Centre of the brightest voxel (the first in memory order on ties), RAS+ world mm.
    pub peak_mm: [f64; 3],
    /// Half-open voxel bounding box `[[i0, j0, k0], [i1, j1, k1]]`.
    pub bbox_voxel: [[usize; 3]; 2],
    /// Intensity statistics.
    pub intensity: Intensity,
}

impl Lesion {
    /// A lesion `id` in `region` (also its bone and bone label), midline, of one voxel with
    /// every other figure zero or empty: the base of a test's own lesions.
    #[cfg(test)]
    pub(crate) fn example(id: u32, region: &str) -> Lesion {
        Lesion {
            id,
            region: region.into(),
            bone_label: region.into(),
            bone: region.into(),
            bone_class: String::new(),
            vertebral_level: None,
            regions: vec![],
            side: "midline".into(),
            voxels: 1,
            volume_mm3: 0.0,
            fraction_of_region: 0.0,
            centroid_mm: [0.0; 3],
            centroid_voxel: [0.0; 3],
            peak_mm: [0.0; 3],
            bbox_voxel: [[0; 3]; 2],
            intensity: Intensity {
                mean: 0.0,
                max: 0.0,
                z_mean: 0.0,
                z_max: 0.0,
                ratio_to_reference: 0.0,
                ratio_to_marrow: None,
            },
        }
    }

    /// The longest side of the lesion's bounding box in mm, given the voxel size along each
    /// voxel axis.
    pub fn extent_mm(&self, spacing: [f64; 3]) -> f64 {
        let [lo, hi] = self.bbox_voxel;
        (0..3).map(|a| (hi[a] - lo[a]) as f64 * spacing[a]).fold(0.0, f64::max)
    }
}

#[derive(Clone)]
struct Acc {
    voxels: u64,
    sum: [u64; 3],
    lo: [usize; 3],
    hi: [usize; 3],
    isum: f64,
    imax: f32,
    peak: [usize; 3],
    labels: BTreeMap<u32, u64>,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            voxels: 0,
            sum: [0; 3],
            lo: [usize::MAX; 3],
            hi: [0; 3],
            isum: 0.0,
            imax: f32::NEG_INFINITY,
            peak: [0; 3],
            labels: BTreeMap::new(),
        }
    }

    /// Adds the voxels `i0..i1` of row `j`, slice `k` (the row starting at `base` in `scan`
    /// and `atlas`).
    fn add_run<L: Label>(&mut self, (i0, i1): (usize, usize), (j, k): (usize, usize), base: usize, inp: &Inputs<L>) {
        let n = (i1 - i0) as u64;
        self.voxels += n;
        self.sum[0] += (i0 as u64 + i1 as u64 - 1) * n / 2;
        self.sum[1] += j as u64 * n;
        self.sum[2] += k as u64 * n;
        self.lo = [self.lo[0].min(i0), self.lo[1].min(j), self.lo[2].min(k)];
        self.hi = [self.hi[0].max(i1), self.hi[1].max(j + 1), self.hi[2].max(k + 1)];
        for i in i0..i1 {
            let v = inp.scan.data[base + i];
            self.isum += v as f64;
            if v > self.imax {
                self.imax = v;
                self.peak = [i, j, k];
            }
            *self.labels.entry(inp.atlas[base + i].into()).or_insert(0) += 1;
        }
    }

    /// The atlas regions the component overlaps: most voxels first, on ties the lower label
    /// value first (`BTreeMap` order, stable sort).
    fn regions<L>(&self, inp: &Inputs<L>) -> Vec<RegionOverlap> {
        let n = self.voxels as f64;
        let mut regions: Vec<RegionOverlap> = self
            .labels
            .iter()
            .map(|(&l, &c)| RegionOverlap {
                name: if l == 0 { "outside_atlas".into() } else { inp.table.name(l).unwrap_or("unknown").into() },
                label: l,
                voxels: c,
                fraction_of_lesion: c as f64 / n,
                fraction_of_region: if l == 0 { 0.0 } else { c as f64 / inp.region_voxels[l as usize].max(1) as f64 },
            })
            .collect();
        regions.sort_by_key(|r| std::cmp::Reverse(r.voxels));
        regions
    }

    /// The lesion (not yet numbered) this component makes.
    fn lesion<L>(&self, inp: &Inputs<L>) -> Lesion {
        let grid = &inp.scan.grid;
        let n = self.voxels as f64;
        let centroid_voxel = self.sum.map(|s| s as f64 / n);
        let regions = self.regions(inp);
        let main = regions.iter().find(|r| r.label != 0).unwrap_or(&regions[0]).clone();
        let info = inp.table.info(main.label).unwrap_or_else(|| RegionInfo::from_name(&main.name));
        let (mean, max) = (self.isum / n, self.imax as f64);
        let reference = inp.reference;
        Lesion {
            id: 0,
            region: main.name.clone(),
            bone_label: inp.bone_label.and_then(|m| m.get(&main.label)).cloned().unwrap_or_else(|| main.name.clone()),
            bone: info.bone,
            bone_class: info.bone_class.as_str().into(),
            vertebral_level: info.vertebral_level,
            regions,
            side: info.side.as_str().into(),
            voxels: self.voxels,
            volume_mm3: n * grid.affine.voxel_volume_mm3(),
            fraction_of_region: main.fraction_of_region,
            centroid_mm: grid.affine.voxel_to_world(centroid_voxel),
            centroid_voxel,
            peak_mm: grid.affine.voxel_to_world(self.peak.map(|x| x as f64)),
            bbox_voxel: [self.lo, self.hi],
            intensity: Intensity {
                mean,
                max,
                z_mean: reference.z(mean),
                z_max: reference.z(max),
                ratio_to_reference: mean / reference.median,
                ratio_to_marrow: None,
            },
        }
    }
}

/// What [`measure`] needs besides the components.
pub struct Inputs<'a, L> {
    /// The scan intensities.
    pub scan: &'a Volume<f32>,
    /// The atlas labels on the scan's grid.
    pub atlas: &'a [L],
    /// The label table.
    pub table: &'a LabelTable,
    /// Voxel count of every atlas label ([`crate::reference::BoneSamples::hist`]).
    pub region_voxels: &'a [u64],
    /// The reference statistics.
    pub reference: &'a Reference,
    /// For a parcellated atlas: the atlas label each region came from.
    pub bone_label: Option<&'a BTreeMap<u32, String>>,
}

/// Measures every component, drops those under `min_volume_mm3`, and returns the lesions in
/// id order plus, for each component label (index = label), its lesion id or 0 if dropped.
pub fn measure<L: Label>(comps: &Components, inp: &Inputs<L>, min_volume_mm3: f64) -> (Vec<Lesion>, Vec<u16>) {
    let [nx, ny, _] = inp.scan.grid.dims;
    let mut acc = vec![Acc::new(); comps.count + 1];
    comps.for_each_run(|row, run, label| {
        acc[label as usize].add_run((run.start as usize, run.end as usize), (row % ny, row / ny), nx * row, inp);
    });
    let voxel_mm3 = inp.scan.grid.affine.voxel_volume_mm3();
    let lesions: Vec<(u32, Lesion)> = acc
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, a)| a.voxels > 0 && a.voxels as f64 * voxel_mm3 >= min_volume_mm3)
        .map(|(label, a)| (label as u32, a.lesion(inp)))
        .collect();
    number_head_to_foot(lesions, comps.count)
}

/// Numbers the lesions 1..N from head to foot (descending world z of the centroid; ties by
/// the subject's right first, then anterior first, then component label), and maps each of
/// the `count` component labels to its lesion id (0 for none).
fn number_head_to_foot(mut lesions: Vec<(u32, Lesion)>, count: usize) -> (Vec<Lesion>, Vec<u16>) {
    lesions.sort_by(|(la, a), (lb, b)| {
        b.centroid_mm[2]
            .total_cmp(&a.centroid_mm[2])
            .then(b.centroid_mm[0].total_cmp(&a.centroid_mm[0]))
            .then(b.centroid_mm[1].total_cmp(&a.centroid_mm[1]))
            .then(la.cmp(lb))
    });
    let mut to_id = vec![0u16; count + 1];
    let lesions = lesions
        .into_iter()
        .enumerate()
        .map(|(n, (label, mut l))| {
            l.id = n as u32 + 1;
            to_id[label as usize] = l.id as u16;
            l
        })
        .collect();
    (lesions, to_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ccl::{label, Connectivity};
    use crate::volume::{Affine, Grid};

    #[test]
    fn statistics_of_two_boxes() {
        // A 10x6x8 grid, 2 mm voxels, two boxes: a big one low (k 1..3) and a small one high.
        let grid = Grid { dims: [10, 6, 8], affine: Affine::from_spacing_origin([2.0, 2.0, 2.0], [-10.0, 0.0, 0.0]) };
        let mut scan = Volume::filled(grid, 10.0f32);
        let mut atlas = vec![0u16; grid.len()];
        let mut mask = vec![false; grid.len()];
        for k in 0..grid.dims[2] {
            for j in 0..grid.dims[1] {
                for i in 0..grid.dims[0] {
                    let v = grid.index(i, j, k);
                    atlas[v] = if i < 5 { 1 } else { 2 };
                    let big = (1..4).contains(&i) && (1..3).contains(&j) && (1..3).contains(&k);
                    let small = i == 8 && j == 4 && k == 6;
                    if big || small {
                        mask[v] = true;
                        scan.data[v] = 50.0 + i as f32;
                    }
                }
            }
        }
        let comps = label(&mask, grid.dims, Connectivity::Corners26);
        let table = LabelTable::from_pairs([(1, "femur_neck_left"), (2, "femur_shaft_left")]);
        let hist = crate::reference::BoneSamples::gather(&scan.data, &atlas).hist;
        let reference = Reference { method: "t".into(), median: 10.0, mad: 1.0, voxels: 1 };
        let inp = Inputs {
            scan: &scan,
            atlas: &atlas,
            table: &table,
            region_voxels: &hist,
            reference: &reference,
            bone_label: None,
        };
        let (lesions, to_id) = measure(&comps, &inp, 0.0);
        assert_eq!(lesions.len(), 2);
        // Head to foot: the small high one first.
        assert_eq!(lesions[0].voxels, 1);
        assert_eq!(lesions[0].region, "femur_shaft_left");
        let big = &lesions[1];
        assert_eq!(big.id, 2);
        assert_eq!(big.voxels, 12);
        assert_eq!(big.volume_mm3, 96.0);
        assert_eq!(big.centroid_voxel, [2.0, 1.5, 1.5]);
        assert_eq!(big.centroid_mm, [-6.0, 3.0, 3.0]);
        assert_eq!(big.bbox_voxel, [[1, 1, 1], [4, 3, 3]]);
        assert_eq!(big.intensity.max, 53.0);
        assert_eq!(big.peak_mm, grid.affine.voxel_to_world([3.0, 1.0, 1.0]));
        assert_eq!(big.intensity.mean, 52.0);
        assert_eq!(big.side, "left");
        assert_eq!(big.bone, "femur_left");
        assert!((big.fraction_of_region - 12.0 / 240.0).abs() < 1e-12);
        assert_eq!(to_id[1..].iter().filter(|&&x| x != 0).count(), 2);
        // The minimum volume drops the single voxel (8 mm^3).
        let (kept, to_id) = measure(&comps, &inp, 10.0);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, 1);
        assert_eq!(to_id.iter().filter(|&&x| x != 0).count(), 1);
    }
}
