//! `#[memprobe(scope = "process")]`: every thread counts, process-scope tests serialize with each
//! other, and allocations from threads outside the probed code are flagged, with a message that
//! suggests thread scope or nextest. A test binary of its own, since the test harness's threads
//! allocate too.

use memprobe::memprobe;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Barrier;
use std::time::{Duration, Instant};

memprobe::global_allocator!();

mod support;

/// The report `name` (a measured function of this file) wrote.
fn written_report(name: &str) -> memprobe::Report {
    support::written_report(module_path!(), name)
}

/// A thread the test starts counts without entering anything.
#[memprobe(scope = "process", max_rss_growth = "256 MiB")]
#[test]
fn other_threads_count() {
    std::thread::spawn(|| black_box(vec![0u8; 1 << 20]))
        .join()
        .unwrap();
}

#[test]
fn process_reports_include_other_threads() {
    other_threads_count();
    let r = written_report("other_threads_count");
    assert_eq!(r.scope, memprobe::Scope::Process);
    assert_eq!(r.allocs.largest_alloc_bytes, 1 << 20);
    assert!(r.allocs.alloc_bytes >= 1 << 20);
    // The spawned thread did not enter the probe, so its allocations are counted as outside.
    assert!(
        r.outside_alloc_count.is_some_and(|n| n >= 1),
        "{:?}",
        r.outside_alloc_count
    );
    assert!(r.rss.is_some());
}

/// Figures inflated by threads outside the probe are flagged in the failure.
#[memprobe(scope = "process", max_allocs = 0, report = false)]
fn contaminated() {
    std::thread::scope(|s| {
        s.spawn(|| black_box(vec![0u8; 64]));
    });
}

#[test]
fn contamination_is_flagged_with_the_way_out() {
    let payload = catch_unwind(AssertUnwindSafe(contaminated)).unwrap_err();
    let message = payload.downcast::<String>().unwrap();
    assert!(message.starts_with("memprobe: function `contaminated` failed its memory checks\nlimits:\n  max_allocs: limit 0, actual "), "{message}");
    const NOTE: &str = " allocation events came from threads outside the probed code (the test harness, other tests running in parallel), so the process-scope figures are inflated; for exact figures use scope = \"thread\" (the default), or run under cargo nextest (one test per process)";
    let flagged = |prefix: &str| {
        message.lines().any(|l| {
            l.strip_prefix(prefix)
                .and_then(|l| l.strip_suffix(NOTE))
                .is_some_and(|n| n.parse::<u64>().is_ok_and(|n| n > 0))
        })
    };
    assert!(flagged("note: "), "{message}");
    assert!(flagged("  ! "), "the table flags it too: {message}");
}

/// When each run of [`one_mebibyte`]'s body began and ended, in the order they ended.
static BODIES: std::sync::Mutex<Vec<(Instant, Instant)>> = std::sync::Mutex::new(Vec::new());

/// Holds 1 MiB for 20 ms inside a process-scope probe, and records when its body ran.
#[memprobe(scope = "process", report = false, max_peak = "2 MiB")]
fn one_mebibyte() {
    let began = Instant::now();
    let block = black_box(vec![0u8; 1 << 20]);
    std::thread::sleep(Duration::from_millis(20));
    drop(block);
    let ended = Instant::now();
    BODIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((began, ended));
}

/// Process-scope probes never overlap: four threads released at once each run a probed body
/// of 20 ms, and no two bodies' time spans intersect. Checking figures would not do: an
/// overlapping start resets the process counters, which only lowers what the other probe
/// reports, so limits still pass.
#[test]
fn process_scope_probes_serialize() {
    let start = Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                start.wait();
                one_mebibyte();
            });
        }
    });
    let mut spans = BODIES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(spans.len(), 4);
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "two process-scope bodies ran at once: {:?} and {:?} from the first start",
            (pair[0].0 - spans[0].0, pair[0].1 - spans[0].0),
            (pair[1].0 - spans[0].0, pair[1].1 - spans[0].0)
        );
    }
}
