//! Running a cohort's units several at a time within a memory budget.
//!
//! Units start in order, as many at once as `jobs` allows and as fit together in the budget
//! by their estimated peak memory; a unit that does not fit waits for running ones to end.
//! Each unit's own work is parallel too: alone, in rayon's global pool; several at once, each
//! in a small pool of its own (the cores shared out between them), so that idle workers of
//! a pool shared by all do not spin and steal between units.

use std::path::Path;
use std::sync::{Condvar, Mutex};

/// Peak memory of a run per scan voxel: the scan's read buffer and its f32 copy, the atlas on
/// the scan's grid, the marrow maps and the lesion map. Measured peaks are 5.9 bytes per voxel
/// for a 16-bit scan (`scripts/bench_peers.py`, 100 M voxels); this keeps a margin.
pub const PEAK_BYTES_PER_VOXEL: u64 = 8;
/// Peak memory of a run beside its volumes (tables, pictures, the review page's buffers).
pub const BASE_BYTES: u64 = 64 << 20;

/// Estimated peak memory (bytes) of a run on `scan` with `atlas`, from their headers; `None`
/// when the scan's header cannot be read (the run itself then says why).
pub fn estimate(scan: &Path, atlas: &Path) -> Option<u64> {
    let voxels = |p: &Path| crate::io::read_grid(p).ok().map(|g| g.dims.iter().map(|&d| d as u64).product::<u64>());
    let n = voxels(scan)?;
    // An atlas on another grid is read whole, then resampled onto the scan's.
    let atlas_voxels = if atlas.is_dir() { n } else { voxels(atlas).unwrap_or(n) };
    Some(BASE_BYTES + n * PEAK_BYTES_PER_VOXEL + atlas_voxels.saturating_mul(2))
}

/// The order to start units in: largest estimated need (a proxy for the scan's size, so for
/// its time) first, ties in the units' own order, so that a long unit does not start last
/// and keep one core busy while the others idle at the end.
pub fn largest_first(need: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..need.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(need[k]));
    order
}

/// Results tagged with their unit's index, back in the units' order.
pub fn in_unit_order<R>(mut tagged: Vec<(usize, R)>) -> Vec<R> {
    tagged.sort_by_key(|(k, _)| *k);
    tagged.into_iter().map(|(_, r)| r).collect()
}

/// Human-readable bytes (`1.5 GiB`).
pub fn show_size(b: u64) -> String {
    let gib = b as f64 / (1u64 << 30) as f64;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64)
    }
}

/// Blocks up to this size are served from the allocator's heaps, never mapped and unmapped
/// one by one (glibc's largest allowed threshold on 64-bit systems; a whole-body scan's
/// volumes are larger and are still mapped).
const HEAP_BLOCK_MAX: i32 = 32 << 20;
/// Freed memory at the top of a heap is kept up to this size instead of given back.
const KEEP_FREED: i32 = 256 << 20;

/// Lets units run one after another in this process reuse the memory earlier units freed:
/// small and medium volumes come from the allocator's heaps, and freed memory is kept for the
/// next unit, instead of fresh pages for every unit (each one faulted in and zeroed by the
/// kernel, and on unmapping a TLB flush on every core the process runs on). Bounded by
/// 256 MiB per heap; a no-op outside glibc.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; both values are within glibc's ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, HEAP_BLOCK_MAX);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP_FREED);
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct State {
    next: usize,
    in_use: u64,
    running: usize,
}

/// Threads of each unit's own pool when `jobs` units run at once on `threads` worker threads
/// (the global pool's size): `None` (the global pool itself) for one at a time, else an even
/// share of the threads, at least one.
pub fn inner_threads(jobs: usize, threads: usize) -> Option<usize> {
    (jobs > 1).then(|| (threads / jobs).max(1))
}

/// Runs `run` in `pool`, or in the global pool for `None` (also used when a unit's pool could
/// not be started: the work is the same, only its scheduling differs).
fn in_pool<R: Send>(pool: Option<&rayon::ThreadPool>, run: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(run),
        None => run(),
    }
}

/// Runs `work` on every item, at most `jobs` at once and with the `need`s of the running ones
/// summing to at most `budget` (an item needing more than the whole budget must not be
/// given); when several run at once, each runs in a pool of [`inner_threads`]. Results come
/// back in the items' order.
pub fn run_all<T: Sync, R: Send>(
    items: &[T],
    need: &[u64],
    jobs: usize,
    budget: u64,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let state = Mutex::new(State { next: 0, in_use: 0, running: 0 });
    let turn = Condvar::new();
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let workers = jobs.clamp(1, items.len().max(1));
    let inner = inner_threads(workers, rayon::current_num_threads());
    std::thread::scope(|scope| {
        let (state, turn, slots, work) = (&state, &turn, &results, &work);
        for _ in 0..workers {
            let pool = inner.and_then(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().ok());
            scope.spawn(move || loop {
                let mut s = lock(state);
                while s.next < items.len() && s.running > 0 && s.in_use + need[s.next] > budget {
                    s = turn.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                if s.next >= items.len() {
                    return;
                }
                let i = s.next;
                s.next += 1;
                s.in_use += need[i];
                s.running += 1;
                drop(s);
                let r = in_pool(pool.as_ref(), || work(&items[i]));
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                let mut s = lock(state);
                s.in_use -= need[i];
                s.running -= 1;
                turn.notify_all();
            });
        }
    });
    results.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every item ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    #[test]
    fn never_more_at_once_than_fit_and_results_in_order() {
        let need = [60, 30, 30, 50, 10, 100, 20];
        let items: Vec<usize> = (0..need.len()).collect();
        let (in_use, peak, running, peak_running) =
            (AtomicU64::new(0), AtomicU64::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        let out = run_all(&items, &need, 3, 100, |&i| {
            let now = in_use.fetch_add(need[i], Ordering::SeqCst) + need[i];
            peak.fetch_max(now, Ordering::SeqCst);
            peak_running.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            running.fetch_sub(1, Ordering::SeqCst);
            in_use.fetch_sub(need[i], Ordering::SeqCst);
            i * 10
        });
        assert_eq!(out, [0, 10, 20, 30, 40, 50, 60]);
        assert!(peak.load(Ordering::SeqCst) <= 100);
        assert!(peak_running.load(Ordering::SeqCst) >= 2, "ran one at a time");
        assert!(peak_running.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn units_at_once_share_the_threads_out_and_one_alone_has_them_all() {
        assert_eq!(inner_threads(1, 8), None);
        assert_eq!(inner_threads(2, 8), Some(4));
        assert_eq!(inner_threads(3, 8), Some(2));
        assert_eq!(inner_threads(4, 2), Some(1));
        let items = [0usize; 6];
        let global = rayon::current_num_threads();
        let seen = |jobs| run_all(&items, &[1; 6], jobs, 10, |_| rayon::current_num_threads());
        assert!(seen(1).iter().all(|&n| n == global));
        assert!(seen(2).iter().all(|&n| n == (global / 2).max(1)));
    }

    #[test]
    fn the_largest_start_first_and_results_come_back_in_unit_order() {
        let need = [10, 30, 10, 20, 30];
        let order = largest_first(&need);
        assert_eq!(order, [1, 4, 3, 0, 2]);
        let tagged = order.iter().map(|&k| (k, k * 100)).collect();
        assert_eq!(in_unit_order(tagged), [0, 100, 200, 300, 400]);
    }

    #[test]
    fn sizes_show_in_binary_units() {
        assert_eq!(show_size(3 << 29), "1.5 GiB");
        assert_eq!(show_size(300 << 20), "300 MiB");
    }
}
