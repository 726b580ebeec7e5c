//! The plateau search: whether a run that does not pass as a whole ends on a flat stretch after
//! its last rise, long against the run and against the pace of the rises before it (a staircase
//! that paused is no plateau), and flat by the decision rule at half the threshold's rate.

use super::config::TrendConfig;
use super::evidence::{Axis, Plateau};
use super::fit;
use super::points::{History, MIN_CYCLES, Points, Reduced};
use super::rule::{Decision, judge_points};
use super::slope::Estimate;
use super::stats::{MAD_TO_SIGMA, mad, median};
use super::steps;

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

/// What [`search`] found.
pub(super) struct Search {
    /// The plateau the run ends on, when there is one.
    pub(super) plateau: Option<Plateau>,
    /// The first sample of the plateau judged, when one was.
    pub(super) used_from: usize,
    /// A flat end that the older conditions took for a plateau, held back by the newer ones (its
    /// own rise, the staircase's pace): not shown to have stopped, nor shown to go on.
    pub(super) held_back: bool,
    /// Why a flat end was no plateau.
    pub(super) notes: Vec<String>,
}

/// Looks for a plateau: the run ends on a flat stretch after its last change of level (one of
/// `changes` of the judged `points`), long enough to be believed, that passes the same rule on
/// its own. Only when the run's own `decision` is not a pass and `config` asks for it; `period`
/// is the series' period on the axis, `history` the whole run's points.
#[allow(clippy::too_many_arguments)]
pub(super) fn search(
    config: &TrendConfig,
    axis: Axis,
    reduced: &Reduced,
    points: &Points,
    changes: &[steps::Change],
    decision: Decision,
    period: Option<f64>,
    history: History<'_>,
) -> Search {
    let Reduced {
        ref bins,
        span,
        offset,
        n,
        ..
    } = *reduced;
    let k = points.xs.len();
    let mut plateau = None;
    let mut used_from = 0;
    let mut notes = Vec::new();
    let mut earlier_rises: Option<Vec<Vec<Rise>>> = None;
    // A flat end that the older conditions took for a plateau, held back by the newer ones (its
    // own rise, the staircase's pace): not shown to have stopped, nor shown to go on.
    let mut held_back = false;
    if decision != Decision::Pass && config.plateau_detection {
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
                points,
                &changes[..=index],
                x_end,
                span,
                n,
                offset,
                period,
            ) else {
                continue;
            };
            // Over growth, the flat part must not rise at all beyond its noise.
            if decision == Decision::Growth && !found.within_noise {
                held_back = true;
                continue;
            }
            // A staircase that paused is no plateau: with the rises before this one (the
            // warm-up's included), the flat part must be longer than a staircase climbing at
            // their pace would leave by chance.
            // The judged points see the latest rises best (finer blocks), the whole run sees
            // the warm-up's: the staircase is the longer of the two accounts.
            let all = earlier_rises.get_or_insert_with(|| {
                let judged_rises = rises(points);
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
    Search {
        plateau,
        used_from,
        held_back,
        notes,
    }
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

/// One rise found by [`rises`]./// The chance that a staircase whose rises keep coming at a steady rate leaves a flat stretch at
/// least as long as the one seen: with `count` rises from `first` on, the last at the flat
/// stretch's `start`, the `count − 1` after the first fall uniformly over `first..end`, and all
/// of them land before `start` with chance `((start − first) / (end − first))^(count − 1)`.
fn pause_chance(first: f64, start: f64, end: f64, count: usize) -> f64 {
    if count < 2 || end <= first {
        return 1.0;
    }
    ((start - first).max(0.0) / (end - first)).powi(count as i32 - 1)
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
