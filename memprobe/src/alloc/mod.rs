//! The counting allocator: [`Counting`] wraps any [`GlobalAlloc`] and counts every allocation
//! exactly, per thread and per process, without a lock, a heap allocation or a syscall on the hot
//! path.
//!
//! # What is counted
//!
//! Bytes are the sizes requested in each [`Layout`], not the size class the allocator rounds up
//! to (jemalloc's `allocated`/`active` figures show that slack).
//!
//! | call | counted as |
//! |---|---|
//! | `alloc(layout)` | 1 allocation, `layout.size()` bytes allocated |
//! | `alloc_zeroed(layout)` | exactly like `alloc`: 1 allocation, `layout.size()` bytes |
//! | `realloc(ptr, layout, new)` | 1 reallocation (not an allocation, not a deallocation); `layout.size()` bytes freed and `new` bytes allocated, so live bytes move by `new - layout.size()` and a realloc to a larger block can set the peak and the largest allocation |
//! | `dealloc(ptr, layout)` | 1 deallocation, `layout.size()` bytes freed |
//! | a call that returns null | nothing |
//!
//! Zero-sized requests never reach a global allocator: `Vec::new()`, `Box::new(())` and friends
//! use dangling pointers, and [`GlobalAlloc`] forbids size 0, so they count as nothing.
//!
//! # Implementation
//!
//! Each thread counts into counters inside its own `const` thread-local (no destructor, so it
//! is usable at any point of the thread's life). What one call adds to which counter is
//! memprobe-core's [`memprobe_core::Event::count`], the same code the `no_std` counting
//! allocator runs: here into the thread's own counters through [`memprobe_core::SingleWriter`]
//! (plain adds), into the shared overflow counters and probe groups with atomics. The hot path is one TLS access, one load of the
//! thread's `watch` byte and two plain adds on the same cache line: no pointer to follow, no
//! atomic read-modify-write, no lock, no allocation, no syscall. A non-zero `watch` sends the
//! call out of line, to the cold path, which handles everything else:
//!
//! ```text
//!   alloc ─▶ inner.alloc ─▶ watch == 0 ? ─yes─▶ own counters += (count, bytes)       (hot)
//!                                       ├─ watch == WATCH_SITES (`sites`) ─▶ sites lane:
//!                                       │    own counters += …, then the site hooks' inline
//!                                       │    checks (countdown; the free's filter)
//!                                       └─no──▶ cold path:
//!       first allocation of the thread ─▶ list its counters in the registry (registry.rs)
//!       registry full / no exit hook   ─▶ own counters + shared overflow counters
//!       after the thread's exit hook   ─▶ shared overflow counters
//!       a thread-scope probe's group   ─▶ + the group chain of this thread
//!       a process-scope probe          ─▶ + the process group (process.rs)
//!       a sites session (`sites`)      ─▶ + the site hooks (sites::on_alloc/on_dealloc)
//! ```
//!
//! The `watch` bits raised from outside the thread, through the registry, for every listed
//! thread (and under its lock for a thread listed later): `WATCH_PROCESS` while a process-scope
//! probe runs, `WATCH_SITES` while an allocation-sites session runs. With the `sites` feature
//! and no session, `watch` is 0 and the hot path runs the featureless instructions; a thread
//! whose only bit is `WATCH_SITES` takes the sites lane, inline but laid out after the hot path
//! (`#[cold]`), which counts as the hot path does and calls the hooks' unsampled checks inline.
//!
//! Process totals are the sum of the listed threads' counters, the exited threads' (folded in
//! at exit, see `registry.rs`) and the overflow counters: exact across thread exit, for
//! allocations made while thread-locals are destroyed, and on threads memprobe never saw start.
//!
//! Where the cold path can block: a thread's first allocation takes the registry's lock (a spin
//! lock held for at most a sum over the listed threads, by code that never allocates) and may
//! create a pthread key (libc's own lock); the first allocation inside a probe with
//! [`crate::probe::ProbeOptions::trace_first_alloc`] walks the stack with the system unwinder,
//! which can take the unwinder's and the dynamic loader's locks. None of them is ever held while
//! allocating through this allocator, so none can deadlock with it.

