//! Probes: start counting, run the code, finish into a [`Report`].
//!
//! ```text
//!   Probe::start ──▶ [purge] ▶ snapshot RSS + jemalloc ▶ enter group ──▶ code runs ──▶
//!   finish ──▶ leave group ▶ read counters ▶ [purge] ▶ snapshot RSS + jemalloc ▶ Report
//! ```
//!
//! Everything the probe itself allocates (its group, the report) happens outside the window in
//! which its counters are live, so a probe around code that allocates nothing reports 0.
//!
//! # Scopes
//!
//! - [`Scope::Thread`] (the default) counts what the probing thread allocates, plus whatever
//!   threads, pool jobs or async tasks enter the probe's [`Attribution`]. Other threads — such as
//!   the other tests `cargo test` runs in parallel — never touch it.
//! - [`Scope::Process`] counts every thread of the process. Process-scope probes serialize with
//!   each other: a second one waits for the first to finish, for at most
//!   [`ProbeOptions::process_scope_wait`] (60 s by default), then fails with an error, since a
//!   probe started on a thread that the running probe's body joins could never start. The figures include every other
//!   thread that allocates meanwhile (the test harness, other tests under `cargo test`); the report
//!   says how many allocations came from threads that did not enter the probe
//!   ([`Report::outside_alloc_count`]). Under `cargo nextest`, one test per process, they are exact.
//!
//! # Threads that end during a probe
//!
//! A thread's thread-local destructors run after its closure returned, and what they free (or
//! allocate) counts when they run. `std::thread::scope` returns once every scoped closure has
//! returned, *before* those destructors have run: their frees can land after a process-scope
//! probe finished (the memory reads as live in `net_bytes`) or inside the next one. Join the
//! handle (`ScopedJoinHandle::join`, `JoinHandle::join`) before finishing the probe: a join
//! returns only once the thread has fully exited, destructors included. (In thread scope,
//! attribution ends with the guard, inside the closure, so destructors never count there.)

use crate::alloc::{self, Attribution, Entered};
use crate::error::Result;
use crate::jemalloc::{self, JemallocStats};
use crate::report::{AllocFigures, JemallocFigures, Report, RssFigures};
pub use crate::scope::Scope;
use crate::snapshot::{MemorySnapshot, ProcessMemory};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// How a probe runs: scope, name, and the optional, costlier extras.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::probe::ProbeOptions;
/// let probe = ProbeOptions::new(memprobe::Scope::Thread).name("parse").start()?;
/// let report = probe.finish()?;
/// assert_eq!(report.name.as_deref(), Some("parse"));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    scope: Scope,
    name: Option<String>,
    purge: bool,
    reset_peak_rss: bool,
    trace_first_alloc: bool,
    detached: bool,
    process_scope_wait: Option<Duration>,
}

