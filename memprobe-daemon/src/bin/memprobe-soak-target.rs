//! `memprobe-soak-target`: a test helper that allocates (and touches, so it is resident) memory in
//! a chosen shape, for the daemon's integration tests and benchmark.
//!
//! ```text
//! memprobe-soak-target MODE [--rate SIZE] [--base SIZE] [--step-ms N] [--duration DURATION]
//!                           [--grow-for DURATION] [--children N] [--child-mode MODE]
//!                           [--on-term CODE] [--marker FILE] [--report FILE] [--ignore-term]
//!                           [--leak SIZE] [--churn SIZE]
//! MODE: flat | leak | plateau | sawtooth | step | staircase | fork | idle | sites
//! ```
//!
//! - `flat`: `--base` once, then nothing new. `leak`: `--rate` per second, kept for good.
//! - `plateau`: leaks for `--grow-for`, then flat. `sawtooth`: leaks for `--grow-for`, frees it all,
//!   repeats. `step`: one `--rate`-sized block after `--grow-for`, then flat. `staircase`: a
//!   `--rate`-sized block every `--grow-for`, kept for good.
//! - `--leak SIZE`: in any mode, also keep SIZE per second for good (a leak under a sawtooth).
//! - `fork`: starts `--children` copies of itself in `--child-mode` and waits for them.
//! - `idle`: allocates nothing and sleeps (benchmark target).
//! - `sites`: leaks `--rate` per second in `leaky_cache_insert` and allocates `--churn` per
//!   second in `churn_scratch_buffers`, freeing each buffer before it returns: the allocation-sites
//!   target of `watch --sites` (memprobe's `sites` feature is on), whose growing site is known.
//!
//! It publishes through `memprobe::publish` (jemalloc under the counting allocator): one iteration
//! per step, phases `"grow"` and `"steady"`. On SIGTERM/SIGINT it writes `got SIGTERM`/`got SIGINT`
//! to `--marker` (if given) and exits with `--on-term` (default 143); `--ignore-term` ignores them.
//! `--report FILE` rewrites FILE each step with its own jemalloc `allocated resident` reading.
#![forbid(unsafe_code)]

use memprobe::units::{parse_bytes, parse_duration};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

memprobe::global_allocator!(tikv_jemallocator::Jemalloc);

/// The command line (see the module docs).
#[derive(clap::Parser)]
#[command(name = "memprobe-soak-target")]
struct Opts {
    /// The shape of the memory it allocates.
    #[arg(value_parser = ["flat", "leak", "plateau", "sawtooth", "step", "staircase", "fork", "idle", "sites"])]
    mode: String,
    /// Bytes per second while growing (a block's size in `step` and `staircase`).
    #[arg(long, default_value = "8MiB", value_parser = bytes)]
    rate: u64,
    /// Bytes allocated once at the start.
    #[arg(long, default_value = "4MiB", value_parser = bytes)]
    base: u64,
    /// Milliseconds between steps.
    #[arg(long = "step-ms", default_value = "50", value_parser = millis)]
    step: Duration,
    /// Stop after this long (default: until signalled).
    #[arg(long, value_parser = duration)]
    duration: Option<Duration>,
    /// How long it grows (or the time between stairs and teeth).
    #[arg(long = "grow-for", default_value = "1s", value_parser = duration)]
    grow_for: Duration,
    /// How many copies `fork` starts.
    #[arg(long, default_value_t = 2)]
    children: u32,
    /// The mode of the copies `fork` starts.
    #[arg(long = "child-mode", default_value = "flat")]
    child_mode: String,
    /// The exit code on SIGTERM/SIGINT.
    #[arg(long = "on-term", default_value_t = 143)]
    on_term: i32,
    /// A file to write `got SIGTERM`/`got SIGINT` to.
    #[arg(long)]
    marker: Option<String>,
    /// A file rewritten each step with its own jemalloc `allocated resident` reading.
    #[arg(long)]
    report: Option<String>,
    /// Ignore SIGTERM and SIGINT.
    #[arg(long = "ignore-term")]
    ignore_term: bool,
    /// Also keep this many bytes per second for good, in any mode.
    #[arg(long, default_value = "0", value_parser = bytes)]
    leak: u64,
    /// `sites` mode: bytes per second allocated and freed at once (in 64 KiB buffers).
    #[arg(long, default_value = "32MiB", value_parser = bytes)]
    churn: u64,
}

/// The `sites` mode's leak: an entry kept for good, allocated here so that this function is the
/// allocation site (not inlined into the loop, the `Vec` allocated in its own body).
#[inline(never)]
fn leaky_cache_insert(cache: &mut Vec<Vec<u8>>, bytes: u64) {
    let mut entry = vec![0u8; bytes as usize];
    for i in (0..entry.len()).step_by(4096) {
        entry[i] = 1;
    }
    cache.push(std::hint::black_box(entry));
}

