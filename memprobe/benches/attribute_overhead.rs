//! What `#[memprobe]` costs per annotated call, beyond the body: settings lookup, probe start and
//! finish (RSS snapshots, jemalloc statistics when jemalloc is the allocator), the report, and
//! writing its JSON file. Also prints one annotated run's table, as a `harness = false` bench sees it.
//!
//! Run both builds; the allocator decides whether jemalloc statistics are read:
//!
//! ```text
//! cargo bench -p memprobe --bench attribute_overhead                        # jemalloc: statistics read
//! cargo bench -p memprobe --bench attribute_overhead --no-default-features  # System: no statistics
//! ```
//!
//! With jemalloc, each statistics refresh (an epoch advance) merges every arena in use, so the
//! `arenas_in_use` group measures the annotated call after 1, 2, 4 and 8 threads have allocated
//! at once (jemalloc gives concurrent threads their own arenas, up to 4 per CPU). `purge` is
//! measured on its own: it returns every arena's dirty pages to the OS before each snapshot, which
//! costs little when nothing is dirty and more after the body freed memory (the `churn_4MiB`
//! variants free 4 MiB per call).

use criterion::Criterion;
use memprobe::memprobe;
use std::hint::black_box;
use std::time::Duration;

// The bench compares the two allocators through the `jemalloc` feature: one binary cannot switch
// global allocators at run time.
#[cfg(feature = "jemalloc")]
memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);
#[cfg(not(feature = "jemalloc"))]
memprobe::global_allocator!();

/// The body every variant runs: one small allocation.
fn body() {
    black_box(Box::new(black_box(7u64)));
}

#[memprobe(report = false)]
fn probed() {
    body();
}

#[memprobe(report = "json")]
fn probed_with_report() {
    body();
}

#[memprobe(
    report = "json",
    max_allocs = 1,
    max_bytes = "1 KiB",
    max_peak = "1 KiB"
)]
fn probed_with_report_and_limits() {
    body();
}

#[memprobe(report = "json", purge)]
fn probed_with_report_and_purge() {
    body();
}

/// Allocates and frees 4 MiB, leaving dirty pages for `purge` to return.
fn churn() {
    drop(black_box(vec![1u8; 4 << 20]));
}

#[memprobe(report = "json")]
fn churn_with_report() {
    churn();
}

#[memprobe(report = "json", purge)]
fn churn_with_report_and_purge() {
    churn();
}

/// What a `harness = false` bench prints for an annotated function: the per-iteration table.
#[memprobe(iters = 10_000, warmup = 100, max_allocs = 2)]
fn format_a_line() {
    black_box(format!("{} {}", black_box("job"), black_box(42)));
}

/// Makes `threads` threads allocate at the same time, so jemalloc hands each its own arena.
#[cfg(feature = "jemalloc")]
fn use_arenas(threads: usize) {
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                barrier.wait();
                black_box(vec![0u8; 4096]);
                barrier.wait();
            });
        }
    });
}

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("attribute");
    group.bench_function("plain_call", |b| b.iter(body));
    group.bench_function("probe_only", |b| b.iter(probed));
    group.bench_function("probe_and_json_report", |b| b.iter(probed_with_report));
    group.bench_function("probe_json_report_and_limits", |b| {
        b.iter(probed_with_report_and_limits)
    });
    group.bench_function("probe_json_report_and_purge", |b| {
        b.iter(probed_with_report_and_purge)
    });
    group.bench_function("churn_4MiB_plain", |b| b.iter(churn));
    group.bench_function("churn_4MiB_json_report", |b| b.iter(churn_with_report));
    group.bench_function("churn_4MiB_json_report_and_purge", |b| {
        b.iter(churn_with_report_and_purge)
    });
    group.finish();

    #[cfg(feature = "jemalloc")]
    {
        let mut group = c.benchmark_group("arenas_in_use");
        for threads in [1, 2, 4, 8] {
            use_arenas(threads);
            group.bench_with_input(
                criterion::BenchmarkId::new("stats_read", threads),
                &threads,
                |b, _| b.iter(|| memprobe::JemallocStats::read().unwrap()),
            );
            group.bench_with_input(
                criterion::BenchmarkId::new("probe_and_json_report", threads),
                &threads,
                |b, _| b.iter(probed_with_report),
            );
        }
        group.finish();
        println!(
            "jemalloc arena limit: {}",
            memprobe::jemalloc::arena_count().unwrap()
        );
    }
}

fn main() {
    format_a_line();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    overhead(&mut c);
    c.final_summary();
}
