//! "How does a request's cost grow with its payload?": allocations, reallocations, bytes and peak
//! live bytes per JSON serialization and deserialization (serde_json) as the payload grows from
//! 64 B to 1 MiB, and what pre-sizing or reusing the output buffer changes.
//!
//! Run: `cargo run --release -p memprobe-examples --bin payload-sizes` (add
//! `-- --max-size 64KiB` to stop earlier).
//!
//! The payload is an order: an id, a kind and a list of items, grown item by item until its JSON
//! reaches the target size. Each size is measured four ways, one table row each:
//!
//! - `to_vec`: `serde_json::to_vec`, whose output `Vec` starts at 128 bytes and doubles: a large
//!   payload reallocates about log2(size / 128) times, its peak is the final capacity (up to twice
//!   the payload), and the bytes allocated add up every capacity passed through (up to four times
//!   the payload);
//! - `presized`: `Vec::with_capacity(len)` then `serde_json::to_writer`: one allocation, no
//!   reallocation, exactly the payload's bytes;
//! - `reused`: one buffer kept across requests (`clear()` then `to_writer`): no allocation at all
//!   once it has grown to the largest payload;
//! - `from_slice`: `serde_json::from_slice` back into the order: a `String` per item, and the
//!   item `Vec` doubling as it is filled (serde_json gives no length hint).
//!
//! The last tables fit `to_vec` and `from_slice` over payloads of 1 KB, 10 KB, 100 KB and 1 MB
//! (`memprobe::scaling`; `--no-fit` skips them): bytes per byte of JSON, exactly, beside the RSS
//! delta.
//!
//! `peak` is the highest live-byte level above the start over the whole row (every operation
//! frees what it built, so it is the peak of one operation).

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::Report;
use memprobe::probe::Iterations;
use memprobe::units::Bytes;
use memprobe_examples::payloads::{self, Order, order_of_size};
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "[--max-size SIZE (64 B to 1 MiB, e.g. 4KiB; default 1MiB)] [--no-fit]";

const SIZES: [u64; 8] = [
    64,
    256,
    1 << 10,
    4 << 10,
    16 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
];

/// Bytes of JSON each row processes in total: small payloads get many iterations, 1 MiB gets 8.
const BYTES_PER_ROW: u64 = 8 << 20;

fn main() -> ExitCode {
    common::exit("payload-sizes", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("payload-sizes", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let max_size = match args.value::<String>("--max-size")? {
        None => 1 << 20,
        Some(raw) => memprobe::units::parse_bytes(&raw)?,
    };
    let fits = !args.switch("--no-fit");
    args.finish()?;
    let mut out = std::io::stdout().lock();

    writeln!(
        out,
        "{:>9} {:>8} {:<10} {:>10} {:>11} {:>11} {:>10}",
        "target", "json", "op", "allocs/op", "reallocs/op", "bytes/op", "peak"
    )?;
    let mut largest = None;
    for target in SIZES.into_iter().filter(|&s| s <= max_size) {
        let order = order_of_size(target);
        let json = serde_json::to_vec(&order)?;
        let iterations = Iterations::new((BYTES_PER_ROW / target).clamp(8, 20_000)).warmup(2);

        let to_vec = memprobe::measure_iters(iterations, || serde_json::to_vec(&order))?;
        let presized = memprobe::measure_iters(iterations, || {
            let mut buf = Vec::with_capacity(json.len());
            serde_json::to_writer(&mut buf, &order).map(|()| buf)
        })?;
        // The warm-up grows the reused buffer once; measured iterations then allocate nothing.
        let mut reused_buf = Vec::new();
        let reused = memprobe::measure_iters(iterations, || {
            reused_buf.clear();
            serde_json::to_writer(&mut reused_buf, &order)
        })?;
        let from_slice =
            memprobe::measure_iters(iterations, || serde_json::from_slice::<Order>(&json))?;
        black_box(&reused_buf);

        for (op, report) in [
            ("to_vec", &to_vec),
            ("presized", &presized),
            ("reused", &reused),
            ("from_slice", &from_slice),
        ] {
            row(&mut out, target, json.len(), op, report)?;
        }
        largest = Some((json.len(), to_vec, presized));
    }
    if let Some((len, to_vec, presized)) = largest {
        let per = |r: &Report, f: fn(&Report) -> u64| f(r) as f64 / r.iterations as f64;
        writeln!(
            out,
            "\nat {}: to_vec reallocates {:.0} times and allocates {} ({:.1}x the payload); \
             presized: {:.0} allocation of {}",
            Bytes(len as u64),
            per(&to_vec, |r| r.allocs.realloc_count),
            Bytes(per(&to_vec, |r| r.allocs.alloc_bytes).round() as u64),
            per(&to_vec, |r| r.allocs.alloc_bytes) / len as f64,
            per(&presized, |r| r.allocs.alloc_count),
            Bytes(per(&presized, |r| r.allocs.alloc_bytes).round() as u64),
        )?;
    }
    if fits {
        // Teams send 1 KB, 10 KB, 100 KB and 1 MB and read RSS: the fits give the cost per byte.
        writeln!(out, "\n{}", payloads::serialize_fit()?)?;
        writeln!(out, "{}", payloads::parse_fit()?)?;
    }
    Ok(0)
}

fn row(
    out: &mut impl Write,
    target: u64,
    json_len: usize,
    op: &str,
    report: &Report,
) -> std::io::Result<()> {
    let n = report.iterations as f64;
    writeln!(
        out,
        "{:>9} {:>8} {op:<10} {:>10.2} {:>11.2} {:>11} {:>10}",
        Bytes(target).to_string(),
        Bytes(json_len as u64).to_string(),
        report.allocs.alloc_count as f64 / n,
        report.allocs.realloc_count as f64 / n,
        Bytes((report.allocs.alloc_bytes as f64 / n).round() as u64).to_string(),
        Bytes(report.allocs.peak_bytes).to_string(),
    )
}
