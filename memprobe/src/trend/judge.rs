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

use super::config::TrendConfig;
use super::grid::{self, Bin, MAX_BINS};
use super::series::{Sample, Series, SeriesKind};
use super::slope::Estimate;
use super::stats::{MAD_TO_SIGMA, mad, median};
use super::verdict::{
    Axis, Evidence, InconclusiveReason, Period, Plateau, Step, Verdict, VerdictKind,
};
use super::vocab::Warmup;
use super::window::{Windows, compare};
use super::{fit, period, steps};
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

/// Whether the points from the last of `changes` (a rise) on are a plateau: long enough to be
/// believed after the steps before it, and flat by the decision rule at half the threshold's
/// rate. Returns the flat part.
#[allow(clippy::too_many_arguments)]
fn plateau_from(
    config: &TrendConfig,
    points: &Points,
    changes: &[steps::Change],
    x_end: f64,
    span: f64,
    n: usize,
    offset: f64,
    period: Option<f64>,
) -> Option<Tail> {
    let last = changes.last()?;
    let k = points.xs.len();
    // The flat part starts at the step: between the old level's last point and the new one's
    // first (a point's x is its block's centre, half a block into the new level).
    let tail_start = (points.xs[last.from.saturating_sub(1)] + points.xs[last.at]) / 2.0;
    let tail_span = x_end - tail_start;
    // Between earlier steps: a staircase's or a ratchet's rhythm. The flat tail must outlast its
    // longest pause twice and its mean pause four times (a pause that long is rare when jumps
    // keep coming: under 2% for memoryless jumps).
    // Only flat stretches are pauses: a ramp cut into steps by the segmentation rises between
    // them (it moved by more than half the smaller neighbouring step).
    let gaps: Vec<f64> = changes
        .windows(2)
        .filter(|w| {
            let (a, b) = (w[0].at, w[1].from);
            b < a + 3
                || fit::line(&points.xs[a..b], &points.ys[a..b]).is_none_or(|l| {
                    (l.slope.value * (points.xs[b - 1] - points.xs[a])).abs()
                        <= 0.5 * w[0].size.abs().min(w[1].size.abs())
                })
        })
        .map(|w| points.xs[w[1].at] - points.xs[w[0].at])
        .collect();
    let longest_gap = gaps.iter().copied().fold(0.0, f64::max);
    let mean_gap = if gaps.is_empty() {
        0.0
    } else {
        gaps.iter().sum::<f64>() / gaps.len() as f64
    };
    // One step between two flat stretches needs a flat part of 30% of the run. Anything else
    // (several rises: a staircase or a ratchet that paused; a rise that crept up before its
    // jump) needs half the run.
    let rises = changes.iter().filter(|c| c.size > 0.0).count();
    let flat_before = rises == 1 && {
        let head = Points {
            xs: points.xs[..last.from].to_vec(),
            ys: points.ys[..last.from].to_vec(),
            starts: points.starts[..last.from].to_vec(),
            troughs: Vec::new(),
        };
        // Flat over its own length: it rose by less than half the allowance before the step.
        let head_span = points.xs[last.from.saturating_sub(1)] - points.xs[0];
        judge_points(
            config,
            &head,
            None,
            head_span,
            points.starts[last.from],
            PLATEAU_ALLOWANCE_SHARE,
            offset,
            None,
        )
        .is_some_and(|h| h.decision == Decision::Pass)
    };
    let min_share = if flat_before {
        MIN_PLATEAU_SHARE
    } else {
        MIN_PLATEAU_SHARE_AFTER_STAIRS
    };
    // The mean pause is a rhythm only with a few pauses to average.
    let rhythm = if gaps.len() >= 2 { mean_gap } else { 0.0 };
    let long_enough = tail_span >= min_share * span
        && tail_span >= PLATEAU_OVER_GAP * longest_gap
        && tail_span >= PLATEAU_OVER_MEAN_GAP * rhythm
        && k - last.at >= MIN_PLATEAU_POINTS
        && period.is_none_or(|p| tail_span >= MIN_CYCLES * p);
    if !long_enough {
        return None;
    }
    let tail = Points {
        xs: points.xs[last.at..].to_vec(),
        ys: points.ys[last.at..].to_vec(),
        starts: points.starts[last.at..].to_vec(),
        troughs: Vec::new(),
    };
    // The flat part overrides the run's own decision, so it must rule out growth at half the
    // threshold's rate, not merely at the threshold.
    judge_points(
        config,
        &tail,
        None,
        span,
        n - points.starts[last.at],
        PLATEAU_ALLOWANCE_SHARE,
        offset,
        None,
    )
    .filter(|t| t.decision == Decision::Pass)
    .map(|t| Tail {
        slope: t.slope,
        start: tail_start,
        // The rise from the flat part's first window to its last: within the noise when it is
        // not a significant increase, or no larger than the noise floor.
        within_noise: !t.windows.significant
            || t.windows.change_bytes <= t.windows.noise_floor_bytes,
    })
}

