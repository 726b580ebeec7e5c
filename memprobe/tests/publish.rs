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
    // SAFETY: the other tests of this binary read no environment variable; the one that starts a
    // child passes its environment through `Command`, which reads it under std's lock.
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

    // Allocation sites on request: with the `sites` feature the publishing thread starts a
    // session and writes its profile beside the record; without it, it answers "not built".
    let start = publish::SitesRequest::Start { mean_bytes: 4096 };
    let n = writer.request_sites(start).unwrap();
    let state = wait_answer(&writer, n);
    #[cfg(not(feature = "sites"))]
    assert_eq!(state, publish::SitesState::NotBuilt);
    #[cfg(feature = "sites")]
    {
        assert_eq!(state, publish::SitesState::Sampling);
        let n = writer.request_sites(start).unwrap();
        assert_eq!(
            wait_answer(&writer, n),
            publish::SitesState::Sampling,
            "idempotent"
        );
        let kept = grow_a_cache_for_the_daemon();
        let n = writer.request_sites(publish::SitesRequest::Write).unwrap();
        assert_eq!(wait_answer(&writer, n), publish::SitesState::Written);
        let json = publish::site_profile_path(&path);
        let profile: memprobe::sites::Profile =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let site = profile
            .site("grow_a_cache_for_the_daemon")
            .unwrap_or_else(|| panic!("no site for the cache: {profile:#?}"));
        // 256 blocks of 4 KiB (and the 6 KiB table of them), each sampled with p = 1 - 1/e at a 4 KiB mean: the estimate is
        // within a few percent of 1 MiB; 25% is over four standard deviations.
        let live = site.stats.live_bytes as f64;
        assert!((live - 1048576.0).abs() < 262144.0, "{site:?}");
        let pprof = std::fs::read(json.with_extension("pb.gz")).unwrap();
        assert_eq!(&pprof[..2], &[0x1f, 0x8b], "gzip");
        drop(kept);
    }
}

/// Waits (10 s at most: a write symbolizes the stacks) for the publishing thread's answer to sites request `n`.
fn wait_answer(reader: &Reader, n: u64) -> publish::SitesState {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(state) = reader.sites_answer(n).unwrap() {
            return state;
        }
        assert!(Instant::now() < until, "no answer to sites request {n:#x}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The allocation site the sites round trip looks for: 1 MiB in 4 KiB blocks, kept.
#[cfg(feature = "sites")]
#[inline(never)]
fn grow_a_cache_for_the_daemon() -> Vec<Vec<u8>> {
    let mut cache = Vec::with_capacity(256);
    for _ in 0..256 {
        cache.push(vec![3u8; 4096]);
    }
    cache
}

#[test]
fn junk_is_not_a_record() {
    assert!(publish::decode(&[0xffu8; publish::RECORD_SIZE]).is_err());
    assert!(publish::decode(&[0u8; 8]).is_err());
}

// ---------------------------------------------------------------------------------------------
// A full device: `start()` must return an error, never let the first store raise SIGBUS.

/// Set in the re-executed child: the path to publish to on the full tmpfs.
const CHILD_VAR: &str = "MEMPROBE_TEST_FULL_DEVICE_CHILD";

/// The child's half of `a_full_device_is_an_error_from_start_not_a_signal`: does nothing unless
/// the parent re-executed this binary with [`CHILD_VAR`] set.
#[test]
fn full_device_child() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    // The parent set MEMPROBE_PUBLISH for this process only.
    match publish::start() {
        Ok(published) => println!("\nchild: start() returned Ok({published})"),
        Err(e) => println!("\nchild: start() failed: {e}"),
    }
}

/// A tmpfs of 64 KiB, filled to the last page, unmounted on drop. `None` (with the reason
/// printed) when this test cannot mount: not root, or no mount permission in this container.
struct FullTmpfs {
    dir: tempfile::TempDir,
}

impl FullTmpfs {
    fn mount() -> Option<FullTmpfs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                eprintln!(
                    "skipped: mount -t tmpfs failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                return None;
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                return None;
            }
        }
        let fs = FullTmpfs { dir };
        // Fill it: write pages until the device says it is full.
        use std::io::Write;
        let mut filler = std::fs::File::create(fs.dir.path().join("filler")).unwrap();
        let page = [0xa5u8; 4096];
        let err = loop {
            if let Err(e) = filler.write_all(&page) {
                break e;
            }
        };
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        Some(fs)
    }
}

