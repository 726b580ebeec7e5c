//! The `watch` run: start or attach to the target, tick on absolute monotonic deadlines, write
//! each sample as it is taken, keep the bounded in-memory series, then stop the target, judge and
//! write the summary. This file only wires the rooms together, as hyperfine separates
//! scheduling, measuring and exporting: [`child`] (the command's lifecycle), [`sampler`] (the
//! readers, yielding a plain tick), [`recorder`] (what is kept of the ticks) and, presenting only,
//! [`summary`] with [`crate::output`] (JSONL/CSV lines).
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
//! ([`crate::verdict::RunSeries`]) is appended to in place. With `--prometheus`, a tick also
//! copies its figures into the target's slot of the [`crate::prometheus::board`] (relaxed atomic
//! stores, no lock); the verdict shown there is re-judged every
//! [`crate::prometheus::VERDICT_EVERY`], off the tick. Several targets: [`fleet`].

use crate::config::{Config, Target};
use crate::output::{SCHEMA_VERSION, Sample, SampleFiles, SummaryFile};
use crate::procfs;
use crate::prometheus::Exporter;
use crate::prometheus::board::{Board, SlotId, TickFigures, VerdictKind};
use crate::signals::{self, Signals};
use anyhow::Result;
use memprobe::units::Bytes;
use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod child;
mod fleet;
mod progress;
mod recorder;
mod sampler;
mod sites;
mod summary;
mod tree;

#[cfg(feature = "json-schema")]
pub(crate) use summary::schema as summary_schema;

use child::{Started, start_command};
use progress::{Ended, Progress};
use recorder::Recorder;
use sampler::{Reading, Sampler, wall_ns};
use summary::{Parts, status_line};

/// How often the summary file is rewritten during a run (the first time after [`SUMMARY_FIRST`]).
pub(crate) const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// When the first `running` summary is written, so a run killed early still leaves one.
pub(crate) const SUMMARY_FIRST: Duration = Duration::from_secs(1);
const STATUS_EVERY: Duration = Duration::from_millis(250);
const PURGE_WAIT: Duration = Duration::from_secs(1);

/// One run: its parts, each of one concern, and the run loop's own schedule. A fleet run holds
/// one per target, each with its own copy of the configuration (its own output paths).
struct Run<'c> {
    config: Cow<'c, Config>,
    progress: Progress,
    /// The command, when the daemon started it.
    command: Option<Started>,
    sampler: Sampler,
    recorder: Recorder,
    files: SampleFiles,
    summary_file: Option<SummaryFile>,
    /// `--plot` and `--html`, created with the other outputs and drawn at the end.
    plots: Option<crate::plot::Outputs>,
    status_due: Instant,
    summary_due: Instant,
    tty: bool,
    /// Where this target's figures go for `/metrics` (`--prometheus`).
    export: Option<Export>,
    /// How the final lines name the target in a fleet run (`PID 4242 (comm)`).
    fleet_label: Option<String>,
    /// `--sites`: the command's allocation sites after warm-up.
    sites: Option<sites::Sites>,
}

/// A target's place on the Prometheus board and its verdict schedule.
struct Export {
    board: Arc<Board>,
    /// `None` when the board was full (the target is watched, not exported).
    slot: Option<SlotId>,
    verdict_due: Instant,
}

impl Export {
    /// A slot for `pid` on `board`, named after its comm.
    fn claim(board: &Arc<Board>, pid: u32, start: Instant, notes: &mut Vec<String>) -> Export {
        let slot = board.claim(pid, &procfs_comm(pid));
        if slot.is_none() {
            notes.push(format!(
                "--prometheus: {} targets are already exported; PID {pid} is watched but not served at /metrics",
                crate::prometheus::board::MAX_TARGETS
            ));
        }
        Export {
            board: board.clone(),
            slot,
            verdict_due: start + SUMMARY_FIRST,
        }
    }
}

/// The process's command name (`/proc/PID/comm`), read once when it becomes a target; empty when
/// it cannot be read.
fn procfs_comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim_end_matches('\n').to_owned())
        .unwrap_or_default()
}

