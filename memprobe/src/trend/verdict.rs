//! The answer: a [`Verdict`] with its [`Evidence`] and one sentence a person reads, plus the exit
//! codes the daemon maps it to. Formatting of that sentence lives here too, apart from the maths.

use super::config::Warmup;
use super::series::SeriesKind;
use super::slope::Estimate;
use super::window::Windows;
use crate::units::Growth;
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
            InconclusiveReason::TooNoisy {
                projected_growth_bytes: p,
                allowance_bytes,
                noise_floor_bytes,
            } => {
                if p.low > 0.0 && p.value > *allowance_bytes {
                    write!(
                        f,
                        "too noisy: the slope projects {} over the run (95% CI {}), above the allowed {}, but the last window's median is within the noise floor ({}) of the first's",
                        qty(p.value),
                        range(p.low, p.high, ""),
                        qty(*allowance_bytes),
                        qty(*noise_floor_bytes)
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
        }
    }

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
        VerdictKind::Pass => {
            let (Some(slope), Some(p), Some(w)) = (e.slope(), e.projected_growth_bytes, e.windows)
            else {
                return format!("{} passes", capitalize(e.series));
            };
            let head = match e.plateau_start {
                Some(x) => format!(
                    "{} plateaus at {} from {} on{}",
                    capitalize(e.series),
                    qty(w.last_median_bytes),
                    position(e.axis, x),
                    warmup_phrase(e)
                ),
                None => format!(
                    "{} does not grow: {} (95% CI {}){}",
                    capitalize(e.series),
                    rate(slope.value, e.axis),
                    range(slope.low, slope.high, &format!("/{}", e.axis.unit())),
                    warmup_phrase(e)
                ),
            };
            format!(
                "{head}: at most {} over the run, within {}",
                qty(p.high.max(0.0)),
                threshold_phrase(e)
            )
        }
    };
    for note in &e.notes {
        s.push_str(" (");
        s.push_str(note);
        s.push(')');
    }
    s
}

fn growth_sentence(e: &Evidence) -> String {
    let (Some(slope), Some(p)) = (e.slope(), e.projected_growth_bytes) else {
        return format!("{} grows", capitalize(e.series));
    };
    format!(
        "{} grows {} (95% CI {}){}: {} over the run, above {}",
        capitalize(e.series),
        rate(slope.value, e.axis),
        range(slope.low, slope.high, &format!("/{}", e.axis.unit())),
        warmup_phrase(e),
        qty(p.value),
        threshold_phrase(e)
    )
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

fn position(axis: Axis, x: f64) -> String {
    match axis {
        Axis::Iterations => format!("iteration {x}"),
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

/// A duration in seconds shown in the largest fitting unit: `250 ms`, `30 s`, `2.5 min`, `1.2 h`.
pub(crate) struct Secs(pub f64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.abs() < 1.0 && s != 0.0 {
            write!(f, "{} ms", trim(s * 1e3))
        } else if s.abs() < 120.0 {
            write!(f, "{} s", trim(s))
        } else if s.abs() < 7200.0 {
            write!(f, "{} min", trim(s / 60.0))
        } else {
            write!(f, "{} h", trim(s / 3600.0))
        }
    }
}

/// A share as a percentage with at most two decimals: `0.2` → `20`, `0.0725` → `7.25`.
pub(crate) fn percent(share: f64) -> f64 {
    (share * 1e4).round() / 100.0
}

/// One decimal, without a trailing `.0` or a negative zero.
fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

fn unit_for(magnitude: f64) -> usize {
    let mut k = 0;
    let mut v = magnitude.abs();
    while v >= 1024.0 && k < UNITS.len() - 1 {
        v /= 1024.0;
        k += 1;
    }
    k
}

fn scaled(v: f64, k: usize) -> String {
    let s = v / 1024f64.powi(k as i32);
    let text = if k == 0 && (s.abs() >= 10.0 || s.fract() == 0.0) {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    };
    match text.as_str() {
        "-0" | "-0.0" => text[1..].to_owned(),
        _ => text,
    }
}

/// A byte figure in binary units (`7.7 MiB`, `-12 B`, `0.5 B`).
pub(crate) fn qty(v: f64) -> String {
    let k = unit_for(v);
    format!("{} {}", scaled(v, k), UNITS[k])
}

fn rate(v: f64, axis: Axis) -> String {
    format!("{}/{}", qty(v), axis.unit())
}

/// Two byte figures in the unit of the larger: `120.0 to 140.0 KiB/s`.
fn range(low: f64, high: f64, suffix: &str) -> String {
    let k = unit_for(low.abs().max(high.abs()));
    format!(
        "{} to {} {}{suffix}",
        scaled(low, k),
        scaled(high, k),
        UNITS[k]
    )
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
        assert_eq!(Secs(0.25).to_string(), "250 ms");
        assert_eq!(Secs(150.0).to_string(), "2.5 min");
    }
}
