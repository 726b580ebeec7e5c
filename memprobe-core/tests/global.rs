//! `CountingAlloc` as this test binary's global allocator: `measure` gives exact figures for
//! real std collections. One test per binary, since the counters are process-wide.

use memprobe_core::CountingAlloc;

#[global_allocator]
static HEAP: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

#[test]
fn measure_counts_a_known_pattern_exactly() {
    const N: usize = 64;
    let (kept, f) = HEAP.measure(|| {
        let mut v: Vec<u32> = Vec::with_capacity(N);
        v.extend(0..N as u32);
        v.reserve_exact(N); // realloc from 4N to 8N bytes
        let kept = Box::new([1u64; 4]);
        drop(std::hint::black_box(String::from("dropped string")));
        drop(std::hint::black_box(v));
        kept
    });
    let (first, grown, boxed, string) = (4 * N as u64, 8 * N as u64, 32, 14);
    assert_eq!((f.alloc_count, f.realloc_count, f.dealloc_count), (3, 1, 2));
    assert_eq!(f.alloc_bytes, first + grown + boxed + string);
    assert_eq!(f.freed_bytes, first + string + grown);
    assert_eq!(f.live_bytes, boxed as i64);
    assert_eq!(f.peak_bytes, grown + boxed + string);
    assert_eq!(f.largest_alloc_bytes, grown);
    assert!(HEAP.high_water_mark() >= grown + boxed + string);
    drop(kept);
}
