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
//! (sleeping to deadlines, stop signals); `compare` (the `compare BASE NEW` subcommand: `load`
//! reports or summaries, `diff` them, `render` the result); `footprint` (the `footprint BINARY
//! [BINARY2]` subcommand: `load` and `measure` an ELF or Mach-O file, `diff` two, `render`);
//! `prometheus` (`watch --prometheus`: the lock-free `board` the sampler publishes into, the
//! `exposition` text format, the HTTP `server` thread); `watch::fleet` (several targets).
//! `plot` (`plot FILE.jsonl` and `watch --plot/--html`: `data` what a plot shows, `units`, and
//! the `svg` and `html` renderers).
//! Only [`cli`] and [`run`] are public: the rest is `pub(crate)`, so rustc reports dead code (and
//! the hidden `__readers`, which routes the parsers to the fuzz targets and property tests, and
//! `__schemas`, the JSON Schemas of the daemon's files for `tests/schemas.rs`).
// `deny`, not `forbid`: one module may opt out, `watch::child::parent_death` (the `pre_exec`
// that makes a started command die with the daemon); everything else stays safe code.
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[doc(hidden)]
pub mod __readers;
#[cfg(feature = "json-schema")]
#[doc(hidden)]
pub mod __schemas;
pub(crate) mod cgroup;
pub mod cli;
pub(crate) mod compare;
pub(crate) mod config;
pub(crate) mod footprint;
pub(crate) mod output;
pub(crate) mod plot;
pub(crate) mod procfs;
pub(crate) mod prometheus;
pub(crate) mod signals;
pub(crate) mod verdict;
pub(crate) mod watch;

/// The whole program over `args` (the program name first): parses them as `bin_name`, runs,
/// and maps the result to the documented exit codes (0 pass, 1 growth or fragmentation, 2 usage
/// or runtime error, 3 inconclusive), printing an error in one line. `memprobe-daemon` and the
/// cargo front `cargo memprobe` are both this function.
///
/// # Examples
///
/// ```
/// let code = memprobe_daemon::main_with_args("memprobe-daemon", ["memprobe-daemon", "--version"]);
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
/// ```
pub fn main_with_args<I, T>(bin_name: &str, args: I) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    use std::process::ExitCode;
    let parsed = cli::Cli::command()
        .bin_name(bin_name)
        .try_get_matches_from(args)
        .and_then(|matches| cli::Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let message = format!("{e:#}");
            // Library errors already say `memprobe: ...`; one prefix is enough.
            let message = message.strip_prefix("memprobe: ").unwrap_or(&message);
            eprintln!("{bin_name}: {message}");
            ExitCode::from(2)
        }
    }
}

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
        cli::Command::Compare(args) => compare::command(&config::CompareConfig::from_args(args)?),
        cli::Command::Footprint(args) => {
            footprint::command(&config::FootprintConfig::from_args(args)?)
        }
        cli::Command::Plot(args) => plot::command(&config::PlotConfig::from_args(args)?),
    }
}
