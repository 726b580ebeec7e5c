//! Medians and interquartile ranges of per-round figures: the one summary every table uses.

/// The median and the interquartile range of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The first quartile.
    pub q1: f64,
    /// The third quartile.
    pub q3: f64,
}

/// Summarises `values` (nearest-rank quartiles).
///
/// # Examples
/// ```
/// let s = bench_peers::stats::spread(&[5.0, 1.0, 3.0, 2.0, 4.0]);
/// assert_eq!((s.q1, s.median, s.q3), (2.0, 3.0, 4.0));
/// ```
///
/// # Panics
/// On an empty slice.
pub fn spread(values: &[f64]) -> Spread {
    assert!(!values.is_empty(), "bench-peers: no values to summarise");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    Spread {
        median: q(0.5),
        q1: q(0.25),
        q3: q(0.75),
    }
}

/// Per-round ratios `a[i] / b[i]`, summarised.
///
/// # Examples
/// ```
/// let s = bench_peers::stats::ratio_spread(&[2.0, 4.0, 6.0], &[1.0, 2.0, 2.0]);
/// assert_eq!(s.median, 2.0);
/// ```
pub fn ratio_spread(a: &[f64], b: &[f64]) -> Spread {
    let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    spread(&r)
}
