//! The counting core on the host: counts, signed live bytes, the high-water mark (exact under
//! concurrency), reset_peak, windows, the largest block, and realloc semantics as in memprobe's
//! documented table. Events are fed to counters directly, so the figures are exact.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Barrier;

use memprobe_core::{Count, Counters, CountingAlloc, Event, Figures, SingleWriter, Totals};

fn figures(
    counts: [u64; 3],
    bytes: [u64; 2],
    live_bytes: i64,
    peak_bytes: u64,
    largest: u64,
) -> Figures {
    let mut f = Figures::default();
    [f.alloc_count, f.realloc_count, f.dealloc_count] = counts;
    [f.alloc_bytes, f.freed_bytes] = bytes;
    (f.live_bytes, f.peak_bytes, f.largest_alloc_bytes) = (live_bytes, peak_bytes, largest);
    f
}

#[test]
fn each_call_counts_as_documented() {
    let c = Counters::new();
    Event::Alloc(100).count(&c);
    assert_eq!(c.figures(), figures([1, 0, 0], [100, 0], 100, 100, 100));
    // realloc: 1 reallocation, old bytes freed, new bytes allocated, live moves by the difference.
    Event::Realloc { old: 100, new: 250 }.count(&c);
    assert_eq!(c.figures(), figures([1, 1, 0], [350, 100], 250, 250, 250));
    // A shrinking realloc lowers live, keeps the peak and the largest.
    Event::Realloc { old: 250, new: 10 }.count(&c);
    assert_eq!(c.figures(), figures([1, 2, 0], [360, 350], 10, 250, 250));
    Event::Dealloc(10).count(&c);
    assert_eq!(c.figures(), figures([1, 2, 1], [360, 360], 0, 250, 250));
}

#[test]
fn live_bytes_are_signed() {
    let c = Counters::new();
    Event::Dealloc(64).count(&c);
    assert_eq!(c.figures().live_bytes, -64);
    assert_eq!(c.high_water_mark(), 0);
    Event::Alloc(16).count(&c);
    assert_eq!((c.live_bytes(), c.high_water_mark()), (-48, 0));
}

#[test]
fn uncount_takes_back_exactly_what_count_added() {
    for event in [
        Event::Alloc(9),
        Event::Dealloc(9),
        Event::Realloc { old: 9, new: 90 },
    ] {
        let totals = Totals::new();
        Event::Alloc(1000).count(&totals);
        let before = totals.read();
        event.count(&SingleWriter(&totals));
        assert_ne!(totals.read(), before, "{event:?} counted nothing");
        event.uncount(&SingleWriter(&totals));
        assert_eq!(totals.read(), before, "{event:?}");

        let c = Counters::new();
        event.count(&c);
        event.uncount(&c);
        assert_eq!(
            (c.totals().read(), c.live_bytes()),
            ([0; 5], 0),
            "{event:?}"
        );
    }
}

#[test]
fn single_writer_and_atomic_tallies_agree() {
    let events = [
        Event::Alloc(3),
        Event::Realloc { old: 3, new: 7 },
        Event::Alloc(11),
        Event::Dealloc(7),
    ];
    let (plain, atomic, full) = (Totals::new(), Totals::new(), Counters::new());
    for e in events {
        e.count(&SingleWriter(&plain));
        e.count(&atomic);
        e.count(&full);
    }
    assert_eq!(plain.read(), atomic.read());
    assert_eq!(plain.read(), full.totals().read());
    assert_eq!(plain.get(Count::AllocBytes), 3 + 7 + 11);
}

#[test]
fn reset_peak_lowers_the_mark_to_live_bytes() {
    let c = Counters::new();
    Event::Alloc(4096).count(&c);
    Event::Alloc(100).count(&c);
    Event::Dealloc(4096).count(&c);
    assert_eq!(c.high_water_mark(), 4196);
    c.reset_peak();
    assert_eq!(c.high_water_mark(), 100);
    Event::Alloc(50).count(&c);
    Event::Dealloc(50).count(&c);
    assert_eq!(c.high_water_mark(), 150);
    // The largest block is kept.
    assert_eq!(c.figures().largest_alloc_bytes, 4096);
}

#[test]
fn a_window_has_its_own_peak_and_largest_and_keeps_the_all_time_ones() {
    let c = Counters::new();
    Event::Alloc(1000).count(&c);
    Event::Dealloc(1000).count(&c);
    Event::Alloc(300).count(&c);
    let window = c.window();
    Event::Alloc(20).count(&c);
    Event::Alloc(30).count(&c);
    Event::Dealloc(20).count(&c);
    Event::Dealloc(300).count(&c);
    // Inside the window the all-time figures are whole.
    assert_eq!(c.high_water_mark(), 1000);
    assert_eq!(c.figures().largest_alloc_bytes, 1000);
    let f = window.finish();
    assert_eq!(f, figures([2, 0, 2], [50, 320], -270, 50, 30));
    assert_eq!(c.high_water_mark(), 1000);
    assert_eq!(c.figures().largest_alloc_bytes, 1000);
}