impl ProbeOptions {
    /// Defaults for `scope`: no name, no purge, no peak reset, no backtrace.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::{Scope, probe::ProbeOptions};
    /// let report = ProbeOptions::new(Scope::Process).start()?.finish()?;
    /// assert_eq!((report.scope, report.name), (Scope::Process, None));
    /// assert!(report.first_alloc_backtrace.is_none());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn new(scope: Scope) -> Self {
        ProbeOptions {
            scope,
            ..Default::default()
        }
    }

    /// Names the report (a test's path, a bench's name).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let report = memprobe::probe::ProbeOptions::default().name("my_test").start()?.finish()?;
    /// assert_eq!(report.name.as_deref(), Some("my_test"));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Purges jemalloc's dirty pages before each snapshot, so freed memory the allocator still
    /// holds does not read as RSS or resident growth. No effect without jemalloc.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::report::JemallocFigures;
    /// let report = memprobe::probe::ProbeOptions::default().purge(true).start()?.finish()?;
    /// match &report.jemalloc {
    ///     JemallocFigures::Measured { purged, .. } => assert!(purged),
    ///     // This doctest's global allocator is the system's: there is nothing to purge.
    ///     other => assert!(matches!(other, JemallocFigures::Unavailable { .. })),
    /// }
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn purge(mut self, purge: bool) -> Self {
        self.purge = purge;
        self
    }

    /// Resets the process's peak RSS (Linux `VmHWM`, via `/proc/self/clear_refs`) at the start,
    /// so the report's peak RSS belongs to this probe. Process-wide: it also resets the peak for
    /// anything else reading it.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let report = memprobe::probe::ProbeOptions::default().reset_peak_rss(true).start()?.finish()?;
    /// // Where RSS is read (Linux, macOS), the report says the peak is this probe's own.
    /// if let Some(rss) = &report.rss {
    ///     assert!(rss.peak_reset);
    /// }
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn reset_peak_rss(mut self, reset: bool) -> Self {
        self.reset_peak_rss = reset;
        self
    }

    /// Captures a backtrace of the first allocation the probe counts, for "this should not
    /// allocate" failures. Costs one stack walk inside that allocation (return addresses only,
    /// into a fixed array: no allocation, no std backtrace lock), resolved to names when the
    /// probe finishes, outside the figures. The walk uses the system unwinder, which may take the
    /// unwinder's and dynamic loader's locks: never while memprobe itself holds one.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let probe = memprobe::probe::ProbeOptions::default().trace_first_alloc(true).start()?;
    /// let v = std::hint::black_box(vec![1u8]);
    /// let report = probe.finish()?;
    /// assert!(report.first_alloc_backtrace.is_some());
    /// # drop(v);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn trace_first_alloc(mut self, trace: bool) -> Self {
        self.trace_first_alloc = trace;
        self
    }

    /// How long a process-scope probe waits for the one already running to finish before
    /// [`ProbeOptions::start`] gives up with an error; [`DEFAULT_PROCESS_SCOPE_WAIT`] unless set.
    /// The wait is bounded because it can never end when the running probe's body joins the
    /// thread that waits (a process-scope probe started inside a thread the measured code spawns
    /// and joins): that case ends in an error naming it instead of a hang.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::{probe::ProbeOptions, Scope};
    /// use std::time::Duration;
    /// let outer = memprobe::Probe::start(Scope::Process)?;
    /// let inner = std::thread::spawn(|| {
    ///     let options = ProbeOptions::new(Scope::Process).process_scope_wait(Duration::from_millis(50));
    ///     options.start().map(|probe| drop(probe)).unwrap_err().to_string()
    /// });
    /// assert!(inner.join().unwrap().starts_with("memprobe: timed out waiting"));
    /// outer.finish()?;
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn process_scope_wait(mut self, wait: Duration) -> Self {
        self.process_scope_wait = Some(wait);
        self
    }

    /// Starts a probe with these options.
    ///
    /// # Errors
    ///
    /// [`crate::Error::AllocatorNotInstalled`] when [`crate::Counting`] is not the global
    /// allocator; a [`crate::Error::PermissionDenied`] when a peak reset was asked and refused.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let report = memprobe::probe::ProbeOptions::default().start()?.finish()?;
    /// assert_eq!(report.allocs.alloc_count, 0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn start(self) -> Result<Probe> {
        Probe::with_options(self)
    }

    /// Starts a probe without making its attribution current on this thread: only code that
    /// enters [`Probe::attribution`] counts (in thread scope). For async bodies, where the
    /// attribution is entered on each poll and a guard must never live across an `.await`.
    pub(crate) fn start_detached(mut self) -> Result<Probe> {
        self.detached = true;
        Probe::with_options(self)
    }
}

/// How long a process-scope probe waits for the running one by default (see
/// [`ProbeOptions::process_scope_wait`]).
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::probe::DEFAULT_PROCESS_SCOPE_WAIT.as_secs(), 60);
/// ```
pub const DEFAULT_PROCESS_SCOPE_WAIT: Duration = Duration::from_secs(60);

/// Serializes process-scope probes: `true` while one runs; [`PROCESS_SCOPE_FREED`] is signalled
/// when it ends. A flag and a condition variable rather than a held `MutexGuard`, so that the
/// wait can be bounded.
static PROCESS_SCOPE: Mutex<bool> = Mutex::new(false);
static PROCESS_SCOPE_FREED: Condvar = Condvar::new();

/// Ownership of process scope, held by the running process-scope probe; dropping it lets the
/// next one start.
#[derive(Debug)]
struct ProcessScopeLock {
    // Dropped on the thread that took it (it clears that thread's `HOLDS_PROCESS_SCOPE`).
    _not_send: std::marker::PhantomData<*const ()>,
}

