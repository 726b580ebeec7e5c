//! Presenting a [`Comparison`]: one file per format behind [`Render`] (terminal table, markdown,
//! JSON, GitHub annotations), and the few formatters they share. Nothing here measures.

mod github;
mod json;
mod markdown;
mod table;

pub(crate) use github::Github;
pub(crate) use json::Json;
#[cfg(feature = "json-schema")]
pub(crate) use json::schema as json_schema;
pub(crate) use markdown::Markdown;
pub(crate) use table::Table;

use super::diff::{Change, Comparison, FigureDiff};
use super::load::Value;
use memprobe::units::{ByteAmount, Exact, SignedBytes};
use std::fmt;

/// One output format of a comparison.
pub(crate) trait Render {
    /// Writes `comparison` to `out`.
    fn render(&self, comparison: &Comparison, out: &mut dyn fmt::Write) -> fmt::Result;

    /// Renders into a new `String`.
    fn render_to_string(&self, comparison: &Comparison) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.render(comparison, &mut out);
        out
    }
}

/// A figure for people: bytes in binary units (exact below 1 KiB), counts exactly.
pub(crate) fn value(f: &FigureDiff, v: Option<Value>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if f.metric.is_bytes() => ByteAmount(v.as_f64()).to_string(),
        Some(v) => Exact(v.as_f64(), "").to_string(),
    }
}

/// The change with its sign, and the relative change when BASE is not 0: `+1.0 KiB (+12.5%)`.
pub(crate) fn delta(f: &FigureDiff) -> String {
    let Some(d) = f.delta else {
        return "-".to_owned();
    };
    let absolute = match d {
        Value::Int(v) if f.metric.is_bytes() => SignedBytes(v).to_string(),
        Value::Int(0) => "0".to_owned(),
        Value::Int(v) => format!("{v:+}"),
        Value::Float(v) if f.metric.is_bytes() => {
            let sign = if v > 0.0 { "+" } else { "" };
            format!("{sign}{}", ByteAmount(v))
        }
        Value::Float(v) => format!("{:+}", Exact(v, "")).replace("+-", "-"),
    };
    match f.relative {
        Some(r) if r != 0.0 => format!("{absolute} ({:+.1}%)", r * 100.0),
        None if f.change != Change::Same => format!("{absolute} (from 0)"),
        _ => absolute,
    }
}

/// The verdict on one figure, in words.
pub(crate) fn status(f: &FigureDiff, comparison: &Comparison) -> String {
    match f.change {
        Change::Same => String::new(),
        Change::Decreased => "smaller".to_owned(),
        Change::Increased => "larger".to_owned(),
        Change::GrewPastThreshold => format!("FAIL: grew past {}", thresholds(comparison)),
        Change::Noise => format!("within RSS noise ({})", comparison.settings.rss_noise),
    }
}

/// `--fail-if-growth` as given: `10%` or `10% and 64.0 MiB`.
pub(crate) fn thresholds(comparison: &Comparison) -> String {
    comparison
        .settings
        .fail_if_growth
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The one-line outcome: how many tests changed, and how many failed.
pub(crate) fn headline(c: &Comparison) -> String {
    let changed = c.rows.iter().filter(|r| r.changed()).count();
    let failed = c.rows.iter().filter(|r| r.failed).count();
    let what = match c.kind {
        super::load::Kind::Reports => "tests",
        super::load::Kind::Summary => "soaks",
    };
    let mut line = format!("{changed} of {} {what} changed", c.rows.len());
    if !c.settings.fail_if_growth.is_empty() {
        line += &format!(", {failed} grew past {}", thresholds(c));
    }
    if !c.added.is_empty() {
        line += &format!(", {} new", c.added.len());
    }
    if !c.removed.is_empty() {
        line += &format!(", {} gone", c.removed.len());
    }
    line
}
