//! A process-scope probe whose `finish` panics (guards dropped out of order) must end process
//! scope exactly once: later process probes stay exact. Its own test binary, with one test, so
//! nothing else in the process allocates while the exact figures are taken.

memprobe::global_allocator!();

use memprobe::{Probe, Scope};
use std::hint::black_box;

#[test]
fn a_panic_inside_finish_leaves_later_process_probes_exact() {
    let misuse = std::panic::catch_unwind(|| {
        let process = Probe::start(Scope::Process).unwrap();
        let _thread = Probe::start(Scope::Thread).unwrap();
        // Finished while the thread probe started after it still runs: out of order.
        process.finish()
    });
    let message = misuse.expect_err("finishing out of order must panic");
    let message = message
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| message.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.starts_with("memprobe: "), "{message}");

    let probe = Probe::start(Scope::Process).unwrap();
    let v = black_box(vec![0u8; 100]);
    let report = probe.finish().unwrap();
    drop(v);
    assert_eq!(report.allocs.alloc_count, 1, "{report}");
    assert_eq!(report.allocs.alloc_bytes, 100, "{report}");
}
