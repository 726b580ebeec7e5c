//! "This hot path makes 0 allocations": an HTTP request-head parser that borrows from its input,
//! and a response-head encoder into a reused buffer, both asserted allocation-free after warm-up;
//! and the same encoder into a new, exactly sized `Vec`: exactly one allocation per call.
//!
//! Run: `cargo run --release -p memprobe-examples --bin hot-path`.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::Limits;
use memprobe::probe::Iterations;
use memprobe_examples::hot_path::{self, Header, MAX_HEADERS, RESPONSE_HEADERS, SAMPLE_REQUEST};
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "[--iters N]";

fn main() -> ExitCode {
    common::exit("hot-path", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("hot-path", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let iters = args.value::<u64>("--iters")?.unwrap_or(100_000);
    args.finish()?;
    let mut out = std::io::stdout().lock();
    let iterations = Iterations::new(iters).warmup(10);

    let mut headers = [Header::default(); MAX_HEADERS];
    let parse = memprobe::measure_iters(iterations, || {
        hot_path::parse(black_box(SAMPLE_REQUEST), &mut headers).map(|h| h.headers.len())
    })?;
    let mut buf = Vec::new();
    let encode_into = memprobe::measure_iters(iterations, || {
        hot_path::encode_into(&mut buf, 200, "OK", &RESPONSE_HEADERS, 1234)
    })?;
    let encode = memprobe::measure_iters(iterations, || {
        hot_path::encode(200, "OK", &RESPONSE_HEADERS, 1234)
    })?;
    let head_len = hot_path::encode(200, "OK", &RESPONSE_HEADERS, 1234)?.len();

    let zero = Limits::new().max_allocs(0);
    let one = Limits::new()
        .max_allocs(1)
        .max_bytes(&head_len.to_string())?;
    let mut failed = false;
    for (label, report, limits, budget) in [
        ("parse", &parse, &zero, "max_allocs = 0"),
        (
            "encode_into (reused buffer)",
            &encode_into,
            &zero,
            "max_allocs = 0",
        ),
        ("encode (new Vec)", &encode, &one, "max_allocs = 1"),
    ] {
        let per = report.per_iteration();
        let violations = limits.check(report);
        failed |= !violations.is_empty();
        writeln!(
            out,
            "{label:<28} {:>3} allocations and {:>5} per call over {iters} calls after 10 warm-up: {budget} {}",
            memprobe::scaling::table::count(per.allocations),
            memprobe::units::ByteAmount(per.alloc_bytes).to_string(),
            if violations.is_empty() {
                "holds"
            } else {
                "FAILS"
            }
        )?;
        for v in violations {
            writeln!(out, "  {v}")?;
        }
    }
    writeln!(out, "(the encoded head is {head_len} B)\n")?;
    for fit in [
        hot_path::parse_fit()?,
        hot_path::encode_into_fit()?,
        hot_path::encode_fit()?,
    ] {
        writeln!(out, "{fit}")?;
    }
    Ok(u8::from(failed))
}
