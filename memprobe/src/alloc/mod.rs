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
//! The hot path touches a `const` thread-local (two pointers, no destructor), the thread's own
//! counter slot (see `slot.rs`: plain loads and stores, no atomic read-modify-write), and one
//! relaxed load of a process-wide flag. Only while a probe is running does it also update that
//! probe's shared group with atomic adds.
//!
//! ```text
//!   alloc ─▶ inner.alloc ─▶ slot (always; per thread, no sharing)
//!                        ─▶ group chain of this thread (while a thread-scope probe runs)
//!                        ─▶ process group (while a process-scope probe runs)
//! ```

mod attribution;
mod process;
mod slot;
mod thread_exit;

pub(crate) use attribution::Group;
pub use attribution::{Attribution, Entered, Scoped};

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::*};

use slot::Slot;

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

/// What a thread carries for the hot path. `const`-initialised and free of destructors, so
/// access is a plain TLS load that works at any point of the thread's life.
struct ThreadState {
    /// The slot this thread owns, or null: not claimed yet, handed back, or slab full.
    slot: Cell<*const Slot>,
    /// Set while the thread has no slot of its own and counts in the shared overflow slot:
    /// for good once its slot was handed back at exit (`exited`), else until a slot is free.
    shared: Cell<bool>,
    /// Set when the thread's slot was handed back at exit: it never claims one again.
    exited: Cell<bool>,
    /// The attribution group allocations count into, or null.
    group: Cell<*const Group>,
    /// Set while memprobe's own bookkeeping allocates (e.g. capturing a backtrace).
    paused: Cell<bool>,
    /// The slot's cumulative counts when this thread claimed it (slots are handed from exited
    /// threads to new ones): `thread_totals` subtracts them.
    base: Cell<[u64; 5]>,
}

thread_local! {
    static THREAD: ThreadState = const {
        ThreadState {
            slot: Cell::new(std::ptr::null()),
            shared: Cell::new(false),
            exited: Cell::new(false),
            group: Cell::new(std::ptr::null()),
            paused: Cell::new(false),
            base: Cell::new([0; 5]),
        }
    };
}

/// Set by the first counted allocation in the process.
static INSTALLED: AtomicBool = AtomicBool::new(false);

pub(crate) use process::GROUP as PROCESS_GROUP;

/// One allocator call, as counted. `Realloc` carries (old size, new size).
// PERF: the cold paths take this by value; at 24 bytes it would be spilled to the stack on every
// hot call, so they take `(kind, a, b)` in registers instead (see `Event::split`/`join`).
#[derive(Clone, Copy)]
enum Event {
    Alloc(u64),
    Dealloc(u64),
    Realloc(u64, u64),
}

impl Event {
    #[inline(always)]
    fn split(self) -> (u8, u64, u64) {
        match self {
            Event::Alloc(size) => (0, size, 0),
            Event::Dealloc(size) => (1, size, 0),
            Event::Realloc(old, new) => (2, old, new),
        }
    }

    #[inline(always)]
    fn join(kind: u8, a: u64, b: u64) -> Self {
        match kind {
            0 => Event::Alloc(a),
            1 => Event::Dealloc(a),
            _ => Event::Realloc(a, b),
        }
    }
}

/// This thread's state. The pointer stays valid for the whole life of the thread: the
/// thread-local is `const`-initialised and has no destructor, so it is never torn down early.
#[inline(always)]
fn this_thread() -> *const ThreadState {
    THREAD.with(|thread| thread as *const ThreadState)
}

