//! Scaling fits on workloads whose per-item cost is known exactly: the slope, the fixed cost, R²
//! and the shape must come out as constructed; misuse fails with its full message; per-item
//! limits and per-item baselines fail where they should.

use memprobe::baseline::{Action, Baselines, Mode, Policy};
use memprobe::scaling::{PerItemLimits, Scaling, Shape};
use std::hint::black_box;

memprobe::global_allocator!();

const SIZES: [u64; 4] = [10, 50, 100, 200];

/// n boxes of 64 bytes into a Vec sized up front (unmeasured), plus a fixed 4 KiB buffer.
fn boxes(scaling: &Scaling) -> memprobe::Fit {
    scaling
        .run_with(
            |n| Vec::with_capacity(n as usize),
            |boxes: &mut Vec<Box<[u8; 64]>>, n| {
                let fixed = vec![0u8; 4096];
                for _ in 0..n {
                    boxes.push(black_box(Box::new([0u8; 64])));
                }
                fixed
            },
        )
        .unwrap()
}

mod exact {
    use super::*;

    #[test]
    fn boxes_of_64_bytes_cost_64_bytes_and_one_allocation_each() {
        let fit = boxes(&Scaling::new(SIZES).item("box"));
        assert_eq!(fit.alloc_bytes.per_item, 64.0);
        assert_eq!(fit.alloc_bytes.fixed, 4096.0);
        assert_eq!(fit.allocations.per_item, 1.0);
        assert_eq!(fit.allocations.fixed, 1.0);
        assert_eq!(fit.peak_bytes.per_item, 64.0);
        assert_eq!(fit.net_bytes.per_item, 64.0);
        for line in [&fit.alloc_bytes, &fit.allocations, &fit.peak_bytes] {
            assert_eq!(line.r_squared, 1.0);
            assert_eq!(line.shape, Shape::Linear);
            let ci = line.per_item_ci.unwrap();
            assert_eq!((ci.low, ci.high), (line.per_item, line.per_item));
            assert_eq!(line.points, 12);
        }
        assert_eq!(fit.points.len(), 12);
        assert!(fit.points.iter().all(|p| p.rss_delta_bytes.is_none()));
        assert_eq!(
            fit.summary(),
            "each box costs 64 B and 1 allocation (95% CI 64 to 64 B; 1 to 1), fixed 4.0 KiB, R² 1.0000, linear"
        );
    }

    #[test]
    fn every_repetition_of_a_deterministic_workload_is_identical() {
        let fit = boxes(&Scaling::new(SIZES).repetitions(5));
        for &n in &SIZES {
            let at: Vec<_> = fit.at(n).collect();
            assert_eq!(at.len(), 5);
            assert!(at.iter().all(|p| p.alloc_bytes == 4096 + 64 * n), "{at:?}");
            assert!(at.iter().all(|p| p.allocations == 1 + n), "{at:?}");
        }
    }

    #[test]
    fn warm_up_keeps_first_call_costs_out_of_the_fit() {
        // A lazily grown scratch buffer: 1 KiB on the first call ever, nothing afterwards.
        let mut scratch: Vec<u8> = Vec::new();
        let mut work = |n: u64| {
            if scratch.capacity() == 0 {
                scratch.reserve_exact(1024);
            }
            vec![0u8; 10 * n as usize]
        };
        let fit = Scaling::new([1, 2, 3]).warmup(1).run(&mut work).unwrap();
        assert_eq!(
            (fit.alloc_bytes.per_item, fit.alloc_bytes.fixed),
            (10.0, 0.0)
        );
        assert_eq!(fit.alloc_bytes.shape, Shape::Linear);
    }