impl ProcessScopeLock {
    fn acquire(wait: Duration) -> Result<Self> {
        if HOLDS_PROCESS_SCOPE.with(|h| h.get()) {
            return Err(crate::Error::Misuse(
                "a process-scope probe is already running on this thread, and process-scope probes serialize; nest a thread-scope probe inside it instead",
            ));
        }
        // `None` (a wait too long to represent) waits for as long as it takes.
        let deadline = Instant::now().checked_add(wait);
        let mut busy = PROCESS_SCOPE.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy {
            busy = match deadline {
                None => PROCESS_SCOPE_FREED
                    .wait(busy)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(crate::Error::Misuse(
                            "timed out waiting for the running process-scope probe to finish (process-scope probes serialize); if that probe's measured code joins this thread, it can never finish first: use a thread-scope probe here, or raise `ProbeOptions::process_scope_wait` if the running probe is merely long",
                        ));
                    }
                    PROCESS_SCOPE_FREED
                        .wait_timeout(busy, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        *busy = true;
        HOLDS_PROCESS_SCOPE.with(|h| h.set(true));
        Ok(ProcessScopeLock {
            _not_send: std::marker::PhantomData,
        })
    }
}

impl Drop for ProcessScopeLock {
    fn drop(&mut self) {
        HOLDS_PROCESS_SCOPE.with(|h| h.set(false));
        *PROCESS_SCOPE.lock().unwrap_or_else(PoisonError::into_inner) = false;
        PROCESS_SCOPE_FREED.notify_one();
    }
}

thread_local! {
    /// Set while this thread holds [`PROCESS_SCOPE`]: a second process-scope probe on the same
    /// thread would wait for itself forever.
    static HOLDS_PROCESS_SCOPE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// This process's memory reader, opened once so a snapshot allocates nothing.
fn own_process() -> Option<&'static ProcessMemory> {
    static READER: OnceLock<Option<ProcessMemory>> = OnceLock::new();
    READER
        .get_or_init(|| ProcessMemory::current().ok())
        .as_ref()
}

/// A running measurement. Finish it with [`Probe::finish`].
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::{Probe, Scope};
/// let probe = Probe::start(Scope::Thread)?;
/// let mut s = String::new();
/// for _ in 0..100 {
///     s.push('x');
/// }
/// let report = probe.finish()?;
/// assert_eq!(report.allocs.alloc_count, 1); // the first push
/// assert_eq!(report.allocs.realloc_count, 4); // 8 → 16 → 32 → 64 → 128 bytes
/// # drop(s);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a probe measures nothing until it is finished"]
pub struct Probe {
    options: ProbeOptions,
    attribution: Attribution,
    entered: Option<Entered>,
    process_lock: Option<ProcessScopeLock>,
    /// Set while this probe counts into the process group; taken (cleared) before ending it, so
    /// process scope ends exactly once even if `finish` unwinds into `Drop`.
    counting_process: bool,
    rss_before: Option<MemorySnapshot>,
    jemalloc_before: std::result::Result<JemallocStats, String>,
    started: Instant,
}

impl Probe {
    /// Starts counting in `scope` on this thread.
    ///
    /// # Errors
    ///
    /// [`crate::Error::AllocatorNotInstalled`] when [`crate::Counting`] is not the global
    /// allocator: the message gives the line to add.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let probe = memprobe::Probe::start(memprobe::Scope::Process)?;
    /// std::thread::spawn(|| drop(vec![0u8; 100])).join().unwrap();
    /// let report = probe.finish()?;
    /// assert!(report.allocs.alloc_bytes >= 100);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn start(scope: Scope) -> Result<Probe> {
        Probe::with_options(ProbeOptions::new(scope))
    }

    fn with_options(options: ProbeOptions) -> Result<Probe> {
        if !alloc::is_installed() {
            return Err(crate::Error::AllocatorNotInstalled);
        }
        let process_lock = if options.scope == Scope::Process {
            Some(ProcessScopeLock::acquire(
                options
                    .process_scope_wait
                    .unwrap_or(DEFAULT_PROCESS_SCOPE_WAIT),
            )?)
        } else {
            None
        };
        // From here on the probe's own bookkeeping (its group, snapshots) must not count in an
        // enclosing probe: only the measured code does.
        let parent = Attribution::current();
        let (rss_before, jemalloc_before, attribution) = alloc::without_counting(|| {
            if options.reset_peak_rss {
                own_process()
                    .ok_or(crate::Error::Unsupported {
                        what: "reading this process's memory",
                        platform: std::env::consts::OS,
                    })?
                    .reset_peak()?;
            }
            let (rss, jemalloc) = snapshots(options.purge);
            Ok::<_, crate::Error>((rss, jemalloc, Attribution::nested_in(parent)))
        })?;
        attribution
            .group
            .trace_first
            .store(options.trace_first_alloc, Relaxed);
        let mut probe = Probe {
            options,
            attribution,
            entered: None,
            process_lock,
            counting_process: false,
            rss_before,
            jemalloc_before,
            started: Instant::now(),
        };
        // Counting starts here: nothing below allocates.
        if !probe.options.detached {
            probe.entered = Some(probe.attribution.enter());
        }
        if probe.process_lock.is_some() {
            alloc::process_probe_begin();
            probe.counting_process = true;
        }
        probe.started = Instant::now();
        Ok(probe)
    }

    /// The handle to pass to threads, pool jobs and async tasks whose allocations belong to this
    /// probe (see [`Attribution`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
    /// let worker = std::thread::spawn(probe.attribution().wrap(|| vec![0u8; 512]));
    /// let v = worker.join().unwrap();
    /// // The worker's 512 bytes are still alive; spawning the thread allocated a little more.
    /// assert!(probe.finish()?.allocs.net_bytes >= 512);
    /// # drop(v);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn attribution(&self) -> Attribution {
        self.attribution.clone()
    }

