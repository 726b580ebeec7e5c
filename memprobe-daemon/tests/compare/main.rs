//! `memprobe-daemon compare` end to end, on reports written by real `#[memprobe]` runs: this
//! binary holds a few measured workloads (ignored in a normal run) and the tests run the binary
//! itself as a subprocess, twice, with a different workload size and `MEMPROBE_HOME` each time,
//! then compare the two report directories. One module per area; set-up in `support`.
//!
//! Its own binary: the workloads need the counting allocator installed process-wide.

use memprobe::memprobe;
use std::hint::black_box;

memprobe::global_allocator!();

mod support;

mod bad_input;
mod github;
mod reports;
mod summaries;
mod workflow;

/// The workload's size, from the environment of the run that generates reports.
fn workload_size() -> usize {
    std::env::var(support::WORKLOAD_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// Grows with the workload: `n` buffers of 1 KiB, all kept until the end, then freed.
#[memprobe]
#[test]
#[ignore = "a workload: run by the compare tests as a subprocess"]
fn workload_buffers() {
    let n = workload_size();
    let buffers: Vec<Vec<u8>> = (0..n).map(|_| vec![1u8; 1024]).collect();
    drop(black_box(buffers));
}

/// Leaks nothing and does the same in every run.
#[memprobe(iters = 4)]
#[test]
#[ignore = "a workload: run by the compare tests as a subprocess"]
fn workload_steady() {
    drop(black_box(String::from("steady state")));
}

/// Only run in BASE: "gone from NEW".
#[memprobe]
#[test]
#[ignore = "a workload: run by the compare tests as a subprocess"]
fn workload_retired() {
    drop(black_box(vec![0u64; 8]));
}

/// Only run in NEW: "new in NEW".
#[memprobe]
#[test]
#[ignore = "a workload: run by the compare tests as a subprocess"]
fn workload_added() {
    drop(black_box(vec![0u64; 16]));
}
