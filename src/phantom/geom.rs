//! A small 3-D geometry kit: vectors, boxes and signed distance functions (SDF, in mm,
//! negative inside) of the primitives the phantom's anatomy is built from.
//!
//! Some distances are approximations (ellipses and ellipsoids use the usual first-order
//! estimate `k0 (k0 - 1) / k1`): their sign is exact and they are accurate near the surface,
//! which is all that partial-volume sampling and cortex shells need.

pub use crate::vec3::{add, along, cross, dot, norm, scale, sub, unit, V3};

/// `a` mirrored to the other side of the body (x -> -x).
#[inline]
pub fn mirror(a: V3, side: f64) -> V3 {
    [a[0] * side, a[1], a[2]]
}

/// The unit vector of `hint` with its component along the unit vector `u` removed.
pub fn perpendicular(hint: V3, u: V3) -> V3 {
    unit(along(hint, u, -dot(hint, u)))
}

/// Polynomial smooth minimum: equals `min(a, b)` when they differ by more than `k`.
#[inline]
pub fn smin(a: f64, b: f64, k: f64) -> f64 {
    if k <= 0.0 {
        return a.min(b);
    }
    let h = (k - (a - b).abs()).max(0.0) / k;
    a.min(b) - h * h * k * 0.25
}

/// An axis-aligned box in world mm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aabb {
    /// Lower corner.
    pub lo: V3,
    /// Upper corner.
    pub hi: V3,
}

impl Aabb {
    /// The empty box (the identity of [`Aabb::union`]).
    pub fn empty() -> Aabb {
        Aabb { lo: [f64::INFINITY; 3], hi: [f64::NEG_INFINITY; 3] }
    }

    /// The box `c +- half`.
    pub fn around(c: V3, half: V3) -> Aabb {
        Aabb { lo: sub(c, half), hi: add(c, half) }
    }

    /// Smallest box holding both.
    pub fn union(self, o: Aabb) -> Aabb {
        Aabb {
            lo: [self.lo[0].min(o.lo[0]), self.lo[1].min(o.lo[1]), self.lo[2].min(o.lo[2])],
            hi: [self.hi[0].max(o.hi[0]), self.hi[1].max(o.hi[1]), self.hi[2].max(o.hi[2])],
        }
    }

    /// The box grown by `m` on every side.
    pub fn grow(self, m: f64) -> Aabb {
        Aabb { lo: sub(self.lo, [m; 3]), hi: add(self.hi, [m; 3]) }
    }

    /// True when `p` lies in the box.
    #[inline]
    pub fn contains(&self, p: V3) -> bool {
        (0..3).all(|a| p[a] >= self.lo[a] && p[a] <= self.hi[a])
    }

    /// Euclidean distance from `p` to the box (0 inside).
    #[inline]
    pub fn dist(&self, p: V3) -> f64 {
        let d = |a: usize| (self.lo[a] - p[a]).max(p[a] - self.hi[a]).max(0.0);
        let (dx, dy, dz) = (d(0), d(1), d(2));
        (dx * dx + dy * dy + dz * dz).sqrt()
    }

    /// Centre of the box.
    #[cfg(test)]
    pub fn centre(&self) -> V3 {
        scale(add(self.lo, self.hi), 0.5)
    }
}

/// Distance estimate to an axis-aligned ellipse with semi-axes `a`, `b` (2-D).
#[inline]
fn ellipse2(x: f64, y: f64, a: f64, b: f64) -> f64 {
    let (qx, qy) = (x / a, y / b);
    let k0 = (qx * qx + qy * qy).sqrt();
    let (rx, ry) = (qx / a, qy / b);
    let k1 = (rx * rx + ry * ry).sqrt();
    if k1 < 1e-12 {
        -a.min(b)
    } else {
        k0 * (k0 - 1.0) / k1
    }
}

