//! The validated run configuration: every flag of `watch` parsed, range-checked and cross-checked
//! here, in one place, so the sampler never sees a string. Errors name the flag, the input and the
//! accepted forms in one line.

use crate::cli::WatchArgs;
use anyhow::{Result, bail};
use memprobe::units::{Growth, parse_duration};
use serde::Serialize;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Shortest and longest `--interval`.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// Longest `--interval`.
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// What is watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A running process, given by PID; never signalled.
    Pid(u32),
    /// A command started by the daemon: program and arguments, run without a shell.
    Command(Vec<OsString>),
}

/// Warm-up excluded from the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warmup {
    /// A fixed time from the first sample.
    Duration(Duration),
    /// A share of the run, in percent (`20.0` = the first 20% of the sampled time).
    Percent(f64),
}

/// Which series the verdict judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesChoice {
    /// jemalloc allocated when the process publishes it, else RssAnon + VmSwap, else RSS.
    Auto,
    /// RssAnon + VmSwap.
    Anon,
    /// RSS.
    Rss,
    /// jemalloc allocated bytes, published by the process.
    Allocated,
}

/// How an inconclusive verdict exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InconclusiveExit {
    /// Exit 3.
    Inconclusive,
    /// Exit 0.
    Pass,
    /// Exit 1.
    Fail,
}

/// Which memory cgroup to sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupChoice {
    /// The watched process's own memory cgroup, v1 or v2.
    Auto,
    /// This cgroup directory.
    Path(PathBuf),
}

/// A checked `watch` configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// What is watched.
    pub target: Target,
    /// Time between samples.
    pub interval: Duration,
    /// Stop after this long; `None` runs until the process exits.
    pub duration: Option<Duration>,
    /// Warm-up excluded from the verdict.
    pub warmup: Warmup,
    /// JSONL output.
    pub out: Option<PathBuf>,
    /// CSV output.
    pub csv: Option<PathBuf>,
    /// Summary JSON output.
    pub summary: Option<PathBuf>,
    /// Growth threshold; `None` never fails on growth.
    pub fail_if_growth: Option<Growth>,
    /// Series the verdict judges.
    pub series: SeriesChoice,
    /// No status line, no final line.
    pub quiet: bool,
    /// Exit code of an inconclusive verdict.
    pub inconclusive: InconclusiveExit,
    /// Follow children.
    pub tree: bool,
    /// Memory cgroup to sample.
    pub cgroup: Option<CgroupChoice>,
    /// PSS/USS walk interval.
    pub pss_interval: Option<Duration>,
    /// Reset VmHWM at warm-up end and at each published phase.
    pub phase_reset: bool,
}

impl Config {
    /// Checks every flag.
    ///
    /// # Errors
    ///
    /// One line naming the flag, the bad value and the accepted forms.
    pub fn from_args(args: WatchArgs) -> Result<Config> {
        let target = match (args.pid, args.command) {
            (Some(pid), cmd) if cmd.is_empty() => Target::Pid(parse_pid(&pid)?),
            (None, cmd) if !cmd.is_empty() => Target::Command(cmd),
            (Some(_), _) => bail!("give either --pid PID or -- CMD ARGS..., not both"),
            (None, _) => bail!("nothing to watch: give --pid PID or -- CMD ARGS..."),
        };
        let interval = flag_duration("--interval", &args.interval)?;
        if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&interval) {
            bail!(
                "--interval {:?} is out of range: use 1ms..1h",
                args.interval
            );
        }
        let duration = args
            .duration
            .as_deref()
            .map(|d| flag_duration("--duration", d))
            .transpose()?;
        if duration == Some(Duration::ZERO) {
            bail!(
                "--duration 0 would take no sample: use e.g. `--duration 30s`, or leave it out to run until the process exits"
            );
        }
        let warmup = parse_warmup(&args.warmup)?;
        let fail_if_growth = args
            .fail_if_growth
            .as_deref()
            .map(|g| {
                g.parse::<Growth>()
                    .map_err(|e| flag_error("--fail-if-growth", e))
            })
            .transpose()?;
        let series = match args.series.as_str() {
            "auto" => SeriesChoice::Auto,
            "anon" => SeriesChoice::Anon,
            "rss" => SeriesChoice::Rss,
            "allocated" => SeriesChoice::Allocated,
            other => bail!("--series {other:?} is not a series: use auto, anon, rss or allocated"),
        };
        let inconclusive = match args.inconclusive.as_deref() {
            None => InconclusiveExit::Inconclusive,
            Some("pass") => InconclusiveExit::Pass,
            Some("fail") => InconclusiveExit::Fail,
            Some(other) => {
                bail!("--inconclusive {other:?}: use `pass` (exit 0) or `fail` (exit 1)")
            }
        };
        let cgroup = args.cgroup.map(|c| match c.as_str() {
            "auto" => CgroupChoice::Auto,
            _ => CgroupChoice::Path(PathBuf::from(c)),
        });
        let pss_interval = args
            .pss_interval
            .as_deref()
            .map(|d| flag_duration("--pss-interval", d))
            .transpose()?;
        if pss_interval.is_some_and(|p| p < interval) {
            bail!(
                "--pss-interval must be at least --interval ({}): a smaps_rollup walk per sample would slow the process",
                args.interval
            );
        }
        Ok(Config {
            target,
            interval,
            duration,
            warmup,
            out: args.out,
            csv: args.csv,
            summary: args.summary,
            fail_if_growth,
            series,
            quiet: args.quiet,
            inconclusive,
            tree: args.tree,
            cgroup,
            pss_interval,
            phase_reset: args.phase_reset,
        })
    }
}

