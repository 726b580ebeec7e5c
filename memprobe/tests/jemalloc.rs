//! jemalloc statistics under `Counting<Jemalloc>`.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

use memprobe::JemallocStats;
use memprobe::report::JemallocFigures;
use std::hint::black_box;

// jemalloc's figures are process-wide, and a thread that exits flushes its thread cache back to
// the arenas (lowering `allocated`): the checks run in one test so no other test thread starts,
// ends or allocates meanwhile.
#[test]
fn jemalloc_statistics() {
    allocated_grows_by_at_least_the_bytes_held_and_purge_lowers_resident();
    reports_carry_jemalloc_figures();
}

fn allocated_grows_by_at_least_the_bytes_held_and_purge_lowers_resident() {
    assert!(memprobe::jemalloc::is_global_allocator());
    let before = JemallocStats::read().unwrap();
    // 16 blocks of 1 MiB, all touched. Above jemalloc's thread-cache limit, so they come from
    // the arenas (objects sitting in a thread cache already count as allocated).
    let held: Vec<Vec<u8>> = (0..16)
        .map(|i| black_box(vec![i as u8 + 1; 1 << 20]))
        .collect();
    let during = JemallocStats::read().unwrap();
    // Less a little: small objects sitting in a thread cache count as allocated, and a cache
    // flush (jemalloc's incremental GC, triggered by these allocations) can return a few KiB of
    // them between the two reads (seen: 3.7 KB).
    assert!(
        during.allocated_bytes + (64 << 10) >= before.allocated_bytes + (16 << 20),
        "{before:?} {during:?}"
    );
    assert!(during.active_bytes >= during.allocated_bytes);
    assert!(during.fragmentation() >= 1.0);
    drop(held);
    let freed = JemallocStats::read().unwrap();
    memprobe::jemalloc::purge().unwrap();
    let purged = JemallocStats::read().unwrap();
    assert!(
        purged.resident_bytes < freed.resident_bytes,
        "{freed:?} {purged:?}"
    );
    assert!(memprobe::jemalloc::arena_count().unwrap() >= 1);
}

fn reports_carry_jemalloc_figures() {
    let report = memprobe::measure(|| black_box(vec![0u8; 1 << 20])).unwrap();
    match report.jemalloc {
        JemallocFigures::Measured {
            before,
            after,
            purged,
        } => {
            assert!(!purged);
            assert!(after.allocated_bytes >= before.allocated_bytes + (1 << 20));
        }
        other => panic!("expected jemalloc figures, got {other:?}"),
    }
    assert_eq!(report.allocs.alloc_bytes, 1 << 20);
}
