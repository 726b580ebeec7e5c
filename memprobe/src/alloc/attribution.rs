//! Attribution groups: the counters behind a thread-scope probe, shared with whatever threads the
//! probed code hands work to.
//!
//! A probe creates a group and makes it current on its thread; a worker thread, pool job or async
//! task enters the same group through an [`Attribution`] handle, and every allocation made while a
//! group is current is added to it (and to the groups it was nested in). Threads that never enter
//! the group never touch it: this is what keeps parallel `cargo test` figures apart.
//!
//! # Limits
//!
//! - Only work that enters the group counts: a thread pool's worker must run the job inside
//!   [`Attribution::enter`] or [`Attribution::wrap`], an async task inside [`Attribution::scope`].
//! - Memory allocated inside the group and freed by a thread outside it stays positive in the
//!   group's net, and the reverse goes negative: net is signed for this reason.
//! - Guards are meant to nest (dropped in reverse order of entry), as scoped guards do.

use memprobe_core::{Count, Counters, Event};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::task::{Context, Poll};

/// How many return addresses of the first allocation are kept.
const TRACE_DEPTH: usize = 48;

/// Counters shared by every thread that entered a group, and its first-allocation trace.
pub(crate) struct Group {
    /// memprobe-core's atomic counters: counts, bytes, live bytes with their peak, the largest
    /// block.
    pub(crate) counters: Counters,
    /// When set, the next allocation records its return addresses into `first_alloc_ips` (off
    /// the hot path).
    pub(crate) trace_first: AtomicBool,
    first_alloc_ips: [AtomicUsize; TRACE_DEPTH],
    first_alloc_len: AtomicUsize,
    /// The group this one was created inside: its allocations count there too.
    parent: Option<Arc<Group>>,
}

impl Group {
    pub(crate) const fn new_static() -> Self {
        Group {
            counters: Counters::new(),
            trace_first: AtomicBool::new(false),
            first_alloc_ips: [const { AtomicUsize::new(0) }; TRACE_DEPTH],
            first_alloc_len: AtomicUsize::new(0),
            parent: None,
        }
    }

    /// Zeroes the counters of a reusable (static) group.
    pub(crate) fn reset(&self) {
        self.counters.reset();
    }

    /// Counts one allocator call (memprobe-core's arithmetic, with atomics: the threads of one
    /// probe contend only with each other) and, for an allocation, records its backtrace if
    /// asked to.
    #[inline]
    pub(crate) fn record(&self, event: Event) {
        event.count(&self.counters);
        if !matches!(event, Event::Dealloc(_)) && self.trace_first.load(Relaxed) {
            self.capture_first();
        }
    }

    /// Records where the first allocation came from: return addresses only, into the group's
    /// fixed array, with no allocation and without std's `Backtrace` (whose capture allocates,
    /// re-entering the allocator). The system unwinder may take its own and the dynamic loader's
    /// locks while walking; neither is held by code that allocates through memprobe. The
    /// addresses are resolved to names by `first_alloc_backtrace`, after the probe.
    #[cold]
    #[inline(never)]
    fn capture_first(&self) {
        if !self.trace_first.swap(false, Relaxed) {
            return;
        }
        let mut depth = 0;
        let mut record = |frame: &backtrace::Frame| {
            self.first_alloc_ips[depth].store(frame.ip() as usize, Relaxed);
            depth += 1;
            depth < TRACE_DEPTH
        };
        #[cfg(unix)]
        // SAFETY: `trace_unsynchronized` is unsafe only because some unwinders (Windows'
        // dbghelp) are not thread-safe; it walks this thread's own stack. On unix it is
        // `_Unwind_Backtrace`, which is thread-safe and allocates nothing through Rust's
        // global allocator; elsewhere nothing is recorded.
        unsafe {
            backtrace::trace_unsynchronized(&mut record)
        };
        #[cfg(not(unix))]
        let _ = &mut record;
        self.first_alloc_len.store(depth, Release);
    }

