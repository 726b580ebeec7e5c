//! The answer: a [`Verdict`] with its [`Evidence`] and one sentence a person reads, plus the exit
//! codes the daemon maps it to. Formatting of that sentence lives here too, apart from the maths.

use super::series::SeriesKind;
use super::slope::Estimate;
use super::vocab::Warmup;
use super::window::Windows;
use crate::units::{ByteAmount, ByteRange, Growth, Seconds as Secs, percent};
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// Why a run could not be judged.
///
/// # Examples
///
/// ```
/// use memprobe::trend::InconclusiveReason;
/// let r = InconclusiveReason::TooFewSamples { got: 8, need: 20, after_warmup: true };
/// assert_eq!(r.to_string(), "only 8 samples after the warm-up, at least 20 needed");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InconclusiveReason {
    /// Fewer samples than [`TrendConfig::min_samples`](super::TrendConfig::min_samples).
    TooFewSamples {
        /// Samples available.
        got: usize,
        /// Samples needed.
        need: usize,
        /// Whether the warm-up dropped some of them.
        after_warmup: bool,
    },
    /// The run after the warm-up is shorter than
    /// [`TrendConfig::min_duration`](super::TrendConfig::min_duration).
    TooShort {
        /// Seconds judged.
        judged_secs: f64,
        /// Seconds needed.
        need_secs: f64,
    },
    /// The warm-up drops every sample.
    WarmupCoversRun {
        /// The warm-up asked for.
        warmup: Warmup,
        /// The run's length in seconds.
        run_secs: f64,
    },
    /// Every sample after the warm-up has the same x (one instant or one iteration).
    NoProgress {
        /// The axis that does not advance.
        axis: Axis,
    },
    /// Growth above the threshold can be neither shown nor ruled out.
    TooNoisy {
        /// Growth over the run projected from the slope, with its 95% interval, in bytes.
        projected_growth_bytes: Estimate,
        /// The growth allowed over the run, in bytes.
        allowance_bytes: f64,
        /// The change the windowed check needs to see, in bytes.
        noise_floor_bytes: f64,
        /// The shift between the first and last windows projected over the run, with its 95%
        /// interval, in bytes (absent in files written before it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        projected_shift_bytes: Option<Estimate>,
    },
    /// The series repeats with a period too long for the run: a rising tooth cannot be told from
    /// growth before three whole cycles.
    TooFewPeriods {
        /// The axis of the period.
        axis: Axis,
        /// One cycle, on the axis.
        period: f64,
        /// Cycles judged.
        cycles: f64,
        /// Cycles needed.
        need_cycles: f64,
    },
    /// No slope could be fitted to the judged samples (too few distinct points).
    NoFit {
        /// Aggregated points available for the fit.
        points: usize,
    },
}

