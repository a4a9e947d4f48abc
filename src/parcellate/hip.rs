//! The hip joint: the femoral head found as the sphere that sits in the acetabulum, the
//! proximal femur cut around it (head, neck, shaft), and the hip bone cut around the same
//! side's head (acetabular roof and columns, ilium, ischium, pubis).
//!
//! Factors are multiples of the head's radius `r` (fitted per patient, so that they hold for
//! a toddler's and an adolescent's hip alike). Sources: the proportions of the proximal femur
//! (neck about 1.5-2 head radii long from the head's centre to the intertrochanteric line,
//! neck half-width about 0.7 r; Gray's Anatomy, 42nd ed., femur) and the acetabulum's
//! division into roof (the weight-bearing dome above the head), anterior and posterior
//! columns (Letournel-Judet), checked on the phantom's hips and the real TotalSegmentator
//! pelvis masks in `../shared/realdata` (tests/parcellation.rs).

use super::bone::Bone;
use super::Namer;
use crate::labels::Side;
use crate::vec3::{dot, mean, norm, scale, sub, unit, V3};
use crate::volume::{Label, Volume};

/// Femur voxels within this distance (mm) of the hip bone face the joint: the sphere is fitted
/// to them.
const CONTACT_MM: f64 = 6.0;
/// Fewest contact voxels for a sphere fit.
const MIN_CONTACT: usize = 20;
/// Plausible femoral-head radii (mm), an infant's to an adult's (adults about 22-27 mm).
const HEAD_RADIUS_MM: (f64, f64) = (5.0, 35.0);
/// The fit is kept when the contact voxels' RMS distance from the sphere is at most this
/// fraction of the radius (plus one voxel side for the grid's rounding).
const FIT_RMS_FRACTION: f64 = 0.25;

/// `femur_head`: within this many radii of the centre ...
const HEAD_EXTENT: f64 = 1.26;
/// ... and at most this far (radii) along the neck axis (the capital physis).
const HEAD_NECK_JUNCTION: f64 = 0.32;
/// The neck axis points from the centre to the femur's mean in this shell (radii).
const NECK_SHELL: (f64, f64) = (1.3, 1.9);
/// `femur_neck`: up to this far along the neck axis (radii) ...
const NECK_LENGTH: f64 = 1.9;
/// ... and within this distance of the axis (radii).
const NECK_HALF_WIDTH: f64 = 0.95;
/// Distal femur as fractions of its length from the distal end: below the distal physis,
/// `femur_distal_epiphysis`; up to the metaphysis's end, `femur_distal_metaphysis`.
const DISTAL_EPIPHYSIS: f64 = 0.07;
const DISTAL_METAPHYSIS: f64 = 0.21;
/// A femur is at least this many head radii long (an adult's about 19; a conservative
/// bound used when the field of view cuts the femur, to tell how much of what is in view
/// is surely shaft).
const MIN_FEMUR_LENGTH_RADII: f64 = 12.0;

/// Hip bone zones around the head's centre (radii): the acetabulum lies within
/// `ACETABULUM_REACH`; above `ROOF_ABOVE` is roof (in it) or ilium (outside it); below, the
/// posterior column lies `POSTERIOR_COLUMN_BEHIND` behind the centre, the ischium
/// `ISCHIUM_BEHIND` behind it.
const ACETABULUM_REACH: f64 = 2.1;
const ROOF_ABOVE: f64 = 0.47;
const POSTERIOR_COLUMN_BEHIND: f64 = 0.1;
const ISCHIUM_BEHIND: f64 = 0.21;

/// A femoral head: centre (world mm) and radius (mm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Head {
    pub(super) centre: V3,
    pub(super) radius: f64,
}

/// The femoral head of `femur`: a sphere fitted to its voxels within [`CONTACT_MM`] of the
/// hip bone (the joint surface). Without a hip bone or a plausible fit: when the field of
/// view leaves the femur's top in view, its top stands in (centre one twentieth of its
/// length below its top, that radius); else there is no head.
pub(super) fn femoral_head<L: Label>(femur: &Bone, hip: Option<&Bone>, atlas: &Volume<L>) -> Option<Head> {
    if let Some(head) = hip.and_then(|h| fitted_head(femur, h, atlas)) {
        return Some(head);
    }
    let (u, lo, hi) = femur.long_axis();
    let len = hi - lo;
    let top: Vec<V3> = femur.pos.iter().copied().filter(|p| dot(*p, u) > hi - 0.1 * len).collect();
    let cut = femur.cut_points(&atlas.grid).iter().any(|p| dot(*p, u) > hi - 0.25 * len);
    (!cut && !top.is_empty()).then(|| Head { centre: mean(&top), radius: 0.05 * len })
}

