//! Process-scope reports stay self-consistent while other threads allocate during the probe's
//! start and end: an allocation lands in a probe whole or not at all. Its own test binary, with
//! one test, so only the threads it starts allocate while it measures.

memprobe::global_allocator!();

use memprobe::{Probe, Scope};
use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

#[test]
fn reports_never_contradict_themselves_under_churn() {
    const CHURNERS: usize = 4;
    const PROBES: usize = 20_000;
    let stop = AtomicBool::new(false);
    let ready = Barrier::new(CHURNERS + 1);
    let mut bad = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..CHURNERS {
            s.spawn(|| {
                ready.wait();
                while !stop.load(Relaxed) {
                    drop(black_box(Box::new([0u8; 64])));
                }
            });
        }
        ready.wait();
        let mut reports = Vec::with_capacity(PROBES);
        for _ in 0..PROBES {
            let probe = Probe::start(Scope::Process).unwrap();
            reports.push(probe.finish().unwrap().allocs);
        }
        stop.store(true, Relaxed);
        for a in &reports {
            if a.alloc_bytes != 64 * a.alloc_count
                || a.freed_bytes != 64 * a.dealloc_count
                || a.realloc_count != 0
            {
                bad.push(*a);
            }
        }
    });
    assert!(
        bad.is_empty(),
        "{} of {PROBES} reports contradict themselves, first: {:?}",
        bad.len(),
        bad.first()
    );
}