impl fmt::Display for InconclusiveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InconclusiveReason::TooFewSamples {
                got,
                need,
                after_warmup,
            } => {
                let when = if *after_warmup {
                    " after the warm-up"
                } else {
                    ""
                };
                write!(f, "only {got} samples{when}, at least {need} needed")
            }
            InconclusiveReason::TooShort {
                judged_secs,
                need_secs,
            } => write!(
                f,
                "too short: {} judged after the warm-up, at least {} needed",
                Secs(*judged_secs),
                Secs(*need_secs)
            ),
            InconclusiveReason::WarmupCoversRun { warmup, run_secs } => write!(
                f,
                "too short: the {warmup} warm-up covers the whole {} run",
                Secs(*run_secs)
            ),
            InconclusiveReason::NoProgress { axis } => match axis {
                Axis::Iterations => f.write_str("no iteration completes after the warm-up"),
                Axis::Seconds => f.write_str("every sample after the warm-up has the same time"),
            },
            InconclusiveReason::TooFewPeriods {
                axis,
                period,
                cycles,
                need_cycles,
            } => write!(
                f,
                "it repeats every {} but only {:.1} periods were judged: run at least {} periods ({}) after the warm-up",
                length(*axis, *period),
                cycles,
                need_cycles,
                length(*axis, period * need_cycles)
            ),
            InconclusiveReason::NoFit { points } => write!(
                f,
                "no slope can be fitted on {points} distinct points: run longer or sample more often"
            ),
            InconclusiveReason::TooNoisy {
                projected_growth_bytes: p,
                allowance_bytes,
                noise_floor_bytes,
                projected_shift_bytes,
            } => {
                if p.low > 0.0 && p.value > *allowance_bytes {
                    let windows = match projected_shift_bytes {
                        Some(w) => format!(
                            "the windows' shift projects {} (95% CI {})",
                            qty(w.value),
                            range(w.low, w.high, "")
                        ),
                        None => format!(
                            "the last window's median is within the noise floor ({}) of the first's",
                            qty(*noise_floor_bytes)
                        ),
                    };
                    write!(
                        f,
                        "too noisy: the slope projects {} over the run (95% CI {}), above the allowed {}, but {windows}; run longer or sample more often",
                        qty(p.value),
                        range(p.low, p.high, ""),
                        qty(*allowance_bytes),
                    )
                } else {
                    write!(
                        f,
                        "too noisy: growth up to {} over the run (95% CI {}) cannot be ruled out against the allowed {} (noise floor {}); run longer or sample more often",
                        qty(p.high),
                        range(p.low, p.high, ""),
                        qty(*allowance_bytes),
                        qty(*noise_floor_bytes)
                    )
                }
            }
        }
    }
}

/// What the run shows.
///
/// # Examples
///
/// ```
/// use memprobe::trend::VerdictKind;
/// assert_eq!(serde_json::to_string(&VerdictKind::Pass).unwrap(), r#"{"verdict":"pass"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "verdict", rename_all = "snake_case")]
#[non_exhaustive]
pub enum VerdictKind {
    /// Flat, or a plateau: no growth above the threshold.
    Pass,
    /// The judged series keeps growing above the threshold: a leak or unbounded cache.
    Growth,
    /// Resident memory grows above the threshold while allocated memory stays flat: the allocator
    /// retains or fragments memory; not a leak in the program.
    Fragmentation,
    /// The run cannot be judged.
    Inconclusive {
        /// Why.
        reason: InconclusiveReason,
    },
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
    fn slope(&self) -> Option<Estimate> {
        match self.axis {
            Axis::Iterations => self.slope_per_iteration,
            Axis::Seconds => self.slope_per_sec,
        }
    }
}

/// The verdict on a run: what it shows, the figures behind it, and one sentence saying both.
///
/// Serializes to JSON for the daemon's summary. [`exit_code`](Self::exit_code) maps it to the
/// daemon's exit codes.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig, VerdictKind};
/// // RSS grows 128 KiB/s for 60 s on a 64 MiB base.
/// let rss = Series::from_samples(
///     SeriesKind::Rss,
///     (0..600).map(|i| Sample::new(i as f64 / 10.0, 64e6 + 131_072.0 * i as f64 / 10.0)),
/// );
/// let config = TrendConfig::new().warmup("10s".parse()?);
/// let verdict = analyze(&config, &[rss])?;
/// assert_eq!(verdict.kind, VerdictKind::Growth);
/// assert_eq!(verdict.exit_code(), 1);
/// assert!(verdict.summary.starts_with("RSS grows 128.0 KiB/s"), "{}", verdict.summary);
/// let json = serde_json::to_string(&verdict).unwrap();
/// assert!(json.contains(r#""verdict":"growth""#));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Verdict {
    /// What the run shows.
    pub kind: VerdictKind,
    /// The figures of the series judged.
    pub evidence: Evidence,
    /// For [`VerdictKind::Fragmentation`], the figures of the resident series that grew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragmentation: Option<Evidence>,
    /// Whether fragmentation exits 0 ([`TrendConfig::allow_fragmentation`](super::TrendConfig)).
    pub fragmentation_allowed: bool,
    /// One sentence for people: the verdict, the slope, the growth over the run, the threshold.
    pub summary: String,
}

