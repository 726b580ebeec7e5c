//! The growth verdict, behind one function ([`judge`]) so the verdict engine (`memprobe::trend`)
//! can replace it without touching the sampler. Until then it is the simple windowed check the
//! daemon issue allows: the median of the last window against the median of the first window after
//! warm-up, with a MAD-based noise floor.
//!
//! Rules, on `n` points after warm-up, windows of `w = max(6, n / 5)` points:
//! - `n < 12`: inconclusive (too few samples).
//! - growth = median(last) − median(first); allowance = the threshold applied to median(first);
//!   noise floor = 2.5 × 1.4826 × the larger window MAD.
//! - growth > allowance and > noise floor: **growth**; > allowance but within the noise:
//!   **inconclusive** (too noisy); otherwise **pass**. No threshold: **not_judged** (figures only).

use crate::config::Warmup;
use memprobe::units::{Bytes, Growth, SignedBytes};
use serde::Serialize;

/// Fewest points per window.
pub const MIN_WINDOW: usize = 6;

/// One point of a series: time since the run started and a value in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Nanoseconds since the run started.
    pub t_ns: u64,
    /// Bytes.
    pub value: f64,
}

/// What the verdict says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No growth beyond the threshold.
    Pass,
    /// Growth beyond the threshold and the noise.
    Growth,
    /// Cannot tell: too few samples or too noisy.
    Inconclusive,
    /// No threshold was given: figures only.
    NotJudged,
}

/// The median of one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    /// First point's time, ns since the run started.
    pub t_first_ns: u64,
    /// Last point's time, ns since the run started.
    pub t_last_ns: u64,
    /// Points in the window.
    pub points: usize,
    /// Median value, bytes.
    pub median_bytes: f64,
    /// Median absolute deviation, bytes.
    pub mad_bytes: f64,
}

/// A verdict and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The method: `window_median` until `memprobe::trend` replaces it.
    pub engine: &'static str,
    /// The series judged.
    pub series: String,
    /// The outcome.
    pub outcome: Outcome,
    /// One sentence a person reads.
    pub sentence: String,
    /// The threshold given.
    pub threshold: Option<Growth>,
    /// Warm-up dropped, ns.
    pub warmup_ns: u64,
    /// Points judged (after warm-up).
    pub points_used: usize,
    /// First window after warm-up.
    pub first_window: Option<Window>,
    /// Last window.
    pub last_window: Option<Window>,
    /// Median(last) − median(first), bytes.
    pub growth_bytes: Option<f64>,
    /// Growth relative to median(first), percent.
    pub growth_percent: Option<f64>,
    /// Growth allowed by the threshold, bytes.
    pub allowance_bytes: Option<f64>,
    /// Growth smaller than this is noise, bytes.
    pub noise_floor_bytes: Option<f64>,
}

