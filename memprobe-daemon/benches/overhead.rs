//! The sampler's cost, in figures the daemon issue sets targets for:
//!
//! 1. maximum statm-only sampling rate (`ProcessMemory::rss_bytes` in a tight loop; target
//!    ≥ 50,000 samples/s), and the full statm + status rate;
//! 2. the daemon's CPU share at 10 Hz and 1 kHz (`--out` on, idle target), beside a bare loop that
//!    only sleeps to deadlines and reads statm (targets ≤ 0.1% and ≤ 1.5% of a core);
//! 3. the daemon's RSS after a run at 100 Hz (target ≤ 4 MiB, flat).
//!
//! ```text
//! cargo bench -p memprobe-daemon --bench overhead
//! MEMPROBE_BENCH_SECS=10 MEMPROBE_BENCH_RSS_SECS=600 cargo bench -p memprobe-daemon --bench overhead   # the full 10-minute RSS run
//! ```
//! Not a criterion bench: each figure is one long measurement of a real process, not a
//! micro-benchmark repeated to a confidence interval.

use memprobe::ProcessMemory;
use nix::sys::resource::{UsageWho, getrusage};
use std::process::Command;
use std::time::{Duration, Instant};

fn secs(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu_ns() -> u64 {
    let r = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let ns =
        |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000_000 + t.tv_usec() as u64 * 1000;
    ns(r.user_time()) + ns(r.system_time())
}

fn idle_target() -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_memprobe-soak-target"))
        .args(["flat", "--base", "1MiB", "--step-ms", "1000"])
        .spawn()
        .unwrap()
}

fn max_rate(pm: &ProcessMemory, full: bool, for_: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < for_ {
        for _ in 0..1000 {
            if full {
                std::hint::black_box(pm.snapshot().unwrap());
            } else {
                std::hint::black_box(pm.rss_bytes().unwrap());
            }
        }
        n += 1000;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// CPU share of a loop that sleeps to absolute deadlines and reads statm, nothing else.
fn bare_loop_share(pm: &ProcessMemory, interval: Duration, for_: Duration) -> f64 {
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let mut k = 0u32;
    while start.elapsed() < for_ {
        std::hint::black_box(pm.rss_bytes().unwrap());
        k += 1;
        let deadline = start + interval * k;
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
    (cpu_ns() - cpu0) as f64 / start.elapsed().as_nanos() as f64
}

struct DaemonRun {
    cpu_share: f64,
    steady_share: f64,
    achieved_hz: f64,
    missed: u64,
    rss: u64,
    rss_anon: u64,
    max_rss: u64,
}

/// On-CPU time of a process in ns (`/proc/<pid>/schedstat`, first field).
fn on_cpu_ns(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn daemon_run(interval: &str, secs: u64) -> DaemonRun {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_memprobe-daemon"))
        .args([
            "watch",
            "--quiet",
            "--interval",
            interval,
            "--duration",
            &format!("{secs}s"),
            "--out",
        ])
        .arg(dir.path().join("s.jsonl"))
        .arg("--summary")
        .arg(&summary)
        .args([
            "--",
            env!("CARGO_BIN_EXE_memprobe-soak-target"),
            "flat",
            "--base",
            "1MiB",
            "--step-ms",
            "1000",
        ])
        .spawn()
        .unwrap();
    // Steady state: CPU between 1 s after the start and 1 s before the end, start-up (exec,
    // dynamic linking, clap) and shutdown left out.
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (on_cpu_ns(child.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(secs.saturating_sub(2).max(1)));
    let steady = (on_cpu_ns(child.id()) - cpu0) as f64 / t0.elapsed().as_nanos() as f64;
    assert!(child.wait().unwrap().success());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    let sampler = &s["sampler"];
    let cpu = sampler["cpu_user_ns"].as_u64().unwrap() + sampler["cpu_system_ns"].as_u64().unwrap();
    DaemonRun {
        cpu_share: cpu as f64 / s["run"]["sampling_ns"].as_u64().unwrap() as f64,
        steady_share: steady,
        achieved_hz: s["run"]["achieved_rate_hz"].as_f64().unwrap(),
        missed: s["run"]["missed_ticks"].as_u64().unwrap(),
        rss: sampler["rss_bytes"].as_u64().unwrap(),
        rss_anon: sampler["rss_anon_bytes"].as_u64().unwrap(),
        max_rss: sampler["max_rss_bytes"].as_u64().unwrap(),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and wants a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let run_secs = if quick {
        1
    } else {
        secs("MEMPROBE_BENCH_SECS", 10)
    };
    let rss_secs = if quick {
        1
    } else {
        secs("MEMPROBE_BENCH_RSS_SECS", 60)
    };

    let mut target = idle_target();
    let pm = ProcessMemory::for_pid(target.id()).unwrap();
    let rate = max_rate(&pm, false, Duration::from_secs(2.min(run_secs)));
    let full = max_rate(&pm, true, Duration::from_secs(2.min(run_secs)));
    println!("max statm-only rate:          {rate:>10.0} samples/s (target >= 50000)");
    println!("max statm+status rate:        {full:>10.0} samples/s");

    for (label, interval, every) in [
        ("10 Hz", "100ms", Duration::from_millis(100)),
        ("1 kHz", "1ms", Duration::from_millis(1)),
    ] {
        let bare = bare_loop_share(&pm, every, Duration::from_secs(run_secs));
        let d = daemon_run(interval, run_secs);
        println!(
            "CPU share at {label} ({run_secs} s): daemon {:.3}% of a core steady ({:.3}% with start-up; achieved {:.1} Hz, {} missed), bare statm loop {:.3}%",
            d.steady_share * 100.0,
            d.cpu_share * 100.0,
            d.achieved_hz,
            d.missed,
            bare * 100.0
        );
    }
    let d = daemon_run("10ms", rss_secs);
    println!(
        "daemon RSS after {rss_secs} s at 100 Hz: {:.2} MiB, of which {:.2} MiB anonymous, the rest its binary's and libraries' pages (peak {:.2} MiB; target <= 4 MiB)",
        d.rss as f64 / 1048576.0,
        d.rss_anon as f64 / 1048576.0,
        d.max_rss as f64 / 1048576.0
    );
    target.kill().unwrap();
    target.wait().unwrap();
}
