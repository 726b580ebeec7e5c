//! What the verdict engine is asked: the warm-up to drop, the growth that fails, and the
//! minimum evidence needed before it judges at all.

use super::series::SeriesChoice;
use super::vocab::Warmup;
use crate::error::{Error, Result};
use crate::units::{Growth, percent};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How [`analyze`](super::analyze) judges a run.
///
/// Defaults: a 20% warm-up, growth fails above 5% of the first window's mean, at least 20
/// samples after the warm-up, no minimum duration, [`SeriesChoice::Auto`], plateau detection on,
/// fragmentation fails. The decision rule is in the [`trend`](super) module docs.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{TrendConfig, Warmup};
/// let config = TrendConfig::new()
///     .warmup("30s".parse()?)
///     .fail_if_growth("64 MiB".parse()?)
///     .allow_fragmentation(true);
/// assert_eq!(config.fail_if_growth.len(), 1);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrendConfig {
    /// The start of the run that is dropped before judging.
    pub warmup: Warmup,
    /// Growth over the run fails only when it exceeds every threshold here (percentages are of the
    /// first post-warm-up window's mean, whole cycles when the series is periodic). An empty list
    /// fails on any significant growth, and a pass then needs both intervals at or below zero.
    /// Growth that stops and holds a plateau passes (see the [`trend`](super) module docs).
    pub fail_if_growth: Vec<Growth>,
    /// Report fragmentation (resident memory grows while allocated memory is flat) but exit 0.
    pub allow_fragmentation: bool,
    /// The fewest samples after the warm-up that can be judged (at least 12: 6 per window).
    pub min_samples: usize,
    /// The shortest time after the warm-up that can be judged.
    pub min_duration: Duration,
    /// Which series to judge.
    pub series: SeriesChoice,
    /// Look for the start of a plateau (a step or a ramp that then stays flat) before judging.
    pub plateau_detection: bool,
    /// The slope is fitted on at most this many aggregated points (the engine uses 12 to 64
    /// block means, or one point per cycle of a periodic series); a lower value caps the blocks.
    pub max_points: usize,
}

/// The smallest [`TrendConfig::min_samples`]: six per window, as Chromium's perf dashboard asks.
pub(crate) const MIN_SAMPLES_FLOOR: usize = 12;

impl Default for TrendConfig {
    fn default() -> Self {
        TrendConfig {
            warmup: Warmup::default(),
            fail_if_growth: vec![Growth::Percent(5.0)],
            allow_fragmentation: false,
            min_samples: 20,
            min_duration: Duration::ZERO,
            series: SeriesChoice::Auto,
            plateau_detection: true,
            max_points: 500,
        }
    }
}

impl TrendConfig {
    /// The defaults (see [`TrendConfig`]).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::trend::TrendConfig::new().min_samples, 20);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the warm-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{TrendConfig, Warmup};
    /// assert_eq!(TrendConfig::new().warmup(Warmup::None).warmup, Warmup::None);
    /// ```
    pub fn warmup(mut self, warmup: Warmup) -> Self {
        self.warmup = warmup;
        self
    }

    /// Growth fails above `threshold` (replacing the thresholds set before).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::{trend::TrendConfig, units::Growth};
    /// let c = TrendConfig::new().fail_if_growth(Growth::Bytes(1 << 20));
    /// assert_eq!(c.fail_if_growth, [Growth::Bytes(1 << 20)]);
    /// ```
    pub fn fail_if_growth(mut self, threshold: Growth) -> Self {
        self.fail_if_growth = vec![threshold];
        self
    }

    /// Growth fails only above every one of `thresholds`, e.g. both 5% and 1 MiB, so a tiny heap
    /// does not fail on a few KiB and a huge one does not fail on a rounding error.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::{trend::TrendConfig, units::Growth};
    /// let c = TrendConfig::new().fail_if_growth_all([Growth::Percent(5.0), Growth::Bytes(1 << 20)]);
    /// assert_eq!(c.fail_if_growth.len(), 2);
    /// ```
    pub fn fail_if_growth_all(mut self, thresholds: impl IntoIterator<Item = Growth>) -> Self {
        self.fail_if_growth = thresholds.into_iter().collect();
        self
    }

    /// Sets whether fragmentation passes (exit code 0) instead of failing like growth.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::trend::TrendConfig::new().allow_fragmentation(true).allow_fragmentation);
    /// ```
    pub fn allow_fragmentation(mut self, allow: bool) -> Self {
        self.allow_fragmentation = allow;
        self
    }

    /// Sets the fewest samples judged after the warm-up (raised to 12 if lower).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::trend::TrendConfig::new().min_samples(100).min_samples, 100);
    /// assert_eq!(memprobe::trend::TrendConfig::new().min_samples(3).min_samples, 12);
    /// ```
    pub fn min_samples(mut self, min_samples: usize) -> Self {
        self.min_samples = min_samples.max(MIN_SAMPLES_FLOOR);
        self
    }

    /// Sets the shortest time judged after the warm-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = memprobe::trend::TrendConfig::new().min_duration(Duration::from_secs(60));
    /// assert_eq!(c.min_duration.as_secs(), 60);
    /// ```
    pub fn min_duration(mut self, min_duration: Duration) -> Self {
        self.min_duration = min_duration;
        self
    }

    /// Sets which series is judged.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{SeriesChoice, SeriesKind, TrendConfig};
    /// let c = TrendConfig::new().series(SeriesChoice::Kind(SeriesKind::Rss));
    /// assert_eq!(c.series, SeriesChoice::Kind(SeriesKind::Rss));
    /// ```
    pub fn series(mut self, series: SeriesChoice) -> Self {
        self.series = series;
        self
    }

    /// Turns the search for a plateau's start on or off.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!memprobe::trend::TrendConfig::new().plateau_detection(false).plateau_detection);
    /// ```
    pub fn plateau_detection(mut self, on: bool) -> Self {
        self.plateau_detection = on;
        self
    }

    /// Sets how many block means the slope is fitted on at most (raised to 12 if lower; the
    /// engine uses at most 64 whatever this says).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::trend::TrendConfig::new().max_points(2000).max_points, 2000);
    /// ```
    pub fn max_points(mut self, max_points: usize) -> Self {
        self.max_points = max_points.max(MIN_SAMPLES_FLOOR);
        self
    }

    /// Checks the settings that a struct literal or deserialization could have set out of range.
    pub(crate) fn validate(&self) -> Result<()> {
        if let Warmup::Share(s) = self.warmup {
            if !(0.0..1.0).contains(&s) {
                return Err(Error::InvalidInput {
                    kind: "warm-up share",
                    input: format!("{}%", percent(s)),
                    expected: "a share from 0% to below 100%, e.g. `20%`",
                });
            }
        }
        for g in &self.fail_if_growth {
            if let Growth::Percent(p) = *g {
                if !(p.is_finite() && p >= 0.0) {
                    return Err(Error::InvalidInput {
                        kind: "growth threshold",
                        input: g.to_string(),
                        expected: "a finite, non-negative percentage such as `5%`, or a size such as `64 MiB`",
                    });
                }
            }
        }
        Ok(())
    }
}
