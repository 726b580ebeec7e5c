//! Raw command-line flags, exactly as clap parses them. Nothing here is checked beyond its shape:
//! sizes, durations, ranges and cross-flag rules are validated once, in `config`
//! (ripgrep's two phases: raw flags, then checked options).

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  memprobe-daemon watch --duration 10m --fail-if-growth 10% --summary run.json -- ./my-server --port 0
  memprobe-daemon watch --pid 4242 --interval 1s --out samples.jsonl --csv samples.csv
  memprobe-daemon watch --tree --cgroup auto --warmup 30s --fail-if-growth 5%,64MiB -- make soak
  memprobe-daemon verdict samples.jsonl --fail-if-growth 5% --warmup 100it

Exit codes:
  0  pass; or, for `watch` without --fail-if-growth, any verdict (reported, not enforced)
  1  growth over the --fail-if-growth threshold(s); fragmentation too, unless --allow-fragmentation
  2  usage or runtime error (bad flag, missing PID, permission denied, unwritable output, command
     not found, unreadable or corrupt JSONL)
  3  inconclusive (too few samples or too short after warm-up, too noisy); --inconclusive pass|fail
     maps it to 0 or 1

The watched command runs directly (no shell) in its own process group; SIGINT and SIGTERM sent to
the daemon are forwarded to that group, and the summary is written once it has exited. The
command's exit status is recorded in the summary; it does not change the daemon's exit code.";

/// memprobe-daemon: samples a process's memory over a soak run and judges growth.
#[derive(Debug, Parser)]
#[command(name = "memprobe-daemon", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sample a running process (--pid) or a command started here (-- CMD ARGS...).
    #[command(after_help = AFTER_HELP)]
    Watch(WatchArgs),
    /// Re-judge a run saved by `watch --out FILE.jsonl`, without sampling again.
    #[command(after_help = AFTER_HELP)]
    Verdict(VerdictArgs),
}

/// How a run is judged: the flags `watch` and `verdict` share.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Fail (exit 1) when the judged series grows more than this over the run after warm-up:
    /// `10%` (of the first window's median) or a size (`64MiB`). Repeat it or give a comma list
    /// (`5%,64MiB`) to fail only when growth exceeds every one. Without it, `watch` judges at 5%
    /// and reports the verdict without enforcing it; `verdict` enforces 5%.
    #[arg(long, value_name = "PERCENT|SIZE", value_delimiter = ',')]
    pub fail_if_growth: Vec<String>,

    /// Start of the run the verdict ignores: a duration (`30s`), a share of the run (`20%`), a
    /// number of iterations (`100it`, needs a process that marks them), or `none`.
    #[arg(long, value_name = "DURATION|PERCENT|Nit", default_value = "20%")]
    pub warmup: String,

    /// Series the verdict judges: auto (jemalloc allocated if published, else the counting
    /// allocator's live bytes, else RssAnon+VmSwap, else RSS), allocated (jemalloc allocated,
    /// needs a publishing process), anon (RssAnon+VmSwap), rss. With --tree, anon and rss are
    /// summed over the tree.
    #[arg(long, value_name = "SERIES", default_value = "auto")]
    pub series: String,

    /// Report fragmentation (resident memory grows while allocated memory stays flat) but exit 0.
    #[arg(long)]
    pub allow_fragmentation: bool,

    /// Map an inconclusive verdict (exit 3) to pass (0) or fail (1).
    #[arg(long, value_name = "pass|fail")]
    pub inconclusive: Option<String>,
}

/// Flags of `verdict`, unvalidated.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The JSONL file written by `watch --out`.
    #[arg(value_name = "FILE.jsonl")]
    pub file: PathBuf,

    /// How to judge.
    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Also write the verdict and its settings as JSON here.
    #[arg(long, value_name = "OUT.json")]
    pub summary: Option<PathBuf>,

    /// Print nothing (the exit code tells); errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `watch`, unvalidated.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["pid", "command"])))]
pub struct WatchArgs {
    /// Watch this running process (it is never signalled).
    #[arg(long, value_name = "PID")]
    pub pid: Option<String>,

    /// Time between samples, 1ms..1h.
    #[arg(long, value_name = "DURATION", default_value = "100ms")]
    pub interval: String,

    /// Stop after this long (default: when the process exits). A started command then gets
    /// SIGTERM, and SIGKILL 5 s later.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Write every sample as one JSON line, flushed as it is taken.
    #[arg(long, value_name = "FILE.jsonl")]
    pub out: Option<PathBuf>,

    /// Write every sample as a CSV row, flushed as it is taken.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write the run's summary JSON here, replaced atomically every 10 s and at the end.
    #[arg(long, value_name = "FILE.json")]
    pub summary: Option<PathBuf>,

    /// How to judge.
    #[command(flatten)]
    pub judge: JudgeArgs,

    /// No live status line and no final lines on stderr (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,

    /// Follow the process's children through `/proc/<pid>/task/*/children`: per-process and total
    /// series. Summed RSS over-counts pages the processes share.
    #[arg(long)]
    pub tree: bool,

    /// Also sample the memory cgroup: `auto` (the process's own) or a cgroup directory (v1 or v2).
    #[arg(long, value_name = "auto|PATH")]
    pub cgroup: Option<String>,

    /// Also read PSS/USS from smaps_rollup at most this often (opt-in: a walk costs ~10 ms per GiB
    /// of RSS and slows the process); skipped when the last walk took over 10% of this interval.
    #[arg(long, value_name = "DURATION")]
    pub pss_interval: Option<String>,

    /// Reset the peak (VmHWM, via clear_refs) when warm-up ends and at each published phase.
    #[arg(long)]
    pub phase_reset: bool,

    /// The command to start and watch, after `--`; run directly, without a shell.
    #[arg(last = true, value_name = "CMD ARGS")]
    pub command: Vec<OsString>,
}
