//! The windowed check: the first window of the judged run against the last, the second opinion
//! on a slope.
//!
//! Windows hold aggregated points (block means, or one mean per whole cycle when the series is
//! periodic, so a window is a whole number of periods and its level does not depend on the
//! phase). The shift between them is the Hodges–Lehmann estimate with its interval (see
//! `fit::shift`); the medians and the noise floor (2.5 σ, σ = 1.4826 × the pooled MAD, as
//! Chromium's perf dashboard counts a change) are kept for people reading the evidence.

use super::fit;
use super::slope::Estimate;
use super::stats::{MAD_TO_SIGMA, median};
use serde::{Deserialize, Serialize};

/// Standard deviations a change must exceed to count.
pub(crate) const NOISE_SIGMAS: f64 = 2.5;

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
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Windows {
    /// Samples in each window (the samples behind its points).
    pub samples_per_window: usize,
    /// Aggregated points in each window (block means, or cycles when periodic).
    #[serde(default)]
    pub points_per_window: usize,
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
    /// Whether the change is an increase: the shift's interval lies above zero.
    pub significant: bool,
    /// The Hodges–Lehmann shift from the first window's points to the last's, with its 95%
    /// interval (widened for autocorrelation), in bytes; absent in files written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_bytes: Option<Estimate>,
}

/// Compares the points of the first window with those of the last.
pub(crate) fn compare(
    first: &[f64],
    last: &[f64],
    samples_per_window: usize,
    inflation: f64,
) -> Windows {
    let (m1, m2) = (median(first), median(last));
    let mut deviations: Vec<f64> = first.iter().map(|y| (y - m1).abs()).collect();
    deviations.extend(last.iter().map(|y| (y - m2).abs()));
    let sigma = MAD_TO_SIGMA * median(&deviations);
    let change = m2 - m1;
    let shift = fit::shift(first, last, inflation);
    Windows {
        samples_per_window,
        points_per_window: first.len(),
        first_median_bytes: m1,
        last_median_bytes: m2,
        change_bytes: change,
        relative_change: (m1 > 0.0).then(|| change / m1),
        noise_sigma_bytes: sigma,
        noise_floor_bytes: NOISE_SIGMAS * sigma,
        significant: shift.low > 0.0,
        shift_bytes: Some(shift),
    }
}
