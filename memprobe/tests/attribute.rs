//! `#[memprobe]` on synchronous tests in thread scope: exact figures under parallel `cargo test`,
//! limit failures and their messages, iterations, `Result` tests, memprobe.toml, report files.
//!
//! Process-scope tests live in `attribute_process.rs` (the harness's own threads would count in
//! them), async ones in `attribute_async.rs`, the missing-allocator case in
//! `attribute_no_allocator.rs`, baselines in `baseline.rs`.

use memprobe::memprobe;
use std::hint::black_box;

memprobe::global_allocator!();

mod support;
use support::{panic_message, written_report};

/// Sixteen tests, each allocating a distinct, known amount: test `i` collects `i` boxed slices of
/// `64 i` bytes into a `Vec` of capacity `i` (16-byte fat pointers), then frees everything.
/// `cargo test` runs them in parallel; each checks upper bounds on itself, and
/// `all_sixteen_reports_are_exact` checks every written report, figure for figure.
mod exact {
    use super::*;

    pub(crate) fn allocate(i: usize) {
        let boxes: Vec<Box<[u8]>> = (0..i)
            .map(|_| vec![0u8; 64 * i].into_boxed_slice())
            .collect();
        drop(black_box(boxes));
    }

    macro_rules! sixteen {
        ($name:ident, $i:literal, max_allocs = $allocs:literal, max_bytes = $bytes:literal) => {
            #[memprobe(max_allocs = $allocs, max_bytes = $bytes, max_net = 0)]
            #[test]
            pub(crate) fn $name() {
                allocate($i);
            }
        };
    }

    sixteen!(alloc_01, 1, max_allocs = 2, max_bytes = 80);
    sixteen!(alloc_02, 2, max_allocs = 3, max_bytes = 288);
    sixteen!(alloc_03, 3, max_allocs = 4, max_bytes = 624);
    sixteen!(alloc_04, 4, max_allocs = 5, max_bytes = 1088);
    sixteen!(alloc_05, 5, max_allocs = 6, max_bytes = 1680);
    sixteen!(alloc_06, 6, max_allocs = 7, max_bytes = 2400);
    sixteen!(alloc_07, 7, max_allocs = 8, max_bytes = 3248);
    sixteen!(alloc_08, 8, max_allocs = 9, max_bytes = 4224);
    sixteen!(alloc_09, 9, max_allocs = 10, max_bytes = 5328);
    sixteen!(alloc_10, 10, max_allocs = 11, max_bytes = 6560);
    sixteen!(alloc_11, 11, max_allocs = 12, max_bytes = 7920);
    sixteen!(alloc_12, 12, max_allocs = 13, max_bytes = 9408);
    sixteen!(alloc_13, 13, max_allocs = 14, max_bytes = 11024);
    sixteen!(alloc_14, 14, max_allocs = 15, max_bytes = 12768);
    sixteen!(alloc_15, 15, max_allocs = 16, max_bytes = 14640);
    sixteen!(alloc_16, 16, max_allocs = 17, max_bytes = 16640);

