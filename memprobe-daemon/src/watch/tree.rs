//! The process tree under the target (`--tree`): discovers children through
//! `/proc/<pid>/task/*/children`, keeps one memory reader per tracked process, sums each tick's
//! figures, and keeps the table of every process seen (at most [`LIST_MAX`], the rest counted).
//!
//! # Identity
//!
//! A process is its PID and its start time. Each child is listed by its parent's reader (from
//! the parent's held `/proc/<pid>` directory), then opened as its own directory, and kept only
//! if the `stat` of that directory names the parent as its parent: a PID that was listed, exited
//! and was given to an unrelated process before it was opened is not followed. A tracked
//! process whose start time changes (checked when the sampler checks the target's) leaves the
//! tree with a note, and a process found later at its PID is a new row: two processes never
//! share a series.

use crate::output::{ProcSample, TreeTotals};
use crate::procfs::{self, PssReader};
use memprobe::snapshot::{ProcRoot, Sampler};
use memprobe::{MemorySnapshot, ProcessMemory};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Processes, phases and notes listed in the summary at most (more are counted).
pub(super) const LIST_MAX: usize = 256;

/// One process met in the tree, as the summary lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct SeenProc {
    pub(super) pid: u32,
    pub(super) ppid: u32,
    pub(super) start_time_ticks: u64,
    pub(super) first_seen_ns: u64,
    pub(super) last_seen_ns: u64,
    pub(super) peak_rss_bytes: u64,
    pub(super) exited: bool,
}

/// A descendant being read.
struct Tracked {
    mem: Sampler,
    /// Its PSS reader, with `--pss-interval`.
    pss: Option<PssReader>,
    start_time_ticks: u64,
    /// Its row in [`Tree::seen`] (beyond [`LIST_MAX`] it has none).
    seen: usize,
    last: ProcSample,
}

/// The tree's readers, its last sample and the table of processes seen.
#[derive(Default)]
pub(super) struct Tree {
    /// Whether PSS is walked (`--pss-interval`).
    pss: bool,
    tracked: Vec<Tracked>,
    /// Every process met (the first [`LIST_MAX`]).
    pub(super) seen: Vec<SeenProc>,
    /// How many processes were met, the root excluded.
    pub(super) seen_count: u64,
    /// Most processes alive at one tick, the root included.
    pub(super) max_processes: u32,
    /// The processes of the last sample (the root excluded).
    pub(super) procs: Vec<ProcSample>,
    /// Children listed this tick, with their parent.
    kids: Vec<(u32, u32)>,
    listed: Vec<u32>,
    /// Totals of the last sample.
    pub(super) last: TreeTotals,
}

impl Tree {
    /// An empty tree; `pss` when each process's PSS is to be walked too.
    pub(super) fn new(pss: bool) -> Tree {
        Tree {
            pss,
            ..Tree::default()
        }
    }

    /// Walks the PSS of every process followed; their sum (one that cannot be read counts 0).
    pub(super) fn pss_sum(&mut self) -> u64 {
        self.tracked
            .iter_mut()
            .filter_map(|t| {
                let reader = t.pss.as_mut()?;
                reader.read(t.mem.memory()).ok()
            })
            .fold(0, |sum, p| sum.saturating_add(p.pss_bytes))
    }

    /// Samples the tree under the process `target` whose own figures are `root`, at `t_ns`
    /// after `start`, ticks `interval` apart; with `identity.0`, checks each tracked process's
    /// start time (under the root `identity.1`), noting in `notes` one that changed.
    #[allow(clippy::too_many_arguments)] // one call site, each argument a different figure
    pub(super) fn sample(
        &mut self,
        target: &ProcessMemory,
        root: &MemorySnapshot,
        start: Instant,
        t_ns: u64,
        interval: Duration,
        identity: (bool, &ProcRoot),
        notes: &mut Vec<String>,
    ) -> TreeTotals {
        let (check_identity, proc_root) = identity;
        // Discover: children of the root and of every tracked process.
        self.kids.clear();
        let mut list = |parent: &ProcessMemory, kids: &mut Vec<(u32, u32)>| {
            self.listed.clear();
            parent.children(&mut self.listed);
            kids.extend(self.listed.iter().map(|&k| (parent.pid(), k)));
        };
        list(target, &mut self.kids);
        for t in &self.tracked {
            list(t.mem.memory(), &mut self.kids);
        }
        for i in 0..self.kids.len() {
            let (parent, kid) = self.kids[i];
            if self.tracked.iter().any(|t| t.last.pid == kid) {
                continue;
            }
            let Ok(mem) = ProcessMemory::for_pid_in(proc_root, kid) else {
                continue;
            };
            // The directory opened is the process now at this PID: keep it only if it is the
            // child listed (its parent is the lister), else the PID was reused in between.
            let Ok(stat) = mem.stat() else {
                continue;
            };
            // A zombie stays in its parent's list until reaped: it has exited, so it is not
            // followed (else it would be a new row at every tick).
            if stat.ppid != parent || matches!(stat.state, b'Z' | b'X') {
                continue;
            }
            let pss = if self.pss {
                PssReader::open(&mem).ok()
            } else {
                None
            };
            let mem = Sampler::new(mem, interval, procfs::status_every());
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
                pss,
                start_time_ticks: stat.start_time_ticks,
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
            m.rss_anon_bytes
                .unwrap_or(m.rss_bytes)
                .saturating_add(m.swap_bytes.unwrap_or(0))
        };
        let mut totals = TreeTotals {
            processes: 1,
            rss_bytes: root.rss_bytes,
            anon_swap_bytes: anon_swap(root),
        };
        let seen = &mut self.seen;
        let procs = &mut self.procs;
        let now = start + Duration::from_nanos(t_ns);
        self.tracked.retain_mut(|t| {
            let replaced = check_identity
                && t.mem
                    .memory()
                    .stat()
                    .is_ok_and(|s| s.start_time_ticks != t.start_time_ticks);
            if replaced {
                notes.push(format!(
                    "PID {} of the tree now names another process (start time changed): its series ends here",
                    t.last.pid
                ));
            }
            let alive = !replaced
                && match t.mem.read(now) {
                Ok(m) if m.rss_bytes > 0 => {
                    t.last.rss_bytes = m.rss_bytes;
                    t.last.rss_anon_bytes = m.rss_anon_bytes.unwrap_or(0);
                    t.last.swap_bytes = m.swap_bytes.unwrap_or(0);
                    totals.processes += 1;
                    // Saturating: a figure near u64::MAX (a hostile or broken /proc) pins the
                    // sum at the maximum instead of wrapping or panicking.
                    totals.rss_bytes = totals.rss_bytes.saturating_add(m.rss_bytes);
                    totals.anon_swap_bytes = totals.anon_swap_bytes.saturating_add(anon_swap(&m));
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
        self.last = totals;
        totals
    }
}
