//! The sampler's per-allocation cost: alloc/free churn of mixed sizes (8 B – 4 KiB, the
//! `alloc_overhead` workload) through a wrapper over jemalloc that calls `memprobe::sites`'s
//! hooks exactly as the counting allocator will, compared with bare jemalloc:
//!
//! - `hooks_off`: hooks called, no session (the cost with sampling off);
//! - `unsampled_path`: a session with a 1 GiB mean, so no allocation of the run is sampled in
//!   practice: the unsampled path alone (countdown decrement, test and branch);
//! - `default_rate`: a session at the default mean (512 KiB): nearly every allocation takes the
//!   unsampled path, one per 512 KiB walks the stack (about one in 700 here);
//! - `exact`: every allocation is sampled (stack walk + table insert; past the table's capacity
//!   the walk and a counted drop): the sampled path's cost;
//! - `default_rate_fp`, `exact_fp`: the same with `MEMPROBE_SITES_UNWIND=frame-pointers`; the
//!   frame-pointer walk is used only in a build with frame pointers (the bench prints which walk
//!   ran), otherwise they repeat the DWARF figures;
//! - `counting`, `counting_unsampled_path`, `counting_default_rate`, `counting_default_rate_fp`:
//!   memprobe's own `Counting<Jemalloc>` (called directly) with no session, then with a session
//!   as above: what a program using `global_allocator!()` pays (its sites lane).
//!
//! Run: `cargo bench -p memprobe --features sites --bench sites`, and with
//! `RUSTFLAGS="-C force-frame-pointers=yes"` for the frame-pointer walk.

use std::alloc::{GlobalAlloc, Layout};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memprobe::Counting;
use memprobe::sites::{Sampling, Session};
use tikv_jemallocator::Jemalloc;

mod common;
use common::{churn, sizes};

/// memprobe's counting allocator over jemalloc, called directly (not installed): with a session
/// running, its cold path calls the site hooks, as an installed one does.
static COUNTING: Counting<Jemalloc> = Counting::new(Jemalloc);

/// jemalloc plus the sites hooks: the test allocator of `tests/sites.rs`, over jemalloc.
struct Sampled;

// SAFETY: every call goes, unchanged, to jemalloc; the hooks only observe.
unsafe impl GlobalAlloc for Sampled {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on.
        let ptr = unsafe { Jemalloc.alloc(layout) };
        if !ptr.is_null() {
            memprobe::sites::on_alloc(ptr, layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        memprobe::sites::on_dealloc(ptr, layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }
}

fn sites(c: &mut Criterion) {
    let sizes = sizes();
    let mut group = c.benchmark_group("sites_churn");
    group.throughput(Throughput::Elements(1));
    group.bench_function("jemalloc", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            churn(&Jemalloc, &sizes, iters);
            start.elapsed()
        })
    });
    group.bench_function("hooks_off", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            churn(&Sampled, &sizes, iters);
            start.elapsed()
        })
    });
    group.bench_function("counting", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            churn(&COUNTING, &sizes, iters);
            start.elapsed()
        })
    });
    for (name, sampling, frame_pointers, counting) in [
        (
            "counting_unsampled_path",
            Sampling::MeanBytes(1 << 30),
            false,
            true,
        ),
        ("counting_default_rate", Sampling::default(), false, true),
        ("counting_default_rate_fp", Sampling::default(), true, true),
        ("unsampled_path", Sampling::MeanBytes(1 << 30), false, false),
        ("default_rate", Sampling::default(), false, false),
        ("exact", Sampling::Exact, false, false),
        ("default_rate_fp", Sampling::default(), true, false),
        ("exact_fp", Sampling::Exact, true, false),
    ] {
        let unwind = if frame_pointers {
            "frame-pointers"
        } else {
            "dwarf"
        };
        // SAFETY: the bench is single-threaded here; nothing reads the environment concurrently.
        unsafe { std::env::set_var("MEMPROBE_SITES_UNWIND", unwind) };
        drop(Session::start(sampling).expect("no other session in this bench"));
        eprintln!(
            "{name}: {} walk",
            if memprobe::sites::frame_pointer_walk() {
                "frame-pointer"
            } else {
                "DWARF"
            }
        );
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let session = Session::start(sampling).expect("no other session in this bench");
                let start = Instant::now();
                if counting {
                    churn(&COUNTING, &sizes, iters);
                } else {
                    churn(&Sampled, &sizes, iters);
                }
                let elapsed = start.elapsed();
                drop(session);
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sites);
criterion_main!(benches);