mod attribution;
mod process;
mod registry;
pub(crate) mod site_watch;
mod thread_exit;
mod totals;

pub(crate) use attribution::Group;
pub use attribution::{Attribution, Entered, Scoped};
pub(crate) use totals::signed_difference;
pub use totals::{
    AllocTotals, ThreadSlots, is_installed, process_totals, thread_slots, thread_totals,
};

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::*};

use memprobe_core::{Event, SingleWriter};
use registry::{Counters, Entry};

/// A global allocator that wraps `A` and counts every allocation exactly.
///
/// Install it once per binary (tests, benches and examples are binaries of their own):
///
/// ```
/// #[global_allocator]
/// static GLOBAL: memprobe::Counting<std::alloc::System> = memprobe::Counting::new(std::alloc::System);
///
/// let report = memprobe::measure(|| Vec::<u8>::with_capacity(1000))?;
/// assert_eq!(report.allocs.alloc_count, 1);
/// assert_eq!(report.allocs.alloc_bytes, 1000);
/// # Ok::<(), memprobe::Error>(())
/// ```
///
/// Over jemalloc, which also gives [`crate::JemallocStats`]:
///
/// ```
/// #[global_allocator]
/// static GLOBAL: memprobe::Counting<tikv_jemallocator::Jemalloc> =
///     memprobe::Counting::new(tikv_jemallocator::Jemalloc);
/// # fn main() {}
/// ```
#[derive(Debug, Default)]
pub struct Counting<A> {
    inner: A,
}

impl<A> Counting<A> {
    /// Wraps `inner`. `const`, so it can initialise a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static GLOBAL: memprobe::Counting<std::alloc::System> = memprobe::Counting::new(std::alloc::System);
    /// ```
    pub const fn new(inner: A) -> Self {
        Counting { inner }
    }

