//! `memprobe-daemon`: samples a process's memory (and its children's, and its cgroup's) over a
//! soak run, writes every sample as it is taken, and judges growth.
//!
//! The binary is a thin `main` over [`run`]; the pieces are modules named after their concept:
//! [`cli`] (raw flags), [`config`] (checked options), [`watch`] (the sampling run), [`procfs`] and
//! [`cgroup`] (readers), [`verdict`] (the bounded copy of the samples, the growth verdict
//! by `memprobe::trend`, and the `verdict` command that re-judges a saved run),
//! [`output`] (JSONL, CSV, summary), [`signals`] (sleeping to deadlines, stop signals).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

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
