//! The registry of live threads' counters: where process-wide sums find each thread's counters
//! (which live in the thread's own thread-local), and where a thread's counts go when it exits.
//!
//! # Implementation
//!
//! Each thread counts into [`Counters`] inside its own `const` thread-local: the hot path is a
//! thread-local access and plain adds, with no pointer to follow. To be summed, a thread lists a
//! pointer to those counters here on its first allocation (the lowest free entry, so the entries
//! read by a sum stay as few as the threads alive at once, however many a process creates). When
//! it exits, a pthread key destructor ([`super::thread_exit`]) adds its counters into
//! [`EXITED`] and removes the entry, in one step under the registry's lock, so a sum sees
//! each count exactly once: in a live thread's counters or in `EXITED`, never both, never
//! neither. Nothing is lost when threads come and go, and there is no merge step that could race.
//!
//! The lock is a tiny spin lock (yielding when contended), never taken on the hot path: only by a
//! thread's first allocation (and, rarely, a retry), its exit, process-wide sums and the start
//! and end of process-scope probes. Nothing allocates while holding it, so the allocator cannot
//! re-enter it. A lock and not a lock-free list because an exiting thread's counters live in
//! memory that is freed after its exit: a reader must never hold a pointer to them across that.
//!
//! Threads without an entry count into their own counters *and* into the shared [`OVERFLOW`]
//! counters (atomic read-modify-writes: slower, never lost): threads that found every entry
//! taken (they take one as soon as one is free, moving their counts from `OVERFLOW` to their
//! entry under the lock), and threads that cannot be told about their own exit (no pthreads,
//! or libc's key table full). Allocations made after a thread's exit hook ran (by destructors
//! that run later) count into `OVERFLOW` only.
//!
//! ```text
//!   first alloc ──lock: lowest free entry──▶ listed (plain adds in the thread-local)
//!                                              │ pthread key destructor
//!                                              ▼
//!                               lock: EXITED += counters, entry freed
//!   registry full, no exit hook, after exit ──▶ OVERFLOW (fetch_add)
//! ```

use memprobe_core::Count;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering::*};

/// Threads that can be listed at once. Beyond, threads count into [`OVERFLOW`] too.
/// 4096 × 8 B of pointers, resident only where touched.
pub(crate) const CAPACITY: usize = 4096;

/// A thread's cumulative counts, in its thread-local: memprobe-core's [`Totals`], written only by
/// that thread (through [`memprobe_core::SingleWriter`]: a relaxed load and store, a plain `add`,
/// no `lock` prefix) and read by others under the registry lock.
pub(crate) use memprobe_core::Totals as Counters;

/// Adds `values` (wrapping) to shared counters with atomic read-modify-writes.
fn add_shared(counters: &Counters, values: [u64; 5]) {
    for (count, v) in Count::ALL.into_iter().zip(values) {
        counters.counter(count).fetch_add(v, Relaxed);
    }
}

/// Subtracts `values` (wrapping) from shared counters with atomic read-modify-writes.
fn sub_shared(counters: &Counters, values: [u64; 5]) {
    for (count, v) in Count::ALL.into_iter().zip(values) {
        counters.counter(count).fetch_sub(v, Relaxed);
    }
}

/// What the registry needs of a thread: its counters and its `watch` word (see `super`).
pub(crate) struct Entry {
    pub(crate) counters: *const Counters,
    pub(crate) watch: *const AtomicU8,
}

/// Static memory per registry entry: the two pointers below.
pub(crate) const ENTRY_BYTES: usize = 2 * std::mem::size_of::<usize>();

/// Listed threads' counters (null = free). Only read or written under [`LOCK`].
static ENTRIES: [AtomicPtr<Counters>; CAPACITY] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; CAPACITY];
/// The `watch` word beside each entry's counters.
static WATCH: [AtomicPtr<AtomicU8>; CAPACITY] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; CAPACITY];

/// One past the highest entry ever used: sums read `ENTRIES[..HIGH_WATER]`. Under [`LOCK`].
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// Entries in use. Written under [`LOCK`]; read without it as a hint.
static IN_USE: AtomicUsize = AtomicUsize::new(0);

/// Counts of exited threads, added when they exit. Under [`LOCK`].
static EXITED: Counters = Counters::new();

/// Counts of threads without an entry (see the module docs). Atomic read-modify-writes.
pub(crate) static OVERFLOW: Counters = Counters::new();

