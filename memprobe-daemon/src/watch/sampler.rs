//! The sampler: owns every reader of the target (its memory through memprobe's
//! [`memprobe::snapshot::Sampler`], the process tree, PSS, the cgroup, the published record) and
//! the deadlines of the slower reads, and yields one plain [`Tick`] per reading. It also writes
//! the peak resets that go with phases (`--phase-reset`): the reader that verified the process
//! is the one that resets it.

use super::tree::{LIST_MAX, Tree};
use crate::cgroup::{Cgroup, CgroupSample, CgroupStat};
use crate::config::{CgroupChoice, Config};
use crate::output::{ProcSample, TreeTotals};
use crate::procfs::{self, Pss, PssReader};
use anyhow::Result;
use memprobe::MemorySnapshot;
use memprobe::ProcessMemory;
use memprobe::publish::{self, PublishedStats};
use memprobe::snapshot::{self, ProcRoot, read_stat_in};
use memprobe::trend::Warmup;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const IDENTITY_EVERY: Duration = Duration::from_secs(1);
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// A process that has not published within this time is looked for only every second after.
const PUBLISH_LOOK_FAST: Duration = Duration::from_secs(2);
const PUBLISH_LOOK_SLOW: Duration = Duration::from_secs(1);
const CGROUP_STAT_EVERY: Duration = Duration::from_secs(1);