    /// Runs all sixteen again, concurrently with each other (and with their own test runs), and
    /// reads back the JSON each one wrote.
    #[test]
    fn all_sixteen_reports_are_exact() {
        let tests = [
            (alloc_01 as fn(), "alloc_01", 1u64),
            (alloc_02 as fn(), "alloc_02", 2u64),
            (alloc_03 as fn(), "alloc_03", 3u64),
            (alloc_04 as fn(), "alloc_04", 4u64),
            (alloc_05 as fn(), "alloc_05", 5u64),
            (alloc_06 as fn(), "alloc_06", 6u64),
            (alloc_07 as fn(), "alloc_07", 7u64),
            (alloc_08 as fn(), "alloc_08", 8u64),
            (alloc_09 as fn(), "alloc_09", 9u64),
            (alloc_10 as fn(), "alloc_10", 10u64),
            (alloc_11 as fn(), "alloc_11", 11u64),
            (alloc_12 as fn(), "alloc_12", 12u64),
            (alloc_13 as fn(), "alloc_13", 13u64),
            (alloc_14 as fn(), "alloc_14", 14u64),
            (alloc_15 as fn(), "alloc_15", 15u64),
            (alloc_16 as fn(), "alloc_16", 16u64),
        ];
        std::thread::scope(|s| {
            for (test, name, i) in tests {
                s.spawn(move || {
                    test();
                    let r = written_report("attribute::exact", name);
                    let a = &r.allocs;
                    let bytes = 64 * i * i + 16 * i;
                    assert_eq!(r.name.as_deref(), Some(format!("exact::{name}").as_str()));
                    assert_eq!(r.scope, memprobe::Scope::Thread);
                    assert_eq!(
                        (a.alloc_count, a.realloc_count, a.dealloc_count),
                        (i + 1, 0, i + 1),
                        "{name}"
                    );
                    assert_eq!(
                        (a.alloc_bytes, a.freed_bytes, a.net_bytes),
                        (bytes, bytes, 0),
                        "{name}"
                    );
                    assert_eq!(
                        (a.peak_bytes, a.largest_alloc_bytes),
                        (bytes, (64 * i).max(16 * i)),
                        "{name}"
                    );
                    assert_eq!(r.outside_alloc_count, None);
                });
            }
        });
    }
}

/// `max_allocs = 0`: passes on code that does not allocate; otherwise fails showing where the
/// first allocation came from.
mod zero {
    use super::*;

    #[memprobe(max_allocs = 0)]
    #[test]
    fn sums_without_allocating() {
        let values = black_box([3u64; 64]);
        assert_eq!(values.iter().sum::<u64>(), 192);
    }

    #[memprobe(max_allocs = 0)]
    #[test]
    #[should_panic(expected = "first allocation (max_allocs = 0), most recent call first:")]
    fn allocating_fails_with_a_backtrace() {
        black_box(vec![1u8; 3]);
    }

    #[memprobe(max_allocs = 0, report = false)]
    fn allocates_a_string() {
        black_box(String::from("not zero"));
    }

    /// The whole message: name, violation, backtrace down to this file, and the report table.
    #[test]
    fn the_message_reads_in_one_glance() {
        let message = panic_message(allocates_a_string);
        let head = "memprobe: function `zero::allocates_a_string` failed its memory checks\nlimits:\n  max_allocs: limit 0, actual 1\nfirst allocation (max_allocs = 0), most recent call first:\n";
        assert!(message.starts_with(head), "{message}");
        assert!(
            message.contains(": attribute::zero::allocates_a_string::{{closure}}\n"),
            "{message}"
        );
        assert!(message.contains("tests/attribute.rs:"), "{message}");
        // The allocator's and the runtime's frames are left out.
        assert!(
            !message.contains("memprobe::alloc::") && !message.contains("__private::run"),
            "{message}"
        );
        assert!(
            message.contains("memprobe: zero::allocates_a_string (thread scope"),
            "{message}"
        );
        assert!(
            message.contains("allocated") && message.contains("8 B"),
            "{message}"
        );
    }
}

/// Limits other than `max_allocs`, iterations, and the test attributes memprobe must keep.
mod limits {
    use super::*;

    #[memprobe(max_bytes = "1 KiB", max_peak = "1 KiB", report = false)]
    fn allocates_four_kib() {
        black_box(vec![0u8; 4096]);
    }

    #[test]
    fn every_violated_limit_is_listed() {
        let message = panic_message(allocates_four_kib);
        assert!(
            message.starts_with(
                "memprobe: function `limits::allocates_four_kib` failed its memory checks\nlimits:\n  max_bytes: limit 1.0 KiB, actual 4.0 KiB\n  max_peak: limit 1.0 KiB, actual 4.0 KiB\nmemprobe: limits::allocates_four_kib"
            ),
            "{message}"
        );
    }

