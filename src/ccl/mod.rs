//! 3-D connected-component labelling on foreground runs, parallel over z slabs.
//!
//! The mask is read row by row (a row is the voxels with the same `j` and `k`, contiguous in
//! memory). Each row's foreground becomes maximal *runs* `[start, end)` of `i`. A run can only
//! touch runs in the rows just behind it in raster order, so labelling is a union-find over
//! runs (the run-based two-pass scheme of He, Chao and Suzuki, IEEE TIP 2008, in 3-D):
//!
//! ```text
//!             k-1 plane                 k plane
//!   j+1   . . . . . . . .  (C)
//!   j     . . . . . . . .  (B)        . . [run] . .      <- the current run
//!   j-1   . . . . . . . .  (D)        . . . . . . .  (A)
//! ```
//!
//! Backward neighbour rows: A = (j-1, k), B = (j, k-1), C = (j+1, k-1), D = (j-1, k-1).
//! Whether two runs in such rows touch depends on the connectivity:
//!
//! | connectivity | rows | runs touch when |
//! |---|---|---|
//! | 6 (faces) | A, B | their `i` ranges overlap |
//! | 18 (edges) | A, B | ranges overlap or are diagonal (one voxel apart in `i`) |
//! |            | C, D | ranges overlap |
//! | 26 (corners) | A, B, C, D | ranges overlap or are diagonal |
//!
//! Union-find always makes the smaller run index the root, so a component's root is its first
//! run in raster order. Labels 1..N are then given in order of roots, which is the order in
//! which components are first met scanning voxels in memory order (`i`, then `j`, then `k`):
//! the canonical labelling, the same as scipy's and cc3d's.
//!
//! In parallel, each z slab is extracted and unioned on its own (its runs occupy a contiguous
//! range of the union-find array, so slabs write disjoint parts), then the faces between
//! slabs are merged. The result does not depend on the number of slabs or threads.

use rayon::prelude::*;

/// Which neighbours of a voxel are connected to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Connectivity {
    /// 6 neighbours sharing a face.
    Faces6,
    /// 18 neighbours sharing a face or an edge.
    Edges18,
    /// 26 neighbours sharing a face, an edge or a corner.
    Corners26,
}

impl Connectivity {
    /// Parses 6, 18 or 26.
    pub fn from_count(n: u32) -> Option<Connectivity> {
        match n {
            6 => Some(Connectivity::Faces6),
            18 => Some(Connectivity::Edges18),
            26 => Some(Connectivity::Corners26),
            _ => None,
        }
    }

    /// 6, 18 or 26.
    pub fn count(self) -> u32 {
        match self {
            Connectivity::Faces6 => 6,
            Connectivity::Edges18 => 18,
            Connectivity::Corners26 => 26,
        }
    }

    /// Whether voxel offset `(di, dj, dk)` (each -1, 0 or 1, not all 0) is a neighbour.
    pub fn connects(self, d: [i32; 3]) -> bool {
        let nonzero = d.iter().filter(|&&x| x != 0).count();
        nonzero >= 1
            && match self {
                Connectivity::Faces6 => nonzero == 1,
                Connectivity::Edges18 => nonzero <= 2,
                Connectivity::Corners26 => true,
            }
    }

    /// Backward neighbour rows as (dj, dk, slack): runs in that row touch when
    /// `b.start < a.end + slack && a.start < b.end + slack`.
    fn backward_rows(self) -> &'static [(i64, i64, u32)] {
        match self {
            Connectivity::Faces6 => &[(-1, 0, 0), (0, -1, 0)],
            Connectivity::Edges18 => &[(-1, 0, 1), (0, -1, 1), (-1, -1, 0), (1, -1, 0)],
            Connectivity::Corners26 => &[(-1, 0, 1), (0, -1, 1), (-1, -1, 1), (1, -1, 1)],
        }
    }
}

/// A maximal run of foreground voxels in one row: `i` in `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First foreground `i`.
    pub start: u32,
    /// One past the last foreground `i`.
    pub end: u32,
}

