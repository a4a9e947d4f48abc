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
//!    longer side of the picture has a pixel per voxel of the finer in-plane spacing, within
//!    [`TARGET_LONG_SIDE`]..=[`MAX_LONG_SIDE`] pixels: linear interpolation where the
//!    picture is finer than the grid, maximum over the covered cells where it is coarser (so
//!    thin bright structures and small lesions survive).
//! 4. **Window.** Grey levels run from 0 to the 99.5th percentile of the positive MIP values
//!    (a selection on the projected plane, not a sort of the volume), so a few very bright
//!    voxels do not set the scale, with a mild gamma (0.7) so that bone marrow stays visible
//!    next to bright fluid (bladder, CSF).
//! 5. **Overlay.** Lesions are blended in a cycled high-contrast palette with a solid 1-pixel
//!    outline, numbered in small dark boxes placed beside their centroids (with a leader line),
//!    and the picture carries `R` / `L` orientation letters and a caption in a header band.
//! 6. **Legend.** To the right of the image, per lesion its colour, id, region and volume.
//!
//! Text uses a small built-in 5x7 bitmap font (no font dependency).

pub(crate) mod canvas;
mod font;
mod legend;
mod projection;
pub mod regions;
mod resize;
pub mod slices;

use legend::{Entry, Legend, GAP};
use projection::project;
use resize::{resample_grey, resample_labels, taps, Tap};

use canvas::{line_points, text_size, Canvas, Rect, BLACK, WHITE};
pub(crate) use font::{glyph, GLYPH_H, GLYPH_W};

use crate::error::{Error, Result};
use crate::palette::lesion_colour;
use crate::volume::{Grid, Volume};
use image::RgbImage;

/// A lesion to number on the overview and list in its legend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marker {
    /// The lesion's id: its value in the lesion map (1-based); also picks its colour.
    pub id: u32,
    /// The lesion's centroid in (fractional) voxel indices of the scan's grid.
    pub centroid_voxel: [f64; 3],
    /// The lesion's region (legend).
    pub region: String,
    /// The lesion's volume in mm^3 (legend).
    pub volume_mm3: f64,
}

/// Least length in pixels of the longer side of the projected image (without header, margins
/// and legend).
pub const TARGET_LONG_SIDE: usize = 1000;

/// Most pixels along the longer side: a scan finer than [`TARGET_LONG_SIDE`] pixels along it
/// gets a pixel per voxel of its finest in-plane spacing, up to this.
pub const MAX_LONG_SIDE: usize = 2000;

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
    let entries = legend_entries(markers);
    let mut layout = Layout::new(&view);
    let legend = Legend::new(&entries, layout.h.max(200));
    if !entries.is_empty() {
        layout = layout.with_legend(legend.width(), legend.height(entries.len()));
    }

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
    let reserved = draw_header(&mut canvas, layout.picture_w());
    legend.draw(&mut canvas, &entries, layout.picture_w() + GAP - MARGIN, HEADER);
    draw_markers(&mut canvas, &layout, &view, &ids, markers, reserved);
    canvas.into_image()
}

