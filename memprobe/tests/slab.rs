//! Per-thread counter slots are reused: thousands of short-lived threads over a run (one large
//! `cargo test`) keep only a few slots in use, so process-wide sums stay small, and totals stay
//! exact throughout. Its own test binary: the figures are process-wide.

memprobe::global_allocator!();

use std::hint::black_box;

#[test]
fn five_thousand_short_lived_threads_reuse_the_lowest_slots() {
    const THREADS: u64 = 5_000;
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
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

/// Process totals over a thread's whole life are exact: what a thread allocates, including in
/// its thread-local destructors, is in the totals once it exited, exactly once.
#[test]
fn process_totals_are_exact_across_thread_exit() {
    struct AllocatesOnDrop;
    impl Drop for AllocatesOnDrop {
        fn drop(&mut self) {
            drop(black_box(vec![0u8; 777]));
        }
    }
    thread_local! {
        static LATE: AllocatesOnDrop = const { AllocatesOnDrop };
    }
    fn delta_of(body: fn()) -> memprobe::AllocTotals {
        let before = memprobe::process_totals().unwrap();
        std::thread::spawn(body).join().unwrap();
        memprobe::process_totals().unwrap().since(&before)
    }
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // What spawning and joining an empty thread costs, once it is steady. The test harness's
    // own thread may allocate meanwhile (reporting another test): a measurement is kept only
    // when the empty-thread figures on both sides of it agree.
    let empty = || LATE.with(|_| ());
    delta_of(empty);
    let work = || {
        LATE.with(|_| ());
        drop(black_box(vec![0u8; 1000]));
    };
    let (baseline, with_work) = (0..10)
        .find_map(|_| {
            let (before, with_work, after) = (delta_of(empty), delta_of(work), delta_of(empty));
            (before == after).then_some((before, with_work))
        })
        .expect("spawning an empty thread never cost the same twice in a row");
    let extra = with_work.since(&baseline);
    assert_eq!(
        (
            extra.alloc_count,
            extra.alloc_bytes,
            extra.dealloc_count,
            extra.freed_bytes
        ),
        (1, 1000, 1, 1000),
        "{with_work:?} vs {baseline:?}"
    );
    // The destructor's 777 bytes are in every delta (the baseline too).
    assert!(baseline.alloc_bytes >= 777, "{baseline:?}");
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
