//! The sampler's cost, in figures the daemon issue sets targets for:
//!
//! 1. maximum statm-only sampling rate (`ProcessMemory::rss_bytes` in a tight loop; target
//!    ≥ 50,000 samples/s), and the full statm + status rate;
//! 2. the daemon's CPU share at 10 Hz and 1 kHz (`--out` on, idle target), beside a bare loop that
//!    only sleeps to deadlines and reads statm (targets ≤ 0.1% and ≤ 1.5% of a core);
//! 3. the daemon's RSS after a run at 1 kHz, anonymous (target ≤ 1 MiB, flat: read 1 s in and
//!    1 s before the end) and file-backed.
//!
//! In (2) the daemon, the bare loop (a thread of this bench) and, when it is installed,
//! `psrecord` (PyPI; `MEMPROBE_PSRECORD` names the command, default `psrecord`) watch the same
//! sleeping target at the same time, so machine load hits all three alike; the daemon's and
//! psrecord's CPU are then stated as ratios to the bare loop's (daemon targets: ≤ 2× at 10 Hz,
//! ≤ 1.2× at 1 kHz), with their own RSS split into anonymous and file-backed pages. A second loop
//! beside them also writes lines of the daemon's length as `--out` does (batches at most 10 ms
//! old): the daemon's ratio to it is the cost of the daemon beyond reading and writing. psrecord's
//! maximum rate (no `--interval`) is measured beside memprobe's statm rate in (1).
//! `scripts/bench-peers.sh` installs psrecord when missing and runs this bench.
//!
//! ```text
//! cargo bench -p memprobe-daemon --bench overhead
//! MEMPROBE_BENCH_SECS=10 MEMPROBE_BENCH_RSS_SECS=600 cargo bench -p memprobe-daemon --bench overhead   # the full 10-minute RSS run
//! ```
//! Not a criterion bench: each figure is one long measurement of a real process, not a
//! micro-benchmark repeated to a confidence interval.

use memprobe::ProcessMemory;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, ClockNanosleepFlags, clock_gettime, clock_nanosleep};
use std::process::Command;
use std::time::{Duration, Instant};

