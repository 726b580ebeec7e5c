//! A fleet run: one daemon watching several running processes (`--pid` repeated, `--match
//! PATTERN`), each a [`Run`] of its own (its own sampler, recorder, outputs, verdict and
//! `/metrics` slot) driven by one shared tick loop. Matches are rescanned every [`RESCAN_EVERY`]:
//! a process that starts later is picked up at the next scan, one that ends is finished at once
//! (judged, its summary written `finished`, its slot marked ended).
//!
//! ```text
//!  open --pid targets ─▶ scan --match ─▶ ┌─ tick every running target ─▶ periodic ─▶ rescan (1 s) ─┐
//!  (fail early: exit 2)                  └─ sleep to the next deadline or a signal ◀──────────────┘
//!             a target exits: finish it, go on │ duration over │ signal │ no target left (PIDs only)
//!                                              ▼
//!                                   finish the others ─▶ exit code: the worst of the targets'
//! ```
//!
//! # Files and exit code
//!
//! `--out`, `--csv` and `--summary` name one file per target: the PID goes before the extension
//! (`run.jsonl` → `run.4242.jsonl`; `run` → `run.4242`), and a PID met again in the same run (a
//! new process reusing the number) adds `-2`, `-3`... (`run.4242-2.jsonl`). The exit code is the
//! worst of the targets' codes, in the order 2 (a target could not be judged) over 1 (growth) over
//! 3 (inconclusive) over 0; a fleet that never watched anything is inconclusive (3, or 0 when the
//! verdict is not enforced). There is no live status line: the targets' final lines name their
//! PID instead.
//!
//! PERF: a tick of the fleet is each running target's tick, allocation-free as for one target.
//! The `--match` scan (a listing of `/proc` and each process's `comm` and `cmdline`) allocates and
//! runs once a second, after the tick, as the summary does.

use super::{Run, RunOutputs, procfs_comm};
use crate::config::{Config, Fleet, Target};
use crate::prometheus::Exporter;
use crate::prometheus::board::Board;
use crate::signals::Signals;
use anyhow::Result;
use memprobe::snapshot::{ProcRoot, read_stat_in};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::progress::Ended;
use super::sampler::Sampler;

/// How often `--match` patterns are looked for among the running processes.
pub(crate) const RESCAN_EVERY: Duration = Duration::from_secs(1);

/// One target of the fleet: its run, and its code once finished.
struct Member {
    run: Run<'static>,
    /// The exit code once finished (2 when it could not be judged).
    code: Option<u8>,
}

/// What the fleet loop keeps besides its members.
struct State<'a> {
    config: &'a Config,
    fleet: &'a Fleet,
    board: Option<Arc<Board>>,
    members: Vec<Member>,
    /// Processes already met, watched or refused, so a scan adds each once.
    met: HashSet<(u32, u64)>,
    /// Output paths given out so far, so a reused PID gets a file of its own.
    paths: HashSet<PathBuf>,
}