// PERF: the common case (a thread with its own slot, no probe watching it) is one TLS load, two
// plain adds and one load of the slot's `watch` word, which sits on the cache line the adds
// already touched. Probes set `watch` (see `slot.rs`) to route the thread through the cold path;
// a thread without a slot always takes it. Everything else is out of line, so the inlined hook
// stays small enough for the compiler to keep the caller's registers.
#[inline(always)]
fn record(event: Event) {
    // SAFETY: see `this_thread`; used only on this thread, within this call.
    let thread = unsafe { &*this_thread() };
    let slot = thread.slot.get();
    if slot.is_null() {
        let (kind, a, b) = event.split();
        return record_slow(thread, kind, a, b);
    }
    // SAFETY: a non-null `slot` is a `&'static Slot` this thread owns (set in `record_slow`,
    // cleared in `on_thread_exit` before the slot is handed back).
    let slot = unsafe { &*slot };
    record_slot(slot, event, slot::bump_owned);
    if slot.watch.load(Relaxed) != 0 {
        let (kind, a, b) = event.split();
        record_watched_cold(thread, kind, a, b);
    }
}

#[cold]
#[inline(never)]
fn record_watched_cold(thread: &ThreadState, kind: u8, a: u64, b: u64) {
    record_watched(thread, Event::join(kind, a, b));
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
        record_group(g, event);
        group = g.parent_ptr();
    }
    if process::running_relaxed() && !thread.paused.get() {
        process::record(|group| record_group(group, event));
    }
}

#[inline(always)]
fn record_slot(slot: &Slot, event: Event, bump: fn(&std::sync::atomic::AtomicU64, u64)) {
    match event {
        Event::Alloc(size) => {
            bump(&slot.alloc_count, 1);
            bump(&slot.alloc_bytes, size);
        }
        Event::Dealloc(size) => {
            bump(&slot.dealloc_count, 1);
            bump(&slot.freed_bytes, size);
        }
        Event::Realloc(old, new) => {
            bump(&slot.realloc_count, 1);
            bump(&slot.alloc_bytes, new);
            bump(&slot.freed_bytes, old);
        }
    }
}

#[inline(always)]
fn record_group(group: &Group, event: Event) {
    match event {
        Event::Alloc(size) => group.record_alloc(size),
        Event::Dealloc(size) => group.record_dealloc(size),
        Event::Realloc(old, new) => group.record_realloc(old, new),
    }
}

/// First allocation of a thread (claim a slot), or a thread without a slot of its own.
#[cold]
#[inline(never)]
fn record_slow(thread: &ThreadState, kind: u8, a: u64, b: u64) {
    let event = Event::join(kind, a, b);
    // Load first: storing every time would write a line every thread reads.
    if !INSTALLED.load(Relaxed) {
        INSTALLED.store(true, Relaxed);
    }
    let mut counted = false;
    // A thread that found the slab full retries whenever a slot may be free; one whose slot was
    // handed back at exit never does.
    if !thread.exited.get() && (!thread.shared.get() || slot::may_have_free()) {
        if let Some(slot) = slot::claim() {
            // Without an exit notification (key table full) the thread keeps the slot for good.
            let _handed_back_at_exit = thread_exit::watch(slot);
            thread.base.set(slot::read(slot));
            thread.slot.set(slot);
            thread.shared.set(false);
            if !thread.group.get().is_null() {
                slot.watch.fetch_or(slot::WATCH_GROUP, Relaxed);
            }
            record_slot(slot, event, slot::bump_owned);
            counted = true;
        } else {
            thread.shared.set(true);
        }
    }
    if !counted {
        record_slot(&slot::OVERFLOW, event, slot::bump_shared);
    }
    record_watched(thread, event);
}

/// Called on the exiting thread by the pthread key destructor.
fn on_thread_exit(slot: &'static Slot) {
    // Ignore a late notification for a slot this thread no longer owns.
    let owned = THREAD.with(|t| {
        let owned = std::ptr::eq(t.slot.get(), slot);
        if owned {
            t.slot.set(std::ptr::null());
            t.shared.set(true);
            t.exited.set(true);
            slot.watch.fetch_and(!slot::WATCH_GROUP, Relaxed);
        }
        owned
    });
    if owned {
        slot::release(slot);
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
        let slot = t.slot.get();
        if !slot.is_null() {
            // SAFETY: a non-null slot pointer is a `&'static Slot` this thread owns.
            let watch = unsafe { &(*slot).watch };
            if new.is_null() {
                watch.fetch_and(!slot::WATCH_GROUP, Relaxed);
            } else {
                watch.fetch_or(slot::WATCH_GROUP, Relaxed);
            }
        }
        let old = t.group.replace(new);
        // SAFETY: a non-null current pointer came from `Arc::into_raw` above and its count is
        // owned by the thread-local, which hands it back here exactly once.
        (!old.is_null()).then(|| unsafe { Arc::from_raw(old) })
    })
}

