//! The validated configuration: every flag of `watch` and `verdict` parsed, range-checked and
//! cross-checked here, in one place, so the sampler and the verdict never see a string. Errors
//! name the flag, the input and the accepted forms in one line.

mod compare;
mod footprint;
mod plot;

pub(crate) use compare::{CompareConfig, CompareFormat};
pub(crate) use footprint::{FootprintConfig, FootprintFormat};
pub(crate) use plot::{PlotConfig, PlotOutputs};

use crate::cli::{JudgeArgs, VerdictArgs, WatchArgs};
use anyhow::{Result, bail};
use memprobe::snapshot::ProcRoot;
use memprobe::trend::{SeriesChoice, SeriesKind, TrendConfig, Verdict, Warmup};
use memprobe::units::{Growth, parse_duration};
use serde::Serialize;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Shortest and longest `--interval`.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// Longest `--interval`.
pub(crate) const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// What is watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A running process, given by PID; never signalled.
    Pid(u32),
    /// A command started by the daemon: program and arguments, run without a shell.
    Command(Vec<OsString>),
    /// Several processes (`--pid` repeated, or `--match`): `watch::fleet`.
    Fleet(Fleet),
}

/// The targets of a fleet run: PIDs given, and patterns matched every second.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    /// `--pid`, in the order given.
    pub(crate) pids: Vec<u32>,
    /// `--match`, compiled.
    pub(crate) patterns: Vec<regex::Regex>,
}

impl PartialEq for Fleet {
    fn eq(&self, other: &Fleet) -> bool {
        self.pids == other.pids
            && self
                .patterns
                .iter()
                .map(regex::Regex::as_str)
                .eq(other.patterns.iter().map(regex::Regex::as_str))
    }
}

impl Eq for Fleet {}

/// How an inconclusive verdict exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum InconclusiveExit {
    /// Exit 3.
    Inconclusive,
    /// Exit 0.
    Pass,
    /// Exit 1.
    Fail,
}

/// Which memory cgroup to sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CgroupChoice {
    /// The watched process's own memory cgroup, v1 or v2.
    Auto,
    /// This cgroup directory.
    Path(PathBuf),
}

/// The `verdict` subcommand's options, checked.
#[derive(Debug, Clone)]
pub(crate) struct VerdictConfig {
    /// The JSONL file written by `watch --out`.
    pub(crate) file: PathBuf,
    /// How to judge (`--fail-if-growth` defaults to 5%, enforced).
    pub(crate) judge: JudgeConfig,
    /// Where to write the verdict and its settings as JSON, if anywhere.
    pub(crate) summary: Option<PathBuf>,
    /// Print nothing but errors.
    pub(crate) quiet: bool,
}

impl VerdictConfig {
    /// Checks the flags of `verdict`.
    ///
    /// # Errors
    ///
    /// A bad judging flag, in one line naming it and the accepted forms.
    pub(crate) fn from_args(args: VerdictArgs) -> Result<Self> {
        Ok(VerdictConfig {
            judge: JudgeConfig::from_args(args.judge, true)?,
            file: args.file,
            summary: args.summary,
            quiet: args.quiet,
        })
    }
}

/// How a run is judged, checked: what `watch` and `verdict` share.
#[derive(Debug, Clone)]
pub(crate) struct JudgeConfig {
    /// What the verdict engine is asked: warm-up, thresholds, series, fragmentation.
    pub(crate) trend: TrendConfig,
    /// Whether the verdict sets the exit code. `watch` without `--fail-if-growth` only records:
    /// it reports the verdict at the engine's default threshold and exits 0.
    pub(crate) enforced: bool,
    /// Exit code of an inconclusive verdict.
    pub(crate) inconclusive: InconclusiveExit,
    /// Print the verdict as a GitHub annotation (`--github` or `GITHUB_ACTIONS=true`).
    pub(crate) github: bool,
}

