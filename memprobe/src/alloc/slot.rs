//! Per-thread counter slots: a static slab that every thread claims one slot of on its first
//! allocation, so the hot path writes only to memory no other thread writes.
//!
//! # Implementation
//!
//! A slot is claimed with one compare-and-swap on the thread's first allocation and kept in a
//! `const`-initialised thread-local pointer with no destructor, so reading it is a plain TLS load
//! and never fails, not even while the thread's other thread-locals are being destroyed. The owner
//! updates its counters with a relaxed load and store (a plain `add` on x86-64 and AArch64, no
//! `lock` prefix): a slot has one writer at a time, so nothing is lost, and readers summing the
//! slab see every update that happened before their read.
//!
//! Slots are cumulative and never cleared. When a thread exits, a pthread key destructor (which
//! glibc and macOS run after Rust's own thread-local destructors) hands the slot back; the next
//! thread that claims it keeps adding to the same counters. Process totals are the sum over the
//! slab plus the shared overflow slot, so they stay exact when threads come and go, with no merge
//! step that could race. A thread that allocates after its slot was handed back, or that finds the
//! slab full, counts into the overflow slot with atomic read-modify-writes: slower, never lost.
//!
//! ```text
//!   thread's first alloc ──claim (CAS)──▶ owns slot i ──pthread key dtor──▶ slot i free
//!                                         (plain adds)                       (counts kept)
//!   late allocs after the dtor, or slab full ──▶ overflow slot (fetch_add)
//! ```

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering::*};

/// Number of slots: threads alive at once that count without atomics. Beyond it threads share
/// the overflow slot. 4096 × 128 B = 512 KiB of zero pages, resident only where touched.
pub(crate) const SLOT_COUNT: usize = 4096;

/// One thread's cumulative counters.
// PERF: 128-byte alignment keeps two threads' slots off the same pair of cache lines (the
// adjacent-line prefetcher on x86 pulls lines in pairs), so owners never false-share.
#[repr(align(128))]
pub(crate) struct Slot {
    in_use: AtomicBool,
    /// Non-zero when the owner's allocations must also go to a probe: [`WATCH_GROUP`] (set by the
    /// owner when it enters an attribution group) and/or [`WATCH_PROCESS`] (set on every slot
    /// while a process-scope probe runs). The hot path reads it from the line it already writes.
    pub(crate) watch: AtomicU8,
    pub(crate) alloc_count: AtomicU64,
    pub(crate) realloc_count: AtomicU64,
    pub(crate) dealloc_count: AtomicU64,
    pub(crate) alloc_bytes: AtomicU64,
    pub(crate) freed_bytes: AtomicU64,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            in_use: AtomicBool::new(false),
            watch: AtomicU8::new(0),
            alloc_count: AtomicU64::new(0),
            realloc_count: AtomicU64::new(0),
            dealloc_count: AtomicU64::new(0),
            alloc_bytes: AtomicU64::new(0),
            freed_bytes: AtomicU64::new(0),
        }
    }
}

/// `watch` bit: the owner has a current attribution group.
pub(crate) const WATCH_GROUP: u8 = 1;
/// `watch` bit: a process-scope probe is running.
pub(crate) const WATCH_PROCESS: u8 = 2;

/// Adds `n` to a counter that only the calling thread writes.
#[inline(always)]
pub(crate) fn bump_owned(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// Adds `n` to a counter that several threads may write.
#[inline(always)]
pub(crate) fn bump_shared(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Relaxed);
}

static SLOTS: [Slot; SLOT_COUNT] = [const { Slot::new() }; SLOT_COUNT];

/// Counts of threads with no slot of their own (slab full, or allocating after their slot was
/// handed back during thread exit).
pub(crate) static OVERFLOW: Slot = Slot::new();

/// Slots owned right now: a thread that found the slab full retries only when this is below
/// [`SLOT_COUNT`].
static IN_USE: AtomicUsize = AtomicUsize::new(0);

/// One past the highest slot index ever claimed: readers sum `SLOTS[..HIGH_WATER]` only.
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// Claims the lowest free slot, or `None` when all are owned. Lowest, so that however many
/// threads a process creates over its life, sums read only as many slots as were alive at once.
#[cold]
pub(crate) fn claim() -> Option<&'static Slot> {
    for (index, slot) in SLOTS.iter().enumerate() {
        if !slot.in_use.load(Relaxed)
            && slot
                .in_use
                .compare_exchange(false, true, Acquire, Relaxed)
                .is_ok()
        {
            IN_USE.fetch_add(1, Relaxed);
            // Publish the slot before looking at the process flag: either `watch_all` (which
            // sets the flag, then reads HIGH_WATER) covers this slot, or this load sees the flag.
            HIGH_WATER.fetch_max(index + 1, SeqCst);
            if super::process_probe_running() {
                slot.watch.fetch_or(WATCH_PROCESS, Relaxed);
            }
            return Some(slot);
        }
    }
    None
}

/// Sets or clears `bit` in the `watch` word of every slot claimed so far. A stale bit only sends
/// a thread through the cold path, which checks the real state; a missing bit would lose counts,
/// and the ordering in `claim` rules that out.
pub(crate) fn watch_all(bit: u8, on: bool) {
    for slot in &SLOTS[..HIGH_WATER.load(SeqCst)] {
        if on {
            slot.watch.fetch_or(bit, Relaxed);
        } else {
            slot.watch.fetch_and(!bit, Relaxed);
        }
    }
}

/// Hands a slot back; its counts stay in the slab.
pub(crate) fn release(slot: &'static Slot) {
    // Release: the next owner's Acquire claim sees every count this thread wrote.
    slot.in_use.store(false, Release);
    IN_USE.fetch_sub(1, Relaxed);
}

/// Whether a slot may be free (a hint for threads that found the slab full).
pub(crate) fn may_have_free() -> bool {
    IN_USE.load(Relaxed) < SLOT_COUNT
}

/// Cumulative process-wide sums over every slot and the overflow slot.
pub(crate) fn sum() -> [u64; 5] {
    let mut total = read(&OVERFLOW);
    for slot in &SLOTS[..HIGH_WATER.load(Acquire)] {
        for (t, v) in total.iter_mut().zip(read(slot)) {
            *t = t.wrapping_add(v);
        }
    }
    total
}

/// `[alloc_count, realloc_count, dealloc_count, alloc_bytes, freed_bytes]` of one slot.
pub(crate) fn read(slot: &Slot) -> [u64; 5] {
    [
        slot.alloc_count.load(Relaxed),
        slot.realloc_count.load(Relaxed),
        slot.dealloc_count.load(Relaxed),
        slot.alloc_bytes.load(Relaxed),
        slot.freed_bytes.load(Relaxed),
    ]
}

/// `(slots owned now, high-water mark)`.
pub(crate) fn usage() -> (usize, usize) {
    let high_water = HIGH_WATER.load(Acquire);
    let in_use = SLOTS[..high_water]
        .iter()
        .filter(|slot| slot.in_use.load(Relaxed))
        .count();
    (in_use, high_water)
}
