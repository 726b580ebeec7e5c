//! Process totals stay exact across thread exit, allocations in thread-local destructors
//! included. Alone in its test binary: the figures are process-wide, and with a second test in the
//! binary the harness's thread allocates while reporting it, in the middle of a measurement (seen
//! failing about 1 run in 15 that way).

memprobe::global_allocator!();

use std::hint::black_box;

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
