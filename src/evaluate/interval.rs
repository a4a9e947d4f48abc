//! 95% confidence intervals for the evaluation's two headline counts, so that a figure from
//! four real scans or a dozen phantoms is read with its uncertainty:
//!
//! - a sensitivity, `found` of `lesions`: the Wilson score interval (Wilson 1927; the interval
//!   Brown, Cai and DasGupta 2001 recommend for small counts, which stays inside 0-1 and is
//!   not degenerate at 0 or all found);
//! - false positives per scan, `count` over `scans`: the exact Poisson interval of the count
//!   (Garwood 1936) divided by the scans.
//!
//! Both take the lesions (and the scans' false positives) as independent. Lesions of one
//! patient are not quite (one scan's contrast and noise are shared), so the true spread is
//! somewhat wider: read the intervals as the least uncertainty the counts carry.

/// The standard normal quantile of a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Each tail of a two-sided 95% interval.
const TAIL: f64 = 0.025;

/// The Wilson score interval of a proportion `k / n` at 95% (`None` when `n` is 0).
pub fn wilson(k: usize, n: usize) -> Option<[f64; 2]> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k.min(n) as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // None found or all found: the end at the estimate is exact (the formula's rounding would
    // leave it a hair inside).
    let lo = if k == 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k == n { 1.0 } else { (centre + half).min(1.0) };
    Some([lo, hi])
}

/// The exact 95% interval of a Poisson rate: `count` events over `exposure` units (scans);
/// `None` when `exposure` is 0.
pub fn poisson_rate(count: usize, exposure: usize) -> Option<[f64; 2]> {
    if exposure == 0 {
        return None;
    }
    let [lo, hi] = poisson_mean(count);
    Some([lo / exposure as f64, hi / exposure as f64])
}

/// The exact 95% interval of a Poisson mean from one `count`: the lower end is the mean at
/// which `count` or more has probability 2.5% (0 for a count of 0), the upper end the mean at
/// which `count` or fewer has.
fn poisson_mean(count: usize) -> [f64; 2] {
    let lo = if count == 0 { 0.0 } else { solve_decreasing(|m| poisson_cdf(count - 1, m), 1.0 - TAIL, count) };
    let hi = solve_decreasing(|m| poisson_cdf(count, m), TAIL, count);
    [lo, hi]
}

/// The mean `m` at which `cdf(m)` (decreasing in `m`, 1 at 0) equals `target`, by bisection
/// over a bracket wide enough for a count of `count`.
fn solve_decreasing(cdf: impl Fn(f64) -> f64, target: f64, count: usize) -> f64 {
    let c = count as f64;
    let (mut a, mut b) = (0.0, c + 10.0 * c.sqrt() + 10.0);
    // 200 halvings take any bracket below the spacing of doubles.
    for _ in 0..200 {
        let mid = 0.5 * (a + b);
        if cdf(mid) > target {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

/// P(X <= k) for X Poisson with mean `m`, summed in log space (no underflow at large means).
fn poisson_cdf(k: usize, m: f64) -> f64 {
    if m <= 0.0 {
        return 1.0;
    }
    // The log of each term e^-m m^i / i!, added to the log of the sum so far.
    let log_add = |a: f64, b: f64| a.max(b) + (-(a - b).abs()).exp().ln_1p();
    let (mut log_term, mut log_sum) = (-m, -m);
    for i in 1..=k {
        log_term += m.ln() - (i as f64).ln();
        log_sum = log_add(log_sum, log_term);
    }
    log_sum.exp().min(1.0)
}

/// `0.54-0.81` (three decimals for proportions, two for rates), or `-` when undefined.
pub fn format(ci: Option<[f64; 2]>, decimals: usize) -> String {
    match ci {
        Some([lo, hi]) => format!("{lo:.decimals$}-{hi:.decimals$}"),
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: [f64; 2], want: [f64; 2], tol: f64) {
        assert!((got[0] - want[0]).abs() < tol && (got[1] - want[1]).abs() < tol, "{got:?} vs {want:?}");
    }

    /// Garwood's exact limits as tabulated (and as `scipy.stats.chi2.ppf(0.025, 2k) / 2`,
    /// `chi2.ppf(0.975, 2k + 2) / 2` give them), to the table's four decimals.
    #[test]
    fn poisson_limits_match_the_published_table() {
        let table = [
            (0, [0.0, 3.6889]),
            (1, [0.0253, 5.5716]),
            (4, [1.0899, 10.2416]),
            (5, [1.6235, 11.6683]),
            (10, [4.7954, 18.3904]),
            (106, [86.7841, 128.2039]),
        ];
        for (k, want) in table {
            close(poisson_mean(k), want, 6e-5);
        }
        close(poisson_rate(4, 4).unwrap(), [1.0899 / 4.0, 10.2416 / 4.0], 2e-5);
        assert_eq!(poisson_rate(3, 0), None);
    }

    /// Against a naive oracle: at each end the tail it names holds 2.5% (the CDF summed term
    /// by term in plain floating point, fine at these means).
    #[test]
    fn poisson_limits_leave_two_and_a_half_percent_in_each_tail() {
        let naive_cdf = |k: usize, m: f64| {
            let mut term = (-m).exp();
            let mut sum = term;
            for i in 1..=k {
                term *= m / i as f64;
                sum += term;
            }
            sum
        };
        for k in [1, 2, 3, 7, 20, 60] {
            let [lo, hi] = poisson_mean(k);
            assert!((1.0 - naive_cdf(k - 1, lo) - TAIL).abs() < 1e-9, "k {k} lower");
            assert!((naive_cdf(k, hi) - TAIL).abs() < 1e-9, "k {k} upper");
        }
    }

    /// `scipy.stats.binomtest(k, n).proportion_ci(0.95, "wilson")`, four decimals.
    #[test]
    fn wilson_matches_scipy() {
        let cases = [
            ((27, 39), [0.5358, 0.8143]),
            ((29, 39), [0.5892, 0.8543]),
            ((20, 62), [0.2195, 0.4463]),
            ((0, 10), [0.0, 0.2775]),
            ((10, 10), [0.7225, 1.0]),
            ((1, 1), [0.2065, 1.0]),
        ];
        for ((k, n), want) in cases {
            close(wilson(k, n).unwrap(), want, 6e-5);
        }
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn intervals_hold_their_estimate_and_narrow_with_more_counts() {
        for (k, n) in [(0, 3), (2, 3), (3, 3), (9, 40), (130, 400)] {
            let [lo, hi] = wilson(k, n).unwrap();
            let p = k as f64 / n as f64;
            assert!(lo <= p && p <= hi && (0.0..=1.0).contains(&lo) && hi <= 1.0);
        }
        let width = |ci: Option<[f64; 2]>| ci.map(|[a, b]| b - a).unwrap();
        assert!(width(wilson(30, 40)) < width(wilson(3, 4)));
        assert!(width(poisson_rate(40, 40)) < width(poisson_rate(4, 4)));
        assert_eq!(format(wilson(27, 39), 3), "0.536-0.814");
        assert_eq!(format(None, 2), "-");
    }
}
