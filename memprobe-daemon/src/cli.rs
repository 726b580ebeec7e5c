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
  memprobe-daemon watch --duration 10m --fail-if-growth 5% --sites --summary soak.json -- ./my-server
  memprobe-daemon verdict samples.jsonl --fail-if-growth 5% --warmup 100it

Exit codes:
  0  pass; or, for `watch` without --fail-if-growth, any verdict (reported, not enforced)
  1  growth over the --fail-if-growth threshold(s); fragmentation too, unless --allow-fragmentation
  2  usage or runtime error (bad flag, missing PID, permission denied, unwritable output, command
     not found, unreadable or corrupt JSONL)
  3  inconclusive (too few samples or too short after warm-up, too noisy); --inconclusive pass|fail
     maps it to 0 or 1
A fleet (--pid repeated, --match) exits with the worst of its targets' codes, ranked 2, 1, 3, 0.

The watched command runs directly (no shell) in its own process group; SIGINT and SIGTERM sent to
the daemon are forwarded to that group, and the summary is written once it has exited. The
command's exit status is recorded in the summary; it does not change the daemon's exit code. If the
daemon itself dies (kill -KILL, a CI timeout), the command gets SIGKILL (PR_SET_PDEATHSIG): it never
outlives the daemon (its own children are not covered).";

/// memprobe-daemon: samples a process's memory over a soak run and judges growth.
#[derive(Debug, Parser)]
#[command(name = "memprobe-daemon", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process: boxing `watch`'s flags would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sample a running process (--pid) or a command started here (-- CMD ARGS...).
    #[command(after_help = AFTER_HELP)]
    Watch(WatchArgs),
    /// Re-judge a run saved by `watch --out FILE.jsonl`, without sampling again.
    #[command(after_help = AFTER_HELP)]
    Verdict(VerdictArgs),
    /// Compare memory figures of two runs: test reports (a directory or one file) or watch summaries.
    #[command(after_help = COMPARE_AFTER_HELP)]
    Compare(CompareArgs),
    /// Static footprint of an ELF or Mach-O binary (sections, flash/RAM, largest symbols), or
    /// of two compared.
    #[command(after_help = FOOTPRINT_AFTER_HELP)]
    Footprint(FootprintArgs),
    /// Draw a run saved by `watch --out FILE.jsonl` as `verdict` judges it: SVG and/or HTML.
    #[command(after_help = PLOT_AFTER_HELP)]
    Plot(PlotArgs),
}

/// How a run is judged: the flags `watch` and `verdict` share.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Fail (exit 1) when the judged series grows more than this over the run after warm-up:
    /// `10%` (of the first window's mean) or a size (`64MiB`). Repeat it or give a comma list
    /// (`5%,64MiB`) to fail only when growth exceeds every one. Growth that stops and holds a
    /// plateau passes (the sentence tells the rise); the full rule is in the `memprobe::trend`
    /// docs. Without it, `watch` judges at 5% and reports the verdict without enforcing it;
    /// `verdict` enforces 5%.
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

    /// Print the verdict as a GitHub annotation on stdout (also when GITHUB_ACTIONS=true, and
    /// with --quiet): `::error` when it fails the run (exit 1), `::warning` for any other verdict
    /// but pass (inconclusive, not enforced, fragmentation allowed).
    #[arg(long)]
    pub github: bool,
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
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["pid", "command", "matching"])))]
pub struct WatchArgs {
    /// Watch this running process (it is never signalled). Repeat it to watch several (a
    /// fleet: each target gets its own outputs, see --out).
    #[arg(long, value_name = "PID")]
    pub pid: Vec<String>,

    /// Time between samples, 1ms..1h.
    #[arg(long, value_name = "DURATION", default_value = "100ms")]
    pub interval: String,

    /// Stop after this long (default: when the process exits). A started command then gets
    /// SIGTERM, and SIGKILL 5 s later.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Write every sample as one JSON line, flushed as it is taken (at intervals under 10 ms, in
    /// batches at most 10 ms old).
    #[arg(long, value_name = "FILE.jsonl")]
    pub out: Option<PathBuf>,

    /// Write every sample as a CSV row, flushed like --out.
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

