//! Counting overhead as ratios measured in one run, interleaved: every round times each allocator
//! in turn on the same work, and each round gives one ratio per allocator against bare jemalloc
//! (bare System for `Counting<System>`), so slow drifts in machine load cancel out. The figure
//! per allocator is the median of its per-round ratios, with the interquartile range as spread;
//! the line "vs naive" is the median per-round ratio of `Counting<Jemalloc>` to the naive
//! thread-local counter: the floor for any exact counter.
//!
//! Times are CPU time of the measuring threads (`CLOCK_THREAD_CPUTIME_ID`, summed over threads),
//! not wall time: on a shared machine, time spent waiting for a core while other processes run
//! would otherwise land on whichever allocator was being timed.
//!
//! Two kinds of work:
//! - churn: alloc/free of mixed sizes, each allocator called directly;
//! - realistic: build and drop a `BTreeMap<String, Vec<u8>>`, and a serde_json round trip,
//!   through the global allocator. This binary's global allocator switches between the
//!   contenders over jemalloc (one relaxed load and a predictable branch per call, the same for
//!   all of them, which slightly compresses these ratios toward 1).
//!
//! Run: `cargo bench -p memprobe --bench alloc_ratio` (`MEMPROBE_RATIO_ROUNDS`, default 61;
//! `MEMPROBE_RATIO_OPS` churn operations per thread per round, default 500 000).
//!
//! With `--features sites`, `Counting<Jemalloc>` calls the allocation-sites hooks from its cold
//! path only (a `watch` bit raised while a session runs), so with no session its hot path is the
//! featureless code; one more contender runs: the same `Counting<Jemalloc>` wrapped in a pair of
//! hook calls on every call (how the counting allocator was first wired: one relaxed load of the
//! sampler's epoch and a branch per hook). A feature cannot be on and off in one binary, so the
//! cross-run figure is `Counting<Jemalloc>`'s ratio (to jemalloc and to the naive counter) with
//! and without the feature; the line "hooks on every call" is what the cold-path wiring saves.
//! And one more: the same `Counting<Jemalloc>` with an allocation-sites session at the default
//! rate (512 KiB) running through its rounds (started and finished outside the timed threads),
//! on the churn and on the realistic workloads: sampling's cost, in the same interleaved rounds.
//! Its stack walk is the DWARF unwinder unless the build keeps frame pointers and
//! `MEMPROBE_SITES_UNWIND=frame-pointers` is set (the run prints which).

mod common;
use common::*;

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::Duration;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which contender the global allocator forwards to: an index into [`OVER_JEMALLOC`].
static MODE: AtomicU8 = AtomicU8::new(0);

/// The contenders that can serve as the global allocator in turn: all over the same jemalloc,
/// so a block allocated under one and freed under another is still freed by its allocator.
const OVER_JEMALLOC: [&str; 4] = [
    "jemalloc",
    "Counting<Jemalloc>",
    "naive thread-local over jemalloc",
    "shared atomics over jemalloc",
];

struct Switch;

macro_rules! forward {
    ($method:ident($($arg:expr),*)) => {
        // SAFETY: the caller upholds the method's contract, passed on unchanged; every contender
        // ends in the same jemalloc, so any of them may free what another allocated.
        unsafe {
            match MODE.load(Relaxed) {
                1 => COUNTING_JEMALLOC.$method($($arg),*),
                2 => NAIVE_JEMALLOC.$method($($arg),*),
                3 => SHARED_JEMALLOC.$method($($arg),*),
                _ => JEMALLOC.$method($($arg),*),
            }
        }
    };
}

// SAFETY: forwards every call to one of the contenders, all of which wrap jemalloc.
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        forward!(alloc(layout))
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        forward!(alloc_zeroed(layout))
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        forward!(dealloc(ptr, layout))
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        forward!(realloc(ptr, layout, new_size))
    }
}

#[global_allocator]
static GLOBAL: Switch = Switch;

/// The `sites` contender's name.
#[cfg(feature = "sites")]
const HOOKED_TWICE: &str = "Counting<Jemalloc> + hooks on every call";

/// The sampling contender's name: `Counting<Jemalloc>` while a sites session runs.
#[cfg(feature = "sites")]
const SAMPLED: &str = "Counting<Jemalloc>, sites at 512 KiB";

/// Runs `f` inside an allocation-sites session at the default rate.
#[cfg(feature = "sites")]
fn sampled<R>(f: impl FnOnce() -> R) -> R {
    let session = memprobe::sites::Session::start(memprobe::sites::Sampling::default())
        .expect("no other session in this bench");
    let r = f();
    drop(std::hint::black_box(session.finish()));
    r
}

