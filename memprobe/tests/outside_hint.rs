//! A process-scope limit broken only by other threads' allocations (what parallel `cargo test`
//! does to process scope) says so, and names the two ways to exact figures. Its own binary: it
//! starts a thread that allocates outside the probe on purpose.

use memprobe::__private::{Scope, run};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

memprobe::global_allocator!();

mod support;

#[test]
fn outside_allocations_that_break_max_allocs_suggest_thread_scope_or_nextest() {
    let dir = tempfile::tempdir().unwrap();
    let test = support::leak(
        support::test_in(dir.path(), "jobs", || "jobs::quiet::__memprobe_marker")
            .scope(Scope::Process)
            .max_allocs(0),
    );
    // Another "test" allocating while this one runs, as under parallel `cargo test`.
    let stop = AtomicBool::new(false);
    let message = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                drop(black_box(vec![0u8; 64]));
                std::thread::yield_now();
            }
        });
        let message = support::panic_message(|| {
            // The measured code itself allocates nothing.
            run(test, || {
                std::thread::sleep(std::time::Duration::from_millis(50))
            })
        });
        stop.store(true, Ordering::Relaxed);
        message
    });
    assert!(
        message.contains("max_allocs broke only because of the "),
        "{message}"
    );
    assert!(
        message.contains("allocation events from threads outside the probe (other tests running in parallel, the harness): without them, 0 per iteration is within the limit; measure with scope = \"thread\" (the default), or run the process-scope tests under cargo nextest (one test per process) or with --test-threads=1"),
        "{message}"
    );
}

#[test]
fn own_allocations_over_the_limit_get_no_such_hint() {
    let dir = tempfile::tempdir().unwrap();
    let test = support::leak(
        support::test_in(dir.path(), "jobs", || "jobs::noisy::__memprobe_marker")
            .scope(Scope::Process)
            .max_allocs(0),
    );
    let message = support::panic_message(|| run(test, || drop(black_box(vec![0u8; 64]))));
    assert!(message.contains("max_allocs: limit 0"), "{message}");
    assert!(!message.contains("broke only because"), "{message}");
}
