//! The arithmetic of the scaling fit: a straight line `y = a + b·n` by least squares, a 95%
//! confidence interval on the slope from Student's t, R², and a test for a bend (a significant,
//! material quadratic term).
//!
//! # Implementation
//!
//! The figures are integers (exact counts), so the sums that define the line are taken in `i128`:
//! the slope is the quotient of two exact integers, rounded once, and a workload that costs exactly
//! 64 bytes per item gets exactly `64.0` with zero residuals, not `63.99999999999`. Only when a sum
//! would overflow does the fit fall back to `f64` sums around the means.
//!
//! The bend test follows Frisch–Waugh: the part of `n²` that a line in `n` cannot express (`z`,
//! with `n` centred and scaled first) is regressed on the line's residuals. Its coefficient is the
//! quadratic term; `|coefficient × z|` at each size is how far the quadratic fit departs from the
//! line there, in the figure's own unit.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The share of the line's rise over the sizes (`|b|·(n_max − n_min)`) that the quadratic fit
/// must depart from the line by before a significant bend counts: exact counts make even the
/// small steps of a `Vec` doubling or a hash table resizing "significant", and those are not what
/// a reader means by non-linear.
pub const MATERIAL_BEND: f64 = 0.05;

/// A 95% confidence interval, `low ≤ high`, in the unit of the figure it belongs to.
///
/// # Examples
///
/// ```
/// let ci = memprobe::scaling::Interval { low: 60.0, high: 68.0 };
/// assert!(ci.contains(64.0) && !ci.contains(70.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Whether `value` lies in the interval (ends included).
    ///
    /// # Examples
    ///
    /// See [`Interval`].
    ///
    /// ```
    /// assert!(memprobe::scaling::Interval { low: 1.0, high: 1.0 }.contains(1.0));
    /// ```
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// Whether a figure grows in a straight line with the number of items.
///
/// # Examples
///
/// ```
/// use memprobe::scaling::Shape;
/// assert!(Shape::Linear.is_linear());
/// assert_eq!(Shape::Linear.to_string(), "linear");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shape {
    /// No significant, material bend: the per-item cost holds across the sizes.
    Linear,
    /// A significant quadratic term that departs from the line by more than [`MATERIAL_BEND`] of
    /// its rise: the per-item cost changes with the number of items.
    Bends {
        /// `true` when each further item costs more than the last (a convex curve, such as a
        /// quadratic algorithm); `false` when it costs less (caches, amortized capacity).
        upward: bool,
        /// The quadratic coefficient, in the figure's unit per item².
        quadratic_per_item_squared: f64,
        /// The largest distance between the quadratic fit and the line over the sizes, in the
        /// figure's unit.
        bend: f64,
    },
    /// Fewer than three distinct sizes: a line always fits two.
    Unknown,
}

impl Shape {
    /// `true` for [`Shape::Linear`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!memprobe::scaling::Shape::Unknown.is_linear());
    /// ```
    pub fn is_linear(&self) -> bool {
        matches!(self, Shape::Linear)
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shape::Linear => f.write_str("linear"),
            Shape::Bends { upward: true, .. } => {
                f.write_str("non-linear: bends upward (each item costs more than the last)")
            }
            Shape::Bends { upward: false, .. } => {
                f.write_str("non-linear: bends downward (each item costs less than the last)")
            }
            Shape::Unknown => f.write_str("linearity unknown (fewer than 3 sizes)"),
        }
    }
}

/// One figure fitted as `fixed + per_item·n`, in the unit its field in
/// [`Fit`](super::Fit) names (bytes or allocation events).
///
/// # Examples
///
/// ```
/// let line = memprobe::scaling::Line::fit(&[(10, 740), (20, 1380), (40, 2660)]);
/// assert_eq!((line.per_item, line.fixed), (64.0, 100.0));
/// assert_eq!(line.r_squared, 1.0);
/// assert!(line.shape.is_linear());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Line {
    /// The slope `b`: what each further item adds.
    pub per_item: f64,
    /// 95% confidence interval of `per_item` (Student's t with `points − 2` degrees of freedom);
    /// `None` with only two points. Exact, repeatable figures give a zero-width interval.
    pub per_item_ci: Option<Interval>,
    /// The intercept `a`: what the run costs with no items.
    pub fixed: f64,
    /// R², the share of the variation the line explains (1 when it explains all of it, or when
    /// there is no variation).
    pub r_squared: f64,
    /// Linear, bending, or unknown.
    pub shape: Shape,
    /// Points fitted (sizes × repetitions).
    pub points: usize,
}

