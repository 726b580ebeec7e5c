//! The store of sampled allocations: a fixed-capacity array of records claimed with one atomic
//! index, and a small open-addressing index of atomics from address to record, through which a
//! deallocation clears its record's live flag.
//!
//! # Implementation
//!
//! Everything is a `static` of atomics, zero-initialised (so it lives in `.bss` and costs
//! resident memory only for the pages a session touches): no lock, no allocation, no syscall.
//!
//! ```text
//!   insert: NEXT.fetch_add(1) ─▶ slot i (< CAPACITY) ─▶ write size, frames ─▶ state = LIVE
//!           └─▶ index: hash(ptr), linear probe to a free entry (empty or tombstone), CAS → ptr, value = i + 1
//!           └─▶ filter: PRESENT[hash'(ptr)] += 1
//!   free:   filter: PRESENT[hash'(ptr)] == 0 ─▶ return (almost every free)
//!           index: probe for ptr ─▶ CAS key ptr → TOMBSTONE ─▶ slot i state = FREED,
//!                  PRESENT[hash'(ptr)] -= 1
//! ```
//!
//! PERF: the filter is what keeps a free cheap while sampled blocks are live. Without it every
//! free probed the index (256 KiB of keys, so a cache miss) and walked past the tombstones that
//! freed samples leave, which only grow during a session. With it, a free reads one counter of an
//! 8 KiB array and goes on unless a live sampled block hashes to the same counter.
//!
//! When the array is full, a sample is dropped and counted in [`dropped`]: the hook never blocks
//! and never allocates. The index has twice as many entries as the array, so it holds every
//! insert at most half full and a probe always ends. An insert takes the first free entry of its
//! probe sequence, empty or a freed sample's tombstone: a look-up still finds every key, since it
//! stops only at an empty entry and a key sits before the first empty entry of its sequence.
//! A lookup for `ptr` can only match an entry whose key is `ptr`, which exists only while that
//! address is a live sampled allocation: a free racing a session restart cannot clear a record
//! of another allocation.

use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering::*};

/// How many sampled allocations one session keeps; later samples are dropped and counted.
pub const CAPACITY: usize = 16 * 1024;
/// How many return addresses a sampled allocation keeps, innermost first.
pub(crate) const DEPTH: usize = 48;

const INDEX_CAPACITY: usize = 2 * CAPACITY;
const EMPTY_KEY: usize = 0;
const TOMBSTONE: usize = 1;

const STATE_EMPTY: u8 = 0;
const STATE_LIVE: u8 = 1;
const STATE_FREED: u8 = 2;

// PERF: the frames lead, so a slot is 49 words and a capture writes contiguous memory.
struct Slot {
    ips: [AtomicUsize; DEPTH],
    size: AtomicUsize,
    depth: AtomicU8,
    state: AtomicU8,
}

#[allow(clippy::declare_interior_mutable_const)] // used only as an array-repeat initialiser
const EMPTY_SLOT: Slot = Slot {
    ips: [const { AtomicUsize::new(0) }; DEPTH],
    size: AtomicUsize::new(0),
    depth: AtomicU8::new(0),
    state: AtomicU8::new(STATE_EMPTY),
};

static SLOTS: [Slot; CAPACITY] = [EMPTY_SLOT; CAPACITY];
static NEXT: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static KEYS: [AtomicUsize; INDEX_CAPACITY] =
    [const { AtomicUsize::new(EMPTY_KEY) }; INDEX_CAPACITY];
static VALUES: [AtomicU32; INDEX_CAPACITY] = [const { AtomicU32::new(0) }; INDEX_CAPACITY];

/// Counters of the live sampled blocks per [`filter_of`] bucket: a free whose counter is 0 is
/// not of a sampled block. At most [`CAPACITY`] inserts per session, so a `u16` cannot overflow.
const FILTER: usize = 4096;
static PRESENT: [AtomicU16; FILTER] = [const { AtomicU16::new(0) }; FILTER];
const _: () = assert!(CAPACITY <= u16::MAX as usize);

/// One sampled allocation as read back from the table.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// Requested size in bytes.
    pub(crate) size: usize,
    /// Return addresses, innermost first.
    pub(crate) ips: Vec<usize>,
    /// Not freed since it was sampled (while sampling was active).
    pub(crate) live: bool,
}

#[inline]
fn slot_of_hash(ptr: usize) -> usize {
    // Fibonacci hashing: the low bits of an address are alignment, the high bits vary.
    (ptr.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> 17) & (INDEX_CAPACITY - 1)
}

/// The filter bucket of an address: the top bits of the same multiplicative hash, independent
/// of the index's bits.
#[inline]
fn filter_of(ptr: usize) -> usize {
    ptr.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> (usize::BITS - FILTER.trailing_zeros())
}

