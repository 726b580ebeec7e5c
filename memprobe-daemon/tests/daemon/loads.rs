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
    let _heavy = heavy();
    let o = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "10ms",
            "--duration",
            "2500ms",
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
    let after = at(1900, 2500);
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

/// A Python process that maps `mib` MiB shared, touches every page, forks three children that
/// read every page of it (a fork does not copy the page table of a shared mapping), and sleeps: `--tree --pss-interval`'s last walk, as (tree PSS, tree RSS).
fn shared_tree(mib: u64) -> Option<(u64, u64)> {
    let script = format!(
        "import mmap, os, time\n\
         m = mmap.mmap(-1, max({mib} << 20, 4096))\n\
         for i in range(0, len(m), 4096): m[i] = 1\n\
         for _ in range(3):\n    \
             if os.fork() == 0:\n        \
                 sum(m[i] for i in range(0, len(m), 4096))\n        \
                 time.sleep(30)\n        os._exit(0)\n\
         time.sleep(30)\n"
    );
    let o = outputs();
    let run = std::process::Command::new(daemon_path())
        .args([
            "watch",
            "--quiet",
            "--tree",
            "--interval",
            "50ms",
            "--pss-interval",
            "500ms",
        ])
        .args(["--duration", "2500ms", "--out"])
        .arg(&o.out)
        .args(["--", "python3", "-c", &script])
        .output()
        .ok()?;
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let last = lines(&o.out)
        .into_iter()
        .rev()
        .find(|l| l["pss"].is_object())
        .unwrap();
    assert_eq!(last["tree"]["processes"], 4, "{last}");
    Some((
        last["pss"]["tree_pss_bytes"]
            .as_u64()
            .expect("tree_pss_bytes"),
        last["tree"]["rss_bytes"].as_u64().unwrap(),
    ))
}

/// PSS over a forked tree counts shared pages once: 64 MiB shared by four processes adds one
/// copy to the tree's PSS (the summed RSS adds four).
#[test]
fn forked_tree_pss_counts_shared_pages_once() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: needs python3 (os.fork with a shared mapping)");
        return;
    }
    let _heavy = heavy();
    let (pss_small, rss_small) = shared_tree(0).unwrap();
    let (pss_big, rss_big) = shared_tree(64).unwrap();
    let pss_added = pss_big as i64 - pss_small as i64;
    let rss_added = rss_big as i64 - rss_small as i64;
    eprintln!("64 MiB shared by 4 processes: tree PSS +{pss_added} bytes, summed RSS +{rss_added}");
    let region = (64 * MIB) as i64;
    // One copy, give or take the interpreter's own pages between two runs.
    assert!(
        (pss_added - region).abs() <= region / 50,
        "tree PSS grew by {pss_added} bytes for one 64 MiB region shared by 4"
    );
    assert!(
        (rss_added - 4 * region).abs() <= region / 10,
        "summed RSS grew by {rss_added} bytes: four copies expected"
    );
}
