//! The sampling decision and the stack capture: a per-thread byte countdown drawn from an
//! exponential (geometric in bytes) distribution of configurable mean, and, when an allocation
//! crosses it, the capture of the allocation's return addresses into a fixed-size array handed to
//! the [table](super::table).
//!
//! # Implementation
//!
//! Each thread keeps its countdown, its PRNG (xorshift64*) and a re-entrancy flag in one
//! `const`-initialised thread-local with no destructor: access is a plain TLS access, usable at
//! any point of the thread's life, and never allocates. Sampling is switched by a global `EPOCH`
//! (0 = off, otherwise the session's number):
//!
//! ```text
//!   on_alloc ─▶ EPOCH == 0 ? ─yes─▶ return                                   (off: one load)
//!                           └─no──▶ countdown -= size; countdown > 0 and epoch current ?
//!                                     ─yes─▶ return                          (unsampled)
//!                                     └─no──▶ cold: new epoch → fresh countdown; else sample:
//!                                             guard on, capture ≤ DEPTH return addresses,
//!                                             table insert, countdown = next draw, guard off
//! ```
//!
//! Sampling is a Poisson process over allocated bytes: an allocation of `s` bytes is sampled with
//! probability `1 - exp(-s / mean)`, which `profile.rs` inverts to unbiased estimates. A fresh
//! draw after each sample is exact because the exponential distribution is memoryless. In exact
//! mode (mean 0) every draw is 0, so every allocation is sampled.
//!
//! Stopping a session waits for captures in flight (`WRITERS`, a Dekker-style handshake with
//! `EPOCH` in sequentially consistent order), so the table is never reset under a writer. The
//! stack walk is `backtrace::trace_unsynchronized`: on unix `_Unwind_Backtrace`, which never
//! calls Rust's global allocator; it may take the unwinder's and the dynamic loader's locks,
//! which no code allocating through the hooked allocator holds.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

use super::table::{self, DEPTH};

/// The default mean sampling interval: 512 KiB, as tcmalloc, Go and jemalloc use.
pub const DEFAULT_MEAN_BYTES: u64 = 512 * 1024;

/// 0 while no session runs; otherwise the running session's number.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// The running session's mean interval in bytes (0 = every allocation).
static MEAN: AtomicU64 = AtomicU64::new(DEFAULT_MEAN_BYTES);
/// Captures in flight.
static WRITERS: AtomicUsize = AtomicUsize::new(0);
/// Distinct seeds for threads that start sampling at the same moment.
static SEEDS: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);

struct ThreadSampler {
    /// Bytes left before the next sample; sampled when it reaches 0 or below.
    countdown: Cell<i64>,
    /// The session the countdown was drawn for.
    epoch: Cell<u64>,
    /// xorshift64* state; 0 until the thread's first draw.
    rng: Cell<u64>,
    /// Set while this thread captures or collects: its allocations then are not sampled.
    busy: Cell<bool>,
}

thread_local! {
    static SAMPLER: ThreadSampler = const {
        ThreadSampler {
            countdown: Cell::new(0),
            epoch: Cell::new(0),
            rng: Cell::new(0),
            busy: Cell::new(false),
        }
    };
}

/// The allocation hook (see the [module contract](super#the-allocators-contract)).
#[inline(always)]
pub(crate) fn on_alloc(ptr: *mut u8, size: usize) {
    let epoch = EPOCH.load(Relaxed);
    if epoch == 0 {
        return;
    }
    SAMPLER.with(|t| {
        let left = t.countdown.get().wrapping_sub(size as i64);
        t.countdown.set(left);
        if left <= 0 || t.epoch.get() != epoch {
            t.cold(ptr, size, epoch);
        }
    });
}

/// The deallocation hook (see the [module contract](super#the-allocators-contract)).
#[inline(always)]
pub(crate) fn on_dealloc(ptr: *mut u8) {
    if EPOCH.load(Relaxed) == 0 || !table::has_live() {
        return;
    }
    table::free(ptr);
}

