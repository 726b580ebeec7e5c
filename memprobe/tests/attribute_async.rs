//! `#[memprobe]` on `#[tokio::test]`: current-thread and multi-thread runtimes, both attribute
//! orders, spawned tasks, iterations and `Result` tests. Every probe counts the test's future on
//! whichever thread polls it; building the runtime is never counted.
//!
//! Each test is also called by a checking test that reads back the report it wrote: a
//! `#[tokio::test]` is a plain function once expanded.

use memprobe::memprobe;
use std::hint::black_box;

memprobe::global_allocator!();

mod support;

/// Returns `Pending` once, waking itself: the test's future is polled at least twice, without
/// the runtime allocating on its behalf (`tokio::task::yield_now` allocates tokio's defer list on
/// first use, which the probe rightly counts).
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// The report `name` (a measured function of this file) wrote.
fn written_report(name: &str) -> memprobe::Report {
    support::written_report(module_path!(), name)
}

/// `#[memprobe]` above `#[tokio::test]`, the documented order.
#[memprobe(max_allocs = 2, max_bytes = "1536")]
#[tokio::test]
async fn current_thread() {
    let first = black_box(vec![0u8; 512]);
    yield_once().await;
    black_box(vec![0u8; 1024]);
    drop(first);
}

/// `#[tokio::test]` above `#[memprobe]`: the same figures.
#[tokio::test]
#[memprobe(max_allocs = 2, max_bytes = "1536")]
async fn current_thread_other_order() {
    let first = black_box(vec![0u8; 512]);
    yield_once().await;
    black_box(vec![0u8; 1024]);
    drop(first);
}

#[test]
fn both_orders_measure_the_future_not_the_runtime() {
    for name in ["current_thread", "current_thread_other_order"] {
        match name {
            "current_thread" => current_thread(),
            _ => current_thread_other_order(),
        }
        let a = written_report(name).allocs;
        assert_eq!(
            (
                a.alloc_count,
                a.alloc_bytes,
                a.net_bytes,
                a.largest_alloc_bytes
            ),
            (2, 1536, 0, 1024),
            "{name}"
        );
    }
}

/// On a multi-thread runtime the test's future is polled on the test thread; a task spawned onto
/// a worker thread counts once it enters the probe's attribution. A plain spawned task's
/// allocations do not count in thread scope.
#[memprobe]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_spawned_tasks() {
    let attribution = memprobe::Attribution::current().expect("inside the probe");
    let counted = tokio::spawn(attribution.scope(async {
        tokio::task::yield_now().await;
        black_box(vec![0u8; 100_000]).len()
    }));
    let blocking =
        tokio::task::spawn_blocking(attribution.wrap(|| black_box(vec![0u8; 70_000]).len()));
    let uncounted = tokio::spawn(async { black_box(vec![0u8; 300_000]).len() });
    assert_eq!(
        counted.await.unwrap() + blocking.await.unwrap() + uncounted.await.unwrap(),
        470_000
    );
    drop(attribution);
    black_box(vec![0u8; 5_000]);
}

#[test]
fn spawned_tasks_that_enter_the_attribution_are_counted() {
    multi_thread_spawned_tasks();
    let a = written_report("multi_thread_spawned_tasks").allocs;
    // The two entered tasks and the body's own 5 000 bytes, exactly; the rest is tokio's task
    // bookkeeping done on the test thread (task cells, join handles), well under 4 KiB.
    assert_eq!(a.largest_alloc_bytes, 100_000, "{a:?}");
    assert!(
        a.alloc_bytes >= 175_000 && a.alloc_bytes < 175_000 + 4096,
        "{a:?}"
    );
}

/// With `scope = "process"` every thread counts, spawned tasks included, without entering.
#[memprobe(scope = "process")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_scope_counts_every_worker() {
    let len = tokio::spawn(async { black_box(vec![0u8; 300_000]).len() })
        .await
        .unwrap();
    assert_eq!(len, 300_000);
}

#[test]
fn process_scope_sees_the_workers() {
    process_scope_counts_every_worker();
    let r = written_report("process_scope_counts_every_worker");
    assert_eq!(r.allocs.largest_alloc_bytes, 300_000);
    // The worker never entered the probe: its allocations are flagged as from outside.
    assert!(
        r.outside_alloc_count.is_some_and(|n| n >= 1),
        "{:?}",
        r.outside_alloc_count
    );
}

