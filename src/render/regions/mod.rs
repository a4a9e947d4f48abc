//! `regions.png`: the region map the detector used, drawn over the scan so a reader can see
//! at a glance which sub-region each part of the skeleton was given.
//!
//! Two panels side by side at one physical scale (voxel spacing respected), superior at the
//! top:
//!
//! - **coronal**: a label projection along anterior-posterior through the whole volume, in
//!   radiological convention (the subject's right on the viewer's left, marked `R` / `L`);
//! - **sagittal**: the same along left-right through the slab that holds the midline regions
//!   (vertebrae, sacrum, sternum; the whole width when there is none), anterior on the
//!   viewer's left (`A` / `P`).
//!
//! Each pixel shows the region with the most voxels along its ray (ties: the lower label),
//! filled in its [`crate::palette`] colour over the scan's maximum-intensity projection of the
//! same rays (windowed like `overview.png`) and outlined where it meets another region or the
//! background. Regions are numbered with their label value (the `index` of `regions.tsv` and
//! the value in `regions.nii.gz`) near the middle of their projected area, and a legend lists
//! every region: colour, label value and name.

use super::legend::{Entry, Legend, GAP};
use super::{
    resample_grey, taps, text_size, window, Canvas, Rect, Tap, View, BLACK, GAMMA, HEADER, MARGIN, TARGET_LONG_SIDE,
    WHITE,
};
use crate::labels::Side;
use crate::palette::Rgb;
use crate::regions::RegionRow;
use crate::volume::{Grid, Label, Volume};
use image::RgbImage;
use rayon::prelude::*;
use std::ops::Range;

/// Opacity of the region fill over the grey scan.
const FILL_ALPHA: f32 = 0.6;
/// Outlines are the region colour times this.
const EDGE_SHADE: f32 = 0.55;
/// A region is numbered in a panel only where it covers at least this many pixels.
const MIN_NUMBERED_PIXELS: usize = 24;
/// Text scale of the captions and orientation letters.
const CAPTION_SCALE: usize = 2;

/// Which way a panel looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Look {
    Coronal,
    Sagittal,
}

impl Look {
    fn caption(self) -> &'static str {
        match self {
            Look::Coronal => "CORONAL",
            Look::Sagittal => "SAGITTAL",
        }
    }

    /// The letters at the viewer's left and right.
    fn letters(self) -> [&'static str; 2] {
        match self {
            Look::Coronal => ["R", "L"],
            Look::Sagittal => ["A", "P"],
        }
    }

    /// The panel's view of `grid` ([`View::along`]): coronal projects world y away and shows
    /// world x across, sagittal projects world x away and shows world y across.
    fn view(self, grid: &Grid) -> View {
        match self {
            Look::Coronal => View::along(grid, 1, 0),
            Look::Sagittal => View::along(grid, 0, 1),
        }
    }
}

impl View {
    /// The voxel at display cell (`row`, `col`) and depth `t` along `p`.
    fn voxel(&self, row: usize, col: usize, t: usize) -> [usize; 3] {
        let mut ijk = [0; 3];
        ijk[self.h] = if self.flip_h { self.n_h - 1 - col } else { col };
        ijk[self.v] = if self.flip_v { self.n_v - 1 - row } else { row };
        ijk[self.p] = t;
        ijk
    }
}

/// A projected panel in display order (`n_h` columns, `n_v` rows, row-major).
struct Plane {
    /// Scan MIP along each ray.
    mip: Vec<f32>,
    /// The region with most voxels along each ray (0: none).
    labels: Vec<u32>,
}

/// The region with most voxels among `counts` (ties: the lower label), 0 when empty.
fn mode(counts: &[(u32, u32)]) -> u32 {
    counts
        .iter()
        .fold((0u32, 0u32), |best, &(l, n)| if n > best.1 || (n == best.1 && l < best.0) { (l, n) } else { best })
        .0
}

/// Voxels `start + n * stride` for `n` in `0..len`.
struct Ray {
    start: usize,
    stride: usize,
    len: usize,
}

impl Ray {
    /// The scan's maximum and the most frequent region along the ray (`counts` is scratch).
    /// Runs of one label are counted at once, so the region tally is searched once per run.
    fn walk<L: Label>(&self, scan: &[f32], atlas: &[L], counts: &mut Vec<(u32, u32)>) -> (f32, u32) {
        counts.clear();
        let mut top = f32::NEG_INFINITY;
        let mut run = (0u32, 0u32);
        for n in 0..self.len {
            let idx = self.start + n * self.stride;
            top = top.max(scan[idx]);
            let l: u32 = atlas[idx].into();
            if l != run.0 {
                tally(counts, run);
                run = (l, 0);
            }
            run.1 += 1;
        }
        tally(counts, run);
        (top, mode(counts))
    }
}

