//! The verdict of `watch` and `verdict` as a GitHub annotation, for CI: `::error` when it fails
//! the run (exit 1: growth, fragmentation unless allowed, inconclusive mapped to fail), else
//! `::warning` for anything but a pass (inconclusive, a verdict not enforced, fragmentation
//! allowed), so the run's page shows it without failing the job. Printed on stdout, where the
//! runner reads workflow commands, after the command's own output.

use crate::config::JudgeConfig;
use memprobe::github::{Annotation, Level};
use memprobe::trend::{Verdict, VerdictKind};
use std::io::Write;

/// The annotation of `verdict`, judged under `judge`, whose exit code is `code`; `None` for a
/// pass or without `--github` (or `GITHUB_ACTIONS=true`).
pub(crate) fn annotation(judge: &JudgeConfig, verdict: &Verdict, code: u8) -> Option<Annotation> {
    if !judge.github || verdict.kind == VerdictKind::Pass {
        return None;
    }
    let level = if code == Verdict::EXIT_GROWTH {
        Level::Error
    } else {
        Level::Warning
    };
    Some(Annotation::new(
        level,
        "memprobe watch",
        format!("{}: {}", verdict.kind.name(), verdict.summary),
    ))
}

/// Prints [`annotation`]'s line, if any. A closed stdout is not an error: the exit code tells.
///
/// # Errors
///
/// When stdout fails otherwise.
pub(crate) fn print(judge: &JudgeConfig, verdict: &Verdict, code: u8) -> anyhow::Result<()> {
    let Some(annotation) = annotation(judge, verdict, code) else {
        return Ok(());
    };
    match writeln!(std::io::stdout(), "{annotation}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing the GitHub annotation to stdout"))
        }
        _ => Ok(()),
    }
}
