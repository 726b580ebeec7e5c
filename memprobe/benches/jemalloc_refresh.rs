//! Cost of one jemalloc statistics refresh (epoch advance + six reads), first with one arena in
//! use, then with every automatic arena in use: an epoch merges all arenas, so the cost grows
//! with them. Never on a hot path; this publishes what it costs around a measurement.
//!
//! Run: `cargo bench -p memprobe --bench jemalloc_refresh`

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

use criterion::{Criterion, criterion_group, criterion_main};
use memprobe::JemallocStats;
use std::hint::black_box;

fn refresh(c: &mut Criterion) {
    let mut group = c.benchmark_group("jemalloc_refresh");
    let arenas = memprobe::jemalloc::arena_count().unwrap();
    group.bench_function("one_arena_in_use", |b| {
        b.iter(|| black_box(JemallocStats::read().unwrap()))
    });
    // jemalloc hands arenas to threads round-robin: enough threads touch every automatic arena.
    let threads = 4 * std::thread::available_parallelism().map_or(1, |n| n.get()) * 2;
    let kept: Vec<Vec<u8>> = std::thread::scope(|s| {
        (0..threads)
            .map(|_| s.spawn(|| vec![1u8; 4096]))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    group.bench_function(format!("all_{arenas}_arenas_in_use"), |b| {
        b.iter(|| black_box(JemallocStats::read().unwrap()))
    });
    group.bench_function("purge_all_arenas", |b| {
        b.iter(|| memprobe::jemalloc::purge().unwrap())
    });
    group.finish();
    drop(kept);
}

criterion_group!(benches, refresh);
criterion_main!(benches);
