//! The windowed check: the median of the last window against the median of the first, with a
//! noise floor from the windows' median absolute deviation.
//!
//! This is the second opinion on a slope. Chromium's perf dashboard calls a change real when it is
//! at least 2.5 standard deviations with at least six points on each side; here the standard
//! deviation is estimated robustly (1.4826 × MAD around each window's own median, pooled), so a
//! sawtooth's teeth or a few spikes widen the floor instead of faking a change.

use super::stats::{MAD_TO_SIGMA, median};
use serde::{Deserialize, Serialize};

/// Standard deviations a change must exceed to count.
pub(crate) const NOISE_SIGMAS: f64 = 2.5;
/// The fewest samples per window.
pub(crate) const MIN_WINDOW: usize = 6;

/// The first and last windows of the judged samples, compared.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
/// let s = Series::from_samples(SeriesKind::Rss, (0..100).map(|i| Sample::new(i as f64, 1e6 + 1e4 * i as f64)));
/// let v = analyze(&TrendConfig::new(), &[s])?;
/// let w = v.evidence.windows.unwrap();
/// assert!(w.significant && w.last_median_bytes > w.first_median_bytes);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Windows {
    /// Samples in each window: a tenth of the judged samples, at least 6 (fewer only when there are
    /// under 12 samples).
    pub samples_per_window: usize,
    /// The median of the first window, in bytes.
    pub first_median_bytes: f64,
    /// The median of the last window, in bytes.
    pub last_median_bytes: f64,
    /// `last_median_bytes - first_median_bytes`.
    pub change_bytes: f64,
    /// The change relative to the first median (`0.05` is 5%); `None` when that median is not
    /// positive.
    pub relative_change: Option<f64>,
    /// The noise's standard deviation, estimated as 1.4826 × the pooled MAD of both windows.
    pub noise_sigma_bytes: f64,
    /// The change that counts: 2.5 × `noise_sigma_bytes`.
    pub noise_floor_bytes: f64,
    /// Whether the change is an increase above the noise floor.
    pub significant: bool,
}

/// Compares the first and last windows of `ys` (sorted by x); `ys` must hold at least 2 samples.
pub(crate) fn compare(ys: &[f64]) -> Windows {
    let n = ys.len();
    debug_assert!(n >= 2);
    let w = (n / 10).max(MIN_WINDOW).min(n / 2);
    let (first, last) = (&ys[..w], &ys[n - w..]);
    let (m1, m2) = (median(first), median(last));
    let mut deviations: Vec<f64> = first.iter().map(|y| (y - m1).abs()).collect();
    deviations.extend(last.iter().map(|y| (y - m2).abs()));
    let sigma = MAD_TO_SIGMA * median(&deviations);
    let change = m2 - m1;
    let floor = NOISE_SIGMAS * sigma;
    Windows {
        samples_per_window: w,
        first_median_bytes: m1,
        last_median_bytes: m2,
        change_bytes: change,
        relative_change: (m1 > 0.0).then(|| change / m1),
        noise_sigma_bytes: sigma,
        noise_floor_bytes: floor,
        significant: change > 0.0 && change > floor,
    }
}
