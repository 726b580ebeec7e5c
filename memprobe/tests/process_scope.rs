//! Process-scope probes count every thread, including threads that exit during the probe. Its own
//! test binary: the harness's threads allocate too, and these figures are process-wide.

memprobe::global_allocator!();

use memprobe::{Probe, Scope};
use std::hint::black_box;
use std::sync::Mutex;

/// The tests of this binary allocate on other threads: run them one at a time so one test's
/// threads are not another's process-wide figures.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_thread_that_allocates_and_exits_is_counted() {
    let _serial = one_at_a_time();
    let probe = Probe::start(Scope::Process).unwrap();
    std::thread::spawn(|| {
        let kept = black_box(vec![0u8; 123_456]);
        std::mem::forget(kept);
    })
    .join()
    .unwrap();
    let report = probe.finish().unwrap();
    assert!(report.allocs.alloc_bytes >= 123_456, "{report}");
    assert!(report.allocs.largest_alloc_bytes >= 123_456, "{report}");
    // (Net is not asserted: the harness's threads may free memory they allocated earlier while
    // this process-wide probe runs, which lowers it legitimately.)
    // The spawned thread did not enter the probe's attribution: flagged as outside work.
    assert!(report.outside_alloc_count.unwrap() >= 1, "{report}");
    assert!(report.includes.iter().any(|s| s.contains("process-wide")));
}

#[test]
fn process_totals_survive_thread_exit_and_slot_reuse() {
    let _serial = one_at_a_time();
    let before = memprobe::process_totals().unwrap();
    for round in 0..50 {
        std::thread::spawn(move || drop(black_box(vec![0u8; 1000 + round])))
            .join()
            .unwrap();
    }
    let delta = memprobe::process_totals().unwrap().since(&before);
    let payload: u64 = (0..50).map(|r| 1000 + r).sum();
    assert!(delta.alloc_bytes >= payload, "{delta:?}");
    assert!(delta.freed_bytes >= payload, "{delta:?}");
}

#[test]
fn allocations_during_thread_local_destruction_are_counted_not_crashing() {
    struct AllocatesOnDrop;
    impl Drop for AllocatesOnDrop {
        fn drop(&mut self) {
            // Runs while the thread tears down its thread-locals.
            std::mem::forget(black_box(vec![0u8; 31_337]));
        }
    }
    thread_local! {
        static LATE: AllocatesOnDrop = const { AllocatesOnDrop };
    }
    let _serial = one_at_a_time();
    let probe = Probe::start(Scope::Process).unwrap();
    std::thread::spawn(|| LATE.with(|_| ())).join().unwrap();
    let report = probe.finish().unwrap();
    assert!(report.allocs.alloc_bytes >= 31_337, "{report}");
}

#[test]
fn process_probes_serialize() {
    let _serial = one_at_a_time();
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                barrier.wait();
                let probe = Probe::start(Scope::Process).unwrap();
                let v = black_box(vec![0u8; 50_000]);
                let report = probe.finish().unwrap();
                drop(v);
                // Had the two overlapped, one would see the other's 50 000 bytes (or a reset).
                assert!(report.allocs.alloc_bytes >= 50_000);
                assert!(report.allocs.alloc_bytes < 100_000, "{report}");
            });
        }
    });
}

#[cfg(unix)]
#[test]
fn threads_memprobe_never_saw_are_counted() {
    // A thread created by C (no Rust thread setup at all) allocating through the global allocator.
    extern "C" fn foreign(_: *mut libc::c_void) -> *mut libc::c_void {
        std::mem::forget(black_box(vec![0u8; 54_321]));
        std::ptr::null_mut()
    }
    let _serial = one_at_a_time();
    let probe = Probe::start(Scope::Process).unwrap();
    let mut thread: libc::pthread_t = 0;
    // SAFETY: `thread` is a valid out-pointer, `foreign` has the start routine's signature and
    // takes no argument; the thread is joined before `thread` goes out of scope.
    unsafe {
        assert_eq!(
            libc::pthread_create(&mut thread, std::ptr::null(), foreign, std::ptr::null_mut()),
            0
        );
        assert_eq!(libc::pthread_join(thread, std::ptr::null_mut()), 0);
    }
    let report = probe.finish().unwrap();
    assert!(report.allocs.alloc_bytes >= 54_321, "{report}");
    assert!(report.allocs.largest_alloc_bytes >= 54_321, "{report}");
}
