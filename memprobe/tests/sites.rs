//! Allocation sites end to end: a test-only global allocator (System plus the two hooks of
//! `memprobe::sites`, exactly as the counting allocator will call them) under workloads whose
//! truth is known: three functions allocating 50/30/20 % of the bytes, a leak, a doubled
//! function for the A/B diff, many threads, a full table. The pprof export is decoded with prost
//! against the same `profile.proto`, and the top site is compared with dhat's on the same
//! workload (dhat runs in a child process of this binary, as its global allocator).
//!
//! Sessions are process-wide, so the tests take one lock and run one at a time; other threads
//! of the harness may still allocate during a session, which is why the assertions look at the
//! workload's sites rather than at every site.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use memprobe::sites::{Profile, ProfileDiff, Sampling, Session, SitesError, render};

#[path = "support/sites.rs"]
mod workload;
use workload::*;

const DHAT_SIDE: &str = "MEMPROBE_SITES_DHAT_SIDE";

/// 0: not decided; 1: System + sites hooks; 2: dhat (the child process of `top_site_agrees_with_dhat`).
static SIDE: AtomicU8 = AtomicU8::new(0);
static DHAT: dhat::Alloc = dhat::Alloc;

fn side() -> u8 {
    match SIDE.load(Relaxed) {
        0 => {
            // SAFETY: a NUL-terminated C string; `getenv` allocates nothing and the pointer is
            // only compared with null.
            let dhat = !unsafe { libc::getenv(c"MEMPROBE_SITES_DHAT_SIDE".as_ptr()) }.is_null();
            let side = if dhat { 2 } else { 1 };
            SIDE.store(side, Relaxed);
            side
        }
        side => side,
    }
}

/// System, calling `on_alloc` after each allocation and `on_dealloc` before each free.
struct Sampled;

thread_local! {
    /// Set while this thread runs a sites hook.
    static IN_HOOK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}
/// Allocations made from inside a hook: the contract says there are none.
static REENTERED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs a hook, counting any allocation it makes through this allocator. A macro, not a
/// function: a frame of its own between the allocator and the hook would be a frame of this
/// crate, which the profile rightly does not collapse.
macro_rules! hook {
    ($($call:tt)*) => {{
        IN_HOOK.with(|h| h.set(true));
        $($call)*;
        IN_HOOK.with(|h| h.set(false));
    }};
}

fn note_reentry() {
    if IN_HOOK.with(|h| h.get()) {
        REENTERED.fetch_add(1, Relaxed);
    }
}

// SAFETY: every call goes, unchanged, to System (or, in the dhat child, to dhat for the whole
// process); the hooks only observe.
unsafe impl GlobalAlloc for Sampled {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if side() == 2 {
            // SAFETY: the caller's contract is passed on.
            return unsafe { DHAT.alloc(layout) };
        }
        note_reentry();
        // SAFETY: the caller's contract is passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            hook!(memprobe::sites::on_alloc(ptr, layout.size()));
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if side() == 2 {
            // SAFETY: the caller's contract is passed on.
            return unsafe { DHAT.dealloc(ptr, layout) };
        }
        note_reentry();
        hook!(memprobe::sites::on_dealloc(ptr, layout.size()));
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if side() == 2 {
            // SAFETY: the caller's contract is passed on.
            return unsafe { DHAT.realloc(ptr, layout, new_size) };
        }
        // SAFETY: the caller's contract is passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        note_reentry();
        if !new.is_null() {
            hook!(memprobe::sites::on_dealloc(ptr, layout.size()));
            hook!(memprobe::sites::on_alloc(new, new_size));
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Sampled = Sampled;

#[test]
fn shares_at_the_default_rate_are_within_five_points() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::default()).unwrap();
    three_functions(1 << 30);
    let profile = session.finish();
    let [a, b, c] = shares(&profile);
    eprintln!(
        "{}",
        render::table(&profile, render::Format::Terminal, Some(5))
    );
    assert!((a - 50.0).abs() <= 5.0, "alpha {a:.1}% (truth 50%)");
    assert!((b - 30.0).abs() <= 5.0, "beta {b:.1}% (truth 30%)");
    assert!((c - 20.0).abs() <= 5.0, "gamma {c:.1}% (truth 20%)");
    assert_eq!(
        profile.sites[0].function, "sites::workload::alpha",
        "{:?}",
        profile.sites[0]
    );
    assert_eq!(profile.dropped_samples, 0);
    // The estimated total of the three is the truth within 5 %.
    let three: u64 = ["alpha", "beta", "gamma"]
        .map(|f| bytes_of(&profile, f))
        .iter()
        .sum();
    let truth = three_functions_bytes(1 << 30);
    let error = (three as f64 - truth as f64).abs() / truth as f64;
    assert!(error < 0.05, "estimated {three} bytes, truth {truth}");
}

