//! Steps: where a series jumps from one level to another (a cache filled once, a batch kept, a
//! heap's top extended).
//!
//! Binary segmentation of a piecewise-constant model on the aggregated points: split where the
//! squared error drops most, keep the split when the drop beats `3 σ² ln k` (a BIC-like penalty),
//! recurse on both sides. σ is the points' noise from the median absolute first difference,
//! floored at a millionth of the level, so an exact series (every difference zero) still needs
//! a real jump, not a rounding error, to split.
//!
//! Segmentation cuts any series that rises, a straight ramp included, into pieces: a change of
//! level is only a *step* when the series really moves in jumps ([`levels`]): the flat levels
//! between its changes explain all but a tenth of what a straight line leaves beyond the noise.
//! A smooth leak is a slope, and its pieces are not steps.

use super::fit;
use super::stats::{MAD_TO_SIGMA, mad, median};

/// Flat levels joined by jumps leave at most this share of the variance a line leaves beyond
/// the noise ...
const JUMPY_SHARE: f64 = 0.1;
/// ... and that variance is at least this many times the noise's (a line through noise alone
/// leaves just the noise).
const JUMPY_OVER_NOISE: f64 = 4.0;

/// The most steps reported.
const MAX_STEPS: usize = 32;

/// Prefix sums for O(1) constant fits of any range.
struct Prefix {
    y: Vec<f64>,
    yy: Vec<f64>,
}

impl Prefix {
    fn new(ys: &[f64], center: f64) -> Self {
        let mut p = Prefix {
            y: Vec::with_capacity(ys.len() + 1),
            yy: Vec::with_capacity(ys.len() + 1),
        };
        let (mut sy, mut syy) = (0.0, 0.0);
        p.y.push(0.0);
        p.yy.push(0.0);
        for y in ys {
            let c = y - center;
            sy += c;
            syy += c * c;
            p.y.push(sy);
            p.yy.push(syy);
        }
        p
    }

    fn sse(&self, a: usize, b: usize) -> f64 {
        let n = (b - a) as f64;
        let s = self.y[b] - self.y[a];
        (self.yy[b] - self.yy[a] - s * s / n).max(0.0)
    }

    fn mean(&self, a: usize, b: usize, center: f64) -> f64 {
        center + (self.y[b] - self.y[a]) / (b - a) as f64
    }
}

/// One change of level, at point index `at` (the first point of the new level).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Change {
    /// First point no longer on the old level (before `at` when a point sits between levels).
    pub from: usize,
    /// First point of the new level.
    pub at: usize,
    /// New level minus the old one.
    pub size: f64,
}

