//! The figures behind a verdict ([`Evidence`]): the axis the series was judged on, the samples
//! used, slopes, windows, thresholds, and what was found in its shape (a [`Period`], [`Step`]s, a
//! [`Plateau`]). Plain data, serialized into the daemon's summary.

use super::series::SeriesKind;
use super::slope::Estimate;
use super::vocab::Warmup;
use super::window::Windows;
use crate::units::Growth;
use serde::{Deserialize, Serialize};

/// The x-axis a series was judged on.
///
/// # Examples
///
/// ```
/// use memprobe::trend::Axis;
/// assert_eq!(Axis::Iterations.unit(), "iteration");
/// assert_eq!(Axis::Seconds.unit(), "s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Iterations completed: bytes per iteration do not depend on the machine's speed.
    Iterations,
    /// Monotonic time in seconds.
    Seconds,
}

impl Axis {
    /// The unit of one step along the axis, as shown in rates (`KiB/s`, `B/iteration`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::trend::Axis::Seconds.unit(), "s");
    /// ```
    pub fn unit(self) -> &'static str {
        match self {
            Axis::Iterations => "iteration",
            Axis::Seconds => "s",
        }
    }
}

/// The figures behind a verdict on one series.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, Axis, Sample, Series, SeriesKind, TrendConfig, Warmup};
/// let s = Series::from_samples(
///     SeriesKind::AllocatorLive,
///     (0..100u64).map(|i| Sample::new(i as f64 * 0.1, 1e6 + 64.0 * i as f64).with_iteration(i)),
/// );
/// let e = analyze(&TrendConfig::new().warmup(Warmup::None), &[s])?.evidence;
/// assert_eq!(e.axis, Axis::Iterations);
/// assert_eq!(e.slope_per_iteration.unwrap().value, 64.0);
/// assert!((e.slope_per_sec.unwrap().value - 640.0).abs() < 1e-6);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Evidence {
    /// The series judged.
    pub series: SeriesKind,
    /// The x-axis of the slope: iterations when every sample carries one, else seconds.
    pub axis: Axis,
    /// Samples in the series.
    pub samples_total: usize,
    /// Samples judged: after the warm-up and, when a plateau was found, from its start.
    pub samples_used: usize,
    /// The warm-up asked for.
    pub warmup: Warmup,
    /// Samples the warm-up dropped.
    pub warmup_dropped: usize,
    /// Seconds the warm-up dropped.
    pub warmup_secs: f64,
    /// Seconds from the first to the last sample after the warm-up.
    pub duration_secs: f64,
    /// Iterations from the first to the last sample after the warm-up, when marked.
    pub iterations: Option<u64>,
    /// Where the plateau judged starts (on [`axis`](Self::axis)), when one was found.
    pub plateau_start: Option<f64>,
    /// Slope in bytes per second, with its 95% interval (converted at the run's mean iteration
    /// rate when judged on iterations).
    pub slope_per_sec: Option<Estimate>,
    /// Slope in bytes per iteration, with its 95% interval, when samples carry iterations.
    pub slope_per_iteration: Option<Estimate>,
    /// Growth over the run after the warm-up (slope × span), with its 95% interval, in bytes.
    pub projected_growth_bytes: Option<Estimate>,
    /// The first and last windows of the judged samples.
    pub windows: Option<Windows>,
    /// The thresholds that growth must all exceed to fail.
    pub thresholds: Vec<Growth>,
    /// The growth allowed over the run, in bytes: the largest of the thresholds, percentages
    /// taken of the first window's median.
    pub allowance_bytes: Option<f64>,
    /// Remarks on how the verdict was reached (fallbacks, assumptions).
    pub notes: Vec<String>,
    /// The layout of this evidence: [`Evidence::SCHEMA_VERSION`] when written, 1 for files
    /// written before the field existed (they lack every field below, and read as absent).
    #[serde(default = "schema_v1")]
    pub schema_version: u32,
    /// The repeating pattern judged per cycle, when the series has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Changes of level found in the judged run, in order (up to 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// The shift between the first and last windows projected over the run, with its 95%
    /// interval, in bytes: the second opinion the decision needs beside the slope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_shift_bytes: Option<Estimate>,
    /// The plateau the run ends on, when it passed as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plateau: Option<Plateau>,
}

fn schema_v1() -> u32 {
    1
}

