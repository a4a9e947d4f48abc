//! Candidate lesion voxels: the naive global threshold and the local hysteresis detector.
//!
//! - [`Method::Global`] (the baseline): inside the atlas and z > `z_threshold`, with z taken
//!   against the median and MAD of all atlas voxels ([`crate::threshold`]).
//! - [`Method::Local`]: z is taken against each atlas region's own median and MAD (red and
//!   yellow marrow, station gain steps and coil bias then cancel within a region; a region
//!   with too few voxels falls back to the whole-bone reference, and the spread has a floor
//!   so that a very uniform region does not magnify noise). Lesions are grown by hysteresis:
//!   a component of voxels above `grow_z` is kept only when it holds a seed voxel above
//!   `seed_z` that lies at least `edge_mm` inside the atlas, so bright structures that only
//!   touch the atlas edge (discs, periosteum, a misregistered atlas) never seed a lesion,
//!   while a lesion that reaches the edge or touches a physis keeps all of its voxels.

use crate::ccl::{self, Connectivity};
use crate::reference::{Reference, MAD_TO_SD};
use crate::volume::Volume;
use rayon::prelude::*;

/// Which detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One z threshold against all bone (the naive baseline).
    Global,
    /// Region-wise z, hysteresis and an atlas-edge guard.
    Local,
}

impl Method {
    /// `"global"` or `"local"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Global => "global",
            Method::Local => "local",
        }
    }
}

/// Settings of [`Method::Local`].
#[derive(Clone, Debug, PartialEq)]
pub struct LocalParams {
    /// A lesion needs a voxel above this region-wise z (away from the atlas edge).
    pub seed_z: f64,
    /// Lesion voxels are those above this region-wise z connected to a seed.
    pub grow_z: f64,
    /// Seeds must lie at least this far (mm) inside the atlas.
    pub edge_mm: f64,
    /// Regions with fewer voxels use the whole-bone reference.
    pub min_region_voxels: usize,
    /// The shared spread is at least this fraction of the whole-bone median.
    pub spread_floor: f64,
}

impl Default for LocalParams {
    fn default() -> LocalParams {
        LocalParams { seed_z: 10.0, grow_z: 6.0, edge_mm: 1.5, min_region_voxels: 200, spread_floor: 0.1 }
    }
}

/// Robust centre and spread of one region.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegionReference {
    /// Centre intensity (the [`CENTRE_QUANTILE`] of the region).
    pub median: f64,
    /// Robust standard deviation used for z (shared by all regions).
    pub sigma: f64,
}

/// Quantile of the region's intensities used as its centre: below the median so that a
/// lesion filling up to most of a small region does not lift its own reference.
pub const CENTRE_QUANTILE: f64 = 0.3;

/// Robust centre of every label's intensities (index = label) and one spread shared by all
/// regions: the MAD of every atlas voxel's deviation from its region's centre, floored at
/// `spread_floor` times the median centre. Labels with fewer than `min_region_voxels`
/// voxels take the whole-bone `fallback` centre.
pub fn region_references(
    scan: &[f32],
    atlas: &[u16],
    hist: &[u64],
    fallback: &Reference,
    p: &LocalParams,
) -> Vec<RegionReference> {
    let mut values: Vec<Vec<f32>> = hist.iter().map(|&n| Vec::with_capacity(n as usize)).collect();
    for (&v, &l) in scan.iter().zip(atlas) {
        if l != 0 && v.is_finite() {
            values[l as usize].push(v);
        }
    }
    let centres: Vec<f64> = values
        .par_iter_mut()
        .map(|v| {
            if v.len() < p.min_region_voxels.max(1) {
                return fallback.median;
            }
            let q = ((v.len() - 1) as f64 * CENTRE_QUANTILE) as usize;
            *v.select_nth_unstable_by(q, f32::total_cmp).1 as f64
        })
        .collect();
    let mut dev: Vec<f32> =
        values.iter().zip(&centres).flat_map(|(v, &c)| v.iter().map(move |&x| (x as f64 - c).abs() as f32)).collect();
    let sigma = if dev.is_empty() {
        fallback.sigma()
    } else {
        let n = dev.len();
        MAD_TO_SD * *dev.select_nth_unstable_by(n / 2, f32::total_cmp).1 as f64
    };
    let sigma = sigma.max(p.spread_floor * fallback.median.abs()).max(f64::MIN_POSITIVE);
    centres.into_iter().map(|median| RegionReference { median, sigma }).collect()
}

/// Atlas voxels at least `mm` inside the atlas along every axis (a box erosion by
/// `round(mm / spacing)` voxels per axis).
pub fn interior(atlas: &Volume<u16>, mm: f64) -> Vec<bool> {
    let dims = atlas.grid.dims;
    let spacing = atlas.grid.spacing();
    let mut inside: Vec<bool> = atlas.data.iter().map(|&l| l != 0).collect();
    for (axis, step) in spacing.iter().enumerate() {
        let r = (mm / step).round() as usize;
        if r > 0 {
            inside = erode_axis(&inside, dims, axis, r);
        }
    }
    inside
}

