//! The review page's copies of the scan and the two label maps: the full grid when it is
//! small enough to open in a few seconds, else downsampled in-plane (the two finest axes) by a
//! whole factor. The scan is stored as int16 with a scaling, the maps as uint8 where their
//! values fit.

use crate::io::{self, Datatype, WriteOptions};
use crate::volume::{Affine, Grid, Label, Volume};
use rayon::prelude::*;

/// Most voxels of a review copy: about 16 MB of int16, a second or two to open in a browser.
pub const MAX_REVIEW_VOXELS: usize = 8_000_000;

/// The downsampling factor along each axis of `grid`: 1 when it holds at most
/// [`MAX_REVIEW_VOXELS`], else the least whole factor on its two finest axes that gets there.
pub fn factors(grid: &Grid) -> [usize; 3] {
    let n = grid.len();
    if n <= MAX_REVIEW_VOXELS {
        return [1; 3];
    }
    let s = grid.spacing();
    let coarsest = (0..3).max_by(|&a, &b| s[a].total_cmp(&s[b]).then(b.cmp(&a))).unwrap_or(2);
    let mut f = 2;
    let shrunk = |f: usize| {
        (0..3).map(|a| if a == coarsest { grid.dims[a] } else { grid.dims[a].div_ceil(f) }).product::<usize>()
    };
    while shrunk(f) > MAX_REVIEW_VOXELS && f < 64 {
        f += 1;
    }
    let mut out = [f; 3];
    out[coarsest] = 1;
    out
}

/// The grid of a copy downsampled by `f`: each new voxel the block of `f` old ones, centred
/// on the block's centre in world space.
pub fn reduced_grid(grid: &Grid, f: [usize; 3]) -> Grid {
    let dims = [0, 1, 2].map(|a| grid.dims[a].div_ceil(f[a]));
    let m = grid.affine.0;
    let mut out = m;
    for a in 0..3 {
        for r in 0..3 {
            out[r][a] = m[r][a] * f[a] as f64;
        }
    }
    for r in 0..3 {
        out[r][3] = m[r][3] + (0..3).map(|a| m[r][a] * (f[a] as f64 - 1.0) / 2.0).sum::<f64>();
    }
    Grid { dims, affine: Affine(out) }
}

/// The full grid's lines (along `i`) under reduced row (`j`, `k`): `f[1] x f[2]` of them.
fn block_lines<T>(vol: &Volume<T>, f: [usize; 3], j: usize, k: usize) -> impl Iterator<Item = &[T]> {
    let [nx, ny, nz] = vol.grid.dims;
    (k * f[2]..((k + 1) * f[2]).min(nz)).flat_map(move |kk| {
        (j * f[1]..((j + 1) * f[1]).min(ny)).map(move |jj| {
            let start = vol.grid.index(0, jj, kk);
            &vol.data[start..start + nx]
        })
    })
}

/// Reduced row `row` (of `ny` rows per reduced slice) of `scan` reduced by `f` into `out`:
/// each block to the mean of its finite values (0 where it has none), summed in memory order
/// into `sum` and `count` (scratch of the row's length). A reduced row reads its block's full
/// rows once; the sums are plain loops over the rows (no per-voxel closure), so they vectorise
/// where the first axis is not reduced.
fn row_means(scan: &Volume<f32>, f: [usize; 3], (ny, row): (usize, usize), scratch: &mut RowScratch, out: &mut [f32]) {
    let RowScratch { sum, count } = scratch;
    sum.fill(0.0);
    count.fill(0);
    for line in block_lines(scan, f, row % ny, row / ny) {
        if f[0] == 1 {
            sum.iter_mut().zip(count.iter_mut()).zip(line).for_each(|((s, n), &x)| add_finite(s, n, x));
        } else {
            for ((s, n), block) in sum.iter_mut().zip(count.iter_mut()).zip(line.chunks(f[0])) {
                block.iter().for_each(|&x| add_finite(s, n, x));
            }
        }
    }
    for ((o, &s), &n) in out.iter_mut().zip(sum.iter()).zip(count.iter()) {
        *o = if n == 0 { 0.0 } else { s / n as f32 };
    }
}