    /// The first allocation's backtrace, resolved to symbol names, if one was recorded, starting
    /// at the allocator's caller (the unwinder's and memprobe's own frames are left out) and
    /// formatted like std's backtraces. Allocates: call it outside the measurement.
    pub(crate) fn first_alloc_backtrace(&self) -> Option<String> {
        use std::fmt::Write;
        let depth = self.first_alloc_len.load(Acquire);
        if depth == 0 {
            return None;
        }
        let mut frames: Vec<(String, Option<String>)> = Vec::new();
        for ip in &self.first_alloc_ips[..depth] {
            let ip = ip.load(Relaxed) as *mut std::ffi::c_void;
            let mut resolved = false;
            backtrace::resolve(ip, |symbol| {
                resolved = true;
                let name = symbol
                    .name()
                    .map_or_else(|| format!("{ip:?}"), |name| format!("{name:#}"));
                let at = match (symbol.filename(), symbol.lineno()) {
                    (Some(file), Some(line)) => Some(format!("{}:{line}", file.display())),
                    _ => None,
                };
                frames.push((name, at));
            });
            if !resolved {
                frames.push((format!("{ip:?}"), None));
            }
        }
        const OWN: [&str; 4] = [
            "backtrace::",
            "memprobe::alloc::",
            "<memprobe::alloc::",
            "core::ops::function::",
        ];
        let first = frames
            .iter()
            .position(|(name, _)| !OWN.iter().any(|own| name.starts_with(own)))
            .unwrap_or(0);
        let mut out = String::new();
        for (index, (name, at)) in frames[first..].iter().enumerate() {
            let _ = writeln!(out, "{index:>4}: {name}");
            if let Some(at) = at {
                let _ = writeln!(out, "             at {at}");
            }
        }
        Some(out)
    }

    pub(crate) fn parent_ptr(&self) -> *const Group {
        self.parent.as_ref().map_or(std::ptr::null(), Arc::as_ptr)
    }
}

/// A handle on a probe's attribution group. Clone it into the threads, pool jobs or async tasks
/// the probed code hands work to, and enter it there, so their allocations count in the probe.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::{Probe, Scope};
///
/// let probe = Probe::start(Scope::Thread)?;
/// let attribution = probe.attribution();
/// std::thread::spawn(attribution.wrap(|| vec![0u8; 4096])).join().unwrap();
/// let report = probe.finish()?;
/// // The worker's 4096 bytes, plus what spawning a thread allocates on this thread.
/// assert!(report.allocs.freed_bytes >= 4096);
/// assert_eq!(report.allocs.largest_alloc_bytes, 4096);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Clone)]
pub struct Attribution {
    pub(crate) group: Arc<Group>,
}

impl std::fmt::Debug for Attribution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribution")
            .field(
                "alloc_count",
                &self.group.counters.totals().get(Count::Allocs),
            )
            .finish_non_exhaustive()
    }
}

impl Attribution {
    /// A new group nested in `parent` (its allocations count there too).
    pub(crate) fn nested_in(parent: Option<Attribution>) -> Self {
        Attribution {
            group: Arc::new(Group {
                parent: parent.map(|p| p.group),
                ..Group::new_static()
            }),
        }
    }

