//! A coronal slice through one lesion, for the review page's static fallback (no WebGL2): the
//! slice through the lesion's centroid in the overview's orientation (radiological, superior
//! at the top), cropped to the lesion with a margin, square pixels, the lesion outlined in its
//! colour and captioned with its id and region.

use super::canvas::{text_size, Canvas, WHITE};
use super::{View, GAMMA, HEADER, MARGIN};
use crate::palette::lesion_colour;
use crate::volume::Volume;
use image::RgbImage;

/// Context around the lesion (mm on each side).
const CONTEXT_MM: f64 = 25.0;
/// The crop's longer side is drawn at least this many pixels.
const MIN_LONG_SIDE: usize = 320;
/// Opacity of the lesion fill.
const FILL: f32 = 0.3;

/// The slice picture of lesion `id` (see the module docs); `centroid_voxel` and `bbox_voxel`
/// as the report gives them. A lesion map on another grid draws no outline.
pub fn lesion_slice(
    scan: &Volume<f32>,
    lesion_map: &Volume<u16>,
    id: u32,
    region: &str,
    centroid_voxel: [f64; 3],
    bbox_voxel: [[usize; 3]; 2],
) -> RgbImage {
    let crop = Crop::new(scan, centroid_voxel, bbox_voxel);
    let same_grid = lesion_map.grid.dims == scan.grid.dims && lesion_map.data.len() == scan.data.len();
    let inside: Vec<bool> = crop.voxels.iter().map(|&i| same_grid && lesion_map.data[i] as u32 == id).collect();
    let grey = crop.grey(scan);
    let colour = lesion_colour(id);
    let caption = format!("{id} {region}");
    let canvas_w = (crop.w + 2 * MARGIN).max(text_size(&caption, 2).0 + 2 * MARGIN);
    let mut canvas = Canvas::new(canvas_w, HEADER + crop.h + MARGIN);
    crop.draw(&mut canvas, &grey, &inside, colour);
    let (_, th) = text_size(&caption, 2);
    canvas.text(MARGIN as i64, ((HEADER - th) / 2) as i64, &caption, 2, colour);
    let (rw, _) = text_size("R", 2);
    if canvas_w > text_size(&caption, 2).0 + 2 * MARGIN + 3 * rw {
        canvas.text((canvas_w - MARGIN - 3 * rw) as i64, ((HEADER - th) / 2) as i64, "R L", 2, WHITE);
    }
    canvas.into_image()
}

/// The crop of the slice around a lesion and how the picture enlarges it.
struct Crop {
    /// Picture size in pixels.
    w: usize,
    h: usize,
    /// The crop's width in voxels.
    crop_w: usize,
    /// The crop's voxel column under each picture column, and row under each picture row
    /// (display order: radiological, superior at the top).
    col: Vec<usize>,
    row: Vec<usize>,
    /// The scan index of each crop voxel, rows of `crop_w`.
    voxels: Vec<usize>,
}

impl Crop {
    /// The slice through `centroid_voxel` in the overview's orientation, cropped to
    /// `bbox_voxel` with [`CONTEXT_MM`] around it, its longer side [`MIN_LONG_SIDE`] pixels.
    fn new(scan: &Volume<f32>, centroid_voxel: [f64; 3], bbox_voxel: [[usize; 3]; 2]) -> Crop {
        let view = View::new(&scan.grid);
        let dims = scan.grid.dims;
        let at = (centroid_voxel[view.p].round().max(0.0) as usize).min(dims[view.p].saturating_sub(1));
        let span = |a: usize, mm: f64| {
            let m = (CONTEXT_MM / mm).ceil() as usize;
            let lo = bbox_voxel[0][a].saturating_sub(m);
            let hi = (bbox_voxel[1][a] + m).min(dims[a]).max(lo + 1);
            lo..hi
        };
        let (hs, vs) = (span(view.h, view.mm_h), span(view.v, view.mm_v));
        let (w_mm, h_mm) = (hs.len() as f64 * view.mm_h, vs.len() as f64 * view.mm_v);
        let px_per_mm = MIN_LONG_SIDE as f64 / w_mm.max(h_mm).max(1e-6);
        let (w, h) = (((w_mm * px_per_mm).round() as usize).max(1), ((h_mm * px_per_mm).round() as usize).max(1));
        // The picture enlarges the crop, so each voxel's grey level and lesion membership are
        // worked out once, not per pixel.
        let cells = |n: usize, mm: f64, len: usize| -> Vec<usize> {
            (0..n).map(|x| (((x as f64 + 0.5) / px_per_mm / mm) as usize).min(len - 1)).collect()
        };
        let (col, row) = (cells(w, view.mm_h, hs.len()), cells(h, view.mm_v, vs.len()));
        let voxel = |c: usize, r: usize| {
            let ih = if view.flip_h { hs.end - 1 - c } else { hs.start + c };
            let iv = if view.flip_v { vs.end - 1 - r } else { vs.start + r };
            let mut ijk = [0; 3];
            (ijk[view.p], ijk[view.h], ijk[view.v]) = (at, ih, iv);
            scan.grid.index(ijk[0], ijk[1], ijk[2])
        };
        let crop_w = hs.len();
        let voxels = (0..vs.len()).flat_map(|r| (0..crop_w).map(move |c| (c, r))).map(|(c, r)| voxel(c, r)).collect();
        Crop { w, h, crop_w, col, row, voxels }
    }