/// The `sites` feature's contender: `Counting<Jemalloc>` (which calls the hooks only from its
/// cold path) inside a pair of hook calls made on every call, as the first wiring did.
#[cfg(feature = "sites")]
mod sites_hooks {
    use super::*;
    use tikv_jemallocator::Jemalloc;

    pub struct HookedTwice<A>(pub A);

    // SAFETY: forwards every call unchanged to the inner allocator; the hooks only observe and
    // never allocate.
    unsafe impl<A: GlobalAlloc> GlobalAlloc for HookedTwice<A> {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract is passed on.
            let ptr = unsafe { self.0.alloc(layout) };
            if !ptr.is_null() {
                memprobe::sites::on_alloc(ptr, layout.size());
            }
            ptr
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            memprobe::sites::on_dealloc(ptr, layout.size());
            // SAFETY: the caller's contract is passed on.
            unsafe { self.0.dealloc(ptr, layout) }
        }
    }

    pub static COUNTING_HOOKED_TWICE: HookedTwice<memprobe::Counting<Jemalloc>> =
        HookedTwice(memprobe::Counting::new(Jemalloc));
}

/// `a` against `b`, per round, in the same run: median and interquartile range.
#[cfg(feature = "sites")]
fn print_pair(names: &[&str], times: &[Vec<f64>], a: &str, b: &str) {
    let find = |n: &str| names.iter().position(|x| *x == n).expect("contender");
    let (ia, ib) = (find(a), find(b));
    let mut r: Vec<f64> = times[ia]
        .iter()
        .zip(&times[ib])
        .map(|(t, b)| t / b)
        .collect();
    r.sort_by(f64::total_cmp);
    println!(
        "  {a} vs {b}: {:+.1}% (IQR {:+.1}% to {:+.1}%)",
        (quantile(&r, 0.5) - 1.0) * 100.0,
        (quantile(&r, 0.25) - 1.0) * 100.0,
        (quantile(&r, 0.75) - 1.0) * 100.0,
    );
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Prints medians of per-round times, and medians and interquartile ranges of per-round ratios.
/// `times[i][round]` is contender `i`'s time in that round.
fn print_table(
    title: &str,
    unit: &str,
    names: &[&str],
    times: &[Vec<f64>],
    base_of: impl Fn(&str) -> usize,
) {
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let ratios = |i: usize, base: usize| {
        sorted(
            times[i]
                .iter()
                .zip(&times[base])
                .map(|(t, b)| t / b)
                .collect(),
        )
    };
    println!("\n{title:<40} {unit:>9}   ratio (IQR)");
    for (i, name) in names.iter().enumerate() {
        let r = ratios(i, base_of(name));
        println!(
            "  {name:<38} {:>9.2}   {:>5.3}x ({:.3}-{:.3})",
            quantile(&sorted(times[i].clone()), 0.5),
            quantile(&r, 0.5),
            quantile(&r, 0.25),
            quantile(&r, 0.75),
        );
    }
    let find = |n: &str| names.iter().position(|x| *x == n);
    if let (Some(c), Some(naive)) = (
        find("Counting<Jemalloc>"),
        find("naive thread-local over jemalloc"),
    ) {
        let r = ratios(c, naive);
        println!(
            "  Counting<Jemalloc> vs naive: {:+.1}% (IQR {:+.1}% to {:+.1}%)",
            (quantile(&r, 0.5) - 1.0) * 100.0,
            (quantile(&r, 0.25) - 1.0) * 100.0,
            (quantile(&r, 0.75) - 1.0) * 100.0,
        );
        if let Some(naive4) = find("naive, memprobe's four figures") {
            let r = ratios(c, naive4);
            println!(
                "  Counting<Jemalloc> vs naive with the same four figures: {:+.1}% (IQR {:+.1}% to {:+.1}%)",
                (quantile(&r, 0.5) - 1.0) * 100.0,
                (quantile(&r, 0.25) - 1.0) * 100.0,
                (quantile(&r, 0.75) - 1.0) * 100.0,
            );
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a quick pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick {
        3
    } else {
        env("MEMPROBE_RATIO_ROUNDS", 61)
    } as usize;
    let ops = if quick {
        20_000
    } else {
        env("MEMPROBE_RATIO_OPS", 500_000)
    };
    let sizes = sizes();
    type Case = (
        &'static str,
        &'static (dyn Fn(&[usize], usize, u64) -> Duration + Sync),
    );
    fn case<A: GlobalAlloc + Sync + 'static>(
        a: &'static A,
    ) -> impl Fn(&[usize], usize, u64) -> Duration + Sync {
        move |sizes, threads, ops| run_cpu(threads, &|| churn(a, sizes, ops))
    }
    #[allow(unused_mut)] // the sites feature adds a contender
    let mut cases: Vec<Case> = vec![
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
        (
            "naive, memprobe's four figures",
            Box::leak(Box::new(case(&NAIVE4_JEMALLOC))),
        ),
    ];
    #[cfg(feature = "sites")]
    cases.push((
        HOOKED_TWICE,
        Box::leak(Box::new(case(&sites_hooks::COUNTING_HOOKED_TWICE))),
    ));
    #[cfg(feature = "sites")]
    {
        sampled(|| ());
        println!(
            "sites sessions walk stacks with {}",
            if memprobe::sites::frame_pointer_walk() {
                "frame pointers"
            } else {
                "the DWARF unwinder"
            }
        );
        cases.push((
            SAMPLED,
            Box::leak(Box::new(|sizes: &[usize], threads, ops| {
                sampled(|| run_cpu(threads, &|| churn(&COUNTING_JEMALLOC, sizes, ops)))
            })),
        ));
    }
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    println!(
        "alloc/free churn, 8 B - 4 KiB, {ops} ops per thread per round, {rounds} interleaved \
         rounds; CPU ns per op"
    );
    for threads in [1usize, 2] {
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
        for round in 0..rounds {
            // Rotate the order each round so no allocator always runs first (or last).
            for k in 0..cases.len() {
                let i = (round + k) % cases.len();
                let elapsed = (cases[i].1)(&sizes, threads, ops);
                times[i].push(elapsed.as_nanos() as f64 / (ops * threads as u64) as f64);
            }
        }
        print_table(
            &format!("churn, {threads} thread(s)"),
            "ns/op",
            &names,
            &times,
            |name| if name.contains("System") { 2 } else { 0 },
        );
        #[cfg(feature = "sites")]
        {
            print_pair(&names, &times, HOOKED_TWICE, "Counting<Jemalloc>");
            print_pair(&names, &times, SAMPLED, "Counting<Jemalloc>");
        }
    }

    let (entries, records, reps) = if quick { (200, 20, 1) } else { (5_000, 300, 2) };
    type Work = Box<dyn Fn() + Sync>;
    let workloads: [(&str, Work); 2] = [
        (
            "BTreeMap<String, Vec<u8>> build + drop",
            Box::new(move || {
                for _ in 0..reps {
                    std::hint::black_box(workloads::btree_build_drop(entries));
                }
            }),
        ),
        (
            "serde_json round trip",
            Box::new(move || {
                let document = workloads::json_document(records);
                for _ in 0..reps {
                    std::hint::black_box(workloads::json_round_trip(&document));
                }
            }),
        ),
    ];
    println!(
        "\nrealistic workloads through the global allocator ({entries} map entries, {records} JSON \
         records, {reps} runs per thread per round), {rounds} interleaved rounds; CPU µs per run"
    );
    // With `sites`, one more contender: `Counting<Jemalloc>` (mode 1) inside a sites session.
    #[allow(unused_mut)]
    let mut names: Vec<&str> = OVER_JEMALLOC.to_vec();
    #[cfg(feature = "sites")]
    names.push(SAMPLED);
    for (title, work) in &workloads {
        for threads in [1usize, 2] {
            let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
            for round in 0..rounds {
                for k in 0..names.len() {
                    let i = (round + k) % names.len();
                    let timed = || {
                        MODE.store(i.min(OVER_JEMALLOC.len() - 1) as u8, Relaxed);
                        let elapsed = run_cpu(threads, work.as_ref());
                        MODE.store(0, Relaxed);
                        elapsed
                    };
                    #[cfg(feature = "sites")]
                    let elapsed = if names[i] == SAMPLED {
                        MODE.store(1, Relaxed);
                        let elapsed = sampled(|| run_cpu(threads, work.as_ref()));
                        MODE.store(0, Relaxed);
                        elapsed
                    } else {
                        timed()
                    };
                    #[cfg(not(feature = "sites"))]
                    let elapsed = timed();
                    times[i].push(elapsed.as_secs_f64() * 1e6 / (reps * threads) as f64);
                }
            }
            print_table(
                &format!("{title}, {threads} thread(s)"),
                "µs/run",
                &names,
                &times,
                |_| 0,
            );
            #[cfg(feature = "sites")]
            print_pair(&names, &times, SAMPLED, "Counting<Jemalloc>");
        }
    }

    let slots = memprobe::alloc::thread_slots();
    println!(
        "\nmemory memprobe adds per thread: {} B (thread-local state with its counters, plus its \
         registry entry); registry capacity {} threads",
        slots.bytes_per_thread, slots.capacity
    );
}
