//! The one decision rule of the trend engine: the allowance over the run ([`allowance`]), the
//! verdict of a slope and a window shift against it ([`decide`]), and the fit of aggregated points
//! that feeds it ([`judge_points`]).

use super::config::TrendConfig;
use super::fit;
use super::points::{Levels, Points};
use super::slope::Estimate;
use super::window::{Windows, compare};
use crate::units::Growth;

/// The allowance over the run: the largest threshold, percentages of `reference`.
pub(super) fn allowance(config: &TrendConfig, reference: f64) -> f64 {
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
pub(super) fn decide(s: Estimate, w: Estimate, a: f64) -> Decision {
    if s.high <= a && w.high <= a {
        Decision::Pass
    } else if (s.low > a && w.value > 0.0) || (w.low > a && s.value > 0.0) {
        Decision::Growth
    } else {
        Decision::Undecided
    }
}

/// What [`decide`] says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Decision {
    /// Both intervals within the allowance.
    Pass,
    /// One interval wholly above it, the other estimate agreeing.
    Growth,
    /// Neither.
    Undecided,
}

/// A slope fit of `points`, its windows, and the decision over `span`.
pub(super) struct Judged {
    pub(super) slope: Estimate,
    pub(super) projected: Estimate,
    pub(super) projected_shift: Estimate,
    pub(super) windows: Windows,
    pub(super) allowance: f64,
    pub(super) decision: Decision,
}

/// Fits the points `p` (an `exact` slope wins over the fit), compares their first and last
/// windows, and decides against `allowance_share` of the allowance over `span`.
#[allow(clippy::too_many_arguments)]
pub(super) fn judge_points(
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