    /// Stops counting and builds the report.
    ///
    /// # Errors
    ///
    /// None today; reserved for snapshot failures that must not go unnoticed.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
    /// let report = probe.finish()?;
    /// assert_eq!(report.allocs.net_bytes, 0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn finish(self) -> Result<Report> {
        self.finish_iterations(1, 0)
    }

    pub(crate) fn finish_iterations(mut self, iterations: u64, warmup: u64) -> Result<Report> {
        let elapsed = self.started.elapsed();
        // Counting stops here, before anything below allocates.
        let process = self.process_lock.is_some();
        if std::mem::take(&mut self.counting_process) {
            alloc::process_probe_end();
        }
        drop(self.entered.take());
        let mine = AllocFigures::from_group(&self.attribution.group);
        let allocs = if process {
            AllocFigures::from_group(&alloc::PROCESS_GROUP)
        } else {
            mine
        };
        // What the probe does from here (snapshots, the report) must not count in an enclosing
        // probe either.
        alloc::without_counting(|| {
            let outside_alloc_count =
                process.then(|| allocs.allocations().saturating_sub(mine.allocations()));
            let first_alloc_backtrace = self.attribution.group.first_alloc_backtrace();
            let (rss_after, jemalloc_after) = snapshots(self.options.purge);
            drop(self.process_lock.take());

            let rss = match (self.rss_before, rss_after) {
                (Some(before), Some(after)) => {
                    Some(RssFigures::new(before, after, self.options.reset_peak_rss))
                }
                _ => None,
            };
            let jemalloc_before = std::mem::replace(&mut self.jemalloc_before, Err(String::new()));
            let jemalloc = match (jemalloc_before, jemalloc_after) {
                (Ok(before), Ok(after)) => JemallocFigures::Measured {
                    before,
                    after,
                    purged: self.options.purge,
                },
                (Err(reason), _) | (_, Err(reason)) => JemallocFigures::Unavailable { reason },
            };
            Ok(Report::new(
                self.options.name.take(),
                self.options.scope,
                iterations,
                warmup,
                elapsed,
                allocs,
                outside_alloc_count,
                rss,
                jemalloc,
                first_alloc_backtrace,
            ))
        })
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // A probe dropped without `finish` (e.g. a panic in the measured code) must still stop
        // counting into the process group.
        if std::mem::take(&mut self.counting_process) {
            alloc::process_probe_end();
        }
        // The process-scope lock, if held, is released when the field drops.
    }
}