static LOCK: AtomicBool = AtomicBool::new(false);

/// Holds the registry lock until dropped.
struct Locked(());

fn lock() -> Locked {
    while LOCK
        .compare_exchange_weak(false, true, Acquire, Relaxed)
        .is_err()
    {
        // Held only for a few hundred nanoseconds at most (a sum over the listed entries).
        while LOCK.load(Relaxed) {
            std::thread::yield_now();
        }
    }
    Locked(())
}

impl Drop for Locked {
    fn drop(&mut self) {
        LOCK.store(false, Release);
    }
}

/// Lists a thread in the lowest free entry and returns its index, or `None` when every entry is
/// taken. `moved_from_overflow`: counts the thread so far also added to [`OVERFLOW`] (a thread
/// that found the registry full before), moved out of it in the same step. `on_listed` runs
/// under the lock once listed (the caller sets the watch bits that depend on probes).
///
/// # Safety
///
/// `entry`'s pointers must stay valid until [`unlist`] is called with the returned index.
pub(crate) unsafe fn list(
    entry: Entry,
    moved_from_overflow: Option<[u64; 5]>,
    on_listed: impl FnOnce(),
) -> Option<usize> {
    let _locked = lock();
    let index = ENTRIES.iter().position(|e| e.load(Relaxed).is_null())?;
    ENTRIES[index].store(entry.counters.cast_mut(), Relaxed);
    WATCH[index].store(entry.watch.cast_mut(), Relaxed);
    HIGH_WATER.fetch_max(index + 1, Relaxed);
    IN_USE.fetch_add(1, Relaxed);
    if let Some(counts) = moved_from_overflow {
        sub_shared(&OVERFLOW, counts);
    }
    on_listed();
    Some(index)
}

/// Removes entry `index`, adding its counters to the exited threads' (one step for readers).
/// `on_unlisted` runs under the lock (the caller routes later allocations elsewhere).
pub(crate) fn unlist(index: usize, on_unlisted: impl FnOnce()) {
    let _locked = lock();
    let counters = ENTRIES[index].swap(std::ptr::null_mut(), Relaxed);
    WATCH[index].store(std::ptr::null_mut(), Relaxed);
    // SAFETY: a non-null entry points to a live thread's counters (the contract of `list`); the
    // thread is the caller, still running its exit hook.
    if let Some(counters) = unsafe { counters.as_ref() } {
        add_shared(&EXITED, counters.read());
        IN_USE.fetch_sub(1, Relaxed);
    }
    on_unlisted();
}

/// Whether an entry may be free: a hint for threads that found the registry full.
pub(crate) fn may_have_free() -> bool {
    IN_USE.load(Relaxed) < CAPACITY
}

/// Sets or clears `bit` in the `watch` word of every listed thread. A stale bit only sends a
/// thread through the cold path, which checks the real state; a missing one would lose counts,
/// and listing under the same lock rules that out.
pub(crate) fn watch_all(bit: u8, on: bool) {
    let _locked = lock();
    for watch in &WATCH[..HIGH_WATER.load(Relaxed)] {
        // SAFETY: a non-null pointer is a listed thread's watch word, valid until `unlist`,
        // which cannot run while we hold the lock.
        if let Some(watch) = unsafe { watch.load(Relaxed).as_ref() } {
            if on {
                watch.fetch_or(bit, Relaxed);
            } else {
                watch.fetch_and(!bit, Relaxed);
            }
        }
    }
}

/// Cumulative process-wide sums: listed threads, exited threads and the overflow counters.
pub(crate) fn sum() -> [u64; 5] {
    let _locked = lock();
    let mut total = EXITED.read();
    let mut add = |values: [u64; 5]| {
        for (t, v) in total.iter_mut().zip(values) {
            *t = t.wrapping_add(v);
        }
    };
    add(OVERFLOW.read());
    for entry in &ENTRIES[..HIGH_WATER.load(Relaxed)] {
        // SAFETY: as in `watch_all`: listed counters stay valid while we hold the lock.
        if let Some(counters) = unsafe { entry.load(Relaxed).as_ref() } {
            add(counters.read());
        }
    }
    total
}

/// `(entries in use, high-water mark)`.
pub(crate) fn usage() -> (usize, usize) {
    let _locked = lock();
    (IN_USE.load(Relaxed), HIGH_WATER.load(Relaxed))
}