    #[test]
    fn the_table_shows_each_figure_and_each_size() {
        let fit = boxes(&Scaling::new(SIZES).item("box").name("boxes"));
        let table = fit.to_string();
        assert!(
            table.starts_with("memprobe scaling: boxes (per box; sizes 10, 50, 100, 200; 3 repetitions after 1 warm-up; thread scope)"),
            "{table}"
        );
        for figure in ["allocations", "allocated", "peak live", "kept (net)"] {
            assert!(table.contains(&format!("\n  {figure} ")), "{table}");
        }
        // 200 boxes: 201 allocations, 4096 + 12800 bytes.
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()
                    == ["200", "201", "16.5", "KiB", "16.5", "KiB", "16.5", "KiB"]),
            "{table}"
        );
        assert!(!table.contains("rss"), "RSS only when asked:\n{table}");
    }

    #[test]
    fn rss_is_fitted_only_when_asked_and_labelled_noisy() {
        let fit = Scaling::new([1 << 10, 1 << 12, 1 << 14])
            .rss(true)
            .run(|n| vec![1u8; 1024 * n as usize])
            .unwrap();
        assert_eq!(fit.alloc_bytes.per_item, 1024.0);
        let rss = fit.rss_bytes.expect("RSS readable on this platform");
        assert_eq!(rss.points, 9);
        assert!(fit.points.iter().all(|p| p.rss_delta_bytes.is_some()));
        let table = fit.to_string();
        assert!(table.contains("rss [noisy]"), "{table}");
        assert!(table.contains("rss delta [noisy]"), "{table}");
    }
}

mod shape {
    use super::*;

    #[test]
    fn a_quadratic_workload_is_flagged_non_linear() {
        // n strings of n bytes each: n² bytes.
        let fit = Scaling::new(SIZES)
            .item("row")
            .run(|n| {
                (0..n)
                    .map(|_| "x".repeat(n as usize))
                    .collect::<Vec<String>>()
            })
            .unwrap();
        let Shape::Bends {
            upward,
            quadratic_per_item_squared,
            ..
        } = fit.alloc_bytes.shape
        else {
            panic!("not flagged: {fit}");
        };
        assert!(upward);
        assert_eq!(quadratic_per_item_squared.round(), 1.0);
        // One allocation per string plus the Vec: linear in count.
        assert_eq!(fit.allocations.shape, Shape::Linear);
        assert_eq!(fit.allocations.per_item, 1.0);
        assert!(
            fit.summary()
                .ends_with("bytes non-linear: bends upward (each item costs more than the last)"),
            "{}",
            fit.summary()
        );
        let v = PerItemLimits::new().require_linear().check(&fit);
        assert_eq!(v.len(), 1);
        assert!(
            v[0].to_string().starts_with(
                "linear: allocated bytes bend upward (quadratic term +1.000 per item², up to "
            ),
            "{}",
            v[0]
        );
    }

    #[test]
    fn two_sizes_give_a_cost_but_no_shape() {
        let fit = boxes(&Scaling::new([10, 20]));
        assert_eq!(fit.alloc_bytes.per_item, 64.0);
        assert_eq!(fit.alloc_bytes.shape, Shape::Unknown);
    }
}

mod misuse {
    use super::*;

    fn error(scaling: Scaling) -> String {
        scaling.run(|n| n).unwrap_err().to_string()
    }

    #[test]
    fn fewer_than_two_sizes() {
        assert_eq!(
            error(Scaling::new([100])),
            "memprobe: scaling fit over sizes [100]: a per-item cost needs at least 2 sizes (3 or more to tell whether it is linear), e.g. [10, 50, 100, 200]"
        );
        assert!(error(Scaling::new([])).starts_with(
            "memprobe: scaling fit over sizes []: a per-item cost needs at least 2 sizes"
        ));
    }

    #[test]
    fn a_size_twice() {
        assert_eq!(
            error(Scaling::new([10, 50, 10])),
            "memprobe: scaling fit over sizes [10, 50, 10]: size 10 is given twice; give each size once and repeat runs with .repetitions(r)"
        );
    }

    #[test]
    fn zero_repetitions() {
        assert_eq!(
            error(Scaling::new([1, 2]).repetitions(0)),
            "memprobe: scaling fit over sizes [1, 2]: repetitions is 0: measure each size at least once"
        );
    }

    #[test]
    fn nothing_runs_when_the_sizes_are_bad() {
        let mut calls = 0;
        let _ = Scaling::new([5]).run(|_| calls += 1);
        assert_eq!(calls, 0);
    }
}

mod limits {
    use super::*;

