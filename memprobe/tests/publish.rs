//! The `publish` feature end to end inside one process: the record is created 0600 where
//! `MEMPROBE_PUBLISH` says, refreshed by the background thread, read consistently by
//! `publish::Reader` (the daemon's side), and a purge request is honoured. Its own test binary:
//! the publisher is process-wide. Run with `cargo test -p memprobe --features publish --test publish`.
#![cfg(all(feature = "publish", target_os = "linux"))]

use memprobe::publish::{self, Reader};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

memprobe::global_allocator!(tikv_jemallocator::Jemalloc);

fn wait_for(
    reader: &Reader,
    what: &str,
    ok: impl Fn(&publish::PublishedStats) -> bool,
) -> publish::PublishedStats {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        if let Some(s) = reader.read().unwrap() {
            if ok(&s) {
                return s;
            }
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn publishes_to_the_daemon_and_purges_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record");
    // SAFETY: set before any other thread of this test binary reads the environment (single test).
    unsafe { std::env::set_var(publish::ENV_VAR, &path) };

    assert!(publish::start().unwrap());
    assert!(publish::start().unwrap(), "idempotent");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        publish::RECORD_SIZE as u64
    );

    let held = vec![1u8; 16 << 20];
    for _ in 0..5 {
        publish::mark_iteration();
    }
    publish::phase(
        "steady state with a rather long name that will be cut at sixty-four bytes, surely",
    );
    let reader = Reader::open(&path).unwrap();
    let s = wait_for(&reader, "iteration 5", |s| {
        s.iteration == 5 && s.phase_seq == 1
    });
    assert_eq!(s.pid, std::process::id());
    assert_eq!(s.phase.len(), publish::PHASE_MAX);
    assert!(s.phase.starts_with("steady state"));
    let j = s.jemalloc.expect("jemalloc is the global allocator");
    assert!(j.allocated_bytes >= 16 << 20, "{j:?}");
    let own = memprobe::JemallocStats::read().unwrap();
    assert!(
        own.allocated_bytes.abs_diff(j.allocated_bytes) < 1 << 20,
        "{own:?} vs {j:?}"
    );
    let c = s.counting.expect("the counting allocator is installed");
    assert!(c.live_bytes() >= 16 << 20);
    drop(held);

    // Refreshes at most every 100 ms.
    let first = s.updates;
    std::thread::sleep(Duration::from_millis(550));
    let later = reader.read().unwrap().unwrap().updates;
    assert!(
        (first + 3..=first + 7).contains(&later),
        "{first} → {later}"
    );

    let mut writer = Reader::open(&path).unwrap();
    let n = writer.request_purge().unwrap();
    let s = wait_for(&writer, "the purge", |s| s.purge_done >= n);
    assert_eq!(s.purge_done, 1);
}

#[test]
fn junk_is_not_a_record() {
    assert!(publish::decode(&[0xffu8; publish::RECORD_SIZE]).is_none());
    assert!(publish::decode(&[0u8; 8]).is_none());
}