    /// A handle on the group current on this thread (the innermost probe's, or one entered),
    /// or `None` outside any probe. Lets code deep inside a measured function hand its work to
    /// other threads or tasks without being passed the probe.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// assert!(memprobe::Attribution::current().is_none());
    /// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
    /// let here = memprobe::Attribution::current().expect("inside a probe");
    /// std::thread::spawn(here.wrap(|| drop(vec![0u8; 4096]))).join().unwrap();
    /// assert!(probe.finish()?.allocs.freed_bytes >= 4096);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn current() -> Option<Attribution> {
        let group = super::current_group();
        if group.is_null() {
            return None;
        }
        // SAFETY: a non-null current group pointer came from `Arc::as_ptr` and is kept alive by
        // the guard that installed it, which outlives this call; taking another strong count
        // makes the returned handle keep it alive on its own.
        let group = unsafe {
            Arc::increment_strong_count(group);
            Arc::from_raw(group)
        };
        Some(Attribution { group })
    }

    /// Makes this group current on the calling thread until the guard drops: every allocation
    /// the thread makes meanwhile counts in the probe.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
    /// let attribution = probe.attribution();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let _entered = attribution.enter();
    ///         std::hint::black_box(Box::new([0u8; 100]));
    ///     });
    /// });
    /// // The worker's 100 bytes count, as does what spawning it allocated on this thread.
    /// assert!(probe.finish()?.allocs.alloc_bytes >= 100);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn enter(&self) -> Entered {
        let previous = super::set_current_group(Some(self.group.clone()));
        Entered {
            group: Arc::as_ptr(&self.group),
            previous,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Wraps a closure so it runs inside this group, wherever it is called: pass the result to
    /// `std::thread::spawn`, a thread pool, or `tokio::task::spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
    /// let job = probe.attribution().wrap(|| String::from("job"));
    /// let s = std::thread::spawn(job).join().unwrap();
    /// assert!(probe.finish()?.allocs.alloc_bytes >= 3); // "job" + spawning the thread
    /// # drop(s);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn wrap<F: FnOnce() -> R, R>(&self, f: F) -> impl FnOnce() -> R + use<F, R> {
        let this = self.clone();
        move || {
            let _entered = this.enter();
            f()
        }
    }

    /// Wraps a future so every poll runs inside this group, on whichever worker thread polls it:
    /// use it for tasks spawned on a multi-thread async runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// # use std::task::{Context, Poll, Waker};
    /// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
    /// let mut task = Box::pin(probe.attribution().scope(async { vec![1u8; 64] }));
    /// // A runtime would poll this on one of its worker threads.
    /// let polled = std::thread::spawn(move || {
    ///     let mut cx = Context::from_waker(Waker::noop());
    ///     matches!(task.as_mut().poll(&mut cx), Poll::Ready(v) if v.len() == 64)
    /// });
    /// assert!(polled.join().unwrap());
    /// let report = probe.finish()?;
    /// assert!(report.allocs.alloc_bytes >= 64); // the task's vector, the pinned box, the spawn
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn scope<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped {
            attribution: self.clone(),
            future,
        }
    }
}

/// Guard returned by [`Attribution::enter`]; restores the previous group when dropped.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
/// let attribution = probe.attribution();
/// let _entered: memprobe::alloc::Entered = attribution.enter();
/// # Ok::<(), memprobe::Error>(())
/// ```
#[must_use = "the group is current only while the guard lives"]
pub struct Entered {
    /// The group this guard made current (compared, never dereferenced).
    group: *const Group,
    /// The group to make current again; owned, so it stays alive whatever happens meanwhile.
    previous: Option<Arc<Group>>,
    // The guard changes this thread's state: it must be dropped on the thread that made it.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl std::fmt::Debug for Entered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entered").finish_non_exhaustive()
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        if super::current_group() == self.group {
            drop(super::set_current_group(previous));
            return;
        }
        // Out of order: leave no group current rather than one whose probe may have ended (the
        // thread-local owns its group, so this is about wrong figures, never memory safety).
        drop(previous);
        drop(super::set_current_group(None));
        if !std::thread::panicking() {
            panic!(
                "memprobe: attribution guards dropped out of order on this thread (a probe or \
                 `Attribution::enter` guard ended while one started after it was still running); \
                 finish probes in the reverse order they started"
            );
        }
    }
}

/// Future returned by [`Attribution::scope`].
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let probe = memprobe::Probe::start(memprobe::Scope::Thread)?;
/// let _task: memprobe::alloc::Scoped<_> = probe.attribution().scope(async { 1 });
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug)]
pub struct Scoped<F> {
    attribution: Attribution,
    future: F,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and
        // `attribution` is never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let _entered = this.attribution.enter();
        // SAFETY: see above; `this.future` stays where the pinned `Scoped` put it.
        unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}