/// Runs `watch`; the process exit code (0 pass, 1 growth, 3 inconclusive).
///
/// # Errors
///
/// Usage and runtime errors (exit 2): missing PID, permission denied, unwritable output, command
/// not found.
pub(crate) fn watch(config: &Config) -> Result<u8> {
    if let Target::Fleet(targets) = &config.target {
        return fleet::watch(config, targets);
    }
    let signals = Signals::install()?;
    // Outputs first: a bad path must fail before the target starts.
    let outputs = RunOutputs::open(config)?;

    // The server before the target: a port in use fails before anything starts.
    let exporter = config
        .prometheus
        .map(|addr| Exporter::start(addr, config.quiet))
        .transpose()?;
    let (pid, command) = match &config.target {
        Target::Pid(pid) => (*pid, None),
        Target::Command(argv) => {
            let started = signals.unblocked(|| start_command(argv))?;
            (started.id(), Some(started))
        }
        Target::Fleet(_) => unreachable!("fleet runs return above"),
    };
    let publish_path = command.as_ref().map(|c| c.publish_path().to_owned());
    let sites = config
        .sites
        .zip(publish_path.as_deref())
        .map(|(mean, record)| {
            sites::Sites::new(
                mean,
                record,
                config.summary.as_deref().or(config.out.as_deref()),
                config.judge.trend.warmup,
                config.duration,
            )
        });
    let sampler = Sampler::open(config, pid, publish_path)?;
    let board = exporter.as_ref().map(|e| &e.board);
    let mut run = Run::new(Cow::Borrowed(config), outputs, sampler, board);
    run.command = command;
    run.tty = !config.quiet && std::io::stderr().is_terminal();
    run.sites = sites;
    let result = run.sample_loop(&signals);
    run.progress.sampling_ended = Some(Instant::now());
    run.progress.sampling_usage = Some(procfs::self_usage());
    // Whatever happened, stop the command and leave a summary with what was collected.
    let finish = run.finish(&signals);
    result?;
    finish
}

/// A run's output files, opened before its target is watched so that a bad path fails first.
struct RunOutputs {
    files: SampleFiles,
    summary_file: Option<SummaryFile>,
    plots: Option<crate::plot::Outputs>,
}

impl RunOutputs {
    /// `--out`, `--csv`, `--summary` (a `starting` summary written at once), `--plot`/`--html`.
    fn open(config: &Config) -> Result<RunOutputs> {
        let files = SampleFiles::open(
            config.out.as_deref(),
            config.csv.as_deref(),
            config.interval.as_nanos() as u64,
        )?;
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
        let plots = Some(crate::plot::Outputs::open(&config.plot)?).filter(|p| p.any());
        Ok(RunOutputs {
            files,
            summary_file,
            plots,
        })
    }
}

impl<'c> Run<'c> {
    /// The run of one target from its sampler's start: no command, no status line, no fleet
    /// label and no `--sites` (the caller sets those it has); a slot on `board` when exporting.
    fn new(
        config: Cow<'c, Config>,
        outputs: RunOutputs,
        sampler: Sampler,
        board: Option<&Arc<Board>>,
    ) -> Run<'c> {
        let start = sampler.start();
        let mut recorder = Recorder::new(config.tree);
        let export = board.map(|b| Export::claim(b, sampler.pid, start, &mut recorder.notes));
        Run {
            progress: Progress {
                start,
                started_wall_ns: wall_ns(),
                ticks: 0,
                missed: 0,
                ended: None,
                sampling_ended: None,
                sampling_usage: None,
                stop_signal: None,
            },
            command: None,
            sampler,
            recorder,
            files: outputs.files,
            summary_file: outputs.summary_file,
            plots: outputs.plots,
            status_due: start,
            summary_due: start + SUMMARY_FIRST,
            tty: false,
            export,
            fleet_label: None,
            sites: None,
            config,
        }
    }
}

