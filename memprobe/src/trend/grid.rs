//! Decimation without aliasing: consecutive samples grouped into at most a few thousand bins,
//! each keeping its count, mean, minimum and maximum (never every k-th sample, which folds a
//! period near k samples into a slow drift). Everything downstream of the warm-up cut works on
//! bins, so the analysis costs O(n) once and then O(bins), whatever the run's length.

/// The most bins a run is reduced to.
pub(crate) const MAX_BINS: usize = 2048;

/// A run of consecutive samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bin {
    /// Mean x (axis position) of the samples.
    pub x: f64,
    /// Mean of the values.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Index of the bin's first sample among the judged samples.
    pub start: usize,
}

/// Groups `n` points `(x, y, min)` (sorted by x; `min` is the smallest reading behind `y`, `y`
/// itself for a plain sample) into at most `max_bins` bins of (nearly) equal counts, in one pass.
pub(crate) fn bins(
    points: impl Iterator<Item = (f64, f64, f64)>,
    n: usize,
    max_bins: usize,
) -> Vec<Bin> {
    let m = n.min(max_bins).max(1);
    let mut out = Vec::with_capacity(m);
    let (mut k, mut start, mut end) = (0, 0, n / m);
    let (mut sx, mut sy, mut min) = (0.0, 0.0, f64::INFINITY);
    for (i, (x, y, lo)) in points.enumerate() {
        while i >= end {
            k += 1;
            end = (k + 1) * n / m;
        }
        sx += x;
        sy += y;
        min = min.min(lo);
        if i + 1 == end {
            let count = (end - start) as f64;
            out.push(Bin {
                x: sx / count,
                mean: sy / count,
                min,
                start,
            });
            (sx, sy, min) = (0.0, 0.0, f64::INFINITY);
            start = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_keep_means_and_minima() {
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys = [0.0, 10.0, 2.0, 4.0, 6.0, 8.0, 1.0, 1.0, 1.0, 5.0];
        let points = || xs.iter().zip(&ys).map(|(&x, &y)| (x, y, y));
        let b = bins(points(), 10, 3);
        assert_eq!(b.len(), 3);
        assert_eq!(
            (b[0].x, b[0].mean, b[0].min, b[0].start),
            (1.0, 4.0, 0.0, 0)
        );
        assert_eq!((b[1].mean, b[1].min, b[1].start), (6.0, 4.0, 3));
        assert_eq!((b[2].x, b[2].mean, b[2].min), (7.5, 2.0, 1.0));
        assert_eq!(bins(points(), 10, 100).len(), 10);
    }
}
