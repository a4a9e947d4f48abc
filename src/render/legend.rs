//! The legend of a picture: per entry a colour swatch, a right-aligned key (a region's label
//! value, a lesion's id) and a label in the entry's colour, in as many columns as the height
//! allows; the text drops to scale 1 when the larger scale needs more columns than allowed.

use super::canvas::{text_size, Canvas, Rect, WHITE};
use crate::palette::Rgb;

/// Space between legend columns (and before the legend).
pub(super) const GAP: usize = 16;
/// Largest legend text scale.
pub(super) const LEGEND_SCALE: usize = 2;
/// Most legend columns at [`LEGEND_SCALE`].
pub(super) const LEGEND_MAX_COLUMNS: usize = 2;

/// One line of a legend.
pub(super) struct Entry {
    pub(super) colour: Rgb,
    pub(super) key: String,
    pub(super) label: String,
}

/// How a legend is laid out.
pub(super) struct Legend {
    pub(super) scale: usize,
    pub(super) columns: usize,
    pub(super) per_column: usize,
    pub(super) column_w: usize,
    pub(super) line_h: usize,
    key_w: usize,
}

impl Legend {
    /// The layout of `entries` in a column `height` pixels tall.
    pub(super) fn new(entries: &[Entry], height: usize) -> Legend {
        let at = |scale: usize| {
            let line_h = text_size("0", scale).1 + 2 * scale + 1;
            let per_column = (height / line_h).max(1);
            let columns = entries.len().div_ceil(per_column).max(1);
            let key_w = entries.iter().map(|e| text_size(&e.key, scale).0).max().unwrap_or(0);
            let label = entries.iter().map(|e| text_size(&e.label, scale).0).max().unwrap_or(0);
            let swatch = text_size("0", scale).1;
            let column_w = swatch + 2 * scale + key_w + 3 * scale + label + GAP;
            Legend { scale, columns, per_column, column_w, line_h, key_w }
        };
        let big = at(LEGEND_SCALE);
        if big.columns <= LEGEND_MAX_COLUMNS {
            big
        } else {
            at(1)
        }
    }

    /// Width of all columns.
    pub(super) fn width(&self) -> usize {
        self.columns * self.column_w
    }

    /// Height of the tallest column for `n` entries.
    pub(super) fn height(&self, n: usize) -> usize {
        self.per_column.min(n.max(1)) * self.line_h
    }

    /// Draws `entries` with the top-left corner at (`x0`, `y0`).
    pub(super) fn draw(&self, canvas: &mut Canvas, entries: &[Entry], x0: usize, y0: usize) {
        let s = self.scale;
        let swatch = text_size("0", s).1;
        for (n, e) in entries.iter().enumerate() {
            let x = (x0 + (n / self.per_column) * self.column_w) as i64;
            let y = (y0 + (n % self.per_column) * self.line_h) as i64;
            canvas.fill(Rect { x, y, w: swatch as i64, h: swatch as i64 }, e.colour);
            let tx = x + (swatch + 2 * s + self.key_w - text_size(&e.key, s).0) as i64;
            canvas.text(tx, y, &e.key, s, WHITE);
            canvas.text(x + (swatch + 2 * s + self.key_w + 3 * s) as i64, y, &e.label, s, e.colour);
        }
    }
}
