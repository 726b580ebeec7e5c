//! Counting overhead: alloc/free churn of mixed sizes (8 B – 4 KiB) through each allocator called
//! directly, at 1 and 2 threads, in one run, so the ratios compare like with like.
//!
//! Run: `cargo bench -p memprobe --bench alloc_overhead`
//!
//! Besides the four allocators the issue names, two reference designs show where memprobe's
//! layout comes from: a naive lazily-initialised thread-local counter and `stats_alloc`-style
//! process-wide atomics. Criterion times each allocator in turn; for ratios that load on a shared
//! machine cannot skew, see the interleaved `alloc_ratio` bench. The jemalloc statistics refresh
//! is measured by `jemalloc_refresh`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::*;

fn alloc_churn(c: &mut Criterion) {
    let sizes = sizes();
    let mut group = c.benchmark_group("alloc_churn");
    group.throughput(Throughput::Elements(1));
    for threads in [1usize, 2] {
        macro_rules! case {
            ($name:literal, $allocator:expr) => {
                group.bench_with_input(BenchmarkId::new($name, threads), &threads, |b, &t| {
                    b.iter_custom(|iters| run($allocator, &sizes, t, iters))
                });
            };
        }
        case!("jemalloc", &JEMALLOC);
        case!("counting_jemalloc", &COUNTING_JEMALLOC);
        case!("system", &SYSTEM);
        case!("counting_system", &COUNTING_SYSTEM);
        case!("naive_tls_jemalloc", &NAIVE_JEMALLOC);
        case!("shared_atomics_jemalloc", &SHARED_JEMALLOC);
    }
    group.finish();
}

criterion_group!(benches, alloc_churn);
criterion_main!(benches);
