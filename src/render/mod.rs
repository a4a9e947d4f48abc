//! The overview picture clinicians glance at: a coronal maximum-intensity projection (MIP) of
//! the scan in radiological convention, with every lesion filled in its own colour, outlined,
//! and numbered.
//!
//! How the picture is made:
//!
//! 1. **Projection.** The voxel axis that runs most along world y (anterior-posterior) is
//!    collapsed by taking the maximum, whatever the storage orientation. The volume is walked
//!    in memory order (`i` fastest), in parallel over slices, so a 100 M voxel scan takes a
//!    fraction of a second. Along each ray we also keep the lesion id of the brightest lesion
//!    voxel (ties go to the smaller id, so the result does not depend on the storage order).
//! 2. **Display order.** The projected plane is turned so that superior is at the top and the
//!    subject's right is on the viewer's left (radiological convention).
//! 3. **Square pixels.** The two in-plane axes are resampled by their voxel spacing so the
//!    longer side of the picture is [`TARGET_LONG_SIDE`] pixels: linear interpolation where the
//!    picture is finer than the grid, maximum over the covered cells where it is coarser (so
//!    thin bright structures and small lesions survive).
//! 4. **Window.** Grey levels run from 0 to the 99.5th percentile of the positive MIP values
//!    (a selection on the projected plane, not a sort of the volume), so a few very bright
//!    voxels do not set the scale, with a mild gamma (0.7) so that bone marrow stays visible
//!    next to bright fluid (bladder, CSF).
//! 5. **Overlay.** Lesions are blended in a cycled high-contrast palette with a solid 1-pixel
//!    outline, numbered in small dark boxes placed beside their centroids (with a leader line),
//!    and the picture carries `R` / `L` orientation letters and a caption in a header band.
//!
//! Text uses a small built-in 5x7 bitmap font (no font dependency).

pub mod regions;

use crate::error::{Error, Result};
use crate::palette::lesion_colour;
use crate::volume::{Grid, Volume};
use image::RgbImage;
use rayon::prelude::*;

/// A lesion to number on the overview.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Marker {
    /// The lesion's id: its value in the lesion map (1-based); also picks its colour.
    pub id: u32,
    /// The lesion's centroid in (fractional) voxel indices of the scan's grid.
    pub centroid_voxel: [f64; 3],
}

/// Length in pixels of the longer side of the projected image (without header and margins).
pub const TARGET_LONG_SIDE: usize = 1000;

/// Height of the header band that holds the orientation letters and the caption.
const HEADER: usize = 36;
/// Width of the border left, right and below the image.
const MARGIN: usize = 8;
/// Narrowest canvas, so the header always fits.
const MIN_CANVAS_W: usize = 240;
/// Opacity of the lesion fill.
const FILL_ALPHA: f32 = 0.45;
/// Upper end of the grey window, as a percentile of the positive MIP values.
const WINDOW_PERCENTILE: f64 = 99.5;
/// Display gamma applied inside the window: fluid (bladder, CSF) still fills the top of the
/// window on STIR, so mid-grey bone marrow is lifted a little to stay visible.
const GAMMA: f32 = 0.7;
/// Scale of the lesion numbers and the caption (5x7 glyphs become 10x14).
const LABEL_SCALE: usize = 2;
/// Scale of the orientation letters.
const LETTER_SCALE: usize = 3;
/// Padding between a number and its box border.
const LABEL_PAD: usize = 3;

/// Coronal maximum-intensity projection of the scan with lesions drawn in distinct colours and
/// numbered.
///
/// The projection runs along the voxel axis closest to world anterior-posterior; the picture
/// is in radiological convention (superior at the top, the subject's right on the viewer's
/// left, marked `R` and `L` in the header) with square pixels, its longer side
/// [`TARGET_LONG_SIDE`] pixels. Each pixel shows the lesion that owns the brightest lesion
/// voxel on its ray. Markers are numbered beside their projected centroids.
///
/// `lesion_map` must be on the scan's grid (same dimensions); if it is not, no lesion is
/// filled, but the markers are still numbered. An empty or all-zero scan gives a black picture.
pub fn overview(scan: &Volume<f32>, lesion_map: &Volume<u16>, markers: &[Marker]) -> RgbImage {
    let view = View::new(&scan.grid);
    let labels = (lesion_map.grid.dims == scan.grid.dims && lesion_map.data.len() == scan.data.len())
        .then_some(lesion_map.data.as_slice());
    let plane = display_plane(scan, labels, &view);
    let layout = Layout::new(&view);

    // Grey levels in [0, 1] and lesion ids at the picture's resolution.
    let (lo, hi) = window(&plane.mip);
    let grey: Vec<f32> = plane
        .mip
        .iter()
        .map(|&v| if v.is_nan() { 0.0 } else { ((v - lo) / (hi - lo)).clamp(0.0, 1.0).powf(GAMMA) })
        .collect();
    let taps_h = taps(view.n_h, layout.w);
    let taps_v = taps(view.n_v, layout.h);
    let grey = resample_grey(&grey, view.n_h, &taps_h, &taps_v);
    let ids = resample_labels(&plane.lval, &plane.lid, view.n_h, &taps_h, &taps_v);

    let mut canvas = Canvas::new(layout.canvas_w, layout.canvas_h);
    compose(&mut canvas, &layout, &grey, &ids);
    let reserved = draw_header(&mut canvas);
    draw_markers(&mut canvas, &layout, &view, &ids, markers, reserved);
    canvas.into_image()
}

/// PNG bytes of an image (so the caller can write atomically).
///
/// # Errors
/// [`Error::Output`] naming `overview.png` when encoding fails.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    encode_png_as(img, "overview.png")
}

