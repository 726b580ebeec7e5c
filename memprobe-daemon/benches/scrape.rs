//! The cost of `watch --prometheus` beside the daemon's own sampling cost: three daemons watch the
//! same idle targets at the same time (so machine load hits them alike) for `MEMPROBE_BENCH_SECS`
//! (default 30) seconds, at the default 100 ms interval:
//!
//! 1. `watch` alone (no `--prometheus`): the sampling cost;
//! 2. `watch --prometheus 127.0.0.1:0`, never scraped: the cost of the server thread waiting and
//!    of publishing each tick into the board;
//! 3. the same, scraped once a second by a thread of this bench (as Prometheus would at
//!    `scrape_interval: 1s`), whose latency and body size are reported too.
//!
//! Each daemon's CPU share is its own summary's `sampler` figure (getrusage of the whole
//! process, so the HTTP thread is counted) over its sampling time. Run twice: one target (a
//! single `--pid`) and 16 targets (a fleet of 16 `--pid`s). At these shares (a tenth of a
//! percent) the difference between daemons is within the machine's noise, so the cost of one
//! scrape is also measured directly: 2000 scrapes back to back, the daemon's CPU over the burst
//! less its CPU over as long again without scrapes.
//!
//! ```text
//! cargo bench -p memprobe-daemon --bench scrape
//! MEMPROBE_BENCH_SECS=10 cargo bench -p memprobe-daemon --bench scrape
//! ```
//! Not a criterion bench: each figure is one long measurement of real processes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DAEMON: &str = env!("CARGO_BIN_EXE_memprobe-daemon");
const SOAK: &str = env!("CARGO_BIN_EXE_memprobe-soak-target");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon over `pids` for `secs`, writing its summary into `dir`; with `prometheus`, the URL it
/// serves at.
fn daemon(pids: &[u32], secs: u64, dir: &Path, prometheus: bool) -> (Killed, Option<String>) {
    let mut cmd = Command::new(DAEMON);
    cmd.args(["watch", "--interval", "100ms", "--duration"])
        .arg(format!("{secs}s"))
        .arg("--summary")
        .arg(dir.join("s.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for pid in pids {
        cmd.args(["--pid", &pid.to_string()]);
    }
    if prometheus {
        cmd.args(["--prometheus", "127.0.0.1:0"]);
    }
    let mut child = cmd.spawn().expect("start memprobe-daemon");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("memprobe-daemon: serving Prometheus metrics at ")
            {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = prometheus.then(|| {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("an address")
    });
    (Killed(child), url)
}

/// The daemon's CPU share (% of one core) and RSS from its summary (any one target's, in a fleet).
fn cost(dir: &Path) -> (f64, u64) {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a summary");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let sampler = &s["sampler"];
    let cpu = sampler["cpu_user_ns"].as_u64().unwrap() + sampler["cpu_system_ns"].as_u64().unwrap();
    let sampling = s["run"]["sampling_ns"].as_u64().unwrap();
    (
        100.0 * cpu as f64 / sampling as f64,
        sampler["rss_bytes"].as_u64().unwrap(),
    )
}

fn round(targets: usize, secs: u64) {
    let idle: Vec<Killed> = (0..targets)
        .map(|_| {
            Killed(
                Command::new(SOAK)
                    .args(["flat", "--base", "1MiB", "--step-ms", "1000"])
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    let pids: Vec<u32> = idle.iter().map(|k| k.0.id()).collect();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (mut plain, _) = daemon(&pids, secs, dirs[0].path(), false);
    let (mut served, _) = daemon(&pids, secs, dirs[1].path(), true);
    let (mut scraped, url) = daemon(&pids, secs, dirs[2].path(), true);
    let url = url.unwrap();
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut body_bytes = 0;
    let mut next = start + Duration::from_secs(1);
    while start.elapsed() < Duration::from_secs(secs.saturating_sub(1)) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += Duration::from_secs(1);
        let t = Instant::now();
        match ureq::get(&url).call() {
            Ok(mut r) => {
                body_bytes = r.body_mut().read_to_string().unwrap().len();
                latencies.push(t.elapsed());
            }
            Err(_) => break,
        }
    }
    for d in [&mut plain, &mut served, &mut scraped] {
        d.0.wait().unwrap();
    }
    let (c0, r0) = cost(dirs[0].path());
    let (c1, r1) = cost(dirs[1].path());
    let (c2, r2) = cost(dirs[2].path());
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    let max = latencies.last().copied().unwrap_or_default();
    let extra_per_scrape_us = (c2 - c1) / 100.0 * 1e6;
    println!(
        "{targets} target(s), {secs} s at 100 ms, {} scrapes:",
        latencies.len()
    );
    println!(
        "  watch alone                      CPU {c0:6.3} % of a core   RSS {:5.1} MiB",
        r0 as f64 / 1048576.0
    );
    println!(
        "  --prometheus, never scraped      CPU {c1:6.3} %              RSS {:5.1} MiB",
        r1 as f64 / 1048576.0
    );
    println!(
        "  --prometheus, 1 scrape/s         CPU {c2:6.3} %              RSS {:5.1} MiB",
        r2 as f64 / 1048576.0
    );
    println!(
        "  scrape: {body_bytes} B body, latency median {:.2} ms, max {:.2} ms; ≈ {extra_per_scrape_us:.0} µs CPU per scrape (scraped − never scraped)",
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
}

/// CPU time of process `pid` so far, from `/proc/PID/stat` (utime + stime), in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz: f64 = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    ticks as f64 / hz
}

/// The CPU of one scrape, measured directly: a daemon over `targets` idle processes is scraped
/// `n` times back to back; its CPU over the burst, less its sampling cost over the same time
/// (measured over as long just before), divided by `n`.
fn burst(targets: usize, n: u32) {
    let idle: Vec<Killed> = (0..targets)
        .map(|_| {
            Killed(
                Command::new(SOAK)
                    .args(["flat", "--base", "1MiB", "--step-ms", "1000"])
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    let pids: Vec<u32> = idle.iter().map(|k| k.0.id()).collect();
    let dir = tempfile::tempdir().unwrap();
    let (d, url) = daemon(&pids, 600, dir.path(), true);
    let url = url.unwrap();
    let pid = d.0.id();
    std::thread::sleep(Duration::from_secs(1));
    let t0 = Instant::now();
    let c0 = cpu_seconds(pid);
    let mut n_done = 0;
    while n_done < n {
        ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        n_done += 1;
    }
    let burst = t0.elapsed();
    let c1 = cpu_seconds(pid);
    std::thread::sleep(burst);
    let c2 = cpu_seconds(pid);
    let per_scrape = ((c1 - c0) - (c2 - c1)).max(0.0) / f64::from(n);
    println!(
        "{targets} target(s): {n} scrapes back to back in {:.2} s: {:.0} µs of daemon CPU per scrape (sampling over as long subtracted: {:.3} s); at 1 scrape/s that is {:.3} % of a core",
        burst.as_secs_f64(),
        per_scrape * 1e6,
        c2 - c1,
        per_scrape * 100.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported, so ignore the rest.
    let secs = std::env::var("MEMPROBE_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    round(1, secs);
    round(16, secs);
    burst(1, 2000);
    burst(16, 2000);
}