/// The changes of level in `ys`, in order.
pub(crate) fn changes(ys: &[f64]) -> Vec<Change> {
    let k = ys.len();
    if k < 4 {
        return Vec::new();
    }
    let center = median(ys);
    let diffs: Vec<f64> = ys.windows(2).map(|w| w[1] - w[0]).collect();
    let sigma = (MAD_TO_SIGMA * mad(&diffs, median(&diffs)) / std::f64::consts::SQRT_2)
        .max(1e-6 * center.abs())
        .max(1.0);
    let penalty = 3.0 * sigma * sigma * (k as f64).ln();
    let p = Prefix::new(ys, center);
    let mut cuts = Vec::new();
    let mut stack = vec![(0usize, k)];
    while let Some((a, b)) = stack.pop() {
        if b - a < 4 || cuts.len() >= MAX_STEPS {
            continue;
        }
        let whole = p.sse(a, b);
        let Some((tau, cost)) = (a + 2..=b - 2)
            .map(|t| (t, p.sse(a, t) + p.sse(t, b)))
            .min_by(|x, y| x.1.total_cmp(&y.1))
        else {
            continue;
        };
        if whole - cost > penalty {
            cuts.push(tau);
            stack.push((a, tau));
            stack.push((tau, b));
        }
    }
    cuts.sort_unstable();
    let mut bounds = vec![0];
    bounds.extend(&cuts);
    bounds.push(k);
    let found: Vec<Change> = bounds
        .windows(3)
        .map(|w| Change {
            from: w[1],
            at: w[1],
            size: p.mean(w[1], w[2], center) - p.mean(w[0], w[1], center),
        })
        .collect();
    // A step inside a block leaves that block between the two levels: two changes of the same
    // sign a point or two apart are one step, whose new level starts at the second. Two points
    // at most from the old level's end to the new level's start: merging more (a chain of
    // changes two points apart) would fold a staircase of short treads into one step.
    let mut merged: Vec<Change> = Vec::with_capacity(found.len());
    for c in found {
        match merged.last_mut() {
            Some(m) if c.at - m.from <= 2 && (m.size > 0.0) == (c.size > 0.0) => {
                // The new level starts after the in-between point.
                m.size += c.size;
                m.at = c.at;
            }
            _ => merged.push(c),
        }
    }
    // The points between two levels are those on neither: one that still sits on the old level
    // belongs to it, so the tread before a step is not cut short by the merge.
    for j in 0..merged.len() {
        let (from, at) = (merged[j].from, merged[j].at);
        if at - from < 2 {
            continue;
        }
        let old_start = if j == 0 { 0 } else { merged[j - 1].at };
        let new_end = merged.get(j + 1).map_or(k, |n| n.from);
        let old = p.mean(old_start, from, center);
        let new = p.mean(at, new_end, center);
        let mut a = from;
        while a + 1 < at && (ys[a] - old).abs() <= 0.1 * (new - old).abs() {
            a += 1;
        }
        merged[j].from = a;
    }
    merged
}

/// The flat levels `ys` sits on between `changes`, each as (its points' mean x, their mean),
/// when the series moves in jumps: the levels explain all but [`JUMPY_SHARE`] of the variance a
/// line through the points leaves beyond the noise (σ² from the first differences), and that
/// variance is at least [`JUMPY_OVER_NOISE`] times the noise. `None` for a series a line
/// explains as well (a smooth ramp cut into pieces, noise) or with no change at all. Points
/// between two levels (a block straddling a jump) belong to neither.
pub(crate) fn levels(xs: &[f64], ys: &[f64], changes: &[Change]) -> Option<Vec<(f64, f64)>> {
    jumps(xs, ys, changes, false)
}

/// Whether the aggregated points `ys` really move in jumps at `changes`, by the criterion of
/// [`levels`], with each level of 4 points or more judged on its inner points: a block at
/// either end of a tread may straddle the jump into or out of it (its mean sits between the
/// levels), and a staircase is no less a staircase for it. A smooth ramp cut into pieces stays
/// out: its inner points climb as much as any.
pub(crate) fn in_jumps(xs: &[f64], ys: &[f64], changes: &[Change]) -> bool {
    jumps(xs, ys, changes, true).is_some()
}

