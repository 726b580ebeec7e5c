//! What every allocator binary runs: the same cases, through the binary's global allocator,
//! timed in CPU time of the measuring threads, one line per case on stdout
//! (`case<TAB>threads<TAB>value`).
//!
//! Cases: alloc/free churn of mixed sizes (8 B – 4 KiB, 64 blocks live per thread), CPU ns per
//! operation; build and drop a `BTreeMap<String, Vec<u8>>` and a serde_json round trip, CPU µs
//! per run. Each at 1 and 2 threads. Sizes come from the environment set by the driver:
//! `PEERS_OPS` churn operations per thread, `PEERS_ENTRIES` map entries, `PEERS_RECORDS` JSON
//! records, `PEERS_REPS` runs per thread.

use crate::common::{churn, run_cpu, sizes, workloads};
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;

/// The binary's global allocator, reached through `std::alloc` (the `__rust_alloc` symbols), the
/// same way for every contender: some peers (allocation-counter) do not expose their allocator.
struct Global;

// SAFETY: forwards every call unchanged to the global allocator.
unsafe impl GlobalAlloc for Global {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        unsafe { std::alloc::alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { std::alloc::dealloc(ptr, layout) }
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs every case once and prints its figure. `wrap` surrounds each measuring thread's work
/// (allocation-counter only counts inside its `measure`; the others pass the work through).
///
/// # Examples
/// ```no_run
/// bench_peers::contender::main(|work| work());
/// ```
pub fn main(wrap: fn(&dyn Fn())) {
    let ops = env("PEERS_OPS", 200_000);
    let entries = env("PEERS_ENTRIES", 5_000) as usize;
    let records = env("PEERS_RECORDS", 300) as usize;
    let reps = env("PEERS_REPS", 2) as usize;
    let sizes = sizes();
    let document = workloads::json_document(records);
    for threads in [1usize, 2] {
        let t = run_cpu(threads, &|| wrap(&|| churn(&Global, &sizes, ops)));
        println!(
            "churn\t{threads}\t{}",
            t.as_nanos() as f64 / (ops * threads as u64) as f64
        );
    }
    for threads in [1usize, 2] {
        let t = run_cpu(threads, &|| {
            wrap(&|| {
                for _ in 0..reps {
                    black_box(workloads::btree_build_drop(entries));
                }
            })
        });
        println!(
            "btree\t{threads}\t{}",
            t.as_secs_f64() * 1e6 / (reps * threads) as f64
        );
    }
    for threads in [1usize, 2] {
        let t = run_cpu(threads, &|| {
            wrap(&|| {
                for _ in 0..reps {
                    black_box(workloads::json_round_trip(&document));
                }
            })
        });
        println!(
            "json\t{threads}\t{}",
            t.as_secs_f64() * 1e6 / (reps * threads) as f64
        );
    }
}