/// Exact distance to an axis-aligned rounded rectangle with half-sizes `a`, `b` and corner
/// radius `rc` (2-D).
#[inline]
fn round_rect2(x: f64, y: f64, a: f64, b: f64, rc: f64) -> f64 {
    let qx = x.abs() - (a - rc);
    let qy = y.abs() - (b - rc);
    let out = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    out + qx.max(qy).min(0.0) - rc
}

/// Cross-section of a [`Prim::lathe`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Section {
    /// An ellipse with the profile's width and depth as semi-axes.
    Ellipse,
    /// A rounded rectangle; the corner radius is this fraction of the smaller half-size.
    RoundRect(f64),
}

#[derive(Clone, Debug)]
enum Kind {
    Ellipsoid {
        c: V3,
        e: [V3; 3],
        r: V3,
    },
    /// Convex hull of two spheres (a capsule when the radii are equal).
    Cone {
        a: V3,
        u: V3,
        len: f64,
        ra: f64,
        rb: f64,
        ns: f64,
        nq: f64,
    },
    /// A body of revolution-like solid around the segment `a + u t`, `t` in `0..len`, whose
    /// cross-section at `t` has half-width `w(t)` along `v` and half-depth `d(t)` along `w`.
    Lathe {
        a: V3,
        u: V3,
        v: V3,
        w: V3,
        len: f64,
        prof: Vec<[f64; 3]>,
        section: Section,
        round: f64,
    },
    RBox {
        c: V3,
        e: [V3; 3],
        h: V3,
        round: f64,
    },
    /// `base` minus every cut.
    Diff {
        base: Box<Prim>,
        cuts: Vec<Prim>,
    },
}

/// A primitive solid with its bounding box.
#[derive(Clone, Debug)]
pub struct Prim {
    kind: Kind,
    /// World box holding the solid.
    pub bbox: Aabb,
}

/// Orthonormal frame whose first axis is `u` and second axis lies in the plane of `u` and `v`.
pub fn frame(u: V3, v: V3) -> [V3; 3] {
    let e0 = unit(u);
    let e1 = perpendicular(v, e0);
    [e0, e1, cross(e0, e1)]
}

fn oriented_box(c: V3, e: &[V3; 3], h: V3) -> Aabb {
    let mut half = [0.0; 3];
    for (a, hv) in half.iter_mut().enumerate() {
        *hv = (0..3).map(|k| (h[k] * e[k][a]).abs()).sum::<f64>();
    }
    Aabb::around(c, half)
}

