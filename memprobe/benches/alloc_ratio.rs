//! Counting overhead as ratios measured in one run, interleaved: every round times each allocator
//! in turn on the same churn, so load from anything else on the machine hits all of them alike.
//! The figure per allocator is the median over rounds; ratios are against bare jemalloc (and
//! bare System for `Counting<System>`).
//!
//! Run: `cargo bench -p memprobe --bench alloc_ratio` (`MEMPROBE_RATIO_ROUNDS`, default 21;
//! `MEMPROBE_RATIO_OPS` per thread per round, default 2 000 000).

mod common;
use common::*;

use std::alloc::GlobalAlloc;
use std::time::Duration;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a quick pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick {
        3
    } else {
        env("MEMPROBE_RATIO_ROUNDS", 21)
    } as usize;
    let ops = if quick {
        20_000
    } else {
        env("MEMPROBE_RATIO_OPS", 2_000_000)
    };
    let sizes = sizes();
    type Case = (
        &'static str,
        &'static (dyn Fn(&[usize], usize, u64) -> Duration + Sync),
    );
    fn case<A: GlobalAlloc + Sync + 'static>(
        a: &'static A,
    ) -> impl Fn(&[usize], usize, u64) -> Duration + Sync {
        move |sizes, threads, ops| run(a, sizes, threads, ops)
    }
    let cases: [Case; 6] = [
        ("jemalloc", Box::leak(Box::new(case(&JEMALLOC)))),
        (
            "Counting<Jemalloc>",
            Box::leak(Box::new(case(&COUNTING_JEMALLOC))),
        ),
        ("System", Box::leak(Box::new(case(&SYSTEM)))),
        (
            "Counting<System>",
            Box::leak(Box::new(case(&COUNTING_SYSTEM))),
        ),
        (
            "naive thread-local over jemalloc",
            Box::leak(Box::new(case(&NAIVE_JEMALLOC))),
        ),
        (
            "shared atomics over jemalloc",
            Box::leak(Box::new(case(&SHARED_JEMALLOC))),
        ),
    ];
    println!(
        "alloc/free churn, 8 B - 4 KiB, {ops} ops per thread, median of {rounds} interleaved rounds"
    );
    for threads in [1usize, 2] {
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
        for round in 0..rounds {
            // Rotate the order each round so no allocator always runs first (or last).
            for k in 0..cases.len() {
                let i = (round + k) % cases.len();
                let elapsed = (cases[i].1)(&sizes, threads, ops);
                times[i].push(elapsed.as_nanos() as f64 / ops as f64);
            }
        }
        let medians: Vec<f64> = times
            .iter_mut()
            .map(|t| {
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            })
            .collect();
        println!("\n{threads} thread(s)                        ns/op   ratio");
        for (i, (name, _)) in cases.iter().enumerate() {
            let base = if name.contains("System") {
                medians[2]
            } else {
                medians[0]
            };
            println!(
                "  {name:<34} {:>6.2}   {:>5.3}x",
                medians[i],
                medians[i] / base
            );
        }
    }
}
