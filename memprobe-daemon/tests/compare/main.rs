//! `memprobe-daemon compare` end to end, on reports written by real `#[memprobe]` runs: this
//! binary holds a few measured workloads (ignored in a normal run) and the tests run the binary
//! itself as a subprocess, twice, with a different workload size and `MEMPROBE_HOME` each time,
//! then compare the two report directories. One module per area; set-up in `support`.
//!
//! Its own binary: the workloads need the counting allocator installed process-wide. Under it
//! sits `System` calling the two hooks of `memprobe::sites` (as the allocator contract there
//! says), so `workload_sites` writes a real allocation-site profile beside its report.

use memprobe::memprobe;
use std::hint::black_box;

// memprobe's counting allocator calls the allocation-site hooks itself (the daemon builds
// memprobe with its `sites` feature), so the sampled workloads below are profiled through it.
memprobe::global_allocator!();

mod support;

mod sites;

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

/// Allocates and frees `100 * n` blocks of 1000 bytes: twice as much in a run of size 2.
#[inline(never)]
fn site_grow(n: usize) {
    for _ in 0..100 * n {
        drop(black_box(vec![0u8; 1000]));
    }
}

/// Leaks `n` blocks of 4096 bytes: live at the end.
#[inline(never)]
fn site_keep(n: usize) {
    for _ in 0..n {
        std::mem::forget(black_box(vec![1u8; 4096]));
    }
}

/// The same in every run.
#[inline(never)]
fn site_steady() {
    drop(black_box(vec![0u8; 5000]));
}

/// Only in a run of size 1: "gone from NEW".
#[inline(never)]
fn site_retired() {
    drop(black_box(vec![0u8; 3000]));
}

/// Only in a run of size 2 or more: "new in NEW".
#[inline(never)]
fn site_added() {
    drop(black_box(vec![0u8; 7000]));
}

/// The measured part of `workload_sites`.
#[memprobe]
fn measured_sites() {
    let n = workload_size();
    site_grow(n);
    site_keep(n);
    site_steady();
    if n == 1 {
        site_retired();
    } else {
        site_added();
    }
}

/// Runs `measured_sites` (which writes `compare.measured_sites.json`) inside an allocation-site
/// session sampled as `MEMPROBE_COMPARE_SAMPLING` says (`exact`, or a mean in bytes), and
/// writes the profile beside the report as `compare.measured_sites.sites.json` (and `.sites.pb.gz`),
/// as `#[memprobe(sites)]` does.
#[test]
#[ignore = "a workload: run by the compare tests as a subprocess"]
fn workload_sites() {
    use memprobe::sites::{Sampling, Session, pprof, render};
    let sampling = match std::env::var(support::SAMPLING_ENV).as_deref() {
        Ok("exact") | Err(_) => Sampling::Exact,
        Ok(mean) => Sampling::MeanBytes(mean.parse().expect("a mean in bytes")),
    };
    let session = Session::start(sampling).unwrap();
    measured_sites();
    let profile = session.finish();
    let home = std::path::PathBuf::from(std::env::var_os("MEMPROBE_HOME").unwrap());
    let dir = home.join("memprobe-daemon");
    let report = support::report(&dir, "measured_sites");
    assert!(report.is_file(), "{} written", report.display());
    std::fs::write(
        dir.join("compare.measured_sites.sites.json"),
        render::json(&profile),
    )
    .unwrap();
    pprof::write(&profile, &dir.join("compare.measured_sites.sites.pb.gz")).unwrap();
}
