//! The pipeline from samples to a verdict: pick the series, choose the axis, drop the warm-up,
//! fit the slope, compare windows, look for a plateau, then decide (the rule is written out in
//! the [`trend`](super) module docs).
//!
//! ```text
//!  samples ─▶ warm-up cut ─▶ sort by (x, t) ─▶ bins ─▶ block (or cycle) means ─▶ LS slope ± CI ─┐
//!                                              │         └────────▶ first/last windows ────────┤
//!                                              └─▶ jump levels (widen the slope's CI) ─────────┤
//!                                                                                               ▼
//!        pass:    both intervals at or below the allowance                            ─▶ Pass
//!        growth:  either interval above it, the other's estimate positive             ─▶ Growth
//!        else:                                                                        ─▶ Inconclusive
//!        not pass: a flat end after the last rise, long against the run and against
//!                  the staircase's pace (warm-up rises included), flat on its own     ─▶ Pass (plateau)
//!                  ... held back only by its own rise or by the pace                  ─▶ Inconclusive
//! ```
//!
//! This file checks the input, picks the axis, cuts the warm-up and orders the samples; the
//! stages after it live beside it: `points` (bins, blocks, cycles, jump levels), `examine` (period,
//! steps, outcome), `rule` (the fit and the decision rule) and `plateau` (the flat-end search).

use super::config::TrendConfig;
use super::evidence::{Axis, Evidence};
use super::examine::{Analysis, examine};
use super::grid::{self, MAX_BINS};
use super::outcome::{InconclusiveReason, VerdictKind};
use super::points::{History, Points, blocks, reduce};
use super::series::{Sample, Series, SeriesKind};
use super::verdict::Verdict;
use super::vocab::Warmup;
use crate::error::{Error, Result};

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
    let (mut kt_min, mut kt_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut kit_min, mut kit_max) = (u64::MAX, 0);
    let mut kept = 0;
    // A canonical order: by x, then by time (samples sharing an iteration mark keep their time
    // order; sorting on bytes would put the low ones first and bias the windows), then by bytes
    // for samples sharing both.
    let key = |s: &Sample| (x_of(s), s.t_secs, s.bytes);
    let order = |a: &(f64, f64, f64), b: &(f64, f64, f64)| {
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.total_cmp(&b.2))
    };
    let mut sorted = true;
    let mut previous: Option<(f64, f64, f64)> = None;
    for s in samples.iter().filter(|s| keep(s)) {
        kept += 1;
        kt_min = kt_min.min(s.t_secs);
        kt_max = kt_max.max(s.t_secs);
        if let Some(i) = s.iteration {
            kit_min = kit_min.min(i);
            kit_max = kit_max.max(i);
        }
        let k = key(s);
        if previous.is_some_and(|p| order(&p, &k).is_gt()) {
            sorted = false;
        }
        previous = Some(k);
    }
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

    // PERF: samples already in order (the usual case) stream straight into the bins; only
    // unordered input is copied to be sorted. Either way the analysis after this works on at
    // most `MAX_BINS` bins, whatever the run's length.
    let point = |s: &Sample| (x_of(s), s.bytes, s.min_bytes.unwrap_or(s.bytes));
    let reduced = if sorted {
        reduce(samples.iter().filter(|s| keep(s)).map(point), kept)
    } else {
        let mut copy: Vec<&Sample> = samples.iter().filter(|s| keep(s)).collect();
        copy.sort_unstable_by(|a, b| order(&key(a), &key(b)));
        reduce(copy.iter().map(|s| point(s)), kept)
    };
    if reduced.span <= 0.0 {
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
    // The whole run, warm-up included, for the rhythm of its rises: read only when a plateau is
    // in question. PERF: the judged bins are reused; only the warm-up's samples are binned, at
    // the judged bins' density, and levels are taken relative to the judged offset.
    let whole = || {
        let dropped = samples.len() - kept;
        let m = (MAX_BINS * dropped)
            .div_ceil(kept.max(1))
            .clamp(1, dropped.max(1));
        let shift = |(x, y, min): (f64, f64, f64)| (x, y - reduced.offset, min - reduced.offset);
        let warm = samples.iter().filter(|s| !keep(s));
        let in_order = warm
            .clone()
            .zip(warm.clone().skip(1))
            .all(|(a, b)| order(&key(a), &key(b)).is_le());
        let mut bins = if in_order {
            grid::bins(warm.map(point).map(shift), dropped, m)
        } else {
            let mut copy: Vec<&Sample> = warm.collect();
            copy.sort_unstable_by(|a, b| order(&key(a), &key(b)));
            grid::bins(copy.iter().map(|s| shift(point(s))), dropped, m)
        };
        bins.extend_from_slice(&reduced.bins);
        blocks(&bins, config.max_points)
    };
    let history: History<'_> = (ev.warmup_dropped > 0).then_some(&whole as &dyn Fn() -> Points);
    let analysis = match examine(config, axis, &reduced, history) {
        Ok(a) => a,
        Err(reason) => return Ok((inconclusive(reason), ev)),
    };
    let Analysis {
        slope,
        projected,
        projected_shift,
        windows,
        allowance,
        period,
        steps,
        plateau,
        used_from,
        outcome,
        notes,
    } = analysis;
    ev.notes.extend(notes);
    ev.samples_used = kept - used_from;
    ev.slope_per_sec = per_sec_factor.map(|f| slope.scaled(f));
    ev.slope_per_iteration = per_it_factor.map(|f| slope.scaled(f));
    ev.projected_growth_bytes = Some(projected);
    ev.projected_shift_bytes = Some(projected_shift);
    ev.windows = Some(windows);
    ev.allowance_bytes = Some(allowance);
    ev.period = period;
    ev.steps = steps;
    ev.plateau_start = plateau.map(|p| p.start);
    ev.plateau = plateau;
    Ok((outcome, ev))
}