/// Wall-clock ns since the Unix epoch.
pub(super) fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One tick's readings: plain data, which output writes and the recorder keeps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tick<'s> {
    /// When, in ns since the run started.
    pub(super) t_ns: u64,
    /// When, in ns since the Unix epoch.
    pub(super) wall_ns: u64,
    /// The watched PID.
    pub(super) pid: u32,
    /// The target's memory figures.
    pub(super) mem: MemorySnapshot,
    /// When the `status` figures in `mem` were read, in ns since the run started.
    pub(super) status_t_ns: Option<u64>,
    /// The tree's totals and processes (`--tree`).
    pub(super) tree: Option<(TreeTotals, &'s [ProcSample])>,
    /// The cgroup's figures (`--cgroup`).
    pub(super) cgroup: Option<CgroupSample>,
    /// A PSS walk, when one was due (`--pss-interval`).
    pub(super) pss: Option<Pss>,
    /// The published record, when it was refreshed at this tick.
    pub(super) published: Option<&'s PublishedStats>,
    /// Whether that record starts a new phase.
    pub(super) phase_started: bool,
}

/// What one reading found.
// PERF: returned by value once per tick; boxing the tick would allocate at every tick.
#[allow(clippy::large_enum_variant)]
pub(super) enum Reading<'s> {
    /// The target was read.
    Tick(Tick<'s>),
    /// The target has exited (its files are gone, or it is a zombie).
    Gone,
    /// The PID now names another process; a note says so.
    Replaced,
}

/// The readers of one run and their schedules.
pub(super) struct Sampler {
    start: Instant,
    interval: Duration,
    pss_every: Option<Duration>,
    phase_reset: bool,
    warmup: Warmup,
    duration: Option<Duration>,
    tree_on: bool,
    /// Where `/proc` is.
    proc_root: ProcRoot,
    /// Whether identities are checked at every tick, not every second: under a fake root, whose
    /// files are rewritten in place rather than bound to a process as `/proc`'s are.
    identity_every_tick: bool,
    /// The watched PID.
    pub(super) pid: u32,
    /// Its start time, which with the PID names it.
    pub(super) start_ticks: u64,
    /// The target's one reader: memory figures, peak reset, start time.
    reader: snapshot::Sampler,
    /// The process tree (`--tree`).
    pub(super) tree: Tree,
    /// The cgroup (`--cgroup`).
    pub(super) cgroup: Option<Cgroup>,
    /// Its last reading.
    pub(super) cgroup_last: Option<CgroupSample>,
    /// Its last `memory.stat`.
    pub(super) cgroup_stat: CgroupStat,
    cgroup_stat_at: Option<Instant>,
    /// The PSS reader (`--pss-interval`).
    pub(super) pss: Option<PssReader>,
    pss_due: Instant,
    /// PSS walks taken.
    pub(super) pss_walks: u64,
    /// PSS walks skipped as too costly.
    pub(super) pss_skipped: u64,
    /// The last PSS walk.
    pub(super) pss_last: Option<Pss>,
    publish_path: Option<PathBuf>,
    publish_reader: Option<publish::Reader>,
    /// The last published record.
    pub(super) published: Option<PublishedStats>,
    publish_due: Instant,
    warmup_first_iteration: Option<u64>,
    warmup_reset_done: bool,
    /// Peak resets done (`--phase-reset`).
    pub(super) peak_resets: u64,
    reset_notes: usize,
    identity_due: Instant,
    /// Notes not yet taken by the recorder.
    notes: Vec<String>,
}

impl Sampler {
    /// Opens the readers of `pid` (started by the daemon when `publish_path` is given), as
    /// `config` asks; the run starts when they are open ([`Sampler::start`]).
    ///
    /// # Errors
    ///
    /// When the process, its cgroup or its `smaps_rollup` cannot be read.
    pub(super) fn open(
        config: &Config,
        pid: u32,
        publish_path: Option<PathBuf>,
    ) -> Result<Sampler> {
        // The reader first, then the start time from its own `stat`: the identity recorded is
        // that of the process whose directory the reader holds, and every other file (cgroup,
        // smaps_rollup, clear_refs) is opened from that directory too.
        let mem = ProcessMemory::for_pid_in(&config.proc_root, pid)?;
        let start_ticks = mem.start_time_ticks()?;
        let cgroup = match &config.cgroup {
            None => None,
            Some(CgroupChoice::Auto) => Some(Cgroup::of_process(&mem)?),
            Some(CgroupChoice::Path(p)) => Some(Cgroup::open(p)?),
        };
        let pss = config
            .pss_interval
            .map(|_| PssReader::open(&mem))
            .transpose()?;
        let reader = snapshot::Sampler::new(mem, config.interval, procfs::status_every());
        let start = Instant::now();
        Ok(Sampler {
            start,
            interval: config.interval,
            pss_every: config.pss_interval,
            phase_reset: config.phase_reset,
            warmup: config.judge.trend.warmup,
            duration: config.duration,
            tree_on: config.tree,
            identity_every_tick: config.proc_root != ProcRoot::system(),
            proc_root: config.proc_root.clone(),
            pid,
            start_ticks,
            reader,
            tree: Tree::new(config.pss_interval.is_some()),
            cgroup,
            cgroup_last: None,
            cgroup_stat: CgroupStat::default(),
            cgroup_stat_at: None,
            pss,
            pss_due: start,
            pss_walks: 0,
            pss_skipped: 0,
            pss_last: None,
            publish_path,
            publish_reader: None,
            published: None,
            publish_due: start,
            warmup_first_iteration: None,
            warmup_reset_done: false,
            peak_resets: 0,
            reset_notes: 0,
            identity_due: start + IDENTITY_EVERY,
            notes: Vec::new(),
        })
    }

    /// When the run started: tick 0.
    pub(super) fn start(&self) -> Instant {
        self.start
    }

    fn t_ns(&self, at: Instant) -> u64 {
        at.duration_since(self.start).as_nanos() as u64
    }

    /// The notes written since the last call, oldest first.
    pub(super) fn take_notes(&mut self) -> std::vec::Drain<'_, String> {
        self.notes.drain(..)
    }

    /// Reads one tick at `now`.
    ///
    /// # Errors
    ///
    /// When the target's files cannot be read for another reason than its exit.
    pub(super) fn read(&mut self, now: Instant) -> Result<Reading<'_>> {
        let t_ns = self.t_ns(now);
        let mem = match self.reader.read(now) {
            Ok(m) => m,
            Err(memprobe::Error::ProcessNotFound { .. }) => return Ok(Reading::Gone),
            Err(e) => return Err(e.into()),
        };
        // A zombie reads as all zeros: the process has exited but is not reaped yet. Its state
        // from the reader's own `stat`: the process read, whoever has its PID now.
        if mem.rss_bytes == 0
            && self
                .reader
                .memory()
                .stat()
                .is_ok_and(|s| matches!(s.state, b'Z' | b'X'))
        {
            return Ok(Reading::Gone);
        }
        // The reader's files are bound to the process, so once it is reaped they fail (above)
        // and a newcomer at its PID is never read. The PID's `stat` by number is checked as
        // well, every second, so a run on a fake root (files rewritten in place) or a
        // process replaced between two reads is named in a note.
        let check_identity = self.identity_every_tick || now >= self.identity_due;
        if check_identity {
            self.identity_due = now + IDENTITY_EVERY;
            if read_stat_in(&self.proc_root, self.pid)
                .map(|s| s.start_time_ticks)
                .ok()
                != Some(self.start_ticks)
            {
                self.notes.push(format!(
                    "PID {} now names another process (start time changed): the series ends here",
                    self.pid
                ));
                return Ok(Reading::Replaced);
            }
        }
        let tree = if self.tree_on {
            Some(self.tree.sample(
                self.reader.memory(),
                &mem,
                self.start,
                t_ns,
                self.interval,
                (check_identity, &self.proc_root),
                &mut self.notes,
            ))
        } else {
            None
        };
        let cgroup = self.cgroup.as_ref().and_then(|c| c.sample().ok());
        if cgroup.is_some() {
            self.cgroup_last = cgroup;
        }
        let pss = self.maybe_pss(now);
        let (fresh, phase_started) = self.maybe_published(now);
        self.maybe_warmup_reset(t_ns);
        let status_t_ns = self.reader.status_read_at().map(|at| self.t_ns(at));
        Ok(Reading::Tick(Tick {
            t_ns,
            wall_ns: wall_ns(),
            pid: self.pid,
            mem,
            status_t_ns,
            tree: tree.map(|t| (t, &self.tree.procs[..])),
            cgroup,
            pss,
            published: if fresh { self.published.as_ref() } else { None },
            phase_started,
        }))
    }

    /// The reads on slower clocks than the tick: the cgroup's `memory.stat` every second.
    pub(super) fn slow_reads(&mut self, now: Instant) {
        if let Some(c) = &self.cgroup {
            if self
                .cgroup_stat_at
                .is_none_or(|at| now.duration_since(at) >= CGROUP_STAT_EVERY)
            {
                self.cgroup_stat = c.stat();
                self.cgroup_stat_at = Some(now);
            }
        }
    }

    fn maybe_pss(&mut self, now: Instant) -> Option<Pss> {
        let (Some(reader), Some(every)) = (self.pss.as_mut(), self.pss_every) else {
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
        match reader.read(self.reader.memory()) {
            Ok(mut p) => {
                if self.tree_on {
                    p.tree_pss_bytes = Some(p.pss_bytes.saturating_add(self.tree.pss_sum()));
                }
                self.pss_walks += 1;
                self.pss_last = Some(p);
                Some(p)
            }
            Err(_) => None,
        }
    }

    /// Reads the published record at most every 100 ms; whether it was refreshed, and whether
    /// it starts a new phase.
    fn maybe_published(&mut self, now: Instant) -> (bool, bool) {
        let Some(path) = self.publish_path.as_ref() else {
            return (false, false);
        };
        if now < self.publish_due {
            return (false, false);
        }
        // Half an interval early: with ticks 100 ms apart, a tick a few µs before the due time
        // must not skip a read (it did, halving the rate).
        self.publish_due = now + PUBLISH_EVERY.saturating_sub(self.interval / 2);
        if self.publish_reader.is_none() {
            if !path.exists() {
                // Most processes never publish: look less often once they have had time to.
                if now.duration_since(self.start) >= PUBLISH_LOOK_FAST {
                    self.publish_due = now + PUBLISH_LOOK_SLOW;
                }
                return (false, false);
            }
            // Only the watched process's own record counts: a descendant that inherited
            // MEMPROBE_PUBLISH and created the file first is refused by its pid.
            self.publish_reader = publish::Reader::open(path)
                .ok()
                .map(|r| r.expecting_pid(self.pid));
        }
        let stats = match self.publish_reader.as_ref().map(publish::Reader::read) {
            Some(Ok(Some(stats))) => stats,
            Some(Err(e)) => {
                // Not a record of the watched process (another pid, a hostile or corrupt file):
                // say so once and stop reading it, rather than report its figures.
                self.notes.push(format!("published figures ignored: {e}"));
                self.publish_path = None;
                self.publish_reader = None;
                return (false, false);
            }
            _ => return (false, false),
        };
        let previous = self.published.as_ref();
        if previous.is_some_and(|p| p.updates == stats.updates) {
            return (false, false);
        }
        let phase_started = previous.map_or(0, |p| p.phase_seq) != stats.phase_seq;
        if phase_started && self.phase_reset {
            self.reset_peak(&format!("phase {:?}", stats.phase));
        }
        self.published = Some(stats);
        (true, phase_started)
    }

    fn reset_peak(&mut self, why: &str) {
        match self.reader.memory().reset_peak() {
            Ok(()) => self.peak_resets += 1,
            Err(e) => {
                if self.reset_notes < LIST_MAX {
                    self.reset_notes += 1;
                    self.notes
                        .push(format!("--phase-reset at {why} failed: {e}"));
                }
            }
        }
    }

    fn maybe_warmup_reset(&mut self, t_ns: u64) {
        if !self.phase_reset || self.warmup_reset_done {
            return;
        }
        let end = match (self.warmup, self.duration) {
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

    /// Asks a publishing process to purge jemalloc; the request's number, when it publishes.
    pub(super) fn request_purge(&mut self) -> Option<u64> {
        self.publish_reader.as_mut()?.request_purge().ok()
    }

    /// Asks a publishing process about its allocation sites (`--sites`); the request's number,
    /// once it publishes.
    pub(super) fn request_sites(&mut self, request: publish::SitesRequest) -> Option<u64> {
        self.publish_reader.as_mut()?.request_sites(request).ok()
    }

    /// The process's answer to sites request `request`, once it has answered.
    pub(super) fn sites_answer(&self, request: u64) -> Option<publish::SitesState> {
        self.publish_reader
            .as_ref()?
            .sites_answer(request)
            .ok()
            .flatten()
    }

    /// Whether the process has done purge `request`; when it has, the next tick reads the
    /// record again.
    pub(super) fn purge_done(&mut self, request: u64) -> bool {
        let Some(reader) = self.publish_reader.as_ref() else {
            return false;
        };
        if let Ok(Some(stats)) = reader.read() {
            if stats.has_purged(request) {
                self.publish_due = Instant::now();
                return true;
            }
        }
        false
    }
}