/// PNG bytes of an image that will be written as `name` (named in the error).
///
/// # Errors
/// [`Error::Output`] naming `name` when encoding fails.
pub fn encode_png_as(img: &RgbImage, name: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    img.write_with_encoder(image::codecs::png::PngEncoder::new(&mut bytes))
        .map_err(|e| Error::Output { path: name.into(), message: e.to_string() })?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// Geometry

/// How a grid is projected and shown.
#[derive(Clone, Copy, Debug)]
struct View {
    /// Voxel axis projected away (closest to world y).
    p: usize,
    /// Voxel axis shown horizontally (closest to world x).
    h: usize,
    /// Voxel axis shown vertically (closest to world z).
    v: usize,
    /// Column 0 is the last index along `h` (the axis runs toward the subject's right).
    flip_h: bool,
    /// Row 0 is the last index along `v` (the axis runs toward superior).
    flip_v: bool,
    /// Voxel counts along `h` and `v` (at least 1).
    n_h: usize,
    n_v: usize,
    /// Voxel sizes along `h` and `v` in mm (1 when the affine gives nothing usable).
    mm_h: f64,
    mm_v: f64,
}

impl View {
    fn new(grid: &Grid) -> View {
        let dirs = grid.affine.axis_directions();
        let axis_of = |world: usize| dirs.iter().position(|&(w, _)| w == world).unwrap_or(world);
        let (p, h, v) = (axis_of(1), axis_of(0), axis_of(2));
        let spacing = grid.spacing();
        let mm = |a: usize| {
            let s = spacing[a];
            if s.is_finite() && s > 0.0 {
                s
            } else {
                1.0
            }
        };
        View {
            p,
            h,
            v,
            // Radiological: the subject's right (world +x) on the viewer's left.
            flip_h: !dirs[h].1,
            // Superior (world +z) at the top.
            flip_v: !dirs[v].1,
            n_h: grid.dims[h].max(1),
            n_v: grid.dims[v].max(1),
            mm_h: mm(h),
            mm_v: mm(v),
        }
    }

    /// Position of a (fractional) voxel in display-plane cells: column from the viewer's left,
    /// row from the top, each cell spanning one unit with its centre at `index + 0.5`.
    fn display_pos(&self, ijk: [f64; 3]) -> (f64, f64) {
        let x = ijk[self.h];
        let y = ijk[self.v];
        let col = if self.flip_h { (self.n_h - 1) as f64 - x } else { x };
        let row = if self.flip_v { (self.n_v - 1) as f64 - y } else { y };
        (col + 0.5, row + 0.5)
    }
}

/// Where the projected image sits on the canvas.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Layout {
    /// Top-left corner of the image.
    x0: usize,
    y0: usize,
    /// Size of the image in pixels.
    w: usize,
    h: usize,
    /// Size of the whole canvas.
    canvas_w: usize,
    canvas_h: usize,
}

impl Layout {
    fn new(view: &View) -> Layout {
        let w_mm = view.n_h as f64 * view.mm_h;
        let h_mm = view.n_v as f64 * view.mm_v;
        let scale = TARGET_LONG_SIDE as f64 / w_mm.max(h_mm);
        let px = |mm: f64| ((mm * scale).round() as usize).clamp(1, TARGET_LONG_SIDE);
        let (w, h) = (px(w_mm), px(h_mm));
        let canvas_w = (w + 2 * MARGIN).max(MIN_CANVAS_W);
        Layout { x0: (canvas_w - w) / 2, y0: HEADER, w, h, canvas_w, canvas_h: HEADER + h + MARGIN }
    }
}

// ---------------------------------------------------------------------------------------------
// Projection

/// A MIP in storage order: the two axes left after projection, in ascending voxel-axis order
/// (`a` fastest).
struct Projection {
    mip: Vec<f32>,
    /// Intensity of the brightest lesion voxel on each ray (`-inf` where there is none).
    lval: Vec<f32>,
    /// Its lesion id (0 where there is none).
    lid: Vec<u16>,
}

impl Projection {
    fn new(len: usize) -> Projection {
        Projection { mip: vec![f32::NEG_INFINITY; len], lval: vec![f32::NEG_INFINITY; len], lid: vec![0; len] }
    }

    /// Folds another partial projection of the same plane into this one.
    fn merge(&mut self, other: &Projection) {
        max_into(&mut self.mip, &other.mip);
        for idx in 0..self.lid.len() {
            consider(&mut self.lval[idx], &mut self.lid[idx], other.lval[idx], other.lid[idx]);
        }
    }
}

/// Keeps `(v, id)` if it beats the best lesion voxel so far on a ray: brighter wins, and on a
/// tie the smaller id, so the outcome is independent of the order the ray is walked in.
#[inline]
fn consider(best_v: &mut f32, best_id: &mut u16, v: f32, id: u16) {
    if id == 0 {
        return;
    }
    let v = if v.is_nan() { f32::NEG_INFINITY } else { v };
    if *best_id == 0 || v > *best_v || (v == *best_v && id < *best_id) {
        *best_v = v;
        *best_id = id;
    }
}

/// Maximum of a row (NaN ignored), in independent lanes so it vectorises.
fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = l.max(x);
        }
    }
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    lanes.iter().fold(tail, |a, &b| a.max(b))
}

/// Element-wise maximum of `row` into `out` (NaN ignored).
#[inline]
fn max_into(out: &mut [f32], row: &[f32]) {
    for (o, &x) in out.iter_mut().zip(row) {
        *o = o.max(x);
    }
}

/// True if any label in the row is nonzero (a branch-free OR, so it vectorises).
#[inline]
fn any_lesion(row: &[u16]) -> bool {
    row.iter().fold(0u16, |a, &b| a | b) != 0
}

