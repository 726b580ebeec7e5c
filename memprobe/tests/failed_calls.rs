//! A call the inner allocator fails (returns null) counts as nothing, on the fast path (where it
//! is counted ahead and taken back) and inside a probe.

memprobe::global_allocator!();

use memprobe::Counting;
use std::alloc::{GlobalAlloc, Layout};

/// An allocator whose every allocation fails.
struct Exhausted;

// SAFETY: never hands out memory, so there is nothing to misuse; `dealloc` is never reached.
unsafe impl GlobalAlloc for Exhausted {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        std::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        unreachable!("nothing was allocated")
    }
    unsafe fn realloc(&self, _ptr: *mut u8, _layout: Layout, _new_size: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
}

static EXHAUSTED: Counting<Exhausted> = Counting::new(Exhausted);

fn fail_every_way() {
    let layout = Layout::from_size_align(4096, 8).unwrap();
    let mut block = [0u8; 16];
    // SAFETY: valid non-zero layouts; `realloc` gets a pointer it will not touch (the inner
    // allocator fails without reading it) with a matching layout.
    unsafe {
        assert!(EXHAUSTED.alloc(layout).is_null());
        assert!(EXHAUSTED.alloc_zeroed(layout).is_null());
        let old = Layout::from_size_align(16, 8).unwrap();
        assert!(EXHAUSTED.realloc(block.as_mut_ptr(), old, 8192).is_null());
    }
}

#[test]
fn failed_calls_count_as_nothing_on_the_fast_path() {
    drop(std::hint::black_box(vec![0u8; 1])); // this thread is listed: the fast path
    let before = memprobe::thread_totals().unwrap();
    fail_every_way();
    assert_eq!(memprobe::thread_totals().unwrap(), before);
}

#[test]
fn failed_calls_count_as_nothing_inside_a_probe() {
    let report = memprobe::measure(fail_every_way).unwrap();
    assert_eq!(report.allocs.allocations(), 0, "{report}");
    assert_eq!(report.allocs.alloc_bytes, 0, "{report}");
    assert_eq!(report.allocs.freed_bytes, 0, "{report}");
}