fn snapshots(
    purge: bool,
) -> (
    Option<MemorySnapshot>,
    std::result::Result<JemallocStats, String>,
) {
    if purge && jemalloc::is_global_allocator() {
        let _ = jemalloc::purge();
    }
    let rss = own_process().and_then(|p| p.snapshot().ok());
    let je = if jemalloc::is_global_allocator() {
        JemallocStats::read().map_err(|e| e.to_string())
    } else {
        Err("jemalloc is not the global allocator".to_owned())
    };
    (rss, je)
}

/// Measures one call of `f` in thread scope. The value `f` returns is dropped after the probe
/// finishes, so it shows as live (`net_bytes`) in the report.
///
/// # Errors
///
/// [`crate::Error::AllocatorNotInstalled`] when [`crate::Counting`] is not the global allocator.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let report = memprobe::measure(|| Vec::<u8>::with_capacity(1000))?;
/// assert_eq!(report.allocs.alloc_count, 1);
/// assert_eq!(report.allocs.alloc_bytes, 1000);
/// assert_eq!(report.allocs.net_bytes, 1000);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn measure<R>(f: impl FnOnce() -> R) -> Result<Report> {
    let probe = Probe::start(Scope::Thread)?;
    let kept = std::hint::black_box(f());
    let report = probe.finish();
    drop(kept);
    report
}

/// Iteration counts for [`measure_iters`].
///
/// # Examples
///
/// ```
/// let iters = memprobe::probe::Iterations::new(1000).warmup(10);
/// assert_eq!(iters.measured(), 1000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iterations {
    measured: u64,
    warmup: u64,
    scope: Scope,
}

impl Iterations {
    /// `measured` iterations, no warm-up, thread scope.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::probe::Iterations;
    /// let report = memprobe::measure_iters(Iterations::new(100), || vec![0u8; 10])?;
    /// assert_eq!((report.iterations, report.warmup_iterations), (100, 0));
    /// assert_eq!(report.allocs.alloc_count, 100);
    /// assert_eq!(report.scope, memprobe::Scope::Thread);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn new(measured: u64) -> Self {
        Iterations {
            measured,
            warmup: 0,
            scope: Scope::Thread,
        }
    }

    /// Unmeasured iterations run first (to fill caches, pools and lazy statics).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::probe::Iterations;
    /// let mut calls = 0;
    /// let report = memprobe::measure_iters(Iterations::new(100).warmup(5), || calls += 1)?;
    /// assert_eq!(calls, 105);
    /// assert_eq!((report.iterations, report.warmup_iterations), (100, 5));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn warmup(mut self, warmup: u64) -> Self {
        self.warmup = warmup;
        self
    }

    /// The scope to count in.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::{Scope, probe::Iterations};
    /// let report = memprobe::measure_iters(Iterations::new(100).scope(Scope::Process), || ())?;
    /// assert_eq!(report.scope, Scope::Process);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// The number of measured iterations.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::probe::Iterations::new(7).measured(), 7);
    /// ```
    pub fn measured(&self) -> u64 {
        self.measured
    }
}

/// Runs `f` for the warm-up iterations unmeasured, then for the measured ones inside one probe,
/// like Go's `testing.AllocsPerRun`: the report holds totals, and
/// [`Report::per_iteration`] divides them. Each iteration's return value is dropped inside the
/// measurement.
///
/// # Errors
///
/// [`crate::Error::AllocatorNotInstalled`] when [`crate::Counting`] is not the global allocator.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::probe::Iterations;
/// let report = memprobe::measure_iters(Iterations::new(1000).warmup(10), || vec![0u8; 1200])?;
/// let per_op = report.per_iteration();
/// assert_eq!(per_op.allocations, 1.0);
/// assert_eq!(per_op.alloc_bytes, 1200.0);
/// assert_eq!(report.allocs.net_bytes, 0);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn measure_iters<R>(iterations: Iterations, mut f: impl FnMut() -> R) -> Result<Report> {
    for _ in 0..iterations.warmup {
        drop(std::hint::black_box(f()));
    }
    let probe = Probe::start(iterations.scope)?;
    for _ in 0..iterations.measured {
        drop(std::hint::black_box(f()));
    }
    probe.finish_iterations(iterations.measured, iterations.warmup)
}
