//! Allocation sites through the real counting allocator: `memprobe::global_allocator!()` with
//! the `sites` feature calls the hooks itself. The three-function workload (50/30/20 % of the
//! bytes) must come out within 5 points at the default rate and exactly in exact mode, with the
//! user's function on top (memprobe's and std's frames collapsed), while the counting goes on.
//!
//! Sessions are process-wide: the tests take one lock and run one at a time.

use std::hint::black_box;
use std::sync::{Mutex, MutexGuard};

use memprobe::sites::{Profile, Sampling, Session, render};

memprobe::global_allocator!();

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[inline(never)]
fn alpha(count: usize, size: usize) {
    for _ in 0..count {
        black_box(Vec::<u8>::with_capacity(size));
    }
}

#[inline(never)]
fn beta(count: usize, size: usize) {
    for _ in 0..count {
        black_box(Vec::<u8>::with_capacity(size));
    }
}

#[inline(never)]
fn gamma(count: usize, size: usize) {
    for _ in 0..count {
        black_box(Vec::<u8>::with_capacity(size));
    }
}

/// Grows a vector by pushing: reallocations, each a free of the old block and a new sample.
#[inline(never)]
fn grower(n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(i as u64);
    }
    v
}

fn bytes_of(profile: &Profile, function: &str) -> u64 {
    profile.site(function).map_or(0, |s| s.stats.alloc_bytes)
}

fn shares(profile: &Profile) -> [f64; 3] {
    let b = ["alpha", "beta", "gamma"].map(|f| bytes_of(profile, f) as f64);
    let sum: f64 = b.iter().sum();
    b.map(|x| 100.0 * x / sum)
}

#[test]
fn default_rate_shares_within_five_points_through_the_counting_allocator() {
    let _lock = one_at_a_time();
    let total = 1usize << 30;
    let before = memprobe::thread_totals().unwrap();
    let session = Session::start(Sampling::default()).unwrap();
    alpha(total / 2 / 8192, 8192);
    beta(total * 3 / 10 / 1024, 1024);
    gamma(total / 5 / 96, 96);
    let profile = session.finish();
    let counted = memprobe::thread_totals().unwrap().since(&before);
    let [a, b, c] = shares(&profile);
    eprintln!(
        "{}",
        render::table(&profile, render::Format::Terminal, Some(5))
    );
    assert!((a - 50.0).abs() <= 5.0, "alpha {a:.1}% (truth 50%)");
    assert!((b - 30.0).abs() <= 5.0, "beta {b:.1}% (truth 30%)");
    assert!((c - 20.0).abs() <= 5.0, "gamma {c:.1}% (truth 20%)");
    assert_eq!(profile.sites[0].function, "sites_wired::alpha");
    assert_eq!(profile.dropped_samples, 0);
    // Counting is unaffected by sampling: every block of the workload is counted exactly.
    let truth =
        (total / 2 / 8192 * 8192 + total * 3 / 10 / 1024 * 1024 + total / 5 / 96 * 96) as u64;
    assert!(counted.alloc_bytes >= truth, "{counted:?} < {truth}");
}

#[test]
fn exact_mode_is_exact_through_the_counting_allocator() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::Exact).unwrap();
    alpha(50, 10_000);
    beta(300, 1000);
    gamma(2000, 100);
    let profile = session.finish();
    for (function, count, bytes) in [
        ("alpha", 50, 500_000),
        ("beta", 300, 300_000),
        ("gamma", 2000, 200_000),
    ] {
        let site = profile
            .site(function)
            .unwrap_or_else(|| panic!("no site {function}: {profile:?}"));
        assert_eq!(site.function, format!("sites_wired::{function}"));
        assert_eq!(
            (site.stats.alloc_count, site.stats.alloc_bytes),
            (count, bytes),
            "{function}"
        );
        assert_eq!((site.stats.live_count, site.stats.live_bytes), (0, 0));
    }
    assert_eq!(shares(&profile), [50.0, 30.0, 20.0]);
    assert_eq!(profile.sites[0].function, "sites_wired::alpha");
}

#[test]
fn realloc_frees_the_old_block_and_samples_the_new() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::Exact).unwrap();
    let kept = grower(1000);
    let profile = session.finish();
    let site = profile.site("grower").expect("grower is a site");
    // Only the final block is live: every realloc freed the block before it.
    assert_eq!(site.stats.live_count, 1, "{site:?}");
    assert_eq!(
        site.stats.live_bytes,
        (kept.capacity() * 8) as u64,
        "{site:?}"
    );
    assert!(site.stats.alloc_count > 5, "{site:?}");
    drop(kept);
}

#[test]
fn without_a_session_nothing_is_sampled() {
    let _lock = one_at_a_time();
    alpha(100, 4096);
    let session = Session::start(Sampling::Exact).unwrap();
    let profile = session.finish();
    assert!(profile.site("alpha").is_none(), "{profile:?}");
}