#[memprobe(iters = 50, warmup = 5, max_allocs = 1, max_bytes = 256)]
#[tokio::test]
async fn async_iterations() {
    tokio::task::yield_now().await;
    black_box(vec![0u8; 256]);
}

#[test]
fn async_iterations_are_per_iteration() {
    async_iterations();
    let r = written_report("async_iterations");
    assert_eq!(
        (
            r.iterations,
            r.warmup_iterations,
            r.allocs.alloc_count,
            r.allocs.alloc_bytes
        ),
        (50, 5, 50, 12_800)
    );
}

#[memprobe(max_allocs = 0)]
#[tokio::test]
async fn async_result_ok() -> Result<(), std::num::ParseIntError> {
    let n: u8 = "7".parse()?;
    assert_eq!(n, 7);
    Ok(())
}

#[memprobe(max_allocs = 0)]
#[tokio::test]
#[should_panic(
    expected = "memprobe: test `async_zero_alloc_fails` failed its memory checks\nlimits:\n  max_allocs: limit 0, actual 1\nfirst allocation"
)]
async fn async_zero_alloc_fails() {
    yield_once().await;
    black_box(Box::new(1u64));
}

/// tokio's own work for the test's future counts: `yield_now` makes the runtime allocate its
/// defer list on the test thread, on first use.
#[memprobe(max_allocs = 1)]
#[tokio::test]
async fn runtime_work_for_the_future_counts() {
    tokio::task::yield_now().await;
}

#[test]
fn runtime_work_is_attributed() {
    runtime_work_for_the_future_counts();
    let a = written_report("runtime_work_for_the_future_counts").allocs;
    assert_eq!(a.alloc_count, 1);
}

#[memprobe]
#[tokio::test]
#[should_panic(expected = "the future's own panic")]
async fn async_panics_propagate() {
    tokio::task::yield_now().await;
    panic!("the future's own panic");
}

/// Two measured futures polled alternately on one thread, as `join!` does: each probe counts its
/// own polls only. `report = "json"` writes the report the check reads back without printing.
#[memprobe(report = "json")]
async fn interleaved_small() {
    let first = black_box(vec![0u8; 300]);
    yield_once().await;
    black_box(vec![0u8; 700]);
    yield_once().await;
    drop(first);
}

#[memprobe(report = "json")]
async fn interleaved_large() {
    black_box(vec![0u8; 2_000]);
    yield_once().await;
    let kept = black_box(vec![0u8; 5_000]);
    yield_once().await;
    drop(kept);
}

/// A hand-written `join` of two futures, polled in turn on this thread until both are done, with
/// a waker that does nothing (both futures wake themselves and are polled again anyway).
fn join_on_this_thread(
    a: impl std::future::Future<Output = ()>,
    b: impl std::future::Future<Output = ()>,
) {
    use std::task::{Context, Poll, Waker};
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut a_done, mut b_done) = (false, false);
    let mut cx = Context::from_waker(Waker::noop());
    let mut rounds = 0;
    while !(a_done && b_done) {
        if !a_done {
            a_done = a.as_mut().poll(&mut cx) == Poll::Ready(());
        }
        if !b_done {
            b_done = b.as_mut().poll(&mut cx) == Poll::Ready(());
        }
        rounds += 1;
    }
    // Both really were suspended and resumed in turn.
    assert_eq!(rounds, 3);
}

#[test]
fn interleaved_async_probes_count_their_own_polls() {
    join_on_this_thread(interleaved_small(), interleaved_large());
    let small = written_report("interleaved_small").allocs;
    let large = written_report("interleaved_large").allocs;
    assert_eq!(
        (
            small.alloc_count,
            small.alloc_bytes,
            small.net_bytes,
            small.largest_alloc_bytes
        ),
        (2, 1_000, 0, 700),
        "{small:?}"
    );
    assert_eq!(
        (
            large.alloc_count,
            large.alloc_bytes,
            large.net_bytes,
            large.largest_alloc_bytes
        ),
        (2, 7_000, 0, 5_000),
        "{large:?}"
    );
}