/// Projects `data` (on a grid of `dims`, `i` fastest) along voxel axis `p`, walking memory in
/// order. Returns the plane of the two remaining axes in ascending order. `dims` must be
/// nonzero and `data` (and `labels`) must hold `dims` voxels.
fn project(data: &[f32], labels: Option<&[u16]>, dims: [usize; 3], p: usize) -> Projection {
    let [nx, ny, nz] = dims;
    let slab = nx * ny;
    let slice_of = |k: usize| (&data[k * slab..(k + 1) * slab], labels.map(|l| &l[k * slab..(k + 1) * slab]));
    match p {
        // Rays along i: each row of a slice collapses to one value; slice k owns plane row k.
        0 => {
            let mut out = Projection::new(ny * nz);
            out.mip
                .par_chunks_mut(ny)
                .zip(out.lval.par_chunks_mut(ny))
                .zip(out.lid.par_chunks_mut(ny))
                .enumerate()
                .for_each(|(k, ((mip, lval), lid))| {
                    let (s, l) = slice_of(k);
                    for j in 0..ny {
                        let row = &s[j * nx..(j + 1) * nx];
                        mip[j] = row_max(row);
                        if let Some(l) = l {
                            let lrow = &l[j * nx..(j + 1) * nx];
                            if any_lesion(lrow) {
                                for (&v, &id) in row.iter().zip(lrow) {
                                    consider(&mut lval[j], &mut lid[j], v, id);
                                }
                            }
                        }
                    }
                });
            out
        }
        // Rays along j: the rows of slice k fold element-wise into plane row k.
        1 => {
            let mut out = Projection::new(nx * nz);
            out.mip
                .par_chunks_mut(nx)
                .zip(out.lval.par_chunks_mut(nx))
                .zip(out.lid.par_chunks_mut(nx))
                .enumerate()
                .for_each(|(k, ((mip, lval), lid))| {
                    let (s, l) = slice_of(k);
                    for j in 0..ny {
                        let row = &s[j * nx..(j + 1) * nx];
                        max_into(mip, row);
                        if let Some(l) = l {
                            let lrow = &l[j * nx..(j + 1) * nx];
                            if any_lesion(lrow) {
                                for i in 0..nx {
                                    consider(&mut lval[i], &mut lid[i], row[i], lrow[i]);
                                }
                            }
                        }
                    }
                });
            out
        }
        // Rays along k: whole slices fold element-wise into the plane; each thread takes a
        // contiguous slab of slices into its own partial plane, and the partials are merged.
        _ => {
            let parts = rayon::current_num_threads().clamp(1, nz);
            let partials: Vec<Projection> = (0..parts)
                .into_par_iter()
                .map(|t| {
                    let mut acc = Projection::new(slab);
                    for k in (t * nz / parts)..((t + 1) * nz / parts) {
                        let (s, l) = slice_of(k);
                        max_into(&mut acc.mip, s);
                        if let Some(l) = l {
                            for (lrow, (row, (lval, lid))) in
                                l.chunks(nx).zip(s.chunks(nx).zip(acc.lval.chunks_mut(nx).zip(acc.lid.chunks_mut(nx))))
                            {
                                if any_lesion(lrow) {
                                    for i in 0..nx {
                                        consider(&mut lval[i], &mut lid[i], row[i], lrow[i]);
                                    }
                                }
                            }
                        }
                    }
                    acc
                })
                .collect();
            let mut iter = partials.into_iter();
            let mut out = iter.next().unwrap_or_else(|| Projection::new(slab));
            for part in iter {
                out.merge(&part);
            }
            out
        }
    }
}

/// The MIP and the lesion ids in display order: `n_h` columns from the subject's right to left,
/// `n_v` rows from superior to inferior, row-major.
struct DisplayPlane {
    mip: Vec<f32>,
    lval: Vec<f32>,
    lid: Vec<u16>,
}

fn display_plane(scan: &Volume<f32>, labels: Option<&[u16]>, view: &View) -> DisplayPlane {
    let n = view.n_h * view.n_v;
    let dims = scan.grid.dims;
    if scan.grid.is_empty() || scan.data.len() != scan.grid.len() {
        return DisplayPlane { mip: vec![0.0; n], lval: vec![f32::NEG_INFINITY; n], lid: vec![0; n] };
    }
    let proj = project(&scan.data, labels, dims, view.p);
    // Storage-plane axes: the two that remain, ascending; `a` varies fastest.
    let a = if view.p == 0 { 1 } else { 0 };
    let na = dims[a];
    let mut out = DisplayPlane { mip: vec![0.0; n], lval: vec![0.0; n], lid: vec![0; n] };
    for row in 0..view.n_v {
        let iv = if view.flip_v { view.n_v - 1 - row } else { row };
        for col in 0..view.n_h {
            let ih = if view.flip_h { view.n_h - 1 - col } else { col };
            let (ia, ib) = if view.h == a { (ih, iv) } else { (iv, ih) };
            let src = ia + na * ib;
            let dst = row * view.n_h + col;
            out.mip[dst] = proj.mip[src];
            out.lval[dst] = proj.lval[src];
            out.lid[dst] = proj.lid[src];
        }
    }
    out
}

/// The grey window `(0, p99.5 of the positive finite MIP values)`, found by selection on the
/// projected plane (never the volume). Falls back to a unit window when nothing is positive.
fn window(mip: &[f32]) -> (f32, f32) {
    let mut values: Vec<f32> = mip.iter().copied().filter(|v| v.is_finite() && *v > 0.0).collect();
    if values.is_empty() {
        return (0.0, 1.0);
    }
    let rank = ((WINDOW_PERCENTILE / 100.0) * (values.len() - 1) as f64).round() as usize;
    let (_, hi, _) = values.select_nth_unstable_by(rank, |a, b| a.total_cmp(b));
    (0.0, *hi)
}

// ---------------------------------------------------------------------------------------------
// Resampling to square pixels

/// How one output pixel along an axis is made from source cells.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tap {
    /// The output is coarser than the source: combine cells `start..end` (maximum, or the best
    /// lesion).
    Span(usize, usize),
    /// The output is finer: interpolate between two cells with weight on the second.
    Lerp(usize, usize, f32),
}

/// Taps that map `src` cells onto `dst` pixels of equal total extent.
fn taps(src: usize, dst: usize) -> Vec<Tap> {
    let step = src as f64 / dst as f64;
    (0..dst)
        .map(|c| {
            if step >= 1.0 {
                let start = ((c as f64 * step + 1e-9).floor() as usize).min(src - 1);
                let end = (((c + 1) as f64 * step - 1e-9).ceil() as usize).clamp(start + 1, src);
                Tap::Span(start, end)
            } else {
                let u = ((c as f64 + 0.5) * step - 0.5).clamp(0.0, (src - 1) as f64);
                let i0 = u.floor() as usize;
                Tap::Lerp(i0, (i0 + 1).min(src - 1), (u - i0 as f64) as f32)
            }
        })
        .collect()
}