impl Verdict {
    /// Exit code for a pass (fragmentation too, when allowed).
    pub const EXIT_PASS: u8 = 0;
    /// Exit code for growth (fragmentation too, unless allowed).
    pub const EXIT_GROWTH: u8 = 1;
    /// Exit code for a run that cannot be judged.
    pub const EXIT_INCONCLUSIVE: u8 = 3;

    /// The daemon's exit code: 0 pass, 1 growth, 3 inconclusive; fragmentation is 1 unless
    /// allowed, then 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
    /// let few = Series::from_samples(SeriesKind::Rss, (0..5).map(|i| Sample::new(i as f64, 1e6)));
    /// assert_eq!(analyze(&TrendConfig::new(), &[few])?.exit_code(), 3);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            VerdictKind::Pass => Self::EXIT_PASS,
            VerdictKind::Fragmentation if self.fragmentation_allowed => Self::EXIT_PASS,
            VerdictKind::Growth | VerdictKind::Fragmentation => Self::EXIT_GROWTH,
            VerdictKind::Inconclusive { .. } => Self::EXIT_INCONCLUSIVE,
        }
    }

    /// Whether the run passes: [`exit_code`](Self::exit_code) is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
    /// let flat = Series::from_samples(SeriesKind::Rss, (0..50).map(|i| Sample::new(i as f64, 1e6)));
    /// assert!(analyze(&TrendConfig::new(), &[flat])?.passed());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn passed(&self) -> bool {
        self.exit_code() == Self::EXIT_PASS
    }

    /// Panics with the summary unless the run passes.
    ///
    /// # Panics
    ///
    /// When [`passed`](Self::passed) is false, with `memprobe: ` and the summary as the message.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
    /// let leak = Series::from_samples(SeriesKind::Rss, (0..50).map(|i| Sample::new(i as f64, 1e6 + 1e5 * i as f64)));
    /// analyze(&TrendConfig::new(), &[leak])?.assert_pass(); // panics: "memprobe: RSS grows ..."
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    #[track_caller]
    pub fn assert_pass(&self) {
        if !self.passed() {
            panic!("memprobe: {}", self.summary);
        }
    }

    /// Adds a remark to the evidence and to the sentence.
    pub(crate) fn add_note(&mut self, note: &str) {
        self.evidence.notes.push(note.to_owned());
        self.summary = summarize(&self.kind, &self.evidence, self.fragmentation.as_ref());
    }

    /// Builds the verdict and writes its sentence.
    pub(crate) fn new(
        kind: VerdictKind,
        evidence: Evidence,
        fragmentation: Option<Evidence>,
        fragmentation_allowed: bool,
    ) -> Self {
        let summary = summarize(&kind, &evidence, fragmentation.as_ref());
        Verdict {
            kind,
            evidence,
            fragmentation,
            fragmentation_allowed,
            summary,
        }
    }
}