/// Projects the scan (maximum) and the atlas (most frequent region) along `ax.p` over `slab`.
fn project<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>, ax: &View, slab: Range<usize>) -> Plane {
    let grid = scan.grid;
    let n = ax.n_h * ax.n_v;
    let usable = !grid.is_empty()
        && scan.data.len() == grid.len()
        && atlas.grid.dims == grid.dims
        && atlas.data.len() == grid.len();
    let mut plane = Plane { mip: vec![0.0; n], labels: vec![0; n] };
    if !usable {
        return plane;
    }
    let slab = slab.start.min(grid.dims[ax.p])..slab.end.min(grid.dims[ax.p]);
    let dims = grid.dims;
    let stride = [1, dims[0], dims[0] * dims[1]][ax.p];
    let rows = plane.mip.par_chunks_mut(ax.n_h).zip(plane.labels.par_chunks_mut(ax.n_h)).enumerate();
    if ax.h == 0 {
        // Columns run along the storage's fastest axis: read each row's lines in memory order.
        rows.for_each_init(
            || Columns::new(ax.n_h),
            |cols, (row, (mip, labels))| {
                cols.reset();
                for t in slab.clone() {
                    let [_, j, k] = ax.voxel(row, 0, t);
                    let start = grid.index(0, j, k);
                    let line = start..start + ax.n_h;
                    cols.add_line(&scan.data[line.clone()], &atlas.data[line], ax.flip_h);
                }
                cols.finish(mip, labels);
            },
        );
    } else {
        rows.for_each(|(row, (mip, labels))| {
            let mut counts: Vec<(u32, u32)> = Vec::new();
            for col in 0..ax.n_h {
                let [i, j, k] = ax.voxel(row, col, slab.start);
                let ray = Ray { start: grid.index(i, j, k), stride, len: slab.len() };
                (mip[col], labels[col]) = ray.walk(&scan.data, &atlas.data, &mut counts);
            }
        });
    }
    plane
}

/// The rays of one display row walked together, one storage line (a voxel per column) at a
/// time: each column keeps its maximum, its current run of one label and its region tally.
struct Columns {
    top: Vec<f32>,
    run: Vec<(u32, u32)>,
    counts: Vec<Vec<(u32, u32)>>,
    /// Columns whose current run is of a region (not background).
    open: usize,
}

impl Columns {
    fn new(n: usize) -> Columns {
        Columns { top: vec![f32::NEG_INFINITY; n], run: vec![(0, 0); n], counts: vec![Vec::new(); n], open: 0 }
    }

    fn reset(&mut self) {
        self.top.fill(f32::NEG_INFINITY);
        self.run.fill((0, 0));
        self.counts.iter_mut().for_each(Vec::clear);
        self.open = 0;
    }

    /// Adds one voxel per column (`flip`: the line runs from the last column to the first).
    /// The maximum is taken in a loop of its own (it vectorises); a line of background whose
    /// columns are all in background runs changes no tally (background is never counted), so
    /// its labels are skipped: most lines of a whole-body scan hold no bone.
    fn add_line<L: Label>(&mut self, scan: &[f32], atlas: &[L], flip: bool) {
        if flip {
            self.top.iter_mut().rev().zip(scan).for_each(|(t, &v)| *t = t.max(v));
        } else {
            self.top.iter_mut().zip(scan).for_each(|(t, &v)| *t = t.max(v));
        }
        if self.open == 0 && !any_region(atlas) {
            return;
        }
        let n = self.top.len();
        for (x, &l) in atlas.iter().enumerate() {
            let col = if flip { n - 1 - x } else { x };
            let l: u32 = l.into();
            let run = &mut self.run[col];
            if l != run.0 {
                tally(&mut self.counts[col], *run);
                self.open = self.open + usize::from(l != 0) - usize::from(run.0 != 0);
                *run = (l, 0);
            }
            run.1 += 1;
        }
    }

    fn finish(&mut self, mip: &mut [f32], labels: &mut [u32]) {
        for col in 0..self.top.len() {
            tally(&mut self.counts[col], self.run[col]);
            mip[col] = self.top[col];
            labels[col] = mode(&self.counts[col]);
        }
    }
}