/// A flat part found by [`plateau_from`].
struct Tail {
    /// Its slope, with its interval.
    slope: Estimate,
    /// Where it starts on the axis: between the step's old level and its new one.
    start: f64,
    /// Whether its own rise, first window to last, is within its noise.
    within_noise: bool,
}

/// Rises of the points, each a run of same-sign changes of level with no flat stretch between
/// them (a ramp cut into pieces by the segmentation is one rise).
fn rises(points: &Points) -> Vec<Rise> {
    let changes = steps::changes(&points.ys);
    // The points' noise, from their second differences (a ramp's slope cancels out of them, so
    // a ramp and flat stretches in one run do not inflate it): a pause rises by at most 3 σ.
    let curvature: Vec<f64> = points
        .ys
        .windows(3)
        .map(|w| w[2] - 2.0 * w[1] + w[0])
        .collect();
    let sigma = if curvature.is_empty() {
        0.0
    } else {
        MAD_TO_SIGMA * mad(&curvature, median(&curvature)) / 6f64.sqrt()
    };
    let mut out: Vec<Rise> = Vec::new();
    let mut previous: Option<&steps::Change> = None;
    for c in &changes {
        if c.size > 0.0 {
            let at = (points.xs[c.from.saturating_sub(1)] + points.xs[c.at]) / 2.0;
            // A pause needs 3 points to be seen, flat within the noise or within a quarter of
            // the smaller rise beside it (a small step on a tread); a stretch between two rises
            // that is shorter, or climbs more (a ramp's pieces do), joins them.
            let joined = previous.is_some_and(|q| {
                let (a, b) = (q.at, c.from);
                q.size > 0.0
                    && (b < a + 3
                        || fit::line(&points.xs[a..b], &points.ys[a..b]).is_some_and(|l| {
                            l.slope.value * (points.xs[b - 1] - points.xs[a])
                                > (3.0 * sigma).max(0.25 * q.size.min(c.size))
                        }))
            });
            match out.last_mut() {
                Some(last) if joined => {
                    last.end = at;
                    last.size += c.size;
                }
                _ => out.push(Rise {
                    start: at,
                    end: at,
                    size: c.size,
                }),
            }
        }
        previous = Some(c);
    }
    out
}

/// One rise found by [`rises`].
#[derive(Debug, Clone, Copy)]
struct Rise {
    /// Its first change of level, on the axis.
    start: f64,
    /// Its last change of level, on the axis.
    end: f64,
    /// Its total size, in bytes.
    size: f64,
}

/// The chance that a staircase whose rises keep coming at a steady rate leaves a flat stretch at
/// least as long as the one seen: with `count` rises from `first` on, the last at the flat
/// stretch's `start`, the `count − 1` after the first fall uniformly over `first..end`, and all
/// of them land before `start` with chance `((start − first) / (end − first))^(count − 1)`.
fn pause_chance(first: f64, start: f64, end: f64, count: usize) -> f64 {
    if count < 2 || end <= first {
        return 1.0;
    }
    ((start - first).max(0.0) / (end - first)).powi(count as i32 - 1)
}

/// Whether the bins sit on flat levels joined by jumps, and on how many (the criterion is
/// [`steps::levels`]'s, the one that decides which changes are reported as steps). A ratchet's samples on one level share its slack, so they are one reading of its trend, not
/// many. Judged on the bins, not the blocks: a block straddling a jump would blur it.
fn jump_levels(bins: &[Bin]) -> Option<Levels> {
    let ys: Vec<f64> = bins.iter().map(|b| b.mean).collect();
    let xs: Vec<f64> = bins.iter().map(|b| b.x).collect();
    let changes = steps::changes(&ys);
    let found = steps::levels(&xs, &ys, &changes)?;
    let (level_xs, level_ys): (Vec<f64>, Vec<f64>) = found.into_iter().unzip();
    let mut sizes: Vec<f64> = changes.iter().map(|c| c.size.abs()).collect();
    Some(Levels {
        count: changes.len() + 1,
        jump: crate::trend::stats::median_in_place(&mut sizes),
        // One reading per level: the slope through the levels, on levels − 2 degrees of
        // freedom, says how well they pin the trend down.
        half_width: fit::line(&level_xs, &level_ys).map(|l| (l.slope.high - l.slope.low) / 2.0),
    })
}

