//! The allocation-sites workloads that `tests/sites.rs` (hooks called by a test allocator) and
//! `tests/sites_wired.rs` (hooks called by the counting allocator) both run, with the truth
//! known: three functions allocating known shares of the bytes, and a leak. Included with
//! `#[path = "support/sites.rs"] mod workload;`, so the site names read `<binary>::workload::…`.

// Each test binary uses only some of these.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::{Mutex, MutexGuard};

use memprobe::sites::Profile;

/// Sessions are process-wide: the tests of a binary take this lock and run one at a time.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Allocates (and frees) `count` blocks of `size` bytes.
#[inline(never)]
pub fn alpha(count: usize, size: usize) {
    for _ in 0..count {
        black_box(Vec::<u8>::with_capacity(size));
    }
}

/// Allocates (and frees) `count` blocks of `size` bytes.
#[inline(never)]
pub fn beta(count: usize, size: usize) {
    for _ in 0..count {
        black_box(Vec::<u8>::with_capacity(size));
    }
}

/// Allocates (and frees) `count` blocks of `size` bytes.
#[inline(never)]
pub fn gamma(count: usize, size: usize) {
    for _ in 0..count {
        black_box(Vec::<u8>::with_capacity(size));
    }
}

/// Keeps what it allocates.
#[inline(never)]
pub fn leaky(count: usize, size: usize) -> Vec<Vec<u8>> {
    let mut kept = Vec::with_capacity(count);
    for _ in 0..count {
        kept.push(Vec::with_capacity(size));
    }
    kept
}

/// 50/30/20 % of `total` bytes through alpha (8 KiB blocks), beta (1 KiB) and gamma (96 B).
pub fn three_functions(total: usize) {
    alpha(total / 2 / 8192, 8192);
    beta(total * 3 / 10 / 1024, 1024);
    gamma(total / 5 / 96, 96);
}

/// The bytes [`three_functions`]`(total)` allocates.
pub fn three_functions_bytes(total: usize) -> u64 {
    (total / 2 / 8192 * 8192 + total * 3 / 10 / 1024 * 1024 + total / 5 / 96 * 96) as u64
}

/// The estimated bytes allocated at `function`'s site (0 when it has none).
pub fn bytes_of(profile: &Profile, function: &str) -> u64 {
    profile.site(function).map_or(0, |s| s.stats.alloc_bytes)
}

/// Shares (percent) of alpha, beta, gamma among the three.
pub fn shares(profile: &Profile) -> [f64; 3] {
    let b = ["alpha", "beta", "gamma"].map(|f| bytes_of(profile, f) as f64);
    let sum: f64 = b.iter().sum();
    b.map(|x| 100.0 * x / sum)
}
