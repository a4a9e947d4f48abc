//! `froc.png`: sensitivity (y, 0-1) against false positives per scan (x). The detector's curve
//! against each reader (points labelled with the swept value, the default operating point
//! ringed), the readers against each other as squares in the colour of the reader taken as
//! truth, axes with ticks, a grid and a legend. Drawn with `image` and the 5x7 bitmap font of
//! [`crate::render`].

use super::froc::Froc;
use super::readers::Agreement;
use crate::render::canvas::{text_size, Canvas, Rect, BLACK, WHITE};
use crate::render::{glyph, GLYPH_H, GLYPH_W};
use image::RgbImage;

/// Picture width in pixels.
pub const WIDTH: u32 = 960;
/// Picture height in pixels.
pub const HEIGHT: u32 = 640;

const LEFT: i64 = 90;
const TOP: i64 = 56;
const PLOT_W: i64 = 600;
const PLOT_H: i64 = 500;
const LEGEND_X: i64 = LEFT + PLOT_W + 30;

const GRID: [u8; 3] = [225, 225, 225];
const DARK: [u8; 3] = [60, 60, 60];
/// Colours of the readers taken as truth, in reader order.
const COLOURS: [[u8; 3]; 6] =
    [[31, 119, 180], [230, 110, 0], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

/// Text scale of every label.
const SCALE: usize = 2;

/// A detector point: the swept value, its pixel position, and whether it is the default.
type CurvePoint = (f64, i64, i64, bool);

/// The plot's marks on the pictures' canvas.
trait Marks {
    fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: [u8; 3]);
    fn line(&mut self, from: (i64, i64), to: (i64, i64), width: i64, c: [u8; 3]);
    fn disc(&mut self, cx: i64, cy: i64, r: i64, c: [u8; 3]);
    fn ring(&mut self, cx: i64, cy: i64, r: i64, w: i64, c: [u8; 3]);
    fn square(&mut self, cx: i64, cy: i64, h: i64, c: [u8; 3]);
    fn text_up(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]);
}

impl Marks for Canvas {
    fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: [u8; 3]) {
        self.fill(Rect { x, y, w, h }, c);
    }

    /// A line `width` pixels thick.
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), width: i64, c: [u8; 3]) {
        let n = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for s in 0..=n {
            let x = x0 + (x1 - x0) * s / n;
            let y = y0 + (y1 - y0) * s / n;
            self.rect(x - width / 2, y - width / 2, width, width, c);
        }
    }

    fn disc(&mut self, cx: i64, cy: i64, r: i64, c: [u8; 3]) {
        for y in -r..=r {
            for x in -r..=r {
                if x * x + y * y <= r * r {
                    self.set(cx + x, cy + y, c);
                }
            }
        }
    }

    fn ring(&mut self, cx: i64, cy: i64, r: i64, w: i64, c: [u8; 3]) {
        for y in -r - w..=r + w {
            for x in -r - w..=r + w {
                let d = x * x + y * y;
                if d >= r * r && d <= (r + w) * (r + w) {
                    self.set(cx + x, cy + y, c);
                }
            }
        }
    }

    fn square(&mut self, cx: i64, cy: i64, h: i64, c: [u8; 3]) {
        self.rect(cx - h - 1, cy - h - 1, 2 * h + 3, 2 * h + 3, BLACK);
        self.rect(cx - h, cy - h, 2 * h + 1, 2 * h + 1, c);
    }

    /// Text run bottom to top, turned a quarter left, from (x, y) as its bottom-left corner.
    fn text_up(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]) {
        let scale = SCALE as i64;
        for (n, ch) in s.chars().enumerate() {
            let off = n as i64 * (GLYPH_W as i64 + 1) * scale;
            for (row, bits) in glyph(ch).iter().enumerate() {
                for col in (0..GLYPH_W).filter(|col| bits & (1 << (GLYPH_W - 1 - col)) != 0) {
                    self.rect(x + row as i64 * scale, y - off - col as i64 * scale - scale, scale, scale, c);
                }
            }
        }
    }
}

fn text_w(s: &str) -> i64 {
    text_size(s, SCALE).0 as i64
}

/// A tick step of 1, 2 or 5 times a power of ten giving at most about 8 ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = max / 8.0;
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(10.0 * p)
}