impl ThreadSampler {
    #[cold]
    #[inline(never)]
    fn cold(&self, ptr: *mut u8, size: usize, epoch: u64) {
        if self.busy.get() {
            return;
        }
        if self.epoch.get() != epoch {
            // First allocation of this thread in this session: the old countdown belongs to
            // another mean, so this allocation is judged against a fresh draw. The fence pairs
            // with `start`'s store of EPOCH, so the draw reads the new session's MEAN.
            std::sync::atomic::fence(Acquire);
            self.epoch.set(epoch);
            let left = self.draw().wrapping_sub(size as i64);
            self.countdown.set(left);
            if left > 0 {
                return;
            }
        }
        self.busy.set(true);
        self.countdown.set(self.draw());
        capture(ptr, size, epoch);
        self.busy.set(false);
    }

    /// The next interval in bytes: exponential with the session's mean, or 0 in exact mode.
    fn draw(&self) -> i64 {
        let mean = MEAN.load(Relaxed);
        if mean == 0 {
            return 0;
        }
        let mut x = self.rng.get();
        if x == 0 {
            x = splitmix64(
                SEEDS.fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed) ^ (self as *const _ as u64),
            );
            x |= 1;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        // Uniform in (0, 1]: never ln(0).
        let u = (bits as f64 + 1.0) * (1.0 / (1u64 << 53) as f64);
        let interval = -u.ln() * mean as f64;
        // At least 1, so a countdown of 0 always means "due".
        (interval as i64).max(1)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Records the return addresses of the current allocation into a stack array and stores them.
#[inline(never)]
fn capture(ptr: *mut u8, size: usize, epoch: u64) {
    WRITERS.fetch_add(1, SeqCst);
    if EPOCH.load(SeqCst) != epoch {
        // The session stopped (and may have reset the table) since the hook looked.
        WRITERS.fetch_sub(1, Release);
        return;
    }
    let mut ips = [0usize; DEPTH];
    let mut depth = 0;
    #[cfg(unix)]
    {
        let mut record = |frame: &backtrace::Frame| {
            ips[depth] = frame.ip() as usize;
            depth += 1;
            depth < DEPTH
        };
        // SAFETY: `trace_unsynchronized` is unsafe only because some unwinders (Windows'
        // dbghelp) are not thread-safe; it walks this thread's own stack. On unix it is
        // `_Unwind_Backtrace`, which is thread-safe and never calls Rust's global allocator;
        // elsewhere the sample is stored without frames.
        unsafe { backtrace::trace_unsynchronized(&mut record) };
    }
    table::insert(ptr, size, &ips[..depth]);
    WRITERS.fetch_sub(1, Release);
}

/// Starts sampling with `mean_bytes` (0 = every allocation) into an emptied table. Returns the
/// new epoch. The caller guarantees no other session runs.
pub(crate) fn start(mean_bytes: u64) -> u64 {
    static SESSIONS: AtomicU64 = AtomicU64::new(0);
    wait_for_writers();
    table::reset();
    MEAN.store(mean_bytes, Relaxed);
    let epoch = SESSIONS.fetch_add(1, Relaxed) + 1;
    EPOCH.store(epoch, SeqCst);
    epoch
}

/// Stops sampling and waits until no capture is in flight, so the table is stable.
pub(crate) fn stop() {
    EPOCH.store(0, SeqCst);
    wait_for_writers();
}

fn wait_for_writers() {
    while WRITERS.load(SeqCst) != 0 {
        std::hint::spin_loop();
    }
}

/// The mean interval of the current (or last) session, in bytes; 0 for exact mode.
pub(crate) fn mean_bytes() -> u64 {
    MEAN.load(Relaxed)
}

/// Runs `f` with this thread's allocations left out of the samples (the library's own
/// bookkeeping, e.g. symbolizing while a session runs).
pub(crate) fn unsampled<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            SAMPLER.with(|t| t.busy.set(self.0));
        }
    }
    let _reset = Reset(SAMPLER.with(|t| t.busy.replace(true)));
    f()
}