/// The `sites` mode's churn: many buffers, each freed before the next: much allocated, none live.
#[inline(never)]
fn churn_scratch_buffers(bytes: u64) -> u64 {
    const BUFFER: u64 = 64 << 10;
    let mut sum = 0u64;
    for _ in 0..bytes.div_ceil(BUFFER) {
        let scratch = std::hint::black_box(vec![1u8; BUFFER as usize]);
        sum = sum.wrapping_add(u64::from(scratch[scratch.len() / 2]));
    }
    sum
}

fn bytes(s: &str) -> Result<u64, String> {
    parse_bytes(s).map_err(|e| e.to_string())
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn millis(s: &str) -> Result<Duration, String> {
    s.parse()
        .map(Duration::from_millis)
        .map_err(|_| format!("`{s}` is not a number of milliseconds"))
}

/// A block whose every page is written, so it counts in RSS.
fn touched(bytes: u64) -> Vec<u8> {
    let mut v = vec![0u8; bytes as usize];
    for i in (0..v.len()).step_by(4096) {
        v[i] = 1;
    }
    std::hint::black_box(v)
}

fn main() {
    let o = <Opts as clap::Parser>::parse();
    let stop = Arc::new(AtomicUsize::new(0));
    if !o.ignore_term {
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register_usize(sig, Arc::clone(&stop), sig as usize)
                .expect("signal handler");
        }
    } else {
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, Arc::new(std::sync::atomic::AtomicBool::new(false)))
                .expect("signal handler");
        }
    }
    let _ = memprobe::publish::start();
    memprobe::publish::phase("grow");

    let mut children = Vec::new();
    if o.mode == "fork" {
        let exe = std::env::current_exe().expect("own path");
        for _ in 0..o.children {
            let mut cmd = std::process::Command::new(&exe);
            cmd.arg(&o.child_mode).args([
                "--base",
                &o.base.to_string(),
                "--rate",
                &o.rate.to_string(),
            ]);
            cmd.args([
                "--step-ms",
                &o.step.as_millis().to_string(),
                "--grow-for",
                &format!("{}ms", o.grow_for.as_millis()),
            ]);
            if let Some(d) = o.duration {
                cmd.args(["--duration", &format!("{}ms", d.as_millis())]);
            }
            children.push(cmd.spawn().expect("start a child"));
        }
    }

    let start = Instant::now();
    let per_step = (o.rate as f64 * o.step.as_secs_f64()) as u64;
    let mut held: Vec<Vec<u8>> = Vec::new();
    if o.mode != "idle" {
        held.push(touched(o.base));
    }
    let tooth_steps = (o.grow_for.as_nanos() / o.step.as_nanos().max(1)).max(1) as usize;
    let mut stepped = false;
    let leak_per_step = (o.leak as f64 * o.step.as_secs_f64()) as u64;
    let mut leaked: Vec<Vec<u8>> = Vec::new();
    let mut next_stair = o.grow_for;
    let churn_per_step = (o.churn as f64 * o.step.as_secs_f64()) as u64;
    let mut cache: Vec<Vec<u8>> = Vec::new();
    let mut steady = false;
    loop {
        let sig = stop.load(Ordering::Relaxed);
        if sig != 0 {
            let name = if sig == signal_hook::consts::SIGTERM as usize {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            if let Some(m) = &o.marker {
                let _ = std::fs::write(m, format!("got {name}\n"));
            }
            for c in &mut children {
                let _ = c.wait();
            }
            std::process::exit(o.on_term);
        }
        let elapsed = start.elapsed();
        if o.duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        let growing = elapsed < o.grow_for;
        let growing = growing && o.mode != "sawtooth" || o.mode == "leak" || o.mode == "sites";
        match o.mode.as_str() {
            "leak" => held.push(touched(per_step)),
            "sites" => {
                leaky_cache_insert(&mut cache, per_step);
                std::hint::black_box(churn_scratch_buffers(churn_per_step));
            }
            "plateau" if growing => held.push(touched(per_step)),
            // Each tooth grows for --grow-for, then everything but the base is freed.
            "sawtooth" if held.len() > tooth_steps => held.truncate(1),
            "sawtooth" => held.push(touched(per_step)),
            "staircase" if elapsed >= next_stair => {
                held.push(touched(o.rate));
                next_stair += o.grow_for;
            }
            "step" if !growing && !stepped => {
                held.push(touched(o.rate));
                stepped = true;
            }
            _ => {}
        }
        if leak_per_step > 0 {
            leaked.push(touched(leak_per_step));
        }
        if !growing && !steady {
            memprobe::publish::phase("steady");
            steady = true;
        }
        memprobe::publish::mark_iteration();
        if let Some(r) = &o.report {
            report(r);
        }
        std::thread::sleep(o.step);
    }
    for c in &mut children {
        let _ = c.wait();
    }
}

/// Writes the process's own jemalloc reading, `allocated_bytes resident_bytes`, for tests to
/// compare with what the daemon received.
fn report(path: &str) {
    if let Ok(j) = memprobe::JemallocStats::read() {
        let tmp = format!("{path}.tmp");
        if std::fs::write(
            &tmp,
            format!("{} {}\n", j.allocated_bytes, j.resident_bytes),
        )
        .is_ok()
        {
            let _ = std::fs::rename(tmp, path);
        }
    }
}
