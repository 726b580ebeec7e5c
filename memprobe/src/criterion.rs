//! criterion [`Measurement`]s that count allocations instead of time, so criterion reports
//! allocations or bytes per iteration the way it reports nanoseconds per iteration.
//!
//! ```no_run
//! use criterion::{Criterion, criterion_group, criterion_main};
//! use memprobe::criterion::Allocations;
//!
//! memprobe::global_allocator!();
//!
//! fn bench(c: &mut Criterion<Allocations>) {
//!     c.bench_function("format", |b| b.iter(|| format!("{}", 42)));
//! }
//!
//! criterion_group! {
//!     name = allocations;
//!     config = Criterion::default().with_measurement(Allocations);
//!     targets = bench
//! }
//! criterion_main!(allocations);
//! ```
//!
//! # What is counted
//!
//! The benchmarking thread's own allocations, from its per-thread counters (exact, and no more
//! costly to read than a few loads): allocations made by other threads the routine hands work to
//! are not included. Criterion reads the counters around a batch of iterations and divides, so
//! the figures are averages per iteration; a deterministic routine gives the same value in every
//! sample, and criterion's "change" verdicts then mean a real change in allocation behaviour.
//!
//! # Panics
//!
//! Both measurements panic with the line to add when [`crate::Counting`] is not the global
//! allocator, instead of reporting zeros.

use crate::alloc::AllocTotals;
use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// Allocation events (allocations + reallocations) per iteration.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use criterion::measurement::Measurement;
/// use memprobe::criterion::Allocations;
/// let start = Allocations.start();
/// let v = std::hint::black_box(vec![1u8; 10]);
/// assert_eq!(Allocations.end(start), 1);
/// assert_eq!(Allocations.formatter().format_value(3.0), "3.0000 allocs");
/// # drop(v);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocations;

/// Bytes allocated per iteration (requested sizes, as everywhere in memprobe).
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use criterion::measurement::Measurement;
/// use memprobe::criterion::Bytes;
/// let start = Bytes.start();
/// let v = std::hint::black_box(vec![1u8; 4096]);
/// assert_eq!(Bytes.end(start), 4096);
/// assert_eq!(Bytes.formatter().format_value(4096.0), "4.0000 KiB");
/// # drop(v);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Bytes;

fn totals() -> AllocTotals {
    crate::thread_totals().unwrap_or_else(|e| panic!("{e}"))
}

impl Measurement for Allocations {
    type Intermediate = AllocTotals;
    type Value = u64;

    fn start(&self) -> AllocTotals {
        totals()
    }

    fn end(&self, start: AllocTotals) -> u64 {
        let d = totals().since(&start);
        d.alloc_count + d.realloc_count
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CountFormatter
    }
}

impl Measurement for Bytes {
    type Intermediate = AllocTotals;
    type Value = u64;

    fn start(&self) -> AllocTotals {
        totals()
    }

    fn end(&self, start: AllocTotals) -> u64 {
        totals().since(&start).alloc_bytes
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &ByteFormatter
    }
}

/// Divides `values` by the units of work in `throughput`: allocations (or bytes) per element,
/// per byte processed, or per bit.
fn per_unit_of_work(
    throughput: &Throughput,
    values: &mut [f64],
    per: [&'static str; 3],
) -> &'static str {
    let (work, unit) = match *throughput {
        Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n, per[0]),
        Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => (n, per[1]),
        Throughput::Bits(n) => (n, per[2]),
    };
    for v in values {
        *v /= work.max(1) as f64;
    }
    unit
}

struct CountFormatter;

impl ValueFormatter for CountFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (divisor, unit) = if typical < 1e4 {
            (1.0, "allocs")
        } else if typical < 1e7 {
            (1e3, "K allocs")
        } else {
            (1e6, "M allocs")
        };
        for v in values {
            *v /= divisor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        per_unit_of_work(
            throughput,
            values,
            ["allocs/B", "allocs/elem", "allocs/bit"],
        )
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "allocs"
    }
}

struct ByteFormatter;

impl ValueFormatter for ByteFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (divisor, unit) = if typical < 1024.0 {
            (1.0, "B")
        } else if typical < 1024.0 * 1024.0 {
            (1024.0, "KiB")
        } else if typical < 1024.0 * 1024.0 * 1024.0 {
            (1024.0 * 1024.0, "MiB")
        } else {
            (1024.0 * 1024.0 * 1024.0, "GiB")
        };
        for v in values {
            *v /= divisor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        per_unit_of_work(throughput, values, ["B/B", "B/elem", "B/bit"])
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "B"
    }
}