    /// 1000 iterations after 10 warm-up runs; the warm-up fills the lazily built table, so the
    /// measured iterations allocate only their own 1200 bytes.
    #[memprobe(
        iters = 1000,
        warmup = 10,
        max_allocs = 1,
        max_bytes = "1200",
        max_net = 0
    )]
    #[test]
    fn iterations_are_per_iteration() {
        static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| vec![7; 4096]);
        black_box((table.len(), vec![0u8; 1200]));
    }

    #[test]
    fn iteration_reports_hold_totals() {
        iterations_are_per_iteration();
        let r = written_report("attribute::limits", "iterations_are_per_iteration");
        assert_eq!((r.iterations, r.warmup_iterations), (1000, 10));
        assert_eq!(
            (r.allocs.alloc_count, r.allocs.alloc_bytes),
            (1000, 1_200_000)
        );
        assert_eq!(r.per_iteration().alloc_bytes, 1200.0);
        // Where the function is written, for CI annotations: the line of its name, not of the
        // attribute above it.
        let line = include_str!("attribute.rs")
            .lines()
            .position(|l| l.contains("fn iterations_are_per_iteration()"))
            .unwrap() as u32
            + 1;
        assert_eq!(r.source_file.as_deref(), Some(file!()));
        assert_eq!(r.source_line, Some(line));
    }

    #[memprobe(iters = 10, max_allocs = 0, report = false)]
    fn one_allocation_per_iteration() {
        black_box(Box::new(1u32));
    }

    #[test]
    fn iteration_violations_say_per_iteration() {
        let message = panic_message(one_allocation_per_iteration);
        assert!(
            message.contains(
                "max_allocs: limit 0 per iteration, actual 1 per iteration (10 in total)"
            ),
            "{message}"
        );
    }

    /// A panic in the body reaches the harness unchanged.
    #[memprobe(max_allocs = 0)]
    #[test]
    #[should_panic(expected = "the body's own panic")]
    fn panics_propagate_unchanged() {
        panic!("the body's own panic");
    }

    #[test]
    fn panic_payloads_are_untouched() {
        #[memprobe(report = false)]
        fn panics_with_a_number() {
            std::panic::panic_any(42u32);
        }
        let payload = std::panic::catch_unwind(panics_with_a_number).unwrap_err();
        assert_eq!(payload.downcast_ref::<u32>(), Some(&42));
    }

    #[memprobe(max_allocs = 0)]
    #[test]
    #[ignore = "shows that #[ignore] is kept"]
    fn ignored_tests_stay_ignored() {
        panic!("an ignored test must not run");
    }

    #[memprobe(max_bytes = "1 KiB")]
    #[test]
    fn result_tests_pass_with_ok() -> Result<(), String> {
        let n: u32 = "42".parse().map_err(|e| format!("{e}"))?;
        assert_eq!(n, 42);
        Ok(())
    }

    /// An `Err` is the test's own failure: limits are not checked over it.
    #[memprobe(max_allocs = 0, report = false)]
    fn fails_with_err() -> Result<(), String> {
        Err(String::from("the body's error"))
    }

    #[test]
    fn errors_are_returned_unchecked() {
        assert_eq!(fails_with_err(), Err(String::from("the body's error")));
    }

    /// `return` inside the body returns from the body, as before the attribute.
    #[memprobe(max_allocs = 0)]
    #[test]
    fn early_return() {
        if black_box(true) {
            return;
        }
        unreachable!();
    }
}

/// memprobe.toml beside a crate's Cargo.toml, merged under the attribute. The crates here are
/// temporary directories, described as the attribute would describe a test in them.
mod config {
    use super::*;
    use memprobe::__private::Test;

