//! What the counting allocator has counted, read back: cumulative [`AllocTotals`] per process and
//! per thread, whether the allocator is installed, and the registry's use ([`ThreadSlots`]).

use std::sync::atomic::Ordering::Relaxed;

use super::{EXITED, INSTALLED, THREAD, ThreadState, registry};

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
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
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
/// [`crate::Error::AllocatorNotInstalled`] when [`Counting`](crate::Counting) is not the global allocator.
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
    Ok(AllocTotals::from_array(registry::sum()))
}

/// The calling thread's cumulative counts, from its first allocation: exact on every thread,
/// including threads beyond the registry's capacity and threads created outside Rust.
///
/// # Errors
///
/// [`crate::Error::AllocatorNotInstalled`]; [`crate::Error::Unsupported`] when called after
/// the thread's exit hook ran (from a late thread-local destructor), whose allocations count in
/// process totals only.
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
        if t.watch.load(Relaxed) & EXITED != 0 {
            return Err(crate::Error::Unsupported {
                what: "per-thread totals on a thread past its exit hook",
                platform: std::env::consts::OS,
            });
        }
        Ok(AllocTotals::from_array(t.counters.read()))
    })
}

/// How the registry of threads' counters is used: a thread takes an entry (the lowest free one)
/// on its first allocation and hands it back when it exits. Process-wide sums read the entries
/// up to `high_water` only.
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
    /// Entries held by a live thread right now.
    pub in_use: usize,
    /// One past the highest entry ever taken: what a process-wide sum reads.
    pub high_water: usize,
    /// Threads that can be listed at once; beyond, threads also count into shared atomic
    /// overflow counters (slower, still exact).
    pub capacity: usize,
    /// Memory memprobe adds per thread: its thread-local state (counters included) plus its
    /// registry entry, in bytes.
    pub bytes_per_thread: usize,
}

/// The current use of the registry of threads' counters (see [`ThreadSlots`]).
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// drop(std::hint::black_box(vec![1u8]));
/// assert!(memprobe::alloc::thread_slots().in_use >= 1);
/// ```
pub fn thread_slots() -> ThreadSlots {
    let (in_use, high_water) = registry::usage();
    ThreadSlots {
        in_use,
        high_water,
        capacity: registry::CAPACITY,
        bytes_per_thread: std::mem::size_of::<ThreadState>() + registry::ENTRY_BYTES,
    }
}