impl JudgeConfig {
    /// Checks the judging flags. Without `--fail-if-growth` the engine's default threshold (5%)
    /// applies, and the verdict is enforced only when `enforce_default` is set (`verdict` sets it,
    /// `watch` does not).
    ///
    /// # Errors
    ///
    /// One line naming the flag, the bad value and the accepted forms.
    pub(crate) fn from_args(args: JudgeArgs, enforce_default: bool) -> Result<JudgeConfig> {
        let thresholds = fail_if_growth(&args.fail_if_growth)?;
        let warmup = args
            .warmup
            .parse::<Warmup>()
            .map_err(|e| flag_error("--warmup", e))?;
        let series = match args.series.as_str() {
            "auto" => SeriesChoice::Auto,
            "allocated" => SeriesChoice::Kind(SeriesKind::JemallocAllocated),
            "anon" => SeriesChoice::Kind(SeriesKind::RssAnonPlusSwap),
            "rss" => SeriesChoice::Kind(SeriesKind::Rss),
            // The engine's own names (`jemalloc_resident`, `allocator_live`, ...) work too.
            other => other.parse::<SeriesChoice>().map_err(|_| {
                anyhow::anyhow!(
                    "--series {other:?} is not a series: use auto, allocated, anon or rss (or jemalloc_active, jemalloc_resident, allocator_live)"
                )
            })?,
        };
        let inconclusive = match args.inconclusive.as_deref() {
            None => InconclusiveExit::Inconclusive,
            Some("pass") => InconclusiveExit::Pass,
            Some("fail") => InconclusiveExit::Fail,
            Some(other) => {
                bail!("--inconclusive {other:?}: use `pass` (exit 0) or `fail` (exit 1)")
            }
        };
        let enforced = enforce_default || !thresholds.is_empty();
        let mut trend = TrendConfig::new()
            .warmup(warmup)
            .series(series)
            .allow_fragmentation(args.allow_fragmentation);
        if !thresholds.is_empty() {
            trend = trend.fail_if_growth_all(thresholds);
        }
        Ok(JudgeConfig {
            trend,
            enforced,
            inconclusive,
            github: args.github || memprobe::github::in_actions(),
        })
    }

    /// The exit code of `verdict`: 0 pass, 1 growth (and fragmentation unless allowed), 3
    /// inconclusive as mapped by `--inconclusive`; always 0 when not enforced.
    pub(crate) fn exit_code(&self, verdict: &Verdict) -> u8 {
        if !self.enforced {
            return 0;
        }
        match verdict.exit_code() {
            Verdict::EXIT_INCONCLUSIVE => match self.inconclusive {
                InconclusiveExit::Inconclusive => Verdict::EXIT_INCONCLUSIVE,
                InconclusiveExit::Pass => Verdict::EXIT_PASS,
                InconclusiveExit::Fail => Verdict::EXIT_GROWTH,
            },
            code => code,
        }
    }
}

/// A checked `watch` configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// What is watched.
    pub(crate) target: Target,
    /// Time between samples.
    pub(crate) interval: Duration,
    /// Stop after this long; `None` runs until the process exits.
    pub(crate) duration: Option<Duration>,
    /// JSONL output.
    pub(crate) out: Option<PathBuf>,
    /// CSV output.
    pub(crate) csv: Option<PathBuf>,
    /// Summary JSON output.
    pub(crate) summary: Option<PathBuf>,
    /// How the run is judged.
    pub(crate) judge: JudgeConfig,
    /// No status line, no final lines.
    pub(crate) quiet: bool,
    /// Follow children.
    pub(crate) tree: bool,
    /// Memory cgroup to sample.
    pub(crate) cgroup: Option<CgroupChoice>,
    /// PSS/USS walk interval.
    pub(crate) pss_interval: Option<Duration>,
    /// Reset VmHWM at warm-up end and at each published phase.
    pub(crate) phase_reset: bool,
    /// Where `/proc` is read (hidden `--proc-root`; `/proc` itself otherwise).
    pub(crate) proc_root: ProcRoot,
    // ---- Prometheus and fleets (issue 15, part 2) ----
    /// Where `/metrics` is served (`--prometheus`).
    pub(crate) prometheus: Option<std::net::SocketAddr>,
    /// `--plot` and `--html`: plots written at the end of the run.
    pub(crate) plot: PlotOutputs,
    /// `--sites`: the mean sampling interval in bytes (0: exact), when asked.
    pub(crate) sites: Option<u64>,
}