    /// `item_path` is the test's full path, as generated code passes it.
    fn test_in(
        dir: &std::path::Path,
        item_path: fn() -> &'static str,
        max_bytes: Option<&'static str>,
    ) -> &'static Test {
        let test = support::test_in(dir, "configured", item_path);
        support::leak(match max_bytes {
            Some(size) => test.max_bytes(size),
            None => test,
        })
    }

    #[test]
    fn globs_apply_in_order_and_the_attribute_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("memprobe.toml"),
            "[[test]]\nname = \"*\"\nmax_allocs = 5\nmax_bytes = \"1 KiB\"\n\n[[test]]\nname = \"parser::tight_*\"\nmax_allocs = 0\n\n[[test]]\nname = \"other::*\"\nmax_allocs = 100\n",
        )
        .unwrap();
        // parser::tight_one: max_allocs 0 from the second entry, max_bytes 1 KiB from the first.
        let tight = test_in(dir.path(), || "configured::parser::tight_one", None);
        let message =
            panic_message(|| memprobe::__private::run(tight, || drop(black_box(vec![0u8; 2048]))));
        assert!(
            message.contains(
                "  max_allocs: limit 0, actual 1\n  max_bytes: limit 1.0 KiB, actual 2.0 KiB"
            ),
            "{message}"
        );
        // The attribute's max_bytes overrides the file's.
        let loose = test_in(
            dir.path(),
            || "configured::parser::tight_two",
            Some("4 KiB"),
        );
        let message =
            panic_message(|| memprobe::__private::run(loose, || drop(black_box(vec![0u8; 2048]))));
        assert!(
            message.contains("  max_allocs: limit 0, actual 1\n") && !message.contains("max_bytes"),
            "{message}"
        );
        // Only the `*` entry matches here.
        let other = test_in(dir.path(), || "configured::parser::relaxed", None);
        memprobe::__private::run(other, || drop(black_box(vec![0u8; 100])));
    }

    #[test]
    fn a_broken_file_names_itself_and_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("memprobe.toml"),
            "[[test]]\nname = \"*\"\nmax_peak = \"12 KBB\"\n",
        )
        .unwrap();
        let test = test_in(dir.path(), || "configured::parser::any", None);
        let message = panic_message(|| memprobe::__private::run(test, || ()));
        assert!(message.contains("memprobe.toml: [[test]] entry 1 (name = \"*\"): max_peak: memprobe: invalid size \"12 KBB\""), "{message}");
    }
}

/// Where reports go and what they hold.
mod reports {
    use super::*;

    #[memprobe]
    #[test]
    fn r#type() {
        black_box(vec![0u8; 10]);
    }

    #[test]
    fn one_json_file_per_function_under_the_target_directory() {
        r#type();
        let path = memprobe::__private::report_path(Some("memprobe"), "attribute::reports::type");
        assert!(
            path.ends_with("memprobe/memprobe/attribute.reports.type.json"),
            "{}",
            path.display()
        );
        if std::env::var_os("MEMPROBE_HOME").is_none() {
            let target = std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from);
            if let Some(target) = target.filter(|t| t.is_absolute()) {
                assert!(
                    path.starts_with(target.join("memprobe")),
                    "{}",
                    path.display()
                );
            }
        }
        let r = written_report("attribute::reports", "type");
        assert_eq!(r.name.as_deref(), Some("reports::type"));
        assert_eq!(r.allocs.alloc_bytes, 10);
    }
}

/// Same-named inner functions of different tests in one module: the report (and the baseline)
/// is named by the full path, enclosing function included, so they do not share one.
mod inner_functions {
    use super::*;

    #[test]
    fn first() {
        #[memprobe(report = "json")]
        fn measured() {
            black_box(vec![0u8; 111]);
        }
        measured();
        let r = written_report("attribute::inner_functions::first", "measured");
        assert_eq!(r.name.as_deref(), Some("inner_functions::first::measured"));
        assert_eq!(r.allocs.alloc_bytes, 111);
    }

    #[test]
    fn second() {
        #[memprobe(report = "json")]
        fn measured() {
            black_box(vec![0u8; 222]);
        }
        measured();
        let r = written_report("attribute::inner_functions::second", "measured");
        assert_eq!(r.name.as_deref(), Some("inner_functions::second::measured"));
        assert_eq!(r.allocs.alloc_bytes, 222);
    }

    /// An async inner function is named the same way.
    #[test]
    fn in_async() {
        #[memprobe(report = "json")]
        async fn measured() {
            black_box(vec![0u8; 333]);
        }
        let mut future = std::pin::pin!(measured());
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_ready());
        let r = written_report("attribute::inner_functions::in_async", "measured");
        assert_eq!(
            r.name.as_deref(),
            Some("inner_functions::in_async::measured")
        );
        assert_eq!(r.allocs.alloc_bytes, 333);
    }
}
