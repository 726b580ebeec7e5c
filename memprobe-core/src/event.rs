//! One allocator call as counted, and the arithmetic of counting it: which counter each call
//! adds what to. This is the only copy of that arithmetic; where the counters live (a
//! thread-local written by one thread, shared atomics) is the [`Tally`] the event is counted
//! into.
//!
//! | call | counted as |
//! |---|---|
//! | `alloc(layout)`, `alloc_zeroed(layout)` | 1 allocation, `layout.size()` bytes allocated |
//! | `realloc(ptr, layout, new)` | 1 reallocation (not an allocation, not a deallocation); `layout.size()` bytes freed and `new` bytes allocated, so live bytes move by `new - layout.size()` and a realloc to a larger block can set the peak and the largest block |
//! | `dealloc(ptr, layout)` | 1 deallocation, `layout.size()` bytes freed |
//! | a call that returns null | nothing |

use crate::word::{SignedWord, Word};

/// One allocator call that succeeded, with the sizes it counts.
///
/// # Examples
///
/// ```
/// use memprobe_core::{Counters, Event};
/// let counters = Counters::new();
/// Event::Alloc(100).count(&counters);
/// Event::Realloc { old: 100, new: 300 }.count(&counters);
/// let f = counters.figures();
/// assert_eq!((f.alloc_count, f.realloc_count, f.alloc_bytes, f.freed_bytes), (1, 1, 400, 100));
/// assert_eq!((f.live_bytes, f.peak_bytes, f.largest_alloc_bytes), (300, 300, 300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `alloc` or `alloc_zeroed` of a block of this many bytes.
    Alloc(usize),
    /// `dealloc` of a block of this many bytes.
    Dealloc(usize),
    /// `realloc` of a block of `old` bytes to `new` bytes.
    Realloc {
        /// The size of the block before (`layout.size()`).
        old: usize,
        /// The size asked for (`new_size`).
        new: usize,
    },
}

/// The five cumulative counters an [`Event`] adds to.
///
/// # Examples
///
/// ```
/// use memprobe_core::{Count, Totals};
/// let totals = Totals::new();
/// memprobe_core::Event::Dealloc(16).count(&totals);
/// assert_eq!(totals.get(Count::Deallocs), 1);
/// assert_eq!(totals.get(Count::FreedBytes), 16);
/// assert_eq!(Count::ALL.len(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Successful `alloc` and `alloc_zeroed` calls.
    Allocs,
    /// Successful `realloc` calls.
    Reallocs,
    /// `dealloc` calls.
    Deallocs,
    /// Bytes requested by allocations plus the new sizes of reallocations.
    AllocBytes,
    /// Bytes freed by deallocations plus the old sizes of reallocations.
    FreedBytes,
}

impl Count {
    /// Every counter, in the order [`crate::Totals::read`] returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::Count;
    /// assert_eq!(Count::ALL[0], Count::Allocs);
    /// assert_eq!(Count::ALL[4], Count::FreedBytes);
    /// ```
    pub const ALL: [Count; 5] = [
        Count::Allocs,
        Count::Reallocs,
        Count::Deallocs,
        Count::AllocBytes,
        Count::FreedBytes,
    ];
}

/// Where an [`Event`] is counted: a set of cumulative counters, and optionally live bytes with
/// their high-water mark.
///
/// Implementations must not allocate, lock or panic: they run inside allocator hooks.
///
/// # Examples
///
/// ```
/// use core::cell::Cell;
/// use memprobe_core::{Count, Event, SignedWord, Tally, Word};
///
/// /// Counts allocations only, in a cell (one thread).
/// struct Allocs(Cell<Word>, Cell<SignedWord>);
/// impl Tally for Allocs {
///     fn add(&self, count: Count, n: Word) {
///         if count == Count::Allocs {
///             self.0.set(self.0.get().wrapping_add(n));
///         }
///     }
///     fn moved(&self, delta: SignedWord, _block: Word) {
///         self.1.set(self.1.get().wrapping_add(delta));
///     }
/// }
/// let tally = Allocs(Cell::new(0), Cell::new(0));
/// Event::Alloc(8).count(&tally);
/// Event::Realloc { old: 8, new: 24 }.count(&tally);
/// assert_eq!((tally.0.get(), tally.1.get()), (1, 24));
/// ```
pub trait Tally {
    /// Adds `n` (wrapping) to `count`.
    fn add(&self, count: Count, n: Word);

    /// Live bytes moved by `delta` (wrapping); `block` is the size of the block just allocated
    /// (0 for a deallocation): what a high-water mark and a largest block are updated from.
    /// Does nothing by default, for counters that keep cumulative figures only.
    #[inline(always)]
    fn moved(&self, delta: SignedWord, block: Word) {
        let _ = (delta, block);
    }
}

impl Event {
    /// Counts this event into `tally` (see the table in the module docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Count, Event, Totals};
    /// let totals = Totals::new();
    /// Event::Realloc { old: 10, new: 4 }.count(&totals);
    /// assert_eq!(totals.read(), [0, 1, 0, 4, 10]);
    /// ```
    #[inline(always)]
    pub fn count<T: Tally + ?Sized>(self, tally: &T) {
        self.apply(tally, false);
    }

    /// Takes back an event counted ahead of a call that then failed: subtracts what
    /// [`Event::count`] added from the cumulative counters and live bytes. A high-water mark or
    /// largest block the event raised stays raised (a mark cannot be taken back); count ahead
    /// only into counters without one.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Event, Totals};
    /// let totals = Totals::new();
    /// Event::Alloc(64).count(&totals);
    /// Event::Alloc(64).uncount(&totals);
    /// assert_eq!(totals.read(), [0; 5]);
    /// ```
    #[inline(always)]
    pub fn uncount<T: Tally + ?Sized>(self, tally: &T) {
        self.apply(tally, true);
    }

    // PERF: `back` is a constant at every call site, so each of `count` and `uncount` inlines to
    // straight-line adds; `size as Word` is lossless (a `usize` never exceeds the word: 64-bit
    // words wherever there are 64-bit atomics) and `size as SignedWord` too, since a layout's
    // size is at most `isize::MAX`.
    #[inline(always)]
    fn apply<T: Tally + ?Sized>(self, tally: &T, back: bool) {
        let n = |v: Word| if back { v.wrapping_neg() } else { v };
        let d = |v: SignedWord| if back { v.wrapping_neg() } else { v };
        match self {
            Event::Alloc(size) => {
                tally.add(Count::Allocs, n(1));
                tally.add(Count::AllocBytes, n(size as Word));
                tally.moved(d(size as SignedWord), if back { 0 } else { size as Word });
            }
            Event::Dealloc(size) => {
                tally.add(Count::Deallocs, n(1));
                tally.add(Count::FreedBytes, n(size as Word));
                tally.moved(d((size as SignedWord).wrapping_neg()), 0);
            }
            Event::Realloc { old, new } => {
                tally.add(Count::Reallocs, n(1));
                tally.add(Count::AllocBytes, n(new as Word));
                tally.add(Count::FreedBytes, n(old as Word));
                let delta = (new as SignedWord).wrapping_sub(old as SignedWord);
                tally.moved(d(delta), if back { 0 } else { new as Word });
            }
        }
    }
}
