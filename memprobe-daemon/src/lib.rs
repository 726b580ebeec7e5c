//! `memprobe-daemon`: samples a process's memory (and its children's, and its cgroup's) over a
//! soak run, writes every sample as it is taken, and judges growth.
//!
//! The binary is a thin `main` over [`run`]; the pieces are modules named after their concept:
//! [`cli`] (raw flags), [`config`] (checked options), [`watch`] (the sampling run), [`procfs`] and
//! [`cgroup`] (readers), [`series`] (bounded in-memory series), [`verdict`] (the growth verdict
//! by `memprobe::trend`, and the `verdict` command that re-judges a saved run),
//! [`output`] (JSONL, CSV, summary), [`signals`] (sleeping to deadlines, stop signals).
#![forbid(unsafe_code)]

pub mod cgroup;
pub mod cli;
pub mod config;
pub mod output;
pub mod procfs;
pub mod series;
pub mod signals;
pub mod verdict;
pub mod watch;

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
