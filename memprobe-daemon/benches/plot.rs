//! `plot` rendering time for runs of 10,000 and 100,000 samples: `memprobe-daemon plot RUN.jsonl
//! --svg --html`, in process, beside `verdict RUN.jsonl` on the same file (reading and judging
//! alone), so the difference is what drawing costs.
//!
//! ```text
//! cargo bench -p memprobe-daemon --bench plot
//! ```
//!
//! The runs are written here in the JSONL form `watch --out` writes (a 10 Hz sampler on a
//! process leaking 64 KiB an iteration under a 20-iteration sawtooth, publishing jemalloc and
//! counting-allocator figures on every line), so the bench needs no minutes-long real run; the
//! plot draws at most 2,048 points per series whatever the run's length, and this measures that
//! it does.

use criterion::{Criterion, criterion_group, criterion_main};
use std::io::Write;
use std::path::Path;

/// Writes a run of `n` samples to `path`.
fn write_run(path: &Path, n: u64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let t_ns = i * 100_000_000;
        let iteration = i / 2;
        let held = (16u64 << 20) + iteration * 65_536 + (iteration % 20) * (1 << 20);
        let rss = held + (8 << 20);
        writeln!(
            out,
            "{{\"t_ns\":{t_ns},\"wall_ns\":{},\"pid\":4242,\"rss_bytes\":{rss},\"rss_anon_bytes\":{},\"rss_file_bytes\":3706880,\"rss_shmem_bytes\":0,\"swap_bytes\":0,\"peak_rss_bytes\":{rss},\"virtual_bytes\":92110848,\"status_t_ns\":{t_ns},\"published\":{{\"pid\":4242,\"updates\":{i},\"updated_monotonic_ns\":{t_ns},\"jemalloc\":{{\"allocated_bytes\":{held},\"active_bytes\":{},\"resident_bytes\":{},\"mapped_bytes\":{},\"retained_bytes\":0,\"metadata_bytes\":1518832}},\"counting\":{{\"alloc_count\":{i},\"realloc_count\":0,\"dealloc_count\":0,\"alloc_bytes\":{held},\"freed_bytes\":0}},\"iteration\":{iteration},\"phase_seq\":1,\"phase\":\"soak\",\"purge_done\":0}}}}",
            1_795_896_019_720_318_861u64 + t_ns,
            rss - 3_706_880,
            held + 65_536,
            held + (2 << 20),
            held + (4 << 20),
        )
        .unwrap();
    }
    out.flush().unwrap();
}

fn daemon(args: &[&std::ffi::OsStr]) {
    let code = memprobe_daemon::main_with_args(
        "memprobe-daemon",
        std::iter::once(std::ffi::OsStr::new("memprobe-daemon")).chain(args.iter().copied()),
    );
    assert!(
        code == std::process::ExitCode::SUCCESS || code == std::process::ExitCode::from(1),
        "{args:?}: {code:?}"
    );
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("out.svg");
    let html = dir.path().join("out.html");
    let mut group = c.benchmark_group("plot");
    group.sample_size(10);
    for n in [10_000u64, 100_000] {
        let run = dir.path().join(format!("run-{n}.jsonl"));
        write_run(&run, n);
        let o = |s: &'static str| std::ffi::OsStr::new(s);
        group.bench_function(format!("verdict {n} samples (read + judge)"), |b| {
            b.iter(|| daemon(&[o("verdict"), run.as_os_str(), o("--quiet")]))
        });
        group.bench_function(format!("plot {n} samples --svg"), |b| {
            b.iter(|| {
                daemon(&[
                    o("plot"),
                    run.as_os_str(),
                    o("--svg"),
                    svg.as_os_str(),
                    o("--quiet"),
                ])
            })
        });
        group.bench_function(format!("plot {n} samples --svg --html"), |b| {
            b.iter(|| {
                daemon(&[
                    o("plot"),
                    run.as_os_str(),
                    o("--svg"),
                    svg.as_os_str(),
                    o("--html"),
                    html.as_os_str(),
                    o("--quiet"),
                ])
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
