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
//! which no code allocating through the hooked allocator holds. Opt-in, the walk follows frame
//! pointers instead (`frame_pointers` below): no lock, no call out, two loads per frame.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};

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
    if table::may_be_live(ptr) {
        free_sampled(ptr);
    }
}

/// The deallocation hook for an allocator that calls it only while a session may run (the
/// counting allocator's sites lane): the table's filter first, the session checked only for the
/// rare free that passes it.
#[inline(always)]
pub(crate) fn on_dealloc_in_session(ptr: *mut u8) {
    if table::may_be_live(ptr) {
        free_sampled(ptr);
    }
}

/// Marks `ptr`'s sample freed while a session runs (a free after it stopped leaves the table as
/// the profile read it).
#[cold]
#[inline(never)]
fn free_sampled(ptr: *mut u8) {
    if EPOCH.load(Relaxed) != 0 {
        table::free(ptr);
    }
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
    let depth = match FRAME_POINTERS.load(Relaxed) {
        true => frame_pointers::walk(&mut ips).unwrap_or_else(|| dwarf_walk(&mut ips)),
        false => dwarf_walk(&mut ips),
    };
    table::insert(ptr, size, &ips[..depth]);
    WRITERS.fetch_sub(1, Release);
}

/// Walks this thread's stack with the system's DWARF unwinder into `ips`; returns the depth.
#[inline(always)]
fn dwarf_walk(ips: &mut [usize; DEPTH]) -> usize {
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
    #[cfg(not(unix))]
    let _ = ips;
    depth
}

/// Whether captures walk frame pointers (set per session by [`start`]).
static FRAME_POINTERS: AtomicBool = AtomicBool::new(false);

/// Whether the running (or last) session walks frame pointers.
pub(crate) fn frame_pointer_walk() -> bool {
    FRAME_POINTERS.load(Relaxed)
}

/// The environment variable that selects the stack walk: `frame-pointers` (or `fp`) for the
/// frame-pointer walk, anything else (or unset) for the DWARF unwinder.
pub(crate) const UNWIND_ENV: &str = "MEMPROBE_SITES_UNWIND";

/// Reads [`UNWIND_ENV`] and, when it asks for frame pointers, checks once per process that this
/// build keeps them (see [`frame_pointers::usable`]). Allocates (the variable's value): called
/// by [`start`], never by a hook.
fn want_frame_pointers() -> bool {
    let asked = std::env::var_os(UNWIND_ENV)
        .is_some_and(|v| v == "frame-pointers" || v == "fp" || v == "frame_pointers");
    asked && frame_pointers::usable()
}

