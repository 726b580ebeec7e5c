//! A process-scope probe started on a thread that the running process-scope probe's body joins
//! cannot wait for it (that probe waits for this thread): it must end in an error naming the
//! situation, never hang. Run under a deadline so a regression fails instead of hanging the suite.

memprobe::global_allocator!();

use memprobe::probe::ProbeOptions;
use memprobe::{Probe, Scope};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn a_process_probe_inside_a_joined_thread_errors_instead_of_hanging() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let outer = Probe::start(Scope::Process).unwrap();
        let inner = std::thread::spawn(|| {
            ProbeOptions::new(Scope::Process)
                .process_scope_wait(Duration::from_millis(300))
                .start()
                .map(|p| p.finish())
                .err()
        })
        .join()
        .unwrap();
        outer.finish().unwrap();
        let _ = done.send(inner.map(|e| e.to_string()));
    });
    let inner_error = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the scenario hung: a process-scope probe waited for one that joins its thread");
    let message = inner_error.expect("the inner process-scope probe must fail");
    assert!(
        message.starts_with("memprobe: timed out waiting for the running process-scope probe"),
        "{message}"
    );
    assert!(message.contains("joins this thread"), "{message}");
    // The failed start left process scope sound: a new process probe starts and counts.
    let probe = Probe::start(Scope::Process).unwrap();
    let v = std::hint::black_box(vec![0u8; 4242]);
    let report = probe.finish().unwrap();
    drop(v);
    assert!(report.allocs.alloc_bytes >= 4242, "{report}");
}
