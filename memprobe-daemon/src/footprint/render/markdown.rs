//! Markdown tables, to paste into a pull request or a GitHub step summary.

use super::{Render, Report, delta, headline, maybe, symbols_caption, total_note};
use std::fmt;

/// Markdown.
pub(crate) struct Markdown;

/// A name safe inside a table cell: pipes escaped, in code spans.
fn cell(name: &str) -> String {
    format!("`{}`", name.replace('|', "\\|").replace('`', "'"))
}

impl Render for Markdown {
    fn render(&self, report: &Report, top: usize, out: &mut dyn fmt::Write) -> fmt::Result {
        match report {
            Report::One(f) => {
                writeln!(
                    out,
                    "### Footprint of {} ({}, {})\n",
                    cell(&f.path),
                    f.format,
                    f.architecture
                )?;
                writeln!(out, "| | bytes | |\n|---|---:|---|")?;
                for (name, bytes) in f.totals.figures() {
                    writeln!(out, "| {name} | {bytes} | {} |", total_note(name))?;
                }
                writeln!(out, "\n| section | class | bytes |\n|---|---|---:|")?;
                for s in &f.sections {
                    writeln!(
                        out,
                        "| {} | {} | {} |",
                        cell(&s.name),
                        s.class.name(),
                        s.size_bytes
                    )?;
                }
                writeln!(
                    out,
                    "\n{}\n\n| symbol | class | bytes |\n|---|---|---:|",
                    symbols_caption(f, top)
                )?;
                for s in f.symbols.iter().take(top) {
                    writeln!(
                        out,
                        "| {} | {} | {} |",
                        cell(&s.name),
                        s.class.name(),
                        s.size_bytes
                    )?;
                }
            }
            Report::Two(d) => {
                writeln!(
                    out,
                    "### Footprint: {} → {}\n",
                    cell(&d.base.path),
                    cell(&d.new.path)
                )?;
                writeln!(out, "{}\n", headline(d))?;
                writeln!(out, "| | base | new | change | |\n|---|---:|---:|---:|---|")?;
                for t in &d.totals {
                    let mark = if t.grew_past_threshold {
                        "**FAIL**"
                    } else {
                        ""
                    };
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {mark} |",
                        t.name,
                        t.base_bytes,
                        t.new_bytes,
                        delta(Some(t.base_bytes), t.delta_bytes)
                    )?;
                }
                for (title, items, limit) in [
                    ("section", &d.sections, usize::MAX),
                    ("symbol", &d.symbols, top),
                ] {
                    writeln!(
                        out,
                        "\n| {title} | class | base | new | change |\n|---|---|---:|---:|---:|"
                    )?;
                    for i in items.iter().take(limit) {
                        writeln!(
                            out,
                            "| {} | {} | {} | {} | {} |",
                            cell(&i.name),
                            i.class.name(),
                            maybe(i.base_bytes),
                            maybe(i.new_bytes),
                            delta(i.base_bytes, i.delta_bytes)
                        )?;
                    }
                }
            }
        }
        Ok(())
    }
}
