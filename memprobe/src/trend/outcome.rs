//! What a run shows: [`VerdictKind`] (pass, growth, fragmentation, or inconclusive) and, for the
//! last, the [`InconclusiveReason`] with the sentence that explains it.

use super::evidence::Axis;
use super::phrase::{length, qty, range};
use super::slope::Estimate;
use super::vocab::Warmup;
use crate::units::Seconds as Secs;
use serde::{Deserialize, Serialize};
use std::fmt;

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
