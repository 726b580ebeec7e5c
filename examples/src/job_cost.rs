//! "Each job costs 1.2 KiB": what creating one job allocates, exactly, per iteration.
//!
//! Run: `cargo run --release -p memprobe-examples --bin job-cost` (add `-- --iters 100000` to
//! average over more jobs; the default is 10000).
//!
//! A job here is what a queue worker builds for each message: an id, a name, a few labels and a
//! payload buffer. The report gives allocations and bytes per job, the same figures a
//! `#[memprobe(iters = ...)]` test checks in CI. The last table fits a queue of 10, 50, 100 and
//! 200 jobs (`memprobe::scaling`): the cost per job with its confidence interval, beside the RSS
//! delta that reading RSS before and after gives.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::probe::Iterations;
use memprobe_examples::jobs::{self, create_job};
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "[--iters N]";

fn main() -> ExitCode {
    common::exit("job-cost", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("job-cost", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let iters = args.value::<u64>("--iters")?.unwrap_or(10_000);
    args.finish()?;

    let mut out = std::io::stdout().lock();
    let mut id = 0;
    for payload_len in [0usize, 256, 4096] {
        let report = memprobe::measure_iters(Iterations::new(iters).warmup(100), || {
            id += 1;
            black_box(create_job(id, payload_len))
        })?;
        let per = report.per_iteration();
        writeln!(
            out,
            "job with {payload_len:>4} B payload: {:.1} allocations and {} per job",
            per.allocations,
            memprobe::units::Bytes(per.alloc_bytes.round() as u64)
        )?;
        writeln!(out, "{report}")?;
    }
    // A job kept alive: net bytes show what a queue of jobs holds.
    let kept = memprobe::measure(|| (0..1000).map(|i| create_job(i, 64)).collect::<Vec<_>>())?;
    writeln!(
        out,
        "1000 queued jobs hold {} (net), peak {}",
        memprobe::units::SignedBytes(kept.allocs.net_bytes),
        memprobe::units::Bytes(kept.allocs.peak_bytes)
    )?;
    // Teams create 10, 50, 100 and 200 jobs and read RSS: the fit gives the cost per job exactly.
    writeln!(out, "\n{}", jobs::fit()?)?;
    Ok(0)
}
