//! Resampling a projected plane to square pixels: linear interpolation where the picture is
//! finer than the grid, the maximum (or the best lesion) over the covered cells where it is
//! coarser, so thin bright structures and small lesions survive.

use super::projection::consider;

/// How one output pixel along an axis is made from source cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Tap {
    /// The output is coarser than the source: combine cells `start..end` (maximum, or the best
    /// lesion).
    Span(usize, usize),
    /// The output is finer: interpolate between two cells with weight on the second.
    Lerp(usize, usize, f32),
}

/// Taps that map `src` cells onto `dst` pixels of equal total extent.
pub(super) fn taps(src: usize, dst: usize) -> Vec<Tap> {
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
pub(super) fn resample_grey(src: &[f32], width: usize, taps_h: &[Tap], taps_v: &[Tap]) -> Vec<f32> {
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
pub(super) fn resample_labels(lval: &[f32], lid: &[u16], width: usize, taps_h: &[Tap], taps_v: &[Tap]) -> Vec<u16> {
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
