//! What the probe docs say about threads that end during a process-scope probe: a thread's
//! thread-local destructors run after its closure returned, so `std::thread::scope` can return
//! before they free; joining the thread's handle waits for them. Its own test binary: the
//! figures are process-wide.

memprobe::global_allocator!();

use memprobe::{Probe, Scope};
use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

/// A distinctive size, so the free is recognisable in process-wide figures.
const HELD: usize = 1_000_003;

/// A thread-local whose destructor frees [`HELD`] bytes, after a pause long enough that a probe
/// finished right after `std::thread::scope` returns certainly ends before the free.
struct FreedLate(RefCell<Vec<u8>>);
impl Drop for FreedLate {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_millis(300));
        drop(self.0.take());
    }
}
thread_local! {
    static LATE: FreedLate = const { FreedLate(RefCell::new(Vec::new())) };
}

fn hold() {
    LATE.with(|l| *l.0.borrow_mut() = black_box(vec![1u8; HELD]));
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn scope_returns_before_scoped_threads_free_in_their_thread_local_destructors() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let probe = Probe::start(Scope::Process).unwrap();
    std::thread::scope(|s| {
        s.spawn(hold);
    });
    let report = probe.finish().unwrap();
    // Allocated inside the probe, freed after it ended: the free is not in the report.
    assert!(report.allocs.alloc_bytes >= HELD as u64, "{report}");
    assert!(report.allocs.freed_bytes < HELD as u64, "{report}");
    // Let the destructor finish before the next test measures.
    std::thread::sleep(Duration::from_millis(500));
}

#[test]
fn joining_a_scoped_thread_waits_for_its_thread_local_destructors() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let probe = Probe::start(Scope::Process).unwrap();
    std::thread::scope(|s| {
        s.spawn(hold).join().unwrap();
    });
    let report = probe.finish().unwrap();
    assert!(report.allocs.freed_bytes >= HELD as u64, "{report}");
    assert!(report.allocs.net_bytes < HELD as i64, "{report}");
}

#[test]
fn joining_a_spawned_thread_waits_for_its_thread_local_destructors() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let probe = Probe::start(Scope::Process).unwrap();
    std::thread::spawn(hold).join().unwrap();
    let report = probe.finish().unwrap();
    assert!(report.allocs.freed_bytes >= HELD as u64, "{report}");
    assert!(report.allocs.net_bytes < HELD as i64, "{report}");
}
