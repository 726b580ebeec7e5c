//! The counting allocator of the embedded track: [`CountingAlloc`] wraps any [`GlobalAlloc`]
//! and counts every call into process-wide atomic [`Counters`] that live inside it, so it
//! needs neither `std` nor thread-locals. Calls are counted after they succeed: a call that
//! returns null counts as nothing.

use core::alloc::{GlobalAlloc, Layout};

use crate::counters::Counters;
use crate::event::Event;
use crate::figures::Figures;
use crate::window::Window;

/// A global allocator that wraps `A` and counts every allocation exactly, with atomic counters
/// and no lock, allocation or panic in its hooks: safe to call from interrupt handlers.
///
/// # Examples
///
/// As the global allocator (here over the host's `System`; on a microcontroller over a heap
/// such as `embedded-alloc`'s):
///
/// ```
/// use memprobe_core::CountingAlloc;
/// #[global_allocator]
/// static HEAP: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);
///
/// let (v, f) = HEAP.measure(|| Vec::<u32>::with_capacity(250));
/// assert_eq!((f.alloc_count, f.alloc_bytes, f.live_bytes), (1, 1000, 1000));
/// drop(v);
/// assert!(HEAP.high_water_mark() >= 1000);
/// ```
#[derive(Debug, Default)]
pub struct CountingAlloc<A> {
    inner: A,
    counters: Counters,
}

impl<A> CountingAlloc<A> {
    /// Wraps `inner`. `const`, so it can initialise a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static HEAP: memprobe_core::CountingAlloc<std::alloc::System> =
    ///     memprobe_core::CountingAlloc::new(std::alloc::System);
    /// assert_eq!(HEAP.high_water_mark(), 0);
    /// ```
    pub const fn new(inner: A) -> Self {
        CountingAlloc {
            inner,
            counters: Counters::new(),
        }
    }

    /// The wrapped allocator.
    ///
    /// # Examples
    ///
    /// ```
    /// let heap = memprobe_core::CountingAlloc::new(std::alloc::System);
    /// let _system: &std::alloc::System = heap.inner();
    /// ```
    pub const fn inner(&self) -> &A {
        &self.inner
    }

    /// The counters behind the figures.
    ///
    /// # Examples
    ///
    /// ```
    /// let heap = memprobe_core::CountingAlloc::new(std::alloc::System);
    /// assert_eq!(heap.counters().live_bytes(), 0);
    /// ```
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Every figure since the allocator was created (see [`Counters::figures`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::alloc::{GlobalAlloc, Layout, System};
    /// let heap = memprobe_core::CountingAlloc::new(System);
    /// let layout = Layout::from_size_align(48, 8).unwrap();
    /// // SAFETY: a non-zero layout, freed with the same layout.
    /// unsafe { heap.dealloc(heap.alloc(layout), layout) };
    /// let f = heap.figures();
    /// assert_eq!((f.alloc_count, f.dealloc_count, f.live_bytes, f.peak_bytes), (1, 1, 0, 48));
    /// ```
    pub fn figures(&self) -> Figures {
        self.counters.figures()
    }

    /// The most bytes ever live at once (see [`Counters::high_water_mark`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::alloc::{GlobalAlloc, Layout, System};
    /// let heap = memprobe_core::CountingAlloc::new(System);
    /// let layout = Layout::from_size_align(256, 8).unwrap();
    /// // SAFETY: a non-zero layout, freed with the same layout.
    /// unsafe { heap.dealloc(heap.alloc(layout), layout) };
    /// assert_eq!(heap.high_water_mark(), 256);
    /// ```
    pub fn high_water_mark(&self) -> u64 {
        self.counters.high_water_mark()
    }

    /// Lowers the high-water mark to the bytes live now (see [`Counters::reset_peak`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::alloc::{GlobalAlloc, Layout, System};
    /// let heap = memprobe_core::CountingAlloc::new(System);
    /// let layout = Layout::from_size_align(256, 8).unwrap();
    /// // SAFETY: a non-zero layout, freed with the same layout.
    /// unsafe { heap.dealloc(heap.alloc(layout), layout) };
    /// heap.reset_peak();
    /// assert_eq!(heap.high_water_mark(), 0);
    /// ```
    pub fn reset_peak(&self) {
        self.counters.reset_peak();
    }

    /// Starts a window (see [`Window`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::alloc::{GlobalAlloc, Layout, System};
    /// let heap = memprobe_core::CountingAlloc::new(System);
    /// let layout = Layout::from_size_align(24, 8).unwrap();
    /// let window = heap.window();
    /// // SAFETY: a non-zero layout; the block is freed below with it.
    /// let block = unsafe { heap.alloc(layout) };
    /// assert_eq!(window.finish().live_bytes, 24);
    /// // SAFETY: allocated above with this layout.
    /// unsafe { heap.dealloc(block, layout) };
    /// ```
    pub fn window(&self) -> Window<'_> {
        self.counters.window()
    }

    /// Runs `f` in a window and returns its result with the window's figures. No `std`, no
    /// formatting: the figures are plain data. What other threads or interrupt handlers
    /// allocate meanwhile counts too (the counters are process-wide).
    ///
    /// # Examples
    ///
    /// ```
    /// #[global_allocator]
    /// static HEAP: memprobe_core::CountingAlloc<std::alloc::System> =
    ///     memprobe_core::CountingAlloc::new(std::alloc::System);
    ///
    /// let ((), f) = HEAP.measure(|| drop(String::from("dropped")));
    /// assert_eq!((f.alloc_count, f.dealloc_count, f.live_bytes, f.peak_bytes), (1, 1, 0, 7));
    /// ```
    pub fn measure<R>(&self, f: impl FnOnce() -> R) -> (R, Figures) {
        let window = self.window();
        let result = f();
        (result, window.finish())
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees carry over. The counting around it is atomic adds and maxes on the counters inside
// `self`: no allocation, no lock, no panic (wrapping arithmetic throughout).
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            Event::Alloc(layout.size()).count(&self.counters);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract, which we pass on.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Event::Alloc(layout.size()).count(&self.counters);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // A free cannot fail: count it first.
        Event::Dealloc(layout.size()).count(&self.counters);
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract, which we pass on.
        unsafe { self.inner.dealloc(ptr, layout) };
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            Event::Realloc {
                old: layout.size(),
                new: new_size,
            }
            .count(&self.counters);
        }
        new_ptr
    }
}
