//! Times the CCL kernel alone on the candidate mask of a scan, for scripts/bench_peers.py:
//! the same mask as the global detector makes (inside the atlas, z > Z against the atlas's
//! median and MAD), labelled 26-connected on 1 thread and on all threads, best of N runs.
//!
//! usage: cargo run --release --example ccl_time -- SCAN ATLAS [Z] [N]
//! Prints one JSON line: voxels, components, and seconds per thread count.

use crmo_map::ccl::{self, Connectivity};
use crmo_map::detect::global as threshold;
use crmo_map::{io, reference};
use std::path::Path;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() >= 3, "usage: ccl_time SCAN ATLAS [Z] [N]");
    let z: f64 = args.get(3).map_or(Ok(6.0), |s| s.parse())?;
    let n: usize = args.get(4).map_or(Ok(5), |s| s.parse())?;
    let scan = io::read_scan(Path::new(&args[1]))?;
    let atlas = io::read_labels(Path::new(&args[2]))?;
    let r = reference::bone_reference(&scan.volume.data, &atlas.volume.data)
        .ok_or_else(|| anyhow::anyhow!("the atlas is empty"))?;
    let mask = threshold::candidates(&scan.volume.data, &atlas.volume.data, r.intensity_at(z) as f32);
    let dims = scan.volume.grid.dims;
    let all = rayon::current_num_threads();
    let mut out = Vec::new();
    let mut count = 0;
    for threads in [1, all] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
        let best = (0..n)
            .map(|_| {
                let t = Instant::now();
                let c = pool.install(|| ccl::label(&mask, dims, Connectivity::Corners26));
                count = c.count;
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        out.push(format!("\"{threads}\": {best:.6}"));
    }
    println!("{{\"voxels\": {}, \"components\": {count}, \"seconds\": {{{}}}}}", mask.len(), out.join(", "));
    Ok(())
}
