//! Axis units and ticks: bytes shown in one binary unit per axis (B, KiB, MiB, GiB, TiB) with
//! ticks on round numbers of that unit, and the x-axis in seconds, minutes, hours or iterations.
//! The SVG and the HTML both take their axes from here, so they label a run alike (the HTML's
//! script repeats [`ticks`] for zoomed ranges).

use serde::Serialize;

/// One unit of an axis: its label and how many of the raw figure (bytes, seconds) it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Unit {
    /// Shown after each tick label (`MiB`, `s`, `it`).
    pub(crate) label: &'static str,
    /// Raw figures per unit (1,048,576 for MiB, 60 for min).
    pub(crate) scale: f64,
}

const BINARY: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];

/// The binary unit for byte values up to `max_bytes`: the largest in which `max_bytes` is at
/// least 1 (so the ticks read `0 … 12 MiB`, not `0 … 12,582,912 B`).
pub(crate) fn byte_unit(max_bytes: f64) -> Unit {
    let mut i = 0;
    while i + 1 < BINARY.len() && max_bytes.abs() >= 1024f64.powi(i as i32 + 1) {
        i += 1;
    }
    Unit {
        label: BINARY[i],
        scale: 1024f64.powi(i as i32),
    }
}

/// The unit of a time axis spanning `span_secs`: seconds up to 5 minutes, minutes up to 5 hours,
/// then hours.
pub(crate) fn time_unit(span_secs: f64) -> Unit {
    if span_secs <= 300.0 {
        Unit {
            label: "s",
            scale: 1.0,
        }
    } else if span_secs <= 5.0 * 3600.0 {
        Unit {
            label: "min",
            scale: 60.0,
        }
    } else {
        Unit {
            label: "h",
            scale: 3600.0,
        }
    }
}

/// The iteration axis's unit.
pub(crate) fn iteration_unit() -> Unit {
    Unit {
        label: "it",
        scale: 1.0,
    }
}

/// Ticks on round numbers (1, 2 or 5 × 10^k) covering `lo..=hi` (in the axis unit), about
/// `target` of them; empty for an empty or non-finite range.
pub(crate) fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || target == 0 {
        return Vec::new();
    }
    let raw = (hi - lo) / target as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick's label: the value in the unit with as few decimals as the step needs, then the unit.
pub(crate) fn label(value: f64, step: f64, unit: &str) -> String {
    let decimals = if step >= 1.0 || step <= 0.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{value:.decimals$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units_are_binary_and_switch_at_1024() {
        assert_eq!(byte_unit(1023.0).label, "B");
        assert_eq!(byte_unit(1024.0).label, "KiB");
        assert_eq!(byte_unit(12.0 * 1048576.0).label, "MiB");
        assert_eq!(byte_unit(12.0 * 1048576.0).scale, 1048576.0);
        assert_eq!(byte_unit(3.0 * 1073741824.0).label, "GiB");
        assert_eq!(byte_unit(1e18).label, "TiB");
    }

    #[test]
    fn time_units_follow_the_span() {
        assert_eq!(time_unit(10.0).label, "s");
        assert_eq!(time_unit(600.0).label, "min");
        assert_eq!(time_unit(86400.0).label, "h");
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(3.2, 9.7, 6), [4.0, 6.0, 8.0]);
        assert_eq!(ticks(3.2, 9.7, 7), [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        assert_eq!(ticks(0.0, 0.9, 5), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8]);
        assert_eq!(
            ticks(0.0, 250.0, 5),
            [0.0, 50.0, 100.0, 150.0, 200.0, 250.0]
        );
        assert!(ticks(5.0, 5.0, 5).is_empty());
        assert!(ticks(0.0, f64::NAN, 5).is_empty());
        assert_eq!(label(4.0, 2.0, "MiB"), "4 MiB");
        assert_eq!(label(0.6000000000000001, 0.2, "s"), "0.6 s");
        assert_eq!(label(1.25, 0.05, "GiB"), "1.25 GiB");
    }
}