/// One reduced row's sums and counts.
struct RowScratch {
    sum: Vec<f32>,
    count: Vec<u32>,
}

impl RowScratch {
    fn new(n: usize) -> RowScratch {
        RowScratch { sum: vec![0.0; n], count: vec![0; n] }
    }
}

/// `scan` reduced by `f` ([`row_means`]) as int16 with a scaling that spans the means' finite
/// range. The means are made twice, once for their range and once to store them, rather than
/// kept as a float volume: at [`MAX_REVIEW_VOXELS`] that copy would be 32 MB more at the
/// run's peak memory (the writing stage), for a pass that costs a few tens of milliseconds.
fn reduced_scan(scan: &Volume<f32>, f: [usize; 3]) -> (Volume<i16>, WriteOptions) {
    let grid = reduced_grid(&scan.grid, f);
    let [nx, ny, _] = grid.dims;
    let nx = nx.max(1);
    let scratch = || (RowScratch::new(nx), vec![0f32; nx]);
    let (lo, hi) = (0..grid.len() / nx)
        .into_par_iter()
        .map_init(scratch, |(sums, means), row| {
            row_means(scan, f, (ny, row), sums, means);
            finite_range(means)
        })
        .reduce(|| EMPTY_RANGE, union);
    let opts = scan_options(lo, hi);
    let (slope, inter) = (f64::from(opts.slope), f64::from(opts.inter));
    let mut data = vec![0i16; grid.len()];
    data.par_chunks_mut(nx).enumerate().for_each_init(scratch, |(sums, means), (row, out)| {
        row_means(scan, f, (ny, row), sums, means);
        for (q, &m) in out.iter_mut().zip(means.iter()) {
            *q = ((f64::from(m) - inter) / slope).round().clamp(i16::MIN.into(), i16::MAX.into()) as i16;
        }
    });
    (Volume { grid, data }, opts)
}

/// The review copy's storage: int16 scaled to span `lo..=hi` when that is a finite range.
fn scan_options(lo: f32, hi: f32) -> WriteOptions {
    let mut opts = WriteOptions::new(Datatype::I16);
    if lo.is_finite() && hi > lo {
        opts.slope = (hi - lo) / 32000.0;
        opts.inter = lo;
    }
    opts.description = "crmo-map review copy".into();
    opts
}

/// Adds `x` to a block's sum and count when it is finite (a branch-free form that vectorises).
#[inline]
fn add_finite(sum: &mut f32, count: &mut u32, x: f32) {
    let finite = x.is_finite();
    *sum += if finite { x } else { 0.0 };
    *count += u32::from(finite);
}

/// `map` reduced by `f`, each block to its largest value, read in the rows that hold any
/// (a lesion map is mostly background: whole rows of zeros are skipped at memory speed).
fn reduce_largest<L: Label>(map: &Volume<L>, f: [usize; 3]) -> Volume<L> {
    let grid = reduced_grid(&map.grid, f);
    let [nx, ny, _] = grid.dims;
    let mut data = vec![L::default(); grid.len()];
    data.par_chunks_mut(nx.max(1)).enumerate().for_each(|(row, out)| {
        for line in block_lines(map, f, row % ny, row / ny).filter(|l| l.iter().any(|&x| x != L::default())) {
            for (o, block) in out.iter_mut().zip(line.chunks(f[0])) {
                *o = block.iter().fold(*o, |m, &l| m.max(l));
            }
        }
    });
    Volume { grid, data }
}

/// Values [`finite_range`] takes side by side (independent minima and maxima that the
/// compiler can keep in vector registers).
const RANGE_LANES: usize = 16;