/// Connected components of a mask, kept as labelled runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Components {
    /// Grid shape (i, j, k).
    pub dims: [usize; 3],
    /// All runs in raster order.
    pub runs: Vec<Run>,
    /// `row_ptr[r]..row_ptr[r + 1]` are the runs of row `r = j + ny * k`.
    pub row_ptr: Vec<u32>,
    /// Component label (1..=count) of each run.
    pub labels: Vec<u32>,
    /// Number of components.
    pub count: usize,
}

impl Components {
    /// Calls `f(row, run, label)` for every run in raster order.
    pub fn for_each_run(&self, mut f: impl FnMut(usize, Run, u32)) {
        for row in 0..self.row_ptr.len() - 1 {
            for r in self.row_ptr[row] as usize..self.row_ptr[row + 1] as usize {
                f(row, self.runs[r], self.labels[r]);
            }
        }
    }

    /// The components for which `keep(label)` holds, relabelled 1..M in the same order (so
    /// still the canonical labelling of the foreground they cover).
    pub fn retain(&self, keep: impl Fn(u32) -> bool) -> Components {
        let mut new_label = vec![0u32; self.count + 1];
        let mut count = 0;
        for (l, n) in new_label.iter_mut().enumerate().skip(1) {
            if keep(l as u32) {
                count += 1;
                *n = count;
            }
        }
        let mut out = Components {
            dims: self.dims,
            runs: Vec::new(),
            row_ptr: Vec::with_capacity(self.row_ptr.len()),
            labels: Vec::new(),
            count: count as usize,
        };
        out.row_ptr.push(0);
        for row in 0..self.row_ptr.len() - 1 {
            for r in self.row_ptr[row] as usize..self.row_ptr[row + 1] as usize {
                let l = new_label[self.labels[r] as usize];
                if l != 0 {
                    out.runs.push(self.runs[r]);
                    out.labels.push(l);
                }
            }
            out.row_ptr.push(out.runs.len() as u32);
        }
        out
    }

    /// The runs of row `row` and their labels.
    pub fn row(&self, row: usize) -> impl Iterator<Item = (Run, u32)> + '_ {
        let (a, b) = (self.row_ptr[row] as usize, self.row_ptr[row + 1] as usize);
        self.runs[a..b].iter().copied().zip(self.labels[a..b].iter().copied())
    }

    /// A label volume (`i` fastest), 0 for background.
    pub fn to_volume(&self) -> Vec<u32> {
        self.paint(|l| l)
    }

    /// A volume with `map(label)` painted over each component's voxels, 0 elsewhere.
    pub fn paint<T: Copy + Default + PartialEq + Send>(&self, map: impl Fn(u32) -> T + Sync) -> Vec<T> {
        let [nx, ny, _] = self.dims;
        let mut out = vec![T::default(); self.dims.iter().product()];
        if nx * ny == 0 {
            return out;
        }
        out.par_chunks_mut(nx * ny).enumerate().for_each(|(k, plane)| {
            for j in 0..ny {
                let row = j + ny * k;
                for r in self.row_ptr[row] as usize..self.row_ptr[row + 1] as usize {
                    let run = self.runs[r];
                    let v = map(self.labels[r]);
                    if v == T::default() {
                        continue;
                    }
                    plane[j * nx + run.start as usize..j * nx + run.end as usize].fill(v);
                }
            }
        });
        out
    }
}

/// Labels the connected components of `mask` (`i` fastest, shape `dims`), in parallel over
/// z slabs on the current rayon pool.
///
/// # Panics
/// When `mask.len()` differs from the product of `dims`, or there are more than 2^32 runs.
pub fn label(mask: &[bool], dims: [usize; 3], conn: Connectivity) -> Components {
    label_with_slabs(mask, dims, conn, default_slabs(dims))
}

/// [`label`] with an explicit number of z slabs (1 is the sequential algorithm). The result
/// is identical for every number of slabs.
pub fn label_with_slabs(mask: &[bool], dims: [usize; 3], conn: Connectivity, slabs: usize) -> Components {
    assert_eq!(mask.len(), dims.iter().product::<usize>(), "mask length does not match dims");
    let nx = dims[0];
    label_rows_with_slabs(dims, conn, slabs, |row, runs, _| extract_runs(&mask[row * nx..(row + 1) * nx], runs))
}

