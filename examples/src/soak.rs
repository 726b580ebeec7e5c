//! "Is it leaking?": a soak run judged in-process by `memprobe::trend::Soak`, in three modes a
//! service actually goes through, with the verdict's sentence printed and its exit code returned,
//! so the binary can gate CI.
//!
//! Run: `cargo run --release -p memprobe-examples --bin soak -- --mode leak` (or `plateau`,
//! `fragment`); it runs 3 seconds by default, `--seconds 600` or `--iterations 1000000` to soak
//! longer. Exit codes are the daemon's: 0 pass, 1 growth (fragmentation too, unless
//! `--allow-fragmentation`), 2 usage or runtime error, 3 inconclusive.
//!
//! Each iteration handles one simulated request (builds the request, parses it, renders a
//! response) and then, depending on the mode:
//!
//! - `leak`: records a session in a map that nothing ever evicts. Verdict: **growth**, "The live
//!   heap grows 155 B/iteration (95% CI 145 to 162 B/iteration) ... above the 5% threshold".
//! - `plateau`: records it in a cache bounded to 1024 entries (oldest evicted first). The cache
//!   fills early, within the warm-up, then the heap is flat. Verdict: **pass**, "The live heap
//!   does not grow: 0 B/iteration".
//! - `fragment`: allocates a batch of small blocks (16 KiB in all), frees every other one at once
//!   and keeps the rest in a pool, which fills during the first 15% of the run (8 MiB at most)
//!   and then keeps its size by evicting blocks at random. The block size drifts upwards over the
//!   run, through jemalloc's small size classes from 16 B to 4 KiB. A slab of an older size stays
//!   resident as long as one of its blocks survives in the pool, and its holes fit only a size no
//!   longer asked for, so the live heap is flat while RSS climbs. Verdict: **fragmentation**, exit
//!   1 (0 with `--allow-fragmentation`): "RSS grows 1.2 KiB/iteration ... 22.0 MiB over the run,
//!   above the 5% threshold (1.8 MiB), while the live heap stays flat: fragmentation or memory the
//!   allocator retains, not a leak". Most of it is fragmentation proper, not only freed memory
//!   awaiting jemalloc's decay: the last line, read with the pool still alive, shows `active`
//!   (pages holding live blocks) at 2.3 to 2.8 times `allocated` on 3 s runs here (37.8 MiB
//!   against 16.4 MiB, the pool's pointer `Vec` included), and `memprobe::jemalloc::purge()`
//!   returns only the dirty pages (59.6 → 41.1 MiB resident on that run; 7 to 18 MiB across
//!   runs), since a page with one live block cannot be returned. The verdict is the same for 1 s
//!   and 30 s runs: once the pool is full, the share of batches kept is set so that it turns over
//!   five times in the rest of the run, whatever its length and the machine's speed. Without that throttle the pool
//!   turned over many times per block size on runs of 10 s and more, old slabs emptied, and those
//!   runs passed: fragmentation shows only while blocks of old sizes linger.
//!
//! The same binary can be watched from outside, by sampling its RSS instead of counting its heap:
//! `memprobe-daemon watch -- target/release/soak --mode leak --seconds 60`.
//!
//! Every iteration sleeps 50 µs, like a service between requests: it bounds what `leak` takes
//! (about 3.5 MiB per 3 s here, 70 MiB per minute) and keeps the rate comparable between modes.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::JemallocStats;
use memprobe::trend::{Soak, TrendConfig, Verdict};
use memprobe::units::Bytes;
use std::collections::{HashMap, VecDeque};
use std::hint::black_box;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str =
    "--mode leak|plateau|fragment [--seconds S | --iterations N] [--allow-fragmentation]";

