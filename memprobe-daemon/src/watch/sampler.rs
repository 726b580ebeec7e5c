//! The sampler: one tick's readings ([`Tick`], plain data) of the target (memory through memprobe's `Sampler`), its
//! process tree, PSS, the published record, and the peak resets that go with phases.

use super::*;

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

pub(super) struct Tracked {
    pub(super) mem: Sampler,
    pub(super) seen: usize,
    pub(super) last: ProcSample,
}

/// One tick's readings: plain data, which output writes and the recorder keeps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tick {
    /// When, in ns since the run started.
    pub(super) t_ns: u64,
    /// When, in ns since the Unix epoch.
    pub(super) wall_ns: u64,
    /// The target's memory figures.
    pub(super) mem: MemorySnapshot,
    /// When the `status` figures in `mem` were read, in ns since the run started.
    pub(super) status_t_ns: Option<u64>,
    /// The tree's totals (`--tree`); its processes are in `Run::procs`.
    pub(super) tree: Option<TreeTotals>,
    /// The cgroup's figures (`--cgroup`).
    pub(super) cgroup: Option<CgroupSample>,
    /// A PSS walk, when one was due (`--pss-interval`).
    pub(super) pss: Option<Pss>,
    /// Whether the published record was refreshed at this tick (it is then in `Run::published`).
    pub(super) published_fresh: bool,
}

impl Run<'_> {
    /// Reads one tick; `None` when the target has gone (or its PID names another process).
    pub(super) fn read_tick(&mut self, now: Instant) -> Result<Option<Tick>> {
        let t_ns = self.t_ns(now);
        let mem = match self.reader.read(now) {
            Ok(m) => m,
            Err(memprobe::Error::ProcessNotFound { .. }) => {
                self.target_gone()?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        // A zombie reads as all zeros: the process has exited but is not reaped yet.
        if mem.rss_bytes == 0 && read_stat(self.pid).is_ok_and(|s| matches!(s.state, b'Z' | b'X')) {
            self.target_gone()?;
            return Ok(None);
        }
        if now >= self.identity_due {
            self.identity_due = now + IDENTITY_EVERY;
            if read_stat(self.pid).map(|s| s.start_time_ticks).ok() != Some(self.start_ticks) {
                self.notes.push(format!(
                    "PID {} now names another process (start time changed): the series ends here",
                    self.pid
                ));
                return Ok(None);
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
        let published_fresh = self.maybe_published(now, t_ns);
        self.maybe_warmup_reset(t_ns);
        Ok(Some(Tick {
            t_ns,
            wall_ns: wall_ns(),
            mem,
            status_t_ns: self.reader.status_read_at().map(|at| self.t_ns(at)),
            tree,
            cgroup,
            pss,
            published_fresh,
        }))
    }

    pub(super) fn sample_tree(&mut self, t_ns: u64, root: &MemorySnapshot) -> TreeTotals {
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

    pub(super) fn maybe_pss(&mut self, now: Instant) -> Option<Pss> {
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
    pub(super) fn maybe_published(&mut self, now: Instant, t_ns: u64) -> bool {
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

    pub(super) fn reset_peak(&mut self, why: &str) {
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

    pub(super) fn maybe_warmup_reset(&mut self, t_ns: u64) {
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
}