/// Runs `watch` over a fleet; the worst of the targets' exit codes.
///
/// # Errors
///
/// A `--pid` that cannot be watched, an unwritable output, a port that cannot be bound: before
/// any sampling, as for a single target.
pub(super) fn watch(config: &Config, fleet: &Fleet) -> Result<u8> {
    let signals = Signals::install()?;
    let exporter = config
        .prometheus
        .map(|addr| Exporter::start(addr, config.quiet))
        .transpose()?;
    let mut state = State {
        config,
        fleet,
        board: exporter.as_ref().map(|e| e.board.clone()),
        members: Vec::new(),
        met: HashSet::new(),
        paths: HashSet::new(),
    };
    for &pid in &fleet.pids {
        let start_ticks = read_stat_in(&ProcRoot::system(), pid)
            .map(|s| s.start_time_ticks)
            .map_err(|e| {
                anyhow::anyhow!(e.to_string().trim_start_matches("memprobe: ").to_owned())
            })?;
        if !state.met.insert((pid, start_ticks)) {
            continue;
        }
        state.add(pid)?;
    }
    state.scan();
    let start = Instant::now();
    let interval_ns = config.interval.as_nanos() as u64;
    let end_at = config.duration.map(|d| start + d);
    let mut next_tick: u64 = 0;
    let mut rescan_due = start + RESCAN_EVERY;
    let ended = loop {
        if let Some(sig) = signals.take_stop() {
            for m in state.running() {
                m.run.progress.stop_signal = Some(sig);
            }
            break Ended::Signal;
        }
        let now = Instant::now();
        if end_at.is_some_and(|end| now >= end) {
            break Ended::Duration;
        }
        if fleet.patterns.is_empty() && state.running().next().is_none() {
            break Ended::TargetExited;
        }
        let deadline = start + Duration::from_nanos(interval_ns * next_tick);
        if now >= deadline {
            next_tick += 1;
            let behind = Instant::now()
                .saturating_duration_since(start + Duration::from_nanos(interval_ns * next_tick));
            let skip = if behind.is_zero() {
                0
            } else {
                behind.as_nanos() as u64 / interval_ns + 1
            };
            next_tick += skip;
            if let Some(b) = &state.board {
                b.add_missed(skip);
            }
            state.tick_all(now, skip, &signals)?;
            if now >= rescan_due {
                rescan_due = now + RESCAN_EVERY;
                state.scan();
            }
            continue;
        }
        let wake = end_at.map_or(deadline, |end| end.min(deadline));
        signals.sleep_until(wake);
    };
    let now = Instant::now();
    for m in state.members.iter_mut().filter(|m| m.code.is_none()) {
        m.run.progress.ended = Some(ended);
        m.run.progress.sampling_ended = Some(now);
        m.run.progress.sampling_usage = Some(crate::procfs::self_usage());
        m.code = Some(finish(&mut m.run, &signals));
    }
    drop(exporter);
    let codes: Vec<u8> = state.members.iter().filter_map(|m| m.code).collect();
    if codes.is_empty() {
        if !config.quiet {
            eprintln!(
                "memprobe-daemon: no process was watched: no --match pattern matched a running process"
            );
        }
        return Ok(if config.judge.enforced {
            memprobe::trend::Verdict::EXIT_INCONCLUSIVE
        } else {
            0
        });
    }
    Ok(worst(&codes))
}

/// The worst of several exit codes: 2 over 1 over 3 over 0.
pub(super) fn worst(codes: &[u8]) -> u8 {
    let rank = |c: u8| match c {
        2 => 4,
        1 => 3,
        3 => 2,
        0 => 1,
        _ => 5,
    };
    codes.iter().copied().max_by_key(|&c| rank(c)).unwrap_or(0)
}

/// Finishes one target's run: judged, summary written, final lines; its exit code (2, with its
/// error printed in one line naming the PID, when it could not be judged).
fn finish(run: &mut Run<'static>, signals: &Signals) -> u8 {
    match run.finish(signals) {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "memprobe-daemon: PID {}: {}",
                run.sampler.pid,
                format!("{e:#}").trim_start_matches("memprobe: ")
            );
            2
        }
    }
}

/// `path` for target `pid`: the PID before the extension, `-N` after it for a PID met again.
pub(super) fn per_target(path: &Path, pid: u32, taken: &HashSet<PathBuf>) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
    (1..)
        .map(|n| {
            let id = if n == 1 {
                pid.to_string()
            } else {
                format!("{pid}-{n}")
            };
            let name = match &ext {
                Some(ext) => format!("{stem}.{id}.{ext}"),
                None => format!("{stem}.{id}"),
            };
            path.with_file_name(name)
        })
        .find(|p| !taken.contains(p))
        .expect("an unused name")
}