#[test]
fn exact_mode_is_exact() {
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
        assert_eq!(site.function, format!("sites::workload::{function}"));
        assert_eq!(
            (site.stats.alloc_count, site.stats.alloc_bytes),
            (count, bytes),
            "{function}"
        );
        assert_eq!(
            (site.stats.live_count, site.stats.live_bytes),
            (0, 0),
            "{function} freed all"
        );
    }
    assert_eq!(shares(&profile), [50.0, 30.0, 20.0]);
    assert_eq!(profile.sites[0].function, "sites::workload::alpha");
    assert_eq!(profile.dropped_samples, 0);
}

#[test]
fn pprof_decodes_against_profile_proto_and_sums_to_the_totals() {
    use prost::Message;
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::default()).unwrap();
    three_functions(256 << 20);
    let kept = leaky(64, 64 * 1024);
    let profile = session.finish();
    drop(kept);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sites.pb.gz");
    memprobe::sites::pprof::write(&profile, &path).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let decoded = memprobe::sites::pprof::proto::Profile::decode(raw.as_slice()).unwrap();
    let text = |i: i64| decoded.string_table[i as usize].as_str();
    assert_eq!(text(0), "");
    let types: Vec<(&str, &str)> = decoded
        .sample_type
        .iter()
        .map(|t| (text(t.r#type), text(t.unit)))
        .collect();
    assert_eq!(
        types,
        [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes")
        ]
    );
    assert_eq!(decoded.period, 512 * 1024);
    let mut sums = [0i64; 4];
    for sample in &decoded.sample {
        for (sum, v) in sums.iter_mut().zip(&sample.value) {
            *sum += v;
        }
        for id in &sample.location_id {
            assert!(
                decoded.location.iter().any(|l| l.id == *id),
                "dangling location {id}"
            );
        }
    }
    let t = profile.total;
    assert_eq!(
        sums,
        [t.alloc_count, t.alloc_bytes, t.live_count, t.live_bytes].map(|v| v as i64)
    );
    assert!(t.alloc_bytes > 0);
    // The heaviest sample's leaf is the user's function.
    let top = decoded.sample.iter().max_by_key(|s| s.value[1]).unwrap();
    let leaf = decoded
        .location
        .iter()
        .find(|l| l.id == top.location_id[0])
        .unwrap();
    let function = decoded
        .function
        .iter()
        .find(|f| f.id == leaf.line[0].function_id)
        .unwrap();
    assert_eq!(text(function.name), "sites::workload::alpha");
}

#[test]
fn diff_puts_the_doubled_function_on_top_with_its_delta() {
    let _lock = one_at_a_time();
    let run = |gamma_count: usize| {
        let session = Session::start(Sampling::Exact).unwrap();
        alpha(50, 10_000);
        beta(300, 1000);
        gamma(gamma_count, 100);
        session.finish()
    };
    let a = run(2000);
    let b = run(4000);
    let diff = ProfileDiff::new(&a, &b);
    let top = &diff.sites[0];
    assert_eq!(top.function, "sites::workload::gamma");
    assert_eq!(
        (top.alloc_bytes_delta, top.alloc_count_delta),
        (200_000, 2000)
    );
    for other in ["sites::workload::alpha", "sites::workload::beta"] {
        let d = diff.sites.iter().find(|d| d.function == other).unwrap();
        assert_eq!(d.alloc_bytes_delta, 0, "{other}");
    }
    let table = render::diff_table(&diff, render::Format::Markdown, Some(1));
    assert!(
        table
            .lines()
            .nth(2)
            .unwrap()
            .starts_with("| sites::workload::gamma | 200000 | 400000 | +200000 | +2000 |"),
        "{table}"
    );
}

#[test]
fn a_leak_is_the_top_site_by_live_bytes() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::default()).unwrap();
    three_functions(256 << 20);
    let kept = leaky(1024, 64 * 1024);
    let profile = session.finish();
    drop(kept);
    let top = profile
        .sites
        .iter()
        .max_by_key(|s| s.stats.live_bytes)
        .unwrap();
    assert_eq!(top.function, "sites::workload::leaky", "{profile:#?}");
    let truth = 64 << 20;
    let error = (top.stats.live_bytes as f64 - truth as f64).abs() / truth as f64;
    assert!(
        error < 0.25,
        "leaky: {} live bytes estimated, {truth} kept",
        top.stats.live_bytes
    );
    for churn in ["alpha", "beta", "gamma"] {
        assert_eq!(
            profile.site(churn).unwrap().stats.live_bytes,
            0,
            "{churn} freed everything"
        );
    }
    // Ordered by live growth, the diff against an empty profile names the leak first.
    let diff = ProfileDiff::new(&Profile::default(), &profile).by_live_growth();
    assert_eq!(diff.sites[0].function, "sites::workload::leaky");
}

