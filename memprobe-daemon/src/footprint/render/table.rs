//! The terminal table: aligned plain text.

use super::{Render, Report, delta, headline, maybe, symbols_caption, total_note};
use std::fmt;

/// Plain aligned text for a terminal or a log.
pub(crate) struct Table;

impl Render for Table {
    fn render(&self, report: &Report, top: usize, out: &mut dyn fmt::Write) -> fmt::Result {
        match report {
            Report::One(f) => {
                writeln!(out, "{} ({}, {})", f.path, f.format, f.architecture)?;
                for (name, bytes) in f.totals.figures() {
                    let line = format!("  {name:<8} {bytes:>12}  {}", total_note(name));
                    writeln!(out, "{}", line.trim_end())?;
                }
                writeln!(out, "sections")?;
                for s in &f.sections {
                    writeln!(
                        out,
                        "  {:<28} {:<8} {:>12}",
                        s.name,
                        s.class.name(),
                        s.size_bytes
                    )?;
                }
                writeln!(out, "{}", symbols_caption(f, top))?;
                for s in f.symbols.iter().take(top) {
                    let count = if s.count > 1 {
                        format!(" (x{})", s.count)
                    } else {
                        String::new()
                    };
                    writeln!(
                        out,
                        "  {:>12} {:<8} {}{count}",
                        s.size_bytes,
                        s.class.name(),
                        s.name
                    )?;
                }
            }
            Report::Two(d) => {
                writeln!(
                    out,
                    "BASE {} ({}, {})",
                    d.base.path, d.base.format, d.base.architecture
                )?;
                writeln!(
                    out,
                    "NEW  {} ({}, {})",
                    d.new.path, d.new.format, d.new.architecture
                )?;
                writeln!(out, "  {:<8} {:>12} {:>12}  change", "", "base", "new")?;
                for t in &d.totals {
                    let mark = if t.grew_past_threshold { "  FAIL" } else { "" };
                    writeln!(
                        out,
                        "  {:<8} {:>12} {:>12}  {}{mark}",
                        t.name,
                        t.base_bytes,
                        t.new_bytes,
                        delta(Some(t.base_bytes), t.delta_bytes)
                    )?;
                }
                for (title, items, limit) in [
                    ("sections", &d.sections, usize::MAX),
                    ("symbols", &d.symbols, top),
                ] {
                    writeln!(out, "{title} that changed ({})", items.len())?;
                    for i in items.iter().take(limit) {
                        writeln!(
                            out,
                            "  {:>12} {:>12}  {:<20} {:<8} {}",
                            maybe(i.base_bytes),
                            maybe(i.new_bytes),
                            delta(i.base_bytes, i.delta_bytes),
                            i.class.name(),
                            i.name
                        )?;
                    }
                }
                writeln!(out, "{}", headline(d))?;
            }
        }
        Ok(())
    }
}
