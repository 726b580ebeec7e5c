//! Cost of a verdict with period and step detection: `analyze` on 10,000 and 1,000,000 samples
//! (targets: ≤ 5 ms and ≤ 200 ms).
//!
//! Run with `cargo bench -p memprobe --bench trend -- --warm-up-time 1 --measurement-time 3`.
//! Each trace is 0.1 s samples of 100 MiB with noise: "leak" is a steady leak, "step" one step
//! then a plateau (the plateau path), "sawtooth+leak" a 2 s sawtooth with a leak under it (the
//! period path, judged per cycle), "unsorted" the leak handed over in reverse order (the copy and
//! sort path).

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

/// `shape(share of the run, t)` as a share of the base, plus 1% noise.
fn trace(n: usize, shape: impl Fn(f64, f64) -> f64) -> Series {
    let mut state = 0x9E37_79B9_7F4A_7C15;
    let base = 100.0 * 1048576.0;
    Series::from_samples(
        SeriesKind::Rss,
        (0..n).map(|i| {
            let t = i as f64 * 0.1;
            let share = i as f64 / n as f64;
            Sample::new(
                t,
                (base * (1.0 + shape(share, t) + 0.01 * noise(&mut state))).round(),
            )
        }),
    )
}

fn verdict(c: &mut Criterion) {
    let config = TrendConfig::new();
    let mut group = c.benchmark_group("trend/analyze");
    for n in [10_000, 1_000_000] {
        let mut unsorted = trace(n, |s, _| 0.1 * s);
        unsorted.samples.reverse();
        let cases = [
            ("leak", trace(n, |s, _| 0.1 * s)),
            ("step", trace(n, |s, _| if s < 0.5 { 0.0 } else { 0.1 })),
            (
                "sawtooth+leak",
                trace(n, |s, t| 0.1 * s + 0.4 * (t / 2.0).fract()),
            ),
            ("unsorted", unsorted),
        ];
        for (name, series) in &cases {
            group.bench_with_input(BenchmarkId::new(*name, n), series, |b, s| {
                b.iter(|| analyze(&config, black_box(std::slice::from_ref(s))).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verdict);
criterion_main!(benches);
