//! The tour: every scenario's per-item cost, exactly, beside the RSS delta teams read today, then
//! a short leak soak and a plateau soak judged in process. About a minute in release.
//!
//! Run: `cargo run --release -p memprobe-examples --bin tour` (`-- --soak-seconds 2` for a quicker
//! pass, `-- --tables` to print every fit's full table).

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::scaling::table::count;
use memprobe::trend::{Soak, Verdict, VerdictKind};
use memprobe::units::ByteAmount;
use memprobe_examples::{SCENARIOS, Scenario, actors};
use std::collections::VecDeque;
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "[--soak-seconds S (default 20)] [--tables]";

fn main() -> ExitCode {
    common::exit("tour", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("tour", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let soak_seconds = args.value::<f64>("--soak-seconds")?.unwrap_or(20.0);
    if !(soak_seconds.is_finite() && soak_seconds > 0.0) {
        return Err(args.usage_error(format!(
            "--soak-seconds {soak_seconds}: expected a positive number"
        )));
    }
    let tables = args.switch("--tables");
    args.finish()?;
    let started = Instant::now();
    let mut out = std::io::stdout().lock();

    writeln!(
        out,
        "memprobe tour: what one job, client, JSON byte, actor, message and call costs, exactly\n"
    )?;
    let mut fits = Vec::with_capacity(SCENARIOS.len());
    for Scenario { label, fit } in SCENARIOS {
        let fit = fit()?;
        if tables {
            writeln!(out, "{fit}")?;
        } else {
            writeln!(out, "{label:<29} {}", fit.summary())?;
        }
        fits.push((label, fit));
    }

    writeln!(
        out,
        "\nper-item cost (exact counts; the RSS delta is what reading RSS before and after gives)"
    )?;
    writeln!(
        out,
        "  {:<29} {:<15} {:>10} {:>9} {:>10} {:>7}  {:<7} RSS delta at each size [noisy]",
        "scenario", "item", "bytes", "allocs", "fixed", "R²", "shape",
    )?;
    for (label, fit) in &fits {
        let rss = if fit.rss_bytes.is_some() {
            fit.sizes
                .iter()
                .map(|&n| {
                    let deltas: Vec<i64> = fit.at(n).filter_map(|p| p.rss_delta_bytes).collect();
                    deltas
                        .iter()
                        .max()
                        .map_or("-".to_owned(), |&d| ByteAmount(d as f64).to_string())
                })
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            "not read".to_owned()
        };
        writeln!(
            out,
            "  {label:<29} {:<15} {:>10} {:>9} {:>10} {:>7.4}  {:<7} {rss}",
            fit.item,
            ByteAmount(fit.alloc_bytes.per_item).to_string(),
            count(fit.allocations.per_item),
            ByteAmount(fit.alloc_bytes.fixed).to_string(),
            fit.alloc_bytes.r_squared.min(fit.allocations.r_squared),
            if fit.alloc_bytes.shape.is_linear() && fit.allocations.shape.is_linear() {
                "linear"
            } else {
                "bends"
            },
        )?;
    }

    let drained = actors::fill_and_drain(10_000, 3)?;
    writeln!(
        out,
        "\nunbounded mailbox, 10000 messages queued then drained: peak {}, left {} (blocks kept for reuse); 3 more rounds leave {} more",
        memprobe::units::Bytes(drained.peak_bytes),
        memprobe::units::SignedBytes(drained.first_round_net_bytes),
        memprobe::units::SignedBytes(drained.later_rounds_net_bytes),
    )?;

    let soak = Soak::duration(Duration::from_secs_f64(soak_seconds));
    writeln!(out, "\nsoak ({soak_seconds} s each, judged in process):")?;
    let mut sessions = Vec::new();
    let leak = soak.run(|i| {
        sessions.push(session(i));
        std::thread::sleep(Duration::from_micros(50));
    })?;
    print_verdict(&mut out, "leak (sessions never evicted)", &leak)?;
    drop(sessions);
    let mut cache = VecDeque::with_capacity(1024);
    let plateau = soak.run(|i| {
        if cache.len() == 1024 {
            cache.pop_front();
        }
        cache.push_back(session(i));
        std::thread::sleep(Duration::from_micros(50));
    })?;
    print_verdict(&mut out, "plateau (bounded cache)", &plateau)?;
    black_box(&cache);

    writeln!(
        out,
        "\ntour done in {:.1} s",
        started.elapsed().as_secs_f64()
    )?;
    Ok(0)
}

/// What a request leaves behind: a user name and a 64-byte token.
fn session(i: u64) -> (String, Vec<u8>) {
    (
        format!("user-{}", i % 10_007),
        (0..64).map(|b| (i as u8).wrapping_add(b)).collect(),
    )
}

fn print_verdict(out: &mut impl Write, label: &str, verdict: &Verdict) -> std::io::Result<()> {
    let kind = match &verdict.kind {
        VerdictKind::Pass => "pass",
        VerdictKind::Growth => "growth",
        VerdictKind::Fragmentation => "fragmentation",
        VerdictKind::Inconclusive { .. } => "inconclusive",
        _ => "other",
    };
    writeln!(
        out,
        "  {label}: {kind} (exit {})\n    {verdict}",
        verdict.exit_code()
    )
}