/// Resamples a row-major grey plane (`width` columns) to `taps_h.len()` x `taps_v.len()`.
fn resample_grey(src: &[f32], width: usize, taps_h: &[Tap], taps_v: &[Tap]) -> Vec<f32> {
    let apply = |get: &dyn Fn(usize) -> f32, tap: &Tap| match *tap {
        Tap::Span(a, b) => (a..b).map(get).fold(0.0f32, f32::max),
        Tap::Lerp(a, b, w) => get(a) * (1.0 - w) + get(b) * w,
    };
    let out_w = taps_h.len();
    let rows = src.len() / width;
    let mut horiz = vec![0.0f32; rows * out_w];
    for r in 0..rows {
        let line = &src[r * width..(r + 1) * width];
        for (o, tap) in horiz[r * out_w..(r + 1) * out_w].iter_mut().zip(taps_h) {
            *o = apply(&|i| line[i], tap);
        }
    }
    let mut out = vec![0.0f32; taps_v.len() * out_w];
    for (r, tap) in taps_v.iter().enumerate() {
        for c in 0..out_w {
            out[r * out_w + c] = apply(&|i| horiz[i * out_w + c], tap);
        }
    }
    out
}

/// Resamples the lesion ids like [`resample_grey`]: nearest cell when enlarging, the best
/// lesion among the covered cells when shrinking (so small lesions do not vanish).
fn resample_labels(lval: &[f32], lid: &[u16], width: usize, taps_h: &[Tap], taps_v: &[Tap]) -> Vec<u16> {
    let pick = |get: &dyn Fn(usize) -> (f32, u16), tap: &Tap| match *tap {
        Tap::Span(a, b) => {
            let (mut bv, mut bid) = (f32::NEG_INFINITY, 0u16);
            for i in a..b {
                let (v, id) = get(i);
                consider(&mut bv, &mut bid, v, id);
            }
            (bv, bid)
        }
        Tap::Lerp(a, b, w) => get(if w < 0.5 { a } else { b }),
    };
    let out_w = taps_h.len();
    let rows = lid.len() / width;
    let mut horiz = vec![(f32::NEG_INFINITY, 0u16); rows * out_w];
    for r in 0..rows {
        let base = r * width;
        for (o, tap) in horiz[r * out_w..(r + 1) * out_w].iter_mut().zip(taps_h) {
            *o = pick(&|i| (lval[base + i], lid[base + i]), tap);
        }
    }
    let mut out = vec![0u16; taps_v.len() * out_w];
    for (r, tap) in taps_v.iter().enumerate() {
        for c in 0..out_w {
            out[r * out_w + c] = pick(&|i| horiz[i * out_w + c], tap).1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Drawing

/// An RGB canvas with clipped drawing.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

/// A rectangle in canvas pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
}

impl Rect {
    fn overlap(&self, o: &Rect) -> i64 {
        let dx = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let dy = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        dx.max(0) * dy.max(0)
    }

    fn contains(&self, x: i64, y: i64, slack: i64) -> bool {
        x >= self.x - slack && x < self.x + self.w + slack && y >= self.y - slack && y < self.y + self.h + slack
    }
}

const BLACK: [u8; 3] = [0, 0, 0];
const WHITE: [u8; 3] = [255, 255, 255];

impl Canvas {
    fn new(w: usize, h: usize) -> Canvas {
        Canvas { w, h, px: vec![0; w * h * 3] }
    }

    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let o = (y as usize * self.w + x as usize) * 3;
            self.px[o..o + 3].copy_from_slice(&c);
        }
    }

    fn fill(&mut self, r: Rect, c: [u8; 3]) {
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                self.set(x, y, c);
            }
        }
    }

    fn frame(&mut self, r: Rect, c: [u8; 3]) {
        for x in r.x..r.x + r.w {
            self.set(x, r.y, c);
            self.set(x, r.y + r.h - 1, c);
        }
        for y in r.y..r.y + r.h {
            self.set(r.x, y, c);
            self.set(r.x + r.w - 1, y, c);
        }
    }

    /// A 1-pixel line through `points` with a 1-pixel dark shadow on one side, so it shows on
    /// bright and dark backgrounds alike.
    fn leader(&mut self, points: &[(i64, i64)], c: [u8; 3]) {
        let (Some(&(x0, y0)), Some(&(x1, y1))) = (points.first(), points.last()) else {
            return;
        };
        let (sx, sy) = if (x1 - x0).abs() >= (y1 - y0).abs() { (0, 1) } else { (1, 0) };
        for &(x, y) in points {
            self.set(x + sx, y + sy, BLACK);
        }
        for &(x, y) in points {
            self.set(x, y, c);
        }
    }

    fn text(&mut self, x: i64, y: i64, s: &str, scale: usize, c: [u8; 3]) {
        let scale = scale as i64;
        for (n, ch) in s.chars().enumerate() {
            let gx = x + n as i64 * (GLYPH_W as i64 + 1) * scale;
            for (row, bits) in glyph(ch).iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (1 << (GLYPH_W - 1 - col)) != 0 {
                        let r = Rect { x: gx + col as i64 * scale, y: y + row as i64 * scale, w: scale, h: scale };
                        self.fill(r, c);
                    }
                }
            }
        }
    }

    fn into_image(self) -> RgbImage {
        RgbImage::from_raw(self.w as u32, self.h as u32, self.px).expect("canvas buffer matches its size")
    }
}

