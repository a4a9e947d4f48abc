//! 3-vectors in world millimetres (RAS+), shared by the atlas parcellation and the phantom's
//! geometry.

/// A point or vector in world millimetres.
pub type V3 = [f64; 3];

/// `a + b`.
#[inline]
pub fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `a - b`.
#[inline]
pub fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// `a * s`.
#[inline]
pub fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// `a + d * s`.
#[inline]
pub fn along(a: V3, d: V3, s: f64) -> V3 {
    [a[0] + d[0] * s, a[1] + d[1] * s, a[2] + d[2] * s]
}

/// Dot product.
#[inline]
pub fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Euclidean length.
#[inline]
pub fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

/// `a` scaled to unit length.
pub fn unit(a: V3) -> V3 {
    let n = norm(a);
    debug_assert!(n > 0.0, "zero vector has no direction");
    scale(a, 1.0 / n)
}

/// Cross product.
pub fn cross(a: V3, b: V3) -> V3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// The mean of `points`; the origin when there are none.
pub fn mean(points: &[V3]) -> V3 {
    let n = points.len().max(1) as f64;
    scale(points.iter().fold([0.0; 3], |s, p| add(s, *p)), 1.0 / n)
}
