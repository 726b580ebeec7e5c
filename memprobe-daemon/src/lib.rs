//! `memprobe-daemon`: samples a process's memory (and its children's, and its cgroup's) over a
//! soak run, writes every sample as it is taken, and judges growth.
//!
//! The binary is a thin `main` over [`run`]; the pieces are modules named after their concept:
//! [`cli`] (raw flags) then `config` (checked options, one struct per subcommand); `watch` (the
//! sampling run, a small loop over: `child` the command's lifecycle, `sampler` the readers
//! yielding a plain tick, `tree` the process tree under the target, `recorder` peaks, phases,
//! notes and the verdict's copy, `summary` the summary JSON and status line, `progress` the run's
//! clock and how it ended); `procfs`
//! (what the daemon reads of `/proc` beyond `memprobe::snapshot`, which owns statm, status and
//! stat) and `cgroup`; `verdict` (`store` the bounded copy, `series` adaptation and judging by
//! `memprobe::trend`, `command` the `verdict` subcommand); `output` (JSONL and CSV writers, the
//! summary file, the schema version, and `read`, the JSONL reader beside the writer); `signals`
//! (sleeping to deadlines, stop signals). Only [`cli`] and [`run`] are public: the rest is
//! `pub(crate)`, so rustc reports dead code (and the hidden `__readers`, which routes the
//! parsers to the fuzz targets and property tests).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[doc(hidden)]
pub mod __readers;
pub(crate) mod cgroup;
pub mod cli;
pub(crate) mod config;
pub(crate) mod output;
pub(crate) mod procfs;
pub(crate) mod signals;
pub(crate) mod verdict;
pub(crate) mod watch;

/// Runs a parsed command line; the exit code (0 pass, 1 growth or fragmentation, 3 inconclusive).
///
/// # Errors
///
/// Usage and runtime errors, which `main` reports in one line with exit code 2.
pub fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    match cli.command {
        cli::Command::Watch(args) => watch::watch(&config::Config::from_args(args)?),
        cli::Command::Verdict(args) => {
            verdict::command::command(&config::VerdictConfig::from_args(args)?)
        }
    }
}