fn label(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The x axis: false positives per scan up to `max`, ticks every `step`.
struct Axis {
    max: f64,
    step: f64,
}

impl Axis {
    /// Spans the detector's points and the reader points up to twice the detector's largest
    /// value (at least 1); a reader point beyond is drawn at the right edge, labelled.
    fn new(froc: &Froc, reader_points: &[&Agreement]) -> Axis {
        let det_max = froc
            .points
            .iter()
            .flat_map(|p| p.agreements.iter().map(|a| a.false_positives_per_scan))
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let cap = 2.0 * det_max.max(1.0);
        let data_max = reader_points
            .iter()
            .map(|a| a.false_positives_per_scan)
            .filter(|v| v.is_finite() && *v <= cap)
            .fold(det_max, f64::max);
        let step = tick_step(data_max.max(1.0) * 1.05);
        Axis { max: ((data_max.max(1.0) * 1.05) / step).ceil() * step, step }
    }

    fn px(&self, fp: f64) -> i64 {
        LEFT + (fp / self.max * PLOT_W as f64).round() as i64
    }
}

fn py(sens: f64) -> i64 {
    TOP + PLOT_H - (sens.clamp(0.0, 1.0) * PLOT_H as f64).round() as i64
}

/// Draws the FROC: `readers` names the truth readers (colour order), `reader_points` are the
/// reader-vs-reader rows.
pub fn froc_plot(froc: &Froc, readers: &[String], reader_points: &[&Agreement]) -> RgbImage {
    let mut c = Canvas::new(WIDTH as usize, HEIGHT as usize);
    c.rect(0, 0, WIDTH as i64, HEIGHT as i64, WHITE);
    let colour = |truth: &str| COLOURS[readers.iter().position(|r| r == truth).unwrap_or(0) % COLOURS.len()];
    let axis = Axis::new(froc, reader_points);
    let title = format!("FROC: DETECTOR SWEEPING {}", froc.parameter.to_uppercase());
    c.text(LEFT, 18, &title, SCALE, BLACK);
    draw_axes(&mut c, &axis);
    // Reader points first: they are obstacles for the labels.
    let mut taken = draw_reader_points(&mut c, &axis, reader_points, &colour);
    let curves = detector_curves(froc, readers, &axis);
    draw_curves(&mut c, &curves, &mut taken);
    for (k, pts) in &curves {
        label_curve(&mut c, *k, pts, &mut taken);
    }
    draw_legend(&mut c, froc, readers, reader_points, &colour);
    c.into_image()
}

/// Grid, ticks, axes and their titles.
fn draw_axes(c: &mut Canvas, axis: &Axis) {
    let n_x = (axis.max / axis.step).round() as i64;
    for t in 0..=n_x {
        let v = t as f64 * axis.step;
        let x = axis.px(v);
        c.line((x, TOP), (x, TOP + PLOT_H), 1, GRID);
        c.line((x, TOP + PLOT_H), (x, TOP + PLOT_H + 6), 1, BLACK);
        let l = label(v);
        c.text(x - text_w(&l) / 2, TOP + PLOT_H + 14, &l, SCALE, BLACK);
    }
    for t in 0..=10 {
        let v = t as f64 / 10.0;
        let y = py(v);
        c.line((LEFT, y), (LEFT + PLOT_W, y), 1, GRID);
        c.line((LEFT - 6, y), (LEFT, y), 1, BLACK);
        if t % 2 == 0 {
            let l = format!("{v:.1}");
            c.text(LEFT - 12 - text_w(&l), y - GLYPH_H as i64, &l, SCALE, BLACK);
        }
    }
    c.line((LEFT, TOP), (LEFT, TOP + PLOT_H), 2, BLACK);
    c.line((LEFT, TOP + PLOT_H), (LEFT + PLOT_W, TOP + PLOT_H), 2, BLACK);
    let xt = "FALSE POSITIVES PER SCAN";
    c.text(LEFT + (PLOT_W - text_w(xt)) / 2, TOP + PLOT_H + 40, xt, SCALE, BLACK);
    let yt = "SENSITIVITY";
    c.text_up(14, TOP + (PLOT_H + text_w(yt)) / 2, yt, BLACK);
}

/// The readers against each other as squares with their 95% confidence intervals as whiskers
/// (one beyond the axis at its right edge, with its value); returns the boxes they take.
fn draw_reader_points(
    c: &mut Canvas,
    axis: &Axis,
    reader_points: &[&Agreement],
    colour: &dyn Fn(&str) -> [u8; 3],
) -> Vec<[i64; 4]> {
    let mut taken = Vec::new();
    for a in reader_points {
        let fp = a.false_positives_per_scan;
        if !(a.sensitivity.is_finite() && fp.is_finite()) {
            continue;
        }
        let (x, y) = (axis.px(fp.min(axis.max)), py(a.sensitivity));
        draw_whiskers(c, axis, a, (x, y), colour(&a.truth));
        c.square(x, y, 6, colour(&a.truth));
        taken.push([x - 8, y - 8, 17, 17]);
        if fp > axis.max {
            let l = format!("{} FP/SCAN", label(fp));
            let lx = x - 10 - text_w(&l);
            c.text(lx, y - 7, &l, SCALE, colour(&a.truth));
            taken.push([lx, y - 7, text_w(&l), 14]);
        }
    }
    taken
}

/// Half the width of a whisker's end cap (pixels).
const CAP: i64 = 5;

/// A reader point's 95% intervals: sensitivity up and down, false positives per scan left and
/// right (cut at the axis's end, without a cap there, when the interval runs past it).
fn draw_whiskers(c: &mut Canvas, axis: &Axis, a: &Agreement, (x, y): (i64, i64), col: [u8; 3]) {
    if let Some([lo, hi]) = a.sensitivity_ci95 {
        let (top, bottom) = (py(hi), py(lo));
        c.line((x, top), (x, bottom), 1, col);
        for end in [top, bottom] {
            c.line((x - CAP, end), (x + CAP, end), 1, col);
        }
    }
    if let Some([lo, hi]) = a.false_positives_per_scan_ci95.filter(|_| a.false_positives_per_scan <= axis.max) {
        let (left, right) = (axis.px(lo), axis.px(hi.min(axis.max)));
        c.line((left, y), (right, y), 1, col);
        c.line((left, y - CAP), (left, y + CAP), 1, col);
        if hi <= axis.max {
            c.line((right, y - CAP), (right, y + CAP), 1, col);
        }
    }
}

/// The detector's points against each truth reader (index into `readers`), in sweep order.
fn detector_curves(froc: &Froc, readers: &[String], axis: &Axis) -> Vec<(usize, Vec<CurvePoint>)> {
    let point = |value: f64, default: bool, a: &Agreement| {
        (value, axis.px(a.false_positives_per_scan), py(a.sensitivity), default)
    };
    readers
        .iter()
        .enumerate()
        .map(|(k, truth)| {
            let pts = froc
                .points
                .iter()
                .filter_map(|p| {
                    p.agreements
                        .iter()
                        .find(|a| &a.truth == truth)
                        .filter(|a| a.sensitivity.is_finite() && a.false_positives_per_scan.is_finite())
                        .map(|a| point(p.value, p.default, a))
                })
                .collect();
            (k, pts)
        })
        .collect()
}

/// Each curve's line and points, the default point ringed.
fn draw_curves(c: &mut Canvas, curves: &[(usize, Vec<CurvePoint>)], taken: &mut Vec<[i64; 4]>) {
    for (k, pts) in curves {
        let col = COLOURS[k % COLOURS.len()];
        for w in pts.windows(2) {
            c.line((w[0].1, w[0].2), (w[1].1, w[1].2), 2, col);
        }
        for &(_, x, y, default) in pts {
            c.disc(x, y, 4, col);
            taken.push([x - 4, y - 4, 9, 9]);
            if default {
                c.ring(x, y, 8, 2, BLACK);
            }
        }
    }
}

/// Labels curve `k`'s points with their swept values: points drawn at the same pixel share
/// one ("7.5/9"); each goes to the first free place around its point, or is left out when
/// there is none.
fn label_curve(c: &mut Canvas, k: usize, pts: &[CurvePoint], taken: &mut Vec<[i64; 4]>) {
    let col = COLOURS[k % COLOURS.len()];
    let mut i = 0;
    while i < pts.len() {
        let (x, y) = (pts[i].1, pts[i].2);
        let mut j = i + 1;
        while j < pts.len() && (pts[j].1 - x).abs() <= 2 && (pts[j].2 - y).abs() <= 2 {
            j += 1;
        }
        let text = pts[i..j].iter().map(|p| label(p.0)).collect::<Vec<_>>().join("/");
        let w = text_w(&text);
        let mut spots = [(x + 8, y - 22), (x + 8, y + 8), (x - 8 - w, y - 22), (x - 8 - w, y + 8), (x + 10, y - 7)];
        if k != 0 {
            spots.swap(0, 1);
            spots.swap(2, 3);
        }
        if let Some(&(lx, ly)) = spots.iter().find(|&&s| label_fits(s, w, taken)) {
            c.text(lx, ly, &text, SCALE, col);
            taken.push([lx - 1, ly - 1, w + 2, 16]);
        }
        i = j;
    }
}

/// Whether a label `w` pixels wide at (`lx`, `ly`) stays in the plot and clear of `taken`.
fn label_fits((lx, ly): (i64, i64), w: i64, taken: &[[i64; 4]]) -> bool {
    let r = [lx - 1, ly - 1, w + 2, 16];
    let clear =
        !taken.iter().any(|t| r[0] < t[0] + t[2] && t[0] < r[0] + r[2] && r[1] < t[1] + t[3] && t[1] < r[1] + r[3]);
    lx >= LEFT + 2 && lx + w <= LEFT + PLOT_W + 40 && ly >= TOP - 10 && ly + 14 <= TOP + PLOT_H - 2 && clear
}

/// The legend right of the plot: a line per curve, a square per reader point, the default
/// and what the point labels are.
fn draw_legend(
    c: &mut Canvas,
    froc: &Froc,
    readers: &[String],
    reader_points: &[&Agreement],
    colour: &dyn Fn(&str) -> [u8; 3],
) {
    let mut y = TOP;
    c.text(LEGEND_X, y, "LEGEND", SCALE, DARK);
    y += 30;
    for truth in readers {
        let col = colour(truth);
        c.line((LEGEND_X, y + 7), (LEGEND_X + 26, y + 7), 2, col);
        c.disc(LEGEND_X + 13, y + 7, 4, col);
        c.text(LEGEND_X + 36, y, &format!("DETECTOR VS {truth}"), SCALE, BLACK);
        y += 28;
    }
    for a in reader_points {
        c.square(LEGEND_X + 13, y + 7, 6, colour(&a.truth));
        c.text(LEGEND_X + 36, y, &format!("{} VS {}", a.tested, a.truth), SCALE, BLACK);
        y += 28;
    }
    if reader_points.iter().any(|a| a.sensitivity_ci95.is_some()) {
        c.text(LEGEND_X + 36, y, "WHISKERS: 95% CI", SCALE, DARK);
        y += 28;
    }
    if let Some(d) = froc.points.iter().find(|p| p.default) {
        c.ring(LEGEND_X + 13, y + 7, 8, 2, BLACK);
        c.text(LEGEND_X + 36, y, "DEFAULT", SCALE, BLACK);
        c.text(LEGEND_X + 36, y + 20, &format!("{} {}", froc.parameter, label(d.value)), SCALE, BLACK);
        y += 48;
    }
    c.text(LEGEND_X, y + 8, "POINT LABELS:", SCALE, DARK);
    c.text(LEGEND_X, y + 28, &froc.parameter, SCALE, DARK);
}

#[cfg(test)]
mod tests {
    use super::super::froc::FrocPoint;
    use super::*;

    fn agreement(tested: &str, truth: &str, sens: f64, fp: f64) -> Agreement {
        Agreement {
            tested: tested.into(),
            truth: truth.into(),
            subjects: 4,
            lesions: 10,
            found: 0,
            sensitivity: sens,
            sensitivity_ci95: None,
            false_positives: 0,
            false_positives_per_scan: fp,
            false_positives_per_scan_ci95: None,
            dice_mean: 0.5,
            dice_min: 0.5,
            dice_max: 0.5,
            dice_pooled: 0.5,
        }
    }

    #[test]
    fn ticks() {
        assert_eq!(tick_step(8.0), 1.0);
        assert_eq!(tick_step(1.05), 0.2);
        assert_eq!(tick_step(30.0), 5.0);
        assert_eq!(label(2.5), "2.5");
        assert_eq!(label(3.0), "3");
    }

    #[test]
    fn draws_curves_readers_and_default() {
        let readers = vec!["R1".to_string(), "R2".to_string()];
        let points = [(3.0, 0.8, 6.0), (5.0, 0.5, 2.0), (7.5, 0.3, 0.5)]
            .iter()
            .map(|&(v, s, f)| FrocPoint {
                value: v,
                default: v == 7.5,
                agreements: vec![agreement("detector", "R1", s, f), agreement("detector", "R2", s * 0.9, f * 1.1)],
            })
            .collect();
        let froc = Froc { parameter: "seed_ratio".into(), points };
        let r = [agreement("R2", "R1", 0.69, 1.0), agreement("R1", "R2", 0.9, 22.5)];
        let refs: Vec<&Agreement> = r.iter().collect();
        let img = froc_plot(&froc, &readers, &refs);
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        let count = |img: &RgbImage, c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
        assert!(count(&img, COLOURS[0]) > 200 && count(&img, COLOURS[1]) > 200);
        // With intervals the reader point R2 vs R1 (R1's colour) gains its whiskers: at least
        // the sensitivity span 0.5-0.85 and the false-positive span 0.3-2.5 in pixels.
        let mut with_ci = r.clone();
        with_ci[0].sensitivity_ci95 = Some([0.5, 0.85]);
        with_ci[0].false_positives_per_scan_ci95 = Some([0.3, 2.5]);
        let refs_ci: Vec<&Agreement> = with_ci.iter().collect();
        let img_ci = froc_plot(&froc, &readers, &refs_ci);
        let axis = Axis::new(&froc, &refs_ci);
        let span = (py(0.5) - py(0.85)) + (axis.px(2.5) - axis.px(0.3));
        assert!(count(&img_ci, COLOURS[0]) >= count(&img, COLOURS[0]) + span as usize / 2, "span {span}");
        // NaN points (no lesions) are skipped, not drawn at the corner.
        let empty = Froc { parameter: "seed_ratio".into(), points: vec![] };
        let img = froc_plot(&empty, &readers, &[]);
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
    }
}