    /// The crop voxel under picture pixel (`x`, `y`).
    fn at_pixel(&self, x: usize, y: usize) -> usize {
        self.row[y] * self.crop_w + self.col[x]
    }

    /// Each crop voxel's grey level in [0, 1], windowed on the pixels' values.
    fn grey(&self, scan: &Volume<f32>) -> Vec<f32> {
        let values: Vec<f32> = (0..self.h)
            .flat_map(|y| (0..self.w).map(move |x| (x, y)))
            .map(|(x, y)| scan.data[self.voxels[self.at_pixel(x, y)]])
            .collect();
        let (lo, hi) = super::window(&values);
        self.voxels
            .iter()
            .map(|&i| scan.data[i])
            .map(|v| if v.is_finite() { ((v - lo) / (hi - lo)).clamp(0.0, 1.0).powf(GAMMA) } else { 0.0 })
            .collect()
    }

    /// The enlarged crop below the header, the lesion's voxels (`inside`) tinted in `colour`
    /// and outlined in it.
    fn draw(&self, canvas: &mut Canvas, grey: &[f32], inside: &[bool], colour: [u8; 3]) {
        let (w, h) = (self.w, self.h);
        let mine = |x: usize, y: usize| inside[self.at_pixel(x, y)];
        for y in 0..h {
            for x in 0..w {
                let g = grey[self.at_pixel(x, y)];
                let mut c = [g * 255.0; 3];
                if mine(x, y) {
                    let edge = x == 0 || y == 0 || x + 1 == w || y + 1 == h || {
                        !(mine(x - 1, y) && mine(x + 1, y) && mine(x, y - 1) && mine(x, y + 1))
                    };
                    c = [0, 1, 2].map(|i| {
                        if edge {
                            colour[i] as f32
                        } else {
                            c[i] * (1.0 - FILL) + colour[i] as f32 * FILL
                        }
                    });
                }
                canvas.set((MARGIN + x) as i64, (HEADER + y) as i64, c.map(|v| v as u8));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Affine, Grid};

    /// The lesion's outline is drawn in its colour, the picture is cropped around it and at
    /// least the minimum size, and a lesion at the grid's edge does not panic.
    #[test]
    fn a_slice_outlines_its_lesion() {
        let grid = Grid { dims: [60, 10, 80], affine: Affine::from_spacing_origin([1.5, 4.0, 1.5], [0.0; 3]) };
        let mut scan = Volume::filled(grid, 100.0f32);
        let mut map = Volume::filled(grid, 0u16);
        for k in 30..40 {
            for i in 20..28 {
                let v = grid.index(i, 5, k);
                scan.data[v] = 300.0;
                map.data[v] = 3;
            }
        }
        let img = lesion_slice(&scan, &map, 3, "vertebra_T7", [23.5, 5.0, 34.5], [[20, 5, 30], [28, 6, 40]]);
        assert!(img.width().max(img.height()) >= MIN_LONG_SIDE as u32);
        let c = lesion_colour(3);
        let outlined = img.pixels().filter(|p| p.0 == c).count();
        assert!(outlined > 200, "{outlined}");
        let edge = lesion_slice(&scan, &map, 3, "x", [0.0, 0.0, 0.0], [[0, 0, 0], [1, 1, 1]]);
        assert!(edge.width() > 0);
    }
}
