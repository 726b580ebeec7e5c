//! The failure text of a measured function: one panic message listing every failed check (limits,
//! with the first allocation's trimmed backtrace under `max_allocs = 0`; the baseline), the note
//! on figures inflated by other threads, the report's table and where its file is.

use crate::backtrace_trim::trim_backtrace;
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
