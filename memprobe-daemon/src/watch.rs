//! The `watch` run: start or attach to the target, tick on absolute monotonic deadlines, write
//! each sample as it is taken, keep the bounded in-memory series, then stop the target, judge and
//! write the summary.
//!
//! ```text
//!  open outputs ─▶ start command / open PID ─▶ ┌─ tick: sample ─▶ write line ─▶ series ─┐
//!  (fail early)     (MEMPROBE_PUBLISH set)     └─ sleep to deadline or signal ◀─────────┘
//!                                                 │ duration over │ target exited │ signal (PID mode)
//!                                                 ▼
//!          purge request + final sample ─▶ SIGTERM, SIGKILL after 5 s ─▶ verdict ─▶ summary
//! ```
//!
//! A stop signal (SIGINT/SIGTERM/SIGHUP) with a started command is forwarded to its process group
//! and sampling goes on until the command exits (a third signal sends SIGKILL); with `--pid` it
//! ends the run at once. The summary is rewritten after [`SUMMARY_FIRST`] and then every
//! [`SUMMARY_EVERY`], so a killed daemon still leaves a valid one.
//!
//! # Cost per tick
//!
//! PERF: a steady-state tick is a `ppoll` wake-up (no file descriptor, see [`crate::signals`]),
//! one `pread` of `statm`, one of `status` at most every 100 ms (1 s without swap, see
//! [`crate::procfs`]), a clock read and one `write` per output file, and no heap allocation.
//! Everything else runs on its own slower clock: the published record every 100 ms (three
//! `pread`s; its file looked for every 100 ms for 2 s, then every second), the PID's identity
//! every second, `memory.stat` every second, the summary every [`SUMMARY_EVERY`], formatted in
//! memory and written with one `write`. The verdict's copy of the samples
//! ([`crate::verdict::RunSeries`]) is appended to in place.

use crate::cgroup::{Cgroup, CgroupSample, CgroupStat};
use crate::config::{CgroupChoice, Config, InconclusiveExit, Target};
use crate::output::{ProcSample, Sample, SampleFiles, SummaryFile, TreeTotals};
use crate::procfs::{self, Pss, PssReader, SelfUsage};
use crate::series::Downsampled;
use crate::signals::{self, Signals};
use crate::verdict::{RunSeries, VerdictInput, kind_name};
use anyhow::{Context, Result};
use memprobe::publish::{self, PublishedStats};
use memprobe::snapshot::{Sampler, read_stat};
use memprobe::trend::{SeriesChoice, SeriesKind, Verdict, Warmup};
use memprobe::units::{Bytes, SignedBytes};
use memprobe::{MemorySnapshot, ProcessMemory};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;
use std::io::IsTerminal;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Summary JSON schema version.
pub const SCHEMA_VERSION: u32 = 1;
/// How often the summary file is rewritten during a run (the first time after [`SUMMARY_FIRST`]).
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// When the first `running` summary is written, so a run killed early still leaves one.
pub const SUMMARY_FIRST: Duration = Duration::from_secs(1);
const STATUS_EVERY: Duration = Duration::from_millis(250);
const IDENTITY_EVERY: Duration = Duration::from_secs(1);
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// A process that has not published within this time is looked for only every second after.
const PUBLISH_LOOK_FAST: Duration = Duration::from_secs(2);
const PUBLISH_LOOK_SLOW: Duration = Duration::from_secs(1);
const CGROUP_STAT_EVERY: Duration = Duration::from_secs(1);
const TERM_GRACE: Duration = Duration::from_secs(5);
const PURGE_WAIT: Duration = Duration::from_secs(1);
/// Processes and phases listed in the summary at most (more are counted).
const LIST_MAX: usize = 256;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// `--duration` elapsed.
    Duration,
    /// The watched process exited (or its PID now names another process).
    TargetExited,
    /// The daemon was asked to stop (`--pid` mode).
    Signal,
}

#[derive(Debug, Clone, Serialize)]
struct ExitInfo {
    code: Option<i32>,
    signal: Option<String>,
}