/// The least and greatest finite values of `data` (infinite, the wrong way round, when none).
fn finite_range(data: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = ([EMPTY_RANGE.0; RANGE_LANES], [EMPTY_RANGE.1; RANGE_LANES]);
    let lanes = data.chunks_exact(RANGE_LANES);
    let rest = lanes.remainder();
    for chunk in lanes {
        for ((l, h), &x) in lo.iter_mut().zip(hi.iter_mut()).zip(chunk) {
            // Infinities and NaN compare false against a finite bound or take no part.
            let finite = x.is_finite();
            *l = if finite && x < *l { x } else { *l };
            *h = if finite && x > *h { x } else { *h };
        }
    }
    let fold = |(a, b): (f32, f32), &x: &f32| if x.is_finite() { (a.min(x), b.max(x)) } else { (a, b) };
    let lanes = lo.iter().zip(&hi).fold(EMPTY_RANGE, |r, (&l, &h)| union(r, (l, h)));
    rest.iter().fold(lanes, fold)
}

/// The range of no value, which [`union`] with any range leaves as it is.
const EMPTY_RANGE: (f32, f32) = (f32::INFINITY, f32::NEG_INFINITY);

/// The smallest range holding both `(lo, hi)` ranges.
fn union((a, b): (f32, f32), (c, d): (f32, f32)) -> (f32, f32) {
    (a.min(c), b.max(d))
}

/// The scan's copy as `.nii.gz` bytes: block means (of finite values), int16 with a scaling
/// that spans its finite range.
pub fn scan_copy(scan: &Volume<f32>, f: [usize; 3]) -> Vec<u8> {
    if f != [1; 3] {
        let (small, opts) = reduced_scan(scan, f);
        return io::encode_stored(&small, &opts, None, true);
    }
    let (lo, hi) = scan.data.par_chunks(1 << 16).map(finite_range).reduce(|| EMPTY_RANGE, union);
    io::encode(scan, &scan_options(lo, hi), None, true)
}

/// A label map's copy as `.nii.gz` bytes: each block takes its largest value when `largest`
/// (a lesion shows however small), else the value at its centre (a region, whose edges move
/// by less than a block); uint8 where the values fit.
pub fn label_copy<L: Label + io::Storable>(map: &Volume<L>, f: [usize; 3], largest: bool) -> Vec<u8> {
    if f == [1; 3] {
        return encode_labels(map);
    }
    // Reduced in the map's own type (no wider copy).
    let small: Volume<L> = if largest {
        reduce_largest(map, f)
    } else {
        let grid = reduced_grid(&map.grid, f);
        let [nx, ny, _] = grid.dims;
        let centre = |b: usize, a: usize| (b * f[a] + f[a] / 2).min(map.grid.dims[a] - 1);
        let data = (0..grid.len())
            .into_par_iter()
            .map(|v| {
                let (i, j, k) = (v % nx, (v / nx) % ny, v / (nx * ny));
                map.data[map.grid.index(centre(i, 0), centre(j, 1), centre(k, 2))]
            })
            .collect();
        Volume { grid, data }
    };
    encode_labels(&small)
}