/// 1-D erosion along one axis: a voxel stays when the `r` voxels on each side along `axis`
/// are set (voxels beyond the volume count as unset).
fn erode_axis(m: &[bool], dims: [usize; 3], axis: usize, r: usize) -> Vec<bool> {
    let stride = [1, dims[0], dims[0] * dims[1]][axis];
    let n = dims[axis];
    let mut out = vec![false; m.len()];
    // Each line along `axis` starts at a voxel whose coordinate on `axis` is 0.
    let starts: Vec<usize> = (0..m.len()).filter(|&v| (v / stride) % n == 0).collect();
    let lines: Vec<(usize, Vec<bool>)> = starts
        .par_iter()
        .map(|&s| {
            // Distance to the nearest unset voxel on either side, in one forward and one
            // backward sweep.
            let mut fwd = vec![0usize; n];
            let mut run = 0usize;
            for t in 0..n {
                run = if m[s + t * stride] { run + 1 } else { 0 };
                fwd[t] = run;
            }
            let mut keep = vec![false; n];
            run = 0;
            for t in (0..n).rev() {
                run = if m[s + t * stride] { run + 1 } else { 0 };
                keep[t] = fwd[t] > r && run > r;
            }
            (s, keep)
        })
        .collect();
    for (s, keep) in lines {
        for (t, k) in keep.into_iter().enumerate() {
            out[s + t * stride] = k;
        }
    }
    out
}

/// Lesion voxels by the local detector: hysteresis from interior seeds over region-wise z.
pub fn local_candidates(
    scan: &Volume<f32>,
    atlas: &Volume<u16>,
    refs: &[RegionReference],
    p: &LocalParams,
    conn: Connectivity,
) -> Vec<bool> {
    let z = |v: f32, l: u16| {
        let r = &refs[l as usize];
        (v as f64 - r.median) / r.sigma
    };
    let grow: Vec<bool> =
        scan.data.par_iter().zip(&atlas.data).map(|(&v, &l)| l != 0 && v.is_finite() && z(v, l) > p.grow_z).collect();
    let inside = interior(atlas, p.edge_mm);
    let comps = ccl::label(&grow, scan.grid.dims, conn);
    let labels = comps.to_volume();
    let mut seeded = vec![false; comps.count + 1];
    for v in 0..labels.len() {
        let c = labels[v];
        if c != 0 && !seeded[c as usize] && inside[v] && z(scan.data[v], atlas.data[v]) > p.seed_z {
            seeded[c as usize] = true;
        }
    }
    labels.into_par_iter().map(|c| c != 0 && seeded[c as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    #[test]
    fn erosion_keeps_voxels_far_enough_from_the_edge() {
        let grid = Grid { dims: [9, 5, 3], affine: Affine::from_spacing_origin([1.0, 2.0, 5.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        // 2 mm: 2 voxels along i, 1 along j, 0 along k.
        let inside = interior(&atlas, 2.0);
        for k in 0..3 {
            for j in 0..5 {
                for i in 0..9 {
                    let want = (2..7).contains(&i) && (1..4).contains(&j);
                    assert_eq!(inside[grid.index(i, j, k)], want, "{i} {j} {k}");
                }
            }
        }
    }

    #[test]
    fn seeds_must_be_inside_and_growth_keeps_the_whole_component() {
        // One line of 12 voxels, all atlas; region median 100, sigma 10. The line is 1 voxel
        // thick along j and k, so those voxels are 10 mm: the 2 mm edge guard acts along i only.
        let grid = Grid { dims: [12, 1, 1], affine: Affine::from_spacing_origin([1.0, 10.0, 10.0], [0.0; 3]) };
        let atlas = Volume::filled(grid, 1u16);
        let refs = vec![RegionReference { median: 0.0, sigma: 1.0 }, RegionReference { median: 100.0, sigma: 10.0 }];
        let p = LocalParams { seed_z: 8.0, grow_z: 4.0, edge_mm: 2.0, ..LocalParams::default() };
        // A bright edge blob (0..2, z 10) never seeds; an inner lesion (5..8) seeds at 6 and
        // grows over 5..8 (z 5); 10 is bright but separate and unseeded... and at the edge.
        let mut v = vec![100.0f32; 12];
        v[0] = 200.0;
        v[1] = 200.0;
        v[5] = 150.0;
        v[6] = 190.0;
        v[7] = 150.0;
        v[10] = 190.0;
        let scan = Volume::from_vec(grid, v);
        let got = local_candidates(&scan, &atlas, &refs, &p, Connectivity::Corners26);
        let want: Vec<bool> = (0..12).map(|i| (5..8).contains(&i)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn region_references_use_a_low_quantile_centre_and_a_shared_spread() {
        // Region 1: 10 voxels 100..109 plus 4 bright lesion voxels; region 2: 10 voxels 50..59;
        // region 3: one voxel (falls back).
        let mut scan: Vec<f32> = (0..10).map(|i| 100.0 + i as f32).collect();
        scan.extend([400.0f32; 4]);
        scan.extend((0..10).map(|i| 50.0 + i as f32));
        scan.push(7.0);
        let mut atlas = vec![1u16; 14];
        atlas.extend([2u16; 10]);
        atlas.push(3);
        let hist = crate::reference::label_histogram(&atlas);
        let fb = Reference { method: "t".into(), median: 80.0, mad: 20.0, voxels: 25 };
        let p = LocalParams { min_region_voxels: 5, spread_floor: 0.0, ..LocalParams::default() };
        let r = region_references(&scan, &atlas, &hist[..4], &fb, &p);
        // 30% quantile: index 3 of 14 sorted in region 1, index 2 of 10 in region 2.
        assert_eq!((r[1].median, r[2].median, r[3].median), (103.0, 52.0, 80.0));
        assert_eq!(r[1].sigma, r[2].sigma);
        assert!(r[1].sigma > 0.0 && r[1].sigma < 20.0, "{}", r[1].sigma);
    }
}
