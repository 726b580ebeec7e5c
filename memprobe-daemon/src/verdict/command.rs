//! The `verdict FILE.jsonl` subcommand: re-judges a saved run from its checked configuration.

use super::series::VerdictInput;
use crate::config::{InconclusiveExit, VerdictConfig};
use crate::output::SummaryFile;
use crate::output::read::read_jsonl;
use anyhow::Result;
use memprobe::trend::{self, SeriesChoice, Verdict};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// What `verdict --summary` writes.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
struct VerdictSummary<'a> {
    schema_version: u32,
    tool: &'static str,
    source: &'a Path,
    lines: u64,
    config: JudgeInfo<'a>,
    verdict_input: VerdictInput,
    verdict: &'a Verdict,
    exit_code: u8,
    notes: &'a [String],
}

/// The JSON Schema of what `verdict --summary` writes (versioned with `watch`'s summary).
#[cfg(feature = "json-schema")]
pub(crate) fn schema() -> memprobe::schema::FileSchema {
    let version = crate::output::SCHEMA_VERSION;
    memprobe::schema::FileSchema::of::<VerdictSummary<'static>>(
        "verdict-summary",
        version,
        "memprobe-daemon verdict summary",
    )
    .with_const("schema_version", version)
}

/// The judging settings, as `watch`'s summary shows them.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
struct JudgeInfo<'a> {
    warmup: trend::Warmup,
    series: SeriesChoice,
    fail_if_growth: Vec<String>,
    allow_fragmentation: bool,
    verdict_enforced: bool,
    inconclusive: &'a InconclusiveExit,
}

/// Runs `verdict FILE.jsonl`: reads the saved run, judges it, prints
/// `KIND (exit N): sentence` on stdout (unless `--quiet`) and writes `--summary`; the exit code.
///
/// # Errors
///
/// Bad flags, an unreadable, corrupt or empty file, an unwritable `--summary` (exit 2).
pub(crate) fn command(args: &VerdictConfig) -> Result<u8> {
    let config = &args.judge;
    let saved = read_jsonl(&args.file)?;
    let verdict = saved.series.judge(config)?;
    let code = config.exit_code(&verdict);
    if let Some(path) = &args.summary {
        let summary = VerdictSummary {
            schema_version: crate::output::SCHEMA_VERSION,
            tool: concat!("memprobe-daemon ", env!("CARGO_PKG_VERSION")),
            source: &args.file,
            lines: saved.lines,
            config: JudgeInfo {
                warmup: config.trend.warmup,
                series: config.trend.series,
                fail_if_growth: config
                    .trend
                    .fail_if_growth
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                allow_fragmentation: config.trend.allow_fragmentation,
                verdict_enforced: config.enforced,
                inconclusive: &config.inconclusive,
            },
            verdict_input: saved.series.input(),
            verdict: &verdict,
            exit_code: code,
            notes: &saved.notes,
        };
        SummaryFile::create(path, &summary)?;
    }
    if !args.quiet {
        for note in &saved.notes {
            eprintln!("memprobe-daemon: {}: {note}", args.file.display());
        }
        let line = format!(
            "{} (exit {code}): {}\n",
            verdict.kind.name(),
            verdict.summary
        );
        // A closed stdout (`| head -0`) is not an error: the exit code still tells.
        match std::io::stdout().write_all(line.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(anyhow::Error::new(e).context("writing the verdict to stdout"));
            }
            _ => {}
        }
    }
    super::annotation::print(config, &verdict, code)?;
    Ok(code)
}