fn line_points((x0, y0): (i64, i64), (x1, y1): (i64, i64)) -> Vec<(i64, i64)> {
    let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
    let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
    let (mut x, mut y, mut err) = (x0, y0, dx + dy);
    let mut out = Vec::with_capacity((dx - dy + 1) as usize);
    loop {
        out.push((x, y));
        if x == x1 && y == y1 {
            return out;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

/// Paints the grey MIP and the lesion fills and outlines into the image area.
fn compose(canvas: &mut Canvas, layout: &Layout, grey: &[f32], ids: &[u16]) {
    let (w, h) = (layout.w, layout.h);
    for y in 0..h {
        for x in 0..w {
            let idx = y * w + x;
            let g = grey[idx] * 255.0;
            let id = ids[idx];
            let c = if id == 0 {
                let g = g.round() as u8;
                [g, g, g]
            } else {
                let col = lesion_colour(id as u32);
                let edge = x == 0
                    || y == 0
                    || x + 1 == w
                    || y + 1 == h
                    || ids[idx - 1] != id
                    || ids[idx + 1] != id
                    || ids[idx - w] != id
                    || ids[idx + w] != id;
                if edge {
                    col
                } else {
                    col.map(|k| (g * (1.0 - FILL_ALPHA) + k as f32 * FILL_ALPHA).round() as u8)
                }
            };
            let o = ((layout.y0 + y) * canvas.w + layout.x0 + x) * 3;
            canvas.px[o..o + 3].copy_from_slice(&c);
        }
    }
}

/// Width and height in pixels of `s` drawn at `scale`.
fn text_size(s: &str, scale: usize) -> (usize, usize) {
    let n = s.chars().count();
    (if n == 0 { 0 } else { (n * (GLYPH_W + 1) - 1) * scale }, GLYPH_H * scale)
}

/// Draws the header band (`R` at the viewer's left, `L` at the right, the caption between) and
/// returns the rectangles it uses, which labels must keep clear of.
fn draw_header(canvas: &mut Canvas) -> Vec<Rect> {
    let mut used = Vec::new();
    let (lw, lh) = text_size("R", LETTER_SCALE);
    let y = ((HEADER - lh) / 2) as i64;
    let right = canvas.w - MARGIN - lw;
    for (x, s) in [(MARGIN, "R"), (right, "L")] {
        canvas.text(x as i64, y, s, LETTER_SCALE, WHITE);
        used.push(Rect { x: x as i64 - 2, y: y - 2, w: lw as i64 + 4, h: lh as i64 + 4 });
    }
    let caption = "CORONAL MIP";
    let (cw, ch) = text_size(caption, LABEL_SCALE);
    if cw + 2 * (MARGIN + lw + 8) <= canvas.w {
        let x = ((canvas.w - cw) / 2) as i64;
        let y = ((HEADER - ch) / 2) as i64;
        canvas.text(x, y, caption, LABEL_SCALE, [170, 170, 170]);
        used.push(Rect { x: x - 2, y: y - 2, w: cw as i64 + 4, h: ch as i64 + 4 });
    }
    used
}

/// Summed-area table of lesion pixels on the canvas, to cost label positions quickly.
struct LesionCount {
    w: usize,
    h: usize,
    sums: Vec<u32>,
}

impl LesionCount {
    fn new(canvas_w: usize, canvas_h: usize, layout: &Layout, ids: &[u16]) -> LesionCount {
        let (w, h) = (canvas_w + 1, canvas_h + 1);
        let mut sums = vec![0u32; w * h];
        for y in 0..canvas_h {
            let mut run = 0u32;
            for x in 0..canvas_w {
                let inside = x >= layout.x0 && x < layout.x0 + layout.w && y >= layout.y0 && y < layout.y0 + layout.h;
                if inside && ids[(y - layout.y0) * layout.w + (x - layout.x0)] != 0 {
                    run += 1;
                }
                sums[(y + 1) * w + x + 1] = sums[y * w + x + 1] + run;
            }
        }
        LesionCount { w, h, sums }
    }

    /// Lesion pixels inside `r` (clipped to the canvas).
    fn count(&self, r: &Rect) -> i64 {
        let cx = |x: i64| x.clamp(0, self.w as i64 - 1) as usize;
        let cy = |y: i64| y.clamp(0, self.h as i64 - 1) as usize;
        let (x0, x1, y0, y1) = (cx(r.x), cx(r.x + r.w), cy(r.y), cy(r.y + r.h));
        let s = |x: usize, y: usize| self.sums[y * self.w + x] as i64;
        s(x1, y1) - s(x0, y1) - s(x1, y0) + s(x0, y0)
    }
}

/// Numbers each marker in a box beside its projected centroid, joined to it by a leader line.
/// Boxes are placed greedily, in marker order, at the candidate position that overlaps the
/// fewest other boxes, centroids and lesion pixels, and are always kept inside the canvas.
fn draw_markers(
    canvas: &mut Canvas,
    layout: &Layout,
    view: &View,
    ids: &[u16],
    markers: &[Marker],
    reserved: Vec<Rect>,
) {
    // Anchor pixel of each drawable marker.
    let anchors: Vec<(Marker, (i64, i64))> = markers
        .iter()
        .filter(|m| m.centroid_voxel.iter().all(|c| c.is_finite()))
        .map(|m| {
            let (col, row) = view.display_pos(m.centroid_voxel);
            // Round away float noise first, so a centroid exactly on a pixel border lands on
            // the same pixel whatever orientation it was computed in.
            let to_px = |cells: f64, n: usize, size: usize| {
                let p = ((cells * size as f64 / n as f64) * 1e6).round() / 1e6;
                (p.floor() as i64).clamp(0, size as i64 - 1)
            };
            let x = layout.x0 as i64 + to_px(col, view.n_h, layout.w);
            let y = layout.y0 as i64 + to_px(row, view.n_v, layout.h);
            (*m, (x, y))
        })
        .collect();
    if anchors.is_empty() {
        return;
    }
    let lesions = LesionCount::new(canvas.w, canvas.h, layout, ids);
    let (cw, ch) = (canvas.w as i64, canvas.h as i64);
    let mut placed = reserved;
    let first_box = placed.len();
    const DIRECTIONS: [(i64, i64); 8] = [(1, -1), (-1, -1), (1, 1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1)];
    const DISTANCES: [i64; 6] = [8, 16, 28, 44, 66, 96];
    for (m, (ax, ay)) in &anchors {
        let text = m.id.to_string();
        let (tw, th) = text_size(&text, LABEL_SCALE);
        let bw = (tw + 2 * LABEL_PAD + 2) as i64;
        let bh = (th + 2 * LABEL_PAD + 2) as i64;
        let mut best: Option<(i64, Rect)> = None;
        for &d in &DISTANCES {
            for &(dx, dy) in &DIRECTIONS {
                // Diagonal offsets are shortened so every candidate is about `d` away.
                let step = if dx != 0 && dy != 0 { d * 7 / 10 } else { d };
                let x = match dx {
                    1 => ax + step,
                    -1 => ax - step - bw,
                    _ => ax - bw / 2,
                };
                let y = match dy {
                    1 => ay + step,
                    -1 => ay - step - bh,
                    _ => ay - bh / 2,
                };
                let want = Rect { x, y, w: bw, h: bh };
                let r = Rect { x: x.clamp(0, (cw - bw).max(0)), y: y.clamp(0, (ch - bh).max(0)), ..want };
                let shift = (r.x - want.x).abs() + (r.y - want.y).abs();
                let boxes: i64 = placed.iter().map(|p| p.overlap(&r)).sum();
                let centroids = anchors.iter().filter(|(_, (px, py))| r.contains(*px, *py, 2)).count() as i64;
                let cost = boxes * 1000 + centroids * 20_000 + lesions.count(&r) * 4 + shift * 3 + d;
                if !matches!(best, Some((c, _)) if c <= cost) {
                    best = Some((cost, r));
                }
            }
        }
        if let Some((_, r)) = best {
            placed.push(r);
        }
    }
    let boxes = &placed[first_box..];
    // Leader lines first, then the boxes over them. A line runs from the box toward the
    // centroid and stops just inside the lesion's rim, so it does not hide the lesion.
    let id_at = |x: i64, y: i64| {
        let (cx, cy) = (x - layout.x0 as i64, y - layout.y0 as i64);
        if cx < 0 || cy < 0 || cx >= layout.w as i64 || cy >= layout.h as i64 {
            return 0;
        }
        ids[cy as usize * layout.w + cx as usize] as u32
    };
    for (&(m, (ax, ay)), r) in anchors.iter().zip(boxes) {
        let near = (ax.clamp(r.x, r.x + r.w - 1), ay.clamp(r.y, r.y + r.h - 1));
        if near == (ax, ay) {
            continue;
        }
        let mut points = line_points(near, (ax, ay));
        if let Some(hit) = points.iter().position(|&(x, y)| id_at(x, y) == m.id) {
            points.truncate((hit + 2).max(3).min(points.len()));
        }
        canvas.leader(&points, lesion_colour(m.id));
    }
    for ((m, _), r) in anchors.iter().zip(boxes) {
        canvas.fill(*r, BLACK);
        canvas.frame(*r, lesion_colour(m.id));
        let off = (LABEL_PAD + 1) as i64;
        canvas.text(r.x + off, r.y + off, &m.id.to_string(), LABEL_SCALE, WHITE);
    }
}

// ---------------------------------------------------------------------------------------------
// Bitmap font

pub(crate) const GLYPH_W: usize = 5;
pub(crate) const GLYPH_H: usize = 7;

/// A 5x7 glyph: one byte per row, top first, the leftmost pixel in bit 4. Lower case draws as
/// upper case; characters without a glyph draw as blanks. Also used by the FROC plot
/// ([`crate::evaluate`]).
pub(crate) fn glyph(c: char) -> [u8; GLYPH_H] {
    match c.to_ascii_uppercase() {
        '0' => [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        '1' => [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        '2' => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        '3' => [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        '4' => [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        '5' => [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        '6' => [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        '7' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        '8' => [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        '9' => [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        'A' => [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        'C' => [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        'I' => [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        'L' => [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        'M' => [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
        'N' => [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
        'O' => [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        'P' => [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
        'R' => [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        'B' => [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
        'D' => [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100],
        'E' => [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
        'F' => [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
        'G' => [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        'H' => [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        'J' => [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        'K' => [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        'Q' => [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
        'S' => [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        'T' => [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
        'U' => [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        'V' => [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        'W' => [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
        'X' => [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
        'Y' => [0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100],
        'Z' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
        '.' => [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100],
        ',' => [0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000],
        ':' => [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000],
        '-' => [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000],
        '_' => [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111],
        '=' => [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000],
        '+' => [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000],
        '/' => [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000],
        '(' => [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
        ')' => [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
        '<' => [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010],
        '>' => [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000],
        '%' => [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011],
        _ => [0; GLYPH_H],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::Affine;

    const DIMS: [usize; 3] = [40, 30, 50];

    fn grid(spacing: [f64; 3]) -> Grid {
        Grid { dims: DIMS, affine: Affine::from_spacing_origin(spacing, [-20.0, -15.0, -25.0]) }
    }

    /// A dim textured background with a bright block at high i (subject's right) and high k
    /// (superior), in RAS storage.
    fn scan_with_block(spacing: [f64; 3]) -> Volume<f32> {
        let g = grid(spacing);
        let mut v = Volume::filled(g, 0.0f32);
        for k in 0..DIMS[2] {
            for j in 0..DIMS[1] {
                for i in 0..DIMS[0] {
                    let idx = g.index(i, j, k);
                    v.data[idx] = ((i * 7 + j * 3 + k * 5) % 11) as f32 * 5.0;
                    if (30..38).contains(&i) && (10..20).contains(&j) && (38..46).contains(&k) {
                        v.data[idx] = 1000.0;
                    }
                }
            }
        }
        v
    }

    fn lesion_box(
        map: &mut Volume<u16>,
        id: u16,
        i: std::ops::Range<usize>,
        j: std::ops::Range<usize>,
        k: std::ops::Range<usize>,
    ) {
        for kk in k {
            for jj in j.clone() {
                for ii in i.clone() {
                    let idx = map.grid.index(ii, jj, kk);
                    map.data[idx] = id;
                }
            }
        }
    }

    fn layout_of(v: &Volume<f32>) -> Layout {
        Layout::new(&View::new(&v.grid))
    }

    fn is_grey(p: &image::Rgb<u8>) -> bool {
        p[0] == p[1] && p[1] == p[2]
    }

    #[test]
    fn bright_block_on_the_right_and_superior_is_at_the_top_left() {
        let scan = scan_with_block([1.0, 1.0, 1.0]);
        let lesions = Volume::filled(scan.grid, 0u16);
        let img = overview(&scan, &lesions, &[]);
        let l = layout_of(&scan);
        assert_eq!((img.width() as usize, img.height() as usize), (l.canvas_w, l.canvas_h));
        let (mut x_min, mut x_max, mut y_min, mut y_max) = (usize::MAX, 0, usize::MAX, 0);
        for y in 0..l.h {
            for x in 0..l.w {
                let p = img.get_pixel((l.x0 + x) as u32, (l.y0 + y) as u32);
                if p[0] == 255 && is_grey(p) {
                    (x_min, x_max, y_min, y_max) = (x_min.min(x), x_max.max(x), y_min.min(y), y_max.max(y));
                }
            }
        }
        // i 30..38 of 40 counted from the viewer's left is cells 2..10; k 38..46 of 50 from
        // the top is cells 4..12. Interpolation saturates from the first cell centre to the
        // last.
        let (fx, fy) = (l.w as f64 / 40.0, l.h as f64 / 50.0);
        let msg = format!("block at x {x_min}..={x_max}, y {y_min}..={y_max} of {} x {}", l.w, l.h);
        assert!(x_max < l.w / 2 && y_max < l.h / 2, "{msg}");
        assert!((x_min as f64 - 2.5 * fx).abs() <= 1.0 && (x_max as f64 - 9.5 * fx).abs() <= 1.0, "{msg}");
        assert!((y_min as f64 - 4.5 * fy).abs() <= 1.0 && (y_max as f64 - 11.5 * fy).abs() <= 1.0, "{msg}");
    }

    #[test]
    fn pixels_are_square_in_mm() {
        let scan = scan_with_block([1.0, 2.0, 3.0]);
        let l = layout_of(&scan);
        assert_eq!((l.w, l.h), (267, TARGET_LONG_SIDE)); // 40 mm x 150 mm
        let scan = scan_with_block([2.5, 1.0, 1.0]);
        let l = layout_of(&scan);
        assert_eq!((l.w, l.h), (TARGET_LONG_SIDE, 500)); // 100 mm x 50 mm
    }

    fn scene() -> (Volume<f32>, Volume<u16>, Vec<Marker>) {
        let scan = scan_with_block([1.2, 2.0, 1.5]);
        let mut map = Volume::filled(scan.grid, 0u16);
        lesion_box(&mut map, 1, 5..12, 5..10, 5..12);
        lesion_box(&mut map, 2, 31..35, 12..14, 40..43);
        lesion_box(&mut map, 3, 20..21, 3..4, 25..26);
        lesion_box(&mut map, 14, 0..3, 0..30, 47..50);
        let markers = vec![
            Marker { id: 1, centroid_voxel: [8.0, 7.0, 8.0] },
            Marker { id: 2, centroid_voxel: [32.5, 12.5, 41.0] },
            Marker { id: 3, centroid_voxel: [20.0, 3.0, 25.0] },
            Marker { id: 14, centroid_voxel: [1.0, 14.5, 48.0] },
        ];
        (scan, map, markers)
    }

    #[test]
    fn every_storage_orientation_gives_the_same_picture() {
        let (scan, map, markers) = scene();
        let reference = overview(&scan, &map, &markers);
        // p = 1 (LPS), p = 0 (ASR, PIL), p = 2 (SRA, ILP).
        for code in ["LPS", "ASR", "PIL", "SRA", "ILP"] {
            let s = scan.reoriented(code).unwrap();
            let m = map.reoriented(code).unwrap();
            let moved: Vec<Marker> = markers
                .iter()
                .map(|mk| {
                    let world = scan.grid.affine.voxel_to_world(mk.centroid_voxel);
                    Marker { id: mk.id, centroid_voxel: s.grid.affine.world_to_voxel(world).unwrap() }
                })
                .collect();
            let img = overview(&s, &m, &moved);
            assert_eq!(img.dimensions(), reference.dimensions(), "{code}");
            let differing = img.pixels().zip(reference.pixels()).filter(|(a, b)| a != b).count();
            assert_eq!(differing, 0, "{code}: {differing} pixels differ");
        }
    }

    #[test]
    fn lesions_are_coloured_where_they_project() {
        let scan = scan_with_block([1.0, 1.0, 1.0]);
        let mut map = Volume::filled(scan.grid, 0u16);
        // Left (low i) and inferior (low k): display columns 28..35 of 40, rows 38..45 of 50.
        lesion_box(&mut map, 1, 5..12, 5..10, 5..12);
        let img = overview(&scan, &map, &[]);
        let l = layout_of(&scan);
        let (fx, fy) = (l.w as f64 / 40.0, l.h as f64 / 50.0);
        let inside = |x: usize, y: usize| {
            (x as f64) >= 28.0 * fx - 1.0
                && (x as f64) <= 35.0 * fx + 1.0
                && (y as f64) >= 38.0 * fy - 1.0
                && (y as f64) <= 45.0 * fy + 1.0
        };
        let mut coloured = 0;
        for y in 0..l.h {
            for x in 0..l.w {
                let p = img.get_pixel((l.x0 + x) as u32, (l.y0 + y) as u32);
                if !is_grey(p) {
                    assert!(inside(x, y), "colour outside the lesion at ({x}, {y})");
                    coloured += 1;
                }
            }
        }
        assert!(coloured as f64 >= 0.9 * (7.0 * fx) * (7.0 * fy));
        // Centre: a red-tinted blend; rim: the solid palette colour.
        let cx = (l.x0 as f64 + 31.5 * fx) as u32;
        let cy = (l.y0 as f64 + 41.5 * fy) as u32;
        let c = img.get_pixel(cx, cy);
        assert!(c[0] as i32 > c[1] as i32 + 40 && c[0] as i32 > c[2] as i32 + 40, "{c:?}");
        let rim = img.get_pixel(cx, (l.y0 as f64 + 38.0 * fy).ceil() as u32);
        assert_eq!(rim.0, crate::palette::LESION_COLOURS[0]);
    }

    #[test]
    fn the_brightest_lesion_on_a_ray_wins() {
        let scan = scan_with_block([1.0, 1.0, 1.0]);
        let mut scan = scan;
        let mut map = Volume::filled(scan.grid, 0u16);
        // Two lesions on the same rays (same i, k), lesion 2 brighter.
        lesion_box(&mut map, 1, 5..12, 2..5, 5..12);
        lesion_box(&mut map, 2, 5..12, 20..25, 5..12);
        for (idx, &id) in map.data.iter().enumerate() {
            if id == 2 {
                scan.data[idx] = 500.0;
            }
        }
        let img = overview(&scan, &map, &[]);
        let l = layout_of(&scan);
        let rim = img.get_pixel(
            (l.x0 as f64 + 31.5 * l.w as f64 / 40.0) as u32,
            (l.y0 as f64 + 38.0 * l.h as f64 / 50.0).ceil() as u32,
        );
        assert_eq!(rim.0, crate::palette::LESION_COLOURS[1]);
    }

    #[test]
    fn projection_matches_a_direct_computation_along_every_axis() {
        let dims = [7usize, 5, 6];
        let n = dims.iter().product::<usize>();
        let data: Vec<f32> = (0..n).map(|x| ((x * 37) % 101) as f32).collect();
        let labels: Vec<u16> = (0..n).map(|x| if (x * 13) % 7 == 0 { ((x % 3) + 1) as u16 } else { 0 }).collect();
        for p in 0..3 {
            let proj = project(&data, Some(&labels), dims, p);
            let (a, b) = match p {
                0 => (1, 2),
                1 => (0, 2),
                _ => (0, 1),
            };
            for ib in 0..dims[b] {
                for ia in 0..dims[a] {
                    let (mut m, mut bv, mut bid) = (f32::NEG_INFINITY, f32::NEG_INFINITY, 0u16);
                    for t in 0..dims[p] {
                        let mut ijk = [0; 3];
                        (ijk[a], ijk[b], ijk[p]) = (ia, ib, t);
                        let idx = ijk[0] + dims[0] * (ijk[1] + dims[1] * ijk[2]);
                        m = m.max(data[idx]);
                        consider(&mut bv, &mut bid, data[idx], labels[idx]);
                    }
                    let s = ia + dims[a] * ib;
                    assert_eq!((proj.mip[s], proj.lid[s]), (m, bid), "axis {p} at ({ia}, {ib})");
                }
            }
        }
    }

    #[test]
    fn taps_cover_the_source() {
        assert_eq!(taps(4, 2), vec![Tap::Span(0, 2), Tap::Span(2, 4)]);
        assert_eq!(taps(3, 2), vec![Tap::Span(0, 2), Tap::Span(1, 3)]);
        assert_eq!(taps(1, 3), vec![Tap::Lerp(0, 0, 0.0); 3]);
        let t = taps(2, 4);
        assert_eq!(t[0], Tap::Lerp(0, 1, 0.0));
        assert_eq!(t[3], Tap::Lerp(1, 1, 0.0));
    }

    #[test]
    fn numbers_stay_whole_at_the_edges() {
        // Black scan, so every white pixel is a digit or an orientation letter.
        let scan = Volume::filled(grid([1.0; 3]), 0.0f32);
        let mut map = Volume::filled(scan.grid, 0u16);
        lesion_box(&mut map, 7, 0..2, 0..2, 0..2);
        lesion_box(&mut map, 23, 38..40, 28..30, 48..50);
        let markers = [
            Marker { id: 7, centroid_voxel: [0.0, 0.0, 0.0] },
            Marker { id: 23, centroid_voxel: [39.0, 29.0, 49.0] },
            Marker { id: 5, centroid_voxel: [f64::NAN, 0.0, 0.0] },
        ];
        let img = overview(&scan, &map, &markers);
        let lit =
            |s: &str| s.chars().map(|c| glyph(c).iter().map(|r| r.count_ones() as usize).sum::<usize>()).sum::<usize>();
        let expected = lit("723") * LABEL_SCALE * LABEL_SCALE + lit("RL") * LETTER_SCALE * LETTER_SCALE;
        let white = img.pixels().filter(|p| p.0 == WHITE).count();
        assert_eq!(white, expected);
    }

    #[test]
    fn empty_and_degenerate_inputs_do_not_panic() {
        let scan = Volume::filled(grid([1.0; 3]), 0.0f32);
        let map = Volume::filled(scan.grid, 0u16);
        let img = overview(&scan, &map, &[]);
        let l = layout_of(&scan);
        assert_eq!((img.width() as usize, img.height() as usize), (l.canvas_w, l.canvas_h));
        assert!((0..l.h).all(|y| (0..l.w).all(|x| img.get_pixel((l.x0 + x) as u32, (l.y0 + y) as u32).0 == BLACK)));

        // A lesion map on another grid is ignored; NaNs and infinities are tolerated.
        let mut odd = scan_with_block([1.0; 3]);
        odd.data[5] = f32::NAN;
        odd.data[6] = f32::INFINITY;
        odd.data[7] = f32::NEG_INFINITY;
        let other =
            Volume::filled(Grid { dims: [2, 2, 2], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) }, 1u16);
        overview(&odd, &other, &[Marker { id: 1, centroid_voxel: [1e9, -1e9, 3.0] }]);

        // No voxels at all, and a singular affine.
        for g in [
            Grid { dims: [0, 3, 4], affine: Affine::from_spacing_origin([1.0; 3], [0.0; 3]) },
            Grid { dims: [3, 4, 5], affine: Affine([[0.0; 4]; 4]) },
        ] {
            let img = overview(&Volume::filled(g, 1.0f32), &Volume::filled(g, 0u16), &[]);
            assert!(img.width() >= MIN_CANVAS_W as u32 && img.height() > HEADER as u32);
        }
    }

    #[test]
    fn png_round_trips() {
        let (scan, map, markers) = scene();
        let img = overview(&scan, &map, &markers);
        let bytes = encode_png(&img).unwrap();
        let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), img.dimensions());
        assert_eq!(back, img);
    }

    #[test]
    fn digits_are_distinct() {
        let glyphs: Vec<_> = ('0'..='9').map(glyph).collect();
        for (a, ga) in glyphs.iter().enumerate() {
            assert!(ga.iter().any(|&r| r != 0));
            for gb in &glyphs[a + 1..] {
                assert_ne!(ga, gb);
            }
        }
    }
}
