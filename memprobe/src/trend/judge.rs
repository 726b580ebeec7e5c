//! The pipeline from samples to a verdict: pick the series, choose the axis, drop the warm-up,
//! fit the slope, compare windows, look for a plateau, then decide.
//!
//! ```text
//!  samples ─▶ warm-up cut ─▶ sort by (x, bytes) ─▶ block medians ─▶ Theil–Sen slope ± CI ─┐
//!                                  └────────────▶ first/last windows ─────────────────────┤
//!                                                                                        ▼
//!        growth:  CI low > 0, slope × span > allowance, windows significant ─▶ Growth
//!        pass:    CI high × span ≤ allowance                                ─▶ Pass
//!        else:    plateau search; the flat tail passes on its own           ─▶ Pass (plateau)
//!        else:                                                              ─▶ Inconclusive (too noisy)
//! ```

use super::changepoint::plateau_start;
use super::config::{MIN_SAMPLES_FLOOR, TrendConfig, Warmup};
use super::series::{Sample, Series, SeriesKind};
use super::slope::{Estimate, theil_sen};
use super::stats::thin;
use super::verdict::{Axis, Evidence, InconclusiveReason, Verdict, VerdictKind};
use super::window::{Windows, compare};
use crate::error::{Error, Result};
use crate::units::Growth;

/// Resident-level series checked for fragmentation when an allocator-level series passes, in the
/// order they are reported.
const RESIDENT_ORDER: [SeriesKind; 4] = [
    SeriesKind::RssAnonPlusSwap,
    SeriesKind::Rss,
    SeriesKind::JemallocResident,
    SeriesKind::JemallocActive,
];

/// Judges a run: whether the chosen series grows beyond the thresholds of `config`.
///
/// `series` holds one or more figures of the same run (see [`SeriesChoice`](super::SeriesChoice)
/// for which is judged). When an allocator-level series passes, the resident-level ones are judged
/// too: if one of them grows, the verdict is [`VerdictKind::Fragmentation`].
///
/// # Errors
///
/// [`Error::InvalidInput`] when no series matches the choice, a sample is not finite, the warm-up
/// share is outside 0–100%, a percentage threshold is negative, or the warm-up counts iterations
/// but the samples carry none.
///
/// # Examples
///
/// The daemon's use: judge a finished run with the user's options.
///
/// ```
/// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig, VerdictKind};
/// let mut allocated = Series::new(SeriesKind::JemallocAllocated);
/// let mut rss = Series::new(SeriesKind::Rss);
/// for i in 0..300 {
///     let t = i as f64;
///     allocated.push(Sample::new(t, 50e6 + if i % 2 == 0 { 1e3 } else { -1e3 }));
///     rss.push(Sample::new(t, 80e6 + 20e3 * t)); // RSS creeps up, the heap does not
/// }
/// let config = TrendConfig::new().warmup("30s".parse()?).fail_if_growth("5%".parse()?);
/// let run = [allocated, rss];
/// let verdict = analyze(&config, &run)?;
/// assert_eq!(verdict.kind, VerdictKind::Fragmentation);
/// assert_eq!(verdict.exit_code(), 1);
/// assert_eq!(analyze(&config.allow_fragmentation(true), &run)?.exit_code(), 0);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn analyze(config: &TrendConfig, series: &[Series]) -> Result<Verdict> {
    config.validate()?;
    let primary = config.series.pick(series).ok_or_else(|| Error::InvalidInput {
        kind: "series choice",
        input: format!(
            "{} among [{}]",
            config.series,
            series.iter().map(|s| s.kind.key()).collect::<Vec<_>>().join(", ")
        ),
        expected: "a non-empty series of the kind chosen (jemalloc allocated, the live heap, RssAnon+swap or RSS for `auto`)",
    })?;
    let (outcome, evidence) = judge(config, primary)?;
    if outcome == VerdictKind::Pass && primary.kind.is_allocator_level() {
        for kind in RESIDENT_ORDER {
            let Some(outer) = series.iter().find(|s| s.kind == kind && !s.is_empty()) else {
                continue;
            };
            let (outer_outcome, outer_evidence) = judge(config, outer)?;
            if outer_outcome == VerdictKind::Growth {
                return Ok(Verdict::new(
                    VerdictKind::Fragmentation,
                    evidence,
                    Some(outer_evidence),
                    config.allow_fragmentation,
                ));
            }
        }
    }
    Ok(Verdict::new(
        outcome,
        evidence,
        None,
        config.allow_fragmentation,
    ))
}

