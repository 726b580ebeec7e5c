//! One figure compared: how it changed ([`Change`]), both sides and the change ([`FigureDiff`]),
//! and the rule that judges it ([`judge`]): noise within an allowance, growth past every
//! threshold. Shared by the per-test comparison ([`super::diff`]) and the per-site one
//! ([`super::sites`]).

use super::load::{Metric, Value};
use memprobe::units::Growth;
use serde::Serialize;

/// How one figure changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// Identical.
    Same,
    /// Smaller in NEW.
    Decreased,
    /// Larger in NEW, within the thresholds (or none given).
    Increased,
    /// Larger in NEW past every `--fail-if-growth` threshold: fails the comparison.
    GrewPastThreshold,
    /// An RSS change within the noise allowance.
    Noise,
    /// A change of an estimated (sampled) site figure within three standard deviations of its
    /// sampling error.
    SamplingNoise,
}

/// One figure of one test, both sides.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct FigureDiff {
    /// Which figure.
    pub(crate) metric: Metric,
    /// BASE's value (`None` when only NEW has it, e.g. per-iteration figures of a test now
    /// iterated).
    pub(crate) base: Option<Value>,
    /// NEW's value.
    pub(crate) new: Option<Value>,
    /// `new - base`, when both exist.
    pub(crate) delta: Option<Value>,
    /// `delta / |base|`, as a share (0.1 is +10%); `None` when BASE is 0 or missing.
    pub(crate) relative: Option<f64>,
    /// What the change amounts to.
    pub(crate) change: Change,
}

/// Judges one figure: a change within `noise`'s allowance is its [`Change`]; a growth past
/// every one of `thresholds` is [`Change::GrewPastThreshold`].
pub(crate) fn judge(
    metric: Metric,
    base: Option<Value>,
    new: Option<Value>,
    thresholds: &[Growth],
    noise: Option<(f64, Change)>,
) -> FigureDiff {
    let delta = match (base, new) {
        (Some(Value::Int(b)), Some(Value::Int(n))) => Some(Value::Int(n.saturating_sub(b))),
        (Some(b), Some(n)) => Some(Value::Float(n.as_f64() - b.as_f64())),
        _ => None,
    };
    let magnitude = base.map_or(0.0, |b| b.as_f64().abs());
    let d = delta.map_or(0.0, Value::as_f64);
    let relative = (magnitude > 0.0 && delta.is_some()).then(|| d / magnitude);
    let change = if delta.is_none() || d == 0.0 {
        Change::Same
    } else if let Some((_, noise)) = noise.filter(|&(allowed, _)| d.abs() <= allowed) {
        noise
    } else if d < 0.0 {
        Change::Decreased
    } else if grew_past(metric, d, magnitude, thresholds) {
        Change::GrewPastThreshold
    } else {
        Change::Increased
    };
    FigureDiff {
        metric,
        base,
        new,
        delta,
        relative,
        change,
    }
}

/// [`Growth::allowance`] over a magnitude that may be a fraction (a per-iteration mean): the
/// library's takes whole bytes.
pub(crate) fn allowance(threshold: Growth, magnitude: f64) -> f64 {
    match threshold {
        Growth::Percent(p) => magnitude * p / 100.0,
        Growth::Bytes(b) => b as f64,
    }
}

/// Whether growth `d` over a figure of `magnitude` exceeds every threshold that applies to it.
fn grew_past(metric: Metric, d: f64, magnitude: f64, thresholds: &[Growth]) -> bool {
    !thresholds.is_empty()
        && thresholds.iter().all(|&t| {
            (metric.is_bytes() || matches!(t, Growth::Percent(_))) && d > allowance(t, magnitude)
        })
}