#[test]
fn a_window_that_never_rises_has_peak_zero() {
    let c = Counters::new();
    Event::Alloc(500).count(&c);
    let window = c.window();
    Event::Dealloc(500).count(&c);
    assert_eq!(window.finish(), figures([0, 0, 1], [0, 500], -500, 0, 0));
}

#[test]
fn windows_nest_and_a_dropped_window_puts_the_marks_back() {
    let c = Counters::new();
    let outer = c.window();
    Event::Alloc(100).count(&c);
    Event::Dealloc(100).count(&c);
    {
        let _abandoned = c.window();
        Event::Alloc(10).count(&c);
    }
    let inner = c.window();
    Event::Alloc(5).count(&c);
    assert_eq!(inner.finish(), figures([1, 0, 0], [5, 0], 5, 5, 5));
    assert_eq!(outer.finish(), figures([3, 0, 1], [115, 100], 15, 100, 100));
}

#[test]
fn the_high_water_mark_is_exact_under_concurrency() {
    // Round after round, every thread allocates its blocks, all wait, then all free them: the
    // most ever live in a round is exactly every block at once, and the mark must be exactly
    // that, whatever the interleaving. A mark kept with a load-compare-store instead of
    // `fetch_max` lets a thread's stale, lower value land last and loses the peak in some round.
    const THREADS: usize = 4;
    const ROUNDS: usize = 20_000;
    const BLOCKS: usize = 16;
    const SIZE: usize = 24;
    let c = Counters::new();
    let barrier = Barrier::new(THREADS);
    let expected = (THREADS * BLOCKS * SIZE) as u64;
    // Checked after the threads join: a panic in one would leave the others at the barrier.
    let wrong_peaks = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (c, barrier, wrong_peaks) = (&c, &barrier, &wrong_peaks);
            s.spawn(move || {
                for round in 0..ROUNDS {
                    for _ in 0..BLOCKS {
                        Event::Alloc(SIZE).count(c);
                    }
                    barrier.wait();
                    if thread == 0 {
                        let mark = c.high_water_mark();
                        if mark != expected {
                            wrong_peaks.lock().unwrap().push((round, mark));
                        }
                        c.reset_peak();
                    }
                    barrier.wait();
                    for _ in 0..BLOCKS {
                        Event::Dealloc(SIZE).count(c);
                    }
                    barrier.wait();
                    if thread == 0 {
                        c.reset_peak();
                    }
                    barrier.wait();
                }
            });
        }
    });
    let wrong_peaks = wrong_peaks.into_inner().unwrap();
    assert!(
        wrong_peaks.is_empty(),
        "(round, mark) where the mark was not {expected}: {wrong_peaks:?}"
    );
    let n = (THREADS * BLOCKS * ROUNDS) as u64;
    let total = n * SIZE as u64;
    assert_eq!(
        c.figures(),
        figures([n, 0, n], [total, total], 0, 0, SIZE as u64)
    );
}

#[test]
fn reset_peak_racing_allocations_never_leaves_the_mark_below_live() {
    let c = Counters::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..200_000 {
                Event::Alloc(8 + i % 64).count(&c);
            }
        });
        for _ in 0..2_000 {
            c.reset_peak();
            let (mark, live) = (c.high_water_mark(), c.live_bytes());
            // `live` is read after the mark: it can only have grown since, by the
            // allocations in flight; every one done before reset_peak returned is in the mark.
            assert!(
                mark as i64 <= live,
                "mark {mark} above live {live} after a reset"
            );
        }
    });
    assert_eq!(c.high_water_mark() as i64, c.live_bytes());
}

#[test]
fn counting_alloc_counts_only_calls_that_succeed() {
    /// Fails every request above 1 KiB.
    struct Small;
    // SAFETY: forwards to System, or returns null (allowed for any request).
    unsafe impl GlobalAlloc for Small {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.size() > 1024 {
                return std::ptr::null_mut();
            }
            // SAFETY: the caller's contract is passed on.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract is passed on.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            if new > 1024 {
                return std::ptr::null_mut();
            }
            // SAFETY: the caller's contract is passed on.
            unsafe { System.realloc(ptr, layout, new) }
        }
    }
    let heap = CountingAlloc::new(Small);
    let small = Layout::from_size_align(512, 8).unwrap();
    let big = Layout::from_size_align(4096, 8).unwrap();
    // SAFETY: non-zero layouts; every block returned is freed below with its layout.
    unsafe {
        assert!(heap.alloc(big).is_null());
        assert!(heap.alloc_zeroed(big).is_null());
        let p = heap.alloc_zeroed(small);
        assert!(!p.is_null());
        assert!(heap.realloc(p, small, 2048).is_null());
        let q = heap.realloc(p, small, 1000);
        assert!(!q.is_null());
        heap.dealloc(q, Layout::from_size_align(1000, 8).unwrap());
    }
    assert_eq!(
        heap.figures(),
        figures([1, 1, 1], [1512, 1512], 0, 1000, 1000)
    );
}