impl From<ExitStatus> for ExitInfo {
    fn from(s: ExitStatus) -> Self {
        ExitInfo {
            code: s.code(),
            signal: s.signal().map(signals::name),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct SeenProc {
    pid: u32,
    ppid: u32,
    start_time_ticks: u64,
    first_seen_ns: u64,
    last_seen_ns: u64,
    peak_rss_bytes: u64,
    exited: bool,
}

struct Tracked {
    mem: Sampler,
    seen: usize,
    last: ProcSample,
}

#[derive(Debug, Clone, Serialize)]
struct PhaseMark {
    name: String,
    t_ns: u64,
    iteration: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
struct Peaks {
    rss_bytes: u64,
    anon_swap_bytes: Option<u64>,
    vm_hwm_bytes: Option<u64>,
    tree_rss_bytes: Option<u64>,
    cgroup_usage_bytes: Option<u64>,
    cgroup_peak_bytes: Option<u64>,
    jemalloc_allocated_bytes: Option<u64>,
    jemalloc_resident_bytes: Option<u64>,
}

/// The summary JSON. Field names carry their units.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    schema_version: u32,
    tool: &'static str,
    state: &'static str,
    command: Option<Vec<String>>,
    target: TargetInfo,
    config: ConfigInfo<'a>,
    system: SystemInfo,
    run: RunInfo,
    sampler: SamplerInfo,
    first: Option<MemorySnapshot>,
    last: Option<MemorySnapshot>,
    peaks: &'a Peaks,
    tree: Option<TreeInfo<'a>>,
    cgroup: Option<CgroupInfo>,
    pss: Option<PssInfo>,
    published: Option<&'a PublishedStats>,
    phases: &'a [PhaseMark],
    peak_resets: u64,
    /// The samples the verdict judged.
    verdict_input: VerdictInput,
    /// `memprobe::trend::Verdict`, once the run is over.
    verdict: Option<Verdict>,
    /// The daemon's exit code, once the run is over.
    exit_code: Option<u8>,
    notes: &'a [String],
}

#[derive(Debug, Serialize)]
struct TargetInfo {
    pid: u32,
    start_time_ticks: u64,
    started_by_daemon: bool,
    exit: Option<ExitInfo>,
}

#[derive(Debug, Serialize)]
struct ConfigInfo<'a> {
    interval_ns: u64,
    duration_ns: Option<u64>,
    warmup: Warmup,
    series: SeriesChoice,
    fail_if_growth: Vec<String>,
    allow_fragmentation: bool,
    /// Whether the verdict sets the exit code (`--fail-if-growth` given).
    verdict_enforced: bool,
    inconclusive: InconclusiveExit,
    tree: bool,
    cgroup: Option<String>,
    pss_interval_ns: Option<u64>,
    phase_reset: bool,
    out: Option<&'a std::path::Path>,
    csv: Option<&'a std::path::Path>,
}

#[derive(Debug, Serialize)]
struct SystemInfo {
    kernel: &'static str,
    page_size: u64,
    cgroup_version: Option<crate::cgroup::Version>,
}

#[derive(Debug, Serialize)]
struct RunInfo {
    started_wall_ns: u64,
    elapsed_ns: u64,
    samples: u64,
    ticks_scheduled: u64,
    missed_ticks: u64,
    requested_rate_hz: f64,
    /// Time spent sampling (before stopping the command and judging).
    sampling_ns: u64,
    /// Samples per second of sampling time.
    achieved_rate_hz: f64,
    ended: Option<Ended>,
    stop_signal: Option<String>,
}

/// The daemon's own cost while sampling (up to the end of sampling: stopping the command and
/// judging are not sampling), and its peak RSS at exit, judging included.
#[derive(Debug, Serialize)]
struct SamplerInfo {
    #[serde(flatten)]
    usage: SelfUsage,
    cpu_share: f64,
    /// Peak RSS when the summary was written, the verdict's working memory included.
    max_rss_bytes_at_exit: u64,
}

#[derive(Debug, Serialize)]
struct TreeInfo<'a> {
    note: &'static str,
    processes_seen: u64,
    max_processes: u32,
    last: TreeTotals,
    processes: &'a [SeenProc],
}

#[derive(Debug, Serialize)]
struct CgroupInfo {
    version: crate::cgroup::Version,
    path: PathBuf,
    last: Option<CgroupSample>,
    stat: CgroupStat,
}

#[derive(Debug, Serialize)]
struct PssInfo {
    walks: u64,
    skipped: u64,
    last_walk_ns: u64,
    last: Option<Pss>,
}

/// The started command and its publish directory.
struct Started {
    child: Child,
    exit: Option<ExitStatus>,
    publish_path: PathBuf,
    _publish_dir: tempfile::TempDir,
    reader: Option<publish::Reader>,
    stop_signals: u32,
}

struct Run<'c> {
    config: &'c Config,
    start: Instant,
    started_wall_ns: u64,
    pid: u32,
    start_ticks: u64,
    /// The target's one reader: memory figures, peak reset, start time.
    reader: Sampler,
    started: Option<Started>,
    files: SampleFiles,
    summary_file: Option<SummaryFile>,
    cgroup: Option<Cgroup>,
    cgroup_last: Option<CgroupSample>,
    cgroup_stat: CgroupStat,
    cgroup_stat_at: Option<Instant>,
    pss: Option<PssReader>,
    pss_due: Instant,
    pss_walks: u64,
    pss_skipped: u64,
    pss_last: Option<Pss>,
    published: Option<PublishedStats>,
    publish_due: Instant,
    warmup_first_iteration: Option<u64>,
    phases: Vec<PhaseMark>,
    peak_resets: u64,
    warmup_reset_done: bool,
    tracked: Vec<Tracked>,
    seen: Vec<SeenProc>,
    seen_count: u64,
    max_processes: u32,
    procs: Vec<ProcSample>,
    kids: Vec<u32>,
    tree_last: TreeTotals,
    samples: u64,
    ticks: u64,
    missed: u64,
    first: Option<MemorySnapshot>,
    last: Option<MemorySnapshot>,
    peaks: Peaks,
    rss: Downsampled,
    anon_swap: Downsampled,
    allocated: Downsampled,
    tree_rss: Downsampled,
    tree_anon_swap: Downsampled,
    judged: RunSeries,
    notes: Vec<String>,
    ended: Option<Ended>,
    sampling_ended: Option<Instant>,
    sampling_usage: Option<SelfUsage>,
    stop_signal: Option<i32>,
    identity_due: Instant,
    status_due: Instant,
    summary_due: Instant,
    tty: bool,
}

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Runs `watch`; the process exit code (0 pass, 1 growth, 3 inconclusive).
///
/// # Errors
///
/// Usage and runtime errors (exit 2): missing PID, permission denied, unwritable output, command
/// not found.
pub fn watch(config: &Config) -> Result<u8> {
    let signals = Signals::install()?;
    // Outputs first: a bad path must fail before the target starts.
    let files = SampleFiles::open(config.out.as_deref(), config.csv.as_deref())?;
    let summary_file = config
        .summary
        .as_deref()
        .map(|p| {
            SummaryFile::create(
                p,
                &serde_json::json!({"schema_version": SCHEMA_VERSION, "state": "starting"}),
            )
        })
        .transpose()?;

    let (pid, started) = match &config.target {
        Target::Pid(pid) => (*pid, None),
        Target::Command(argv) => {
            let started = signals.unblocked(|| start_command(argv))?;
            (started.child.id(), Some(started))
        }
    };
    let mem = ProcessMemory::for_pid(pid)?;
    let start_ticks = mem.start_time_ticks()?;
    let reader = Sampler::new(mem, config.interval, procfs::status_every());
    let cgroup = match &config.cgroup {
        None => None,
        Some(CgroupChoice::Auto) => Some(Cgroup::of_process(pid)?),
        Some(CgroupChoice::Path(p)) => Some(Cgroup::open(p)?),
    };
    let pss = config
        .pss_interval
        .map(|_| PssReader::open(pid))
        .transpose()?;

    let start = Instant::now();
    let mut run = Run {
        config,
        start,
        started_wall_ns: wall_ns(),
        pid,
        start_ticks,
        reader,
        started,
        files,
        summary_file,
        cgroup,
        cgroup_last: None,
        cgroup_stat: CgroupStat::default(),
        cgroup_stat_at: None,
        pss,
        pss_due: start,
        pss_walks: 0,
        pss_skipped: 0,
        pss_last: None,
        published: None,
        publish_due: start,
        warmup_first_iteration: None,
        phases: Vec::new(),
        peak_resets: 0,
        warmup_reset_done: false,
        tracked: Vec::new(),
        seen: Vec::new(),
        seen_count: 0,
        max_processes: 0,
        procs: Vec::new(),
        kids: Vec::new(),
        tree_last: TreeTotals::default(),
        samples: 0,
        ticks: 0,
        missed: 0,
        first: None,
        last: None,
        peaks: Peaks::default(),
        rss: Downsampled::default(),
        anon_swap: Downsampled::default(),
        allocated: Downsampled::default(),
        tree_rss: Downsampled::default(),
        tree_anon_swap: Downsampled::default(),
        judged: RunSeries::new(config.tree),
        notes: Vec::new(),
        ended: None,
        sampling_ended: None,
        sampling_usage: None,
        stop_signal: None,
        identity_due: start + IDENTITY_EVERY,
        status_due: start,
        summary_due: start + SUMMARY_FIRST,
        tty: !config.quiet && std::io::stderr().is_terminal(),
    };
    let result = run.sample_loop(&signals);
    run.sampling_ended = Some(Instant::now());
    run.sampling_usage = Some(procfs::self_usage());
    // Whatever happened, stop the command and leave a summary with what was collected.
    let finish = run.finish(&signals);
    result?;
    finish
}

