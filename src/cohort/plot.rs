//! `group_summary.png`: the cohort at a glance, as three lists of horizontal bars: the
//! sites (children with a lesion in each bone at baseline), the staging flags' prevalence,
//! and how many children have each number of lesions. Drawn with the overview's canvas and
//! bitmap font.

use crate::render::canvas::{text_size, Canvas, Rect, BLACK, WHITE};
use image::RgbImage;
use serde_json::Value;

const WIDTH: usize = 1000;
const ROW: i64 = 20;
const LABEL_W: i64 = 330;
const BAR_W: i64 = 460;
const MARGIN: i64 = 20;
/// Bones listed at most (the commonest).
const MAX_SITES: usize = 30;
const BAR: [u8; 3] = [31, 119, 180];
const FLAG_BAR: [u8; 3] = [230, 110, 0];
const COUNT_BAR: [u8; 3] = [44, 160, 44];
const TRACK: [u8; 3] = [235, 235, 235];

/// One bar: label, value shown, fraction of the full bar.
type Bar = (String, String, f64);

/// Draws the summary of [`super::group::Cohort::summary`].
pub fn summary_plot(summary: &Value) -> RgbImage {
    let children = summary["children"].as_u64().unwrap_or(0);
    let shown = |n: u64, share: &Value| format!("{n} ({:.0}%)", share.as_f64().unwrap_or(0.0) * 100.0);
    let sites: Vec<Bar> = summary["sites"]
        .as_array()
        .into_iter()
        .flatten()
        .take(MAX_SITES)
        .map(|s| {
            let n = s["children"].as_u64().unwrap_or(0);
            (s["bone"].as_str().unwrap_or("?").to_string(), shown(n, &s["share"]), s["share"].as_f64().unwrap_or(0.0))
        })
        .collect();
    let flags: Vec<Bar> = summary["flags"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(f, v)| {
            let n = v["children"].as_u64().unwrap_or(0);
            (f.replace('_', " "), shown(n, &v["share"]), v["share"].as_f64().unwrap_or(0.0))
        })
        .collect();
    let counts: Vec<u64> =
        summary["lesions_per_child_counts"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
    let max = counts.iter().copied().max().unwrap_or(0);
    let histogram: Vec<(u64, usize)> = (0..=max).map(|k| (k, counts.iter().filter(|&&c| c == k).count())).collect();
    let most = histogram.iter().map(|h| h.1).max().unwrap_or(1).max(1);
    let per_child: Vec<Bar> = histogram
        .iter()
        .filter(|h| h.1 > 0)
        .map(|&(k, n)| (format!("{k} lesion{}", if k == 1 { "" } else { "s" }), n.to_string(), n as f64 / most as f64))
        .collect();
    let sections = [
        ("Sites: children with a lesion in the bone (baseline)", sites, BAR),
        ("Staging flags: children (baseline)", flags, FLAG_BAR),
        ("Lesions per child (baseline)", per_child, COUNT_BAR),
    ];
    let rows: usize = sections.iter().map(|s| s.1.len().max(1) + 2).sum();
    let height = (MARGIN * 2 + 40 + rows as i64 * ROW) as usize;
    let mut c = Canvas::new(WIDTH, height);
    c.fill(Rect { x: 0, y: 0, w: WIDTH as i64, h: height as i64 }, WHITE);
    let title = format!("crmo-map cohort: {children} children, {} scans", summary["scans"].as_u64().unwrap_or(0));
    c.text(MARGIN, MARGIN, &title, 3, BLACK);
    let mut y = MARGIN + 40;
    for (heading, bars, colour) in &sections {
        y = section(&mut c, y, heading, bars, *colour);
    }
    c.into_image()
}

/// Draws a heading and its bars from `y`; returns the next free row.
fn section(c: &mut Canvas, mut y: i64, heading: &str, bars: &[Bar], colour: [u8; 3]) -> i64 {
    y += ROW / 2;
    c.text(MARGIN, y, heading, 2, BLACK);
    y += ROW + ROW / 2;
    if bars.is_empty() {
        c.text(MARGIN + 10, y, "none", 2, BLACK);
        return y + ROW;
    }
    for (label, value, frac) in bars {
        let fit: String = label.chars().take(((LABEL_W - 10) / 12) as usize).collect();
        let (lw, _) = text_size(&fit, 2);
        c.text(MARGIN + LABEL_W - 10 - lw as i64, y + 3, &fit, 2, BLACK);
        c.fill(Rect { x: MARGIN + LABEL_W, y, w: BAR_W, h: ROW - 4 }, TRACK);
        let w = (frac.clamp(0.0, 1.0) * BAR_W as f64).round() as i64;
        c.fill(Rect { x: MARGIN + LABEL_W, y, w, h: ROW - 4 }, colour);
        c.text(MARGIN + LABEL_W + BAR_W + 10, y + 3, value, 2, BLACK);
        y += ROW;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_are_drawn_to_their_share() {
        let s = json!({"children": 2, "scans": 2, "sites": [{"bone": "femur_left", "children": 1, "share": 0.5}],
                       "flags": {"multifocal": {"children": 2, "share": 1.0}}, "lesions_per_child_counts": [0, 3]});
        let img = summary_plot(&s);
        assert_eq!(img.width() as usize, WIDTH);
        // The first bar's row: half blue, half track.
        let y = (MARGIN + 40 + ROW / 2 + ROW + ROW / 2 + 5) as u32;
        let x0 = (MARGIN + LABEL_W) as u32;
        assert_eq!(img.get_pixel(x0 + 5, y).0, BAR);
        assert_eq!(img.get_pixel(x0 + BAR_W as u32 / 2 + 5, y).0, TRACK);
        assert!(img.height() > 200);
    }
}
