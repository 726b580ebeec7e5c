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

struct Opts {
    leak: u64,
    churn: u64,
    step: Duration,
    duration: Option<Duration>,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        leak: 256 << 10,
        churn: 8 << 20,
        step: Duration::from_millis(50),
        duration: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let e = |e: memprobe::Error| e.to_string();
        match flag.as_str() {
            "--leak" => o.leak = parse_bytes(&value).map_err(e)?,
            "--churn" => o.churn = parse_bytes(&value).map_err(e)?,
            "--step-ms" => {
                o.step = Duration::from_millis(value.parse().map_err(|_| "--step-ms: a number")?)
            }
            "--duration" => o.duration = Some(parse_duration(&value).map_err(e)?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
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
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("memprobe-soak-system: {e}");
            std::process::exit(2);
        }
    };
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
