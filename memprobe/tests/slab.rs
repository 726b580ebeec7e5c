//! Per-thread counter slots are reused: thousands of short-lived threads over a run (one large
//! `cargo test`) keep only a few slots in use, so process-wide sums stay small, and totals stay
//! exact throughout. Its own test binary: the figures are process-wide.

memprobe::global_allocator!();

use std::hint::black_box;

#[test]
fn five_thousand_short_lived_threads_reuse_the_lowest_slots() {
    const THREADS: u64 = 5_000;
    let before = memprobe::process_totals().unwrap();
    for i in 0..THREADS {
        std::thread::spawn(move || drop(black_box(vec![0u8; 100 + (i % 7) as usize])))
            .join()
            .unwrap();
    }
    let delta = memprobe::process_totals().unwrap().since(&before);
    let payload: u64 = (0..THREADS).map(|i| 100 + i % 7).sum();
    assert!(delta.alloc_bytes >= payload, "{delta:?}");
    assert!(delta.freed_bytes >= payload, "{delta:?}");
    let slots = memprobe::alloc::thread_slots();
    // The test harness runs a handful of threads; one thread at a time was added to them.
    assert!(slots.high_water <= 16, "{slots:?}");
    assert!(slots.in_use <= 16, "{slots:?}");
}