impl Drop for FullTmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_device_is_an_error_from_start_not_a_signal() {
    let Some(fs) = FullTmpfs::mount() else {
        return;
    };
    let record = fs.dir.path().join("record");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "full_device_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .env(publish::ENV_VAR, &record)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            None,
            "the publishing process was killed by a signal ({:?}); stdout: {stdout}",
            out.status
        );
    }
    assert!(out.status.success(), "{:?}: {stdout}", out.status);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("child:"))
        .unwrap_or_else(|| panic!("the child printed no outcome: {stdout}"));
    assert!(
        line.starts_with("child: start() failed: memprobe: reserving ")
            && line.contains("record")
            && line.contains("No space left on device"),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile record files: each gives one line from `open` or `read`, never a crash or a hang.

/// A valid record's words: magic, version, even seq, `pid`, the rest zero.
fn record_words(pid: u32) -> [u64; publish::RECORD_SIZE / 8] {
    let mut w = [0u64; publish::RECORD_SIZE / 8];
    w[0] = publish::MAGIC;
    w[1] = u64::from(publish::VERSION) | ((publish::RECORD_SIZE as u64) << 32);
    w[2] = 2;
    w[3] = u64::from(pid);
    w
}

fn to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_ne_bytes()).collect()
}

/// Runs `f` on another thread; fails the test if it takes more than 5 s (a hang) or panics.
fn within_5s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{what}: hung or panicked ({e})"))
}

/// How a hostile file is set up, and the words its one line must contain.
struct Hostile {
    name: &'static str,
    make: fn(&std::path::Path),
    expect_pid: Option<u32>,
    message: &'static [&'static str],
}

