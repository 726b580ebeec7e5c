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
use crate::signals::{self, Signals};
use crate::verdict::{RunSeries, VerdictInput, kind_name};
use anyhow::{Context, Result};
use memprobe::publish::{self, PublishedStats};
use memprobe::snapshot::{Sampler, read_stat};
use memprobe::trend::{SeriesChoice, Verdict, Warmup};
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
mod child;
mod recorder;
mod sampler;
mod summary;

use crate::output::SCHEMA_VERSION;
use child::{ExitInfo, Started, start_command};
use recorder::{PhaseMark, Recorder};
use sampler::{SeenProc, Tracked};

/// How often the summary file is rewritten during a run (the first time after [`SUMMARY_FIRST`]).
pub(crate) const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// When the first `running` summary is written, so a run killed early still leaves one.
pub(crate) const SUMMARY_FIRST: Duration = Duration::from_secs(1);
const STATUS_EVERY: Duration = Duration::from_millis(250);
const IDENTITY_EVERY: Duration = Duration::from_secs(1);
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// A process that has not published within this time is looked for only every second after.
const PUBLISH_LOOK_FAST: Duration = Duration::from_secs(2);
const PUBLISH_LOOK_SLOW: Duration = Duration::from_secs(1);
const CGROUP_STAT_EVERY: Duration = Duration::from_secs(1);
const PURGE_WAIT: Duration = Duration::from_secs(1);
/// Processes and phases listed in the summary at most (more are counted).
const LIST_MAX: usize = 256;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ended {
    /// `--duration` elapsed.
    Duration,
    /// The watched process exited (or its PID now names another process).
    TargetExited,
    /// The daemon was asked to stop (`--pid` mode).
    Signal,
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
    /// Peaks, series and the verdict's copy of the samples.
    recorder: Recorder,
    ticks: u64,
    missed: u64,
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
pub(crate) fn watch(config: &Config) -> Result<u8> {
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
        recorder: Recorder::new(config.tree),
        ticks: 0,
        missed: 0,
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

impl Run<'_> {
    fn t_ns(&self, at: Instant) -> u64 {
        at.duration_since(self.start).as_nanos() as u64
    }

    /// One tick: read (sampler), write the line (output), keep (recorder); `false` when the
    /// target has gone.
    fn tick(&mut self, now: Instant) -> Result<bool> {
        let Some(tick) = self.read_tick(now)? else {
            return Ok(false);
        };
        let published = if tick.published_fresh {
            self.published.as_ref()
        } else {
            None
        };
        self.files.write(&Sample {
            t_ns: tick.t_ns,
            wall_ns: tick.wall_ns,
            pid: self.pid,
            mem: &tick.mem,
            status_t_ns: tick.status_t_ns,
            tree: tick.tree.map(|t| (t, &self.procs[..])),
            cgroup: tick.cgroup,
            pss: tick.pss,
            published,
        })?;
        self.recorder
            .record(tick.t_ns, &tick.mem, tick.tree, tick.cgroup, published);
        Ok(true)
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
                        let forward = s.forward_stop(sig)?;
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

    /// What runs on slower clocks than the tick: cgroup `memory.stat`, the TTY status line, the
    /// `running` summary.
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
            if s.exit.is_none() && s.terminate(signals)? {
                self.notes
                    .push("the command ignored SIGTERM for 5 s and was killed".into());
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
        let judged = self.recorder.judged.judge(&self.config.judge);
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
                self.recorder.samples,
                self.recorder.samples as f64 / elapsed.max(1e-9),
                self.missed,
                Bytes(self.recorder.peaks.rss_bytes),
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
        self.recorder.last_t_ns as f64 / 1e9
    }
}