fn jumps(xs: &[f64], ys: &[f64], changes: &[Change], inner: bool) -> Option<Vec<(f64, f64)>> {
    if changes.is_empty() {
        return None;
    }
    let k = ys.len();
    // The noise from first differences: all of them for bins, where jumps are few among many
    // differences; only those between inner points of a level for points, where a jump (or two
    // halves of one, across a straddling block) may be every third difference and would pass
    // for noise.
    let diffs: Vec<f64> = if inner {
        let mut start = 0;
        let mut within = Vec::with_capacity(k);
        for next in changes.iter().map(Some).chain([None]) {
            let end = next.map_or(k, |c| c.from);
            let level = &ys[start..end.max(start)];
            let level = if level.len() >= 4 {
                &level[1..level.len() - 1]
            } else {
                level
            };
            within.extend(level.windows(2).map(|w| w[1] - w[0]));
            start = next.map_or(k, |c| c.at);
        }
        within
    } else {
        ys.windows(2).map(|w| w[1] - w[0]).collect()
    };
    let noise = if diffs.is_empty() {
        0.0
    } else {
        (MAD_TO_SIGMA * mad(&diffs, median(&diffs))).powi(2) / 2.0
    };
    let line = fit::line_sse(xs, ys) / k as f64;
    if line <= JUMPY_OVER_NOISE * noise {
        return None;
    }
    let (mut sse, mut count) = (0.0, 0);
    let mut found = Vec::with_capacity(changes.len() + 1);
    let mut start = 0;
    for next in changes.iter().map(Some).chain([None]) {
        let end = next.map_or(k, |c| c.from);
        if end > start {
            let level = &ys[start..end];
            let judged = if inner && level.len() >= 4 {
                &level[1..level.len() - 1]
            } else {
                level
            };
            let mean = judged.iter().sum::<f64>() / judged.len() as f64;
            sse += judged.iter().map(|y| (y - mean).powi(2)).sum::<f64>();
            count += judged.len();
            found.push((
                xs[start..end].iter().sum::<f64>() / (end - start) as f64,
                level.iter().sum::<f64>() / level.len() as f64,
            ));
        }
        start = next.map_or(k, |c| c.at);
    }
    let steps = sse / count.max(1) as f64;
    (steps - noise <= JUMPY_SHARE * (line - noise)).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_steps_and_nothing_on_flat() {
        let wobble = |i: usize| [0.0, 3.0, -2.0, 1.0, -1.0][i % 5];
        let step: Vec<f64> = (0..100)
            .map(|i| if i < 40 { 1000.0 } else { 2000.0 } + wobble(i))
            .collect();
        let c = changes(&step);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].at, 40);
        assert!((c[0].size - 1000.0).abs() < 5.0);
        let flat: Vec<f64> = (0..100).map(|i| 5e6 + wobble(i)).collect();
        assert!(changes(&flat).is_empty());
        let stairs: Vec<f64> = (0..100).map(|i| (i / 20) as f64 * 1e6).collect();
        assert_eq!(
            changes(&stairs).iter().map(|c| c.at).collect::<Vec<_>>(),
            [20, 40, 60, 80]
        );
    }

    #[test]
    fn a_ramp_cut_into_pieces_has_no_levels_a_staircase_has() {
        let xs: Vec<f64> = (0..64).map(f64::from).collect();
        let wobble = |i: usize| [0.0, 3.0, -2.0, 1.0, -1.0][i % 5] * 1e3;
        // A ramp of 100 kB a point, wobbling by a few kB: segmentation cuts it, yet a line
        // explains it, so it has no levels.
        let ramp: Vec<f64> = (0..64).map(|i| 1e5 * i as f64 + wobble(i)).collect();
        let cuts = changes(&ramp);
        assert!(!cuts.is_empty(), "segmentation cuts a ramp");
        assert_eq!(levels(&xs, &ramp, &cuts), None);
        // 1 MB every 16 points with the same wobble: four levels.
        let stairs: Vec<f64> = (0..64).map(|i| 1e6 * (i / 16) as f64 + wobble(i)).collect();
        let found = levels(&xs, &stairs, &changes(&stairs)).unwrap();
        assert_eq!(found.len(), 4);
        assert!((found[3].1 - found[0].1 - 3e6).abs() < 1e4, "{found:?}");
        // Noise alone, cut or not, has none.
        let flat: Vec<f64> = (0..64).map(wobble).collect();
        assert_eq!(levels(&xs, &flat, &changes(&flat)), None);
    }

    #[test]
    fn short_treads_stay_separate_steps() {
        // Two jumps four points apart, each landing inside a block (one point between levels):
        // two steps, not one, however the segmentation places its cuts around the in-between
        // points (seed 13 of the 16-second ratchet folded into one step this way).
        let ys = [
            376.0, 376.0, 374.0, 377.0, 1356.0, 1844.0, 1845.0, 1844.0, 2854.0, 3140.0, 3139.0,
            3141.0, 3140.0, 3141.0, 3140.0, 3141.0, 3143.0, 3139.0,
        ]
        .map(|y| y * 1024.0);
        let c = changes(&ys);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c.iter().all(|c| c.size > 1e6), "{c:?}");
        assert!(c[0].at <= 6 && c[1].from >= 7, "{c:?}");
    }
}