    // ---- Prometheus and fleets (issue 15, part 2) ----
    /// Also watch every process whose command name (comm) or command line matches this regular
    /// expression, rescanned every second: processes that start later are picked up, ended ones
    /// are marked ended. Repeatable; combines with --pid, not with -- CMD. With several targets,
    /// --out, --csv and --summary name one file per target: `NAME.PID.EXT` (`run.jsonl` becomes
    /// `run.4242.jsonl`), and the exit code is the worst of the targets' (2 over 1 over 3 over 0).
    #[arg(long = "match", id = "matching", value_name = "PATTERN")]
    pub matching: Vec<String>,

    /// Serve the latest figures and verdict of every target at http://ADDR/metrics in the
    /// Prometheus text format: HOST:PORT (port 0 picks a free one, printed on stderr), or a port
    /// alone, bound on loopback. A non-loopback address is allowed, with a warning.
    #[arg(long, value_name = "ADDR")]
    pub prometheus: Option<String>,
    // ---- end of Prometheus and fleets ----
    /// Allocation sites of the watched command (built with memprobe's `publish` and `sites`
    /// features and memprobe::global_allocator!): once warm-up ends it is asked to start
    /// sampling, and before it is stopped, to write its profile. The run writes
    /// `STEM.sites.json` and `STEM.sites.pb.gz` (gzipped pprof) beside --summary (else --out),
    /// and a growth verdict names the top growing sites (live bytes since warm-up). Needs -- CMD.
    #[arg(long)]
    pub sites: bool,

    /// Mean sampling interval of --sites: a size (`512KiB`, the default; one sample per that
    /// many bytes allocated, on average) or `exact` (every allocation: small programs only).
    #[arg(long, value_name = "SIZE|exact", requires = "sites")]
    pub sites_rate: Option<String>,

    /// Plots written at the end of the run.
    #[command(flatten)]
    pub plot: WatchPlotArgs,

    /// Read `/proc` from this directory instead (tests: a committed fake tree). Hidden from
    /// `--help`: it is not a user feature.
    #[arg(long, value_name = "DIR", hide = true)]
    pub proc_root: Option<PathBuf>,

    /// The command to start and watch, after `--`; run directly, without a shell.
    #[arg(last = true, value_name = "CMD ARGS")]
    pub command: Vec<OsString>,
}

const COMPARE_AFTER_HELP: &str = "\
Examples:
  memprobe-daemon compare main-reports/ target/memprobe
  memprobe-daemon compare main-reports/ target/memprobe --fail-if-growth 10% --markdown
  memprobe-daemon compare base.json new.json --include-rss --rss-noise 4MiB --json

Each side: a directory of #[memprobe] test reports ($MEMPROBE_HOME, else target/memprobe; searched
recursively), one report file, or a `watch --summary` file. Exact figures (allocations, bytes,
peak, net, per iteration) are compared exactly; RSS only with --include-rss, changes within
--rss-noise being noise. With --github, or when GITHUB_ACTIONS=true, tests that grew past
--fail-if-growth get an ::error annotation at their source, and the markdown table is appended to
$GITHUB_STEP_SUMMARY when it is set.

Exit codes:
  0  no figure grew past --fail-if-growth (or none given)
  1  a figure grew past every --fail-if-growth threshold
  2  usage or runtime error (bad flag, no reports, truncated or foreign file, schema version this
     build does not read, a summary against test reports)";

/// Flags of `compare`, unvalidated.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The reference run: a report directory, a report file or a watch summary.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The run under test, of the same kind as BASE.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Fail (exit 1) when a figure grows more than this: `10%` (of BASE's figure) or a size
    /// (`64KiB`, byte figures only). Repeat it or give a comma list (`5%,64KiB`) to fail only
    /// when growth exceeds every one.
    #[arg(long, value_name = "PERCENT|SIZE", value_delimiter = ',')]
    pub fail_if_growth: Vec<String>,

    /// Also compare RSS figures (noisy: whole process, shared and file pages).
    #[arg(long)]
    pub include_rss: bool,

    /// RSS changes within this are noise, never growth: a size or a percentage of BASE's figure.
    #[arg(long, value_name = "SIZE|PERCENT", default_value = "1MiB")]
    pub rss_noise: String,

    /// Print markdown (to paste into a pull request) instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,

    /// Print the comparison as JSON instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Print GitHub Actions error annotations for tests that grew past --fail-if-growth (on by
    /// itself when GITHUB_ACTIONS=true).
    #[arg(long)]
    pub github: bool,
}