/// Starts sampling with `mean_bytes` (0 = every allocation) into an emptied table. Returns the
/// new epoch. The caller guarantees no other session runs.
pub(crate) fn start(mean_bytes: u64) -> u64 {
    static SESSIONS: AtomicU64 = AtomicU64::new(0);
    wait_for_writers();
    table::reset();
    MEAN.store(mean_bytes, Relaxed);
    FRAME_POINTERS.store(want_frame_pointers(), Relaxed);
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

/// The opt-in frame-pointer walk (`MEMPROBE_SITES_UNWIND=frame-pointers`, in a build with
/// `-C force-frame-pointers=yes`): tens of nanoseconds per sample where the DWARF unwinder takes
/// microseconds.
///
/// It never reads outside the thread's stack. Every step is bounded: a frame pointer must be
/// aligned, strictly above the previous one (so the walk ends), at most [`MAX_STACK`] above the
/// current stack pointer, and its two words below the stack's top, known without allocating:
/// on glibc the main thread's stack ends above `__libc_stack_end`, and every other thread's
/// static TLS (where this module's thread-local lives) sits at the top of its own stack mapping,
/// above every frame. A thread for which neither bound holds, or a walk that breaks before it
/// left memprobe's and std's allocation plumbing, falls back to the DWARF unwinder; a chain that
/// breaks later (a caller built without frame pointers) ends the stack there. Elsewhere (other
/// targets or libcs) the walk is never used.
mod frame_pointers {
    use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

    use super::DEPTH;

    /// The largest distance from the stack pointer at which a frame is believed: far beyond any
    /// default thread stack (8 MiB main, 2 MiB spawned).
    pub(super) const MAX_STACK: usize = 256 << 20;
    /// A walk shorter than this is refused (falls back to DWARF): the allocation plumbing alone
    /// (capture, the sampler, the hooks, `__rust_alloc`, `alloc::alloc`) is deeper.
    const MIN_FRAMES: usize = 6;

    /// This thread's stack pointer and frame pointer.
    #[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
    #[inline(always)]
    fn registers() -> Option<(usize, usize)> {
        let (sp, fp): (usize, usize);
        // SAFETY: copies two registers; no memory access, no stack use, flags kept.
        unsafe {
            std::arch::asm!("mov {}, rsp", "mov {}, rbp", out(reg) sp, out(reg) fp,
                options(nomem, nostack, preserves_flags));
        }
        Some((sp, fp))
    }

    #[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "aarch64"))]
    #[inline(always)]
    fn registers() -> Option<(usize, usize)> {
        let (sp, fp): (usize, usize);
        // SAFETY: copies two registers; no memory access, no stack use, flags kept.
        unsafe {
            std::arch::asm!("mov {}, sp", "mov {}, x29", out(reg) sp, out(reg) fp,
                options(nomem, nostack, preserves_flags));
        }
        Some((sp, fp))
    }

    #[cfg(not(all(
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    #[inline(always)]
    fn registers() -> Option<(usize, usize)> {
        None
    }

    /// The top of this thread's stack (exclusive), known without allocating, or `None`.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[inline(always)]
    fn stack_top(sp: usize) -> Option<usize> {
        unsafe extern "C" {
            /// glibc (ld.so): near the top of the main thread's stack, set before `main`.
            static __libc_stack_end: *const u8;
        }
        // glibc places a spawned thread's TCB and static TLS at the top of its stack mapping
        // (also for user-supplied stacks): this thread-local's address is above every frame.
        // Asked first: a spawned thread's stack may lie less than `MAX_STACK` below the main
        // thread's (mmap's base is only ~128 MiB + a random gap below it), and the main stack's
        // end is then no bound for it. The main thread's static TLS is below its stack.
        let tls = super::SAMPLER.with(|t| t as *const super::ThreadSampler as usize);
        if sp < tls && tls - sp <= MAX_STACK {
            return Some(tls);
        }
        // SAFETY: a pointer-sized static that ld.so writes once before any Rust code runs.
        let main_end = unsafe { __libc_stack_end } as usize;
        (sp < main_end && main_end - sp <= MAX_STACK).then_some(main_end)
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    #[inline(always)]
    fn stack_top(_sp: usize) -> Option<usize> {
        None
    }

    /// Walks the frame-pointer chain into `ips` (return addresses, innermost first) and returns
    /// the depth, or `None` when the walk is too short to be trusted. The chain ends at a null
    /// frame pointer, or where a frame pointer leaves the stack: at the outer frames of the C
    /// library (`__libc_start_call_main`, `start_thread`), built without frame pointers, which
    /// is where every walk from Rust code ends. Refusing such walks would send every sample to
    /// DWARF (measured: 2.2 µs per sample instead of 47 ns); that the program's own code keeps
    /// frame pointers is checked once per process ([`usable`]).
    #[inline(never)]
    pub(super) fn walk(ips: &mut [usize; DEPTH]) -> Option<usize> {
        let (depth, ended) = chain(ips)?;
        (ended || depth >= MIN_FRAMES).then_some(depth)
    }

    /// The bounded walk: `(depth, whether the chain ended normally)`, or `None` when this
    /// thread's stack bounds are unknown.
    #[inline(always)]
    fn chain(ips: &mut [usize; DEPTH]) -> Option<(usize, bool)> {
        let (sp, mut fp) = registers()?;
        let top = stack_top(sp)?;
        let word = std::mem::size_of::<usize>();
        let mut lowest = sp;
        let mut depth = 0;
        while depth < DEPTH {
            let valid = fp % (2 * word) == 0
                && fp >= lowest
                && fp - sp <= MAX_STACK
                && fp.checked_add(2 * word).is_some_and(|end| end <= top);
            if !valid {
                // The outermost frame ends the chain with a null frame pointer.
                return Some((depth, fp == 0 && depth > 0));
            }
            // SAFETY: `[fp, fp + 2 words)` lies between this thread's stack pointer and its
            // stack's top (checked above), memory mapped for this thread and not written by
            // anyone else while this frame's callees run; aligned for `usize`.
            let (next, ret) = unsafe {
                (
                    std::ptr::read(fp as *const usize),
                    std::ptr::read((fp + word) as *const usize),
                )
            };
            if ret == 0 {
                return Some((depth, depth > 0));
            }
            ips[depth] = ret;
            depth += 1;
            lowest = fp + 2 * word; // strictly increasing from here
            fp = next;
        }
        Some((depth, true))
    }

    /// Whether this build keeps frame pointers, checked once per process: a frame-pointer walk
    /// and a DWARF walk from the same function must agree on the callers' return addresses.
    /// Without `-C force-frame-pointers=yes` the frame-pointer register is a general one in
    /// optimised code, and the walks disagree.
    pub(super) fn usable() -> bool {
        static STATE: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 yes, 2 no
        match STATE.load(Relaxed) {
            1 => true,
            2 => false,
            _ => {
                let ok = from_known_caller();
                STATE.store(if ok { 1 } else { 2 }, Relaxed);
                ok
            }
        }
    }

    /// Calls [`agree`] from a known place: the chain must start at a return address inside this
    /// function.
    #[inline(never)]
    fn from_known_caller() -> bool {
        std::hint::black_box(agree(from_known_caller as fn() -> bool as usize))
    }

    /// Whether the frame-pointer chain walked from here starts at this function's real caller
    /// (`caller`, the start of its code) and then lists the same return addresses as a DWARF
    /// walk. Without frame pointers the register holds whatever an outer function left in it,
    /// often an outer frame of code that has them (the standard library's), and a chain from
    /// there agrees with DWARF on the frames it lists while skipping every frame between: so its
    /// first entries must be in `caller`. (Debug builds do not keep frame pointers either: Rust
    /// omits them unless `-C force-frame-pointers=yes`, whatever the optimisation level.)
    #[inline(never)]
    fn agree(caller: usize) -> bool {
        let mut fp = [0usize; DEPTH];
        let mut dwarf = [0usize; DEPTH];
        let Some((fp_depth, _)) = chain(&mut fp) else {
            return false;
        };
        if fp_depth < 4 {
            return false;
        }
        // A return address within the caller's first 256 bytes (it is a few instructions long).
        let in_caller = |ip: usize| ip > caller && ip - caller < 256;
        if !fp[..2].iter().any(|&ip| in_caller(ip)) {
            return false;
        }
        let dwarf_depth = super::dwarf_walk(&mut dwarf);
        // The DWARF walk starts inside the unwinder, and its frame in this function has another
        // return address (the other call); from this function's caller on, both walks must
        // list the same return addresses (the DWARF walk may go deeper).
        let callers = &fp[1..fp_depth];
        let Some(start) = dwarf[..dwarf_depth].iter().position(|&ip| ip == callers[0]) else {
            return false;
        };
        let common = (dwarf_depth - start).min(callers.len()).min(4);
        common >= 3 && dwarf[start..start + common] == callers[..common]
    }
}