fn inconclusive(reason: InconclusiveReason) -> VerdictKind {
    VerdictKind::Inconclusive { reason }
}

/// Judges one series on its own.
pub(crate) fn judge(config: &TrendConfig, series: &Series) -> Result<(VerdictKind, Evidence)> {
    let samples = &series.samples;
    let mut ev = Evidence::new(series.kind, samples.len(), config);
    if let Some(bad) = samples
        .iter()
        .find(|s| !(s.t_secs.is_finite() && s.bytes.is_finite()))
    {
        return Err(Error::InvalidInput {
            kind: "sample",
            input: format!(
                "{} = {} at t = {} s",
                series.kind.key(),
                bad.bytes,
                bad.t_secs
            ),
            expected: "finite times and byte counts",
        });
    }
    if samples.len() < config.min_samples {
        let reason = InconclusiveReason::TooFewSamples {
            got: samples.len(),
            need: config.min_samples,
            after_warmup: false,
        };
        return Ok((inconclusive(reason), ev));
    }

    // The axis: iterations when every sample carries one and they advance.
    let span_of = |f: &dyn Fn(&Sample) -> f64| {
        samples
            .iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let marked = samples.iter().all(|s| s.iteration.is_some());
    let (it_min, it_max) = if marked {
        let its = samples.iter().filter_map(|s| s.iteration);
        (its.clone().min().unwrap_or(0), its.max().unwrap_or(0))
    } else {
        (0, 0)
    };
    ev.axis = if marked && it_max > it_min {
        Axis::Iterations
    } else {
        Axis::Seconds
    };
    let axis = ev.axis;
    let x_of = move |s: &Sample| match axis {
        Axis::Iterations => s.iteration.unwrap_or(0) as f64,
        Axis::Seconds => s.t_secs,
    };
    let (t_min, t_max) = span_of(&|s| s.t_secs);
    let (x_min, x_max) = span_of(&x_of);

    // Warm-up: a per-sample test, so the cut does not depend on sample order.
    let keep: Box<dyn Fn(&Sample) -> bool> = match config.warmup {
        Warmup::None => Box::new(|_| true),
        Warmup::Duration(d) => {
            let d = d.as_secs_f64();
            Box::new(move |s| s.t_secs - t_min >= d)
        }
        Warmup::Share(share) => {
            let cut = x_min + share * (x_max - x_min);
            Box::new(move |s| x_of(s) >= cut)
        }
        Warmup::Iterations(k) => {
            if !marked {
                return Err(Error::InvalidInput {
                    kind: "warm-up",
                    input: config.warmup.to_string(),
                    expected: "a duration or a share of the run (`30s`, `20%`): these samples carry no iteration marks",
                });
            }
            Box::new(move |s| s.iteration.unwrap_or(0) - it_min >= k)
        }
    };
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(samples.len());
    let (mut kt_min, mut kt_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut kit_min, mut kit_max) = (u64::MAX, 0);
    for s in samples.iter().filter(|s| keep(s)) {
        points.push((x_of(s), s.bytes));
        kt_min = kt_min.min(s.t_secs);
        kt_max = kt_max.max(s.t_secs);
        if let Some(i) = s.iteration {
            kit_min = kit_min.min(i);
            kit_max = kit_max.max(i);
        }
    }
    let kept = points.len();
    ev.warmup_dropped = samples.len() - kept;
    if kept == 0 {
        let reason = InconclusiveReason::WarmupCoversRun {
            warmup: config.warmup,
            run_secs: t_max - t_min,
        };
        return Ok((inconclusive(reason), ev));
    }
    ev.warmup_secs = kt_min - t_min;
    ev.duration_secs = kt_max - kt_min;
    ev.iterations = marked.then(|| kit_max - kit_min);
    if kept < config.min_samples {
        let reason = InconclusiveReason::TooFewSamples {
            got: kept,
            need: config.min_samples,
            after_warmup: ev.warmup_dropped > 0,
        };
        return Ok((inconclusive(reason), ev));
    }
    if ev.duration_secs < config.min_duration.as_secs_f64() {
        let reason = InconclusiveReason::TooShort {
            judged_secs: ev.duration_secs,
            need_secs: config.min_duration.as_secs_f64(),
        };
        return Ok((inconclusive(reason), ev));
    }

    // A canonical order: by x, then by bytes, so samples sharing an x may come in any order.
    let by_x_then_y =
        |a: &(f64, f64), b: &(f64, f64)| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1));
    if !points.is_sorted_by(|a, b| by_x_then_y(a, b).is_le()) {
        points.sort_unstable_by(by_x_then_y);
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
    let span = xs[kept - 1] - xs[0];
    if span <= 0.0 {
        return Ok((inconclusive(InconclusiveReason::NoProgress { axis }), ev));
    }

    // Rates to convert the slope to the other axis.
    let it_span = ev.iterations.unwrap_or(0) as f64;
    let per_sec_factor = match axis {
        Axis::Iterations => (ev.duration_secs > 0.0).then(|| it_span / ev.duration_secs),
        Axis::Seconds => Some(1.0),
    };
    let per_it_factor = match axis {
        Axis::Iterations => Some(1.0),
        Axis::Seconds => None,
    };

    let blocks = thin(&xs, &ys, config.max_points.max(MIN_SAMPLES_FLOOR));
    let mut chosen = fit(config, &blocks.xs, &blocks.ys, &ys, span);
    let mut used_from = 0;
    if chosen.outcome != VerdictKind::Pass && config.plateau_detection {
        if let Some(k) = plateau_start(&blocks.xs, &blocks.ys) {
            let start = blocks.starts[k];
            let tail = fit(config, &blocks.xs[k..], &blocks.ys[k..], &ys[start..], span);
            if tail.outcome == VerdictKind::Pass {
                chosen = tail;
                used_from = start;
                ev.plateau_start = Some(xs[start]);
            }
        }
    }
    let Fit {
        slope,
        windows,
        allowance,
        projected,
        outcome,
    } = chosen;
    ev.samples_used = kept - used_from;
    ev.slope_per_sec = per_sec_factor.map(|f| slope.scaled(f));
    ev.slope_per_iteration = per_it_factor.map(|f| slope.scaled(f));
    ev.projected_growth_bytes = Some(projected);
    ev.windows = Some(windows);
    ev.allowance_bytes = Some(allowance);
    Ok((outcome, ev))
}

