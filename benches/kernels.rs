//! Kernel benchmarks on masks and volumes generated in code: `cargo bench --bench kernels`.
//! Throughput is reported in voxels per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use crmo_map::ccl::{self, Connectivity};
use crmo_map::detect::global as threshold;
use crmo_map::detect::{self, LocalParams};
use crmo_map::io::{self, Datatype, WriteOptions};
use crmo_map::lesions;
use crmo_map::phantom::{self, PhantomOptions};
use crmo_map::reference::{self, BoneSamples};
use crmo_map::volume::{Affine, Grid, Volume};

const DIMS: [usize; 3] = [192, 128, 256];

fn xorshift(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Random mask of a given density.
fn random_mask(density: f64) -> Vec<bool> {
    let mut r = xorshift(42);
    (0..DIMS.iter().product::<usize>()).map(|_| r() < density).collect()
}

/// Sparse, lesion-like mask: a few hundred balls of 2-8 voxel radius.
fn sparse_mask() -> Vec<bool> {
    let mut r = xorshift(7);
    let [nx, ny, nz] = DIMS;
    let mut m = vec![false; nx * ny * nz];
    for _ in 0..300 {
        let c = [r() * nx as f64, r() * ny as f64, r() * nz as f64];
        let rad = 2.0 + 6.0 * r();
        let lo = |a: usize| (c[a] - rad).max(0.0) as usize;
        let hi = |a: usize, n: usize| ((c[a] + rad + 1.0) as usize).min(n);
        for k in lo(2)..hi(2, nz) {
            for j in lo(1)..hi(1, ny) {
                for i in lo(0)..hi(0, nx) {
                    let d = (i as f64 - c[0]).powi(2) + (j as f64 - c[1]).powi(2) + (k as f64 - c[2]).powi(2);
                    if d <= rad * rad {
                        m[i + nx * (j + ny * k)] = true;
                    }
                }
            }
        }
    }
    m
}

fn bench_ccl(c: &mut Criterion) {
    let n = DIMS.iter().product::<usize>() as u64;
    let mut g = c.benchmark_group("ccl");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    let masks = [("sparse", sparse_mask()), ("random-0.1", random_mask(0.1)), ("random-0.5", random_mask(0.5))];
    for (name, mask) in &masks {
        for conn in [Connectivity::Faces6, Connectivity::Edges18, Connectivity::Corners26] {
            let id = format!("{name}/{}", conn.count());
            g.bench_with_input(BenchmarkId::new("parallel", &id), mask, |b, m| b.iter(|| ccl::label(m, DIMS, conn)));
            g.bench_with_input(BenchmarkId::new("sequential", &id), mask, |b, m| {
                b.iter(|| ccl::label_with_slabs(m, DIMS, conn, 1))
            });
        }
    }
    g.finish();
}

fn scan_and_atlas() -> (Vec<f32>, Vec<u16>) {
    let mut r = xorshift(3);
    let n = DIMS.iter().product::<usize>();
    let scan: Vec<f32> = (0..n).map(|_| (100.0 + 50.0 * r()) as f32).collect();
    let atlas: Vec<u16> = (0..n).map(|v| if v % 7 < 2 { (v % 40) as u16 + 1 } else { 0 }).collect();
    (scan, atlas)
}

fn bench_voxelwise(c: &mut Criterion) {
    let n = DIMS.iter().product::<usize>() as u64;
    let (scan, atlas) = scan_and_atlas();
    let mut g = c.benchmark_group("voxelwise");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("threshold", |b| b.iter(|| threshold::candidates(&scan, &atlas, 140.0)));
    g.bench_function("reference", |b| b.iter(|| reference::bone_reference(&scan, &atlas)));
    g.bench_function("bone_samples", |b| b.iter(|| reference::BoneSamples::gather(&scan, &atlas)));
    g.finish();
}

fn bench_nifti(c: &mut Criterion) {
    let (scan, _) = scan_and_atlas();
    let grid = Grid { dims: DIMS, affine: Affine::from_spacing_origin([1.5, 4.0, 1.5], [0.0; 3]) };
    let vol = Volume::from_vec(grid, scan);
    let dir = std::env::temp_dir().join(format!("crmo-map-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scan.nii.gz");
    let opts = WriteOptions::new(Datatype::I16);
    io::write_volume(&path, &vol, &opts, None).unwrap();
    let mut g = c.benchmark_group("nifti");
    g.throughput(Throughput::Elements(grid.len() as u64));
    g.sample_size(10);
    g.bench_function("read_int16_gz", |b| b.iter(|| io::read_scan(&path).unwrap()));
    g.bench_function("encode_int16_gz", |b| b.iter(|| io::encode(&vol, &opts, None, true)));
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pipeline's stages on the founding-case phantom (about 12.7 M voxels): the fused
/// threshold and labelling, the local detector, the per-lesion statistics with the region
/// overlap, and the label map written as the run writes it.
fn bench_phantom_stages(c: &mut Criterion) {
    let ph = phantom::generate(&PhantomOptions::default()).unwrap();
    let (scan, dims) = (&ph.scan, ph.scan.grid.dims);
    let atlas = Volume::from_vec(ph.atlas.grid, ph.atlas.data.iter().map(|&l| l as u8).collect::<Vec<u8>>());
    let samples = BoneSamples::gather(&scan.data, &atlas.data);
    let reference = samples.reference().unwrap();
    let cutoff = reference.intensity_at(6.0) as f32;
    let conn = Connectivity::Corners26;
    let p = LocalParams::default();
    let noise = detect::local::noise_sigma(scan, &atlas).unwrap();
    let labels = samples.labels_used();
    let core = detect::interior::core_samples(scan, &atlas, labels);
    let bones = detect::Bones::new(&atlas, &ph.labels, labels);
    let refs = detect::local::region_references(&samples, &core, noise, &p);
    let comps = detect::local::local_components(scan, &atlas, &refs, &bones, &p, conn);
    assert!(comps.count >= 7, "the founding case has seven lesions, found {}", comps.count);
    let mut g = c.benchmark_group("phantom");
    g.throughput(Throughput::Elements(scan.grid.len() as u64));
    g.sample_size(10);
    g.bench_function("bone_samples", |b| b.iter(|| BoneSamples::gather(&scan.data, &atlas.data)));
    g.bench_function("threshold_and_label", |b| {
        b.iter(|| threshold::components(&scan.data, &atlas.data, dims, cutoff, conn))
    });
    g.bench_function("region_references", |b| b.iter(|| detect::local::region_references(&samples, &core, noise, &p)));
    g.bench_function("local_detector", |b| {
        b.iter(|| detect::local::local_components(scan, &atlas, &refs, &bones, &p, conn))
    });
    let coarse_only = LocalParams { fine_mm: 0.0, ..LocalParams::default() };
    g.bench_function("local_detector_coarse_level_only", |b| {
        b.iter(|| detect::local::local_components(scan, &atlas, &refs, &bones, &coarse_only, conn))
    });
    g.bench_function("fine_level", |b| {
        b.iter(|| detect::fine_level::FineLevel::new(scan, &atlas, p.fine_mm, |_, l: u8| refs[l as usize].marrow))
    });
    let inputs = lesions::Inputs {
        scan,
        atlas: &atlas.data,
        table: &ph.labels,
        region_voxels: &samples.hist,
        reference: &reference,
        bone_label: None,
    };
    g.bench_function("lesion_statistics_and_region_overlap", |b| b.iter(|| lesions::measure(&comps, &inputs, 100.0)));
    let map = Volume::from_vec(scan.grid, comps.paint(|l| l as u16));
    let opts = WriteOptions::labels(comps.count as u32);
    g.bench_function("encode_lesion_map_gz", |b| b.iter(|| io::encode(&map, &opts, None, true)));
    g.finish();
}

criterion_group!(benches, bench_ccl, bench_voxelwise, bench_nifti, bench_phantom_stages);
criterion_main!(benches);