/// Runs `f` with this thread's allocations kept out of every probe (slot totals still count
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
    slot::watch_all(slot::WATCH_PROCESS, true);
}

/// Stops counting into [`PROCESS_GROUP`]; once this returns, no allocator call adds to it until
/// the next begin. Ends the running probe exactly once: a second call (which a caller must not
/// make) changes nothing.
pub(crate) fn process_probe_end() {
    if process::end() {
        slot::watch_all(slot::WATCH_PROCESS, false);
    }
}

/// Whether a process-scope probe is running (read by `slot::claim`).
pub(crate) fn process_probe_running() -> bool {
    process::running()
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees carry over; the counting around it allocates nothing, takes no lock and cannot panic.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            record(Event::Alloc(layout.size() as u64));
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract, which we pass on.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(Event::Alloc(layout.size() as u64));
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract, which we pass on.
        unsafe { self.inner.dealloc(ptr, layout) };
        record(Event::Dealloc(layout.size() as u64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            record(Event::Realloc(layout.size() as u64, new_size as u64));
        }
        new_ptr
    }
}

/// Cumulative allocation counts since the process (or thread) started. Plain data: subtract two
/// of them with [`AllocTotals::since`].
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let totals = memprobe::process_totals()?;
/// assert!(totals.alloc_count > 0); // the runtime allocated before main
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct AllocTotals {
    /// Calls to `alloc` and `alloc_zeroed` that succeeded.
    pub alloc_count: u64,
    /// Calls to `realloc` that succeeded.
    pub realloc_count: u64,
    /// Calls to `dealloc`.
    pub dealloc_count: u64,
    /// Bytes requested by allocations plus the new sizes of reallocations.
    pub alloc_bytes: u64,
    /// Bytes freed by deallocations plus the old sizes of reallocations.
    pub freed_bytes: u64,
}

impl AllocTotals {
    fn from_array(
        [
            alloc_count,
            realloc_count,
            dealloc_count,
            alloc_bytes,
            freed_bytes,
        ]: [u64; 5],
    ) -> Self {
        AllocTotals {
            alloc_count,
            realloc_count,
            dealloc_count,
            alloc_bytes,
            freed_bytes,
        }
    }

    /// Live bytes: allocated minus freed, signed (a thread can free more than it allocated).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// assert!(memprobe::process_totals()?.live_bytes() > 0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn live_bytes(&self) -> i64 {
        signed_difference(self.alloc_bytes, self.freed_bytes)
    }

    /// The counts between `earlier` and `self` (both from the same source).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let before = memprobe::thread_totals()?;
    /// let v = std::hint::black_box(vec![0u8; 10]);
    /// let delta = memprobe::thread_totals()?.since(&before);
    /// assert_eq!((delta.alloc_count, delta.alloc_bytes), (1, 10));
    /// # drop(v);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn since(&self, earlier: &AllocTotals) -> AllocTotals {
        AllocTotals {
            alloc_count: self.alloc_count.wrapping_sub(earlier.alloc_count),
            realloc_count: self.realloc_count.wrapping_sub(earlier.realloc_count),
            dealloc_count: self.dealloc_count.wrapping_sub(earlier.dealloc_count),
            alloc_bytes: self.alloc_bytes.wrapping_sub(earlier.alloc_bytes),
            freed_bytes: self.freed_bytes.wrapping_sub(earlier.freed_bytes),
        }
    }
}

