//! Accuracy against dhat: the same workloads measured by memprobe and by dhat's heap profiler
//! give equal allocation counts (allocations + reallocations), bytes, peak and net.
//!
//! dhat must be the global allocator of the process it measures, so the dhat side runs as a
//! subprocess: this test binary re-runs itself with `MEMPROBE_DHAT_SIDE` set, and its global
//! allocator then forwards every call to `dhat::Alloc` for the whole life of that process
//! (decided on the first allocation, before anything else ran); without it, every call goes to
//! `memprobe::Counting` instead. The two never mix in one process. The dhat side prints its
//! figures as one JSON line; the memprobe side compares them with its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

#[path = "../benches/common/workloads.rs"]
#[allow(dead_code)]
mod workloads;

const DHAT_SIDE: &str = "MEMPROBE_DHAT_SIDE";

/// 0: not decided yet; 1: memprobe; 2: dhat.
static SIDE: AtomicU8 = AtomicU8::new(0);
static MEMPROBE: memprobe::Counting<System> = memprobe::Counting::new(System);
static DHAT: dhat::Alloc = dhat::Alloc;

fn side() -> u8 {
    match SIDE.load(Relaxed) {
        0 => {
            // SAFETY: the name is a NUL-terminated C string; `getenv` allocates nothing and the
            // returned pointer is only compared with null.
            let dhat = !unsafe { libc::getenv(c"MEMPROBE_DHAT_SIDE".as_ptr()) }.is_null();
            let side = if dhat { 2 } else { 1 };
            SIDE.store(side, Relaxed);
            side
        }
        side => side,
    }
}

struct OneOrTheOther;

// SAFETY: every call goes, unchanged, to the one allocator chosen for the whole process.
unsafe impl GlobalAlloc for OneOrTheOther {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        unsafe {
            if side() == 2 {
                DHAT.alloc(layout)
            } else {
                MEMPROBE.alloc(layout)
            }
        }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        unsafe {
            if side() == 2 {
                DHAT.alloc_zeroed(layout)
            } else {
                MEMPROBE.alloc_zeroed(layout)
            }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe {
            if side() == 2 {
                DHAT.dealloc(ptr, layout)
            } else {
                MEMPROBE.dealloc(ptr, layout)
            }
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        unsafe {
            if side() == 2 {
                DHAT.realloc(ptr, layout, new_size)
            } else {
                MEMPROBE.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[global_allocator]
static GLOBAL: OneOrTheOther = OneOrTheOther;

/// The figures both tools give, in dhat's terms: `allocations` = blocks allocated (allocations
/// plus reallocations), `bytes` = bytes allocated (reallocations count their new size), `peak`
/// = the most bytes live at once above the start, `net` = bytes live at the end minus at the
/// start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Figures {
    workload: String,
    allocations: u64,
    bytes: u64,
    peak_bytes: u64,
    net_bytes: i64,
}

/// One workload: runs, and returns what it keeps alive (dropped after the figures are taken).
type Workload = fn(&serde_json::Value) -> Box<dyn std::any::Any>;

fn workloads() -> Vec<(&'static str, Workload)> {
    vec![
        ("btree_build_drop", |_| {
            Box::new(workloads::btree_build_drop(2_000))
        }),
        ("json_round_trip", |document| {
            Box::new(workloads::json_round_trip(document))
        }),
        ("kept_strings", |_| {
            // Grows by reallocation and stays alive: a non-zero net and a realloc count.
            let mut kept = Vec::new();
            for i in 0..300 {
                let mut s = String::new();
                for _ in 0..i % 40 {
                    s.push('x');
                }
                kept.push(s);
            }
            Box::new(kept)
        }),
    ]
}

fn dhat_figures(name: &str, workload: Workload, document: &serde_json::Value) -> Figures {
    let profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let kept = workload(document);
    let after = dhat::HeapStats::get();
    drop(kept);
    drop(profiler);
    Figures {
        workload: name.to_owned(),
        allocations: after.total_blocks - before.total_blocks,
        bytes: after.total_bytes - before.total_bytes,
        peak_bytes: (after.max_bytes - before.curr_bytes) as u64,
        net_bytes: after.curr_bytes as i64 - before.curr_bytes as i64,
    }
}

/// The dhat side; does nothing unless run as the subprocess.
#[test]
fn dhat_side() {
    if std::env::var_os(DHAT_SIDE).is_none() {
        return;
    }
    assert_eq!(side(), 2, "dhat must be this process's allocator");
    let document = workloads::json_document(200);
    for (name, workload) in workloads() {
        // dhat counts every thread of the process, and the test harness's main thread may still
        // be allocating (starting this test) when the first workload runs: a measurement counts
        // once two in a row agree (the workloads are deterministic).
        let mut previous = dhat_figures(name, workload, &document);
        let figures = (0..10)
            .find_map(|_| {
                let figures = dhat_figures(name, workload, &document);
                let agreed = figures == previous;
                previous = figures;
                agreed.then(|| previous.clone())
            })
            .expect("dhat's figures for a deterministic workload never repeated");
        println!("DHAT-FIGURES {}", serde_json::to_string(&figures).unwrap());
    }
}

#[test]
fn memprobe_and_dhat_agree_on_every_workload() {
    if std::env::var_os(DHAT_SIDE).is_some() {
        return;
    }
    assert_eq!(side(), 1, "memprobe must be this process's allocator");
    let document = workloads::json_document(200);
    let mine: Vec<Figures> = workloads()
        .into_iter()
        .map(|(name, workload)| {
            let report = memprobe::measure(|| workload(&document)).unwrap();
            Figures {
                workload: name.to_owned(),
                allocations: report.allocs.allocations(),
                bytes: report.allocs.alloc_bytes,
                peak_bytes: report.allocs.peak_bytes,
                net_bytes: report.allocs.net_bytes,
            }
        })
        .collect();

    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "dhat_side", "--nocapture", "--test-threads=1"])
        .env(DHAT_SIDE, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the dhat side failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dhats: Vec<Figures> = stdout
        .lines()
        // The harness may print "test dhat_side ... " on the same line, before ours.
        .filter_map(|line| line.split_once("DHAT-FIGURES ").map(|(_, json)| json))
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    assert_eq!(dhats.len(), mine.len(), "{stdout}");
    for (memprobe, dhat) in mine.iter().zip(&dhats) {
        assert!(
            memprobe.allocations > 0 && memprobe.bytes > 0,
            "{memprobe:?}"
        );
        assert_eq!(memprobe, dhat, "memprobe (left) and dhat (right) disagree");
    }
    // The workloads cover reallocation and a non-zero net, so those figures are compared too.
    assert!(mine.iter().any(|f| f.net_bytes > 0), "{mine:?}");
}
