//! What a judged series is reduced to before the decision rule sees it: bins of levels in one
//! pass ([`reduce`]), then one point per block of bins ([`blocks`]) or per whole cycle of a
//! periodic series ([`cycles`]), and the flat levels of a series that moves in jumps
//! ([`jump_levels`]).

use super::fit;
use super::grid::{self, Bin, MAX_BINS};
use super::stats::median;
use super::steps;

/// Whole cycles needed before a periodic series is judged.
pub(super) const MIN_CYCLES: f64 = 3.0;
/// The judged samples reduced in one pass: bins of levels relative to the first sample (byte
/// differences are exact, so adding a constant to the series changes no figure but the levels),
/// and whether they lie exactly on a line.
pub(super) struct Reduced {
    pub(super) bins: Vec<Bin>,
    /// The slope of a series exactly on a line (an exact allocator figure), taken exactly.
    pub(super) exact: Option<f64>,
    /// The x span of the judged samples.
    pub(super) span: f64,
    /// The first sample's value, subtracted from every level.
    pub(super) offset: f64,
    /// Samples judged.
    pub(super) n: usize,
}

/// Reduces the judged samples `points` (`n` of them, as `(x, bytes, min bytes)`) to bins.
pub(super) fn reduce(points: impl Iterator<Item = (f64, f64, f64)> + Clone, n: usize) -> Reduced {
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

/// Aggregated points the slope and the windows are judged on: one per block of samples, or one
/// per whole cycle of a periodic series.
pub(super) struct Points {
    pub(super) xs: Vec<f64>,
    pub(super) ys: Vec<f64>,
    /// First sample behind each point.
    pub(super) starts: Vec<usize>,
    /// Each cycle's trough, when the points are cycles.
    pub(super) troughs: Vec<f64>,
}

/// The number of blocks a run of `n` bins is judged on: enough points for an interval, few enough
/// that each block mean averages many samples (and its noise is close to independent).
pub(super) fn block_count(n: usize) -> usize {
    ((1.5 * (n as f64).sqrt()) as usize).clamp(12, 64).min(n)
}

/// Block means of the bins, each the mean of its bins after trimming a tenth from each end (a
/// spike in one bin does not move its block).
pub(super) fn blocks(bins: &[Bin], max_points: usize) -> Points {
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
pub(super) fn cycles(bins: &[Bin], period: f64) -> (Points, f64) {
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

/// Whether the bins sit on flat levels joined by jumps, and on how many (the criterion is
/// [`steps::levels`]'s, the one that decides which changes are reported as steps). A ratchet's samples on one level share its slack, so they are one reading of its trend, not
/// many. Judged on the bins, not the blocks: a block straddling a jump would blur it.
pub(super) fn jump_levels(bins: &[Bin]) -> Option<Levels> {
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
pub(super) struct Levels {
    /// How many.
    pub(super) count: usize,
    /// The median size of the jumps between them, in bytes: how far the level at either end
    /// of the run may sit from the trend (a ratchet's slack).
    pub(super) jump: f64,
    /// Half the 95% interval of the slope fitted through one point per level (its mean at its
    /// centre), when there are 3 levels or more.
    pub(super) half_width: Option<f64>,
}

/// The whole run's points, the warm-up included, when the warm-up dropped samples (read only when
/// a plateau is in question).
pub(super) type History<'a> = Option<&'a dyn Fn() -> Points>;
