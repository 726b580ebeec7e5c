//! The judgement of one series' reduced samples: the points it is judged on (blocks, or whole
//! cycles when it repeats), the steps worth naming, the plateau search and the outcome.

use super::config::TrendConfig;
use super::evidence::{Axis, Period, Plateau, Step};
use super::fit;
use super::outcome::{InconclusiveReason, VerdictKind};
use super::period;
use super::plateau::{self, Search};
use super::points::{History, MIN_CYCLES, Reduced, blocks, cycles, jump_levels};
use super::rule::{Decision, allowance, judge_points};
use super::slope::Estimate;
use super::stats::median;
use super::steps;
use super::window::Windows;

/// What the judged samples show, before it is written into the evidence.
pub(super) struct Analysis {
    pub(super) slope: Estimate,
    pub(super) projected: Estimate,
    pub(super) projected_shift: Estimate,
    pub(super) windows: Windows,
    pub(super) allowance: f64,
    pub(super) period: Option<Period>,
    pub(super) steps: Vec<Step>,
    pub(super) plateau: Option<Plateau>,
    /// The first sample of the plateau judged, when one was.
    pub(super) used_from: usize,
    pub(super) outcome: VerdictKind,
    /// Remarks for the sentence: why a flat end was no plateau, why the data cannot tell.
    pub(super) notes: Vec<String>,
}

/// Judges the reduced samples: finds a period, the steps and a plateau, and decides.
pub(super) fn examine(
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
    let Search {
        plateau,
        used_from,
        held_back,
        mut notes,
    } = plateau::search(
        config,
        axis,
        reduced,
        &points,
        &changes,
        judged.decision,
        period_evidence.map(|p| p.period),
        history,
    );
    if let (Some(levels), None, Decision::Undecided) = (levels, &plateau, judged.decision) {
        notes.push(format!(
            "it moves in jumps: {} levels, each one reading of the trend; run longer to see more of them",
            levels.count
        ));
    }
    let outcome = match (judged.decision, plateau.is_some()) {
        (Decision::Pass, _) | (_, true) => VerdictKind::Pass,
        (Decision::Growth, false) if !held_back => VerdictKind::Growth,
        (Decision::Growth | Decision::Undecided, false) => VerdictKind::Inconclusive {
            reason: InconclusiveReason::TooNoisy {
                projected_growth_bytes: judged.projected,
                allowance_bytes: judged.allowance,
                noise_floor_bytes: judged.windows.noise_floor_bytes,
                projected_shift_bytes: Some(judged.projected_shift),
            },
        },
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