    /// The wrapped allocator.
    ///
    /// # Examples
    ///
    /// ```
    /// let counting = memprobe::Counting::new(std::alloc::System);
    /// let _system: &std::alloc::System = counting.inner();
    /// ```
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

/// Installs [`Counting`] as the global allocator in one line: over `std::alloc::System` with no
/// argument, or over the allocator expression you pass.
///
/// # Examples
///
/// ```
/// memprobe::global_allocator!();
/// # fn main() { assert!(memprobe::alloc::is_installed()); }
/// ```
///
/// ```
/// memprobe::global_allocator!(tikv_jemallocator::Jemalloc);
/// # fn main() { assert!(memprobe::alloc::is_installed()); }
/// ```
#[macro_export]
macro_rules! global_allocator {
    () => {
        $crate::global_allocator!(::std::alloc::System);
    };
    // Every global allocator is a unit struct, whose path names both its type and its value.
    ($allocator:path) => {
        #[global_allocator]
        static MEMPROBE_GLOBAL_ALLOCATOR: $crate::Counting<$allocator> =
            $crate::Counting::new($allocator);
    };
}

/// What a thread carries: its counters and the state the hot path checks, all in one
/// `const`-initialised thread-local with no destructor, so access is a plain TLS access that
/// works at any point of the thread's life, even while its other thread-locals are destroyed.
// PERF: exactly one cache line (64 bytes, aligned): `watch` and the counters, all the hot path
// touches, lead; the fields are ordered so that nothing is padding but 6 bytes after the flags.
#[repr(C, align(64))]
struct ThreadState {
    /// 0 on the fast path. Otherwise why the thread takes the cold path: [`NEW`], [`UNLISTED`],
    /// [`NO_EXIT_HOOK`], [`EXITED`] (written by the thread itself), [`WATCH_GROUP`] (by the
    /// thread), [`WATCH_PROCESS`] (by probes) and [`WATCH_SITES`] (by sites sessions), the last
    /// two through the registry, for every listed thread.
    watch: AtomicU8,
    /// Set while memprobe's own bookkeeping allocates (e.g. capturing a backtrace).
    paused: Cell<bool>,
    /// This thread's cumulative counts, from its first allocation.
    counters: Counters,
    /// The attribution group allocations count into, or null.
    group: Cell<*const Group>,
    /// The thread's registry entry, while it is listed.
    index: Cell<usize>,
}

const _: () = assert!(std::mem::size_of::<ThreadState>() == 64);

/// `watch` bit: not listed in the registry yet (no allocation so far).
const NEW: u8 = 1;
/// `watch` bit: the registry was full; counts go to the overflow counters too, and the thread
/// takes an entry once one is free.
const UNLISTED: u8 = 2;
/// `watch` bit: the thread cannot learn of its own exit (no pthreads, or libc's key table
/// full), so it is never listed; counts go to the overflow counters too.
const NO_EXIT_HOOK: u8 = 4;
/// `watch` bit: the thread's exit hook ran; later allocations count in the overflow counters.
const EXITED: u8 = 8;
/// `watch` bit: the thread has a current attribution group.
pub(crate) const WATCH_GROUP: u8 = 16;
/// `watch` bit: a process-scope probe is running.
pub(crate) const WATCH_PROCESS: u8 = 32;
use site_watch::{SITES_WATCHED, WATCH_SITES};

thread_local! {
    static THREAD: ThreadState = const {
        ThreadState {
            watch: AtomicU8::new(NEW),
            paused: Cell::new(false),
            counters: Counters::new(),
            group: Cell::new(std::ptr::null()),
            index: Cell::new(usize::MAX),
        }
    };
}

/// Set by the first counted allocation in the process.
static INSTALLED: AtomicBool = AtomicBool::new(false);

pub(crate) use process::GROUP as PROCESS_GROUP;

// PERF: the cold paths take an `Event` as `(kind, a, b)`: by value, at 24 bytes, it would be
// spilled to the stack on every hot call; three words travel in registers (see `split`/`join`).
#[inline(always)]
fn split(event: Event) -> (u8, usize, usize) {
    match event {
        Event::Alloc(size) => (0, size, 0),
        Event::Dealloc(size) => (1, size, 0),
        Event::Realloc { old, new } => (2, old, new),
    }
}

#[inline(always)]
fn join(kind: u8, a: usize, b: usize) -> Event {
    match kind {
        0 => Event::Alloc(a),
        1 => Event::Dealloc(a),
        _ => Event::Realloc { old: a, new: b },
    }
}

/// This thread's state. The pointer stays valid for the whole life of the thread: the
/// thread-local is `const`-initialised and has no destructor, so it is never torn down early.
#[inline(always)]
fn this_thread() -> *const ThreadState {
    THREAD.with(|thread| thread as *const ThreadState)
}

// PERF: the common case (a listed thread, no probe watching it, no sites session) is one TLS
// access, one load of `watch` and two plain adds on the same cache line: no pointer to follow,
// no atomic read-modify-write, no shared line, and no site hook. Everything else is out of line,
// so the inlined hook stays small enough for the compiler to keep the caller's registers.
// `old`/`new` are the blocks freed and allocated (null where none), for the site hooks, which
// only the cold path calls.
#[inline(always)]
fn record(event: Event, old: *mut u8, new: *mut u8) {
    // SAFETY: see `this_thread`; used only on this thread, within this call.
    let thread = unsafe { &*this_thread() };
    let watch = thread.watch.load(Relaxed);
    if watch == 0 {
        event.count(&SingleWriter(&thread.counters));
    } else if in_sites_lane(watch) {
        sites_lane(thread, event, old, new);
    } else {
        let (kind, a, b) = split(event);
        record_cold(thread, kind, a, b, old, new);
    }
}

/// Whether a thread's only reason to leave the hot path is a running sites session: it then
/// counts as the hot path does (a listed thread with no group and no process-scope probe adds
/// to its own counters only) and calls the site hooks, whose unsampled paths are inline.
// PERF: through the general cold path (its checks, its call and large frame) the unsampled path
// cost 2.2x bare jemalloc on small-block churn, against 1.2x for the hooks alone. Without the
// `sites` feature this is `false` and the branch is compiled out.
#[inline(always)]
fn in_sites_lane(watch: u8) -> bool {
    cfg!(feature = "sites") && watch == WATCH_SITES
}

/// The sites lane (see [`in_sites_lane`]): inline, but `#[cold]` so that the hot path keeps its
/// layout (without it, the hot path gained a jump to a tail it shared with the lane). Out of
/// line instead, it measured no better for the hot path and 4–6% worse for a session.
#[cold]
#[inline(always)]
fn sites_lane(thread: &ThreadState, event: Event, old: *mut u8, new: *mut u8) {
    event.count(&SingleWriter(&thread.counters));
    site_hooks(event, old, new, true);
}

/// A thread that is not listed (first allocation, registry full, no exit hook, exited), or that
/// a probe or a sites session watches.
#[cold]
#[inline(never)]
fn record_cold(thread: &ThreadState, kind: u8, a: usize, b: usize, old: *mut u8, new: *mut u8) {
    let event = join(kind, a, b);
    let mut watch = thread.watch.load(Relaxed);
    if watch & NEW != 0 || (watch & UNLISTED != 0 && registry::may_have_free()) {
        watch = list_this_thread(thread, watch);
    }
    if watch & EXITED != 0 {
        event.count(&registry::OVERFLOW);
    } else {
        event.count(&SingleWriter(&thread.counters));
        if watch & (UNLISTED | NO_EXIT_HOOK) != 0 {
            event.count(&registry::OVERFLOW);
        }
    }
    record_watched(thread, event);
    site_hooks(event, old, new, false);
}

/// The allocation-sites hooks for `event` (see [`crate::sites`]'s allocator contract), called
/// off the hot path only: a thread on which a sampled block can be allocated or freed always
/// has a non-zero `watch` (see [`site_watch::set`]), and the hooks return at once outside a
/// session. `in_session`: called from the sites lane, whose `WATCH_SITES` bit is raised before a
/// session starts and lowered after it stopped, so the free skips the no-session checks.
#[inline(always)]
fn site_hooks(event: Event, old: *mut u8, new: *mut u8, in_session: bool) {
    #[cfg(feature = "sites")]
    {
        let free = |ptr, size| match in_session {
            true => crate::sites::on_dealloc_in_session(ptr),
            false => crate::sites::on_dealloc(ptr, size),
        };
        match event {
            Event::Alloc(size) => crate::sites::on_alloc(new, size),
            Event::Dealloc(size) => free(old, size),
            Event::Realloc { old: from, new: to } => {
                // The old block is gone once realloc succeeded: only its address is looked up.
                free(old, from);
                crate::sites::on_alloc(new, to);
            }
        }
    }
    #[cfg(not(feature = "sites"))]
    let _ = (event, old, new, in_session);
}

/// Lists the calling thread in the registry (its first allocation, or a retry after finding
/// the registry full) and returns its new `watch` word. Takes the registry's lock; allocates
/// nothing through the global allocator.
fn list_this_thread(thread: &ThreadState, watch: u8) -> u8 {
    // Load first: storing every time would write a line every thread reads.
    if !INSTALLED.load(Relaxed) {
        INSTALLED.store(true, Relaxed);
    }
    // The exit hook is armed before listing: a listed thread's counters live in memory freed
    // after it exits, so it must always be unlisted first.
    if watch & NEW != 0 && !thread_exit::watch(thread as *const ThreadState as *const ()) {
        thread.watch.fetch_or(NO_EXIT_HOOK, Relaxed);
        thread.watch.fetch_and(!NEW, Relaxed);
        return thread.watch.load(Relaxed);
    }
    let moved_from_overflow = (watch & UNLISTED != 0).then(|| thread.counters.read());
    let entry = Entry {
        counters: &thread.counters,
        watch: &thread.watch,
    };
    // SAFETY: the counters and watch word live in this thread's thread-local until the thread
    // exits, and the exit hook armed above unlists them before that (`on_thread_exit`).
    let listed = unsafe {
        registry::list(entry, moved_from_overflow, || {
            // Under the registry lock, like `watch_all`: a process-scope probe that starts now
            // either sees this entry or is seen here.
            if process::running() {
                thread.watch.fetch_or(WATCH_PROCESS, Relaxed);
            }
            // Likewise for a sites session (see `site_watch::set` for why under this lock).
            if SITES_WATCHED.load(Relaxed) {
                thread.watch.fetch_or(WATCH_SITES, Relaxed);
            }
            thread.watch.fetch_and(!(NEW | UNLISTED), Relaxed);
        })
    };
    match listed {
        Some(index) => thread.index.set(index),
        None => {
            thread.watch.fetch_or(UNLISTED, Relaxed);
            thread.watch.fetch_and(!NEW, Relaxed);
        }
    }
    thread.watch.load(Relaxed)
}

/// Adds `event` to the thread's current group (and the groups it is nested in) and to the
/// running process-scope probe, whichever apply.
#[inline(always)]
fn record_watched(thread: &ThreadState, event: Event) {
    let mut group = thread.group.get();
    while !group.is_null() {
        // SAFETY: a current group is kept alive by the `Entered` guard that installed it, and
        // each group keeps its parent alive through an `Arc`.
        let g = unsafe { &*group };
        g.record(event);
        group = g.parent_ptr();
    }
    if process::running_relaxed() && !thread.paused.get() {
        process::record(|group| group.record(event));
    }
}

/// Called on the exiting thread by the pthread key destructor: moves the thread's counts into
/// the exited threads' total and routes its later allocations to the overflow counters.
fn on_thread_exit() {
    // SAFETY: see `this_thread`; the exit hook runs on the exiting thread itself.
    let thread = unsafe { &*this_thread() };
    let watch = thread.watch.load(Relaxed);
    if watch & EXITED != 0 {
        return;
    }
    let mark_exited = || {
        thread.watch.fetch_or(EXITED, Relaxed);
    };
    if watch & (NEW | UNLISTED | NO_EXIT_HOOK) == 0 {
        registry::unlist(thread.index.replace(usize::MAX), mark_exited);
    } else {
        // Not listed: its counts are in the overflow counters already.
        mark_exited();
    }
}

pub(crate) fn current_group() -> *const Group {
    THREAD.with(|t| t.group.get())
}

/// Makes `group` current on this thread and returns the previous one.
///
/// The thread-local owns one strong count of its current group (`Arc::into_raw`), so the hot
/// path can never see a freed group, whatever order guards are dropped in, or if one is leaked.
pub(crate) fn set_current_group(group: Option<Arc<Group>>) -> Option<Arc<Group>> {
    let new = group.map_or(std::ptr::null(), Arc::into_raw);
    THREAD.with(|t| {
        if new.is_null() {
            t.watch.fetch_and(!WATCH_GROUP, Relaxed);
        } else {
            t.watch.fetch_or(WATCH_GROUP, Relaxed);
        }
        let old = t.group.replace(new);
        // SAFETY: a non-null current pointer came from `Arc::into_raw` above and its count is
        // owned by the thread-local, which hands it back here exactly once.
        (!old.is_null()).then(|| unsafe { Arc::from_raw(old) })
    })
}

/// Runs `f` with this thread's allocations kept out of every probe (thread totals still count
/// them: those are the process's true totals). Used for memprobe's own bookkeeping.
pub(crate) fn without_counting<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Option<Arc<Group>>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let detached = set_current_group(self.0.take().flatten());
            debug_assert!(detached.is_none());
            THREAD.with(|t| t.paused.set(self.1));
        }
    }
    let paused = THREAD.with(|t| t.paused.replace(true));
    let _restore = Restore(Some(set_current_group(None)), paused);
    f()
}