/// The levels a series that moves in jumps sits on (see [`jump_levels`]).
#[derive(Debug, Clone, Copy)]
struct Levels {
    /// How many.
    count: usize,
    /// The median size of the jumps between them, in bytes: how far the level at either end
    /// of the run may sit from the trend (a ratchet's slack).
    jump: f64,
    /// Half the 95% interval of the slope fitted through one point per level (its mean at its
    /// centre), when there are 3 levels or more.
    half_width: Option<f64>,
}

/// What the judged samples show, before it is written into the evidence.
struct Analysis {
    slope: Estimate,
    projected: Estimate,
    projected_shift: Estimate,
    windows: Windows,
    allowance: f64,
    period: Option<Period>,
    steps: Vec<Step>,
    plateau: Option<Plateau>,
    /// The first sample of the plateau judged, when one was.
    used_from: usize,
    outcome: VerdictKind,
    /// Remarks for the sentence: why a flat end was no plateau, why the data cannot tell.
    notes: Vec<String>,
}

/// Aggregated points the slope and the windows are judged on: one per block of samples, or one
/// per whole cycle of a periodic series.
struct Points {
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// First sample behind each point.
    starts: Vec<usize>,
    /// Each cycle's trough, when the points are cycles.
    troughs: Vec<f64>,
}

/// The number of blocks a run of `n` bins is judged on: enough points for an interval, few enough
/// that each block mean averages many samples (and its noise is close to independent).
fn block_count(n: usize) -> usize {
    ((1.5 * (n as f64).sqrt()) as usize).clamp(12, 64).min(n)
}

/// Block means of the bins, each the mean of its bins after trimming a tenth from each end (a
/// spike in one bin does not move its block).
fn blocks(bins: &[Bin], max_points: usize) -> Points {
    let n = bins.len();
    let m = block_count(n).min(max_points);
    let mut p = Points {
        xs: Vec::with_capacity(m),
        ys: Vec::with_capacity(m),
        starts: Vec::with_capacity(m),
        troughs: Vec::new(),
    };
    let mut scratch = Vec::with_capacity(n.div_ceil(m));
    for k in 0..m {
        let (a, b) = (k * n / m, (k + 1) * n / m);
        if a == b {
            continue;
        }
        scratch.clear();
        scratch.extend(bins[a..b].iter().map(|b| b.mean));
        scratch.sort_unstable_by(f64::total_cmp);
        let trim = scratch.len() / 10;
        let kept = &scratch[trim..scratch.len() - trim];
        p.xs.push(bins[a..b].iter().map(|b| b.x).sum::<f64>() / (b - a) as f64);
        p.ys.push(kept.iter().sum::<f64>() / kept.len() as f64);
        p.starts.push(bins[a].start);
    }
    p
}

/// One point per whole cycle of `period` (on the axis) from the first bin: the cycle's mean and
/// its trough. A window exactly one period long holds one whole cycle whatever the phase, so its
/// mean does not depend on where the run started or stopped; the partial cycle at the end is left
/// out.
fn cycles(bins: &[Bin], period: f64) -> (Points, f64) {
    let x0 = bins[0].x;
    let count = ((bins[bins.len() - 1].x - x0) / period).floor() as usize;
    let mut p = Points {
        xs: Vec::with_capacity(count),
        ys: Vec::with_capacity(count),
        starts: Vec::with_capacity(count),
        troughs: Vec::with_capacity(count),
    };
    let mut amplitudes = Vec::with_capacity(count);
    let mut i = 0;
    for c in 0..count {
        let end = x0 + (c + 1) as f64 * period;
        let start = i;
        let (mut sx, mut sy, mut lo, mut hi, mut trough) =
            (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY);
        while i < bins.len() && bins[i].x < end {
            sx += bins[i].x;
            sy += bins[i].mean;
            lo = lo.min(bins[i].mean);
            hi = hi.max(bins[i].mean);
            trough = trough.min(bins[i].min);
            i += 1;
        }
        if i > start {
            let n = (i - start) as f64;
            p.xs.push(sx / n);
            p.ys.push(sy / n);
            p.starts.push(bins[start].start);
            p.troughs.push(trough);
            amplitudes.push(hi - lo);
        }
    }
    let amplitude = if amplitudes.is_empty() {
        0.0
    } else {
        median(&amplitudes)
    };
    (p, amplitude)
}

