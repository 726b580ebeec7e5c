//! The measured figures: plain data, read from [`crate::Counters`] whole or over a window.

/// Allocation figures, all-time ([`crate::Counters::figures`]) or over a window
/// ([`crate::Window::finish`], [`crate::CountingAlloc::measure`]). Bytes are the sizes
/// requested in each layout, not what the allocator rounds them up to.
///
/// # Examples
///
/// ```
/// use memprobe_core::{Counters, Event};
/// let counters = Counters::new();
/// Event::Alloc(10).count(&counters);
/// Event::Dealloc(10).count(&counters);
/// let f = counters.figures();
/// assert_eq!((f.live_bytes, f.peak_bytes), (0, 10));
/// assert_eq!(f.allocations(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Figures {
    /// Successful `alloc` and `alloc_zeroed` calls.
    pub alloc_count: u64,
    /// Successful `realloc` calls.
    pub realloc_count: u64,
    /// `dealloc` calls.
    pub dealloc_count: u64,
    /// Bytes requested by allocations plus the new sizes of reallocations.
    pub alloc_bytes: u64,
    /// Bytes freed by deallocations plus the old sizes of reallocations.
    pub freed_bytes: u64,
    /// Live bytes: allocated minus freed, signed (a window can free what was allocated before
    /// it). All-time: the bytes live now; over a window: the net change.
    pub live_bytes: i64,
    /// The high-water mark of live bytes: all-time, the most ever live (since the last
    /// [`crate::Counters::reset_peak`]); over a window, the most live at any point of the
    /// window above what was live at its start (0 if it never rose).
    pub peak_bytes: u64,
    /// The largest block allocated (or reallocated to), in bytes.
    pub largest_alloc_bytes: u64,
}

impl Figures {
    /// Allocation events: allocations plus reallocations.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe_core::{Counters, Event};
    /// let c = Counters::new();
    /// Event::Alloc(1).count(&c);
    /// Event::Realloc { old: 1, new: 2 }.count(&c);
    /// assert_eq!(c.figures().allocations(), 2);
    /// ```
    pub fn allocations(&self) -> u64 {
        self.alloc_count.wrapping_add(self.realloc_count)
    }
}
