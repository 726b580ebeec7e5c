//! Process-wide counters: the cumulative [`Totals`] plus live bytes, their high-water mark and
//! the largest block, all atomics with no thread-local, usable from any thread or interrupt.
//!
//! # What the high-water mark guarantees
//!
//! Every update adds its delta to the live figure with one `fetch_add` and then raises the mark
//! with `fetch_max` of the value that `fetch_add` produced. Each value the live figure takes is
//! produced by exactly one update, which then offers it to the mark: once the updates in flight
//! have finished, the mark is exactly the largest value the live figure ever held (a reader
//! racing an update may see the mark lag that update by one step, never exceed any value).
//!
//! [`Counters::reset_peak`] stores the live figure into the mark, then offers the live figure
//! again, so an update whose `fetch_max` the store overwrote is not lost: after it returns, the
//! mark is at least the live figure then and every value the live figure takes later. Updates
//! running during the call may or may not count in the new mark.

use core::sync::atomic::Ordering::Relaxed;

use crate::event::{Count, Tally};
use crate::figures::Figures;
use crate::totals::Totals;
use crate::word::{AtomicSignedWord, AtomicWord, SignedWord, Word, wide, wide_signed};

/// Cumulative counts, live bytes, the high-water mark and the largest block, as atomics: count
/// [`crate::Event`]s into it from any number of threads and interrupt handlers, with no lock.
///
/// # Examples
///
/// ```
/// use memprobe_core::{Counters, Event};
/// static COUNTERS: Counters = Counters::new();
/// Event::Alloc(100).count(&COUNTERS);
/// Event::Alloc(50).count(&COUNTERS);
/// Event::Dealloc(100).count(&COUNTERS);
/// let f = COUNTERS.figures();
/// assert_eq!((f.alloc_count, f.dealloc_count, f.live_bytes), (2, 1, 50));
/// assert_eq!((f.peak_bytes, f.largest_alloc_bytes), (150, 100));
/// ```
#[derive(Debug, Default)]
pub struct Counters {
    totals: Totals,
    live: AtomicSignedWord,
    /// The high-water mark of `live`; inside a window, since the window started.
    peak: AtomicSignedWord,
    /// The largest block; inside a window, since the window started.
    largest: AtomicWord,
    /// The marks open windows saved when they started, so the all-time figures stay whole.
    peak_floor: AtomicSignedWord,
    largest_floor: AtomicWord,
}

impl Counters {
    /// All figures at zero. `const`, so it can initialise a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static COUNTERS: memprobe_core::Counters = memprobe_core::Counters::new();
    /// assert_eq!(COUNTERS.figures(), memprobe_core::Figures::default());
    /// ```
    pub const fn new() -> Self {
        Counters {
            totals: Totals::new(),
            live: AtomicSignedWord::new(0),
            peak: AtomicSignedWord::new(0),
            largest: AtomicWord::new(0),
            peak_floor: AtomicSignedWord::new(0),
            largest_floor: AtomicWord::new(0),
        }
    }

    /// The cumulative counters.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Count, Counters, Event};
    /// let c = Counters::new();
    /// Event::Alloc(7).count(&c);
    /// assert_eq!(c.totals().get(Count::AllocBytes), 7);
    /// ```
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Bytes live now (allocated minus freed), signed.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// Event::Dealloc(8).count(&c); // freed a block allocated before counting began
    /// assert_eq!(c.live_bytes(), -8);
    /// ```
    pub fn live_bytes(&self) -> i64 {
        wide_signed(self.live.load(Relaxed))
    }

    /// The most bytes ever live at once (0 if live bytes never rose above 0), since the
    /// counters were created or [`Counters::reset_peak`] last ran; windows do not change it.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// Event::Alloc(64).count(&c);
    /// Event::Dealloc(64).count(&c);
    /// Event::Alloc(16).count(&c);
    /// assert_eq!(c.high_water_mark(), 64);
    /// ```
    pub fn high_water_mark(&self) -> u64 {
        let mark = self.peak.load(Relaxed).max(self.peak_floor.load(Relaxed));
        mark.max(0) as u64
    }

    /// Lowers the high-water mark to the bytes live now, so the next
    /// [`Counters::high_water_mark`] is the most live from here on (see the module docs for
    /// what it guarantees while other threads allocate). The largest block is kept.
    ///
    /// Call it outside windows: a window open across it puts back, when it ends, the mark it
    /// saved when it started.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// Event::Alloc(1000).count(&c);
    /// Event::Dealloc(1000).count(&c);
    /// Event::Alloc(10).count(&c);
    /// c.reset_peak();
    /// assert_eq!(c.high_water_mark(), 10);
    /// Event::Alloc(5).count(&c);
    /// assert_eq!(c.high_water_mark(), 15);
    /// ```
    pub fn reset_peak(&self) {
        self.peak_floor.store(0, Relaxed);
        self.restart_peak();
    }

