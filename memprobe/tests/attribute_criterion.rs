//! `memprobe::criterion`: criterion reports allocations and bytes per iteration through the
//! `Allocations` and `Bytes` measurements. Needs the `criterion` feature:
//! `cargo test -p memprobe --features criterion --test attribute_criterion`.

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use memprobe::criterion::{Allocations, Bytes};
use std::hint::black_box;
use std::time::Duration;

memprobe::global_allocator!();

#[test]
fn measurements_count_exactly() {
    let start = Allocations.start();
    let mut s = String::new();
    for _ in 0..100 {
        s.push('x');
    }
    // One allocation, then four reallocations: 8 → 16 → 32 → 64 → 128 bytes.
    assert_eq!(Allocations.end(start), 5);
    let start = Bytes.start();
    drop(black_box(vec![0u8; 3000]));
    assert_eq!(Bytes.end(start), 3000);
    assert_eq!(Allocations.add(&2, &3), 5);
    assert_eq!(Bytes.to_f64(&Bytes.zero()), 0.0);
}

#[test]
fn values_are_formatted_in_their_units() {
    let counts = Allocations.formatter();
    assert_eq!(counts.format_value(2.0), "2.0000 allocs");
    assert_eq!(counts.format_value(25_000.0), "25.000 K allocs");
    assert_eq!(
        counts.format_throughput(&Throughput::Elements(4), 2.0),
        "0.5000 allocs/elem"
    );
    let bytes = Bytes.formatter();
    assert_eq!(bytes.format_value(512.0), "512.00 B");
    assert_eq!(bytes.format_value(3.0 * 1024.0 * 1024.0), "3.0000 MiB");
    assert_eq!(
        bytes.format_throughput(&Throughput::Bytes(1024), 2048.0),
        "2.0000 B/B"
    );
    let mut machine = [1.0, 2.0];
    assert_eq!(bytes.scale_for_machines(&mut machine), "B");
    assert_eq!(machine, [1.0, 2.0]);
}

/// A real criterion run over each measurement: its estimates are the exact per-iteration figures.
#[test]
fn criterion_reports_allocations_per_iteration() {
    let dir = tempfile::tempdir().unwrap();
    let quick = |c: Criterion| {
        c.output_directory(dir.path())
            .sample_size(10)
            .warm_up_time(Duration::from_millis(10))
            .measurement_time(Duration::from_millis(50))
            .nresamples(1000)
            .without_plots()
    };
    let mut c = quick(Criterion::default()).with_measurement(Allocations);
    c.bench_function("three_boxes", |b| {
        b.iter(|| (Box::new(1u8), Box::new(2u16), Box::new(3u32)))
    });
    let mut c = quick(Criterion::default()).with_measurement(Bytes);
    c.bench_function("vec_1000", |b| b.iter(|| vec![0u8; 1000]));

    for (id, expected) in [("three_boxes", 3.0), ("vec_1000", 1000.0)] {
        let path = dir.path().join(id).join("new/estimates.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let estimates: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            estimates["mean"]["point_estimate"], expected,
            "{id}: {text}"
        );
        assert_eq!(estimates["median"]["point_estimate"], expected, "{id}");
    }
}