#[test]
fn hostile_record_files_give_one_line_and_never_hang() {
    let cases = [
        Hostile {
            name: "missing",
            make: |_| {},
            expect_pid: None,
            message: &["reading", "No such file"],
        },
        Hostile {
            name: "symlink to a valid record",
            make: |p| {
                let target = p.with_extension("target");
                std::fs::write(&target, to_bytes(&record_words(1))).unwrap();
                std::os::unix::fs::symlink(&target, p).unwrap();
            },
            expect_pid: None,
            message: &["symbolic link"],
        },
        Hostile {
            name: "fifo",
            make: |p| {
                let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            },
            expect_pid: None,
            message: &["not a regular file"],
        },
        Hostile {
            name: "directory",
            make: |p| std::fs::create_dir(p).unwrap(),
            expect_pid: None,
            message: &["not a regular file"],
        },
        Hostile {
            name: "too short",
            make: |p| std::fs::write(p, &to_bytes(&record_words(1))[..100]).unwrap(),
            expect_pid: None,
            message: &["100 bytes", "320"],
        },
        Hostile {
            name: "too long",
            make: |p| {
                let mut b = to_bytes(&record_words(1));
                b.extend_from_slice(&[0u8; 4096]);
                std::fs::write(p, b).unwrap()
            },
            expect_pid: None,
            message: &["4416 bytes", "320"],
        },
        Hostile {
            name: "bad magic",
            make: |p| {
                let mut w = record_words(1);
                w[0] = u64::from_le_bytes(*b"NOTMPRB!");
                std::fs::write(p, to_bytes(&w)).unwrap()
            },
            expect_pid: None,
            message: &["magic"],
        },
        Hostile {
            name: "bad version",
            make: |p| {
                let mut w = record_words(1);
                w[1] = 7 | ((publish::RECORD_SIZE as u64) << 32);
                std::fs::write(p, to_bytes(&w)).unwrap()
            },
            expect_pid: None,
            message: &["version 7"],
        },
        Hostile {
            name: "another pid",
            make: |p| std::fs::write(p, to_bytes(&record_words(4242))).unwrap(),
            expect_pid: Some(77),
            message: &["pid 4242", "77"],
        },
        Hostile {
            name: "pid beyond u32",
            make: |p| {
                let mut w = record_words(1);
                w[3] = u64::MAX;
                std::fs::write(p, to_bytes(&w)).unwrap()
            },
            expect_pid: None,
            message: &["pid"],
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let path = dir.path().join(case.name.replace(' ', "-"));
        (case.make)(&path);
        let outcome = within_5s(case.name, move || {
            let reader = Reader::open(&path)?;
            let reader = match case.expect_pid {
                Some(pid) => reader.expecting_pid(pid),
                None => reader,
            };
            reader.read()
        });
        match outcome {
            Err(e) => {
                let line = e.to_string();
                if line.contains('\n')
                    || !line.starts_with("memprobe: ")
                    || !case.message.iter().all(|m| line.contains(m))
                {
                    failures.push(format!("{}: {line:?} lacks {:?}", case.name, case.message));
                }
            }
            Ok(read) => failures.push(format!("{}: accepted: {read:?}", case.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_device_file_is_refused_without_blocking() {
    let err = within_5s("/dev/zero", || {
        Reader::open(std::path::Path::new("/dev/zero")).unwrap_err()
    });
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn a_record_not_yet_written_or_stuck_mid_write_is_none_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // Created by the process, not yet sized: empty.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(Reader::open(&empty).unwrap().read().unwrap(), None);
    // Sized, magic not yet stored.
    let zeros = dir.path().join("zeros");
    std::fs::write(&zeros, [0u8; publish::RECORD_SIZE]).unwrap();
    assert_eq!(Reader::open(&zeros).unwrap().read().unwrap(), None);
    // A writer that died mid-update: seq stays odd; the reader gives up, promptly.
    let stuck = dir.path().join("stuck");
    let mut w = record_words(1);
    w[2] = 3;
    std::fs::write(&stuck, to_bytes(&w)).unwrap();
    let read = within_5s("stuck", move || {
        Reader::open(&stuck).unwrap().read().unwrap()
    });
    assert_eq!(read, None);
}

#[test]
fn counters_at_the_maximum_decode_and_a_purge_request_wraps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("max");
    let mut w = [u64::MAX; publish::RECORD_SIZE / 8];
    w[..4].copy_from_slice(&record_words(1)[..4]);
    w[2] = u64::MAX - 1; // even
    w[20] = u64::MAX; // phase length: cut to PHASE_MAX
    std::fs::write(&path, to_bytes(&w)).unwrap();
    let mut reader = Reader::open(&path).unwrap();
    let s = reader.read().unwrap().expect("a valid record");
    assert_eq!(s.iteration, u64::MAX);
    assert_eq!(s.updates, u64::MAX);
    assert_eq!(s.purge_done, u64::MAX);
    let c = s.counting.expect("flags has every bit set");
    assert_eq!(c.live_bytes(), 0);
    assert_eq!(s.jemalloc.unwrap().allocated_bytes, u64::MAX);
    assert_eq!(
        s.phase.len(),
        publish::PHASE_MAX * 3,
        "0xff bytes become U+FFFD"
    );
    // The purge counter is at u64::MAX: the next request wraps to 0, and only a record whose
    // `purge_done` reaches that request counts as purged.
    let request = reader.request_purge().unwrap();
    assert_eq!(request, 0);
    assert!(!s.has_purged(request), "u64::MAX done is not request 0");
    let after = reader.read().unwrap().unwrap();
    assert_eq!(after.purge_done, u64::MAX, "the process has not caught up");
    assert!(!after.has_purged(request));
    // Sites requests count on in 56 bits with the operation in the low byte; a garbled answer
    // word decodes to `Unknown`, never a panic.
    let n = reader.request_sites(publish::SitesRequest::Write).unwrap();
    assert_eq!(n & 0xff, 2);
    assert_eq!(
        reader.sites_answer(u64::MAX).unwrap(),
        Some(publish::SitesState::Unknown(u64::MAX))
    );
    assert_eq!(
        reader.sites_answer(n).unwrap(),
        None,
        "nobody answers this file"
    );
}

#[test]
fn a_reader_racing_a_writer_only_keeps_consistent_copies() {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race");
    let mut w = record_words(1);
    w[5] = 2; // counting figures valid
    std::fs::write(&path, to_bytes(&w)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seq = 2u64;
            let mut v = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                v += 1;
                file.write_all_at(&(seq + 1).to_ne_bytes(), 16).unwrap();
                // updates (word 4) and the five counting words (13..18) all become `v`.
                file.write_all_at(&v.to_ne_bytes(), 32).unwrap();
                file.write_all_at(&to_bytes(&[v; 5]), 13 * 8).unwrap();
                seq += 2;
                file.write_all_at(&seq.to_ne_bytes(), 16).unwrap();
            }
        })
    };
    let reader = Reader::open(&path).unwrap();
    let until = Instant::now() + Duration::from_millis(500);
    let (mut kept, mut torn) = (0u64, Vec::new());
    while Instant::now() < until {
        if let Some(s) = reader.read().unwrap() {
            kept += 1;
            let c = s.counting.unwrap();
            let all = [
                c.alloc_count,
                c.realloc_count,
                c.dealloc_count,
                c.alloc_bytes,
                c.freed_bytes,
            ];
            if all.iter().any(|&x| x != s.updates) {
                torn.push((s.updates, all));
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(kept > 0, "no consistent reading in 500 ms");
    assert!(
        torn.is_empty(),
        "{} torn copies kept, e.g. {:?}",
        torn.len(),
        torn[0]
    );
}