impl State<'_> {
    fn running(&mut self) -> impl Iterator<Item = &mut Member> {
        self.members.iter_mut().filter(|m| m.code.is_none())
    }

    /// Starts watching `pid`: its outputs opened, its readers, its slot.
    fn add(&mut self, pid: u32) -> Result<()> {
        let mut config = self.config.clone();
        config.target = Target::Pid(pid);
        for path in [
            &mut config.out,
            &mut config.csv,
            &mut config.summary,
            &mut config.plot.svg,
            &mut config.plot.html,
        ]
        .into_iter()
        .flatten()
        {
            *path = per_target(path, pid, &self.paths);
            self.paths.insert(path.clone());
        }
        let outputs = RunOutputs::open(&config)?;
        let sampler = Sampler::open(&config, pid, None)?;
        let mut run = Run::new(Cow::Owned(config), outputs, sampler, self.board.as_ref());
        run.fleet_label = Some(format!("PID {pid} ({})", procfs_comm(pid)));
        self.members.push(Member { run, code: None });
        Ok(())
    }

    /// One tick of every running target; a target found gone is finished at once.
    fn tick_all(&mut self, now: Instant, skipped: u64, signals: &Signals) -> Result<()> {
        for m in self.members.iter_mut().filter(|m| m.code.is_none()) {
            let alive = m.run.tick(now)?;
            m.run.progress.ticks += 1 + skipped;
            m.run.progress.missed += skipped;
            if alive {
                m.run.periodic(now)?;
            } else {
                m.run.progress.ended = Some(Ended::TargetExited);
                m.run.progress.sampling_ended = Some(Instant::now());
                m.run.progress.sampling_usage = Some(crate::procfs::self_usage());
                m.code = Some(finish(&mut m.run, signals));
            }
        }
        Ok(())
    }

    /// Looks for processes matching a `--match` pattern that are not watched yet. A process
    /// that cannot be watched (gone already, not ours to read) is named once on stderr.
    fn scan(&mut self) {
        if self.fleet.patterns.is_empty() {
            return;
        }
        let me = std::process::id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        let pids: Vec<u32> = dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&pid| pid != me)
            .collect();
        for pid in pids {
            let Ok(stat) = read_stat_in(&ProcRoot::system(), pid) else {
                continue;
            };
            let identity = (pid, stat.start_time_ticks);
            if self.met.contains(&identity) || !self.matches(pid) {
                continue;
            }
            self.met.insert(identity);
            if let Err(e) = self.add(pid) {
                eprintln!(
                    "memprobe-daemon: --match: PID {pid} ({}) is not watched: {}",
                    procfs_comm(pid),
                    format!("{e:#}").trim_start_matches("memprobe: ")
                );
            }
        }
    }

    /// Whether `pid`'s comm or command line (arguments joined by spaces) matches a pattern.
    fn matches(&self, pid: u32) -> bool {
        let comm = procfs_comm(pid);
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                let mut s = String::from_utf8_lossy(&b).replace('\0', " ");
                s.truncate(s.trim_end().len());
                s
            })
            .unwrap_or_default();
        self.fleet
            .patterns
            .iter()
            .any(|p| p.is_match(&comm) || (!cmdline.is_empty() && p.is_match(&cmdline)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_ranks_error_over_growth_over_inconclusive_over_pass() {
        assert_eq!(worst(&[0, 3, 1]), 1);
        assert_eq!(worst(&[0, 3]), 3);
        assert_eq!(worst(&[0, 0]), 0);
        assert_eq!(worst(&[1, 2, 3]), 2);
    }

    #[test]
    fn per_target_paths_put_the_pid_before_the_extension() {
        let mut taken = HashSet::new();
        let p = per_target(Path::new("/tmp/x/run.jsonl"), 42, &taken);
        assert_eq!(p, Path::new("/tmp/x/run.42.jsonl"));
        taken.insert(p);
        assert_eq!(
            per_target(Path::new("/tmp/x/run.jsonl"), 42, &taken),
            Path::new("/tmp/x/run.42-2.jsonl")
        );
        assert_eq!(
            per_target(Path::new("samples"), 7, &taken),
            Path::new("samples.7")
        );
    }
}