/// A label map as `.nii.gz` bytes in the narrowest type its largest value needs.
fn encode_labels<L: Label + io::Storable>(map: &Volume<L>) -> Vec<u8> {
    let max = map.data.par_iter().copied().max().map_or(0, Into::into);
    let mut opts = WriteOptions::labels(max);
    opts.description = "crmo-map review copy".into();
    io::encode(map, &opts, None, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_leaves_out_what_is_not_finite() {
        let mut data: Vec<f32> = (0..1000).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.5).collect();
        data[3] = f32::NAN;
        data[500] = f32::INFINITY;
        data[999] = f32::NEG_INFINITY;
        data[998] = -30.0;
        data[17] = 40.0;
        assert_eq!(finite_range(&data), (-30.0, 40.0));
        assert_eq!(finite_range(&data[..5]), (-25.0, 12.0));
        assert_eq!(finite_range(&[f32::NAN; 40]), (f32::INFINITY, f32::NEG_INFINITY));
    }

    #[test]
    fn small_grids_are_kept_and_large_ones_shrink_in_plane() {
        let g = |dims, sp| Grid { dims, affine: Affine::from_spacing_origin(sp, [0.0; 3]) };
        assert_eq!(factors(&g([100, 100, 100], [1.0; 3])), [1, 1, 1]);
        // Coronal whole-body: 4 mm slices along y stay.
        let wb = g([400, 60, 1000], [1.0, 4.0, 1.4]);
        let f = factors(&wb);
        assert_eq!((f[1], f[0] == f[2]), (1, true));
        assert!(reduced_grid(&wb, f).len() <= MAX_REVIEW_VOXELS);
        assert!(reduced_grid(&wb, [f[0] - 1, 1, f[2] - 1]).len() > MAX_REVIEW_VOXELS);
    }

    /// A block's centre lands where the full grid's voxel centres average.
    #[test]
    fn the_reduced_grid_keeps_world_positions() {
        let full = Grid { dims: [5, 4, 3], affine: Affine::from_spacing_origin([2.0, 1.0, 3.0], [10.0, 20.0, 30.0]) };
        let r = reduced_grid(&full, [2, 2, 1]);
        assert_eq!(r.dims, [3, 2, 3]);
        let w = |g: &Grid, v: [f64; 3]| g.affine.voxel_to_world(v);
        let mean = [0, 1].map(|a| (w(&full, [0.0, 0.0, 0.0])[a] + w(&full, [1.0, 1.0, 0.0])[a]) / 2.0);
        assert_eq!(&w(&r, [0.0, 0.0, 0.0])[..2], &mean);
        assert_eq!(r.spacing(), [4.0, 2.0, 3.0]);
    }

    #[test]
    fn a_reduced_scan_copy_holds_the_block_means_of_finite_values() {
        let dims = [5, 4, 3];
        let grid = Grid { dims, affine: Affine::from_spacing_origin([1.0, 2.0, 1.0], [0.0; 3]) };
        let mut data: Vec<f32> = (0..60).map(|i| ((i * 29 % 61) as f32 - 20.0) * 1.7).collect();
        data[7] = f32::NAN;
        data[33] = f32::INFINITY;
        let scan = Volume { grid, data };
        let f = [2, 1, 2];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.nii.gz");
        std::fs::write(&p, scan_copy(&scan, f)).unwrap();
        let read = io::read_scan(&p).unwrap();
        assert_eq!(read.volume.grid.dims, [3, 4, 2]);
        // The naive oracle: every block's finite voxels averaged, block by block.
        let (mut lo, mut hi, mut means) = (f32::INFINITY, f32::NEG_INFINITY, vec![]);
        for k in 0..2 {
            for j in 0..4 {
                for i in 0..3 {
                    let mut vals = vec![];
                    for kk in 2 * k..(2 * k + 2).min(3) {
                        for ii in 2 * i..(2 * i + 2).min(5) {
                            vals.push(scan.data[scan.grid.index(ii, j, kk)]);
                        }
                    }
                    vals.retain(|v| v.is_finite());
                    let m = if vals.is_empty() { 0.0 } else { vals.iter().sum::<f32>() / vals.len() as f32 };
                    (lo, hi) = (lo.min(m), hi.max(m));
                    means.push(m);
                }
            }
        }
        let step = (hi - lo) / 32000.0;
        for (got, want) in read.volume.data.iter().zip(&means) {
            assert!((got - want).abs() <= step, "{got} vs {want}");
        }
    }

    #[test]
    fn blocks_take_the_largest_lesion_or_the_central_region() {
        let grid = Grid { dims: [4, 1, 1], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) };
        let map = Volume { grid, data: vec![0u16, 3, 2, 2] };
        let read = |bytes: Vec<u8>| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("m.nii.gz");
            std::fs::write(&p, bytes).unwrap();
            match io::read_atlas(&p).unwrap() {
                io::Atlas::U8(a) => a.volume.data.iter().map(|&x| x as u32).collect::<Vec<_>>(),
                io::Atlas::U16(a) => a.volume.data.iter().map(|&x| x as u32).collect(),
            }
        };
        assert_eq!(read(label_copy(&map, [2, 1, 1], true)), [3, 2]);
        let map = Volume { grid, data: vec![0u16, 300, 7, 7] };
        assert_eq!(read(label_copy(&map, [4, 1, 1], false)), [7]);
        assert_eq!(read(label_copy(&map, [2, 1, 1], false)), [300, 7]);
        assert_eq!(read(label_copy(&map, [1, 1, 1], false)), [0, 300, 7, 7]);
    }
}
