//! Period detection: does the series repeat (a batch built and dropped, a cache flushed on a
//! timer, a collector's cycle), and how long is one cycle?
//!
//! After removing the least-squares line, the autocorrelation's first clear peak after it
//! crosses zero gives a candidate lag; the periodogram must confirm it: the power at that
//! frequency must stand well above the power at neighbouring frequencies (AUTOPERIOD, Vlachos et
//! al. 2005). Red noise (AR(1), random walks) has bumps in its autocorrelation but a smooth
//! spectrum, so it fails the second test; a jittered period keeps a broad autocorrelation peak
//! and a strong spectral line, so it passes both.

/// Autocorrelation a peak must reach.
const MIN_ACF: f64 = 0.3;
/// How many times the neighbouring frequencies' median power the candidate must have.
const MIN_POWER_RATIO: f64 = 6.0;
/// The shortest period, in points: a tooth must be resolved.
const MIN_LAG: usize = 3;

/// The period found, in points (fractional), with its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Found {
    /// One cycle, in points.
    pub lag: f64,
    /// The autocorrelation at the peak.
    pub acf: f64,
}

/// The period of `ys` (evenly spaced points), if one is clear; needs two cycles in the data.
pub(crate) fn detect(ys: &[f64]) -> Option<Found> {
    let n = ys.len();
    if n < 4 * MIN_LAG {
        return None;
    }
    // Detrend.
    let nf = n as f64;
    let mx = (nf - 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mx;
        sxx += dx * dx;
        sxy += dx * (y - my);
    }
    let b = sxy / sxx;
    let r: Vec<f64> = ys
        .iter()
        .enumerate()
        .map(|(i, y)| y - my - b * (i as f64 - mx))
        .collect();
    let energy: f64 = r.iter().map(|v| v * v).sum();
    if energy.is_nan() || energy <= 0.0 {
        return None;
    }
    let max_lag = n / 2;
    // PERF: direct sums, O(n × n/2) on at most 2048 points: about a millisecond, no FFT needed.
    let acf: Vec<f64> = (0..=max_lag + 1)
        .map(|k| {
            if k >= n {
                return 0.0;
            }
            r[..n - k]
                .iter()
                .zip(&r[k..])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / energy
        })
        .collect();
    let zero = (1..=max_lag).find(|&k| acf[k] < 0.0)?;
    let highest = acf[zero..=max_lag]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if highest < MIN_ACF {
        return None;
    }
    let peak = (zero.max(MIN_LAG)..=max_lag)
        .find(|&k| acf[k] >= acf[k - 1] && acf[k] >= acf[k + 1] && acf[k] >= 0.8 * highest)?;
    // Parabolic refinement around the peak.
    let (a, c, e) = (acf[peak - 1], acf[peak], acf[peak + 1]);
    let curvature = a - 2.0 * c + e;
    let offset = if curvature < 0.0 {
        (0.5 * (a - e) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let lag = peak as f64 + offset;
    // The periodogram must confirm a line at 1/lag.
    let power = |cycles: f64| {
        let w = std::f64::consts::TAU * cycles / nf;
        let (mut re, mut im) = (0.0, 0.0);
        for (i, v) in r.iter().enumerate() {
            let (s, c) = (w * i as f64).sin_cos();
            re += v * c;
            im -= v * s;
        }
        re * re + im * im
    };
    let f = nf / lag;
    let line = [0.97, 1.0, 1.03]
        .iter()
        .map(|k| power(f * k))
        .fold(0.0, f64::max);
    let mut around: Vec<f64> = [0.55, 0.62, 0.7, 0.78, 1.3, 1.4, 1.5, 1.6]
        .iter()
        .map(|k| power(f * k))
        .collect();
    around.sort_unstable_by(f64::total_cmp);
    let background = (around[3] + around[4]) / 2.0;
    (line > MIN_POWER_RATIO * background).then_some(Found { lag, acf: c })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_sawtooth_and_not_a_line_or_a_step() {
        let saw: Vec<f64> = (0..400)
            .map(|i| (i % 20) as f64 + 0.01 * i as f64)
            .collect();
        let found = detect(&saw).unwrap();
        assert!((found.lag - 20.0).abs() < 0.5, "{found:?}");
        let line: Vec<f64> = (0..400).map(f64::from).collect();
        assert_eq!(detect(&line), None);
        let step: Vec<f64> = (0..400).map(|i| if i < 150 { 0.0 } else { 1.0 }).collect();
        assert_eq!(detect(&step), None);
    }
}
