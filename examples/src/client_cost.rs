//! "What does building a client cost?": the allocations and bytes of creating one HTTP-style
//! client through its builder, per client over many creations, by pool size, and what sharing the
//! configuration through an `Arc` instead of cloning it saves per client.
//!
//! Run: `cargo run --release -p memprobe-examples --bin client-cost` (add `-- --iters 100000` to
//! average over more clients; the default is 10000).
//!
//! The client is what a service builds per tenant or per upstream: a configuration (base URL,
//! user agent, default headers), a header map merged from it, and a pool of connections, each
//! with a read and a write buffer allocated up front. The figures are exact counts from the
//! counting allocator, the same ones a `#[memprobe(iters = ..., max_allocs = ...)]` test checks;
//! then a per-client budget is checked with [`memprobe::Limits`] as CI would. The last table fits a
//! registry of 1, 10, 50 and 100 clients (`memprobe::scaling`): 65 KiB per client allocated, while
//! the RSS delta barely moves, since buffers allocated with `Vec::with_capacity` are not touched
//! until a request uses them.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::Limits;
use memprobe::probe::Iterations;
use memprobe::units::{Bytes, SignedBytes};
use memprobe_examples::clients::{self, BUFFER_BYTES, Config, ConfigHandle, POOL_SIZE, new_client};
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "[--iters N]";

fn main() -> ExitCode {
    common::exit("client-cost", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("client-cost", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let iters = args.value::<u64>("--iters")?.unwrap_or(10_000);
    args.finish()?;
    let mut out = std::io::stdout().lock();

    let config = Config::example();
    let shared = Arc::new(config.clone());
    let cloned = || ConfigHandle::Cloned(config.clone());
    let arc = || ConfigHandle::Shared(Arc::clone(&shared));

    // One creation, the full report: net bytes are what one client holds while it lives.
    let one = memprobe::measure(|| new_client(cloned(), POOL_SIZE))?;
    writeln!(
        out,
        "one client (cloned config, {POOL_SIZE} connections x 2 x {}): {} allocations, {} allocated, holds {}",
        Bytes(BUFFER_BYTES as u64),
        one.allocs.allocations(),
        Bytes(one.allocs.alloc_bytes),
        SignedBytes(one.allocs.net_bytes),
    )?;
    writeln!(out, "{one}")?;

    // Many creations: per-client figures, cloned against shared configuration.
    let iterations = Iterations::new(iters).warmup(10);
    let per_cloned = memprobe::measure_iters(iterations, || new_client(cloned(), POOL_SIZE))?;
    let per_shared = memprobe::measure_iters(iterations, || new_client(arc(), POOL_SIZE))?;
    writeln!(out, "per client, over {iters} creations:")?;
    for (label, report) in [("cloned config", &per_cloned), ("Arc<Config>", &per_shared)] {
        let per = report.per_iteration();
        writeln!(
            out,
            "  {label:<14} {:>6.2} allocations  {:>10} allocated  {:>8.0} ns",
            per.allocations,
            Bytes(per.alloc_bytes.round() as u64).to_string(),
            per.duration_ns,
        )?;
    }
    let (c, s) = (per_cloned.per_iteration(), per_shared.per_iteration());
    writeln!(
        out,
        "  sharing the config saves {:.2} allocations and {} per client",
        c.allocations - s.allocations,
        Bytes((c.alloc_bytes - s.alloc_bytes).round() as u64),
    )?;

    // The pool dominates the bytes; the header map and strings dominate the allocation count.
    writeln!(out, "by pool size (Arc<Config>):")?;
    writeln!(
        out,
        "  {:>11} {:>12} {:>12}",
        "connections", "allocations", "allocated"
    )?;
    for pool_size in [0, 1, 4, 16] {
        let report = memprobe::measure_iters(iterations, || new_client(arc(), pool_size))?;
        let per = report.per_iteration();
        writeln!(
            out,
            "  {pool_size:>11} {:>12.2} {:>12}",
            per.allocations,
            Bytes(per.alloc_bytes.round() as u64).to_string()
        )?;
    }

    // Clients kept alive: what a registry of 1000 clients (one per tenant) holds.
    for (label, handle) in [
        ("cloned config", &cloned as &dyn Fn() -> ConfigHandle),
        ("Arc<Config>", &arc),
    ] {
        let kept = memprobe::measure(|| {
            (0..1000)
                .map(|_| new_client(handle(), POOL_SIZE))
                .collect::<Vec<_>>()
        })?;
        writeln!(
            out,
            "1000 live clients ({label}) hold {} in {} allocations",
            SignedBytes(kept.allocs.net_bytes),
            kept.allocs.allocations(),
        )?;
    }

    // A per-client budget, as a CI check would hold it: the shared client fits, the cloned one
    // does not, and the violation says by how much.
    let budget = Limits::new().max_allocs(22).max_bytes("66 KiB")?;
    for (label, report) in [("cloned config", &per_cloned), ("Arc<Config>", &per_shared)] {
        let violations = budget.check(report);
        if violations.is_empty() {
            writeln!(
                out,
                "budget (22 allocations, 66 KiB per client), {label}: within"
            )?;
        }
        for violation in violations {
            writeln!(
                out,
                "budget (22 allocations, 66 KiB per client), {label}: {violation}"
            )?;
        }
    }
    black_box(&shared);
    // Teams create 1, 10, 50 and 100 clients and read RSS: the fit gives the cost per client.
    writeln!(out, "\n{}", clients::fit()?)?;
    Ok(0)
}
