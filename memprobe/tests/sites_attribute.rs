//! `#[memprobe(sites)]` end to end, through the real counting allocator: the files written
//! beside the report (`<stem>.sites.json` parses back into a `Profile`, `<stem>.sites.pb.gz`
//! decodes against `profile.proto`), `sites = N` and `sites = "exact"`, and a failing limit
//! whose message names the top site after its violations.

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;

use memprobe::memprobe;
use memprobe::sites::Profile;
use prost::Message;

memprobe::global_allocator!();

/// Where the attribute writes `function`'s files: the report path with `.sites.*` for `.json`.
fn files(function: &str) -> (PathBuf, PathBuf, PathBuf) {
    let report = memprobe::__private::report_path(
        option_env!("CARGO_PKG_NAME"),
        &format!("sites_attribute::{function}"),
    );
    (
        report.clone(),
        report.with_extension("sites.json"),
        report.with_extension("sites.pb.gz"),
    )
}

fn profile_of(function: &str) -> Profile {
    let (_, json, _) = files(function);
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{}: {e}", json.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", json.display()))
}

#[inline(never)]
fn parse_records() -> Vec<Vec<u8>> {
    let mut records = Vec::with_capacity(200);
    for _ in 0..200 {
        records.push(Vec::with_capacity(1000));
    }
    records
}

#[inline(never)]
fn small_noise() {
    for _ in 0..10 {
        black_box(Vec::<u8>::with_capacity(16));
    }
}

#[memprobe(sites = "exact", report = "json")]
fn exact_workload() {
    let kept = parse_records();
    small_noise();
    assert_eq!(black_box(kept).len(), 200);
}

#[test]
fn exact_sites_write_json_and_pprof_beside_the_report() {
    let _one = one_at_a_time();
    let (report, json, pb) = files("exact_workload");
    // Left by an earlier run: the files must be this run's.
    let _ = std::fs::remove_file(&json);
    let _ = std::fs::remove_file(&pb);
    exact_workload();
    assert!(report.is_file(), "{}", report.display());
    let profile = profile_of("exact_workload");
    assert_eq!(profile.mean_interval_bytes, 0, "exact mode");
    let top = &profile.sites[0];
    assert_eq!(top.function, "sites_attribute::parse_records", "{top:?}");
    assert_eq!(top.stats.alloc_bytes, 200 * 1000 + 200 * 24);
    // The vector of 200 records is parse_records' too: 200 blocks of 1000 B plus one of 200×24.
    assert_eq!(top.stats.alloc_count, 201);
    let noise = profile.site("small_noise").expect("small_noise is a site");
    assert_eq!(
        (noise.stats.alloc_count, noise.stats.alloc_bytes),
        (10, 160)
    );
    assert_eq!(noise.stats.live_bytes, 0);

    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&pb).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let decoded = memprobe::sites::pprof::proto::Profile::decode(raw.as_slice()).unwrap();
    let text = |i: i64| decoded.string_table[i as usize].as_str();
    assert_eq!(text(decoded.sample_type[1].r#type), "alloc_space");
    let space: i64 = decoded.sample.iter().map(|s| s.value[1]).sum();
    assert_eq!(space as u64, profile.total.alloc_bytes);
    let functions: Vec<&str> = decoded.function.iter().map(|f| text(f.name)).collect();
    assert!(
        functions.contains(&"sites_attribute::parse_records"),
        "{functions:?}"
    );
}

/// 16 MiB in 4 KiB blocks, kept until the end.
#[inline(never)]
fn load_big() -> Vec<Vec<u8>> {
    let mut blocks = Vec::with_capacity(4096);
    for _ in 0..4096 {
        blocks.push(Vec::with_capacity(4096));
    }
    blocks
}

/// 4 MiB in 4 KiB blocks, freed at once.
#[inline(never)]
fn load_small() {
    for _ in 0..1024 {
        black_box(Vec::<u8>::with_capacity(4096));
    }
}

#[memprobe(sites = 1, max_bytes = "1 KiB", report = "json")]
fn over_its_limit() {
    let big = load_big();
    load_small();
    black_box(big);
}

#[test]
fn a_failing_limit_prints_the_top_sites_after_its_violations() {
    let _one = one_at_a_time();
    let message = *std::panic::catch_unwind(over_its_limit)
        .expect_err("over_its_limit allocates over 1 KiB")
        .downcast::<String>()
        .unwrap();
    let violation = message
        .find("max_bytes: limit 1.0 KiB")
        .unwrap_or_else(|| panic!("no violation in {message}"));
    let sites = message
        .find("where the bytes came from (allocation sites):")
        .unwrap_or_else(|| panic!("no sites table in {message}"));
    assert!(violation < sites, "{message}");
    let table = &message[sites..];
    assert!(
        table.contains("sites_attribute::load_big"),
        "the top site is named: {message}"
    );
    // `sites = 1`: the table shows one site; the files hold every site.
    assert!(!table.contains("load_small"), "{message}");
    let profile = profile_of("over_its_limit");
    assert_eq!(profile.sites[0].function, "sites_attribute::load_big");
    assert!(profile.site("load_small").is_some(), "{:?}", profile.sites);
}

#[inline(never)]
fn churn_default_rate() {
    for _ in 0..16 * 1024 {
        black_box(Vec::<u8>::with_capacity(4096));
    }
}

#[memprobe(sites, report = "json")]
fn default_rate() {
    churn_default_rate();
}

#[test]
fn default_sampling_finds_the_allocating_function() {
    let _one = one_at_a_time();
    default_rate();
    let profile = profile_of("default_rate");
    assert_eq!(profile.mean_interval_bytes, 512 * 1024);
    assert_eq!(
        profile.sites[0].function, "sites_attribute::churn_default_rate",
        "{:?}",
        profile.sites
    );
    // 64 MiB sampled every 512 KiB on average: the estimate is the truth within 25 %.
    let est = profile.sites[0].stats.alloc_bytes as f64;
    let truth = (16 * 1024 * 4096) as f64;
    assert!(
        (est - truth).abs() / truth < 0.25,
        "estimated {est}, truth {truth}"
    );
}

/// The tests of this binary one at a time: a sites window is process-wide, and another test's
/// symbolizing (std's backtrace loading debug info, 1.3 MB in one allocation) inside this
/// test's exact window was seen as its top site. Windows of `#[memprobe(sites)]` tests take
/// turns, but a turn ends before the profile is symbolized.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