/// Labels the components of a foreground given row by row, with no mask in memory:
/// `row_runs(r, runs)` appends the foreground runs of row `r = j + ny * k` in increasing
/// order, each maximal (two runs of a row never touch). Parallel over z slabs, as [`label`].
///
/// # Panics
/// When there are more than 2^32 runs.
pub fn label_rows(dims: [usize; 3], conn: Connectivity, row_runs: impl Fn(usize, &mut Vec<Run>) + Sync) -> Components {
    label_rows_with_slabs(dims, conn, default_slabs(dims), |row, runs, _| row_runs(row, runs))
}

/// As [`label_rows`], but each run also has a *class* (pushed by `row_runs` onto its second
/// vector, one per run) and two runs are connected only when their classes are equal: the
/// components never cross from one class to another (say, from one bone to the next across
/// a joint). Runs of different classes may touch within a row; runs of one class may not.
///
/// # Panics
/// When there are more than 2^32 runs, or `row_runs` pushes a class count other than its run
/// count.
pub fn label_classed_rows(
    dims: [usize; 3],
    conn: Connectivity,
    row_runs: impl Fn(usize, &mut Vec<Run>, &mut Vec<u32>) + Sync,
) -> Components {
    label_rows_with_slabs(dims, conn, default_slabs(dims), row_runs)
}

fn default_slabs(dims: [usize; 3]) -> usize {
    (rayon::current_num_threads() * 4).min(dims[2]).max(1)
}

/// Appends the runs of `i` in `from..to` for which `class_of(i)` is `Some`, a new run
/// wherever the class changes, and each run's class (see [`label_classed_rows`]).
#[inline]
pub fn push_classed_runs(
    from: usize,
    to: usize,
    class_of: impl Fn(usize) -> Option<u32>,
    runs: &mut Vec<Run>,
    classes: &mut Vec<u32>,
) {
    let mut open: Option<(usize, u32)> = None;
    for i in from..to {
        let c = class_of(i);
        if let Some((start, oc)) = open {
            if c != Some(oc) {
                runs.push(Run { start: start as u32, end: i as u32 });
                classes.push(oc);
                open = None;
            }
        }
        if let (None, Some(c)) = (open, c) {
            open = Some((i, c));
        }
    }
    if let Some((start, c)) = open {
        runs.push(Run { start: start as u32, end: to as u32 });
        classes.push(c);
    }
}

