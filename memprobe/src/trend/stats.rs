//! Small robust-statistics helpers shared by the trend submodules: medians by selection and the
//! median absolute deviation.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0], 3.0), 1.0);
    }
}