impl VerdictKind {
    /// The verdict as one lowercase word: `pass`, `growth`, `fragmentation` or `inconclusive`
    /// (the JSON tag, and what the daemon prints).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::VerdictKind;
    /// assert_eq!(VerdictKind::Growth.name(), "growth");
    /// assert_eq!(VerdictKind::Pass.name(), "pass");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            VerdictKind::Pass => "pass",
            VerdictKind::Growth => "growth",
            VerdictKind::Fragmentation => "fragmentation",
            VerdictKind::Inconclusive { .. } => "inconclusive",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

fn summarize(kind: &VerdictKind, e: &Evidence, outer: Option<&Evidence>) -> String {
    let mut s = match kind {
        VerdictKind::Inconclusive { reason } => {
            format!("Inconclusive for {}: {reason}", e.series)
        }
        VerdictKind::Growth => growth_sentence(e),
        VerdictKind::Fragmentation => match outer {
            Some(o) => format!(
                "{}, while {} stays flat: fragmentation or memory the allocator retains, not a leak",
                growth_sentence(o),
                e.series
            ),
            None => format!(
                "{} stays flat but resident memory grows: fragmentation",
                capitalize(e.series)
            ),
        },
        VerdictKind::Pass => pass_sentence(e),
    };
    for note in &e.notes {
        s.push_str(" (");
        s.push_str(note);
        s.push(')');
    }
    s
}

/// A pass says what the run did: flat, a sawtooth, growth under the threshold, or a rise that
/// ended on a plateau (with the rise told in full).
fn pass_sentence(e: &Evidence) -> String {
    let name = capitalize(e.series);
    let (Some(slope), Some(p)) = (e.slope(), e.projected_growth_bytes) else {
        return format!("{name} passes");
    };
    let per = format!("/{}", e.axis.unit());
    if let Some(pl) = e.plateau {
        let ups: Vec<&Step> = e
            .steps
            .iter()
            .filter(|s| s.at <= pl.start && s.size_bytes > 0.0)
            .collect();
        let after = format!(
            "{} after it (95% CI {})",
            rate(pl.slope_after.value, e.axis),
            range(pl.slope_after.low, pl.slope_after.high, &per)
        );
        return match ups.as_slice() {
            // One step that is the whole rise: name it. A ramp cut into steps is told as a rise.
            [one] if (one.size_bytes - pl.rise_bytes).abs() <= 0.25 * pl.rise_bytes.abs() => {
                format!(
                    "{name} steps up {} at {}, flat since at {}: {after}{}, within {}: passes as a plateau",
                    signed(pl.rise_bytes),
                    position(e.axis, one.at),
                    qty(pl.level_bytes),
                    warmup_phrase(e),
                    threshold_phrase(e)
                )
            }
            _ => format!(
                "{name} grew {}{}, then flat at {} from {}: passes as a plateau ({after}, within {})",
                qty(pl.rise_bytes),
                if e.warmup_dropped > 0 {
                    " after warm-up".to_owned()
                } else {
                    " from the start".to_owned()
                },
                qty(pl.level_bytes),
                position(e.axis, pl.start),
                threshold_phrase(e)
            ),
        };
    }
    let interval = format!("95% CI {}", range(slope.low, slope.high, &per));
    let subject = match e.period {
        Some(period) => format!(
            "{name} saw-tooths (period {}, amplitude {}) and its per-cycle means",
            length(e.axis, period.period),
            qty(period.amplitude_bytes)
        ),
        None => name,
    };
    if slope.low > 0.0 {
        // It grows, less than the threshold: say so, with the figures.
        format!(
            "{subject} {} {} ({} over the run, {interval}){}, within {}",
            if e.period.is_some() { "grow" } else { "grows" },
            rate(slope.value, e.axis),
            qty(p.value),
            warmup_phrase(e),
            threshold_phrase(e)
        )
    } else {
        format!(
            "{subject} {}: {} ({interval}){}: at most {} over the run, within {}",
            if e.period.is_some() {
                "do not grow"
            } else {
                "does not grow"
            },
            rate(slope.value, e.axis),
            warmup_phrase(e),
            qty(p.high.max(0.0)),
            threshold_phrase(e)
        )
    }
}

fn growth_sentence(e: &Evidence) -> String {
    let (Some(slope), Some(p)) = (e.slope(), e.projected_growth_bytes) else {
        return format!("{} grows", capitalize(e.series));
    };
    let mut s = format!(
        "{} grows {} (95% CI {}){}: {} over the run, above {}",
        capitalize(e.series),
        rate(slope.value, e.axis),
        range(slope.low, slope.high, &format!("/{}", e.axis.unit())),
        warmup_phrase(e),
        qty(p.value),
        threshold_phrase(e)
    );
    if let Some(period) = e.period {
        s.push_str(&format!(
            ", under a sawtooth (period {}, amplitude {}) judged per cycle",
            length(e.axis, period.period),
            qty(period.amplitude_bytes)
        ));
    } else if let Some(stairs) = staircase(e) {
        s.push_str(&stairs);
    }
    s
}

/// "; it climbs in 16 steps of about +1.0 MiB, one every 10 s" when the rise is a staircase.
fn staircase(e: &Evidence) -> Option<String> {
    let ups: Vec<&Step> = e.steps.iter().filter(|s| s.size_bytes > 0.0).collect();
    if ups.len() < 2 || ups.len() > 24 || ups.len() * 4 < e.steps.len() * 3 {
        return None;
    }
    let mean = ups.iter().map(|s| s.size_bytes).sum::<f64>() / ups.len() as f64;
    let every = (ups[ups.len() - 1].at - ups[0].at) / (ups.len() - 1) as f64;
    Some(format!(
        "; it climbs in {} steps of about {}, one every {}",
        ups.len(),
        signed(mean),
        length(e.axis, every)
    ))
}

fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", qty(v))
    } else {
        qty(v)
    }
}

