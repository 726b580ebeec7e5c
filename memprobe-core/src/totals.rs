//! Cumulative counters only (counts and bytes, no live figure): what a per-thread tally needs.
//! The same cells are written either by atomic read-modify-writes ([`Totals`] as a [`Tally`])
//! or, when a single thread owns them, by plain loads and stores ([`SingleWriter`]).

use core::sync::atomic::Ordering::Relaxed;

use crate::event::{Count, Tally};
use crate::word::{AtomicWord, Word};

/// The five cumulative counters of [`Count`], as atomic cells. Counted into directly, every add
/// is an atomic read-modify-write (any number of writers); through [`SingleWriter`], a plain
/// load and store (one writer).
///
/// # Examples
///
/// ```
/// use memprobe_core::{Event, Totals};
/// static TOTALS: Totals = Totals::new();
/// Event::Alloc(32).count(&TOTALS);
/// Event::Dealloc(32).count(&TOTALS);
/// assert_eq!(TOTALS.read(), [1, 0, 1, 32, 32]);
/// ```
// PERF: `repr(C)` keeps the five words together in `Count` order, so a thread-local that leads
// with them has everything the hot path touches on one cache line.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Totals {
    alloc_count: AtomicWord,
    realloc_count: AtomicWord,
    dealloc_count: AtomicWord,
    alloc_bytes: AtomicWord,
    freed_bytes: AtomicWord,
}

impl Totals {
    /// All counters at zero. `const`, so it can initialise a `static` or a `const` thread-local.
    ///
    /// # Examples
    ///
    /// ```
    /// static TOTALS: memprobe_core::Totals = memprobe_core::Totals::new();
    /// assert_eq!(TOTALS.read(), [0; 5]);
    /// ```
    pub const fn new() -> Self {
        Totals {
            alloc_count: AtomicWord::new(0),
            realloc_count: AtomicWord::new(0),
            dealloc_count: AtomicWord::new(0),
            alloc_bytes: AtomicWord::new(0),
            freed_bytes: AtomicWord::new(0),
        }
    }

    /// The cell behind `count`.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::Ordering::Relaxed;
    /// use memprobe_core::{Count, Totals};
    /// let totals = Totals::new();
    /// totals.counter(Count::AllocBytes).fetch_add(5, Relaxed);
    /// assert_eq!(totals.get(Count::AllocBytes), 5);
    /// ```
    #[inline(always)]
    pub fn counter(&self, count: Count) -> &AtomicWord {
        match count {
            Count::Allocs => &self.alloc_count,
            Count::Reallocs => &self.realloc_count,
            Count::Deallocs => &self.dealloc_count,
            Count::AllocBytes => &self.alloc_bytes,
            Count::FreedBytes => &self.freed_bytes,
        }
    }

    /// The current value of `count`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Count, Event, Totals};
    /// let totals = Totals::new();
    /// Event::Alloc(3).count(&totals);
    /// assert_eq!(totals.get(Count::Allocs), 1);
    /// ```
    pub fn get(&self, count: Count) -> Word {
        self.counter(count).load(Relaxed)
    }

    /// Every counter, in [`Count::ALL`] order: `[allocs, reallocs, deallocs, alloc_bytes,
    /// freed_bytes]`. Each is read atomically; the five together are a consistent set only when
    /// no other thread or interrupt counts meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Event, Totals};
    /// let totals = Totals::new();
    /// Event::Realloc { old: 1, new: 2 }.count(&totals);
    /// assert_eq!(totals.read(), [0, 1, 0, 2, 1]);
    /// ```
    pub fn read(&self) -> [Word; 5] {
        Count::ALL.map(|count| self.get(count))
    }

    /// Sets every counter to zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Event, Totals};
    /// let totals = Totals::new();
    /// Event::Alloc(3).count(&totals);
    /// totals.reset();
    /// assert_eq!(totals.read(), [0; 5]);
    /// ```
    pub fn reset(&self) {
        for count in Count::ALL {
            self.counter(count).store(0, Relaxed);
        }
    }
}

/// Any number of writers: each add is one atomic `fetch_add`.
impl Tally for Totals {
    #[inline(always)]
    fn add(&self, count: Count, n: Word) {
        self.counter(count).fetch_add(n, Relaxed);
    }
}

/// [`Totals`] that only one thread writes (a thread's own counters in its thread-local): each
/// add is a relaxed load and store, a plain `add` with no `lock` prefix. Other threads may read
/// the cells at any time and see whole values.
///
/// Do not use it for counters an interrupt handler also writes: an interrupt between the load
/// and the store would lose its add.
///
/// # Examples
///
/// ```
/// use memprobe_core::{Event, SingleWriter, Totals};
/// let mine = Totals::new();
/// Event::Alloc(40).count(&SingleWriter(&mine));
/// assert_eq!(mine.read(), [1, 0, 0, 40, 0]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SingleWriter<'a>(pub &'a Totals);

impl Tally for SingleWriter<'_> {
    #[inline(always)]
    fn add(&self, count: Count, n: Word) {
        let cell = self.0.counter(count);
        cell.store(cell.load(Relaxed).wrapping_add(n), Relaxed);
    }
}
