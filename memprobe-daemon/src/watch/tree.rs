//! The process tree under the target (`--tree`): discovers children through
//! `/proc/<pid>/task/*/children`, keeps one memory reader per tracked process, sums each tick's
//! figures, and keeps the table of every process seen (at most [`LIST_MAX`], the rest counted).

use crate::output::{ProcSample, TreeTotals};
use crate::procfs;
use memprobe::snapshot::{Sampler, read_stat};
use memprobe::{MemorySnapshot, ProcessMemory};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Processes, phases and notes listed in the summary at most (more are counted).
pub(super) const LIST_MAX: usize = 256;

/// One process met in the tree, as the summary lists it.
#[derive(Debug, Clone, Serialize)]
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
    /// Its row in [`Tree::seen`] (beyond [`LIST_MAX`] it has none).
    seen: usize,
    last: ProcSample,
}

/// The tree's readers, its last sample and the table of processes seen.
#[derive(Default)]
pub(super) struct Tree {
    tracked: Vec<Tracked>,
    /// Every process met (the first [`LIST_MAX`]).
    pub(super) seen: Vec<SeenProc>,
    /// How many processes were met, the root excluded.
    pub(super) seen_count: u64,
    /// Most processes alive at one tick, the root included.
    pub(super) max_processes: u32,
    /// The processes of the last sample (the root excluded).
    pub(super) procs: Vec<ProcSample>,
    kids: Vec<u32>,
    /// Totals of the last sample.
    pub(super) last: TreeTotals,
}

impl Tree {
    /// Samples the tree under `pid` whose own figures are `root`, at `t_ns` after `start`;
    /// each tracked descendant's status is read every `status_every`, ticks `interval` apart.
    pub(super) fn sample(
        &mut self,
        pid: u32,
        root: &MemorySnapshot,
        start: Instant,
        t_ns: u64,
        interval: Duration,
    ) -> TreeTotals {
        // Discover: children of the root and of every tracked process.
        self.kids.clear();
        procfs::children_of(pid, &mut self.kids);
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
                    .map(|m| Sampler::new(m, interval, procfs::status_every())),
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
        let now = start + Duration::from_nanos(t_ns);
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
        self.last = totals;
        totals
    }
}