fn warmup_phrase(e: &Evidence) -> String {
    if e.warmup_dropped == 0 {
        return String::new();
    }
    match e.warmup {
        Warmup::None => String::new(),
        Warmup::Duration(d) => format!(" after a {} warm-up", Secs(d.as_secs_f64())),
        Warmup::Share(s) => format!(" after a {}% warm-up ({})", percent(s), Secs(e.warmup_secs)),
        Warmup::Iterations(n) => format!(" after {n} warm-up iterations"),
    }
}

fn threshold_phrase(e: &Evidence) -> String {
    let allowance = e
        .allowance_bytes
        .map(|a| format!(" ({})", qty(a)))
        .unwrap_or_default();
    match e.thresholds.as_slice() {
        [] => "a zero threshold".to_owned(),
        [one] => format!("the {one} threshold{allowance}"),
        many => {
            let names: Vec<String> = many.iter().map(Growth::to_string).collect();
            format!("the {} thresholds{allowance}", names.join(" and "))
        }
    }
}

/// A length along the axis: `2 s`, `1.5 min`, `20 iterations`.
fn length(axis: Axis, d: f64) -> String {
    match axis {
        Axis::Iterations => format!("{d:.0} iterations"),
        Axis::Seconds => Secs(d).to_string(),
    }
}

fn position(axis: Axis, x: f64) -> String {
    match axis {
        Axis::Iterations => format!("iteration {x:.0}"),
        Axis::Seconds => Secs(x).to_string(),
    }
}

fn capitalize(series: SeriesKind) -> String {
    let name = series.to_string();
    // "jemalloc" is a name spelled in lower case, even at the start of a sentence.
    if name.starts_with("jemalloc") {
        return name;
    }
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A byte figure in binary units (`7.7 MiB`, `-12 B`, `0.5 B`).
pub(crate) fn qty(v: f64) -> String {
    ByteAmount(v).to_string()
}

fn rate(v: f64, axis: Axis) -> String {
    format!("{}/{}", qty(v), axis.unit())
}

/// Two byte figures in the unit of the larger: `120.0 to 140.0 KiB/s`.
fn range(low: f64, high: f64, suffix: &str) -> String {
    format!("{}{suffix}", ByteRange { low, high })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(qty(7.7 * 1048576.0), "7.7 MiB");
        assert_eq!(qty(-12.0), "-12 B");
        assert_eq!(qty(0.5), "0.5 B");
        assert_eq!(qty(-0.01), "0.0 B");
        assert_eq!(
            range(120.0 * 1024.0, 140.0 * 1024.0, "/s"),
            "120.0 to 140.0 KiB/s"
        );
        assert_eq!(range(-40.0, 60.0, "/s"), "-40 to 60 B/s");
        assert_eq!(Secs(30.0).to_string(), "30 s");
        assert_eq!(percent(0.0725), 7.25);
        assert_eq!(Secs(0.25).to_string(), "250 ms");
        assert_eq!(Secs(150.0).to_string(), "2.5 min");
    }
}
