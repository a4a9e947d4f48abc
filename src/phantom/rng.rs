//! Deterministic randomness for the phantom, written here so that the output never depends on
//! an external crate's algorithm or on the number of threads.
//!
//! Two kinds are used:
//! - [`SplitMix64`], a sequential stream, for the few decisions taken once per phantom (lesion
//!   sites, sizes, shapes, bias-field phases); it is only ever used on one thread.
//! - Stateless hashing ([`hash2`], [`hash3`]) of (seed, voxel index, channel) for per-voxel noise
//!   and of (seed, lattice point) for [`ValueNoise`], so any voxel can be computed on any thread
//!   in any order and still get the same value.

/// The SplitMix64 output function (Steele, Lea and Flood 2014): a bijective 64-bit mixer.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hash of two words.
#[inline]
pub fn hash2(a: u64, b: u64) -> u64 {
    mix64(mix64(a.wrapping_add(GOLDEN)) ^ b.wrapping_mul(GOLDEN).wrapping_add(0x632b_e59b_d9b4_e019))
}

/// Hash of three words.
#[inline]
pub fn hash3(a: u64, b: u64, c: u64) -> u64 {
    hash2(hash2(a, b), c)
}

/// Maps a hash to a uniform number in [0, 1) (53 random bits).
#[inline]
pub fn unit_f64(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Two independent standard normal numbers from two hashes (Box-Muller).
#[inline]
pub fn gauss_pair(h1: u64, h2: u64) -> (f64, f64) {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - unit_f64(h1);
    let u2 = unit_f64(h2);
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

/// A sequential pseudo-random stream (SplitMix64).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A stream for `seed`, decorrelated from other uses of the same seed by `stream`.
    pub fn new(seed: u64, stream: u64) -> SplitMix64 {
        SplitMix64 { state: hash2(seed, stream) }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in [-1, 1).
    pub fn signed(&mut self) -> f64 {
        2.0 * self.unit() - 1.0
    }

    /// A uniformly distributed unit vector.
    pub fn direction(&mut self) -> [f64; 3] {
        loop {
            let v = [self.signed(), self.signed(), self.signed()];
            let n2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
            if n2 > 1e-6 && n2 <= 1.0 {
                let n = n2.sqrt();
                return [v[0] / n, v[1] / n, v[2] / n];
            }
        }
    }

    /// Index drawn with probability proportional to `weights` (non-negative, not all zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }
}

/// Smooth 3-D value noise in [-1, 1]: random values on a cubic lattice of `cell` mm, blended
/// with a smoothstep so that it has no visible lattice seams at voxel scale.
#[derive(Clone, Copy, Debug)]
pub struct ValueNoise {
    seed: u64,
    inv_cell: f64,
}

impl ValueNoise {
    /// Noise with lattice spacing `cell` (mm), seeded by `seed`.
    pub fn new(seed: u64, cell: f64) -> ValueNoise {
        ValueNoise { seed, inv_cell: 1.0 / cell }
    }

    #[inline]
    fn lattice(&self, i: i64, j: i64, k: i64) -> f64 {
        let h = hash3(self.seed, (i as u64) ^ ((j as u64) << 21), (k as u64).wrapping_mul(0x0001_0000_01b3));
        2.0 * unit_f64(h) - 1.0
    }

    /// Noise value at world position `p` (mm).
    pub fn at(&self, p: [f64; 3]) -> f64 {
        let f = [p[0] * self.inv_cell, p[1] * self.inv_cell, p[2] * self.inv_cell];
        let b = [f[0].floor(), f[1].floor(), f[2].floor()];
        let t = [f[0] - b[0], f[1] - b[1], f[2] - b[2]];
        let s = t.map(|x| x * x * (3.0 - 2.0 * x));
        let (i, j, k) = (b[0] as i64, b[1] as i64, b[2] as i64);
        let mut acc = 0.0;
        for dk in 0..2 {
            let wk = if dk == 0 { 1.0 - s[2] } else { s[2] };
            for dj in 0..2 {
                let wj = if dj == 0 { 1.0 - s[1] } else { s[1] };
                for di in 0..2 {
                    let wi = if di == 0 { 1.0 - s[0] } else { s[0] };
                    acc += wi * wj * wk * self.lattice(i + di, j + dj, k + dk);
                }
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_roughly_uniform() {
        let mut a = SplitMix64::new(7, 1);
        let mut b = SplitMix64::new(7, 1);
        let mut c = SplitMix64::new(8, 1);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        let mut r = SplitMix64::new(1, 2);
        let mean = (0..10_000).map(|_| r.unit()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        let (mut s1, mut s2) = (0.0, 0.0);
        for n in 0..20_000u64 {
            let (g, _) = gauss_pair(hash3(3, n, 0), hash3(3, n, 1));
            s1 += g;
            s2 += g * g;
        }
        let (m, v) = (s1 / 20_000.0, s2 / 20_000.0);
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
        let noise = ValueNoise::new(5, 10.0);
        for n in 0..1000 {
            let v = noise.at([n as f64 * 0.37, -(n as f64) * 0.11, 3.0]);
            assert!((-1.0..=1.0).contains(&v));
        }
    }
}
