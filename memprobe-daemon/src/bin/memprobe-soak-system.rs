//! `memprobe-soak-system`: a test helper that leaks slowly on the **system allocator** (glibc
//! malloc under memprobe's counting allocator) while churning large temporary buffers, for the
//! daemon's end-to-end verdict tests.
//!
//! ```text
//! memprobe-soak-system [--leak SIZE] [--churn SIZE] [--step-ms N] [--duration DURATION]
//! ```
//!
//! Every step it allocates and touches a temporary buffer of about `--churn` bytes (three sizes
//! in turn), keeps `--leak` × step of small 4 KiB blocks allocated while the buffer is live, then
//! frees the buffer. The kept blocks land above the freed buffers, so the heap's top cannot be
//! trimmed: RSS stays flat for many samples and then jumps, the ratchet a real program's RSS
//! shows under glibc, while the counting allocator's live bytes grow exactly by `--leak` per
//! second. It publishes through `memprobe::publish` (live bytes, one iteration per step).
#![forbid(unsafe_code)]

use memprobe::units::{parse_bytes, parse_duration};
use std::time::{Duration, Instant};

// The counting allocator over the system allocator (no argument: `std::alloc::System`).
memprobe::global_allocator!();

/// The command line (see the module docs).
#[derive(clap::Parser)]
#[command(name = "memprobe-soak-system")]
struct Opts {
    /// Bytes per second kept for good.
    #[arg(long, default_value = "256KiB", value_parser = bytes)]
    leak: u64,
    /// About how many bytes each step's temporary buffer has.
    #[arg(long, default_value = "8MiB", value_parser = bytes)]
    churn: u64,
    /// Milliseconds between steps.
    #[arg(long = "step-ms", default_value = "50", value_parser = millis)]
    step: Duration,
    /// Stop after this long (default: until killed).
    #[arg(long, value_parser = duration)]
    duration: Option<Duration>,
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
fn touched(bytes: usize) -> Vec<u8> {
    let mut v = vec![0u8; bytes];
    for i in (0..v.len()).step_by(4096) {
        v[i] = 1;
    }
    std::hint::black_box(v)
}

fn main() {
    let o = <Opts as clap::Parser>::parse();
    let _ = memprobe::publish::start();
    let start = Instant::now();
    let per_step = (o.leak as f64 * o.step.as_secs_f64()) as usize;
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut carry = 0usize;
    let mut step = 0usize;
    while o.duration.is_none_or(|d| start.elapsed() < d) {
        // Three buffer sizes in turn, so a freed hole does not always fit the next buffer.
        let size = (o.churn as usize / 4) * (3 + step % 3);
        let buffer = touched(size);
        carry += per_step;
        while carry >= 4096 {
            kept.push(touched(4096));
            carry -= 4096;
        }
        drop(buffer);
        step += 1;
        memprobe::publish::mark_iteration();
        std::thread::sleep(o.step);
    }
    std::hint::black_box(&kept);
}