fn flag_duration(flag: &str, value: &str) -> Result<Duration> {
    parse_duration(value).map_err(|e| flag_error(flag, e))
}

/// `--flag: invalid duration "x": expected ...`: the library's message without its `memprobe:`
/// prefix, since the daemon prints its own.
fn flag_error(flag: &str, e: memprobe::Error) -> anyhow::Error {
    let message = e.to_string();
    anyhow::anyhow!(
        "{flag}: {}",
        message.strip_prefix("memprobe: ").unwrap_or(&message)
    )
}

fn parse_pid(value: &str) -> Result<u32> {
    match value.trim().parse::<u32>() {
        Ok(pid) if pid > 0 && pid <= i32::MAX as u32 => Ok(pid),
        _ => bail!(
            "--pid {value:?} is not a process ID: expected a positive whole number such as 4242"
        ),
    }
}

fn parse_warmup(value: &str) -> Result<Warmup> {
    if let Some(number) = value.trim().strip_suffix('%') {
        return match number.trim().parse::<f64>() {
            Ok(p) if (0.0..100.0).contains(&p) => Ok(Warmup::Percent(p)),
            _ => bail!(
                "--warmup {value:?}: a share must be 0% up to (not including) 100%, e.g. `20%`; or give a duration such as `30s`"
            ),
        };
    }
    flag_duration("--warmup", value).map(Warmup::Duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config> {
        let mut full = vec!["memprobe-daemon", "watch"];
        full.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(full).expect("clap shape");
        let crate::cli::Command::Watch(w) = cli.command;
        Config::from_args(w)
    }

    fn err(args: &[&str]) -> String {
        format!("{:#}", config(args).unwrap_err())
    }

    #[test]
    fn defaults() {
        let c = config(&["--pid", "1"]).unwrap();
        assert_eq!(c.target, Target::Pid(1));
        assert_eq!(c.interval, Duration::from_millis(100));
        assert_eq!(c.warmup, Warmup::Percent(20.0));
        assert_eq!(c.series, SeriesChoice::Auto);
        assert_eq!(c.inconclusive, InconclusiveExit::Inconclusive);
    }

    #[test]
    fn command_after_double_dash() {
        let c = config(&["--warmup", "30s", "--", "sleep", "1"]).unwrap();
        assert_eq!(c.target, Target::Command(vec!["sleep".into(), "1".into()]));
        assert_eq!(c.warmup, Warmup::Duration(Duration::from_secs(30)));
    }

    #[test]
    fn bad_values_name_flag_and_forms() {
        assert!(err(&["--pid", "abc"]).contains("--pid \"abc\" is not a process ID"));
        assert!(err(&["--pid", "0"]).contains("not a process ID"));
        let e = err(&["--pid", "1", "--interval", "fast"]);
        assert!(
            e.starts_with("--interval: invalid duration \"fast\": expected"),
            "{e}"
        );
        assert!(err(&["--pid", "1", "--interval", "500us"]).contains("out of range: use 1ms..1h"));
        assert!(err(&["--pid", "1", "--interval", "2h"]).contains("out of range"));
        assert!(
            err(&["--pid", "1", "--fail-if-growth", "lots"])
                .contains("invalid size or percentage \"lots\"")
        );
        assert!(err(&["--pid", "1", "--warmup", "150%"]).contains("--warmup \"150%\""));
        assert!(
            err(&["--pid", "1", "--series", "heap"]).contains("use auto, anon, rss or allocated")
        );
        assert!(err(&["--pid", "1", "--inconclusive", "maybe"]).contains("use `pass`"));
        assert!(err(&["--pid", "1", "--duration", "0s"]).contains("--duration 0"));
        assert!(
            err(&["--pid", "1", "--interval", "1s", "--pss-interval", "100ms"])
                .contains("--pss-interval must be")
        );
    }
}