fn start_command(argv: &[std::ffi::OsString]) -> Result<Started> {
    let program = &argv[0];
    let dir_base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    // A private 0700 directory: the record file inside is created 0600 by the process.
    let publish_dir = tempfile::Builder::new()
        .prefix("memprobe-publish-")
        .tempdir_in(&dir_base)
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix("memprobe-publish-")
                .tempdir()
        })
        .context("creating the directory for the published record")?;
    let publish_path = publish_dir.path().join("record");
    let child = std::process::Command::new(program)
        .args(&argv[1..])
        .env(publish::ENV_VAR, &publish_path)
        // Its own process group: signals the daemon forwards reach the command and its children
        // once, not twice (a terminal's Ctrl-C would otherwise hit both).
        .process_group(0)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!(
                    "command not found: {} (not a file, and not in PATH)",
                    program.to_string_lossy()
                )
            }
            std::io::ErrorKind::PermissionDenied => {
                anyhow::anyhow!(
                    "cannot execute {}: permission denied",
                    program.to_string_lossy()
                )
            }
            _ => anyhow::Error::new(e).context(format!("starting {}", program.to_string_lossy())),
        })?;
    Ok(Started {
        child,
        exit: None,
        publish_path,
        _publish_dir: publish_dir,
        reader: None,
        stop_signals: 0,
    })
}

