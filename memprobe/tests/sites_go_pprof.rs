//! The pprof export opened by the reference reader: `go tool pprof` (Debian's `golang-go`,
//! installed by `scripts/install-test-deps.sh`) reads the `.pb.gz` memprobe writes, names the
//! user's function as the top allocation site, and its samples sum to the profile's totals.
//! Skips with a note where Go is missing; fails under `CI=true`.

use std::path::Path;
use std::process::Command;

use memprobe::sites::{Sampling, Session, pprof};

memprobe::global_allocator!();

/// 40 blocks of 1,000 `u64`: 320,000 bytes in 40 allocations, all kept.
#[inline(never)]
fn build_index() -> Vec<Vec<u64>> {
    (0..40u64).map(|i| vec![i; 1000]).collect()
}

/// 25 blocks of 512 bytes, freed at once: 12,800 bytes, none live.
#[inline(never)]
fn scratch() {
    for i in 0..25u8 {
        std::hint::black_box(vec![i; 512]);
    }
}

fn go_tool() -> Option<()> {
    let found = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(());
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("go is not installed: run scripts/install-test-deps.sh (Debian's golang-go)");
    }
    eprintln!("skipped: go not found (scripts/install-test-deps.sh installs golang-go)");
    None
}

fn pprof(args: &[&str], file: &Path) -> String {
    let out = Command::new("go")
        .args(["tool", "pprof"])
        .args(args)
        .arg(file)
        .output()
        .expect("run go tool pprof");
    assert!(
        out.status.success(),
        "go tool pprof {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("pprof prints UTF-8")
}

/// The rows under `Samples:` of `pprof -raw`: the four values of each sample.
fn raw_samples(raw: &str) -> Vec<[i64; 4]> {
    raw.lines()
        .skip_while(|l| !l.starts_with("Samples:"))
        .skip(2) // "Samples:" and the column header
        .take_while(|l| !l.starts_with("Locations"))
        .filter_map(|l| {
            let (values, _) = l.split_once(':')?;
            let v: Vec<i64> = values
                .split_whitespace()
                .map(|x| x.parse().expect("a sample value"))
                .collect();
            Some([v[0], v[1], v[2], v[3]])
        })
        .collect()
}

#[test]
fn go_tool_pprof_reads_the_profile_and_its_totals() {
    if go_tool().is_none() {
        return;
    }
    let session = Session::start(Sampling::Exact).expect("no other session in this binary");
    let kept = build_index();
    scratch();
    let profile = session.finish();
    drop(kept);

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sites.pb.gz");
    pprof::write(&profile, &file).expect("write the profile");

    // The samples, as Go reads them, sum to the profile's estimates (exact mode: the counts).
    let samples = raw_samples(&pprof(&["-raw"], &file));
    assert!(!samples.is_empty(), "pprof -raw listed no samples");
    let sum = |i: usize| samples.iter().map(|s| s[i]).sum::<i64>();
    let t = &profile.total;
    assert_eq!(sum(0), t.alloc_count as i64, "alloc_objects");
    assert_eq!(sum(1), t.alloc_bytes as i64, "alloc_space");
    assert_eq!(sum(2), t.live_count as i64, "inuse_objects");
    assert_eq!(sum(3), t.live_bytes as i64, "inuse_space");
    assert!(t.alloc_bytes >= 320_000 + 12_800, "{t:?}");

    // The top allocation site by space, and by live space, is the user's function (the
    // closure inside it that `vec!` is called from).
    for index in ["alloc_space", "inuse_space"] {
        let top = pprof(
            &["-top", "-nodecount=1", &format!("-sample_index={index}")],
            &file,
        );
        let first_row = top
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("flat"))
            .nth(1)
            .unwrap_or_else(|| panic!("no rows in pprof -top:\n{top}"));
        assert!(
            first_row.contains("  sites_go_pprof::build_index"),
            "{index}: top row {first_row:?}\n{top}"
        );
    }
}