impl Line {
    /// Fits `(n, y)` points by least squares. Needs at least two distinct `n` for a slope; with
    /// fewer, the slope is 0 and the interval `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::scaling::{Line, Shape};
    /// // y = n²: a line does not do it justice.
    /// let line = Line::fit(&[(10, 100), (50, 2500), (100, 10_000), (200, 40_000)]);
    /// assert!(matches!(line.shape, Shape::Bends { upward: true, .. }));
    /// ```
    pub fn fit(points: &[(u64, i128)]) -> Line {
        let n = points.len();
        let (per_item, fixed) = exact_line(points).unwrap_or_else(|| float_line(points));
        let mean_x = points.iter().map(|p| p.0 as f64).sum::<f64>() / n.max(1) as f64;
        let mean_y = points.iter().map(|p| p.1 as f64).sum::<f64>() / n.max(1) as f64;
        let residuals: Vec<f64> = points
            .iter()
            .map(|&(x, y)| y as f64 - fixed - per_item * x as f64)
            .collect();
        let ssr: f64 = residuals.iter().map(|r| r * r).sum();
        let sst: f64 = points.iter().map(|p| (p.1 as f64 - mean_y).powi(2)).sum();
        let sxx: f64 = points.iter().map(|p| (p.0 as f64 - mean_x).powi(2)).sum();
        let r_squared = if sst == 0.0 || ssr == 0.0 {
            1.0
        } else {
            (1.0 - ssr / sst).max(0.0)
        };
        let per_item_ci = (n > 2 && sxx > 0.0).then(|| {
            let half = t_975((n - 2) as f64) * (ssr / (n - 2) as f64 / sxx).sqrt();
            Interval {
                low: per_item - half,
                high: per_item + half,
            }
        });
        let shape = shape(points, &residuals, ssr, per_item, mean_x);
        Line {
            per_item,
            per_item_ci,
            fixed,
            r_squared,
            shape,
            points: n,
        }
    }
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (the half-width factor of a
/// two-sided 95% interval).
pub(crate) fn t_975(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

/// Slope and intercept from exact integer sums; `None` on overflow or without two distinct `n`.
fn exact_line(points: &[(u64, i128)]) -> Option<(f64, f64)> {
    let n = i128::try_from(points.len()).ok()?;
    let (mut sx, mut sy, mut sxx, mut sxy) = (0i128, 0i128, 0i128, 0i128);
    for &(x, y) in points {
        let x = i128::from(x);
        sx = sx.checked_add(x)?;
        sy = sy.checked_add(y)?;
        sxx = sxx.checked_add(x.checked_mul(x)?)?;
        sxy = sxy.checked_add(x.checked_mul(y)?)?;
    }
    let d = n.checked_mul(sxx)?.checked_sub(sx.checked_mul(sx)?)?;
    if d == 0 {
        return None;
    }
    let b = n.checked_mul(sxy)?.checked_sub(sx.checked_mul(sy)?)?;
    let a = sy.checked_mul(sxx)?.checked_sub(sx.checked_mul(sxy)?)?;
    Some((b as f64 / d as f64, a as f64 / d as f64))
}

/// Slope and intercept from `f64` sums around the means (slope 0 without two distinct `n`).
fn float_line(points: &[(u64, i128)]) -> (f64, f64) {
    let n = points.len().max(1) as f64;
    let mean_x = points.iter().map(|p| p.0 as f64).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for &(x, y) in points {
        let dx = x as f64 - mean_x;
        sxx += dx * dx;
        sxy += dx * (y as f64 - mean_y);
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (b, mean_y - b * mean_x)
}

/// The bend test (see the module docs).
fn shape(points: &[(u64, i128)], residuals: &[f64], ssr: f64, per_item: f64, mean_x: f64) -> Shape {
    let mut distinct: Vec<u64> = points.iter().map(|p| p.0).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 3 {
        return Shape::Unknown;
    }
    let (min_x, max_x) = (distinct[0] as f64, distinct[distinct.len() - 1] as f64);
    let scale = (max_x - mean_x).abs().max((mean_x - min_x).abs());
    let u: Vec<f64> = points
        .iter()
        .map(|p| (p.0 as f64 - mean_x) / scale)
        .collect();
    let w: Vec<f64> = u.iter().map(|u| u * u).collect();
    // z = w minus its least-squares line in u.
    let n = u.len() as f64;
    let (mean_u, mean_w) = (u.iter().sum::<f64>() / n, w.iter().sum::<f64>() / n);
    let (mut suu, mut suw) = (0.0, 0.0);
    for (u, w) in u.iter().zip(&w) {
        suu += (u - mean_u) * (u - mean_u);
        suw += (u - mean_u) * (w - mean_w);
    }
    let slope_w = suw / suu;
    let z: Vec<f64> = u
        .iter()
        .zip(&w)
        .map(|(u, w)| w - mean_w - slope_w * (u - mean_u))
        .collect();
    let szz: f64 = z.iter().map(|z| z * z).sum();
    if szz <= f64::EPSILON {
        return Shape::Unknown;
    }
    let c = z.iter().zip(residuals).map(|(z, r)| z * r).sum::<f64>() / szz;
    let bend = z.iter().map(|z| (c * z).abs()).fold(0.0, f64::max);
    // Rounding in a fit of exact figures leaves residuals of about 1e-12 of the largest one.
    let largest = points
        .iter()
        .map(|p| (p.1 as f64).abs())
        .fold(1.0, f64::max);
    let noise_floor = 1e-9 * largest;
    let rise = per_item.abs() * (max_x - min_x);
    let material = bend > noise_floor && bend > MATERIAL_BEND * rise;
    let ssr_q = (ssr - c * c * szz).max(0.0);
    let df = points.len().saturating_sub(3);
    let significant = if df == 0 || ssr_q <= noise_floor * noise_floor {
        // No degrees of freedom left, or the quadratic explains every residual: exact figures,
        // so a material bend is real.
        true
    } else {
        let se = (ssr_q / df as f64 / szz).sqrt();
        c.abs() / se > t_975(df as f64)
    };
    if material && significant {
        Shape::Bends {
            upward: c > 0.0,
            quadratic_per_item_squared: c / (scale * scale),
            bend,
        }
    } else {
        Shape::Linear
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Standard tables: t(0.975; 1) = 12.706, t(0.975; 10) = 2.228, t(0.975; 30) = 2.042.
        assert!((t_975(1.0) - 12.706).abs() < 1e-3);
        assert!((t_975(10.0) - 2.228).abs() < 1e-3);
        assert!((t_975(30.0) - 2.042).abs() < 1e-3);
    }

    #[test]
    fn exact_lines_are_exact() {
        // 64 bytes per item plus 1000 fixed, three repetitions at four sizes.
        let points: Vec<(u64, i128)> = [10u64, 50, 100, 200]
            .iter()
            .flat_map(|&n| std::iter::repeat_n((n, 1000 + 64 * i128::from(n)), 3))
            .collect();
        let line = Line::fit(&points);
        assert_eq!(line.per_item, 64.0);
        assert_eq!(line.fixed, 1000.0);
        assert_eq!(line.r_squared, 1.0);
        assert_eq!(
            line.per_item_ci,
            Some(Interval {
                low: 64.0,
                high: 64.0
            })
        );
        assert_eq!(line.shape, Shape::Linear);
        assert_eq!(line.points, 12);
    }

    #[test]
    fn a_fractional_slope_is_the_exact_quotient_rounded_once() {
        // Sizes whose mean (13/3) is not a binary fraction: the slope is 53/38, from exact sums.
        let line = Line::fit(&[(2, 3), (4, 6), (7, 10)]);
        assert_eq!(line.per_item, 53.0 / 38.0);
    }

    #[test]
    fn noise_widens_the_interval_around_the_true_slope() {
        // 10 per item with deterministic ±3 wobble.
        let wobble = [3i128, -3, 2, -2, 1, -1, 0, 3, -3, 2, -2, 1];
        let sizes = [10u64, 50, 100, 200];
        let points: Vec<(u64, i128)> = (0..12)
            .map(|k| {
                let n = sizes[k % 4];
                (n, 500 + 10 * i128::from(n) + wobble[k])
            })
            .collect();
        let line = Line::fit(&points);
        let ci = line.per_item_ci.unwrap();
        assert!(ci.low < ci.high && ci.contains(10.0), "{line:?}");
        assert!(line.r_squared > 0.999 && line.r_squared < 1.0);
        assert_eq!(line.shape, Shape::Linear);
    }

    #[test]
    fn quadratic_growth_bends_upward_and_a_saturating_one_downward() {
        let sizes = [10u64, 50, 100, 200];
        let quad: Vec<(u64, i128)> = sizes
            .iter()
            .map(|&n| (n, i128::from(n * n) + 7 * i128::from(n)))
            .collect();
        let Shape::Bends {
            upward,
            quadratic_per_item_squared,
            ..
        } = Line::fit(&quad).shape
        else {
            panic!("not flagged")
        };
        assert!(upward);
        assert!((quadratic_per_item_squared - 1.0).abs() < 1e-9);

        // A cache that stops growing at 60 entries, measured three times at each size.
        let capped: Vec<(u64, i128)> = sizes
            .iter()
            .flat_map(|&n| std::iter::repeat_n((n, 100 * i128::from(n.min(60))), 3))
            .collect();
        assert!(matches!(
            Line::fit(&capped).shape,
            Shape::Bends { upward: false, .. }
        ));
    }

    #[test]
    fn small_steps_do_not_count_as_a_bend() {
        // A Vec doubling: the byte total is within a few percent of linear.
        let points: Vec<(u64, i128)> = [100u64, 200, 300, 400]
            .iter()
            .map(|&n| (n, 1000 * i128::from(n) + if n == 300 { 2000 } else { 0 }))
            .collect();
        assert_eq!(Line::fit(&points).shape, Shape::Linear);
    }

    #[test]
    fn two_sizes_cannot_tell_the_shape() {
        let line = Line::fit(&[(1, 10), (2, 20)]);
        assert_eq!(line.shape, Shape::Unknown);
        assert_eq!(line.per_item_ci, None);
        assert_eq!(line.per_item, 10.0);
    }

    #[test]
    fn a_constant_figure_has_zero_slope_and_r_squared_one() {
        let line = Line::fit(&[(1, 0), (5, 0), (9, 0)]);
        assert_eq!((line.per_item, line.fixed, line.r_squared), (0.0, 0.0, 1.0));
        assert_eq!(line.shape, Shape::Linear);
    }
}