/// Starts counting into [`PROCESS_GROUP`]; the caller holds the process-scope lock.
pub(crate) fn process_probe_begin() {
    process::begin();
    registry::watch_all(WATCH_PROCESS, true);
}

/// Stops counting into [`PROCESS_GROUP`]; once this returns, no allocator call adds to it until
/// the next begin. Ends the running probe exactly once: a second call (which a caller must not
/// make) changes nothing.
pub(crate) fn process_probe_end() {
    if process::end() {
        registry::watch_all(WATCH_PROCESS, false);
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees carry over. The counting around it never allocates through the global allocator
// and cannot panic (wrapping arithmetic throughout); the locks its cold path may take are listed
// in the module docs and are never held across an allocation.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let event = Event::Alloc(layout.size());
        if count_ahead(event) {
            // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
            let ptr = unsafe { self.inner.alloc(layout) };
            if ptr.is_null() {
                take_back(event);
            }
            ptr
        } else {
            // SAFETY: as above.
            let ptr = unsafe { self.inner.alloc(layout) };
            if !ptr.is_null() {
                record(event, std::ptr::null_mut(), ptr);
            }
            ptr
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let event = Event::Alloc(layout.size());
        if count_ahead(event) {
            // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract, which we pass
            // on.
            let ptr = unsafe { self.inner.alloc_zeroed(layout) };
            if ptr.is_null() {
                take_back(event);
            }
            ptr
        } else {
            // SAFETY: as above.
            let ptr = unsafe { self.inner.alloc_zeroed(layout) };
            if !ptr.is_null() {
                record(event, std::ptr::null_mut(), ptr);
            }
            ptr
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // A free cannot fail: count it first, like an allocation on the fast path.
        record(Event::Dealloc(layout.size()), ptr, std::ptr::null_mut());
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract, which we pass on.
        unsafe { self.inner.dealloc(ptr, layout) };
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let event = Event::Realloc {
            old: layout.size(),
            new: new_size,
        };
        if count_ahead(event) {
            // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
            let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
            if new_ptr.is_null() {
                take_back(event);
            }
            new_ptr
        } else {
            // SAFETY: as above.
            let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
            if !new_ptr.is_null() {
                record(event, ptr, new_ptr);
            }
            new_ptr
        }
    }
}

/// On the fast path, counts `event` before the inner allocator runs and returns `true`: the
/// counting then overlaps the allocator's own work instead of waiting for its result. A call
/// that fails is taken back by [`take_back`]; between the two, a concurrent sum could see it.
// PERF: the callers branch on the result around two copies of the inner call, so that no flag
// has to survive the call in a callee-saved register.
#[inline(always)]
fn count_ahead(event: Event) -> bool {
    // SAFETY: see `this_thread`; used only on this thread, within this call.
    let thread = unsafe { &*this_thread() };
    let ahead = thread.watch.load(Relaxed) == 0;
    if ahead {
        event.count(&SingleWriter(&thread.counters));
    }
    ahead
}

#[inline(always)]
fn take_back(event: Event) {
    let (kind, a, b) = split(event);
    uncount_cold(kind, a, b);
}

/// Takes back an event counted ahead for a call that failed (returned null).
#[cold]
#[inline(never)]
fn uncount_cold(kind: u8, a: usize, b: usize) {
    // SAFETY: see `this_thread`.
    let thread = unsafe { &*this_thread() };
    join(kind, a, b).uncount(&SingleWriter(&thread.counters));
}