fn label_rows_with_slabs(
    dims: [usize; 3],
    conn: Connectivity,
    slabs: usize,
    row_runs: impl Fn(usize, &mut Vec<Run>, &mut Vec<u32>) + Sync,
) -> Components {
    let [_, ny, nz] = dims;
    let slabs = slabs.clamp(1, nz.max(1));
    // Slab s covers planes bounds[s]..bounds[s + 1].
    let bounds: Vec<usize> = (0..=slabs).map(|s| s * nz / slabs).collect();

    // Pass 1: runs of each slab, with per-row run counts.
    let parts: Vec<(Vec<Run>, Vec<u32>, Vec<u32>)> = (0..slabs)
        .into_par_iter()
        .map(|s| {
            let (mut runs, mut classes) = (Vec::new(), Vec::new());
            let mut counts = Vec::with_capacity((bounds[s + 1] - bounds[s]) * ny);
            for row in bounds[s] * ny..bounds[s + 1] * ny {
                let before = runs.len();
                row_runs(row, &mut runs, &mut classes);
                counts.push((runs.len() - before) as u32);
            }
            assert!(classes.is_empty() || classes.len() == runs.len(), "one class per run");
            (runs, classes, counts)
        })
        .collect();
    let total: usize = parts.iter().map(|p| p.0.len()).sum();
    assert!(total < u32::MAX as usize, "too many runs for 32-bit run indices");
    let classed = parts.iter().any(|p| !p.1.is_empty());
    let mut runs = Vec::with_capacity(total);
    let mut classes = Vec::with_capacity(if classed { total } else { 0 });
    let mut row_ptr = Vec::with_capacity(ny * nz + 1);
    row_ptr.push(0u32);
    let mut slab_start = Vec::with_capacity(slabs + 1);
    for (r, c, counts) in parts {
        slab_start.push(runs.len());
        runs.extend_from_slice(&r);
        if classed {
            assert_eq!(c.len(), r.len(), "one class per run");
            classes.extend_from_slice(&c);
        }
        for c in counts {
            let last = *row_ptr.last().unwrap();
            row_ptr.push(last + c);
        }
    }
    slab_start.push(runs.len());

    // Pass 2: union within slabs, in parallel over disjoint parts of `parent`.
    let mut parent: Vec<u32> = vec![0; total];
    {
        let mut rest: &mut [u32] = &mut parent;
        let mut pieces = Vec::with_capacity(slabs);
        for s in 0..slabs {
            let (head, tail) = rest.split_at_mut(slab_start[s + 1] - slab_start[s]);
            pieces.push((s, head));
            rest = tail;
        }
        let ctx = Ctx { runs: &runs, classes: &classes, row_ptr: &row_ptr, ny, conn };
        pieces.into_par_iter().for_each(|(s, piece)| {
            // Local indices while the slab is unioned on its own, global ones afterwards.
            let base = slab_start[s] as u32;
            piece.iter_mut().enumerate().for_each(|(n, p)| *p = n as u32);
            for k in bounds[s]..bounds[s + 1] {
                ctx.union_plane(k, k > bounds[s], piece, base);
            }
            piece.iter_mut().for_each(|p| *p += base);
        });
        // Faces between slabs: only the rows looking back across the slab boundary.
        for s in 1..slabs {
            if bounds[s] < bounds[s + 1] {
                ctx.union_plane_back_only(bounds[s], &mut parent);
            }
        }
    }

    // Pass 3: flatten (parent[x] <= x, so one forward pass finds every root) and number
    // the roots in raster order.
    let mut labels = vec![0u32; total];
    let mut count = 0u32;
    for x in 0..total {
        let p = parent[x] as usize;
        if p == x {
            count += 1;
            labels[x] = count;
        } else {
            let root = parent[p] as usize;
            parent[x] = root as u32;
            labels[x] = labels[root];
        }
    }
    Components { dims, runs, row_ptr, labels, count: count as usize }
}

/// Appends the maximal runs of `i` in `from..to` for which `is_set(i)` holds.
#[inline]
pub fn push_runs(from: usize, to: usize, is_set: impl Fn(usize) -> bool, runs: &mut Vec<Run>) {
    let mut i = from;
    while i < to {
        while i < to && !is_set(i) {
            i += 1;
        }
        if i == to {
            break;
        }
        let start = i;
        while i < to && is_set(i) {
            i += 1;
        }
        runs.push(Run { start: start as u32, end: i as u32 });
    }
}

/// Appends the maximal foreground runs of one row.
#[inline]
fn extract_runs(row: &[bool], runs: &mut Vec<Run>) {
    let n = row.len();
    let mut i = 0;
    while i < n {
        // Skip background quickly a word at a time.
        while i + 8 <= n && u64::from_ne_bytes(as_bytes8(&row[i..i + 8])) == 0 {
            i += 8;
        }
        while i < n && !row[i] {
            i += 1;
        }
        if i == n {
            break;
        }
        let start = i;
        while i < n && row[i] {
            i += 1;
        }
        runs.push(Run { start: start as u32, end: i as u32 });
    }
}

#[inline]
fn as_bytes8(b: &[bool]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, &v) in out.iter_mut().zip(b) {
        *o = v as u8;
    }
    out
}

struct Ctx<'a> {
    runs: &'a [Run],
    /// Each run's class, or empty when runs have none (all connect).
    classes: &'a [u32],
    row_ptr: &'a [u32],
    ny: usize,
    conn: Connectivity,
}