impl Prim {
    /// An axis-aligned ellipsoid.
    pub fn ellipsoid(c: V3, r: V3) -> Prim {
        Prim::ellipsoid_rot(c, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], r)
    }

    /// An ellipsoid with semi-axis `r[0]` along `u`, `r[1]` along the part of `v` normal to
    /// `u`, and `r[2]` along their cross product.
    pub fn ellipsoid_rot(c: V3, u: V3, v: V3, r: V3) -> Prim {
        let e = frame(u, v);
        // Tight box of a rotated ellipsoid: half-extent sqrt(sum (r_k e_k[a])^2) per axis.
        let mut half = [0.0; 3];
        for (a, hv) in half.iter_mut().enumerate() {
            *hv = (0..3).map(|k| (r[k] * e[k][a]).powi(2)).sum::<f64>().sqrt();
        }
        Prim { kind: Kind::Ellipsoid { c, e, r }, bbox: Aabb::around(c, half) }
    }

    /// The convex hull of the sphere (`a`, `ra`) and the sphere (`b`, `rb`).
    pub fn cone(a: V3, b: V3, ra: f64, rb: f64) -> Prim {
        let d = sub(b, a);
        let len = norm(d);
        assert!(len > (ra - rb).abs(), "one sphere of a cone contains the other");
        let u = scale(d, 1.0 / len);
        // Outward normal of the tangent line in the (axial, radial) half-plane.
        let ns = (ra - rb) / len;
        let nq = (1.0 - ns * ns).sqrt();
        let bbox = Aabb::around(a, [ra; 3]).union(Aabb::around(b, [rb; 3]));
        Prim { kind: Kind::Cone { a, u, len, ra, rb, ns, nq }, bbox }
    }

    /// A capsule of radius `r` from `a` to `b`.
    pub fn capsule(a: V3, b: V3, r: f64) -> Prim {
        Prim::cone(a, b, r, r)
    }

    /// A lathe from `a` to `b`: `prof` lists `[t, half_width, half_depth]` knots (t in mm from
    /// `a`, increasing, first 0, last |b - a|), linearly interpolated; the width runs along
    /// the part of `width_dir` normal to the axis. Edges are rounded by `round` mm.
    pub fn lathe(a: V3, b: V3, width_dir: V3, prof: &[[f64; 3]], section: Section, round: f64) -> Prim {
        let d = sub(b, a);
        let len = norm(d);
        let [u, v, w] = frame(d, width_dir);
        assert!(prof.len() >= 2, "a lathe needs two profile knots");
        let mut bbox = Aabb::empty();
        for k in prof {
            let c = along(a, u, k[0].clamp(0.0, len));
            let r = k[1].max(k[2]);
            bbox = bbox.union(Aabb::around(c, [r; 3]));
        }
        Prim { kind: Kind::Lathe { a, u, v, w, len, prof: prof.to_vec(), section, round }, bbox }
    }

    /// A box with half-sizes `h` along the frame of (`u`, `v`), edges rounded by `round`.
    pub fn rbox(c: V3, u: V3, v: V3, h: V3, round: f64) -> Prim {
        let e = frame(u, v);
        let bbox = oriented_box(c, &e, h);
        Prim { kind: Kind::RBox { c, e, h, round }, bbox }
    }

    /// `base` with the `cuts` removed (sharp edges).
    pub fn difference(base: Prim, cuts: Vec<Prim>) -> Prim {
        let bbox = base.bbox;
        Prim { kind: Kind::Diff { base: Box::new(base), cuts }, bbox }
    }

    /// Signed distance (mm) from `p` to the solid's surface, negative inside.
    pub fn sdf(&self, p: V3) -> f64 {
        match &self.kind {
            Kind::Ellipsoid { c, e, r } => {
                let d = sub(p, *c);
                let l = [dot(d, e[0]), dot(d, e[1]), dot(d, e[2])];
                let q = [l[0] / r[0], l[1] / r[1], l[2] / r[2]];
                let k0 = norm(q);
                let k1 = norm([q[0] / r[0], q[1] / r[1], q[2] / r[2]]);
                if k1 < 1e-12 {
                    -r[0].min(r[1]).min(r[2])
                } else {
                    k0 * (k0 - 1.0) / k1
                }
            }
            Kind::Cone { a, u, len, ra, rb, ns, nq } => {
                // Work in the half-plane of (axial s, radial q) coordinates.
                let d = sub(p, *a);
                let s = dot(d, *u);
                let q = (dot(d, d) - s * s).max(0.0).sqrt();
                // Direction of the tangent line from sphere a towards sphere b.
                let (ts, tq) = (*nq, -*ns);
                if s * ts + q * tq < 0.0 {
                    (s * s + q * q).sqrt() - ra
                } else if (s - len) * ts + q * tq > 0.0 {
                    ((s - len).powi(2) + q * q).sqrt() - rb
                } else {
                    s * ns + q * nq - ra
                }
            }
            Kind::Lathe { a, u, v, w, len, prof, section, round } => {
                let d = sub(p, *a);
                let t = dot(d, *u);
                let (x, y) = (dot(d, *v), dot(d, *w));
                let (hw, hd, sw, sd) = interp(prof, t);
                // The surface's slope along the axis where the point is: the width's slope
                // toward the sides, the depth's toward front and back.
                let slope = if (x / hw).powi(2) >= (y / hd).powi(2) { sw } else { sd };
                let rd = round.min(0.45 * hw.min(hd));
                let radial = match section {
                    Section::Ellipse => ellipse2(x, y, hw - rd, hd - rd),
                    Section::RoundRect(f) => {
                        let (a2, b2) = (hw - rd, hd - rd);
                        round_rect2(x, y, a2, b2, f * a2.min(b2))
                    }
                } / (1.0 + slope * slope).sqrt();
                let cap = (-t).max(t - len) + rd;
                let inner =
                    if radial > 0.0 && cap > 0.0 { (radial * radial + cap * cap).sqrt() } else { radial.max(cap) };
                inner - rd
            }
            Kind::RBox { c, e, h, round } => {
                let d = sub(p, *c);
                let q = [
                    dot(d, e[0]).abs() - h[0] + round,
                    dot(d, e[1]).abs() - h[1] + round,
                    dot(d, e[2]).abs() - h[2] + round,
                ];
                let out = norm([q[0].max(0.0), q[1].max(0.0), q[2].max(0.0)]);
                out + q[0].max(q[1]).max(q[2]).min(0.0) - round
            }
            Kind::Diff { base, cuts } => cuts.iter().fold(base.sdf(p), |d, c| d.max(-c.sdf(p))),
        }
    }
}