fn secs(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time of the calling thread (user + system), so the bare loop's thread is measured alone
/// while the rest of this process waits on the daemon and psrecord.
fn thread_cpu_ns() -> u64 {
    let r = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
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

/// CPU share of the physical limit: a loop that reads statm (kept-open fd, `pread`: memprobe's
/// `rss_bytes`) and sleeps with `clock_nanosleep` to absolute `CLOCK_MONOTONIC` deadlines,
/// nothing else. Measured over the same steady window as the daemon (1 s after the start to 1 s
/// before the end).
fn bare_loop_share(pm: &ProcessMemory, interval: Duration, for_: Duration) -> f64 {
    bare_loop_share_writing(pm, interval, for_, None)
}

/// The bare loop writing what `--out` writes: a line of the daemon's length per tick
/// ([`LINE_BYTES`]), appended to `out` as the daemon does (under 10 ms intervals in batches at most
/// 10 ms old, one `write` each; otherwise one `write` per line). The floor for the daemon with
/// `--out` on: it shows how much of the daemon's difference to the bare loop is the file's write.
fn bare_loop_share_writing(
    pm: &ProcessMemory,
    interval: Duration,
    for_: Duration,
    mut out: Option<std::fs::File>,
) -> f64 {
    use std::io::Write;
    const BATCH_AGE: Duration = Duration::from_millis(10);
    let line = [b'1'; LINE_BYTES];
    let mut pending = Vec::with_capacity(64 * 1024);
    let mut pending_since: Option<u64> = None;
    let start = clock_gettime(ClockId::CLOCK_MONOTONIC).unwrap();
    let step = TimeSpec::from_duration(interval);
    let ticks = (for_.as_nanos() / interval.as_nanos()) as u64;
    // Ticks per second, left out at each end like the daemon's start-up and shutdown; runs
    // shorter than 3 s (`cargo test --benches`) are measured whole.
    let window = if for_.as_secs() >= 3 {
        ticks / for_.as_secs()
    } else {
        0
    };
    let (mut cpu0, mut t0) = (thread_cpu_ns(), Instant::now());
    let mut deadline = start;
    for k in 0..ticks {
        if k == window {
            (cpu0, t0) = (thread_cpu_ns(), Instant::now());
        }
        if k + window == ticks {
            break;
        }
        std::hint::black_box(pm.rss_bytes().unwrap());
        if let Some(f) = out.as_mut() {
            pending.extend_from_slice(&line);
            let since = *pending_since.get_or_insert(k);
            if interval >= BATCH_AGE
                || (k - since) as u128 * interval.as_nanos() >= BATCH_AGE.as_nanos()
            {
                f.write_all(&pending).unwrap();
                pending.clear();
                pending_since = None;
            }
        }
        deadline = deadline + step;
        while let Err(nix::errno::Errno::EINTR) = clock_nanosleep(
            ClockId::CLOCK_MONOTONIC,
            ClockNanosleepFlags::TIMER_ABSTIME,
            &deadline,
        ) {}
    }
    (thread_cpu_ns() - cpu0) as f64 / t0.elapsed().as_nanos() as f64
}

/// The length of the daemon's JSONL line watching a sleeping PID (its figures, none `null`).
const LINE_BYTES: usize = 241;

/// psrecord's figures over one run: steady CPU share, samples per second, own RSS.
struct PsrecordRun {
    steady_share: f64,
    rate_hz: f64,
    rss_anon: u64,
    rss_file: u64,
}

/// The psrecord command (`MEMPROBE_PSRECORD`, default `psrecord`), if it runs.
fn psrecord_command() -> Option<String> {
    let cmd = std::env::var("MEMPROBE_PSRECORD").unwrap_or_else(|_| "psrecord".into());
    let ok = Command::new(&cmd)
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(cmd)
}

/// `RssAnon` and `RssFile` of a process, in bytes.
fn rss_split(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("RssAnon:"), field("RssFile:"))
}

/// Runs psrecord on `pid` for `secs` (every `interval` seconds, or as fast as it can with
/// `None`), with the same steady window as the daemon's.
fn psrecord_run(cmd: &str, pid: u32, interval: Option<&str>, secs: u64) -> PsrecordRun {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ps.log");
    let mut c = Command::new(cmd);
    c.arg(pid.to_string())
        .args(["--duration", &secs.to_string(), "--log"])
        .arg(&log)
        .stdout(std::process::Stdio::null());
    if let Some(i) = interval {
        c.args(["--interval", i]);
    }
    let mut child = c.spawn().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (on_cpu_ns(child.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(secs.saturating_sub(2).max(1)));
    let steady = (on_cpu_ns(child.id()) - cpu0) as f64 / t0.elapsed().as_nanos() as f64;
    let (rss_anon, rss_file) = rss_split(child.id());
    assert!(child.wait().unwrap().success(), "psrecord failed");
    // One header line, then one line per sample.
    let samples = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .count()
        .saturating_sub(1);
    PsrecordRun {
        steady_share: steady,
        rate_hz: samples as f64 / secs as f64,
        rss_anon,
        rss_file,
    }
}

struct DaemonRun {
    cpu_share: f64,
    steady_share: f64,
    achieved_hz: f64,
    missed: u64,
    rss: u64,
    rss_anon: u64,
    max_rss: u64,
    /// `RssAnon` 1 s after the start and 1 s before the end: flat or not.
    anon_early: u64,
    anon_late: u64,
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

/// Runs the daemon for `secs` on `pid` (or, with `None`, on an idle target it starts itself).
fn daemon_run(pid: Option<u32>, interval: &str, secs: u64) -> DaemonRun {
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
        .args(match pid {
            Some(pid) => vec!["--pid".to_string(), pid.to_string()],
            None => [
                "--",
                env!("CARGO_BIN_EXE_memprobe-soak-target"),
                "flat",
                "--base",
                "1MiB",
                "--step-ms",
                "1000",
            ]
            .map(String::from)
            .to_vec(),
        })
        .spawn()
        .unwrap();
    // Steady state: CPU between 1 s after the start and 1 s before the end, start-up (exec,
    // dynamic linking, clap) and shutdown left out.
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (on_cpu_ns(child.id()), Instant::now());
    let anon_early = rss_split(child.id()).0;
    std::thread::sleep(Duration::from_secs(secs.saturating_sub(2).max(1)));
    let steady = (on_cpu_ns(child.id()) - cpu0) as f64 / t0.elapsed().as_nanos() as f64;
    let anon_late = rss_split(child.id()).0;
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
        anon_early,
        anon_late,
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
    let psrecord = psrecord_command();
    match &psrecord {
        Some(cmd) => {
            let p = psrecord_run(cmd, target.id(), None, 3);
            println!(
                "max psrecord rate:            {:>10.0} samples/s (no --interval; {:.0}x fewer than the statm-only read)",
                p.rate_hz,
                rate / p.rate_hz
            );
        }
        None => println!("psrecord: not installed (pip install psrecord), left out"),
    }

    let mib = |b: u64| b as f64 / 1048576.0;
    let rounds = if quick {
        1
    } else {
        secs("MEMPROBE_BENCH_ROUNDS", 3)
    };
    let rates = [
        ("10 Hz", "100ms", Duration::from_millis(100), "0.1", 2.0),
        ("1 kHz", "1ms", Duration::from_millis(1), "0.001", 1.2),
    ];
    // Per rate: the per-round ratios daemon ÷ loop and psrecord ÷ loop, and daemon ÷ the loop
    // that also writes the lines.
    let mut ratios = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    let mut writing_ratios = [Vec::new(), Vec::new()];
    let out_dir = tempfile::tempdir().unwrap();
    for round in 0..rounds {
        // Alternate which rate goes first, so neither always meets the same stretch of load.
        let r = round as usize % 2;
        for (slot, &(label, interval, every, ps_interval, target_ratio)) in
            [(r, &rates[r]), (1 - r, &rates[1 - r])]
        {
            // All three at once on the same sleeping target: the bare loop in a thread of this
            // process, the daemon and psrecord as processes.
            let out = std::fs::File::create(out_dir.path().join("loop.jsonl")).unwrap();
            let (bare, writing, d, p) = std::thread::scope(|s| {
                let bare = s.spawn(|| bare_loop_share(&pm, every, Duration::from_secs(run_secs)));
                let writing = s.spawn(|| {
                    bare_loop_share_writing(&pm, every, Duration::from_secs(run_secs), Some(out))
                });
                let p = psrecord.as_deref().map(|cmd| {
                    let pid = target.id();
                    s.spawn(move || psrecord_run(cmd, pid, Some(ps_interval), run_secs))
                });
                let d = daemon_run(Some(target.id()), interval, run_secs);
                (
                    bare.join().unwrap(),
                    writing.join().unwrap(),
                    d,
                    p.map(|h| h.join().unwrap()),
                )
            });
            println!(
                "CPU share at {label} ({run_secs} s): daemon {:.3}% of a core steady ({:.3}% with start-up; achieved {:.1} Hz, {} missed), bare statm loop {:.3}%",
                d.steady_share * 100.0,
                d.cpu_share * 100.0,
                d.achieved_hz,
                d.missed,
                bare * 100.0
            );
            println!(
                "  daemon / bare loop at {label}: {:.2}x (target <= {target_ratio}x); daemon RSS {:.2} MiB anonymous (target <= 1 MiB) + {:.2} MiB file-backed",
                d.steady_share / bare,
                mib(d.rss_anon),
                mib(d.rss.saturating_sub(d.rss_anon)),
            );
            println!(
                "  bare loop writing the lines as --out does at {label}: {:.3}% of a core, {:.2}x the bare loop; daemon / writing loop {:.2}x",
                writing * 100.0,
                writing / bare,
                d.steady_share / writing,
            );
            ratios[slot].0.push(d.steady_share / bare);
            writing_ratios[slot].push(d.steady_share / writing);
            if let Some(p) = p {
                ratios[slot].1.push(p.steady_share / bare);
                println!(
                    "  psrecord at {label}: {:.3}% of a core steady, {:.2}x the bare loop, {:.1} samples/s; RSS {:.2} MiB anonymous + {:.2} MiB file-backed",
                    p.steady_share * 100.0,
                    p.steady_share / bare,
                    p.rate_hz,
                    mib(p.rss_anon),
                    mib(p.rss_file),
                );
            }
        }
    }
    let summary = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => "-".to_string(),
            n => format!("{:.2}x (min {:.2}x, max {:.2}x)", v[n / 2], v[0], v[n - 1]),
        }
    };
    for (slot, (label, .., target_ratio)) in rates.iter().enumerate() {
        let (d, p) = &mut ratios[slot];
        println!(
            "{label} over {rounds} round(s): daemon / bare loop median {} (target <= {target_ratio}x); psrecord / bare loop median {}; daemon / bare loop writing the lines median {}",
            summary(d),
            summary(p),
            summary(&mut writing_ratios[slot])
        );
    }
    let d = daemon_run(None, "1ms", rss_secs);
    println!(
        "daemon RSS after {rss_secs} s at 1 kHz: {:.2} MiB, of which {:.2} MiB anonymous (target <= 1 MiB), the rest its binary's and libraries' pages (peak {:.2} MiB); anonymous 1 s in {:.2} MiB, 1 s before the end {:.2} MiB (flat: {:+} KiB)",
        mib(d.rss),
        mib(d.rss_anon),
        mib(d.max_rss),
        mib(d.anon_early),
        mib(d.anon_late),
        (d.anon_late as i64 - d.anon_early as i64) / 1024,
    );
    target.kill().unwrap();
    target.wait().unwrap();
}