impl Ctx<'_> {
    /// Unions every run of plane `k` with its backward neighbours; rows in plane `k - 1` are
    /// used only when `look_back`. `parent` holds the run indices from `base` on.
    fn union_plane(&self, k: usize, look_back: bool, parent: &mut [u32], base: u32) {
        for j in 0..self.ny {
            for &(dj, dk, slack) in self.conn.backward_rows() {
                if dk < 0 && !look_back {
                    continue;
                }
                self.union_rows(j, k, dj, dk, slack, parent, base);
            }
        }
    }

    /// Unions plane `k` with plane `k - 1` only (a face between slabs).
    fn union_plane_back_only(&self, k: usize, parent: &mut [u32]) {
        for j in 0..self.ny {
            for &(dj, dk, slack) in self.conn.backward_rows() {
                if dk < 0 {
                    self.union_rows(j, k, dj, dk, slack, parent, 0);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn union_rows(&self, j: usize, k: usize, dj: i64, dk: i64, slack: u32, parent: &mut [u32], base: u32) {
        let nj = j as i64 + dj;
        if nj < 0 || nj >= self.ny as i64 {
            return;
        }
        let row = j + self.ny * k;
        let nrow = nj as usize + self.ny * (k as i64 + dk) as usize;
        let (a0, a1) = (self.row_ptr[row] as usize, self.row_ptr[row + 1] as usize);
        let (b0, b1) = (self.row_ptr[nrow] as usize, self.row_ptr[nrow + 1] as usize);
        // Runs of a row are sorted and disjoint, so the runs of the other row that touch run
        // `a` start at or after those touching `a - 1`. (Classed runs of a row may abut, so
        // one run can touch several of the other row's runs that end where it does.)
        let mut first = b0;
        for a in a0..a1 {
            let ra = self.runs[a];
            while first < b1 && self.runs[first].end + slack <= ra.start {
                first += 1;
            }
            let mut b = first;
            while b < b1 && self.runs[b].start < ra.end + slack {
                if self.classes.is_empty() || self.classes[a] == self.classes[b] {
                    union(parent, a as u32 - base, b as u32 - base);
                }
                b += 1;
            }
        }
    }
}

#[inline]
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

#[inline]
fn union(parent: &mut [u32], a: u32, b: u32) {
    let ra = find(parent, a);
    let rb = find(parent, b);
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}

/// The obvious algorithm, kept as an oracle for tests and benchmarks: breadth-first flood
/// fill from each unlabelled foreground voxel in memory order.
pub fn flood_fill(mask: &[bool], dims: [usize; 3], conn: Connectivity) -> (Vec<u32>, usize) {
    flood_fill_classed(mask, &[], dims, conn)
}

/// [`flood_fill`] where two voxels connect only when their `class` is equal (`class` empty:
/// all connect); the oracle of [`label_classed_rows`].
pub fn flood_fill_classed(mask: &[bool], class: &[u32], dims: [usize; 3], conn: Connectivity) -> (Vec<u32>, usize) {
    let [nx, ny, nz] = dims;
    let mut labels = vec![0u32; mask.len()];
    let mut offsets = Vec::new();
    for dk in -1i32..=1 {
        for dj in -1i32..=1 {
            for di in -1i32..=1 {
                if conn.connects([di, dj, dk]) {
                    offsets.push([di, dj, dk]);
                }
            }
        }
    }
    let mut count = 0u32;
    let mut queue = std::collections::VecDeque::new();
    for start in 0..mask.len() {
        if !mask[start] || labels[start] != 0 {
            continue;
        }
        count += 1;
        labels[start] = count;
        queue.push_back(start);
        while let Some(v) = queue.pop_front() {
            let (i, j, k) = ((v % nx) as i32, ((v / nx) % ny) as i32, (v / (nx * ny)) as i32);
            for d in &offsets {
                let (a, b, c) = (i + d[0], j + d[1], k + d[2]);
                if a < 0 || b < 0 || c < 0 || a >= nx as i32 || b >= ny as i32 || c >= nz as i32 {
                    continue;
                }
                let w = a as usize + nx * (b as usize + ny * c as usize);
                if mask[w] && labels[w] == 0 && (class.is_empty() || class[w] == class[v]) {
                    labels[w] = count;
                    queue.push_back(w);
                }
            }
        }
    }
    (labels, count as usize)
}

#[cfg(test)]
mod tests;
