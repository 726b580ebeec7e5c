//! A probe window: the figures of what is counted between its start and its finish, the
//! window's own high-water mark and largest block included, without losing the all-time ones.
//!
//! # Implementation
//!
//! The hot path keeps one mark register per figure; a window borrows it instead of adding a
//! second one to every update:
//!
//! ```text
//!   start:  saved = mark ─▶ floor = max(floor, saved) ─▶ mark = live now
//!   ...     updates raise `mark` as always: it is now the window's mark
//!   finish: window's mark = mark ─▶ mark = max(mark, saved)
//! ```
//!
//! The all-time figure is `max(mark, floor)` throughout, and windows nest when they finish in
//! the reverse order they started (each puts back the enclosing window's mark). Figures are
//! process-wide: what other threads or interrupt handlers count during the window is in it.

use crate::counters::Counters;
use crate::figures::Figures;
use crate::word::{SignedWord, Word, wide, wide_signed};

/// An open window on [`Counters`]: [`Window::finish`] returns the figures of everything counted
/// since it started. Dropping it without finishing puts the marks back all the same.
///
/// # Examples
///
/// ```
/// use memprobe_core::{Counters, Event};
/// let c = Counters::new();
/// let outer = c.window();
/// Event::Alloc(100).count(&c);
/// let inner = c.window();
/// Event::Alloc(30).count(&c);
/// Event::Dealloc(30).count(&c);
/// let f = inner.finish();
/// assert_eq!((f.alloc_count, f.live_bytes, f.peak_bytes, f.largest_alloc_bytes), (1, 0, 30, 30));
/// let f = outer.finish();
/// assert_eq!((f.alloc_count, f.live_bytes, f.peak_bytes, f.largest_alloc_bytes), (2, 100, 130, 100));
/// ```
#[derive(Debug)]
#[must_use = "a window measures until `finish` is called"]
pub struct Window<'a> {
    counters: &'a Counters,
    start: [Word; 5],
    live_at_start: SignedWord,
    saved_peak: SignedWord,
    saved_largest: Word,
}

impl Counters {
    /// Starts a window: [`Window::finish`] gives the figures of what is counted between the two
    /// (see [`Window`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// Event::Alloc(500).count(&c);
    /// let window = c.window();
    /// Event::Alloc(20).count(&c);
    /// Event::Dealloc(500).count(&c);
    /// let f = window.finish();
    /// assert_eq!((f.alloc_bytes, f.freed_bytes, f.live_bytes), (20, 500, -480));
    /// assert_eq!((f.peak_bytes, f.largest_alloc_bytes), (20, 20));
    /// assert_eq!(c.high_water_mark(), 520);
    /// ```
    pub fn window(&self) -> Window<'_> {
        let (start, live, saved_peak, saved_largest) = self.open_window();
        Window::new(self, start, live, saved_peak, saved_largest)
    }
}

impl<'a> Window<'a> {
    pub(crate) fn new(
        counters: &'a Counters,
        start: [Word; 5],
        live_at_start: SignedWord,
        saved_peak: SignedWord,
        saved_largest: Word,
    ) -> Self {
        Window {
            counters,
            start,
            live_at_start,
            saved_peak,
            saved_largest,
        }
    }

    /// Ends the window and returns its figures: counts and bytes since the start, the net
    /// change of live bytes, the most live above the start, the largest block allocated in it.
    /// Counts are differences with wrapping arithmetic, exact while each moves by less than
    /// the counter word's range within the window (2^32 on targets without 64-bit atomics).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// let window = c.window();
    /// Event::Alloc(8).count(&c);
    /// Event::Realloc { old: 8, new: 64 }.count(&c);
    /// let f = window.finish();
    /// assert_eq!((f.alloc_count, f.realloc_count, f.alloc_bytes, f.freed_bytes), (1, 1, 72, 8));
    /// assert_eq!((f.live_bytes, f.peak_bytes, f.largest_alloc_bytes), (64, 64, 64));
    /// ```
    pub fn finish(self) -> Figures {
        let now = self.counters.totals().read();
        let live = self.counters.live_word();
        let (peak, largest) = self.counters.window_marks();
        let d = |i: usize| wide(now[i].wrapping_sub(self.start[i]));
        Figures {
            alloc_count: d(0),
            realloc_count: d(1),
            dealloc_count: d(2),
            alloc_bytes: d(3),
            freed_bytes: d(4),
            live_bytes: wide_signed(live) - wide_signed(self.live_at_start),
            peak_bytes: (wide_signed(peak) - wide_signed(self.live_at_start)).max(0) as u64,
            largest_alloc_bytes: wide(largest),
        }
        // Dropping `self` puts the marks back.
    }
}

impl Drop for Window<'_> {
    fn drop(&mut self) {
        self.counters
            .restore_marks(self.saved_peak, self.saved_largest);
    }
}