/// The overview's legend: per lesion its colour, id, region and volume, by id.
fn legend_entries(markers: &[Marker]) -> Vec<Entry> {
    let mut m: Vec<&Marker> = markers.iter().collect();
    m.sort_by_key(|m| m.id);
    m.iter()
        .map(|m| Entry {
            colour: lesion_colour(m.id),
            key: m.id.to_string(),
            label: format!("{} {:.0} mm3", m.region, m.volume_mm3),
        })
        .collect()
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
    /// Voxel axis projected away (closest to world y in the coronal view).
    p: usize,
    /// Voxel axis shown horizontally (closest to world x in the coronal view).
    h: usize,
    /// Voxel axis shown vertically (closest to world z).
    v: usize,
    /// Column 0 is the last index along `h` (the axis runs toward the subject's right, or
    /// anterior in the sagittal view).
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
    /// The coronal view: world y projected away, world x across, world z up.
    fn new(grid: &Grid) -> View {
        View::along(grid, 1, 0)
    }

    /// The view that projects away the voxel axis closest to world axis `projected` and
    /// shows the one closest to world axis `across` horizontally, world z up. Columns run so
    /// that the world axis `across` decreases from the viewer's left (coronal: the subject's
    /// right on the left, as radiologists look; sagittal: anterior on the left), rows so that
    /// superior is at the top.
    fn along(grid: &Grid, projected: usize, across: usize) -> View {
        let dirs = grid.affine.axis_directions();
        let axis_of = |world: usize| dirs.iter().position(|&(w, _)| w == world).unwrap_or(world);
        let (p, h, v) = (axis_of(projected), axis_of(across), axis_of(2));
        let spacing = grid.spacing();
        let mm = |a: usize| if spacing[a].is_finite() && spacing[a] > 0.0 { spacing[a] } else { 1.0 };
        View {
            p,
            h,
            v,
            flip_h: !dirs[h].1,
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
    /// The picture without a legend: square pixels in mm, the longer side a pixel per voxel
    /// of the finest in-plane spacing, within [`TARGET_LONG_SIDE`]..=[`MAX_LONG_SIDE`].
    fn new(view: &View) -> Layout {
        let w_mm = view.n_h as f64 * view.mm_h;
        let h_mm = view.n_v as f64 * view.mm_v;
        let native = w_mm.max(h_mm) / view.mm_h.min(view.mm_v);
        let long = if native.is_finite() { native.round() as usize } else { 0 };
        let long = long.clamp(TARGET_LONG_SIDE, MAX_LONG_SIDE);
        let scale = long as f64 / w_mm.max(h_mm);
        let px = |mm: f64| ((mm * scale).round() as usize).clamp(1, long);
        let (w, h) = (px(w_mm), px(h_mm));
        let canvas_w = (w + 2 * MARGIN).max(MIN_CANVAS_W);
        Layout { x0: (canvas_w - w) / 2, y0: HEADER, w, h, canvas_w, canvas_h: HEADER + h + MARGIN }
    }

    /// The same picture with a legend `w` x `h` pixels to the right of the image.
    fn with_legend(self, w: usize, h: usize) -> Layout {
        Layout { canvas_w: self.canvas_w + GAP + w, canvas_h: self.canvas_h.max(HEADER + h + MARGIN), ..self }
    }

    /// Width of the picture part of the canvas (the image and its margins).
    fn picture_w(&self) -> usize {
        (self.x0 + self.w + MARGIN).max(MIN_CANVAS_W)
    }

    /// Height of the picture part of the canvas (header, image and margin).
    fn picture_h(&self) -> usize {
        self.y0 + self.h + MARGIN
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
// Drawing

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

/// Draws the header band (`R` at the viewer's left, `L` at the right, the caption between) and
/// returns the rectangles it uses, which labels must keep clear of.
fn draw_header(canvas: &mut Canvas, picture_w: usize) -> Vec<Rect> {
    let mut used = Vec::new();
    let (lw, lh) = text_size("R", LETTER_SCALE);
    let y = ((HEADER - lh) / 2) as i64;
    let right = picture_w - MARGIN - lw;
    for (x, s) in [(MARGIN, "R"), (right, "L")] {
        canvas.text(x as i64, y, s, LETTER_SCALE, WHITE);
        used.push(Rect { x: x as i64 - 2, y: y - 2, w: lw as i64 + 4, h: lh as i64 + 4 });
    }
    let caption = "CORONAL MIP";
    let (cw, ch) = text_size(caption, LABEL_SCALE);
    if cw + 2 * (MARGIN + lw + 8) <= picture_w {
        let x = ((picture_w - cw) / 2) as i64;
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
    let anchors = marker_anchors(layout, view, markers);
    if anchors.is_empty() {
        return;
    }
    let crowd = Crowd {
        lesions: LesionCount::new(canvas.w, canvas.h, layout, ids),
        anchors: anchors.iter().map(|a| a.1).collect(),
        // Numbers stay on the picture part of the canvas (not over the legend).
        picture: (layout.picture_w() as i64, layout.picture_h() as i64),
    };
    let mut placed = reserved;
    let first_box = placed.len();
    for (m, anchor) in &anchors {
        let (tw, th) = text_size(&m.id.to_string(), LABEL_SCALE);
        let size = ((tw + 2 * LABEL_PAD + 2) as i64, (th + 2 * LABEL_PAD + 2) as i64);
        if let Some(r) = crowd.best_box(*anchor, size, &placed) {
            placed.push(r);
        }
    }
    let boxes = &placed[first_box..];
    // Leader lines first, then the boxes over them.
    for (&(m, anchor), r) in anchors.iter().zip(boxes) {
        draw_leader(canvas, layout, ids, m.id, anchor, r);
    }
    for ((m, _), r) in anchors.iter().zip(boxes) {
        canvas.fill(*r, BLACK);
        canvas.frame(*r, lesion_colour(m.id));
        let off = (LABEL_PAD + 1) as i64;
        canvas.text(r.x + off, r.y + off, &m.id.to_string(), LABEL_SCALE, WHITE);
    }
}

/// The anchor pixel (projected centroid) of each marker that can be drawn.
fn marker_anchors<'m>(layout: &Layout, view: &View, markers: &'m [Marker]) -> Vec<(&'m Marker, (i64, i64))> {
    // Round away float noise first, so a centroid exactly on a pixel border lands on the same
    // pixel whatever orientation it was computed in.
    let to_px = |cells: f64, n: usize, size: usize| {
        let p = ((cells * size as f64 / n as f64) * 1e6).round() / 1e6;
        (p.floor() as i64).clamp(0, size as i64 - 1)
    };
    markers
        .iter()
        .filter(|m| m.centroid_voxel.iter().all(|c| c.is_finite()))
        .map(|m| {
            let (col, row) = view.display_pos(m.centroid_voxel);
            let x = layout.x0 as i64 + to_px(col, view.n_h, layout.w);
            let y = layout.y0 as i64 + to_px(row, view.n_v, layout.h);
            (m, (x, y))
        })
        .collect()
}

/// What a number's box should keep clear of: lesion pixels, the markers' anchors, and the
/// edges of the picture (`picture`: its width and height).
struct Crowd {
    lesions: LesionCount,
    anchors: Vec<(i64, i64)>,
    picture: (i64, i64),
}

impl Crowd {
    /// Directions a box may lie in from its anchor...
    const DIRECTIONS: [(i64, i64); 8] = [(1, -1), (-1, -1), (1, 1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1)];
    /// ... at these distances (pixels).
    const DISTANCES: [i64; 6] = [8, 16, 28, 44, 66, 96];

    /// The cheapest place for a box of `(bw, bh)` pixels beside `anchor`, among `placed`
    /// boxes: overlaps with boxes, anchors and lesion pixels cost, and so do a shift to stay
    /// on the picture and the distance.
    fn best_box(&self, (ax, ay): (i64, i64), (bw, bh): (i64, i64), placed: &[Rect]) -> Option<Rect> {
        let (cw, ch) = self.picture;
        let mut best: Option<(i64, Rect)> = None;
        for &d in &Self::DISTANCES {
            for &(dx, dy) in &Self::DIRECTIONS {
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
                let cost = self.cost(&r, placed) + shift * 3 + d;
                if !matches!(best, Some((c, _)) if c <= cost) {
                    best = Some((cost, r));
                }
            }
        }
        best.map(|(_, r)| r)
    }

    /// How much box `r` covers of other boxes, anchors and lesions.
    fn cost(&self, r: &Rect, placed: &[Rect]) -> i64 {
        let boxes: i64 = placed.iter().map(|p| p.overlap(r)).sum();
        let centroids = self.anchors.iter().filter(|(px, py)| r.contains(*px, *py, 2)).count() as i64;
        boxes * 1000 + centroids * 20_000 + self.lesions.count(r) * 4
    }
}

/// The leader line from box `r` toward lesion `id`'s anchor: it stops just inside the
/// lesion's rim, so it does not hide the lesion (none when the anchor is inside the box).
fn draw_leader(canvas: &mut Canvas, layout: &Layout, ids: &[u16], id: u32, (ax, ay): (i64, i64), r: &Rect) {
    let id_at = |x: i64, y: i64| {
        let (cx, cy) = (x - layout.x0 as i64, y - layout.y0 as i64);
        if cx < 0 || cy < 0 || cx >= layout.w as i64 || cy >= layout.h as i64 {
            return 0;
        }
        ids[cy as usize * layout.w + cx as usize] as u32
    };
    let near = (ax.clamp(r.x, r.x + r.w - 1), ay.clamp(r.y, r.y + r.h - 1));
    if near == (ax, ay) {
        return;
    }
    let mut points = line_points(near, (ax, ay));
    if let Some(hit) = points.iter().position(|&(x, y)| id_at(x, y) == id) {
        points.truncate((hit + 2).max(3).min(points.len()));
    }
    canvas.leader(&points, lesion_colour(id));
}

#[cfg(test)]
mod tests;
