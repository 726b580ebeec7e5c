//! Exact allocation counting in thread scope: the figures the issue promises, asserted exactly.

memprobe::global_allocator!();

use memprobe::probe::{Iterations, ProbeOptions};
use memprobe::{Limits, Probe, Scope, measure, measure_iters};
use std::hint::black_box;
use std::sync::{Barrier, OnceLock};

mod exact {
    use super::*;

    #[test]
    fn vec_with_capacity_is_one_allocation_of_its_size() {
        let report = measure(|| Vec::<u8>::with_capacity(1000)).unwrap();
        let a = report.allocs;
        assert_eq!((a.alloc_count, a.realloc_count, a.dealloc_count), (1, 0, 0));
        assert_eq!(a.alloc_bytes, 1000);
        assert_eq!(a.net_bytes, 1000);
        assert_eq!(a.peak_bytes, 1000);
        assert_eq!(a.largest_alloc_bytes, 1000);
    }

    #[test]
    fn string_growth_gives_the_exact_realloc_count() {
        // std's growth for u8: first push reserves 8, then capacity doubles: 8→16→32→64→128→256.
        let report = measure(|| {
            let mut s = String::new();
            for _ in 0..200 {
                s.push('x');
            }
            s
        })
        .unwrap();
        let a = report.allocs;
        assert_eq!(a.alloc_count, 1);
        assert_eq!(a.realloc_count, 5);
        assert_eq!(a.alloc_bytes, 8 + 16 + 32 + 64 + 128 + 256);
        assert_eq!(a.freed_bytes, 8 + 16 + 32 + 64 + 128);
        assert_eq!(a.net_bytes, 256);
        assert_eq!(a.largest_alloc_bytes, 256);
    }

    #[test]
    fn code_that_allocates_nothing_reports_zero() {
        let report = measure(|| {
            let mut sum = 0u64;
            for i in 0..1000u64 {
                sum = sum.wrapping_add(black_box(i));
            }
            sum
        })
        .unwrap();
        assert_eq!(report.allocs, Default::default());
        assert!(Limits::new().max_allocs(0).check(&report).is_empty());
    }

    #[test]
    fn alloc_zeroed_counts_like_alloc() {
        let report = measure(|| vec![0u32; 256]).unwrap();
        assert_eq!(
            (report.allocs.alloc_count, report.allocs.alloc_bytes),
            (1, 1024)
        );
    }

    #[test]
    fn zero_sized_requests_count_as_nothing() {
        let report = measure(|| (Vec::<u64>::new(), Box::new(()), String::new())).unwrap();
        assert_eq!(report.allocs.allocations(), 0);
    }

    #[test]
    fn net_goes_negative_without_underflow() {
        let held = black_box(vec![7u8; 6720]);
        let probe = Probe::start(Scope::Thread).unwrap();
        drop(held);
        let report = probe.finish().unwrap();
        assert_eq!(report.allocs.net_bytes, -6720);
        assert_eq!(report.allocs.freed_bytes, 6720);
        assert_eq!(report.allocs.peak_bytes, 0);
        assert!(report.to_string().contains("-6.6 KiB"), "{report}");
    }

    #[test]
    fn peak_is_the_true_high_water_mark() {
        let probe = Probe::start(Scope::Thread).unwrap();
        let a = black_box(vec![1u8; 1000]); // live 1000
        let b = black_box(vec![1u8; 3000]); // live 4000  <- peak
        drop(a); //                            live 3000
        let c = black_box(vec![1u8; 500]); //  live 3500
        drop(b); //                            live  500
        let d = black_box(vec![1u8; 2000]); // live 2500
        let report = probe.finish().unwrap();
        assert_eq!(report.allocs.peak_bytes, 4000);
        assert_eq!(report.allocs.net_bytes, 2500);
        assert_eq!(report.allocs.largest_alloc_bytes, 3000);
        drop((c, d));
    }

    #[test]
    fn nested_probes_both_see_the_inner_work() {
        let outer = Probe::start(Scope::Thread).unwrap();
        let x = black_box(vec![0u8; 100]);
        let inner = Probe::start(Scope::Thread).unwrap();
        let y = black_box(vec![0u8; 40]);
        let inner = inner.finish().unwrap();
        let outer_report = outer.finish().unwrap();
        assert_eq!(inner.allocs.alloc_bytes, 40);
        // The inner probe's own bookkeeping (its group, snapshots, report) is kept out of the
        // outer figures: both are exact.
        assert_eq!(outer_report.allocs.alloc_bytes, 140);
        assert_eq!(outer_report.allocs.alloc_count, 2);
        drop((x, y));
    }