/// The sphere through the femur's surface voxels that face the hip bone, when it is plausible.
fn fitted_head<L: Label>(femur: &Bone, hip: &Bone, atlas: &Volume<L>) -> Option<Head> {
    let contact = contact_surface(femur, hip.label, atlas);
    if contact.len() < MIN_CONTACT {
        return None;
    }
    let (centre, radius) = fit_sphere(&contact)?;
    let rms =
        (contact.iter().map(|p| (norm(sub(*p, centre)) - radius).powi(2)).sum::<f64>() / contact.len() as f64).sqrt();
    let voxel = atlas.grid.spacing().into_iter().fold(0.0, f64::max);
    let plausible = (HEAD_RADIUS_MM.0..=HEAD_RADIUS_MM.1).contains(&radius) && rms <= FIT_RMS_FRACTION * radius + voxel;
    plausible.then_some(Head { centre, radius })
}

/// The femur's surface voxels (a face neighbour is not femur) within [`CONTACT_MM`] of a voxel
/// labelled `hip_label`.
fn contact_surface<L: Label>(femur: &Bone, hip_label: u32, atlas: &Volume<L>) -> Vec<V3> {
    let grid = &atlas.grid;
    let reach = grid.spacing().map(|s| (CONTACT_MM / s).ceil() as i64);
    let [nx, ny, nz] = grid.dims.map(|d| d as i64);
    let label_at = |i: i64, j: i64, k: i64| -> Option<u32> {
        (i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz)
            .then(|| atlas.data[(i + nx * (j + ny * k)) as usize].into())
    };
    let mut contact = Vec::new();
    for (n, &v) in femur.index.iter().enumerate() {
        let [i, j, k] = grid.ijk(v).map(|x| x as i64);
        let surface = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
            .iter()
            .any(|&(di, dj, dk)| label_at(i + di, j + dj, k + dk) != Some(femur.label));
        if !surface {
            continue;
        }
        let near = (-reach[2]..=reach[2]).any(|dk| {
            (-reach[1]..=reach[1])
                .any(|dj| (-reach[0]..=reach[0]).any(|di| label_at(i + di, j + dj, k + dk) == Some(hip_label)))
        });
        if near {
            contact.push(femur.pos[n]);
        }
    }
    contact
}

/// Least-squares sphere through points (algebraic fit: |p|^2 = 2 c.p + k).
pub(super) fn fit_sphere(pts: &[V3]) -> Option<(V3, f64)> {
    let mut a = [[0.0f64; 5]; 4];
    for p in pts {
        let row = [2.0 * p[0], 2.0 * p[1], 2.0 * p[2], 1.0];
        let rhs = dot(*p, *p);
        for r in 0..4 {
            for c in 0..4 {
                a[r][c] += row[r] * row[c];
            }
            a[r][4] += row[r] * rhs;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..4 {
        let piv = (col..4).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, piv);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                row.iter_mut().zip(pivot_row).skip(col).for_each(|(x, p)| *x -= f * p);
            }
        }
    }
    let x: Vec<f64> = (0..4).map(|r| a[r][4] / a[r][r]).collect();
    let c = [x[0], x[1], x[2]];
    let r2 = x[3] + dot(c, c);
    (r2 > 0.0).then(|| (c, r2.sqrt()))
}

/// The neck axis: unit vector from the head's centre to the femur's mean within
/// [`NECK_SHELL`] of it (straight down when the shell is empty).
fn neck_axis(femur: &Bone, head: Head) -> V3 {
    let (r0, r1) = (NECK_SHELL.0 * head.radius, NECK_SHELL.1 * head.radius);
    let shell: Vec<V3> = femur.pos.iter().copied().filter(|p| (r0..r1).contains(&norm(sub(*p, head.centre)))).collect();
    let d = sub(mean(&shell), head.centre);
    if shell.is_empty() || norm(d) < 1e-9 {
        [0.0, 0.0, -1.0]
    } else {
        unit(d)
    }
}