/// Judges `points` (time order) of the series named `series`.
pub fn judge(series: &str, points: &[Point], warmup: Warmup, threshold: Option<Growth>) -> Verdict {
    let span = match (points.first(), points.last()) {
        (Some(a), Some(b)) => b.t_ns - a.t_ns,
        _ => 0,
    };
    let warmup_ns = match warmup {
        Warmup::Duration(d) => d.as_nanos().min(u128::from(u64::MAX)) as u64,
        Warmup::Percent(p) => (span as f64 * p / 100.0) as u64,
    };
    let start = points
        .first()
        .map_or(0, |p| p.t_ns)
        .saturating_add(warmup_ns);
    let used: Vec<f64> = points
        .iter()
        .filter(|p| p.t_ns >= start)
        .map(|p| p.value)
        .collect();
    let kept: Vec<&Point> = points.iter().filter(|p| p.t_ns >= start).collect();
    let mut v = Verdict {
        engine: "window_median",
        series: series.to_owned(),
        outcome: Outcome::Inconclusive,
        sentence: String::new(),
        threshold,
        warmup_ns,
        points_used: used.len(),
        first_window: None,
        last_window: None,
        growth_bytes: None,
        growth_percent: None,
        allowance_bytes: None,
        noise_floor_bytes: None,
    };
    if used.len() < 2 * MIN_WINDOW {
        v.sentence = format!(
            "too few samples after the {:.1} s warm-up: {} (need at least {}); run longer or sample more often",
            warmup_ns as f64 / 1e9,
            used.len(),
            2 * MIN_WINDOW
        );
        if threshold.is_none() {
            v.outcome = Outcome::NotJudged;
        }
        return v;
    }
    let w = MIN_WINDOW.max(used.len() / 5);
    let window = |range: std::ops::Range<usize>| {
        let (median, mad) = median_mad(&used[range.clone()]);
        Window {
            t_first_ns: kept[range.start].t_ns,
            t_last_ns: kept[range.end - 1].t_ns,
            points: range.len(),
            median_bytes: median,
            mad_bytes: mad,
        }
    };
    let first = window(0..w);
    let last = window(used.len() - w..used.len());
    let growth = last.median_bytes - first.median_bytes;
    let noise = 2.5 * 1.4826 * first.mad_bytes.max(last.mad_bytes);
    v.first_window = Some(first);
    v.last_window = Some(last);
    v.growth_bytes = Some(growth);
    v.growth_percent = (first.median_bytes > 0.0).then(|| growth / first.median_bytes * 100.0);
    v.noise_floor_bytes = Some(noise);
    let change = format!(
        "{series} median went from {} to {} ({}) after a {:.1} s warm-up",
        Bytes(first.median_bytes as u64),
        Bytes(last.median_bytes as u64),
        SignedBytes(growth as i64),
        warmup_ns as f64 / 1e9
    );
    let Some(threshold) = threshold else {
        v.outcome = Outcome::NotJudged;
        v.sentence = format!("{change}; not judged (no --fail-if-growth)");
        return v;
    };
    let allowance = threshold.allowance(first.median_bytes.max(0.0) as u64);
    v.allowance_bytes = Some(allowance);
    (v.outcome, v.sentence) = if growth > allowance && growth > noise {
        (
            Outcome::Growth,
            format!("{change}: above the {threshold} threshold"),
        )
    } else if growth > allowance {
        (
            Outcome::Inconclusive,
            format!(
                "{change}: above the {threshold} threshold but within the noise ({}); too noisy to judge",
                Bytes(noise as u64)
            ),
        )
    } else {
        (
            Outcome::Pass,
            format!("{change}: within the {threshold} threshold"),
        )
    };
    v
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn median_mad(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let m = median(&sorted);
    let mut dev: Vec<f64> = sorted.iter().map(|v| (v - m).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (m, median(&dev))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn series(n: u64, f: impl Fn(u64) -> f64) -> Vec<Point> {
        (0..n)
            .map(|i| Point {
                t_ns: i * 100_000_000,
                value: f(i),
            })
            .collect()
    }

    const MIB: f64 = 1048576.0;

    #[test]
    fn leak_is_growth() {
        let v = judge(
            "rss",
            &series(100, |i| 10.0 * MIB + i as f64 * 0.5 * MIB),
            Warmup::Percent(20.0),
            Some(Growth::Percent(10.0)),
        );
        assert_eq!(v.outcome, Outcome::Growth, "{}", v.sentence);
        assert!(
            v.sentence.contains("above the 10% threshold"),
            "{}",
            v.sentence
        );
    }

    #[test]
    fn plateau_after_warmup_passes() {
        let v = judge(
            "rss",
            &series(100, |i| (i.min(10) as f64) * MIB + 50.0 * MIB),
            Warmup::Duration(Duration::from_secs(2)),
            Some(Growth::Percent(5.0)),
        );
        assert_eq!(v.outcome, Outcome::Pass, "{}", v.sentence);
    }

    #[test]
    fn flat_noise_passes_absolute_threshold() {
        let v = judge(
            "rss",
            &series(200, |i| 20.0 * MIB + ((i * 7919) % 13) as f64 * 4096.0),
            Warmup::Percent(20.0),
            Some(Growth::Bytes(1 << 20)),
        );
        assert_eq!(v.outcome, Outcome::Pass, "{}", v.sentence);
    }

    #[test]
    fn too_short_is_inconclusive_and_says_why() {
        let v = judge(
            "rss",
            &series(8, |_| MIB),
            Warmup::Percent(0.0),
            Some(Growth::Percent(1.0)),
        );
        assert_eq!(v.outcome, Outcome::Inconclusive);
        assert!(v.sentence.contains("too few samples"), "{}", v.sentence);
        let v = judge("rss", &series(8, |_| MIB), Warmup::Percent(0.0), None);
        assert_eq!(v.outcome, Outcome::NotJudged);
    }

    #[test]
    fn noisy_small_growth_is_inconclusive() {
        let v = judge(
            "rss",
            &series(100, |i| {
                10.0 * MIB + if i % 2 == 0 { 0.0 } else { 8.0 * MIB } + i as f64 * 10_000.0
            }),
            Warmup::Percent(0.0),
            Some(Growth::Bytes(0)),
        );
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.sentence);
    }
}