#[test]
fn the_hooks_never_allocate() {
    let _lock = one_at_a_time();
    let before = REENTERED.load(Relaxed);
    let session = Session::start(Sampling::Exact).unwrap();
    // Every allocation is sampled (stack walk + table insert), reallocations and frees included.
    let mut grown = Vec::new();
    for i in 0..5000u32 {
        grown.push(i);
    }
    let kept = leaky(100, 256);
    gamma(3000, 48);
    drop(kept);
    let profile = session.finish();
    assert!(
        profile.sample_count > 3000,
        "{} samples",
        profile.sample_count
    );
    assert_eq!(REENTERED.load(Relaxed) - before, 0, "a hook allocated");
    drop(grown);
}

#[test]
fn threads_sample_into_one_table() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::Exact).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| gamma(1000, 64));
        }
    });
    let profile = session.finish();
    let site = profile.site("gamma").unwrap();
    assert_eq!(
        (site.stats.alloc_count, site.stats.alloc_bytes),
        (4000, 256_000)
    );
}

#[test]
fn a_full_table_counts_what_it_drops() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::Exact).unwrap();
    gamma(memprobe::sites::CAPACITY + 5000, 16);
    let profile = session.finish();
    assert_eq!(profile.sample_count, memprobe::sites::CAPACITY as u64);
    assert!(
        profile.dropped_samples >= 5000,
        "{} dropped",
        profile.dropped_samples
    );
    let table = render::table(&profile, render::Format::Terminal, Some(1));
    assert!(
        table.contains("samples dropped (table full): figures are low"),
        "{table}"
    );
}

#[test]
fn misuse_is_one_clear_line() {
    let _lock = one_at_a_time();
    assert_eq!(
        Session::start(Sampling::MeanBytes(0))
            .unwrap_err()
            .to_string(),
        "memprobe: a sampling interval of 0 bytes samples nothing; use Sampling::Exact to sample every allocation, or a mean of at least 1 byte (default 512 KiB)"
    );
    let session = Session::start(Sampling::Exact).unwrap();
    let err = Session::start(Sampling::Exact).unwrap_err();
    assert!(matches!(err, SitesError::SessionRunning));
    assert_eq!(
        err.to_string(),
        "memprobe: an allocation-sites session is already running in this process; finish (or drop) it before starting another"
    );
    drop(session);
    let err = memprobe::sites::pprof::write(
        &Profile::default(),
        std::path::Path::new("/nonexistent-dir/x.pb.gz"),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "memprobe: writing the allocation-sites profile /nonexistent-dir/x.pb.gz: "
        ),
        "{err}"
    );
}

#[test]
fn json_round_trips() {
    let _lock = one_at_a_time();
    let session = Session::start(Sampling::Exact).unwrap();
    beta(10, 1000);
    let profile = session.finish();
    let back: Profile = serde_json::from_str(&render::json(&profile)).unwrap();
    assert_eq!(back.sites, profile.sites);
    assert_eq!(back.total, profile.total);
}

/// The dhat child: the exact workload under dhat's heap profiler, written to the file named by
/// the environment variable.
fn dhat_child(out: &str) {
    let profiler = dhat::Profiler::builder().file_name(out).build();
    alpha(50, 10_000);
    beta(300, 1000);
    gamma(2000, 100);
    drop(profiler);
}

#[test]
fn top_site_agrees_with_dhat() {
    if let Ok(out) = std::env::var(DHAT_SIDE) {
        dhat_child(&out);
        return;
    }
    let _lock = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dhat-heap.json");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "top_site_agrees_with_dhat",
            "--test-threads=1",
            "--quiet",
        ])
        .env(DHAT_SIDE, &out)
        .status()
        .unwrap();
    assert!(status.success());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let frames = json["ftbl"].as_array().unwrap();
    let top = json["pps"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|pp| pp["tb"].as_u64().unwrap())
        .unwrap();
    // dhat's frames read "0x...: function (file:line)"; its first frame in one of the
    // workload's functions names the site (the test allocator's own frame, `<sites::Sampled as
    // GlobalAlloc>::alloc`, stays in dhat's stacks unless inlined, as in unoptimised builds).
    let workload = [
        "sites::workload::alpha",
        "sites::workload::beta",
        "sites::workload::gamma",
    ];
    let dhat_top = top["fs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| frames[i.as_u64().unwrap() as usize].as_str().unwrap())
        .find(|f| workload.iter().any(|w| f.contains(&format!(": {w} ("))))
        .unwrap_or_default()
        .to_owned();
    assert_eq!(top["tb"].as_u64(), Some(500_000), "{dhat_top}");

    let session = Session::start(Sampling::Exact).unwrap();
    alpha(50, 10_000);
    beta(300, 1000);
    gamma(2000, 100);
    let ours = session.finish();
    assert!(
        dhat_top.contains(&format!("{} (", ours.sites[0].function)),
        "dhat: {dhat_top}, memprobe: {}",
        ours.sites[0].function
    );
}