    #[test]
    fn every_per_item_limit_over_is_listed() {
        let fit = boxes(&Scaling::new(SIZES).item("box"));
        let within = PerItemLimits::new()
            .max_bytes_per_item("64 B")
            .unwrap()
            .max_allocs_per_item(1)
            .require_linear();
        assert!(within.check(&fit).is_empty());
        let tight = PerItemLimits::new()
            .max_bytes_per_item("32 B")
            .unwrap()
            .max_allocs_per_item(0)
            .max_peak_per_item("63 B")
            .unwrap()
            .max_net_per_item("1 KiB")
            .unwrap();
        let text: Vec<String> = tight.check(&fit).iter().map(|v| v.to_string()).collect();
        assert_eq!(
            text,
            [
                "max_allocs_per_item: limit 0 per box, actual 1 per box (95% CI 1 to 1)",
                "max_bytes_per_item: limit 32 B per box, actual 64 B per box (95% CI 64 to 64 B)",
                "max_peak_per_item: limit 63 B per box, actual 64 B per box (95% CI 64 to 64 B)",
            ]
        );
    }
}

mod baseline {
    use super::*;

    fn fit(bytes_per_item: usize) -> memprobe::Fit {
        Scaling::new(SIZES)
            .item("job")
            .run(|n| {
                (0..n)
                    .map(|_| vec![0u8; bytes_per_item])
                    .collect::<Vec<_>>()
            })
            .unwrap()
    }

    #[test]
    fn create_pass_grow_fail_bless_pass() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("10%")
            .unwrap()
            .update_command("MEMPROBE_UPDATE=1 cargo test -p jobs");

        let created = fit(1000)
            .check_baseline(&baselines, "jobs::per_job", &policy, Mode::Local)
            .unwrap();
        assert_eq!(created.action, Action::Created);
        let file = dir.path().join("jobs.per_job.per_item.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("# Rewrite it with: MEMPROBE_UPDATE=1 cargo test -p jobs"),
            "{text}"
        );
        // 1000 bytes and a 24-byte Vec header per job, in the collecting Vec.
        assert!(text.contains("alloc_bytes_per_item = 1024.0"), "{text}");
        assert!(text.contains("sizes = [10, 50, 100, 200]"), "{text}");

        let same = fit(1000)
            .check_baseline(&baselines, "jobs::per_job", &policy, Mode::Ci)
            .unwrap();
        assert!(!same.failed() && same.changes.is_empty(), "{same}");

        // +10% of 1024 bytes is allowed (1100 + 24 is +9.8%); 1224 + 24 is +21.9%.
        let within = fit(1100)
            .check_baseline(&baselines, "jobs::per_job", &policy, Mode::Ci)
            .unwrap();
        assert!(!within.failed(), "{within}");
        let grown = fit(1224)
            .check_baseline(&baselines, "jobs::per_job", &policy, Mode::Ci)
            .unwrap();
        assert!(grown.failed());
        assert_eq!(
            grown.to_string(),
            format!(
                "memprobe: the cost per job of `jobs::per_job` grew beyond its baseline ({}, fail_if_growth = 10%):\n  alloc_bytes_per_item: baseline 1.0 KiB, now 1.2 KiB per job (+21.9%; allowed up to 1.1 KiB)\n  peak_bytes_per_item: baseline 1.0 KiB, now 1.2 KiB per job (+21.9%; allowed up to 1.1 KiB)\n  if the growth is intended, bless it with: MEMPROBE_UPDATE=1 cargo test -p jobs",
                file.display()
            )
        );

