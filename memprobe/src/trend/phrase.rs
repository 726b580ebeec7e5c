//! The small words of the trend engine's sentences: byte figures (`7.7 MiB`, `+1.0 MiB`), rates,
//! ranges, and lengths and positions along the judged axis. Below the sentence and the
//! inconclusive reasons, which both speak in them.

use super::evidence::Axis;
use super::series::SeriesKind;
use crate::units::{ByteAmount, ByteRange, Seconds as Secs};

pub(super) fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", qty(v))
    } else {
        qty(v)
    }
}

/// A length along the axis: `2 s`, `1.5 min`, `20 iterations`.
pub(super) fn length(axis: Axis, d: f64) -> String {
    match axis {
        Axis::Iterations => format!("{d:.0} iterations"),
        Axis::Seconds => Secs(d).to_string(),
    }
}

pub(super) fn position(axis: Axis, x: f64) -> String {
    match axis {
        Axis::Iterations => format!("iteration {x:.0}"),
        Axis::Seconds => Secs(x).to_string(),
    }
}

pub(super) fn capitalize(series: SeriesKind) -> String {
    let name = series.to_string();
    // "jemalloc" is a name spelled in lower case, even at the start of a sentence.
    if name.starts_with("jemalloc") {
        return name;
    }
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A byte figure in binary units (`7.7 MiB`, `-12 B`, `0.5 B`).
pub(super) fn qty(v: f64) -> String {
    ByteAmount(v).to_string()
}

pub(super) fn rate(v: f64, axis: Axis) -> String {
    format!("{}/{}", qty(v), axis.unit())
}

/// Two byte figures in the unit of the larger: `120.0 to 140.0 KiB/s`.
pub(super) fn range(low: f64, high: f64, suffix: &str) -> String {
    format!("{}{suffix}", ByteRange { low, high })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::percent;

    #[test]
    fn figures_read_well() {
        assert_eq!(qty(7.7 * 1048576.0), "7.7 MiB");
        assert_eq!(qty(-12.0), "-12 B");
        assert_eq!(qty(0.5), "0.5 B");
        assert_eq!(qty(-0.01), "0.0 B");
        assert_eq!(
            range(120.0 * 1024.0, 140.0 * 1024.0, "/s"),
            "120.0 to 140.0 KiB/s"
        );
        assert_eq!(range(-40.0, 60.0, "/s"), "-40 to 60 B/s");
        assert_eq!(Secs(30.0).to_string(), "30 s");
        assert_eq!(percent(0.0725), 7.25);
        assert_eq!(Secs(0.25).to_string(), "250 ms");
        assert_eq!(Secs(150.0).to_string(), "2.5 min");
    }
}
