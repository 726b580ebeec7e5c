//! Cost of a verdict: `analyze` on 10,000 and 1,000,000 samples (targets: ≤ 5 ms and ≤ 100 ms).
//!
//! Run with `cargo bench -p memprobe --bench trend -- --warm-up-time 1 --measurement-time 3`.
//! Each trace is 0.1 s samples of 100 MiB with noise; "leak" takes the direct path (one fit),
//! "step" the plateau path (a fit, the plateau search, and a second fit on the tail).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use memprobe::trend::{Sample, Series, SeriesKind, TrendConfig, analyze};
use std::hint::black_box;

/// Deterministic noise (xorshift64*), uniform in [-0.5, 0.5).
fn noise(state: &mut u64) -> f64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

fn trace(n: usize, shape: impl Fn(f64) -> f64) -> Series {
    let mut state = 0x9E37_79B9_7F4A_7C15;
    let base = 100.0 * 1048576.0;
    Series::from_samples(
        SeriesKind::Rss,
        (0..n).map(|i| {
            let share = i as f64 / n as f64;
            Sample::new(
                i as f64 * 0.1,
                (base * (1.0 + shape(share) + 0.01 * noise(&mut state))).round(),
            )
        }),
    )
}

fn verdict(c: &mut Criterion) {
    let config = TrendConfig::new();
    let mut group = c.benchmark_group("trend/analyze");
    for n in [10_000, 1_000_000] {
        let leak = trace(n, |s| 0.1 * s);
        let step = trace(n, |s| if s < 0.5 { 0.0 } else { 0.1 });
        group.bench_with_input(BenchmarkId::new("leak", n), &leak, |b, s| {
            b.iter(|| analyze(&config, black_box(std::slice::from_ref(s))).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("step", n), &step, |b, s| {
            b.iter(|| analyze(&config, black_box(std::slice::from_ref(s))).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, verdict);
criterion_main!(benches);
