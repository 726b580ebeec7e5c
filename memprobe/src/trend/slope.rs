//! The robust slope: Theil–Sen (the median of all pairwise slopes) with Sen's distribution-free
//! 95% confidence interval.
//!
//! Theil–Sen ignores up to 29% of wild points and needs no noise model; Sen's interval comes from
//! the null distribution of Kendall's S, corrected for ties in x. It assumes independent errors
//! and untied values, which memory series rarely give (autocorrelated noise, quantised RSS, a
//! ratchet's flat stretches pull it towards zero), so [`analyze`](super::analyze) no longer uses
//! it: the verdict's slope is least squares on aggregated points with an interval widened for
//! autocorrelation (see the module docs of [`trend`](super)). It stays here as a tool for
//! independent data, and [`Estimate`] is the shape of every interval the engine reports.

use super::stats::median_in_place;
use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// A point estimate with its 95% confidence interval, `low ≤ value ≤ high`.
///
/// # Examples
///
/// ```
/// use memprobe::trend::theil_sen;
/// let e = theil_sen(&[0.0, 1.0, 2.0], &[5.0, 7.0, 9.0]).unwrap();
/// assert_eq!((e.low, e.value, e.high), (2.0, 2.0, 2.0));
/// assert!(e.excludes_zero());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// The lower end of the 95% confidence interval.
    pub low: f64,
    /// The upper end of the 95% confidence interval.
    pub high: f64,
}

impl Estimate {
    /// Whether the confidence interval lies wholly above or wholly below zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = memprobe::trend::theil_sen(&[0.0, 1.0, 2.0], &[1.0, 0.0, 1.0]).unwrap();
    /// assert!(!e.excludes_zero());
    /// ```
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }

    /// Every figure multiplied by `factor`; the interval's ends swap when it is negative.
    pub(crate) fn scaled(self, factor: f64) -> Estimate {
        let (a, b) = (self.low * factor, self.high * factor);
        Estimate {
            value: self.value * factor,
            low: a.min(b),
            high: a.max(b),
        }
    }
}

/// The Theil–Sen slope of `ys` against `xs`, with Sen's 95% confidence interval; `None` when no
/// two points differ in x (or the slices differ in length).
///
/// Cost and memory are quadratic in the number of points: thin long series first (the verdict
/// engine fits at most [`TrendConfig::max_points`](super::TrendConfig::max_points) block medians).
///
/// # Examples
///
/// ```
/// use memprobe::trend::theil_sen;
/// // One wild point does not move the slope.
/// let xs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
/// let ys = [0.0, 10.0, 20.0, 1e9, 40.0, 50.0];
/// assert_eq!(theil_sen(&xs, &ys).unwrap().value, 10.0);
/// assert!(theil_sen(&[1.0, 1.0], &[0.0, 5.0]).is_none());
/// ```
pub fn theil_sen(xs: &[f64], ys: &[f64]) -> Option<Estimate> {
    let n = xs.len();
    if n != ys.len() || n < 2 {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        let (xi, yi) = (xs[i], ys[i]);
        for j in i + 1..n {
            let dx = xs[j] - xi;
            if dx != 0.0 {
                slopes.push((ys[j] - yi) / dx);
            }
        }
    }
    let count = slopes.len();
    if count == 0 {
        return None;
    }
    // Var(S) of Kendall's S with the tie correction for x (y ties are rare in byte counts).
    let mut sorted_x = xs.to_vec();
    sorted_x.sort_unstable_by(f64::total_cmp);
    let term = |t: f64| t * (t - 1.0) * (2.0 * t + 5.0);
    let ties: f64 = sorted_x
        .chunk_by(|a, b| a == b)
        .map(|g| g.len())
        .filter(|&t| t > 1)
        .map(|t| term(t as f64))
        .sum();
    let var_s = ((term(n as f64) - ties) / 18.0).max(0.0);
    let c = Z_95 * var_s.sqrt();
    let total = count as f64;
    let low_rank = (((total - c) / 2.0) - 1.0).floor().clamp(0.0, total - 1.0) as usize;
    let high_rank = ((total + c) / 2.0).ceil().clamp(0.0, total - 1.0) as usize;

    // Three order statistics by selection: the median splits the slopes, and each bound is then
    // selected within its own side.
    let mid = count / 2;
    // `median_in_place` selects at `mid`, leaving the slopes partitioned around it.
    let value = median_in_place(&mut slopes);
    let (left, at_mid, right) = {
        let (l, r) = slopes.split_at_mut(mid);
        let (m, r) = r.split_first_mut().expect("count > mid");
        (l, *m, r)
    };
    let low = if low_rank < mid {
        *left.select_nth_unstable_by(low_rank, f64::total_cmp).1
    } else if low_rank == mid {
        at_mid
    } else {
        *right
            .select_nth_unstable_by(low_rank - mid - 1, f64::total_cmp)
            .1
    };
    let high = if high_rank > mid {
        *right
            .select_nth_unstable_by(high_rank - mid - 1, f64::total_cmp)
            .1
    } else if high_rank == mid {
        at_mid
    } else {
        *left.select_nth_unstable_by(high_rank, f64::total_cmp).1
    };
    Some(Estimate {
        value,
        low: low.min(value),
        high: high.max(value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_true_slope_on_noisy_data() {
        // Deterministic "noise": a fixed pseudo-random sequence.
        let mut state = 12345u64;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let xs: Vec<f64> = (0..200).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x + 100.0 * noise()).collect();
        let e = theil_sen(&xs, &ys).unwrap();
        assert!(e.low < 3.0 && 3.0 < e.high, "{e:?}");
        assert!(e.low > 0.0, "{e:?}");
    }

    #[test]
    fn even_count_takes_the_middle_mean() {
        let e = theil_sen(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.0, 4.0, 3.0]).unwrap();
        // Slopes: 1, 2, 1, 3, 1, -1 → sorted -1 1 1 1 2 3 → median 1.
        assert_eq!(e.value, 1.0);
    }
}
