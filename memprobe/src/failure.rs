//! The failure text of a measured function: one panic message listing every failed check (limits,
//! with the first allocation's trimmed backtrace under `max_allocs = 0`; the baseline), the note
//! on figures inflated by other threads, the report's table and where its file is; and the same
//! failure as one GitHub annotation at the measured function, for CI.

use crate::backtrace_trim::trim_backtrace;
use crate::github::{Annotation, Level};
use crate::limits::{Figure, Limits, Violation};
use crate::report::{OutsideNote, Report};
use std::path::Path;

/// The `limits:` block: one line per violation, and where the first allocation came from when
/// `max_allocs = 0` failed.
pub(crate) fn limits_failure(limits: &Limits, violations: &[Violation], report: &Report) -> String {
    let mut text = String::from("limits:");
    for v in violations {
        text.push_str(&format!("\n  {v}"));
    }
    if let Some(hint) = outside_broke_it(limits, violations, report) {
        text.push_str(&format!("\n  {hint}"));
    }
    let no_allocs =
        limits.max_allocs == Some(0) && violations.iter().any(|v| v.figure == Figure::Allocations);
    if no_allocs {
        match &report.first_alloc_backtrace {
            Some(trace) => text.push_str(&format!(
                "\nfirst allocation (max_allocs = 0), most recent call first:\n{}",
                trim_backtrace(trace)
            )),
            None => text.push_str(
                "\nfirst allocation: no backtrace (it came from a thread outside the probe)",
            ),
        }
    }
    text
}

/// When `max_allocs` failed only because of allocation events from threads outside the probe (a
/// process-scope run under parallel `cargo test`): says so, with the figure without them, and
/// the two ways to exact figures.
fn outside_broke_it(limits: &Limits, violations: &[Violation], report: &Report) -> Option<String> {
    let outside = report.outside_alloc_count.filter(|&n| n > 0)?;
    let limit = limits.max_allocs?;
    violations
        .iter()
        .any(|v| v.figure == Figure::Allocations)
        .then_some(())?;
    let iterations = report.iterations.max(1);
    let own = report.allocs.allocations().saturating_sub(outside);
    let own_per_iteration = own as f64 / iterations as f64;
    (own_per_iteration <= limit as f64).then(|| {
        format!(
            "max_allocs broke only because of the {outside} allocation events from threads outside the probe (other tests running in parallel, the harness): without them, {} per iteration is within the limit; measure with scope = \"thread\" (the default), or run the process-scope tests under cargo nextest (one test per process) or with --test-threads=1",
            crate::units::Exact(own_per_iteration, "")
        )
    })
}

/// `note: ...` when threads outside the probe allocated during a process-scope run.
pub(crate) fn outside_note(report: &Report) -> Option<String> {
    report
        .outside_alloc_count
        .filter(|&n| n > 0)
        .map(|n| format!("note: {}", OutsideNote(n)))
}

/// The panic message of a function at `path` that failed its checks.
pub(crate) fn message(
    is_test: bool,
    path: &str,
    failures: Vec<String>,
    note: Option<String>,
    report: &Report,
    report_file: Option<&Path>,
) -> String {
    let what = if is_test { "test" } else { "function" };
    let mut message = format!("memprobe: {what} `{path}` failed its memory checks");
    for failure in failures {
        message.push('\n');
        message.push_str(&failure);
    }
    if let Some(note) = note {
        message.push('\n');
        message.push_str(&note);
    }
    message.push_str(&format!("\n{report}"));
    if let Some(file) = report_file {
        message.push_str(&format!("report: {}", file.display()));
    }
    message
}

/// A failure's text on one line: its lines trimmed and joined with `; `, without the leading
/// `memprobe: ` (the annotation's title says it).
///
/// A line ending in `:` introduces the next, so a space joins them.
pub(crate) fn one_line(text: &str) -> String {
    let mut joined = String::new();
    let lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    for line in lines.map(|l| l.strip_prefix("memprobe: ").unwrap_or(l)) {
        if !joined.is_empty() {
            joined.push_str(if joined.ends_with(':') { " " } else { "; " });
        }
        joined.push_str(line);
    }
    joined
}

/// The `limits:` failure on one line, without the first allocation's backtrace (the log has it).
pub(crate) fn limits_line(violations: &[Violation]) -> String {
    let each: Vec<String> = violations.iter().map(ToString::to_string).collect();
    format!("limits: {}", each.join("; "))
}

/// The GitHub annotation of a failed function, `heading` (which function, which checks) then
/// each failure on one line: at the attribute's `file!()` and `line!()` when generated code gave
/// them.
pub(crate) fn annotation(
    heading: &str,
    failures: &[String],
    source: Option<(&str, u32)>,
) -> Annotation {
    let message = format!("{heading}: {}", failures.join("; "));
    let annotation = Annotation::new(Level::Error, "memprobe", message);
    match source {
        Some((file, line)) => annotation.at(file, line),
        None => annotation,
    }
}
