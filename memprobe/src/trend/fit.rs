//! Slopes and shifts whose intervals stay honest on memory series: autocorrelated noise, long
//! runs of tied values (quantised RSS), ratchets and steps.
//!
//! - [`line`]: least squares on *aggregated points* (block means or one mean per cycle), with a
//!   Student-t interval whose variance is inflated for the residuals' lag-1 autocorrelation
//!   (the effective-sample-size correction of Yue & Wang 2004). Least squares has no tie bias
//!   (Theil–Sen's pairs on one level all have slope 0 and pull the median towards 0 on a ratchet),
//!   and aggregated points are close to independent, which the correction finishes.
//! - [`shift`]: the Hodges–Lehmann shift between two windows of points (the median of all
//!   differences) with the Mann–Whitney interval, inflated the same way.

use super::slope::Estimate;

/// z for a two-sided 95% interval.
pub(crate) const Z_95: f64 = 1.959_963_984_540_054;

/// The 97.5% quantile of Student's t with `df` degrees of freedom (fractional allowed).
pub(crate) fn t_975(df: f64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    let df = df.max(1.0);
    if df < 30.0 {
        let lo = df.floor() as usize;
        let w = df - lo as f64;
        TABLE[lo - 1] * (1.0 - w) + TABLE[lo.min(29)] * w
    } else {
        // Cornish–Fisher expansion around the normal quantile.
        let z = Z_95;
        z + (z.powi(3) + z) / (4.0 * df)
            + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df)
    }
}

/// A least-squares line with an autocorrelation-aware interval on its slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Line {
    /// The slope with its 95% interval.
    pub slope: Estimate,
    /// The variance inflation applied for autocorrelation, `(1 + r₁) / (1 − r₁)` (1 when none).
    pub inflation: f64,
}

/// Fits `ys` against `xs` by least squares; `None` with fewer than 3 points or no spread in x.
pub(crate) fn line(xs: &[f64], ys: &[f64]) -> Option<Line> {
    line_on_levels(xs, ys, None)
}

/// [`line`] for points that sit on `levels` flat levels joined by jumps (when `Some`): such a
/// series holds as many independent readings of its trend as it has levels, however many
/// points sit on each (a ratchet's points on one level share its slack), so the interval is
/// Student-t on `levels − 2` degrees of freedom (at least 1) with the variance inflated by the
/// points per level, when that is wider than the lag-1 correction.
pub(crate) fn line_on_levels(xs: &[f64], ys: &[f64], levels: Option<usize>) -> Option<Line> {
    let k = xs.len();
    if k < 3 || k != ys.len() {
        return None;
    }
    let n = k as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let residual = |i: usize| ys[i] - my - b * (xs[i] - mx);
    let (mut sse, mut lag1) = (0.0, 0.0);
    let mut previous = None;
    for i in 0..k {
        let e = residual(i);
        sse += e * e;
        if let Some(p) = previous {
            lag1 += p * e;
        }
        previous = Some(e);
    }
    let r1 = if sse > 0.0 {
        (lag1 / sse).clamp(0.0, 0.9)
    } else {
        0.0
    };
    let mut inflation = (1.0 + r1) / (1.0 - r1);
    let mut df = (n / inflation - 2.0).max(1.0);
    if let Some(levels) = levels.filter(|&l| l < k) {
        inflation = inflation.max(n / levels as f64);
        df = df.min((levels as f64 - 2.0).max(1.0));
    }
    let se = (sse / (n - 2.0) / sxx * inflation).sqrt();
    let half = t_975(df) * se;
    Some(Line {
        slope: Estimate {
            value: b,
            low: b - half,
            high: b + half,
        },
        inflation,
    })
}

/// The squared residuals of `ys` around its least-squares line on `xs` (0 with fewer than 2
/// points or no spread in x).
pub(crate) fn line_sse(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return 0.0;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    xs.iter()
        .zip(ys)
        .map(|(x, y)| (y - my - b * (x - mx)).powi(2))
        .sum()
}

/// The Hodges–Lehmann shift from `first` to `last` (the median of every `last − first`
/// difference) with its Mann–Whitney 95% interval, widened by `inflation` for autocorrelation.
/// With few points the interval is the range of the differences.
pub(crate) fn shift(first: &[f64], last: &[f64], inflation: f64) -> Estimate {
    let mut diffs: Vec<f64> = Vec::with_capacity(first.len() * last.len());
    for b in last {
        for a in first {
            diffs.push(b - a);
        }
    }
    diffs.sort_unstable_by(f64::total_cmp);
    let m = diffs.len();
    let (n1, n2) = (first.len() as f64, last.len() as f64);
    let c = Z_95 * (n1 * n2 * (n1 + n2 + 1.0) / 12.0 * inflation.max(1.0)).sqrt();
    let lo = ((m as f64 / 2.0 - c).floor().max(0.0) as usize).min(m - 1);
    let hi = (((m as f64 / 2.0 + c).ceil() as usize).saturating_sub(1)).min(m - 1);
    let value = if m % 2 == 1 {
        diffs[m / 2]
    } else {
        diffs[m / 2 - 1] + (diffs[m / 2] - diffs[m / 2 - 1]) / 2.0
    };
    Estimate {
        value,
        low: diffs[lo].min(value),
        high: diffs[hi].max(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles() {
        assert_eq!(t_975(1.0), 12.706);
        assert!((t_975(2.5) - (4.303 + 3.182) / 2.0).abs() < 1e-12);
        assert!((t_975(60.0) - 2.000).abs() < 0.002);
        assert!((t_975(1e6) - Z_95).abs() < 1e-4);
    }

    #[test]
    fn an_exact_line_has_a_point_interval() {
        let xs = [0.0, 1.0, 2.0, 3.0];
        let l = line(&xs, &[1.0, 3.0, 5.0, 7.0]).unwrap();
        assert_eq!((l.slope.low, l.slope.value, l.slope.high), (2.0, 2.0, 2.0));
        assert!(line(&[1.0, 1.0, 1.0], &[0.0, 1.0, 2.0]).is_none());
    }

    #[test]
    fn levels_widen_the_interval_of_a_staircase() {
        // Four treads of five points: the line sees 20 points, the trend only four readings.
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let ys: Vec<f64> = (0..20)
            .map(|i| (i / 5) as f64 * 100.0 + [0.0, 1.0, -1.0, 0.5, -0.5][i % 5])
            .collect();
        let plain = line(&xs, &ys).unwrap().slope;
        let stepped = line_on_levels(&xs, &ys, Some(4)).unwrap().slope;
        assert_eq!(plain.value, stepped.value);
        assert!(
            stepped.high - stepped.low > 2.0 * (plain.high - plain.low),
            "{plain:?} {stepped:?}"
        );
        // As many levels as points: nothing to widen.
        assert_eq!(line_on_levels(&xs, &ys, Some(20)).unwrap().slope, plain);
        assert!(line_sse(&xs, &ys) > 0.0);
        assert_eq!(line_sse(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]), 0.0);
    }

    #[test]
    fn shift_is_the_median_difference() {
        let s = shift(&[0.0, 1.0, 2.0], &[10.0, 11.0, 12.0], 1.0);
        assert_eq!(s.value, 10.0);
        assert_eq!((s.low, s.high), (8.0, 12.0));
    }
}
