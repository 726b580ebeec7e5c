//! The compact human table: one figure a line, binary units, per-iteration figures beside
//! totals, and a label on every noisy figure.

use super::{JemallocFigures, Render, Report};
use crate::units::{Bytes, SignedBytes};
use std::fmt::Write;

/// Renders a report as a small aligned table.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::report::{Render, Table};
/// let text = Table.render_to_string(&memprobe::measure(|| vec![0u8; 2048])?);
/// assert!(text.contains("allocated"));
/// assert!(text.contains("2.0 KiB"));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Table;

impl Render for Table {
    fn render(&self, r: &Report, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        let a = &r.allocs;
        let per = r.per_iteration();
        let iterated = r.iterations > 1;
        let name = r.name.as_deref().unwrap_or("(unnamed)");
        write!(out, "memprobe: {name} ({} scope", r.scope)?;
        if iterated || r.warmup_iterations > 0 {
            write!(
                out,
                ", {} iterations after {} warm-up",
                r.iterations, r.warmup_iterations
            )?;
        }
        writeln!(out, ", {:.3} ms)", r.duration_ns as f64 / 1e6)?;

        let mut line = |label: &str, total: String, each: Option<String>| -> std::fmt::Result {
            write!(out, "  {label:<12}{total:>14}")?;
            match each {
                Some(each) if iterated => writeln!(out, "   {each:>12}/iter"),
                _ => writeln!(out),
            }
        };
        line(
            "allocations",
            a.allocations().to_string(),
            Some(format!("{:.2}", per.allocations)),
        )?;
        line("  alloc", a.alloc_count.to_string(), None)?;
        line("  realloc", a.realloc_count.to_string(), None)?;
        line("  dealloc", a.dealloc_count.to_string(), None)?;
        line(
            "allocated",
            Bytes(a.alloc_bytes).to_string(),
            Some(per_bytes(per.alloc_bytes)),
        )?;
        line("freed", Bytes(a.freed_bytes).to_string(), None)?;
        line(
            "net",
            SignedBytes(a.net_bytes).to_string(),
            Some(per_bytes(per.net_bytes)),
        )?;
        line("peak", Bytes(a.peak_bytes).to_string(), None)?;
        line("largest", Bytes(a.largest_alloc_bytes).to_string(), None)?;
        if let Some(outside) = r.outside_alloc_count.filter(|&n| n > 0) {
            writeln!(out, "  ! {}", super::OutsideNote(outside))?;
        }
        if let Some(rss) = &r.rss {
            let mut text = format!(
                "{} -> {} ({})",
                Bytes(rss.before.rss_bytes),
                Bytes(rss.after.rss_bytes),
                SignedBytes(rss.delta_rss_bytes)
            );
            if let Some(peak) = rss.peak_rss_bytes {
                let since = if rss.peak_reset {
                    "this probe"
                } else {
                    "process start"
                };
                let _ = write!(text, ", peak {} since {since}", Bytes(peak));
            }
            writeln!(out, "  {:<12}{text}  [noisy, process-wide]", "rss")?;
        }
        match &r.jemalloc {
            JemallocFigures::Measured {
                before,
                after,
                purged,
            } => {
                let pair = |b: u64, a: u64| format!("{} -> {}", Bytes(b), Bytes(a));
                writeln!(
                    out,
                    "  {:<12}allocated {}, active {}, resident {}, retained {}{}",
                    "jemalloc",
                    pair(before.allocated_bytes, after.allocated_bytes),
                    pair(before.active_bytes, after.active_bytes),
                    pair(before.resident_bytes, after.resident_bytes),
                    pair(before.retained_bytes, after.retained_bytes),
                    if *purged { " (purged)" } else { "" }
                )?;
            }
            JemallocFigures::Unavailable { reason } => {
                writeln!(out, "  {:<12}n/a: {reason}", "jemalloc")?;
            }
        }
        Ok(())
    }
}

fn per_bytes(value: f64) -> String {
    if value.abs() < 1024.0 {
        format!("{value:.1} B")
    } else if value < 0.0 {
        format!("-{}", Bytes(value.abs() as u64))
    } else {
        Bytes(value as u64).to_string()
    }
}
