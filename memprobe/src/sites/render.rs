//! Presentation of profiles and diffs: an aligned table for the terminal, a markdown table, and
//! JSON. Formatting only; the figures come from [`Profile`] and [`ProfileDiff`] as they are.

use std::fmt::Write;

use super::diff::ProfileDiff;
use super::profile::Profile;

/// Where a table goes.
///
/// # Examples
///
/// ```
/// use memprobe::sites::{Profile, render::{self, Format}};
/// let text = render::table(&Profile::default(), Format::Markdown, None);
/// assert!(text.starts_with("| site | allocations | bytes | live | share |"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Columns aligned with spaces.
    Terminal,
    /// A GitHub-flavoured markdown table.
    Markdown,
}

fn render(format: Format, header: &[&str], rows: &[Vec<String>], note: Option<String>) -> String {
    let mut out = String::new();
    match format {
        Format::Markdown => {
            let _ = writeln!(out, "| {} |", header.join(" | "));
            let _ = writeln!(
                out,
                "|{}",
                header
                    .iter()
                    .enumerate()
                    .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                    .collect::<String>()
            );
            for row in rows {
                let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
        }
        Format::Terminal => {
            let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
            for row in rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let line = |cells: Vec<&str>| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 0 {
                            format!("{c:<w$}", w = widths[0])
                        } else {
                            format!("{c:>w$}", w = widths[i])
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
            };
            let _ = writeln!(out, "{}", line(header.to_vec()));
            for row in rows {
                let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
            }
        }
    }
    if let Some(note) = note {
        let _ = writeln!(out, "{note}");
    }
    out
}

/// The profile's sites (the `top` heaviest, or all) as a table of site, estimated allocations,
/// bytes allocated, live bytes and share of bytes allocated, with a note on sampling.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{Sampling, Session, render::{self, Format}};
///
/// #[inline(never)]
/// fn fill() -> Vec<u8> { vec![7; 300] }
///
/// let session = Session::start(Sampling::Exact)?;
/// let v = fill();
/// let table = render::table(&session.finish(), Format::Terminal, Some(1));
/// let row = table.lines().nth(1).unwrap();
/// assert!(row.contains("fill") && row.contains(" 300 ") && row.ends_with("100.0%"), "{table}");
/// # drop(v);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
pub fn table(profile: &Profile, format: Format, top: Option<usize>) -> String {
    let rows: Vec<Vec<String>> = profile
        .sites
        .iter()
        .take(top.unwrap_or(usize::MAX))
        .enumerate()
        .map(|(i, s)| {
            vec![
                s.function.clone(),
                s.stats.alloc_count.to_string(),
                s.stats.alloc_bytes.to_string(),
                s.stats.live_bytes.to_string(),
                format!("{:.1}%", profile.share_percent(i)),
            ]
        })
        .collect();
    let mut note = if profile.mean_interval_bytes == 0 {
        format!("exact: {} allocations sampled", profile.sample_count)
    } else {
        format!(
            "estimated from {} samples, one per {} bytes on average",
            profile.sample_count, profile.mean_interval_bytes
        )
    };
    if profile.dropped_samples > 0 {
        let _ = write!(
            note,
            "; {} samples dropped (table full): figures are low",
            profile.dropped_samples
        );
    }
    render(
        format,
        &["site", "allocations", "bytes", "live", "share"],
        &rows,
        Some(note),
    )
}

/// The diff's sites (the `top` first, or all) as a table of signed deltas.
///
/// # Examples
///
/// ```
/// use memprobe::sites::{Profile, ProfileDiff, render::{self, Format}};
/// let text = render::diff_table(&ProfileDiff::new(&Profile::default(), &Profile::default()), Format::Markdown, None);
/// assert_eq!(text.lines().count(), 2);
/// ```
pub fn diff_table(diff: &ProfileDiff, format: Format, top: Option<usize>) -> String {
    let signed = |n: i64| {
        if n > 0 {
            format!("+{n}")
        } else {
            n.to_string()
        }
    };
    let rows: Vec<Vec<String>> = diff
        .sites
        .iter()
        .take(top.unwrap_or(usize::MAX))
        .map(|d| {
            vec![
                d.function.clone(),
                d.before.alloc_bytes.to_string(),
                d.after.alloc_bytes.to_string(),
                signed(d.alloc_bytes_delta),
                signed(d.alloc_count_delta),
                signed(d.live_bytes_delta),
            ]
        })
        .collect();
    render(
        format,
        &[
            "site",
            "bytes A",
            "bytes B",
            "Δ bytes",
            "Δ allocations",
            "Δ live",
        ],
        &rows,
        None,
    )
}

/// The profile as pretty JSON (sites and totals; the stacks only go to pprof).
///
/// # Examples
///
/// ```
/// let json = memprobe::sites::render::json(&memprobe::sites::Profile::default());
/// let back: memprobe::sites::Profile = serde_json::from_str(&json).unwrap();
/// assert!(back.sites.is_empty());
/// ```
pub fn json(profile: &Profile) -> String {
    serde_json::to_string_pretty(profile).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