    /// Stores the live figure into the mark and returns it, then offers the live figure again:
    /// an update between the load and the store may have had its `fetch_max` overwritten.
    fn restart_peak(&self) -> SignedWord {
        let live = self.live.load(Relaxed);
        self.peak.store(live, Relaxed);
        self.peak.fetch_max(self.live.load(Relaxed), Relaxed);
        live
    }

    /// Every figure, all-time: cumulative counts and bytes, live bytes now, the high-water mark
    /// and the largest block ever.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// Event::Alloc(4).count(&c);
    /// Event::Realloc { old: 4, new: 12 }.count(&c);
    /// let f = c.figures();
    /// assert_eq!((f.alloc_bytes, f.freed_bytes, f.live_bytes), (16, 4, 12));
    /// assert_eq!((f.peak_bytes, f.largest_alloc_bytes), (12, 12));
    /// ```
    pub fn figures(&self) -> Figures {
        let [
            alloc_count,
            realloc_count,
            dealloc_count,
            alloc_bytes,
            freed_bytes,
        ] = self.totals.read();
        let largest = self
            .largest
            .load(Relaxed)
            .max(self.largest_floor.load(Relaxed));
        Figures {
            alloc_count: wide(alloc_count),
            realloc_count: wide(realloc_count),
            dealloc_count: wide(dealloc_count),
            alloc_bytes: wide(alloc_bytes),
            freed_bytes: wide(freed_bytes),
            live_bytes: self.live_bytes(),
            peak_bytes: self.high_water_mark(),
            largest_alloc_bytes: wide(largest),
        }
    }

    /// Sets every figure to zero, the high-water mark included. For counters reused from one
    /// measurement to the next while nothing counts into them.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event, Figures};
    /// let c = Counters::new();
    /// Event::Alloc(9).count(&c);
    /// c.reset();
    /// assert_eq!(c.figures(), Figures::default());
    /// ```
    pub fn reset(&self) {
        self.totals.reset();
        for cell in [&self.live, &self.peak, &self.peak_floor] {
            cell.store(0, Relaxed);
        }
        for cell in [&self.largest, &self.largest_floor] {
            cell.store(0, Relaxed);
        }
    }

    /// Saves the all-time marks and restarts them for a window (see [`crate::Window`]): the
    /// totals and live bytes at its start, and the saved peak and largest block.
    pub(crate) fn open_window(&self) -> ([Word; 5], SignedWord, SignedWord, Word) {
        let saved_peak = self.peak.load(Relaxed);
        self.peak_floor.fetch_max(saved_peak, Relaxed);
        let saved_largest = self.largest.swap(0, Relaxed);
        self.largest_floor.fetch_max(saved_largest, Relaxed);
        let live = self.restart_peak();
        (self.totals.read(), live, saved_peak, saved_largest)
    }

    /// The high-water mark and largest block since the current window started.
    pub(crate) fn window_marks(&self) -> (SignedWord, Word) {
        (self.peak.load(Relaxed), self.largest.load(Relaxed))
    }

    pub(crate) fn live_word(&self) -> SignedWord {
        self.live.load(Relaxed)
    }

    /// Puts back the marks a window saved when it started (windows nest: the enclosing window's
    /// marks then cover the inner one's).
    pub(crate) fn restore_marks(&self, peak: SignedWord, largest: Word) {
        self.peak.fetch_max(peak, Relaxed);
        self.largest.fetch_max(largest, Relaxed);
    }
}

/// Any number of writers, interrupt handlers included: atomic read-modify-writes throughout.
impl Tally for Counters {
    #[inline(always)]
    fn add(&self, count: Count, n: Word) {
        self.totals.add(count, n);
    }

    #[inline(always)]
    fn moved(&self, delta: SignedWord, block: Word) {
        let live = self.live.fetch_add(delta, Relaxed).wrapping_add(delta);
        // `block` is 0 exactly for deallocations (a constant there): the live figure only fell,
        // so neither mark can rise.
        if block != 0 {
            self.peak.fetch_max(live, Relaxed);
            self.largest.fetch_max(block, Relaxed);
        }
    }
}
