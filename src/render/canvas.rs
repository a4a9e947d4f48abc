//! The drawing surface of the pictures: an RGB canvas with filled and framed boxes, leader
//! lines and bitmap text ([`super::font`]).

use super::font::{glyph, GLYPH_H, GLYPH_W};
use image::RgbImage;

/// An RGB canvas with clipped drawing.
pub(crate) struct Canvas {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) px: Vec<u8>,
}

/// A rectangle in canvas pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x: i64,
    pub(crate) y: i64,
    pub(crate) w: i64,
    pub(crate) h: i64,
}

impl Rect {
    pub(crate) fn overlap(&self, o: &Rect) -> i64 {
        let dx = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let dy = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        dx.max(0) * dy.max(0)
    }

    pub(crate) fn contains(&self, x: i64, y: i64, slack: i64) -> bool {
        x >= self.x - slack && x < self.x + self.w + slack && y >= self.y - slack && y < self.y + self.h + slack
    }
}

pub(crate) const BLACK: [u8; 3] = [0, 0, 0];
pub(crate) const WHITE: [u8; 3] = [255, 255, 255];

impl Canvas {
    pub(crate) fn new(w: usize, h: usize) -> Canvas {
        Canvas { w, h, px: vec![0; w * h * 3] }
    }

    pub(crate) fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let o = (y as usize * self.w + x as usize) * 3;
            self.px[o..o + 3].copy_from_slice(&c);
        }
    }

    pub(crate) fn fill(&mut self, r: Rect, c: [u8; 3]) {
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                self.set(x, y, c);
            }
        }
    }

    pub(crate) fn frame(&mut self, r: Rect, c: [u8; 3]) {
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
    pub(crate) fn leader(&mut self, points: &[(i64, i64)], c: [u8; 3]) {
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

    pub(crate) fn text(&mut self, x: i64, y: i64, s: &str, scale: usize, c: [u8; 3]) {
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

    pub(crate) fn into_image(self) -> RgbImage {
        RgbImage::from_raw(self.w as u32, self.h as u32, self.px).expect("canvas buffer matches its size")
    }
}

pub(crate) fn line_points((x0, y0): (i64, i64), (x1, y1): (i64, i64)) -> Vec<(i64, i64)> {
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

/// Width and height in pixels of `s` drawn at `scale`.
pub(crate) fn text_size(s: &str, scale: usize) -> (usize, usize) {
    let n = s.chars().count();
    (if n == 0 { 0 } else { (n * (GLYPH_W + 1) - 1) * scale }, GLYPH_H * scale)
}