    #[test]
    fn iterations_give_totals_and_per_iteration_figures() {
        let report = measure_iters(Iterations::new(1000).warmup(10), || {
            black_box(vec![0u8; 1200])
        })
        .unwrap();
        assert_eq!(report.iterations, 1000);
        assert_eq!(report.warmup_iterations, 10);
        assert_eq!(report.allocs.alloc_count, 1000);
        assert_eq!(report.allocs.dealloc_count, 1000);
        assert_eq!(report.allocs.alloc_bytes, 1_200_000);
        assert_eq!(report.allocs.net_bytes, 0);
        assert_eq!(report.allocs.peak_bytes, 1200);
        let per = report.per_iteration();
        assert_eq!(
            (per.allocations, per.alloc_bytes, per.net_bytes),
            (1.0, 1200.0, 0.0)
        );
    }

    #[test]
    fn warmup_allocations_are_not_measured() {
        let mut first = true;
        let report = measure_iters(Iterations::new(5).warmup(1), || {
            // A lazy cache filled on the first call only.
            if std::mem::take(&mut first) {
                black_box(Box::leak(Box::new([0u8; 64])));
            }
        })
        .unwrap();
        assert_eq!(report.allocs.allocations(), 0);
    }
}

mod misuse {
    use super::*;

    #[test]
    #[should_panic(expected = "memprobe: attribution guards dropped out of order")]
    fn probes_finished_out_of_order_panic_instead_of_miscounting() {
        let first = Probe::start(Scope::Thread).unwrap();
        let second = Probe::start(Scope::Thread).unwrap();
        drop(first);
        drop(second);
    }

    #[test]
    fn out_of_order_guards_leave_no_dangling_group() {
        let result = std::panic::catch_unwind(|| {
            let first = Probe::start(Scope::Thread).unwrap();
            let _second = Probe::start(Scope::Thread).unwrap();
            drop(first);
        });
        assert!(result.is_err());
        // Both probes are gone; allocating must neither crash nor count into them, and a new
        // probe on this thread is exact again.
        let report = measure(|| black_box(vec![0u8; 77])).unwrap();
        assert_eq!(report.allocs.alloc_bytes, 77);
        assert!(memprobe::Attribution::current().is_none());
    }

    #[test]
    fn a_nested_process_probe_is_an_error_not_a_deadlock() {
        let outer = Probe::start(Scope::Process).unwrap();
        let err = Probe::start(Scope::Process).unwrap_err().to_string();
        assert!(
            err.starts_with("memprobe: a process-scope probe is already running"),
            "{err}"
        );
        let inner = Probe::start(Scope::Thread).unwrap();
        drop(black_box(vec![0u8; 10]));
        assert_eq!(inner.finish().unwrap().allocs.alloc_bytes, 10);
        outer.finish().unwrap();
        // The thread can start a process-scope probe again once the first finished.
        Probe::start(Scope::Process).unwrap().finish().unwrap();
    }

    #[test]
    fn thread_totals_are_the_threads_own() {
        for _ in 0..3 {
            std::thread::spawn(|| {
                let before = memprobe::thread_totals().unwrap();
                let v = black_box(vec![0u8; 5]);
                let after = memprobe::thread_totals().unwrap();
                assert_eq!(after.since(&before).alloc_bytes, 5);
                // Whatever slot this thread got, its totals are its own.
                assert!(after.alloc_bytes < 1 << 20, "{after:?}");
                drop(v);
            })
            .join()
            .unwrap();
        }
    }
}

mod parallel {
    use super::*;

    #[test]
    fn sixteen_threads_each_get_exact_figures() {
        let barrier = std::sync::Barrier::new(16);
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..=16u64)
                .map(|i| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        let probe = Probe::start(Scope::Thread).unwrap();
                        // Thread i makes i allocations of i × 100 bytes, all while the others run.
                        let mut kept = Vec::with_capacity(0);
                        for _ in 0..i {
                            kept.push(black_box(vec![0u8; (i * 100) as usize]));
                            std::thread::yield_now();
                        }
                        let report = probe.finish().unwrap();
                        (i, report, kept)
                    })
                })
                .collect();
            for h in handles {
                let (i, report, _kept) = h.join().unwrap();
                let a = report.allocs;
                // The `kept` Vec's buffer grows 4 → 8 → 16 elements for i ≥ 5: one allocation
                // plus reallocations of 24-byte elements; the payloads are exact.
                let payload_bytes = i * i * 100;
                let growth: &[u64] = match i {
                    1..=4 => &[4],
                    5..=8 => &[4, 8],
                    _ => &[4, 8, 16],
                };
                let vec_bytes: u64 = growth.iter().map(|cap| cap * 24).sum();
                assert_eq!(a.alloc_count, i + 1, "thread {i}");
                assert_eq!(a.realloc_count, growth.len() as u64 - 1, "thread {i}");
                assert_eq!(a.alloc_bytes, payload_bytes + vec_bytes, "thread {i}");
                assert_eq!(a.dealloc_count, 0, "thread {i}");
            }
        });
    }
}

mod attribution {
    use super::*;