/// Half-width, half-depth and their slopes at `t` along a lathe profile.
fn interp(prof: &[[f64; 3]], t: f64) -> (f64, f64, f64, f64) {
    let last = prof.len() - 1;
    if t <= prof[0][0] {
        return (prof[0][1], prof[0][2], 0.0, 0.0);
    }
    if t >= prof[last][0] {
        return (prof[last][1], prof[last][2], 0.0, 0.0);
    }
    let n = prof.partition_point(|k| k[0] <= t).clamp(1, last);
    let (k0, k1) = (prof[n - 1], prof[n]);
    let span = (k1[0] - k0[0]).max(1e-9);
    let f = (t - k0[0]) / span;
    let sw = (k1[1] - k0[1]) / span;
    let sd = (k1[2] - k0[2]) / span;
    (k0[1] + f * (k1[1] - k0[1]), k0[2] + f * (k1[2] - k0[2]), sw, sd)
}

/// A solid built from primitives: a smooth union (blend radius `k` mm), minus `cuts`.
#[derive(Clone, Debug)]
pub struct Shape {
    prims: Vec<Prim>,
    k: f64,
    cuts: Vec<Prim>,
    /// World box holding the solid.
    pub bbox: Aabb,
}

impl Shape {
    /// Smooth union of `prims` with blend radius `k`.
    pub fn union(prims: Vec<Prim>, k: f64) -> Shape {
        let bbox = prims.iter().fold(Aabb::empty(), |b, p| b.union(p.bbox)).grow(k);
        Shape { prims, k, cuts: Vec::new(), bbox }
    }

    /// A shape of one primitive.
    pub fn one(p: Prim) -> Shape {
        Shape::union(vec![p], 0.0)
    }

    /// The shape with `cut` removed.
    pub fn minus(mut self, cut: Prim) -> Shape {
        self.cuts.push(cut);
        self
    }

    /// The primitives of the union.
    pub fn prims(&self) -> &[Prim] {
        &self.prims
    }

    /// Signed distance using only the primitives listed in `subset` (indices into
    /// [`Shape::prims`]), capped at `far`: exact wherever the omitted primitives are all at
    /// least `far + k` away (cuts are ignored; use this for shapes without cuts).
    pub fn sdf_subset(&self, p: V3, subset: &[usize], far: f64) -> f64 {
        let mut best = far;
        for &i in subset {
            let prim = &self.prims[i];
            let bd = prim.bbox.dist(p);
            if bd >= best + self.k {
                continue;
            }
            best = smin(best, prim.sdf(p), self.k).min(best);
        }
        best
    }

