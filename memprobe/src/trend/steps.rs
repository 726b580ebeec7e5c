//! Steps: where a series jumps from one level to another (a cache filled once, a batch kept, a
//! heap's top extended).
//!
//! Binary segmentation of a piecewise-constant model on the aggregated points: split where the
//! squared error drops most, keep the split when the drop beats `3 σ² ln k` (a BIC-like penalty),
//! recurse on both sides. σ is the points' noise from the median absolute first difference,
//! floored at a millionth of the level, so an exact series (every difference zero) still needs
//! a real jump, not a rounding error, to split.

use super::stats::{MAD_TO_SIGMA, mad, median};

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
