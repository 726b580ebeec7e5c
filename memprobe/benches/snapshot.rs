//! Cost of reading this process's memory: memprobe's resident-size read (Linux: one `pread` of
//! `statm`) and full snapshot (`statm` + `status`), against a `sysinfo` refresh of the same
//! process's memory, the usual crate for the job. Targets: RSS read ≤ 2 µs and ≥ 25× faster than
//! sysinfo; full snapshot ≤ 12 µs.
//!
//! Run: `cargo bench -p memprobe --bench snapshot -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memprobe::ProcessMemory;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

fn snapshot(c: &mut Criterion) {
    let me = ProcessMemory::current().expect("memprobe: cannot read this process's memory");
    let mut group = c.benchmark_group("snapshot");

    group.bench_function("memprobe rss_bytes", |b| {
        b.iter(|| black_box(me.rss_bytes().unwrap()))
    });
    group.bench_function("memprobe snapshot", |b| {
        b.iter(|| black_box(me.snapshot().unwrap()))
    });
    // The user-space share of a snapshot: parsing a captured status file, no system call.
    let status = include_bytes!("../tests/fixtures/proc/self_status");
    group.bench_function("parse_status (fixture)", |b| {
        b.iter(|| black_box(memprobe::snapshot::procfs::parse_status(black_box(status))))
    });

    // The reader is kept between iterations, as memprobe's is: only the refresh is timed.
    let mut system = System::new().expect("sysinfo could not initialise");
    let pid = Pid::from_u32(std::process::id());
    group.bench_function("sysinfo refresh memory", |b| {
        b.iter(|| {
            system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing().with_memory(),
            );
            black_box(system.process(pid).map(|p| p.memory()))
        })
    });
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