/// Whether any voxel of `line` is labelled (a branch-free OR, so it vectorises).
fn any_region<L: Label>(line: &[L]) -> bool {
    line.iter().fold(0u32, |a, &l| a | Into::<u32>::into(l)) != 0
}

/// Adds a run of `n` voxels of `label` (background runs are not counted).
fn tally(counts: &mut Vec<(u32, u32)>, (label, n): (u32, u32)) {
    if label != 0 && n > 0 {
        match counts.iter_mut().find(|c| c.0 == label) {
            Some(c) => c.1 += n,
            None => counts.push((label, n)),
        }
    }
}

/// The range along `ax.p` that holds the midline regions' voxels (the whole axis when there is
/// none).
fn midline_slab<L: Label>(atlas: &Volume<L>, ax: &View, rows: &[RegionRow]) -> Range<usize> {
    let dims = atlas.grid.dims;
    let full = 0..dims[ax.p];
    let max = rows.iter().map(|r| r.index as usize).max().unwrap_or(0);
    let mut midline = vec![false; max + 1];
    rows.iter().filter(|r| r.side == Side::Midline).for_each(|r| midline[r.index as usize] = true);
    if !midline.contains(&true) || atlas.data.len() != atlas.grid.len() {
        return full;
    }
    let slab = dims[0] * dims[1];
    let (lo, hi) = atlas
        .data
        .par_chunks(slab.max(1))
        .enumerate()
        .map(|(k, s)| {
            let (mut lo, mut hi) = (usize::MAX, 0usize);
            for (n, &l) in s.iter().enumerate() {
                if midline.get(l.index()).copied().unwrap_or(false) {
                    let t = [n % dims[0], n / dims[0], k][ax.p];
                    lo = lo.min(t);
                    hi = hi.max(t);
                }
            }
            (lo, hi)
        })
        .reduce(|| (usize::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    if lo > hi {
        full
    } else {
        lo..hi + 1
    }
}

/// Nearest-cell resampling of a label plane (`width` columns) through the taps.
fn resample_nearest(src: &[u32], width: usize, taps_h: &[Tap], taps_v: &[Tap]) -> Vec<u32> {
    let pick = |tap: &Tap| match *tap {
        Tap::Span(a, b) => (a + b - 1) / 2,
        Tap::Lerp(a, b, w) => {
            if w < 0.5 {
                a
            } else {
                b
            }
        }
    };
    let cols: Vec<usize> = taps_h.iter().map(pick).collect();
    taps_v.iter().flat_map(|t| cols.iter().map(move |&c| src[pick(t) * width + c])).collect()
}

/// A panel at picture resolution: grey levels in [0, 1] and region labels.
struct Panel {
    look: Look,
    w: usize,
    h: usize,
    grey: Vec<f32>,
    labels: Vec<u32>,
}

impl Panel {
    /// Projects and resamples one panel at `scale` pixels per mm.
    fn new<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>, rows: &[RegionRow], look: Look, scale: f64) -> Panel {
        let ax = look.view(&scan.grid);
        let slab = match look {
            Look::Coronal => 0..scan.grid.dims[ax.p],
            Look::Sagittal => midline_slab(atlas, &ax, rows),
        };
        let plane = project(scan, atlas, &ax, slab);
        let (lo, hi) = window(&plane.mip);
        let grey: Vec<f32> = plane
            .mip
            .iter()
            .map(|&v| if v.is_finite() { ((v - lo) / (hi - lo)).clamp(0.0, 1.0).powf(GAMMA) } else { 0.0 })
            .collect();
        let (w, h) = panel_size(&ax, scale);
        let (taps_h, taps_v) = (taps(ax.n_h, w), taps(ax.n_v, h));
        Panel {
            look,
            w,
            h,
            grey: resample_grey(&grey, ax.n_h, &taps_h, &taps_v),
            labels: resample_nearest(&plane.labels, ax.n_h, &taps_h, &taps_v),
        }
    }
}

/// Pixel size of a panel at `scale` pixels per mm (at least 1 x 1).
fn panel_size(ax: &View, scale: f64) -> (usize, usize) {
    let px = |mm: f64| ((mm * scale).round() as usize).clamp(1, 4 * TARGET_LONG_SIDE);
    (px(ax.n_h as f64 * ax.mm_h), px(ax.n_v as f64 * ax.mm_v))
}

/// Pixels per mm so that the picture's height, or the two panels' summed width, is
/// [`TARGET_LONG_SIDE`].
fn picture_scale(grid: &Grid) -> f64 {
    let (c, s) = (Look::Coronal.view(grid), Look::Sagittal.view(grid));
    let height = c.n_v as f64 * c.mm_v;
    let width = c.n_h as f64 * c.mm_h + s.n_h as f64 * s.mm_h;
    TARGET_LONG_SIDE as f64 / height.max(width).max(1e-6)
}

/// The region map picture: coronal and sagittal label projections over the scan with every
/// region numbered, and a legend (see the module docs). `atlas` must be on the scan's grid
/// (same dimensions) and hold the labels of `rows`; otherwise the panels show no region. An
/// empty scan gives a black picture with the legend.
pub fn picture<L: Label>(scan: &Volume<f32>, atlas: &Volume<L>, rows: &[RegionRow]) -> RgbImage {
    let scale = picture_scale(&scan.grid);
    let (cor, sag) = rayon::join(
        || Panel::new(scan, atlas, rows, Look::Coronal, scale),
        || Panel::new(scan, atlas, rows, Look::Sagittal, scale),
    );
    let panel_h = cor.h.max(sag.h);
    let entries: Vec<Entry> =
        rows.iter().map(|r| Entry { colour: r.colour, key: r.index.to_string(), label: r.name.clone() }).collect();
    let legend = Legend::new(&entries, panel_h.max(200));
    let legend_h = legend.height(entries.len());
    let canvas_w = MARGIN + cor.w + GAP + sag.w + GAP + legend.width() + MARGIN;
    let canvas_h = HEADER + panel_h.max(legend_h) + MARGIN;
    let mut canvas = Canvas::new(canvas_w, canvas_h);
    let colours = colour_lookup(rows);
    let mut x0 = MARGIN;
    for panel in [&cor, &sag] {
        draw_panel(&mut canvas, panel, x0, &colours);
        number_regions(&mut canvas, panel, x0, &colours);
        x0 += panel.w + GAP;
    }
    legend.draw(&mut canvas, &entries, x0, HEADER);
    canvas.into_image()
}

/// Colour of each label value (`None`: not a region of the map).
fn colour_lookup(rows: &[RegionRow]) -> Vec<Option<Rgb>> {
    let max = rows.iter().map(|r| r.index as usize).max().unwrap_or(0);
    let mut out = vec![None; max + 1];
    rows.iter().for_each(|r| out[r.index as usize] = Some(r.colour));
    out
}

fn colour_of(colours: &[Option<Rgb>], label: u32) -> Option<Rgb> {
    colours.get(label as usize).copied().flatten()
}

/// The panel's grey scan, region fills and outlines at (`x0`, [`HEADER`]), with its caption
/// and orientation letters above.
fn draw_panel(canvas: &mut Canvas, panel: &Panel, x0: usize, colours: &[Option<Rgb>]) {
    let (w, h) = (panel.w, panel.h);
    for y in 0..h {
        for x in 0..w {
            let idx = y * w + x;
            let g = panel.grey[idx] * 255.0;
            let l = panel.labels[idx];
            let c = match colour_of(colours, l) {
                None => [g.round() as u8; 3],
                Some(col) => {
                    let edge = x == 0
                        || y == 0
                        || x + 1 == w
                        || y + 1 == h
                        || [idx - 1, idx + 1, idx - w, idx + w].iter().any(|&n| panel.labels[n] != l);
                    if edge {
                        col.map(|k| (k as f32 * EDGE_SHADE).round() as u8)
                    } else {
                        col.map(|k| (g * (1.0 - FILL_ALPHA) + k as f32 * FILL_ALPHA).round() as u8)
                    }
                }
            };
            canvas.set((x0 + x) as i64, (HEADER + y) as i64, c);
        }
    }
    draw_caption(canvas, panel, x0);
}

/// Caption centred over the panel (when it fits) and the orientation letters at its corners.
fn draw_caption(canvas: &mut Canvas, panel: &Panel, x0: usize) {
    let (lw, lh) = text_size("R", CAPTION_SCALE);
    let y = ((HEADER - lh) / 2) as i64;
    let [left, right] = panel.look.letters();
    canvas.text(x0 as i64, y, left, CAPTION_SCALE, WHITE);
    canvas.text((x0 + panel.w.max(lw) - lw) as i64, y, right, CAPTION_SCALE, WHITE);
    let caption = panel.look.caption();
    let (cw, _) = text_size(caption, CAPTION_SCALE);
    if cw + 2 * (lw + 8) <= panel.w {
        canvas.text((x0 + (panel.w - cw) / 2) as i64, y, caption, CAPTION_SCALE, [170, 170, 170]);
    }
}

/// Where a region shows in a panel: its pixel count and the pixel of the region nearest its
/// centroid (so the number sits on the region even when it is curved).
struct Anchor {
    label: u32,
    pixels: usize,
    x: usize,
    y: usize,
}

/// An anchor for every region with at least [`MIN_NUMBERED_PIXELS`] pixels, largest first.
fn anchors(panel: &Panel, colours: &[Option<Rgb>]) -> Vec<Anchor> {
    let mut sums = vec![(0usize, 0.0f64, 0.0f64); colours.len()];
    for (idx, &l) in panel.labels.iter().enumerate() {
        if let Some(s) = sums.get_mut(l as usize).filter(|_| l != 0) {
            *s = (s.0 + 1, s.1 + (idx % panel.w) as f64, s.2 + (idx / panel.w) as f64);
        }
    }
    let mut best = vec![(f64::INFINITY, 0usize); colours.len()];
    for (idx, &l) in panel.labels.iter().enumerate() {
        let (n, sx, sy) = sums.get(l as usize).copied().unwrap_or_default();
        if l != 0 && n > 0 {
            let (dx, dy) = ((idx % panel.w) as f64 - sx / n as f64, (idx / panel.w) as f64 - sy / n as f64);
            let d = dx * dx + dy * dy;
            if d < best[l as usize].0 {
                best[l as usize] = (d, idx);
            }
        }
    }
    let mut out: Vec<Anchor> = (1..sums.len())
        .filter(|&l| sums[l].0 >= MIN_NUMBERED_PIXELS && colours[l].is_some())
        .map(|l| Anchor { label: l as u32, pixels: sums[l].0, x: best[l].1 % panel.w, y: best[l].1 / panel.w })
        .collect();
    out.sort_by(|a, b| b.pixels.cmp(&a.pixels).then(a.label.cmp(&b.label)));
    out
}

/// Numbers each region in a small dark box framed in its colour, at its anchor or nudged to
/// the nearest free spot inside the panel; a region with no free spot is left to the legend.
fn number_regions(canvas: &mut Canvas, panel: &Panel, x0: usize, colours: &[Option<Rgb>]) {
    let bounds = Rect { x: x0 as i64, y: HEADER as i64, w: panel.w as i64, h: panel.h as i64 };
    let mut placed: Vec<Rect> = Vec::new();
    for a in anchors(panel, colours) {
        let text = a.label.to_string();
        let spot = [2, 1].iter().find_map(|&scale| {
            free_spot(&text, scale, (x0 + a.x) as i64, (HEADER + a.y) as i64, &bounds, &placed).map(|r| (r, scale))
        });
        if let (Some((r, scale)), Some(col)) = (spot, colour_of(colours, a.label)) {
            canvas.fill(r, BLACK);
            canvas.frame(r, col);
            canvas.text(r.x + 2, r.y + 2, &text, scale, WHITE);
            placed.push(r);
        }
    }
}

/// A box for `text` at `scale` centred on (`ax`, `ay`) or shifted by up to two box sizes,
/// inside `bounds` and clear of `placed`; the nearest such box.
fn free_spot(text: &str, scale: usize, ax: i64, ay: i64, bounds: &Rect, placed: &[Rect]) -> Option<Rect> {
    let (tw, th) = text_size(text, scale);
    let (bw, bh) = (tw as i64 + 4, th as i64 + 4);
    let mut offsets: Vec<(i64, i64)> =
        (-2..=2).flat_map(|dy| (-2..=2).map(move |dx| (dx * bw / 2, dy * bh / 2))).collect();
    offsets.sort_by_key(|&(dx, dy)| dx * dx + dy * dy);
    offsets.into_iter().find_map(|(dx, dy)| {
        let r = Rect { x: ax - bw / 2 + dx, y: ay - bh / 2 + dy, w: bw, h: bh };
        let inside =
            r.x >= bounds.x && r.y >= bounds.y && r.x + r.w <= bounds.x + bounds.w && r.y + r.h <= bounds.y + bounds.h;
        (inside && placed.iter().all(|p| p.overlap(&r) == 0)).then_some(r)
    })
}

#[cfg(test)]
mod tests;