const FOOTPRINT_AFTER_HELP: &str = "\
Examples:
  memprobe-daemon footprint target/thumbv7em-none-eabihf/release/firmware
  memprobe-daemon footprint main/firmware pr/firmware --fail-if-growth 1%,512B --markdown
  memprobe-daemon footprint old.elf new.elf --json --symbols 50

Only loaded sections count. Each is text (executable), bss (no bytes in the file: .bss, .tbss),
data (writable or thread-local, with bytes) or rodata (any other loaded section); then
flash = text + rodata + data (the load image) and RAM = data + bss (static RAM). Symbol sizes are
the symbol table's (ELF); Mach-O records none, so there they are gaps between addresses.

Exit codes:
  0  no total grew past --fail-if-growth (or none given, or one binary)
  1  a total (text, rodata, data, bss, flash or ram) grew past every --fail-if-growth threshold
  2  usage or runtime error (missing file, not an ELF or Mach-O file, truncated file)";

/// Flags of `footprint`, unvalidated.
#[derive(Debug, Args)]
pub struct FootprintArgs {
    /// The binary to measure; with BINARY2, the reference.
    #[arg(value_name = "BINARY")]
    pub base: PathBuf,

    /// A second binary to compare with BINARY.
    #[arg(value_name = "BINARY2")]
    pub new: Option<PathBuf>,

    /// With two binaries, fail (exit 1) when a total grows more than this: `10%` (of BINARY's
    /// figure) or a size (`512B`, `4KiB`). Repeat it or give a comma list (`1%,512B`) to fail
    /// only when growth exceeds every one.
    #[arg(long, value_name = "PERCENT|SIZE", value_delimiter = ',')]
    pub fail_if_growth: Vec<String>,

    /// How many symbols to list (the largest, or the largest changes).
    #[arg(long, value_name = "N", default_value = "20")]
    pub symbols: usize,

    /// Print markdown (to paste into a pull request) instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,

    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

// ---- plots (`plot` and `watch --plot/--html`) ----

const PLOT_AFTER_HELP: &str = "\
Examples:
  memprobe-daemon plot samples.jsonl --svg samples.svg
  memprobe-daemon plot samples.jsonl --html samples.html --warmup 30s --series anon
  memprobe-daemon watch --duration 10m --out run.jsonl --plot run.svg --html run.html -- ./my-server

The run is judged with the same flags and defaults as `verdict`, so the plot shows what `verdict`
says: the series (the judged one emphasised, each point with the min-max of the samples it
stands for), the warm-up shaded, the fitted slope with its 95% band, the steps, period and
plateau the verdict names, the published phases, and the verdict's sentence as the title. The
HTML is one self-contained file (no network): hover for values, toggle series, drag to zoom.

Exit codes:
  0  the plots were written (whatever the verdict: use `verdict` to enforce it)
  2  usage or runtime error (missing, empty or corrupt JSONL, unwritable output, no --svg or --html)";

/// Flags of `plot`, unvalidated.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("plot_output").required(true).multiple(true).args(["svg", "html"])))]
pub struct PlotArgs {
    /// The JSONL file written by `watch --out`.
    #[arg(value_name = "FILE.jsonl")]
    pub file: PathBuf,

    /// Write the plot as SVG here.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,

    /// Write the plot as one self-contained HTML page here (hover, toggles, zoom).
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,

    /// How to judge (as `verdict`).
    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Print nothing (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The plot flags of `watch`.
#[derive(Debug, Args)]
pub struct WatchPlotArgs {
    /// At the end of the run, draw it as SVG here (as `plot --svg` would from `--out`).
    #[arg(long = "plot", value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,

    /// At the end of the run, draw it as one self-contained HTML page here.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
}