    #[test]
    fn spawned_threads_count_when_they_enter() {
        // Threads are spawned before the probe starts (spawning allocates on the probing
        // thread, which would rightly count), then handed the attribution.
        let handed: OnceLock<memprobe::Attribution> = OnceLock::new();
        let (start, done) = (Barrier::new(6), Barrier::new(6));
        std::thread::scope(|s| {
            for n in 1..=4usize {
                let (handed, start, done) = (&handed, &start, &done);
                s.spawn(move || {
                    start.wait();
                    let _entered = handed.get().unwrap().enter();
                    drop(black_box(vec![0u8; n * 1000]));
                    done.wait();
                });
            }
            // A thread that does not enter is invisible.
            s.spawn(|| {
                start.wait();
                drop(black_box(vec![0u8; 77_777]));
                done.wait();
            });
            let probe = Probe::start(Scope::Thread).unwrap();
            handed.set(probe.attribution()).unwrap();
            start.wait();
            done.wait();
            let report = probe.finish().unwrap();
            assert_eq!(report.allocs.alloc_bytes, 10_000);
            assert_eq!(report.allocs.freed_bytes, 10_000);
            assert_eq!(report.allocs.alloc_count, 4);
            assert_eq!(report.allocs.largest_alloc_bytes, 4000);
        });
    }

    #[test]
    fn async_tasks_on_a_multi_thread_runtime() {
        // Build the runtime first: its worker threads and queues are not the measured code.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let probe = Probe::start(Scope::Thread).unwrap();
        let attribution = probe.attribution();
        let total: usize = runtime.block_on(attribution.scope(async {
            let tasks: Vec<_> = (0..8)
                .map(|i| {
                    tokio::spawn(attribution.scope(async move {
                        tokio::task::yield_now().await;
                        black_box(vec![0u8; 1000 + i]).len()
                    }))
                })
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        }));
        let report = probe.finish().unwrap();
        drop(runtime);
        assert_eq!(total, 8 * 1000 + 28);
        // The payloads are exact; tokio's own task allocations (spawned inside) come on top.
        assert!(report.allocs.alloc_bytes >= 8028, "{report}");
        assert!(report.allocs.alloc_count >= 8, "{report}");
        assert!(report.allocs.largest_alloc_bytes >= 1007, "{report}");
    }
}

mod reports {
    use super::*;

    #[test]
    fn json_round_trip_is_versioned() {
        let report = measure(|| vec![1u16; 50]).unwrap();
        let json = report.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["schema"], "memprobe.report");
        assert_eq!(value["version"], 2);
        assert_eq!(value["allocs"]["alloc_bytes"], 100);
        assert_eq!(memprobe::Report::from_json(&json).unwrap(), report);
        let future = json.replace("\"version\": 2", "\"version\": 99");
        let err = memprobe::Report::from_json(&future)
            .unwrap_err()
            .to_string();
        assert!(err.contains("version 99 is newer"), "{err}");
    }

    #[test]
    fn table_labels_noisy_figures_and_uses_binary_units() {
        let report = ProbeOptions::new(Scope::Thread)
            .name("table")
            .start()
            .map(|p| {
                let v = black_box(vec![0u8; 1536]);
                let r = p.finish().unwrap();
                drop(v);
                r
            })
            .unwrap();
        let text = report.to_string();
        assert!(text.starts_with("memprobe: table (thread scope"), "{text}");
        assert!(text.contains("1.5 KiB"), "{text}");
        assert!(text.contains("[noisy, process-wide]"), "{text}");
        assert!(report.includes.iter().any(|s| s.starts_with("rss: noisy")));
    }

    #[test]
    fn first_allocation_backtrace_points_at_the_caller() {
        #[inline(never)]
        fn allocating_here() -> Vec<u8> {
            black_box(vec![0u8; 3])
        }
        let probe = ProbeOptions::new(Scope::Thread)
            .trace_first_alloc(true)
            .start()
            .unwrap();
        let v = allocating_here();
        let report = probe.finish().unwrap();
        // The capture's own allocations are kept out of the figures.
        assert_eq!(report.allocs.alloc_count, 1);
        let trace = report.first_alloc_backtrace.expect("a backtrace");
        assert!(trace.contains("allocating_here"), "{trace}");
        drop(v);
    }
}

mod limits {
    use super::*;

    #[test]
    fn every_violation_is_listed_with_figure_limit_and_actual() {
        let probe = Probe::start(Scope::Thread).unwrap();
        let v = black_box(vec![0u8; 10_000]);
        let report = probe.finish().unwrap();
        let limits = Limits::new()
            .max_allocs(0)
            .max_bytes("8 KiB")
            .unwrap()
            .max_peak("1KB")
            .unwrap()
            .max_net("0")
            .unwrap();
        let violations: Vec<String> = limits
            .check(&report)
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            violations,
            [
                "max_allocs: limit 0, actual 1",
                "max_bytes: limit 8.0 KiB, actual 9.8 KiB",
                "max_net: limit 0 B, actual +9.8 KiB",
                "max_peak: limit 1000 B, actual 9.8 KiB",
            ]
        );
        drop(v);
    }
}
