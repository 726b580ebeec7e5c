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
use super::load::{Metric, Value};
use super::sites::{LoneSite, SiteRow, SitesDiff};
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
        Change::SamplingNoise => "within sampling noise".to_owned(),
    }
}

/// The site columns' titles, for the terminal and markdown.
pub(crate) const SITE_HEADER: [&str; 7] = [
    "site",
    "bytes BASE",
    "bytes NEW",
    "Δ bytes",
    "Δ allocations",
    "Δ live",
    "",
];

/// One site's cells under [`SITE_HEADER`]; the status is its bytes' (the gated figure), else the
/// first changed figure's.
pub(crate) fn site_cells(site: &SiteRow, c: &Comparison) -> [String; 7] {
    let cell = |m: Metric, f: fn(&FigureDiff) -> String| site.figure(m).map_or_else(String::new, f);
    let bytes = site.figure(Metric::AllocBytes);
    let status_of = bytes
        .filter(|f| f.change != Change::Same)
        .or_else(|| site.figures.iter().find(|f| f.change != Change::Same));
    [
        site.function.clone(),
        bytes.map_or_else(String::new, |f| value(f, f.base)),
        bytes.map_or_else(String::new, |f| value(f, f.new)),
        cell(Metric::AllocBytes, delta),
        cell(Metric::Allocations, delta),
        cell(Metric::LiveBytes, delta),
        status_of.map_or_else(String::new, |f| status(f, c)),
    ]
}

/// The change that colours a site's line: its bytes'.
pub(crate) fn site_change(site: &SiteRow) -> Change {
    site.figure(Metric::AllocBytes)
        .map_or(Change::Same, |f| f.change)
}

/// How the profiles were sampled, and what that means for the figures: `exact`, or `estimated
/// (one sample per 512.0 KiB on average)`, with a mark when the rates differ or samples were
/// dropped.
pub(crate) fn sampling_note(d: &SitesDiff) -> String {
    let rate = |m: u64| {
        if m == 0 {
            "exact".to_owned()
        } else {
            format!("one sample per {} on average", ByteAmount(m as f64))
        }
    };
    let [b, n] = d.mean_interval_bytes;
    let mut note = if !d.estimated() {
        "exact".to_owned()
    } else if d.sampling_differs {
        format!(
            "estimated, sampled at different rates (BASE {}, NEW {}): comparable estimates, changes within sampling noise not counted",
            rate(b),
            rate(n)
        )
    } else {
        format!(
            "estimated ({}): changes within sampling noise not counted",
            rate(b)
        )
    };
    for (side, dropped) in ["BASE", "NEW"].iter().zip(d.dropped_samples) {
        if dropped > 0 {
            note +=
                &format!("; {side} dropped {dropped} samples (table full): its figures are low");
        }
    }
    note
}

/// A site on one side only: `function (bytes, allocations)`.
pub(crate) fn lone_site(s: &LoneSite) -> String {
    format!(
        "{} ({}, {} allocations, {} live)",
        s.function,
        ByteAmount(s.alloc_bytes as f64),
        s.alloc_count,
        ByteAmount(s.live_bytes as f64)
    )
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
        super::load::Kind::Sites => {
            return sites_headline(c);
        }
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

/// The one-line outcome of two site profiles: how many sites changed, grew past the
/// thresholds, appeared and went.
fn sites_headline(c: &Comparison) -> String {
    let Some(d) = c.rows.first().and_then(|r| r.sites.as_ref()) else {
        return "no sites".to_owned();
    };
    let changed = d.sites.iter().filter(|s| s.changed()).count();
    let mut line = format!("{changed} of {} sites changed", d.sites.len());
    if !c.settings.fail_if_growth.is_empty() {
        let failed = d.sites.iter().filter(|s| s.failed).count();
        let total = c.rows.iter().any(|r| {
            r.figures
                .iter()
                .any(|f| f.change == Change::GrewPastThreshold)
        });
        line += &format!(
            ", {failed} grew past {}{}",
            thresholds(c),
            if total { " (and the total did)" } else { "" }
        );
    }
    if !d.added.is_empty() {
        line += &format!(", {} new", d.added.len());
    }
    if !d.removed.is_empty() {
        line += &format!(", {} gone", d.removed.len());
    }
    line
}
