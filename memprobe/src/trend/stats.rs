//! Small robust-statistics helpers shared by the trend submodules: medians by selection, the
//! median absolute deviation, and thinning a long series into block medians.

/// The scale factor that turns a median absolute deviation into a standard deviation for normal
/// noise.
pub(crate) const MAD_TO_SIGMA: f64 = 1.4826;

/// The median of `values`, reordering them; the mean of the two middle values for an even count.
/// `values` must not be empty.
pub(crate) fn median_in_place(values: &mut [f64]) -> f64 {
    debug_assert!(!values.is_empty());
    let odd = values.len() % 2 == 1;
    let mid = values.len() / 2;
    let (left, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if odd {
        upper
    } else {
        let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        lower + (upper - lower) / 2.0
    }
}

/// The median of `values`, leaving them untouched.
pub(crate) fn median(values: &[f64]) -> f64 {
    median_in_place(&mut values.to_vec())
}

/// The median absolute deviation of `values` around `center`.
pub(crate) fn mad(values: &[f64], center: f64) -> f64 {
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median_in_place(&mut deviations)
}

/// A series thinned to at most `max_points` points: each block of consecutive samples becomes one
/// point at its middle sample's x and its median y.
pub(crate) struct Blocks {
    /// The x of each block's middle sample.
    pub xs: Vec<f64>,
    /// The median y of each block.
    pub ys: Vec<f64>,
    /// The index of each block's first sample in the thinned series.
    pub starts: Vec<usize>,
}

/// Thins `(xs, ys)` (sorted by x) into at most `max_points` block medians; a series that short
/// already is kept as it is. Block medians rather than picked samples keep the information of
/// every sample and shrug off spikes.
pub(crate) fn thin(xs: &[f64], ys: &[f64], max_points: usize) -> Blocks {
    let n = xs.len();
    if n <= max_points {
        return Blocks {
            xs: xs.to_vec(),
            ys: ys.to_vec(),
            starts: (0..n).collect(),
        };
    }
    let m = max_points;
    let mut blocks = Blocks {
        xs: Vec::with_capacity(m),
        ys: Vec::with_capacity(m),
        starts: Vec::with_capacity(m),
    };
    // PERF: one scratch buffer for every block's selection, so thinning allocates once.
    let mut scratch = Vec::with_capacity(n.div_ceil(m));
    for k in 0..m {
        let (start, end) = (k * n / m, (k + 1) * n / m);
        scratch.clear();
        scratch.extend_from_slice(&ys[start..end]);
        blocks.xs.push(xs[start + (end - start) / 2]);
        blocks.ys.push(median_in_place(&mut scratch));
        blocks.starts.push(start);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0], 3.0), 1.0);
    }

    #[test]
    fn thinning_keeps_block_medians() {
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys = [0.0, 100.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, -50.0, 3.0];
        let b = thin(&xs, &ys, 3);
        assert_eq!(b.starts, [0, 3, 6]);
        assert_eq!(b.ys, [1.0, 2.0, 3.0]);
        assert_eq!(b.xs, [1.0, 4.0, 8.0]);
    }
}