        let blessed = fit(1224)
            .check_baseline(&baselines, "jobs::per_job", &policy, Mode::Update)
            .unwrap();
        assert_eq!(blessed.action, Action::Updated);
        let shrunk = fit(1000)
            .check_baseline(&baselines, "jobs::per_job", &policy, Mode::Ci)
            .unwrap();
        assert!(!shrunk.failed());
        assert!(
            shrunk.to_string().contains(
                "figures shrank: lock the improvement in with: MEMPROBE_UPDATE=1 cargo test -p jobs"
            ),
            "{shrunk}"
        );
    }

    #[test]
    fn missing_under_ci_names_the_command_and_corrupt_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("0%")
            .unwrap()
            .update_command("MEMPROBE_UPDATE=1 cargo test -p jobs");
        let err = fit(10)
            .check_baseline(&baselines, "per_job", &policy, Mode::Ci)
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("missing: there is no per-item baseline `per_job` yet, and under CI it is not created; create it with `MEMPROBE_UPDATE=1 cargo test -p jobs` and commit the file"), "{err}");

        std::fs::write(
            dir.path().join("per_job.per_item.toml"),
            "format = 1\nname = 3\n",
        )
        .unwrap();
        let err = fit(10)
            .check_baseline(&baselines, "per_job", &policy, Mode::Local)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("memprobe: baseline "), "{err}");
        assert!(
            err.contains("per_job.per_item.toml: is not a valid memprobe per-item baseline"),
            "{err}"
        );
    }

    #[test]
    fn process_scope_figures_with_other_threads_in_them_are_not_blessed() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        // A thread that does not enter the probe allocates during every run.
        let fit = Scaling::new([1, 2])
            .scope(memprobe::Scope::Process)
            .run(|n| {
                std::thread::spawn(move || black_box(vec![0u8; n as usize]))
                    .join()
                    .unwrap()
            })
            .unwrap();
        assert!(fit.points.iter().all(|p| p.outside_alloc_count > Some(0)));
        let err = fit
            .check_baseline(&baselines, "t", &Policy::new("0%").unwrap(), Mode::Update)
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.per_item.toml: not written: "), "{err}");
        assert!(err.ends_with("allocation events came from threads outside the measured runs, so the per-item costs are not this code's alone; use thread scope, or run under cargo nextest (one test per process)"), "{err}");
        assert!(!dir.path().join("t.per_item.toml").exists());
    }

    #[test]
    fn other_sizes_are_noted() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("0%").unwrap();
        fit(64)
            .check_baseline(&baselines, "t", &policy, Mode::Update)
            .unwrap();
        let other = Scaling::new([5, 10, 20])
            .item("job")
            .run(|n| (0..n).map(|_| vec![0u8; 64]).collect::<Vec<_>>())
            .unwrap()
            .check_baseline(&baselines, "t", &policy, Mode::Ci)
            .unwrap();
        assert!(!other.failed(), "{other}");
        assert!(other.to_string().contains("note: the baseline was fitted over sizes [10, 50, 100, 200], this run over [5, 10, 20]"), "{other}");
    }
}

mod attribute {
    use memprobe::memprobe;
    use std::hint::black_box;

    #[memprobe(sizes = [10, 50, 100, 200], max_bytes_per_item = "72 B", max_allocs_per_item = 1)]
    #[test]
    fn boxes_within_their_per_item_limits(n: u64) -> Vec<Box<[u8; 64]>> {
        (0..n).map(|_| black_box(Box::new([0u8; 64]))).collect()
    }

    #[memprobe(sizes = [10, 50, 100, 200], max_bytes_per_item = "64 B", max_allocs_per_item = 0)]
    #[test]
    #[should_panic(
        expected = "memprobe: `attribute::boxes_over_their_per_item_limits` failed its per-item checks:\n  max_allocs_per_item: limit 0 per item, actual 1 per item (95% CI 1 to 1)\n  max_bytes_per_item: limit 64 B per item, actual 72 B per item (95% CI 72 to 72 B)\nmemprobe scaling: attribute::boxes_over_their_per_item_limits (per item; sizes 10, 50, 100, 200;"
    )]
    fn boxes_over_their_per_item_limits(n: u64) -> Vec<Box<[u8; 64]>> {
        (0..n).map(|_| black_box(Box::new([0u8; 64]))).collect()
    }

    #[memprobe(sizes = [10, 50, 100, 200])]
    #[test]
    fn the_argument_is_each_size_in_turn(n: u64) {
        use std::sync::Mutex;
        static SEEN: Mutex<Vec<u64>> = Mutex::new(Vec::new());
        let mut seen = SEEN.lock().unwrap();
        seen.push(n);
        // One warm-up run per size, then three repetitions, size by size.
        if seen.len() == 16 {
            assert_eq!(&seen[..4], &[10, 50, 100, 200]);
            assert_eq!(&seen[4..8], &[10, 50, 100, 200]);
        }
    }
}