impl Run<'_> {
    fn t_ns(&self, at: Instant) -> u64 {
        at.duration_since(self.start).as_nanos() as u64
    }

    fn sample_loop(&mut self, signals: &Signals) -> Result<()> {
        let interval_ns = self.config.interval.as_nanos() as u64;
        let end_at = self.config.duration.map(|d| self.start + d);
        let mut next_tick: u64 = 0;
        let mut slept = true;
        loop {
            if let Some(sig) = signals.take_stop() {
                self.stop_signal = Some(sig);
                match self.started.as_mut() {
                    Some(s) => {
                        s.stop_signals += 1;
                        let forward = if s.stop_signals >= 3 {
                            Signal::SIGKILL
                        } else {
                            Signal::try_from(sig)?
                        };
                        let _ = kill(Pid::from_raw(-(self.pid as i32)), forward);
                        self.notes.push(format!(
                            "received {}: sent {} to the command's process group",
                            signals::name(sig),
                            forward
                        ));
                    }
                    None => {
                        self.ended = Some(Ended::Signal);
                        return Ok(());
                    }
                }
            }
            if signals.take_child() && self.reap()? {
                self.ended = Some(Ended::TargetExited);
                return Ok(());
            }
            let now = Instant::now();
            if end_at.is_some_and(|end| now >= end) {
                self.ended = Some(Ended::Duration);
                return Ok(());
            }
            let deadline = self.start + Duration::from_nanos(interval_ns * next_tick);
            if now >= deadline && !slept {
                // Behind without a sleep since the last tick: signals are blocked outside the
                // sleep, so let pending ones in (a zero-length sleep) before ticking again.
                slept = true;
                signals.sleep_until(now);
                continue;
            }
            if now >= deadline {
                slept = false;
                if !self.tick(now)? {
                    self.ended = Some(Ended::TargetExited);
                    return Ok(());
                }
                next_tick += 1;
                self.ticks = next_tick;
                // Missed deadlines are skipped, not caught up in a burst.
                let behind = Instant::now().saturating_duration_since(
                    self.start + Duration::from_nanos(interval_ns * next_tick),
                );
                if !behind.is_zero() {
                    let skip = behind.as_nanos() as u64 / interval_ns + 1;
                    self.missed += skip;
                    next_tick += skip;
                    self.ticks = next_tick;
                }
                self.periodic(now)?;
                continue;
            }
            let wake = end_at.map_or(deadline, |end| end.min(deadline));
            signals.sleep_until(wake);
            slept = true;
        }
    }

    /// Reaps the started command if it exited; `true` when it has.
    fn reap(&mut self) -> Result<bool> {
        let Some(s) = self.started.as_mut() else {
            return Ok(false);
        };
        if s.exit.is_none() {
            s.exit = s.child.try_wait().context("waiting for the command")?;
        }
        Ok(s.exit.is_some())
    }

    /// One sample; `false` when the target has gone.
    fn tick(&mut self, now: Instant) -> Result<bool> {
        let t_ns = self.t_ns(now);
        let mem = match self.reader.read(now) {
            Ok(m) => m,
            Err(memprobe::Error::ProcessNotFound { .. }) => return self.target_gone(),
            Err(e) => return Err(e.into()),
        };
        // A zombie reads as all zeros: the process has exited but is not reaped yet.
        if mem.rss_bytes == 0 && read_stat(self.pid).is_ok_and(|s| matches!(s.state, b'Z' | b'X')) {
            return self.target_gone();
        }
        if now >= self.identity_due {
            self.identity_due = now + IDENTITY_EVERY;
            if read_stat(self.pid).map(|s| s.start_time_ticks).ok() != Some(self.start_ticks) {
                self.notes.push(format!(
                    "PID {} now names another process (start time changed): the series ends here",
                    self.pid
                ));
                return Ok(false);
            }
        }
        let tree = if self.config.tree {
            Some(self.sample_tree(t_ns, &mem))
        } else {
            None
        };
        let cgroup = self.cgroup.as_ref().and_then(|c| c.sample().ok());
        if cgroup.is_some() {
            self.cgroup_last = cgroup;
        }
        let pss = self.maybe_pss(now);
        let fresh = self.maybe_published(now, t_ns);
        self.maybe_warmup_reset(t_ns);

        let sample = Sample {
            t_ns,
            wall_ns: wall_ns(),
            pid: self.pid,
            mem: &mem,
            status_t_ns: self.reader.status_read_at().map(|at| self.t_ns(at)),
            tree: tree.map(|t| (t, &self.procs[..])),
            cgroup,
            pss,
            published: if fresh { self.published.as_ref() } else { None },
        };
        self.files.write(&sample)?;
        self.record(t_ns, &mem, tree, cgroup, fresh);
        Ok(true)
    }

    fn target_gone(&mut self) -> Result<bool> {
        // Our own child: reap it so its exit status is known.
        if let Some(s) = self.started.as_mut() {
            if s.exit.is_none() {
                s.exit = Some(s.child.wait().context("waiting for the command")?);
            }
        }
        Ok(false)
    }

    fn record(
        &mut self,
        t_ns: u64,
        mem: &MemorySnapshot,
        tree: Option<TreeTotals>,
        cgroup: Option<CgroupSample>,
        fresh: bool,
    ) {
        self.samples += 1;
        self.first.get_or_insert(*mem);
        self.last = Some(*mem);
        // The verdict's copy: published first, as `verdict FILE.jsonl` reads a line.
        if fresh {
            if let Some(stats) = &self.published {
                self.judged.record_published(t_ns, stats);
            }
        }
        match tree {
            Some(t) => self
                .judged
                .record_proc(t_ns, t.rss_bytes, Some(t.anon_swap_bytes)),
            None => self.judged.record_proc(
                t_ns,
                mem.rss_bytes,
                mem.rss_anon_bytes.map(|a| a + mem.swap_bytes.unwrap_or(0)),
            ),
        }
        let p = &mut self.peaks;
        p.rss_bytes = p.rss_bytes.max(mem.rss_bytes);
        self.rss.push(t_ns, mem.rss_bytes);
        if let Some(anon) = mem.rss_anon_bytes {
            let v = anon + mem.swap_bytes.unwrap_or(0);
            p.anon_swap_bytes = Some(p.anon_swap_bytes.unwrap_or(0).max(v));
            self.anon_swap.push(t_ns, v);
        }
        if let Some(h) = mem.peak_rss_bytes {
            p.vm_hwm_bytes = Some(p.vm_hwm_bytes.unwrap_or(0).max(h));
        }
        if let Some(t) = tree {
            p.tree_rss_bytes = Some(p.tree_rss_bytes.unwrap_or(0).max(t.rss_bytes));
            self.tree_rss.push(t_ns, t.rss_bytes);
            self.tree_anon_swap.push(t_ns, t.anon_swap_bytes);
        }
        if let Some(c) = cgroup {
            p.cgroup_usage_bytes = Some(p.cgroup_usage_bytes.unwrap_or(0).max(c.usage_bytes));
            if let Some(peak) = c.peak_bytes {
                p.cgroup_peak_bytes = Some(p.cgroup_peak_bytes.unwrap_or(0).max(peak));
            }
        }
        if fresh {
            if let Some(j) = self.published.as_ref().and_then(|p| p.jemalloc) {
                p.jemalloc_allocated_bytes = Some(
                    p.jemalloc_allocated_bytes
                        .unwrap_or(0)
                        .max(j.allocated_bytes),
                );
                p.jemalloc_resident_bytes =
                    Some(p.jemalloc_resident_bytes.unwrap_or(0).max(j.resident_bytes));
                self.allocated.push(t_ns, j.allocated_bytes);
            }
        }
    }

    fn sample_tree(&mut self, t_ns: u64, root: &MemorySnapshot) -> TreeTotals {
        // Discover: children of the root and of every tracked process.
        self.kids.clear();
        procfs::children_of(self.pid, &mut self.kids);
        for t in &self.tracked {
            procfs::children_of(t.last.pid, &mut self.kids);
        }
        for i in 0..self.kids.len() {
            let kid = self.kids[i];
            if self.tracked.iter().any(|t| t.last.pid == kid) {
                continue;
            }
            let (Ok(stat), Ok(mem)) = (
                read_stat(kid),
                ProcessMemory::for_pid(kid)
                    .map(|m| Sampler::new(m, self.config.interval, procfs::status_every())),
            ) else {
                continue;
            };
            self.seen_count += 1;
            let seen = self.seen.len();
            if seen < LIST_MAX {
                self.seen.push(SeenProc {
                    pid: kid,
                    ppid: stat.ppid,
                    start_time_ticks: stat.start_time_ticks,
                    first_seen_ns: t_ns,
                    last_seen_ns: t_ns,
                    peak_rss_bytes: 0,
                    exited: false,
                });
            }
            self.tracked.push(Tracked {
                mem,
                seen,
                last: ProcSample {
                    pid: kid,
                    ppid: stat.ppid,
                    ..Default::default()
                },
            });
        }
        // Sample: the root, then each tracked process; gone or zombie ones leave the tree.
        self.procs.clear();
        let anon_swap = |m: &MemorySnapshot| {
            m.rss_anon_bytes.unwrap_or(m.rss_bytes) + m.swap_bytes.unwrap_or(0)
        };
        let mut totals = TreeTotals {
            processes: 1,
            rss_bytes: root.rss_bytes,
            anon_swap_bytes: anon_swap(root),
        };
        let seen = &mut self.seen;
        let procs = &mut self.procs;
        let now = self.start + Duration::from_nanos(t_ns);
        self.tracked.retain_mut(|t| {
            let alive = match t.mem.read(now) {
                Ok(m) if m.rss_bytes > 0 => {
                    t.last.rss_bytes = m.rss_bytes;
                    t.last.rss_anon_bytes = m.rss_anon_bytes.unwrap_or(0);
                    t.last.swap_bytes = m.swap_bytes.unwrap_or(0);
                    totals.processes += 1;
                    totals.rss_bytes += m.rss_bytes;
                    totals.anon_swap_bytes += anon_swap(&m);
                    procs.push(t.last);
                    true
                }
                _ => false,
            };
            if let Some(s) = seen.get_mut(t.seen).filter(|s| s.pid == t.last.pid) {
                if alive {
                    s.last_seen_ns = t_ns;
                    s.peak_rss_bytes = s.peak_rss_bytes.max(t.last.rss_bytes);
                } else {
                    s.exited = true;
                }
            }
            alive
        });
        self.max_processes = self.max_processes.max(totals.processes);
        self.tree_last = totals;
        totals
    }

    fn maybe_pss(&mut self, now: Instant) -> Option<Pss> {
        let (Some(reader), Some(every)) = (self.pss.as_mut(), self.config.pss_interval) else {
            return None;
        };
        if now < self.pss_due {
            return None;
        }
        // After a skip, try again only every 10th interval: the walk is what slows the process.
        if !reader.affordable(every) && self.pss_skipped % 10 != 9 {
            self.pss_skipped += 1;
            self.pss_due = now + every;
            return None;
        }
        self.pss_due = now + every;
        match reader.read() {
            Ok(p) => {
                self.pss_walks += 1;
                self.pss_last = Some(p);
                Some(p)
            }
            Err(_) => None,
        }
    }

    /// Reads the published record at most every 100 ms; `true` when it was refreshed.
    fn maybe_published(&mut self, now: Instant, t_ns: u64) -> bool {
        let Some(s) = self.started.as_mut() else {
            return false;
        };
        if now < self.publish_due {
            return false;
        }
        // Half an interval early: with ticks 100 ms apart, a tick a few µs before the due time
        // must not skip a read (it did, halving the rate).
        self.publish_due = now + PUBLISH_EVERY.saturating_sub(self.config.interval / 2);
        if s.reader.is_none() {
            if !s.publish_path.exists() {
                // Most processes never publish: look less often once they have had time to.
                if now.duration_since(self.start) >= PUBLISH_LOOK_FAST {
                    self.publish_due = now + PUBLISH_LOOK_SLOW;
                }
                return false;
            }
            s.reader = publish::Reader::open(&s.publish_path).ok();
        }
        let Some(Ok(Some(stats))) = s.reader.as_ref().map(publish::Reader::read) else {
            return false;
        };
        let previous = self.published.as_ref();
        if previous.is_some_and(|p| p.updates == stats.updates) {
            return false;
        }
        if previous.map_or(0, |p| p.phase_seq) != stats.phase_seq {
            if self.phases.len() < LIST_MAX {
                self.phases.push(PhaseMark {
                    name: stats.phase.clone(),
                    t_ns,
                    iteration: stats.iteration,
                });
            }
            if self.config.phase_reset {
                self.reset_peak(&format!("phase {:?}", stats.phase));
            }
        }
        self.published = Some(stats);
        true
    }

    fn reset_peak(&mut self, why: &str) {
        match self.reader.memory().reset_peak() {
            Ok(()) => self.peak_resets += 1,
            Err(e) => {
                if self.notes.len() < LIST_MAX {
                    self.notes
                        .push(format!("--phase-reset at {why} failed: {e}"));
                }
            }
        }
    }

    fn maybe_warmup_reset(&mut self, t_ns: u64) {
        if !self.config.phase_reset || self.warmup_reset_done {
            return;
        }
        let end = match (self.config.judge.trend.warmup, self.config.duration) {
            (Warmup::Duration(d), _) => d,
            (Warmup::Share(share), Some(total)) => total.mul_f64(share),
            (Warmup::Iterations(n), _) => {
                // Counted from the first published count, as the verdict counts them.
                let Some(now) = self.published.as_ref().map(|p| p.iteration) else {
                    return;
                };
                let first = *self.warmup_first_iteration.get_or_insert(now);
                if now.saturating_sub(first) >= n {
                    self.warmup_reset_done = true;
                    self.reset_peak("end of warm-up");
                }
                return;
            }
            (Warmup::Share(_), None) => {
                self.warmup_reset_done = true;
                self.notes.push("--phase-reset: a warm-up given as a share has no known end without --duration; the peak is reset at published phases only".into());
                return;
            }
            _ => Duration::ZERO,
        };
        if t_ns >= end.as_nanos() as u64 {
            self.warmup_reset_done = true;
            self.reset_peak("end of warm-up");
        }
    }

    fn periodic(&mut self, now: Instant) -> Result<()> {
        if let Some(c) = &self.cgroup {
            if self
                .cgroup_stat_at
                .is_none_or(|at| now.duration_since(at) >= CGROUP_STAT_EVERY)
            {
                self.cgroup_stat = c.stat();
                self.cgroup_stat_at = Some(now);
            }
        }
        if self.tty && now >= self.status_due {
            self.status_due = now + STATUS_EVERY;
            self.status_line(now);
        }
        if now >= self.summary_due {
            self.summary_due = now + SUMMARY_EVERY;
            if let Some(f) = &self.summary_file {
                f.write(&self.summary("running", None, None, now))?;
            }
        }
        Ok(())
    }

    fn status_line(&self, now: Instant) {
        let (name, series) = self.verdict_series();
        let growth = match (series.buckets().first(), series.buckets().last()) {
            (Some(a), Some(b)) => SignedBytes(b.mean() as i64 - a.mean() as i64).to_string(),
            _ => "-".into(),
        };
        let rss = self.last.map_or(0, |m| m.rss_bytes);
        eprint!(
            "\r\x1b[2Kmemprobe-daemon: {:.1} s  {} samples  RSS {}  {name} growth {growth}",
            now.duration_since(self.start).as_secs_f64(),
            self.samples,
            Bytes(rss)
        );
    }

    /// The series the status line shows growth of, with its name: the one the verdict will
    /// most likely judge.
    fn verdict_series(&self) -> (&'static str, &Downsampled) {
        let tree = self.config.tree;
        let anon = if tree {
            ("tree RssAnon+VmSwap", &self.tree_anon_swap)
        } else {
            ("RssAnon+VmSwap", &self.anon_swap)
        };
        let rss = if tree {
            ("tree RSS", &self.tree_rss)
        } else {
            ("RSS", &self.rss)
        };
        match self.config.judge.trend.series {
            SeriesChoice::Kind(SeriesKind::Rss) => rss,
            SeriesChoice::Kind(SeriesKind::RssAnonPlusSwap) => anon,
            SeriesChoice::Kind(_) => ("jemalloc allocated", &self.allocated),
            SeriesChoice::Auto if !tree && !self.allocated.is_empty() => {
                ("jemalloc allocated", &self.allocated)
            }
            SeriesChoice::Auto if !anon.1.is_empty() => anon,
            SeriesChoice::Auto => rss,
        }
    }

    fn summary(
        &self,
        state: &'static str,
        verdict: Option<Verdict>,
        exit_code: Option<u8>,
        now: Instant,
    ) -> Summary<'_> {
        let elapsed = now.duration_since(self.start);
        let sampling = self
            .sampling_ended
            .unwrap_or(now)
            .duration_since(self.start);
        let now_usage = procfs::self_usage();
        let usage = self.sampling_usage.unwrap_or(now_usage);
        let c = self.config;
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: concat!("memprobe-daemon ", env!("CARGO_PKG_VERSION")),
            state,
            command: match &c.target {
                Target::Command(argv) => Some(argv.iter().map(|a| a.to_string_lossy().into_owned()).collect()),
                Target::Pid(_) => None,
            },
            target: TargetInfo {
                pid: self.pid,
                start_time_ticks: self.start_ticks,
                started_by_daemon: self.started.is_some(),
                exit: self.started.as_ref().and_then(|s| s.exit).map(ExitInfo::from),
            },
            config: ConfigInfo {
                interval_ns: c.interval.as_nanos() as u64,
                duration_ns: c.duration.map(|d| d.as_nanos() as u64),
                warmup: c.judge.trend.warmup,
                series: c.judge.trend.series,
                fail_if_growth: c.judge.trend.fail_if_growth.iter().map(ToString::to_string).collect(),
                allow_fragmentation: c.judge.trend.allow_fragmentation,
                verdict_enforced: c.judge.enforced,
                inconclusive: c.judge.inconclusive,
                tree: c.tree,
                cgroup: self.cgroup.as_ref().map(|g| g.dir.display().to_string()),
                pss_interval_ns: c.pss_interval.map(|d| d.as_nanos() as u64),
                phase_reset: c.phase_reset,
                out: c.out.as_deref(),
                csv: c.csv.as_deref(),
            },
            system: SystemInfo {
                kernel: procfs::kernel_release(),
                page_size: memprobe::snapshot::page_size(),
                cgroup_version: self.cgroup.as_ref().map(|g| g.version),
            },
            run: RunInfo {
                started_wall_ns: self.started_wall_ns,
                elapsed_ns: elapsed.as_nanos() as u64,
                samples: self.samples,
                ticks_scheduled: self.ticks,
                missed_ticks: self.missed,
                requested_rate_hz: 1.0 / c.interval.as_secs_f64(),
                sampling_ns: sampling.as_nanos() as u64,
                achieved_rate_hz: if sampling.is_zero() { 0.0 } else { self.samples as f64 / sampling.as_secs_f64() },
                ended: self.ended,
                stop_signal: self.stop_signal.map(signals::name),
            },
            sampler: SamplerInfo {
                cpu_share: (usage.cpu_user_ns + usage.cpu_system_ns) as f64 / sampling.as_nanos().max(1) as f64,
                usage,
                max_rss_bytes_at_exit: now_usage.max_rss_bytes,
            },
            first: self.first,
            last: self.last,
            peaks: &self.peaks,
            tree: c.tree.then(|| TreeInfo {
                note: "summed RSS over-counts pages the processes share (libraries, copy-on-write after fork)",
                processes_seen: self.seen_count + 1,
                max_processes: self.max_processes,
                last: self.tree_last,
                processes: &self.seen,
            }),
            cgroup: self.cgroup.as_ref().map(|g| CgroupInfo {
                version: g.version,
                path: g.dir.clone(),
                last: self.cgroup_last,
                stat: self.cgroup_stat,
            }),
            pss: self.pss.as_ref().map(|r| PssInfo {
                walks: self.pss_walks,
                skipped: self.pss_skipped,
                last_walk_ns: r.last_walk.as_nanos() as u64,
                last: self.pss_last,
            }),
            published: self.published.as_ref(),
            phases: &self.phases,
            peak_resets: self.peak_resets,
            verdict_input: self.judged.input(),
            verdict,
            exit_code,
            notes: &self.notes,
        }
    }

    /// Asks a publishing process to purge, waits for it, and takes one last sample.
    fn purge_and_final_sample(&mut self) -> Result<()> {
        let Some(reader) = self.started.as_mut().and_then(|s| s.reader.as_mut()) else {
            return Ok(());
        };
        let Ok(request) = reader.request_purge() else {
            return Ok(());
        };
        let until = Instant::now() + PURGE_WAIT;
        while Instant::now() < until {
            if let Ok(Some(stats)) = reader.read() {
                if stats.purge_done >= request {
                    self.publish_due = Instant::now();
                    let now = Instant::now();
                    self.tick(now)?;
                    self.notes
                        .push("jemalloc purged on request before the final sample".into());
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.notes
            .push("the process did not purge jemalloc within 1 s of the request".into());
        Ok(())
    }

    /// Stops the command if it still runs, judges, writes the summary; the exit code.
    fn finish(&mut self, signals: &Signals) -> Result<u8> {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        if self.ended == Some(Ended::Duration) {
            self.purge_and_final_sample()?;
        }
        if let Some(s) = self.started.as_mut() {
            if s.exit.is_none() {
                s.exit = s.child.try_wait()?;
            }
            if s.exit.is_none() {
                let group = Pid::from_raw(-(self.pid as i32));
                let _ = kill(group, Signal::SIGTERM);
                let until = Instant::now() + TERM_GRACE;
                while s.exit.is_none() && Instant::now() < until {
                    signals.sleep_until(Instant::now() + Duration::from_millis(20));
                    s.exit = s.child.try_wait()?;
                }
                if s.exit.is_none() {
                    let _ = kill(group, Signal::SIGKILL);
                    s.exit = Some(s.child.wait()?);
                    self.notes
                        .push("the command ignored SIGTERM for 5 s and was killed".into());
                }
            }
        }
        if self.ended == Some(Ended::TargetExited) {
            let at = self.last_t_secs();
            if let Some(d) = self.config.duration {
                self.notes.push(format!(
                    "the target exited after {at:.1} s, before --duration {:.1} s: the summary covers what was collected",
                    d.as_secs_f64()
                ));
            }
        }
        let judged = self.judged.judge(&self.config.judge);
        let now = Instant::now();
        let (verdict, code) = match &judged {
            Ok(v) => (Some(v.clone()), Some(self.config.judge.exit_code(v))),
            Err(e) => {
                self.notes.push(format!("no verdict: {e:#}"));
                (None, None)
            }
        };
        if let Some(f) = &self.summary_file {
            f.write(&self.summary("finished", verdict, code, now))?;
        }
        let verdict = judged?;
        let code = self.config.judge.exit_code(&verdict);
        if !self.config.quiet {
            let elapsed = self
                .sampling_ended
                .unwrap_or(now)
                .duration_since(self.start)
                .as_secs_f64();
            eprintln!(
                "memprobe-daemon: {} samples in {elapsed:.1} s ({:.1}/s, {} missed); peak RSS {}",
                self.samples,
                self.samples as f64 / elapsed.max(1e-9),
                self.missed,
                Bytes(self.peaks.rss_bytes),
            );
            let enforced = if self.config.judge.enforced {
                format!("exit {code}")
            } else {
                "not enforced: no --fail-if-growth".to_owned()
            };
            eprintln!(
                "memprobe-daemon: {} ({enforced}): {}",
                kind_name(&verdict.kind),
                verdict.summary
            );
        }
        Ok(code)
    }

    fn last_t_secs(&self) -> f64 {
        self.rss
            .buckets()
            .last()
            .map_or(0.0, |b| b.t_last_ns as f64 / 1e9)
    }
}