impl Run<'_> {
    /// The parts a summary is made of.
    fn parts(&self) -> Parts<'_> {
        Parts {
            config: &self.config,
            progress: &self.progress,
            sampler: &self.sampler,
            recorder: &self.recorder,
            command: self.command.as_ref(),
            sites: self.sites.as_ref().and_then(|s| s.report.as_ref()),
        }
    }

    /// One tick: read (sampler), write the line (output), keep (recorder); `false` when the
    /// target has gone.
    fn tick(&mut self, now: Instant) -> Result<bool> {
        let reading = self.sampler.read(now)?;
        let tick = match reading {
            Reading::Tick(tick) => Some(tick),
            Reading::Gone => None,
            Reading::Replaced => None,
        };
        if let Some(tick) = tick {
            self.files.write(&Sample {
                t_ns: tick.t_ns,
                wall_ns: tick.wall_ns,
                pid: tick.pid,
                mem: &tick.mem,
                status_t_ns: tick.status_t_ns,
                tree: tick.tree,
                cgroup: tick.cgroup,
                pss: tick.pss,
                published: tick.published,
            })?;
            self.recorder.record(&tick);
            if let Some(Export {
                board,
                slot: Some(slot),
                ..
            }) = &self.export
            {
                publish_tick(board, *slot, &tick, self.recorder.samples);
            }
        } else if matches!(reading, Reading::Gone) {
            // Our own child: reap it so its exit status is known.
            if let Some(c) = self.command.as_mut() {
                c.wait_gone()?;
            }
        }
        let alive = tick.is_some();
        if let (true, Some(sites)) = (alive, self.sites.as_mut()) {
            let t_ns = self.recorder.last_t_ns;
            sites.poll(t_ns, &mut self.sampler, &mut self.recorder.notes);
        }
        self.recorder.notes.extend(self.sampler.take_notes());
        Ok(alive)
    }

    fn sample_loop(&mut self, signals: &Signals) -> Result<()> {
        let interval_ns = self.config.interval.as_nanos() as u64;
        let start = self.progress.start;
        let end_at = self.config.duration.map(|d| start + d);
        let mut next_tick: u64 = 0;
        let mut slept = true;
        // PERF: the clock read after a tick's work serves the next turn of the loop too.
        let mut read_after_tick = None;
        loop {
            if let Some(sig) = signals.take_stop() {
                self.progress.stop_signal = Some(sig);
                // The profile is asked for before the command gets the signal: after, too late.
                if self.command.is_some() {
                    self.collect_sites();
                }
                match self.command.as_mut() {
                    Some(c) => {
                        let forward = c.forward_stop(sig)?;
                        self.recorder.notes.push(format!(
                            "received {}: sent {} to the command's process group",
                            signals::name(sig),
                            forward
                        ));
                    }
                    None => {
                        self.progress.ended = Some(Ended::Signal);
                        return Ok(());
                    }
                }
            }
            if signals.take_child() {
                if let Some(c) = self.command.as_mut() {
                    if c.reap()? {
                        self.progress.ended = Some(Ended::TargetExited);
                        return Ok(());
                    }
                }
            }
            let now = read_after_tick.take().unwrap_or_else(Instant::now);
            if end_at.is_some_and(|end| now >= end) {
                self.progress.ended = Some(Ended::Duration);
                return Ok(());
            }
            let deadline = start + Duration::from_nanos(interval_ns * next_tick);
            if now >= deadline && !slept {
                // Behind without a sleep since the last tick: signals are blocked outside the
                // sleep, so let pending ones in (a zero-length sleep) before ticking again.
                slept = true;
                signals.sleep_until_from(now, now);
                continue;
            }
            if now >= deadline {
                slept = false;
                if !self.tick(now)? {
                    self.progress.ended = Some(Ended::TargetExited);
                    return Ok(());
                }
                next_tick += 1;
                self.progress.ticks = next_tick;
                self.periodic(now)?;
                // Missed deadlines are skipped, not caught up in a burst.
                let after = Instant::now();
                read_after_tick = Some(after);
                let behind = after.saturating_duration_since(
                    start + Duration::from_nanos(interval_ns * next_tick),
                );
                if !behind.is_zero() {
                    let skip = behind.as_nanos() as u64 / interval_ns + 1;
                    self.progress.missed += skip;
                    if let Some(e) = &self.export {
                        e.board.add_missed(skip);
                    }
                    next_tick += skip;
                    self.progress.ticks = next_tick;
                }
                continue;
            }
            let wake = end_at.map_or(deadline, |end| end.min(deadline));
            signals.sleep_until_from(now, wake);
            slept = true;
        }
    }

    /// What runs on slower clocks than the tick: cgroup `memory.stat`, the TTY status line, the
    /// `running` summary.
    fn periodic(&mut self, now: Instant) -> Result<()> {
        self.sampler.slow_reads(now);
        if self.tty && now >= self.status_due {
            self.status_due = now + STATUS_EVERY;
            status_line(&self.config, self.progress.start, &self.recorder, now);
        }
        self.rejudge_for_export(now);
        if now >= self.summary_due {
            self.summary_due = now + SUMMARY_EVERY;
            // The lines the summary counts are in the file before it says so.
            self.files.flush()?;
            if let Some(f) = &self.summary_file {
                f.write(&self.parts().summary("running", None, None, now))?;
            }
        }
        Ok(())
    }

    /// Re-judges the run for `/metrics` when due ([`crate::prometheus::VERDICT_EVERY`]): on its
    /// own schedule, never per sample, since judging allocates and walks the series.
    fn rejudge_for_export(&mut self, now: Instant) {
        let Some(Export {
            board,
            slot: Some(slot),
            verdict_due,
        }) = &mut self.export
        else {
            return;
        };
        if now < *verdict_due {
            return;
        }
        *verdict_due = now + crate::prometheus::VERDICT_EVERY;
        if let Ok(v) = self.recorder.judged.judge(&self.config.judge) {
            board.set_verdict(*slot, VerdictKind::of(&v.kind));
        }
    }

    /// Asks a publishing process to purge, waits for it, and takes one last sample.
    fn purge_and_final_sample(&mut self) -> Result<()> {
        let Some(request) = self.sampler.request_purge() else {
            return Ok(());
        };
        let until = Instant::now() + PURGE_WAIT;
        while Instant::now() < until {
            if self.sampler.purge_done(request) {
                let now = Instant::now();
                self.tick(now)?;
                self.recorder
                    .notes
                    .push("jemalloc purged on request before the final sample".into());
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.recorder
            .notes
            .push("the process did not purge jemalloc within 1 s of the request".into());
        Ok(())
    }

    /// `--sites`: asks the process for its profile and keeps it (bounded wait).
    fn collect_sites(&mut self) {
        if let Some(sites) = self.sites.as_mut() {
            sites.collect(&mut self.sampler, &mut self.recorder.notes);
        }
    }

    /// Stops the command if it still runs, judges, writes the summary; the exit code.
    fn finish(&mut self, signals: &Signals) -> Result<u8> {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        if self.progress.ended == Some(Ended::Duration) {
            self.purge_and_final_sample()?;
            self.collect_sites();
        } else if let Some(sites) = self.sites.as_mut() {
            sites.target_gone(&mut self.recorder.notes);
        }
        if let Some(c) = self.command.as_mut() {
            if c.terminate(signals)? {
                self.recorder
                    .notes
                    .push("the command ignored SIGTERM for 5 s and was killed".into());
            }
        }
        self.files.flush()?;
        if self.progress.ended == Some(Ended::TargetExited) {
            let at = self.recorder.last_t_ns as f64 / 1e9;
            if let Some(d) = self.config.duration {
                self.recorder.notes.push(format!(
                    "the target exited after {at:.1} s, before --duration {:.1} s: the summary covers what was collected",
                    d.as_secs_f64()
                ));
            }
        }
        if let Some(sig) = self.progress.stop_signal {
            self.recorder.notes.push(format!(
                "stopped by {} before the run was over: the summary is incomplete, it covers the first {:.1} s",
                signals::name(sig),
                self.recorder.last_t_ns as f64 / 1e9
            ));
        }
        let judged = self.recorder.judged.judge(&self.config.judge);
        if let Some(Export {
            board,
            slot: Some(slot),
            ..
        }) = &self.export
        {
            if let Ok(v) = &judged {
                board.set_verdict(*slot, VerdictKind::of(&v.kind));
            }
            board.end(*slot);
        }
        let now = Instant::now();
        let (verdict, code) = match &judged {
            Ok(v) => (Some(v.clone()), Some(self.config.judge.exit_code(v))),
            Err(e) => {
                self.recorder.notes.push(format!("no verdict: {e:#}"));
                (None, None)
            }
        };
        if let Some(f) = &self.summary_file {
            f.write(&self.parts().summary("finished", verdict, code, now))?;
        }
        if judged.is_err() {
            // Nothing to draw without a verdict: no empty plot files left behind.
            if let Some(plots) = self.plots.take() {
                plots.discard();
            }
        }
        let verdict = judged?;
        let code = self.config.judge.exit_code(&verdict);
        let mut plotted = Vec::new();
        if let Some(plots) = self.plots.take() {
            let phases: Vec<crate::plot::Phase> = self
                .recorder
                .phases
                .iter()
                .map(|p| crate::plot::Phase {
                    name: p.name.clone(),
                    t_ns: p.t_ns,
                    iteration: p.iteration,
                })
                .collect();
            plotted = plots.write(&self.recorder.judged, &verdict, &phases)?;
        }
        if !self.config.quiet {
            let elapsed = self
                .progress
                .sampling_ended
                .unwrap_or(now)
                .duration_since(self.progress.start)
                .as_secs_f64();
            let who = self
                .fleet_label
                .as_ref()
                .map_or_else(String::new, |l| format!("{l}: "));
            eprintln!(
                "memprobe-daemon: {who}{} samples in {elapsed:.1} s ({:.1}/s, {} missed); peak RSS {}",
                self.recorder.samples,
                self.recorder.samples as f64 / elapsed.max(1e-9),
                self.progress.missed,
                Bytes(self.recorder.peaks.rss_bytes),
            );
            let enforced = if self.config.judge.enforced {
                format!("exit {code}")
            } else {
                "not enforced: no --fail-if-growth".to_owned()
            };
            eprintln!(
                "memprobe-daemon: {who}{} ({enforced}): {}",
                verdict.kind.name(),
                verdict.summary
            );
            let report = self.sites.as_ref().and_then(|s| s.report.as_ref());
            if let Some(r) = report {
                let growth = matches!(verdict.kind, memprobe::trend::VerdictKind::Growth);
                match r.sentence() {
                    Some(sites) if growth => eprintln!("memprobe-daemon: {who}{sites}"),
                    _ => {}
                }
                if let Some(json) = &r.json {
                    eprintln!(
                        "memprobe-daemon: {who}allocation sites written to {}",
                        json.display()
                    );
                }
            }
            for path in plotted {
                eprintln!("memprobe-daemon: plotted the run to {}", path.display());
            }
        }
        crate::verdict::annotation::print(&self.config.judge, &verdict, code)?;
        Ok(code)
    }
}

/// Copies one tick's figures into its slot. PERF: plain copies into atomics; no allocation (the
/// phase is copied only when a new one starts).
fn publish_tick(board: &Board, slot: SlotId, tick: &sampler::Tick<'_>, samples: u64) {
    let mem = &tick.mem;
    board.publish(
        slot,
        &TickFigures {
            rss_bytes: mem.rss_bytes,
            anon_swap_bytes: mem
                .rss_anon_bytes
                .map(|a| a.saturating_add(mem.swap_bytes.unwrap_or(0))),
            peak_rss_bytes: mem.peak_rss_bytes,
            cgroup_usage_bytes: tick.cgroup.map(|c| c.usage_bytes),
            jemalloc: tick
                .published
                .and_then(|p| p.jemalloc)
                .map(|j| [j.allocated_bytes, j.active_bytes, j.resident_bytes]),
            samples,
        },
    );
    if let Some(p) = tick.published.filter(|_| tick.phase_started) {
        board.set_phase(slot, &p.phase);
    }
}