/// One slope fit and its decision.
#[derive(Clone, PartialEq)]
struct Fit {
    slope: Estimate,
    windows: Windows,
    allowance: f64,
    projected: Estimate,
    outcome: VerdictKind,
}

/// Fits the slope on block medians `(bx, by)`, compares the windows of the raw `ys`, and decides
/// with the growth projected over `span` (the whole post-warm-up run).
fn fit(config: &TrendConfig, bx: &[f64], by: &[f64], ys: &[f64], span: f64) -> Fit {
    let windows = compare(ys);
    let slope = theil_sen(bx, by).unwrap_or(Estimate {
        value: 0.0,
        low: 0.0,
        high: 0.0,
    });
    let reference = windows.first_median_bytes.max(0.0);
    let allowance = config
        .fail_if_growth
        .iter()
        .map(|g| match *g {
            Growth::Percent(p) => reference * p / 100.0,
            Growth::Bytes(b) => b as f64,
        })
        .fold(0.0, f64::max);
    let projected = slope.scaled(span);
    let outcome = if projected.low > 0.0 && projected.value > allowance && windows.significant {
        VerdictKind::Growth
    } else if projected.high <= allowance {
        VerdictKind::Pass
    } else {
        inconclusive(InconclusiveReason::TooNoisy {
            projected_growth_bytes: projected,
            allowance_bytes: allowance,
            noise_floor_bytes: windows.noise_floor_bytes,
        })
    };
    Fit {
        slope,
        windows,
        allowance,
        projected,
        outcome,
    }
}
