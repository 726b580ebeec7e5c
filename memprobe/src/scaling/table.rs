//! Presentation of a [`Fit`]: the per-item table (one row per figure) and the per-size table
//! (exact counts beside the noisy RSS delta), in binary units ([`crate::units`]). Measurement lives in the parent
//! module; nothing here measures.

use super::{Fit, Line, Point};
use crate::units::{ByteAmount, ByteRange, Exact};
use std::fmt::{self, Write};

/// A count: whole numbers as such, fractions with two decimals, and fractions below 0.005
/// with two significant digits.
///
/// # Examples
///
/// ```
/// use memprobe::scaling::table::count;
/// assert_eq!(count(3.0), "3");
/// assert_eq!(count(1.5), "1.50");
/// assert_eq!(count(0.000_012_3), "0.000012");
/// ```
pub fn count(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded == 0.0 && value != 0.0 && value.is_finite() {
        // A small but real cost (one reallocation per 100,000 bytes) must not read as 0.
        let decimals = (1.0 - value.abs().log10().floor()) as usize;
        return format!("{value:.decimals$}");
    }
    Exact(rounded, "").to_string()
}

fn row(out: &mut fmt::Formatter<'_>, label: &str, line: &Line, bytes: bool) -> fmt::Result {
    let show = |v: f64| {
        if bytes {
            ByteAmount(v).to_string()
        } else {
            count(v)
        }
    };
    let ci = match line.per_item_ci {
        Some(ci) if bytes => ByteRange {
            low: ci.low,
            high: ci.high,
        }
        .to_string(),
        Some(ci) => format!("{} to {}", count(ci.low), count(ci.high)),
        None => "n/a (2 points)".to_owned(),
    };
    writeln!(
        out,
        "  {label:<19} {:>10}  {ci:<24} {:>10}  {:.4}  {}",
        show(line.per_item),
        show(line.fixed),
        line.r_squared,
        line.shape
    )
}

/// The lower median of `values` (a value that was measured, not an average of two).
fn lower_median<T: Copy + Ord>(mut values: Vec<T>) -> Option<T> {
    values.sort_unstable();
    values.get(values.len().saturating_sub(1) / 2).copied()
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes = self
            .sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            f,
            "memprobe scaling: {} (per {}; sizes {sizes}; {} repetitions after {} warm-up; {} scope)",
            self.name.as_deref().unwrap_or("(unnamed)"),
            self.item,
            self.repetitions,
            self.warmup,
            self.scope,
        )?;
        writeln!(f, "  {}", self.summary())?;
        writeln!(
            f,
            "  {:<19} {:>10}  {:<24} {:>10}  {:<6}  shape",
            "figure", "per item", "95% CI", "fixed", "R²"
        )?;
        row(f, "allocations", &self.allocations, false)?;
        row(f, "allocated", &self.alloc_bytes, true)?;
        row(f, "peak live", &self.peak_bytes, true)?;
        row(f, "kept (net)", &self.net_bytes, true)?;
        if let Some(rss) = &self.rss_bytes {
            row(f, "rss [noisy]", rss, true)?;
        }
        let mut header = format!(
            "  {:>9} {:>12} {:>11} {:>11} {:>11}",
            "n", "allocations", "allocated", "peak live", "kept (net)"
        );
        let with_rss = self.points.iter().any(|p| p.rss_delta_bytes.is_some());
        if with_rss {
            let _ = write!(header, " {:>22}", "rss delta [noisy]");
        }
        writeln!(
            f,
            "  per size, n {}s (median of {} repetitions; exact counts{}):",
            self.item,
            self.repetitions,
            if with_rss {
                ", then the RSS delta read the usual way"
            } else {
                ""
            }
        )?;
        writeln!(f, "{header}")?;
        for &size in &self.sizes {
            let at: Vec<&Point> = self.at(size).collect();
            let med = |g: fn(&Point) -> i128| lower_median(at.iter().map(|p| g(p)).collect());
            let b =
                |v: Option<i128>| v.map_or("-".to_owned(), |v| ByteAmount(v as f64).to_string());
            write!(
                f,
                "  {size:>9} {:>12} {:>11} {:>11} {:>11}",
                med(|p| p.allocations.into()).map_or("-".to_owned(), |v| v.to_string()),
                b(med(|p| p.alloc_bytes.into())),
                b(med(|p| p.peak_bytes.into())),
                b(med(|p| p.net_bytes.into())),
            )?;
            if with_rss {
                let rss: Vec<i64> = at.iter().filter_map(|p| p.rss_delta_bytes).collect();
                let (lo, hi) = (rss.iter().min(), rss.iter().max());
                let text = match (lo, hi) {
                    (Some(lo), Some(hi)) if lo == hi => ByteAmount(*lo as f64).to_string(),
                    (Some(lo), Some(hi)) => ByteRange {
                        low: *lo as f64,
                        high: *hi as f64,
                    }
                    .to_string(),
                    _ => "-".to_owned(),
                };
                write!(f, " {text:>22}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