/// `a - b` as a signed figure, saturating at the `i64` range instead of wrapping.
pub(crate) fn signed_difference(a: u64, b: u64) -> i64 {
    let d = i128::from(a) - i128::from(b);
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `true` once the counting allocator has counted an allocation in this process. Makes one small
/// allocation itself, so it answers correctly even before anything else allocated.
///
/// # Examples
///
/// ```
/// memprobe::global_allocator!();
/// # fn main() {
/// assert!(memprobe::alloc::is_installed());
/// # }
/// ```
pub fn is_installed() -> bool {
    if !INSTALLED.load(Relaxed) {
        drop(std::hint::black_box(Box::new(std::hint::black_box(0u64))));
    }
    INSTALLED.load(Relaxed)
}

fn require_installed() -> crate::Result<()> {
    if is_installed() {
        Ok(())
    } else {
        Err(crate::Error::AllocatorNotInstalled)
    }
}

/// Process-wide cumulative counts: every thread that ever allocated, alive or exited.
///
/// # Errors
///
/// [`crate::Error::AllocatorNotInstalled`] when [`Counting`] is not the global allocator.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let before = memprobe::process_totals()?;
/// std::thread::spawn(|| drop(vec![0u8; 1 << 20])).join().unwrap();
/// let delta = memprobe::process_totals()?.since(&before);
/// assert!(delta.alloc_bytes >= 1 << 20);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn process_totals() -> crate::Result<AllocTotals> {
    require_installed()?;
    Ok(AllocTotals::from_array(slot::sum()))
}

/// The calling thread's cumulative counts. Exact for a thread that owns a slot (the first 4096
/// threads alive at once); a thread beyond that counts into a shared overflow slot and gets
/// [`crate::Error::Unsupported`].
///
/// # Errors
///
/// [`crate::Error::AllocatorNotInstalled`], or [`crate::Error::Unsupported`] as above.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let mine = memprobe::thread_totals()?;
/// assert!(mine.alloc_count <= memprobe::process_totals()?.alloc_count);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn thread_totals() -> crate::Result<AllocTotals> {
    require_installed()?;
    THREAD.with(|t| {
        let slot = t.slot.get();
        if slot.is_null() {
            if t.shared.get() {
                return Err(crate::Error::Unsupported {
                    what: "per-thread totals on a thread past its exit hook, or beyond 4096 threads alive at once",
                    platform: std::env::consts::OS,
                });
            }
            return Ok(AllocTotals::default());
        }
        // SAFETY: a non-null slot pointer is a `&'static Slot` this thread owns.
        let now = AllocTotals::from_array(slot::read(unsafe { &*slot }));
        Ok(now.since(&AllocTotals::from_array(t.base.get())))
    })
}

/// How the per-thread counter slots are used: a thread claims one on its first allocation and
/// hands it back when it exits. Sums over the process read the slots up to `high_water` only.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// std::thread::spawn(|| drop(vec![0u8; 8])).join().unwrap();
/// let slots = memprobe::alloc::thread_slots();
/// assert!(slots.in_use >= 1); // this thread
/// assert!(slots.in_use <= slots.high_water && slots.high_water <= slots.capacity);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadSlots {
    /// Slots owned by a live thread right now.
    pub in_use: usize,
    /// One past the highest slot index ever claimed: what a process-wide sum reads.
    pub high_water: usize,
    /// Threads that can own a slot at once; beyond, threads share atomic overflow counters.
    pub capacity: usize,
    /// Memory memprobe keeps per thread for counting, in bytes.
    pub bytes_per_thread: usize,
}

/// The current use of per-thread counter slots (see [`ThreadSlots`]).
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// drop(std::hint::black_box(vec![1u8]));
/// assert!(memprobe::alloc::thread_slots().in_use >= 1);
/// ```
pub fn thread_slots() -> ThreadSlots {
    let (in_use, high_water) = slot::usage();
    ThreadSlots {
        in_use,
        high_water,
        capacity: slot::SLOT_COUNT,
        bytes_per_thread: std::mem::size_of::<Slot>() + std::mem::size_of::<ThreadState>(),
    }
}