impl Config {
    /// Checks every flag.
    ///
    /// # Errors
    ///
    /// One line naming the flag, the bad value and the accepted forms.
    pub(crate) fn from_args(args: WatchArgs) -> Result<Config> {
        let fleet = !args.matching.is_empty() || args.pid.len() > 1;
        if fleet && !args.command.is_empty() {
            bail!(
                "--match and several --pid watch running processes: give them without -- CMD ARGS..., or watch the command alone"
            );
        }
        let target = match (args.pid.first(), args.command) {
            _ if fleet => Target::Fleet(fleet_targets(&args.pid, &args.matching)?),
            (Some(pid), cmd) if cmd.is_empty() => Target::Pid(parse_pid(pid)?),
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
        // `watch` without --fail-if-growth records: the verdict is reported, not enforced.
        let judge = JudgeConfig::from_args(args.judge, false)?;
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
        let prometheus = args
            .prometheus
            .as_deref()
            .map(crate::prometheus::parse_addr)
            .transpose()?;
        let sites = args
            .sites
            .then(|| sites_rate(args.sites_rate.as_deref()))
            .transpose()?;
        if sites.is_some() && !matches!(target, Target::Command(_)) {
            bail!(
                "--sites asks a command started here for its allocation sites: give -- CMD ARGS... (a process built with memprobe's `publish` and `sites` features), not --pid or --match"
            );
        }
        if matches!(target, Target::Fleet(_)) && args.proc_root.is_some() {
            bail!("--proc-root reads one fake process tree: give a single --pid with it");
        }
        Ok(Config {
            target,
            interval,
            duration,
            out: args.out,
            csv: args.csv,
            summary: args.summary,
            judge,
            quiet: args.quiet,
            tree: args.tree,
            cgroup,
            pss_interval,
            phase_reset: args.phase_reset,
            plot: PlotOutputs {
                svg: args.plot.svg,
                html: args.plot.html,
            },
            proc_root: match args.proc_root {
                None => ProcRoot::system(),
                Some(dir) => ProcRoot::at(&dir).map_err(|e| {
                    anyhow::anyhow!(
                        "--proc-root {}: {}",
                        dir.display(),
                        e.to_string().trim_start_matches("memprobe: ")
                    )
                })?,
            },
            prometheus,
            sites,
        })
    }
}

/// `--sites-rate`: a size, or `exact` (0); 512 KiB when not given.
fn sites_rate(value: Option<&str>) -> Result<u64> {
    match value {
        None => Ok(memprobe::sites::DEFAULT_MEAN_BYTES),
        Some("exact") => Ok(0),
        Some(size) => match memprobe::units::parse_bytes(size) {
            Ok(0) => bail!(
                "--sites-rate 0 samples nothing: give a mean interval such as 512KiB, or `exact` to sample every allocation"
            ),
            Ok(n) => Ok(n),
            Err(e) => Err(flag_error("--sites-rate", e)),
        },
    }
}

/// The targets of a fleet run: every `--pid` checked, every `--match` compiled.
fn fleet_targets(pids: &[String], patterns: &[String]) -> Result<Fleet> {
    let pids = pids
        .iter()
        .map(|p| parse_pid(p))
        .collect::<Result<Vec<_>>>()?;
    let patterns = patterns
        .iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| {
                let first = e.to_string();
                let first = first.lines().last().unwrap_or("").trim().to_owned();
                anyhow::anyhow!(
                    "--match {p:?} is not a regular expression ({first}): escape special characters, e.g. `my-server\\.py`"
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Fleet { pids, patterns })
}

fn flag_duration(flag: &str, value: &str) -> Result<Duration> {
    parse_duration(value).map_err(|e| flag_error(flag, e))
}

/// `--flag: invalid duration "x": expected ...`: the library's message without its `memprobe:`
/// prefix, since the daemon prints its own.
/// The thresholds of `--fail-if-growth` (repeated, or several in one value).
fn fail_if_growth(values: &[String]) -> Result<Vec<Growth>> {
    values
        .iter()
        .map(|g| {
            g.parse::<Growth>()
                .map_err(|e| flag_error("--fail-if-growth", e))
        })
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config> {
        let mut full = vec!["memprobe-daemon", "watch"];
        full.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(full).expect("clap shape");
        let crate::cli::Command::Watch(w) = cli.command else {
            panic!("not watch")
        };
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
        assert_eq!(c.judge.trend.warmup, Warmup::Share(0.2));
        assert_eq!(c.judge.trend.series, SeriesChoice::Auto);
        assert_eq!(c.judge.trend.fail_if_growth, [Growth::Percent(5.0)]);
        assert!(
            !c.judge.enforced,
            "watch without --fail-if-growth only reports"
        );
        assert!(!c.judge.trend.allow_fragmentation);
        assert_eq!(c.judge.inconclusive, InconclusiveExit::Inconclusive);
    }

    #[test]
    fn command_after_double_dash() {
        let c = config(&["--warmup", "30s", "--", "sleep", "1"]).unwrap();
        assert_eq!(c.target, Target::Command(vec!["sleep".into(), "1".into()]));
        assert_eq!(
            c.judge.trend.warmup,
            Warmup::Duration(Duration::from_secs(30))
        );
    }

    #[test]
    fn judging_flags_map_to_the_trend_engine() {
        let c = config(&[
            "--pid",
            "1",
            "--fail-if-growth",
            "5%,64MiB",
            "--fail-if-growth",
            "1GiB",
            "--warmup",
            "100it",
            "--series",
            "anon",
            "--allow-fragmentation",
            "--inconclusive",
            "fail",
        ])
        .unwrap();
        let j = &c.judge;
        assert_eq!(
            j.trend.fail_if_growth,
            [
                Growth::Percent(5.0),
                Growth::Bytes(64 << 20),
                Growth::Bytes(1 << 30)
            ]
        );
        assert!(j.enforced);
        assert_eq!(j.trend.warmup, Warmup::Iterations(100));
        assert_eq!(
            j.trend.series,
            SeriesChoice::Kind(SeriesKind::RssAnonPlusSwap)
        );
        assert!(j.trend.allow_fragmentation);
        assert_eq!(j.inconclusive, InconclusiveExit::Fail);
        for (flag, kind) in [
            ("allocated", SeriesKind::JemallocAllocated),
            ("rss", SeriesKind::Rss),
            ("jemalloc_resident", SeriesKind::JemallocResident),
        ] {
            let c = config(&["--pid", "1", "--series", flag]).unwrap();
            assert_eq!(c.judge.trend.series, SeriesChoice::Kind(kind));
        }
        assert_eq!(
            config(&["--pid", "1", "--warmup", "none"])
                .unwrap()
                .judge
                .trend
                .warmup,
            Warmup::None
        );
    }

    #[test]
    fn several_pids_or_a_match_make_a_fleet() {
        let c = config(&["--pid", "1", "--pid", "2", "--prometheus", "9464"]).unwrap();
        let Target::Fleet(f) = &c.target else {
            panic!("not a fleet: {:?}", c.target)
        };
        assert_eq!(f.pids, [1, 2]);
        assert!(f.patterns.is_empty());
        assert_eq!(c.prometheus, Some("127.0.0.1:9464".parse().unwrap()));
        let c = config(&["--match", "^srv", "--match", "worker"]).unwrap();
        let Target::Fleet(f) = &c.target else {
            panic!("not a fleet")
        };
        assert!(f.pids.is_empty());
        assert!(f.patterns[0].is_match("srv --port 0") && !f.patterns[0].is_match("my-srv"));
        assert!(f.patterns[1].is_match("a worker"));
        // One --pid alone stays the single-target run it always was.
        let c = config(&["--pid", "7"]).unwrap();
        assert_eq!(c.target, Target::Pid(7));
        assert_eq!(c.prometheus, None);
        assert!(err(&["--match", "x", "--proc-root", "/"]).contains("--proc-root reads one fake"));
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
        let e = err(&["--pid", "1", "--warmup", "150%"]);
        assert!(
            e.starts_with("--warmup: invalid warm-up \"150%\": expected a duration"),
            "{e}"
        );
        assert!(
            err(&["--pid", "1", "--series", "heap"]).contains("use auto, allocated, anon or rss")
        );
        assert!(
            err(&["--pid", "1", "--fail-if-growth", "5%,lots"])
                .contains("--fail-if-growth: invalid size or percentage \"lots\"")
        );
        assert!(err(&["--pid", "1", "--inconclusive", "maybe"]).contains("use `pass`"));
        assert!(err(&["--pid", "1", "--duration", "0s"]).contains("--duration 0"));
        assert!(
            err(&["--pid", "1", "--interval", "1s", "--pss-interval", "100ms"])
                .contains("--pss-interval must be")
        );
    }
}