/// A repeating pattern: a batch built and dropped, a cache flushed on a timer, a collector's cycle.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
/// // 64 MiB base, a 16 MiB batch built over 2 s and dropped, sampled at 10 Hz for 2 minutes.
/// let s = Series::from_samples(SeriesKind::Rss, (0..1200).map(|i| {
///     let t = i as f64 / 10.0;
///     Sample::new(t, 64.0 * 1048576.0 + 8.0 * 1048576.0 * (t % 2.0))
/// }));
/// let v = analyze(&TrendConfig::new(), &[s])?;
/// let p = v.evidence.period.unwrap();
/// assert!((p.period - 2.0).abs() < 0.1, "{p:?}");
/// assert!(v.passed(), "{v}");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Period {
    /// One cycle, on the evidence's axis (seconds or iterations).
    pub period: f64,
    /// The typical rise and fall within one cycle (median over cycles of the highest minus the
    /// lowest point), in bytes.
    pub amplitude_bytes: f64,
    /// Whole cycles judged.
    pub cycles: usize,
    /// The slope of the cycles' troughs (the floor each cycle returns to), per axis unit, with
    /// its 95% interval: a leak under a sawtooth is rising troughs.
    pub trough_slope: Option<Estimate>,
}

/// One change of level.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
/// // +64 MiB at 80 s of a 200 s run, flat before and after.
/// let s = Series::from_samples(SeriesKind::Rss, (0..2000).map(|i| {
///     let t = i as f64 / 10.0;
///     Sample::new(t, if t < 80.0 { 100e6 } else { 100e6 + 67108864.0 })
/// }));
/// let v = analyze(&TrendConfig::new(), &[s])?;
/// assert_eq!(v.evidence.steps.len(), 1);
/// assert!((v.evidence.steps[0].size_bytes - 67108864.0).abs() < 1e6);
/// assert!((79.0..=81.0).contains(&v.evidence.steps[0].at), "{v}");
/// assert!(v.summary.contains("steps up +64.0 MiB at "), "{v}");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Step {
    /// Where the new level starts, on the evidence's axis.
    pub at: f64,
    /// The new level minus the old one, in bytes.
    pub size_bytes: f64,
}

/// A run that rose, then stayed flat long enough to be believed.
///
/// # Examples
///
/// ```
/// use memprobe::trend::Plateau;
/// let p: Plateau = serde_json::from_str(
///     r#"{"start":5.6,"level_bytes":4404019.0,"rise_bytes":1992294.0,"slope_after":{"value":0.0,"low":-10.0,"high":10.0}}"#,
/// ).unwrap();
/// assert_eq!(p.start, 5.6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Plateau {
    /// Where the flat part starts, on the evidence's axis.
    pub start: f64,
    /// The flat part's level (its mean), in bytes.
    pub level_bytes: f64,
    /// How much the series rose from the first window to the plateau, in bytes.
    pub rise_bytes: f64,
    /// The slope of the flat part, per axis unit, with its 95% interval.
    pub slope_after: Estimate,
}

impl Evidence {
    pub(crate) fn new(
        series: SeriesKind,
        samples_total: usize,
        config: &super::TrendConfig,
    ) -> Self {
        Evidence {
            series,
            axis: Axis::Seconds,
            samples_total,
            samples_used: 0,
            warmup: config.warmup,
            warmup_dropped: 0,
            warmup_secs: 0.0,
            duration_secs: 0.0,
            iterations: None,
            plateau_start: None,
            slope_per_sec: None,
            slope_per_iteration: None,
            projected_growth_bytes: None,
            windows: None,
            thresholds: config.fail_if_growth.clone(),
            allowance_bytes: None,
            notes: Vec::new(),
            schema_version: Self::SCHEMA_VERSION,
            period: None,
            steps: Vec::new(),
            projected_shift_bytes: None,
            plateau: None,
        }
    }

    /// The layout written by this version: 2 added [`period`](Self::period),
    /// [`steps`](Self::steps), [`projected_shift_bytes`](Self::projected_shift_bytes),
    /// [`plateau`](Self::plateau) and the windows' shift.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{analyze, Evidence, Sample, Series, SeriesKind, TrendConfig};
    /// let s = Series::from_samples(SeriesKind::Rss, (0..50).map(|i| Sample::new(i as f64, 1e6)));
    /// let v = analyze(&TrendConfig::new(), &[s])?;
    /// assert_eq!(v.evidence.schema_version, Evidence::SCHEMA_VERSION);
    /// assert_eq!(Evidence::SCHEMA_VERSION, 2);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub const SCHEMA_VERSION: u32 = 2;

    /// The slope on the judged axis.
    pub(super) fn slope(&self) -> Option<Estimate> {
        match self.axis {
            Axis::Iterations => self.slope_per_iteration,
            Axis::Seconds => self.slope_per_sec,
        }
    }
}