/// The allowance over the run: the largest threshold, percentages of `reference`.
fn allowance(config: &TrendConfig, reference: f64) -> f64 {
    config
        .fail_if_growth
        .iter()
        .map(|g| match *g {
            Growth::Percent(p) => reference.max(0.0) * p / 100.0,
            Growth::Bytes(b) => b as f64,
        })
        .fold(0.0, f64::max)
}

/// The one decision rule, on the slope's projected growth `s` and the windows' projected shift
/// `w` against the allowance `a`: pass when both intervals lie within it; growth when either
/// lies wholly above it and the other's estimate agrees in sign; else inconclusive.
fn decide(s: Estimate, w: Estimate, a: f64) -> Decision {
    if s.high <= a && w.high <= a {
        Decision::Pass
    } else if (s.low > a && w.value > 0.0) || (w.low > a && s.value > 0.0) {
        Decision::Growth
    } else {
        Decision::Undecided
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Decision {
    Pass,
    Growth,
    Undecided,
}

/// A slope fit of `points`, its windows, and the decision over `span`.
struct Judged {
    slope: Estimate,
    projected: Estimate,
    projected_shift: Estimate,
    windows: Windows,
    allowance: f64,
    decision: Decision,
}

#[allow(clippy::too_many_arguments)]
fn judge_points(
    config: &TrendConfig,
    p: &Points,
    exact: Option<f64>,
    span: f64,
    samples: usize,
    allowance_share: f64,
    offset: f64,
    levels: Option<Levels>,
) -> Option<Judged> {
    let k = p.xs.len();
    let mut fit = fit::line_on_levels(&p.xs, &p.ys, levels.map(|l| l.count))?;
    if let Some(h) = levels.and_then(|l| l.half_width) {
        fit.slope.low = fit.slope.low.min(fit.slope.value - h);
        fit.slope.high = fit.slope.high.max(fit.slope.value + h);
    }
    // A level is known to within a jump: the slack at each end of the run may hide or add one.
    if let (Some(l), true) = (levels, span > 0.0) {
        let h = l.jump / span;
        fit.slope.low = fit.slope.low.min(fit.slope.value - h);
        fit.slope.high = fit.slope.high.max(fit.slope.value + h);
    }
    let slope = match exact {
        Some(s) => Estimate {
            value: s,
            low: s,
            high: s,
        },
        None => fit.slope,
    };
    let m = (k / 5).max(3).min(k / 2).max(1);
    let mut windows = compare(
        &p.ys[..m],
        &p.ys[k - m..],
        samples * m / k.max(1),
        fit.inflation,
    );
    windows.first_median_bytes += offset;
    windows.last_median_bytes += offset;
    windows.relative_change = (windows.first_median_bytes > 0.0)
        .then(|| windows.change_bytes / windows.first_median_bytes);
    let mean_x = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let apart = mean_x(&p.xs[k - m..]) - mean_x(&p.xs[..m]);
    let shift = windows.shift_bytes.expect("compare sets the shift");
    let projected_shift = if apart > 0.0 {
        shift.scaled(span / apart)
    } else {
        shift
    };
    let reference = p.ys[..m].iter().sum::<f64>() / m as f64 + offset;
    let allowance = allowance(config, reference) * allowance_share;
    let projected = slope.scaled(span);
    let decision = decide(projected, projected_shift, allowance);
    Some(Judged {
        slope,
        projected,
        projected_shift,
        windows,
        allowance,
        decision,
    })
}

/// Whole cycles needed before a periodic series is judged.
const MIN_CYCLES: f64 = 3.0;
/// The shortest plateau after one step from a flat level, as a share of the judged span.
const MIN_PLATEAU_SHARE: f64 = 0.3;
/// The shortest plateau after anything else (several rises, a creeping rise), as a share of the
/// judged span.
const MIN_PLATEAU_SHARE_AFTER_STAIRS: f64 = 0.5;
/// A plateau must outlast the longest flat stretch between earlier steps this many times, so a
/// pause in a staircase or a ratchet is not taken for the end of growth.
const PLATEAU_OVER_GAP: f64 = 2.0;
/// The fewest aggregated points a plateau's flat part must hold to be fitted.
const MIN_PLATEAU_POINTS: usize = 3;
/// The share of the allowance a plateau's flat part must stay within, projected over the run.
const PLATEAU_ALLOWANCE_SHARE: f64 = 0.5;
/// ... and the mean flat stretch between earlier steps this many times.
const PLATEAU_OVER_MEAN_GAP: f64 = 4.0;
/// After two rises or more (the warm-up's included), a flat stretch is a plateau only when a
/// staircase that kept climbing at its own pace would leave one that long less often than this.
const MAX_PAUSE_CHANCE: f64 = 0.05;

/// The judged samples reduced in one pass: bins of levels relative to the first sample (byte
/// differences are exact, so adding a constant to the series changes no figure but the levels),
/// and whether they lie exactly on a line.
struct Reduced {
    bins: Vec<Bin>,
    /// The slope of a series exactly on a line (an exact allocator figure), taken exactly.
    exact: Option<f64>,
    /// The x span of the judged samples.
    span: f64,
    /// The first sample's value, subtracted from every level.
    offset: f64,
    /// Samples judged.
    n: usize,
}

fn reduce(points: impl Iterator<Item = (f64, f64, f64)> + Clone, n: usize) -> Reduced {
    let (mut first, mut last) = (None, (0.0, 0.0));
    for (x, y, _) in points.clone() {
        first.get_or_insert((x, y));
        last = (x, y);
    }
    let (x0, offset) = first.unwrap_or_default();
    let span = last.0 - x0;
    let s = if span > 0.0 {
        (last.1 - offset) / span
    } else {
        0.0
    };
    let mut exact = true;
    let mut scale = 1.0f64;
    let mut worst = 0.0f64;
    let bins = grid::bins(
        points.map(|(x, y, min)| {
            let y = y - offset;
            scale = scale.max(y.abs());
            worst = worst.max((y - s * (x - x0)).abs());
            (x, y, min - offset)
        }),
        n,
        MAX_BINS,
    );
    exact &= worst <= 1e-9 * scale;
    Reduced {
        bins,
        exact: exact.then_some(s),
        span,
        offset,
        n,
    }
}

/// The whole run's points, the warm-up included, when the warm-up dropped samples (read only when
/// a plateau is in question).
type History<'a> = Option<&'a dyn Fn() -> Points>;

fn examine(
    config: &TrendConfig,
    axis: Axis,
    reduced: &Reduced,
    history: History<'_>,
) -> std::result::Result<Analysis, InconclusiveReason> {
    let Reduced {
        ref bins,
        exact,
        span,
        offset,
        n,
    } = *reduced;
    let spacing = (bins[bins.len() - 1].x - bins[0].x) / (bins.len() - 1).max(1) as f64;
    let found = if exact.is_some() {
        None
    } else {
        period::detect(&bins.iter().map(|b| b.mean).collect::<Vec<_>>())
    };
    let mut period_evidence = None;
    let points = match found {
        Some(f) => {
            let period_x = f.lag * spacing;
            let whole = span / period_x;
            // A repeating pattern comes back down: a tooth rises, then drops by a similar size.
            // Steps up look periodic once detrended (a staircase, a ratchet, one step), so the
            // period only counts when the series has such drops.
            let (_, amplitude) = cycles(bins, period_x);
            let drops = {
                let means: Vec<f64> = bins.iter().map(|b| b.mean).collect();
                steps::changes(&means)
                    .iter()
                    .any(|c| c.size < -0.5 * amplitude)
            };
            if !drops {
                blocks(bins, config.max_points)
            } else if whole < MIN_CYCLES {
                // A tooth big enough to matter needs a longer run.
                let level = median(&bins.iter().map(|b| b.mean).collect::<Vec<_>>()) + offset;
                if amplitude > 0.5 * allowance(config, level) {
                    return Err(InconclusiveReason::TooFewPeriods {
                        axis,
                        period: period_x,
                        cycles: whole,
                        need_cycles: MIN_CYCLES,
                    });
                }
                blocks(bins, config.max_points)
            } else {
                let (points, amplitude) = cycles(bins, period_x);
                let trough_slope = fit::line(&points.xs, &points.troughs).map(|l| l.slope);
                period_evidence = Some(Period {
                    period: period_x,
                    amplitude_bytes: amplitude,
                    cycles: points.xs.len(),
                    trough_slope,
                });
                points
            }
        }
        None => blocks(bins, config.max_points),
    };
    let k = points.xs.len();
    let changes = steps::changes(&points.ys);
    // A series that moves in jumps is judged on its levels: each is one reading of the trend.
    // Periodic ones too: a ratchet whose top is trimmed now and then can pass for a sawtooth.
    let levels = if exact.is_none() {
        jump_levels(bins)
    } else {
        None
    };
    let judged = judge_points(config, &points, exact, span, n, 1.0, offset, levels)
        .ok_or(InconclusiveReason::NoFit { points: k })?;
    // Steps worth naming: a level on each side. A ramp cut into pieces by the segmentation
    // rises within its pieces (by more than half the change), and is no staircase.
    let flat = |a: usize, b: usize, size: f64| {
        b < a + 3
            || fit::line(&points.xs[a..b], &points.ys[a..b]).is_none_or(|l| {
                (l.slope.value * (points.xs[b - 1] - points.xs[a])).abs() <= 0.5 * size.abs()
            })
    };
    // Only where the points really move in jumps: segmentation cuts a smooth ramp into pieces
    // too, and a slope is no staircase.
    let jumpy = steps::in_jumps(&points.xs, &points.ys, &changes)
        || !changes.is_empty()
            && levels.is_some_and(|l| {
                // The bins move in jumps (a finer view: no block straddles a jump), and by about
                // the changes' size: a smooth leak sampled finely is a stair of tiny jumps, and its
                // coarse pieces are not its steps.
                let mut sizes: Vec<f64> = changes.iter().map(|c| c.size.abs()).collect();
                crate::trend::stats::median_in_place(&mut sizes) <= 2.0 * l.jump
            });
    let steps: Vec<Step> = changes
        .iter()
        .enumerate()
        .filter(|_| jumpy)
        .filter(|&(i, c)| {
            let before = if i == 0 { 0 } else { changes[i - 1].at };
            let after = changes.get(i + 1).map_or(k, |n| n.from);
            flat(before, c.from, c.size) && flat(c.at, after, c.size)
        })
        .map(|(_, c)| Step {
            // Between the last point of the old level and the first of the new one.
            at: (points.xs[c.from.saturating_sub(1)] + points.xs[c.at]) / 2.0,
            size_bytes: c.size,
        })
        .collect();

    // A plateau: the run ends on a flat stretch after its last change of level, long enough to
    // be believed, that passes the same rule on its own.
    let mut plateau = None;
    let mut used_from = 0;
    let mut notes = Vec::new();
    let mut earlier_rises: Option<Vec<Vec<Rise>>> = None;
    // A flat end that the older conditions took for a plateau, held back by the newer ones (its
    // own rise, the staircase's pace): not shown to have stopped, nor shown to go on.
    let mut held_back = false;
    if judged.decision != Decision::Pass && config.plateau_detection {
        // Candidates: each rise, latest first. A small wobble after the real rise is not where
        // the plateau starts; the flat part after the rise may hold it, and the flat part's own
        // judgement (at half the threshold's rate) decides whether it may.
        for (index, change) in changes.iter().enumerate().rev() {
            // Only wobbles (a tenth of this rise at most) may follow the plateau's start: a
            // later real step means this is no plateau, nor is anything before it.
            if changes[index + 1..]
                .iter()
                .any(|c| c.size.abs() > 0.1 * change.size.abs())
            {
                break;
            }
            if change.size <= 0.0 {
                continue;
            }
            let x_end = bins[bins.len() - 1].x;
            let Some(found) = plateau_from(
                config,
                &points,
                &changes[..=index],
                x_end,
                span,
                n,
                offset,
                period_evidence.map(|p| p.period),
            ) else {
                continue;
            };
            // Over growth, the flat part must not rise at all beyond its noise.
            if judged.decision == Decision::Growth && !found.within_noise {
                held_back = true;
                continue;
            }
            // A staircase that paused is no plateau: with the rises before this one (the
            // warm-up's included), the flat part must be longer than a staircase climbing at
            // their pace would leave by chance.
            // The judged points see the latest rises best (finer blocks), the whole run sees
            // the warm-up's: the staircase is the longer of the two accounts.
            let all = earlier_rises.get_or_insert_with(|| {
                let judged_rises = rises(&points);
                match history {
                    Some(h) => vec![judged_rises, rises(&h())],
                    None => vec![judged_rises],
                }
            });
            let rise_at = (points.xs[change.from.saturating_sub(1)] + points.xs[change.at]) / 2.0;
            let block = span / k as f64;
            // Rises over before this one began (a pause of 3 blocks between, as a pause is
            // seen), more than a wobble beside it. This one is the
            // rise that reaches the plateau's step: it may have started long before (a ramp, or
            // a fill from the warm-up on, whose last piece the step is).
            // The judged points, finer, tell where that rise began.
            let began = all[0]
                .iter()
                .find(|r| r.end >= rise_at - block)
                .map_or(rise_at, |r| r.start);
            let before: Vec<f64> = all
                .iter()
                .map(|account| {
                    account
                        .iter()
                        .filter(|r| r.end < began - 3.0 * block && r.size > 0.1 * change.size)
                        .map(|r| r.start)
                        .collect::<Vec<f64>>()
                })
                .max_by(|a, b| {
                    a.len().cmp(&b.len()).then(
                        b.first()
                            .map_or(f64::INFINITY, |x| *x)
                            .total_cmp(&a.first().map_or(f64::INFINITY, |x| *x)),
                    )
                })
                .unwrap_or_default();
            if let Some(&first) = before.first() {
                let chance = pause_chance(first, found.start, x_end, before.len() + 1);
                if chance > MAX_PAUSE_CHANCE {
                    held_back = true;
                    notes.push(format!(
                        "flat for the last {} after {} rises since {}: a staircase climbing at that pace pauses this long {:.0}% of the time, so this is no plateau yet; run longer",
                        axis_qty(axis, x_end - found.start),
                        before.len() + 1,
                        axis_at(axis, first),
                        chance * 100.0
                    ));
                    break;
                }
            }
            let found = found.slope;
            let start = change.at;
            let level = points.ys[start..].iter().sum::<f64>() / (k - start) as f64;
            // The rise counts from where the judged run starts: the median of its first 1% of
            // bins (one bin in short runs), not a window that may hold the ramp.
            let head = (bins.len() / 100).max(1);
            let first = median(&bins[..head].iter().map(|b| b.mean).collect::<Vec<_>>());
            plateau = Some(Plateau {
                start: points.xs[start],
                level_bytes: level + offset,
                rise_bytes: level - first,
                slope_after: found,
            });
            used_from = points.starts[start];
            break;
        }
    }
    if let (Some(levels), None, Decision::Undecided) = (levels, &plateau, judged.decision) {
        notes.push(format!(
            "it moves in jumps: {} levels, each one reading of the trend; run longer to see more of them",
            levels.count
        ));
    }
    let outcome = match (judged.decision, plateau.is_some()) {
        (Decision::Pass, _) | (_, true) => VerdictKind::Pass,
        (Decision::Growth, false) if !held_back => VerdictKind::Growth,
        (Decision::Growth | Decision::Undecided, false) => {
            inconclusive(InconclusiveReason::TooNoisy {
                projected_growth_bytes: judged.projected,
                allowance_bytes: judged.allowance,
                noise_floor_bytes: judged.windows.noise_floor_bytes,
                projected_shift_bytes: Some(judged.projected_shift),
            })
        }
    };
    Ok(Analysis {
        slope: judged.slope,
        projected: judged.projected,
        projected_shift: judged.projected_shift,
        windows: judged.windows,
        allowance: judged.allowance,
        period: period_evidence,
        steps,
        plateau,
        used_from,
        outcome,
        notes,
    })
}

/// `d` on `axis` for a note: seconds or iterations.
fn axis_qty(axis: Axis, d: f64) -> String {
    match axis {
        Axis::Seconds => format!("{d:.1} s"),
        Axis::Iterations => format!("{d:.0} iterations"),
    }
}

/// A position on `axis` for a note.
fn axis_at(axis: Axis, x: f64) -> String {
    match axis {
        Axis::Seconds => format!("{x:.1} s"),
        Axis::Iterations => format!("iteration {x:.0}"),
    }
}
