//! One [`ProcessMemory`] read by many threads at once (parallel probes share the library's reader
//! of this process): every `status` reading must come from one generation of the file.
//!
//! Its own test binary: it gives this process a thousand supplementary groups (process-wide, so
//! the other snapshot tests must not see it) to make `status` longer than the reader's 4 KiB
//! buffer, which is when a reading takes two `pread`s and another thread's read in between could
//! splice a second generation of the text into the first.
#![cfg(target_os = "linux")]

use memprobe::ProcessMemory;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The reader's buffer: the first `pread` of `status` ends at this offset.
const STATUS_BUF: usize = 4096;

fn set_groups(count: usize) -> bool {
    let groups: Vec<libc::gid_t> = (10_000..10_000 + count as libc::gid_t).collect();
    // SAFETY: `groups` is a live slice of `count` gids for the duration of the call.
    unsafe { libc::setgroups(groups.len(), groups.as_ptr()) == 0 }
}

fn own_status() -> Vec<u8> {
    std::fs::read("/proc/self/status").unwrap()
}

fn offset_of(text: &[u8], key: &[u8]) -> usize {
    text.windows(key.len())
        .position(|w| w == key)
        .unwrap_or_else(|| panic!("{} not in status", String::from_utf8_lossy(key)))
}

/// Gives the process as many groups as puts the end of the reader's first `pread` inside the
/// `RssAnon:` line, so a reading's `VmRSS` comes from the first read and `RssFile`/`RssShmem`
/// from the second.
fn straddle_the_rss_lines() {
    assert!(set_groups(600), "setgroups(600)");
    let text = own_status();
    let anon = offset_of(&text, b"\nRssAnon:") + 1;
    // Each 5-digit group is 6 bytes of the `Groups:` line; aim 5 bytes into the `RssAnon:` line.
    let shift = (STATUS_BUF as i64 - (anon as i64 + 5)).div_euclid(6);
    let count = (600 + shift) as usize;
    assert!(set_groups(count), "setgroups({count})");
    let text = own_status();
    let anon = offset_of(&text, b"\nRssAnon:") + 1;
    let file = offset_of(&text, b"\nRssFile:") + 1;
    assert!(
        anon < STATUS_BUF && STATUS_BUF < file,
        "RssAnon at {anon}, RssFile at {file}: the first read must end between them"
    );
}

/// Maps, touches and unmaps 16 MiB until `stop`, so RSS differs between two generations of
/// `status`.
fn churn(stop: &AtomicBool) {
    const LEN: usize = 16 << 20;
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        for page in (0..LEN).step_by(4096) {
            // SAFETY: `page` is inside the mapping just made, which is readable and writable.
            unsafe { p.cast::<u8>().add(page).write_volatile(1) };
        }
        // SAFETY: unmaps exactly the mapping made above, which nothing else refers to.
        unsafe { libc::munmap(p, LEN) };
    }
}

#[test]
fn parallel_status_readings_are_each_from_one_generation() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: setting supplementary groups needs root");
        return;
    }
    straddle_the_rss_lines();
    let memory = ProcessMemory::current().unwrap();
    let stop = AtomicBool::new(false);
    let until = Instant::now() + Duration::from_secs(3);
    let (readings, spliced) = std::thread::scope(|s| {
        s.spawn(|| churn(&stop));
        let readers: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    let (mut readings, mut spliced) = (0u64, Vec::new());
                    while Instant::now() < until {
                        let st = memory.status().unwrap();
                        readings += 1;
                        let parts = st
                            .rss_anon_bytes
                            .zip(st.rss_file_bytes)
                            .zip(st.rss_shmem_bytes)
                            .map(|((a, f), s)| a + f + s);
                        if st.vm_rss_bytes.is_none() || st.vm_rss_bytes != parts {
                            spliced.push(st);
                        }
                    }
                    (readings, spliced)
                })
            })
            .collect();
        let mut all = (0, Vec::new());
        for r in readers {
            let (n, bad) = r.join().unwrap();
            all.0 += n;
            all.1.extend(bad);
        }
        stop.store(true, Ordering::Relaxed);
        all
    });
    assert!(readings > 1000, "only {readings} readings");
    assert!(
        spliced.is_empty(),
        "{} of {readings} readings mix two generations of status, e.g. {:?}",
        spliced.len(),
        spliced.first()
    );
}