    /// Signed distance (mm), negative inside. Primitives whose box is farther than the blend
    /// radius beyond the nearest surface found so far cannot change the result and are
    /// skipped; the box distance then stands in as a lower bound.
    pub fn sdf(&self, p: V3) -> f64 {
        let mut best = f64::INFINITY;
        let mut bound = f64::INFINITY;
        for prim in &self.prims {
            let bd = prim.bbox.dist(p);
            if bd > 0.0 && bd >= best + self.k {
                bound = bound.min(bd);
                continue;
            }
            let d = prim.sdf(p);
            best = if best.is_finite() { smin(best, d, self.k) } else { d };
        }
        if !best.is_finite() {
            return bound;
        }
        // A cut matters where it is nearer than the surface found so far (inside the shape);
        // outside the shape the union's distance is a valid lower bound already.
        for c in &self.cuts {
            if best < 0.0 && c.bbox.dist(p) < -best {
                best = best.max(-c.sdf(p));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn primitive_distances() {
        let s = Prim::ellipsoid([0.0; 3], [5.0, 5.0, 5.0]);
        assert!(close(s.sdf([8.0, 0.0, 0.0]), 3.0, 1e-9));
        assert!(close(s.sdf([0.0, -2.0, 0.0]), -3.0, 1e-9));
        let e = Prim::ellipsoid_rot([1.0, 2.0, 3.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [10.0, 4.0, 2.0]);
        assert!(close(e.sdf([1.0, 2.0, 14.0]), 1.0, 0.05));
        assert!(close(e.sdf([6.0, 2.0, 3.0]), 1.0, 0.05));
        assert!(e.sdf([1.0, 2.0, 3.0]) < 0.0);
        let c = Prim::capsule([0.0; 3], [0.0, 0.0, 10.0], 2.0);
        assert!(close(c.sdf([5.0, 0.0, 5.0]), 3.0, 1e-9));
        assert!(close(c.sdf([0.0, 0.0, 14.0]), 2.0, 1e-9));
        let cone = Prim::cone([0.0; 3], [0.0, 0.0, 20.0], 6.0, 2.0);
        assert!(close(cone.sdf([0.0, 0.0, -7.0]), 1.0, 1e-9));
        assert!(close(cone.sdf([0.0, 0.0, 23.0]), 1.0, 1e-9));
        assert!(cone.sdf([3.9, 0.0, 10.0]) < 0.0 && cone.sdf([4.5, 0.0, 10.0]) > 0.0);
        let l = Prim::lathe(
            [0.0; 3],
            [0.0, 0.0, 30.0],
            [1.0, 0.0, 0.0],
            &[[0.0, 10.0, 5.0], [30.0, 10.0, 5.0]],
            Section::Ellipse,
            1.0,
        );
        assert!(close(l.sdf([12.0, 0.0, 15.0]), 2.0, 0.05));
        assert!(close(l.sdf([0.0, 6.0, 15.0]), 1.0, 0.05));
        assert!(close(l.sdf([0.0, 0.0, 32.0]), 2.0, 0.05));
        let b = Prim::rbox([0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [3.0, 2.0, 1.0], 0.5);
        assert!(close(b.sdf([5.0, 0.0, 0.0]), 2.0, 1e-9));
        for p in [&s, &e, &c, &cone, &l, &b] {
            // Every surface point lies in the box: probe along the axes from the box centre.
            let m = p.bbox.centre();
            for a in 0..3 {
                let mut q = m;
                q[a] = p.bbox.hi[a] + 0.01;
                assert!(p.sdf(q) > 0.0);
            }
        }
    }

    #[test]
    fn shape_union_and_cut() {
        let sh =
            Shape::union(vec![Prim::ellipsoid([0.0; 3], [5.0; 3]), Prim::ellipsoid([30.0, 0.0, 0.0], [5.0; 3])], 2.0)
                .minus(Prim::ellipsoid([0.0; 3], [2.0; 3]));
        assert!(sh.sdf([0.0; 3]) > 0.0);
        assert!(sh.sdf([3.5, 0.0, 0.0]) < 0.0);
        assert!(sh.sdf([30.0, 0.0, 0.0]) < 0.0);
        assert!(sh.sdf([15.0, 0.0, 0.0]) > 0.0);
        assert!(sh.sdf([100.0, 0.0, 0.0]) > 50.0);
    }
}