/// Stores a sampled allocation. No lock, no allocation; drops (and counts) the sample when full.
pub(crate) fn insert(ptr: *mut u8, size: usize, ips: &[usize]) {
    let index = NEXT.fetch_add(1, Relaxed);
    if index >= CAPACITY {
        // Keep NEXT from wrapping however long a full session runs.
        NEXT.store(CAPACITY, Relaxed);
        DROPPED.fetch_add(1, Relaxed);
        return;
    }
    let slot = &SLOTS[index];
    let depth = ips.len().min(DEPTH);
    for (dst, &ip) in slot.ips.iter().zip(&ips[..depth]) {
        dst.store(ip, Relaxed);
    }
    slot.size.store(size, Relaxed);
    slot.depth.store(depth as u8, Relaxed);
    LIVE.fetch_add(1, Relaxed);
    slot.state.store(STATE_LIVE, Release);
    let key = ptr as usize;
    // Before the key: a free of this block (after this allocation returned, so after this
    // increment) must find the counter raised.
    PRESENT[filter_of(key)].fetch_add(1, Relaxed);
    let mut h = slot_of_hash(key);
    for _ in 0..INDEX_CAPACITY {
        // PERF: read before claiming: a locked compare-exchange per occupied entry passed made
        // the probe most of a sample's cost at the default rate (perf: 11.9% of the churn's time
        // in this loop). Only a free entry (empty, or a freed sample's tombstone) is claimed.
        let seen = KEYS[h].load(Relaxed);
        if (seen == EMPTY_KEY || seen == TOMBSTONE)
            && KEYS[h].compare_exchange(seen, key, AcqRel, Relaxed).is_ok()
        {
            VALUES[h].store(index as u32 + 1, Release);
            return;
        }
        h = (h + 1) & (INDEX_CAPACITY - 1);
    }
}

/// Whether any stored record is still live: the deallocation hook's early exit.
#[inline]
pub(crate) fn has_live() -> bool {
    LIVE.load(Relaxed) != 0
}

/// Whether `ptr` may be a live sampled allocation: `false` for almost every free (the filter's
/// counter for its address is 0), so the caller skips [`free`].
#[inline(always)]
pub(crate) fn may_be_live(ptr: *mut u8) -> bool {
    PRESENT[filter_of(ptr as usize)].load(Relaxed) != 0
}

/// Marks the record of `ptr` freed, if `ptr` is a live sampled allocation.
pub(crate) fn free(ptr: *mut u8) {
    let key = ptr as usize;
    let present = &PRESENT[filter_of(key)];
    if present.load(Relaxed) == 0 {
        return;
    }
    let mut h = slot_of_hash(key);
    for _ in 0..INDEX_CAPACITY {
        match KEYS[h].load(Acquire) {
            EMPTY_KEY => return,
            k if k == key => {
                // Read before the key is released: once it is a tombstone, an insert may take
                // the entry and write its own value (the value belongs to the key until then).
                let value = VALUES[h].load(Acquire) as usize;
                if KEYS[h]
                    .compare_exchange(key, TOMBSTONE, AcqRel, Relaxed)
                    .is_ok()
                {
                    if let Some(slot) = value.checked_sub(1).and_then(|i| SLOTS.get(i)) {
                        slot.state.store(STATE_FREED, Release);
                        LIVE.fetch_sub(1, Relaxed);
                    }
                    // Saturating: a free racing a reset must not wrap the counter (a counter
                    // left too high only costs needless look-ups until the next reset).
                    let _ = present.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
                }
                return;
            }
            _ => h = (h + 1) & (INDEX_CAPACITY - 1),
        }
    }
}

/// Empties the table. Called with no insert in flight (see `sampler::stop`).
pub(crate) fn reset() {
    let used = NEXT.load(Acquire).min(CAPACITY);
    for slot in &SLOTS[..used] {
        slot.state.store(STATE_EMPTY, Relaxed);
    }
    for (key, value) in KEYS.iter().zip(&VALUES) {
        key.store(EMPTY_KEY, Relaxed);
        value.store(0, Relaxed);
    }
    for counter in &PRESENT {
        counter.store(0, Relaxed);
    }
    DROPPED.store(0, Relaxed);
    LIVE.store(0, Relaxed);
    NEXT.store(0, Release);
}

/// Samples dropped because the table was full, since the last reset.
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Relaxed)
}

/// Copies out every stored record. Allocates: call it outside the allocator.
pub(crate) fn records() -> Vec<Record> {
    let used = NEXT.load(Acquire).min(CAPACITY);
    let mut out = Vec::with_capacity(used);
    for slot in &SLOTS[..used] {
        let state = slot.state.load(Acquire);
        if state == STATE_EMPTY {
            continue; // claimed, not yet written
        }
        let depth = slot.depth.load(Relaxed) as usize;
        out.push(Record {
            size: slot.size.load(Relaxed),
            ips: slot.ips[..depth]
                .iter()
                .map(|ip| ip.load(Relaxed))
                .collect(),
            live: state == STATE_LIVE,
        });
    }
    out
}