/// How far down the femur a point lies, and where the distal parts begin: `Distal::Known`
/// with the long axis and its extent when the whole femur is in view; `Distal::Cut` when the
/// field of view cuts its distal half (then only the shaft nearer the head than
/// [`MIN_FEMUR_LENGTH_RADII`] allows is named).
enum Distal {
    Known { axis: V3, lo: f64, len: f64 },
    Cut { axis: V3, top: f64, shaft_until: f64 },
}

fn distal_extent<L: Label>(femur: &Bone, head: Head, atlas: &Volume<L>) -> Distal {
    let (axis, lo, hi) = femur.long_axis();
    let len = hi - lo;
    let cut = femur.cut_points(&atlas.grid).iter().any(|p| dot(*p, axis) < lo + 0.5 * len);
    if !cut {
        return Distal::Known { axis, lo, len };
    }
    // A stub of femur can be wider than it is long: its principal axis is then not the
    // shaft's. The shaft runs within a few degrees of the body's long axis.
    let axis = if axis[2] >= 0.5f64.sqrt() { axis } else { [0.0, 0.0, 1.0] };
    let top = dot(head.centre, axis) + head.radius;
    let length = (MIN_FEMUR_LENGTH_RADII * head.radius)
        .max(top - femur.pos.iter().map(|p| dot(*p, axis)).fold(f64::INFINITY, f64::min));
    Distal::Cut { axis, top, shaft_until: (1.0 - DISTAL_METAPHYSIS) * length }
}

/// Splits a femur around its head: head, neck, then shaft and the distal parts (see the
/// constants). Returns false (the femur kept whole) when it has no head.
pub(super) fn femur<L: Label>(b: &Bone, head: Option<Head>, side: Side, atlas: &Volume<L>, out: &mut Namer) -> bool {
    let Some(head) = head else { return false };
    let (hc, r) = (head.centre, head.radius);
    let nn = neck_axis(b, head);
    let distal = distal_extent(b, head, atlas);
    let s = side.as_str();
    out.paint(b, |p| {
        let d = sub(p, hc);
        let a = dot(d, nn);
        let perp = norm(sub(d, scale(nn, a)));
        let part = if norm(d) <= HEAD_EXTENT * r && a <= HEAD_NECK_JUNCTION * r {
            "femur_head"
        } else if a <= NECK_LENGTH * r && perp <= NECK_HALF_WIDTH * r {
            "femur_neck"
        } else {
            match distal {
                Distal::Known { axis, lo, len } => {
                    let t = dot(p, axis) - lo;
                    if t < DISTAL_EPIPHYSIS * len {
                        "femur_distal_epiphysis"
                    } else if t < DISTAL_METAPHYSIS * len {
                        "femur_distal_metaphysis"
                    } else {
                        "femur_shaft"
                    }
                }
                Distal::Cut { axis, top, shaft_until } if top - dot(p, axis) <= shaft_until => "femur_shaft",
                Distal::Cut { .. } => return b.name.clone(),
            }
        };
        format!("{part}_{s}")
    });
    true
}

/// Splits a hip bone around the same side's femoral head (see the constants). Returns false
/// (kept whole) without a head: the acetabulum cannot be placed.
pub(super) fn hip(b: &Bone, head: Option<Head>, side: Side, out: &mut Namer) -> bool {
    let Some(Head { centre: hc, radius: r }) = head else { return false };
    let s = side.as_str();
    out.paint(b, |p| {
        let zone = norm(sub(p, hc)) < ACETABULUM_REACH * r;
        let above = p[2] > hc[2] + ROOF_ABOVE * r;
        let part = match (zone, above) {
            (true, true) => "acetabulum_roof",
            (true, false) if p[1] < hc[1] - POSTERIOR_COLUMN_BEHIND * r => "acetabulum_posterior_column",
            (true, false) => "acetabulum_anterior_column",
            (false, true) => "ilium",
            (false, false) if p[1] < hc[1] - ISCHIUM_BEHIND * r => "ischium",
            (false, false) => "pubis",
        };
        format!("{part}_{s}")
    });
    true
}