/// The pause after each request.
const PACE: Duration = Duration::from_micros(50);
/// Entries the `plateau` cache keeps.
const CACHE_ENTRIES: usize = 1024;
/// Bytes each `fragment` batch allocates (half of them freed at once).
const BATCH_BYTES: usize = 16 << 10;
/// The most the `fragment` pool keeps, however fast the machine fills it.
const POOL_CAP_BYTES: usize = 8 << 20;
/// How many times the `fragment` pool is replaced after it is full: slow enough that blocks of
/// older sizes linger (and pin their slabs) while newer sizes arrive.
const TURNOVER: f64 = 5.0;
/// The sizes `fragment` drifts through, one jemalloc small size class each.
const BLOCK_SIZES: [usize; 28] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
    1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
];
/// Share of the run over which the `fragment` pool grows before its size is fixed.
const FILL_SHARE: f64 = 0.15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Leak,
    Plateau,
    Fragment,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "leak" => Ok(Mode::Leak),
            "plateau" => Ok(Mode::Plateau),
            "fragment" => Ok(Mode::Fragment),
            _ => Err("expected leak, plateau or fragment".to_owned()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Length {
    Time(Duration),
    Iterations(u64),
}

/// What a request leaves behind in `leak` and `plateau` modes.
#[allow(dead_code)]
struct Session {
    user: String,
    token: Vec<u8>,
}

/// One request's transient work: allocated and freed within the iteration.
fn handle_request(i: u64) -> Session {
    let request = format!("GET /v1/orders/{i}?expand=items HTTP/1.1\r\nhost: api.example.invalid");
    let path = request.split_whitespace().nth(1).unwrap_or_default();
    let user = format!("user-{}", i % 10_007);
    let response = format!("{{\"path\":\"{path}\",\"user\":\"{user}\",\"status\":200}}");
    black_box(&response);
    Session {
        user,
        token: (0..64).map(|b| (i as u8).wrapping_add(b)).collect(),
    }
}

/// What each mode keeps between requests.
enum Workload {
    Leak(HashMap<u64, Session>),
    Plateau(BoundedCache),
    Fragment(Fragmenter),
}

impl Workload {
    fn new(mode: Mode) -> Self {
        match mode {
            Mode::Leak => Workload::Leak(HashMap::new()),
            Mode::Plateau => Workload::Plateau(BoundedCache::new(CACHE_ENTRIES)),
            Mode::Fragment => Workload::Fragment(Fragmenter::new()),
        }
    }

    /// Request `i`, at `progress` (0 to 1) through the run.
    fn step(&mut self, i: u64, progress: f64) {
        let session = handle_request(i);
        match self {
            Workload::Leak(sessions) => {
                sessions.insert(i, session);
            }
            Workload::Plateau(cache) => cache.insert(i, session),
            Workload::Fragment(fragmenter) => {
                drop(session);
                let class =
                    ((progress * BLOCK_SIZES.len() as f64) as usize).min(BLOCK_SIZES.len() - 1);
                fragmenter.step(BLOCK_SIZES[class], progress);
            }
        }
    }
}

/// A map from session id to session with first-in, first-out eviction.
struct BoundedCache {
    entries: HashMap<u64, Session>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl BoundedCache {
    fn new(capacity: usize) -> Self {
        // Room for twice the entries: evictions leave deleted slots in the table, and when they
        // use up its spare room the map rehashes, in place only while it is at most half full.
        // Sized for `capacity` alone, a FIFO cache's table doubles (+178 KiB here) at a moment
        // that depends on the hash seed, possibly long after it "filled".
        BoundedCache {
            entries: HashMap::with_capacity(2 * capacity),
            order: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    fn insert(&mut self, id: u64, session: Session) {
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.entries.remove(&oldest);
        }
        self.order.push_back(id);
        self.entries.insert(id, session);
    }
}

/// The `fragment` workload's state: the surviving blocks and their total size.
struct Fragmenter {
    pool: Vec<Box<[u8]>>,
    pool_bytes: usize,
    /// The pool's fixed size and the share of batches kept from then on, once it is full.
    full: Option<(usize, f64)>,
    rng: u64,
}

impl Fragmenter {
    fn new() -> Self {
        // The pool's `Vec` reaches its largest length while it fills (the blocks are smallest
        // then), so it stops reallocating before the judged part of the run.
        Fragmenter {
            pool: Vec::new(),
            pool_bytes: 0,
            full: None,
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// One request: a batch of `size`-byte blocks with every other one freed at once and the rest
    /// kept; once the pool is full, only a share of the batches is kept (the others are freed
    /// whole) and random blocks are evicted to hold the pool's size.
    fn step(&mut self, size: usize, progress: f64) {
        let count = BATCH_BYTES / size;
        let batch: Vec<Box<[u8]>> = (0..count).map(|k| vec![k as u8 | 1; size].into()).collect();
        let keep = match self.full {
            None => true,
            Some((_, share)) => (self.next_random() >> 11) as f64 / (1u64 << 53) as f64 <= share,
        };
        if keep {
            for block in batch.into_iter().skip(1).step_by(2) {
                self.pool_bytes += block.len();
                self.pool.push(block);
            }
        }
        if self.full.is_none() && (progress >= FILL_SHARE || self.pool_bytes >= POOL_CAP_BYTES) {
            // The rest of the run has about (1 - p) / p times the iterations so far; keeping this
            // share of batches replaces the pool TURNOVER times over it, however long the run and
            // however fast the machine.
            let p = progress.max(1e-6);
            self.full = Some((self.pool_bytes, (TURNOVER * p / (1.0 - p)).min(1.0)));
        }
        if let Some((budget, _)) = self.full {
            while self.pool_bytes > budget {
                let index = (self.next_random() % self.pool.len() as u64) as usize;
                self.pool_bytes -= self.pool.swap_remove(index).len();
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: enough to scatter evictions, and it allocates nothing.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

fn main() -> ExitCode {
    common::exit("soak", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("soak", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let mode: Mode = args
        .value("--mode")?
        .ok_or_else(|| args.usage_error("--mode is required".to_owned()))?;
    let seconds = args.value::<f64>("--seconds")?;
    let iterations = args.value::<u64>("--iterations")?;
    let allow_fragmentation = args.switch("--allow-fragmentation");
    let length = match (seconds, iterations) {
        (Some(_), Some(_)) => {
            return Err(args.usage_error("give --seconds or --iterations, not both".to_owned()));
        }
        (None, Some(0)) => {
            return Err(args.usage_error("--iterations must be at least 1".to_owned()));
        }
        (None, Some(n)) => Length::Iterations(n),
        (Some(s), None) if !(s.is_finite() && s > 0.0) => {
            return Err(args.usage_error(format!("--seconds {s}: expected a positive number")));
        }
        (Some(s), None) => Length::Time(Duration::from_secs_f64(s)),
        (None, None) => Length::Time(Duration::from_secs(3)),
    };
    args.finish()?;

    let soak = match length {
        Length::Time(d) => Soak::duration(d),
        Length::Iterations(n) => Soak::iterations(n),
    }
    .config(TrendConfig::new().allow_fragmentation(allow_fragmentation));

    let started = Instant::now();
    let progress = move |i: u64| match length {
        Length::Time(d) => started.elapsed().as_secs_f64() / d.as_secs_f64(),
        Length::Iterations(n) => i as f64 / n as f64,
    };
    let mut workload = Workload::new(mode);
    let mut done = 0u64;
    let verdict = soak.run(|i| {
        workload.step(i, progress(i).min(1.0));
        done += 1;
        std::thread::sleep(PACE);
    })?;
    // Read while the workload still holds what it kept: that is what the verdict judged.
    report(mode, done, started.elapsed(), &verdict)?;
    Ok(verdict.exit_code())
}

fn report(mode: Mode, iterations: u64, elapsed: Duration, verdict: &Verdict) -> common::Result<()> {
    let mut out = std::io::stdout().lock();
    let kind = verdict.kind.name();
    writeln!(
        out,
        "soak --mode {}: {iterations} iterations in {:.1} s",
        format!("{mode:?}").to_lowercase(),
        elapsed.as_secs_f64()
    )?;
    writeln!(out, "verdict: {kind} (exit {})", verdict.exit_code())?;
    writeln!(out, "{verdict}")?;
    if let Some(resident) = &verdict.fragmentation {
        writeln!(
            out,
            "resident series judged: {}, {} samples",
            resident.series, resident.samples_total
        )?;
    }
    if let Ok(before) = JemallocStats::read() {
        let purged = memprobe::jemalloc::purge().and_then(|()| JemallocStats::read());
        writeln!(
            out,
            "jemalloc: allocated {}, active {}, resident {}{}",
            Bytes(before.allocated_bytes),
            Bytes(before.active_bytes),
            Bytes(before.resident_bytes),
            match purged {
                Ok(after) => format!(", resident after purge {}", Bytes(after.resident_bytes)),
                Err(_) => String::new(),
            }
        )?;
    }
    Ok(())
}
