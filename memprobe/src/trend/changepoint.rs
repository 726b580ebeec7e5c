//! The plateau search: where does the series stop rising and stay flat?
//!
//! Two models are fitted to the block medians by least squares: one straight line, and a line up
//! to a change point τ followed by a constant from τ on ("ramp or step, then plateau"). The
//! second has two more parameters (τ and the level), so it must beat the line by a penalty of
//! `2 σ² ln m` (BIC) to be believed, with σ estimated from the first differences' MAD. The flat
//! part must cover at least 30% of the points: a shorter flat tail cannot be told from noise on a
//! slope. The caller then re-judges only the tail, and accepts a plateau only if the tail passes on
//! its own, so a wrong guess here can turn a verdict into a pass only when the tail really is flat.
//!
//! All sums are taken on centred values, so adding a constant to the series changes nothing.

use super::stats::{MAD_TO_SIGMA, mad, median};

/// The shortest plateau, as a share of the points.
const MIN_TAIL_SHARE: f64 = 0.3;
/// The shortest plateau, in points.
const MIN_TAIL: usize = 6;
/// The shortest ramp before the plateau, in points.
const MIN_HEAD: usize = 3;

/// Running sums for O(1) least-squares fits of any range.
struct Prefix {
    x: Vec<f64>,
    y: Vec<f64>,
    xx: Vec<f64>,
    xy: Vec<f64>,
    yy: Vec<f64>,
}

impl Prefix {
    fn new(xs: &[f64], ys: &[f64]) -> Self {
        let n = xs.len();
        let mut p = Prefix {
            x: Vec::with_capacity(n + 1),
            y: Vec::with_capacity(n + 1),
            xx: Vec::with_capacity(n + 1),
            xy: Vec::with_capacity(n + 1),
            yy: Vec::with_capacity(n + 1),
        };
        let (mut sx, mut sy, mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for v in [&mut p.x, &mut p.y, &mut p.xx, &mut p.xy, &mut p.yy] {
            v.push(0.0);
        }
        for (&x, &y) in xs.iter().zip(ys) {
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
            p.x.push(sx);
            p.y.push(sy);
            p.xx.push(sxx);
            p.xy.push(sxy);
            p.yy.push(syy);
        }
        p
    }

    /// Residual sum of squares of the best constant on `a..b`.
    fn sse_const(&self, a: usize, b: usize) -> f64 {
        let n = (b - a) as f64;
        let sy = self.y[b] - self.y[a];
        (self.yy[b] - self.yy[a] - sy * sy / n).max(0.0)
    }

    /// Residual sum of squares of the least-squares line on `a..b`.
    fn sse_line(&self, a: usize, b: usize) -> f64 {
        let n = (b - a) as f64;
        let sx = self.x[b] - self.x[a];
        let sy = self.y[b] - self.y[a];
        let vxx = self.xx[b] - self.xx[a] - sx * sx / n;
        let vxy = self.xy[b] - self.xy[a] - sx * sy / n;
        let vyy = self.yy[b] - self.yy[a] - sy * sy / n;
        let explained = if vxx > 0.0 { vxy * vxy / vxx } else { 0.0 };
        (vyy - explained).max(0.0)
    }
}

/// The index (into `xs`/`ys`, sorted by x) where a plateau starts, if a "ramp, then flat" model
/// explains the points clearly better than one line.
pub(crate) fn plateau_start(xs: &[f64], ys: &[f64]) -> Option<usize> {
    let m = xs.len();
    let min_tail = MIN_TAIL.max((m as f64 * MIN_TAIL_SHARE).ceil() as usize);
    if m < MIN_HEAD + min_tail {
        return None;
    }
    // Centre both axes (y on its median: exact under an added constant for integer byte counts).
    let x0 = xs[0] + (xs[m - 1] - xs[0]) / 2.0;
    let y0 = median(ys);
    let cx: Vec<f64> = xs.iter().map(|x| x - x0).collect();
    let cy: Vec<f64> = ys.iter().map(|y| y - y0).collect();
    let diffs: Vec<f64> = cy.windows(2).map(|w| w[1] - w[0]).collect();
    let sigma = MAD_TO_SIGMA * mad(&diffs, median(&diffs)) / std::f64::consts::SQRT_2;
    let penalty = 2.0 * sigma * sigma * (m as f64).ln();

    let p = Prefix::new(&cx, &cy);
    let line = p.sse_line(0, m);
    let (best_tau, best_cost) = (MIN_HEAD..=m - min_tail)
        .map(|tau| (tau, p.sse_line(0, tau) + p.sse_const(tau, m)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (line - best_cost > penalty).then_some(best_tau)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_step_and_ignores_a_line() {
        let xs: Vec<f64> = (0..100).map(f64::from).collect();
        let wobble = |i: usize| [0.0, 3.0, -2.0, 1.0, -1.0][i % 5];
        let step: Vec<f64> = (0..100)
            .map(|i| if i < 40 { 1000.0 } else { 2000.0 } + wobble(i))
            .collect();
        assert_eq!(plateau_start(&xs, &step), Some(40));
        let line: Vec<f64> = (0..100).map(|i| 10.0 * i as f64 + wobble(i)).collect();
        assert_eq!(plateau_start(&xs, &line), None);
        let flat: Vec<f64> = (0..100).map(|_| 5.0).collect();
        assert_eq!(plateau_start(&xs, &flat), None);
    }
}
