//! Presenting a footprint or a comparison of two: one file per format behind [`Render`] (terminal
//! table, markdown, JSON), laid out as `compare`'s renderers are. Sizes are exact byte counts:
//! a footprint is small and a few bytes matter. Nothing here measures.

mod json;
mod markdown;
mod table;

pub(crate) use json::Json;
pub(crate) use markdown::Markdown;
pub(crate) use table::Table;

use super::diff::Diff;
use super::measure::{Footprint, SymbolSizes};
use std::fmt;

/// What `footprint` shows: one binary, or two compared.
pub(crate) enum Report {
    /// `footprint BINARY`.
    One(Footprint),
    /// `footprint BINARY BINARY2`.
    Two(Box<Diff>),
}

/// One output format.
pub(crate) trait Render {
    /// Writes `report` to `out`, with at most `top` symbols.
    fn render(&self, report: &Report, top: usize, out: &mut dyn fmt::Write) -> fmt::Result;

    /// Renders into a new `String`.
    fn render_to_string(&self, report: &Report, top: usize) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.render(report, top, &mut out);
        out
    }
}

/// What the total means, for the rows of flash and RAM.
pub(crate) fn total_note(name: &str) -> &'static str {
    match name {
        "flash" => "text + rodata + data",
        "ram" => "data + bss",
        _ => "",
    }
}

/// The caption of the symbol list.
pub(crate) fn symbols_caption(f: &Footprint, top: usize) -> String {
    let how = match f.symbol_sizes {
        SymbolSizes::Exact => "sizes from the symbol table",
        SymbolSizes::AddressGaps => "sizes from address gaps: Mach-O records none",
    };
    format!(
        "largest symbols ({} of {}, {how})",
        top.min(f.symbols.len()),
        f.symbols.len()
    )
}

/// A size that may be missing on one side.
pub(crate) fn maybe(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A change in bytes with its sign, and relative to BASE when BASE is not 0.
pub(crate) fn delta(base: Option<u64>, delta: i64) -> String {
    let absolute = if delta == 0 {
        "0".to_owned()
    } else {
        format!("{delta:+}")
    };
    match base {
        Some(b) if b > 0 && delta != 0 => {
            format!("{absolute} ({:+.1}%)", delta as f64 * 100.0 / b as f64)
        }
        _ => absolute,
    }
}

/// The one-line outcome of a comparison.
pub(crate) fn headline(d: &Diff) -> String {
    let flash = &d.totals[4];
    let ram = &d.totals[5];
    let mut line = format!(
        "flash {}, RAM {}; {} sections and {} symbols changed",
        delta(Some(flash.base_bytes), flash.delta_bytes),
        delta(Some(ram.base_bytes), ram.delta_bytes),
        d.sections.len(),
        d.symbols.len()
    );
    if !d.fail_if_growth.is_empty() {
        let failed: Vec<&str> = d
            .totals
            .iter()
            .filter(|t| t.grew_past_threshold)
            .map(|t| t.name)
            .collect();
        let thresholds = d.fail_if_growth.join(" and ");
        if failed.is_empty() {
            line += &format!("; nothing grew past {thresholds}");
        } else {
            line += &format!("; FAIL: {} grew past {thresholds}", failed.join(", "));
        }
    }
    line
}
