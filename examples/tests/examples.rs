//! Runs each example binary with small, bounded arguments (about a second each, run in parallel)
//! and checks what it prints and how it exits: the figures quoted in the examples' docs are
//! asserted here, so the docs cannot drift from what the binaries show.

use std::process::{Command, Output};

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {bin} {args:?}: {e}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with both streams shown, so a failure says what the binary printed.
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

mod job_cost {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_job-cost");

    #[test]
    fn prints_allocations_and_bytes_per_job() {
        let output = run(BIN, &["--iters", "200"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(out.contains("job with    0 B payload: "), "{out}");
        assert!(out.contains("allocations"), "{out}");
        assert!(out.contains("200 iterations after 100 warm-up"), "{out}");
        assert!(out.contains("1000 queued jobs hold +"), "{out}");
        // The fit over 10, 50, 100 and 200 jobs, with the RSS delta beside the exact counts.
        assert!(
            out.contains("memprobe scaling: jobs (per job; sizes 10, 50, 100, 200;"),
            "{out}"
        );
        assert!(out.contains("each job costs "), "{out}");
        assert!(out.contains("rss delta [noisy]"), "{out}");
    }

    #[test]
    fn rejects_an_unknown_argument_with_the_usage() {
        let output = run(BIN, &["--iterations", "5"]);
        assert_exit(&output, 2);
        assert_eq!(
            stderr(&output),
            "job-cost: unexpected argument \"--iterations\"\nusage: job-cost [--iters N]\n"
        );
    }
}

mod client_cost {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_client-cost");

    #[test]
    fn sharing_the_config_saves_its_nine_allocations() {
        let output = run(BIN, &["--iters", "100"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        // base_url, user_agent, the header Vec and three (name, value) pairs.
        assert!(
            out.contains("sharing the config saves 9.00 allocations"),
            "{out}"
        );
        assert!(out.contains("cloned config   30.00 allocations"), "{out}");
        assert!(out.contains("Arc<Config>     21.00 allocations"), "{out}");
        assert!(
            out.contains("one client (cloned config, 4 connections x 2 x 8.0 KiB): 30 allocations"),
            "{out}"
        );
    }

    #[test]
    fn the_budget_fails_the_cloned_config_only() {
        let out = stdout(&run(BIN, &["--iters", "10"]));
        assert!(
            out.contains(
                "cloned config: max_allocs: limit 22 per iteration, actual 30 per iteration (300 in total)"
            ),
            "{out}"
        );
        assert!(out.contains("Arc<Config>: within"), "{out}");
        assert!(
            out.contains("memprobe scaling: clients (per client; sizes 1, 10, 50, 100;"),
            "{out}"
        );
    }
}

mod payload_sizes {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_payload-sizes");

    /// (allocs/op, reallocs/op, bytes/op) of the row for `op` at the 4 KiB target.
    fn row_at_4k(out: &str, op: &str) -> (f64, f64, String) {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("4.0 KiB") && l.contains(&format!(" {op} ")))
            .unwrap_or_else(|| panic!("no 4 KiB {op} row in:\n{out}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        // target (2 tokens), json (2), op, allocs, reallocs, bytes (2), peak (2)
        (
            cols[5].parse().unwrap(),
            cols[6].parse().unwrap(),
            format!("{} {}", cols[7], cols[8]),
        )
    }

    #[test]
    fn presizing_removes_the_reallocations_to_vec_makes() {
        let output = run(BIN, &["--max-size", "4KiB", "--no-fit"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(!out.contains("16.0 KiB"), "stops at --max-size:\n{out}");

        let (allocs, reallocs, _) = row_at_4k(&out, "to_vec");
        assert_eq!(
            (allocs, reallocs),
            (1.0, 5.0),
            "128 B doubled to 4 KiB:\n{out}"
        );
        let (allocs, reallocs, bytes) = row_at_4k(&out, "presized");
        assert_eq!((allocs, reallocs), (1.0, 0.0), "{out}");
        assert_eq!(bytes, "4.0 KiB");
        let (allocs, reallocs, _) = row_at_4k(&out, "reused");
        assert_eq!((allocs, reallocs), (0.0, 0.0), "{out}");
        let (allocs, _, _) = row_at_4k(&out, "from_slice");
        assert!(allocs > 50.0, "a String per item:\n{out}");
    }

    #[test]
    fn fits_to_vec_and_from_slice_per_json_byte_unless_told_not_to() {
        let output = run(BIN, &["--max-size", "64B"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        for op in ["to_vec", "from_slice"] {
            assert!(
                out.contains(&format!("memprobe scaling: payloads::{op} (per JSON byte; sizes 1000, 10000, 100000, 1000000;")),
                "{out}"
            );
        }
        let quick = stdout(&run(BIN, &["--max-size", "64B", "--no-fit"]));
        assert!(!quick.contains("memprobe scaling"), "{quick}");
    }

    #[test]
    fn a_bad_size_names_the_input() {
        let output = run(BIN, &["--max-size", "12 KBB"]);
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(err.starts_with("payload-sizes: "), "{err}");
        assert!(err.contains("12 KBB"), "{err}");
    }
}

mod soak {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_soak");

    #[test]
    fn a_leak_is_growth_and_exits_1() {
        let output = run(BIN, &["--mode", "leak", "--iterations", "8000"]);
        assert_exit(&output, 1);
        let out = stdout(&output);
        assert!(out.contains("verdict: growth (exit 1)"), "{out}");
        assert!(out.contains("The live heap grows "), "{out}");
    }

    #[test]
    fn a_bounded_cache_is_a_pass_and_exits_0() {
        let output = run(BIN, &["--mode", "plateau", "--iterations", "8000"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(out.contains("verdict: pass (exit 0)"), "{out}");
        assert!(out.contains("The live heap does not grow"), "{out}");
    }

    #[test]
    fn drifting_sizes_fragment_and_exit_1_unless_allowed() {
        let output = run(BIN, &["--mode", "fragment", "--iterations", "8000"]);
        assert_exit(&output, 1);
        let out = stdout(&output);
        assert!(out.contains("verdict: fragmentation (exit 1)"), "{out}");
        assert!(out.contains("while the live heap stays flat"), "{out}");

        let output = run(
            BIN,
            &[
                "--mode",
                "fragment",
                "--iterations",
                "8000",
                "--allow-fragmentation",
            ],
        );
        assert_exit(&output, 0);
        assert!(stdout(&output).contains("verdict: fragmentation (exit 0)"));
    }

    #[test]
    fn a_duration_bounds_the_run() {
        let started = std::time::Instant::now();
        let output = run(BIN, &["--mode", "plateau", "--seconds", "0.5"]);
        assert_exit(&output, 0);
        assert!(started.elapsed().as_secs_f64() < 5.0);
        assert!(stdout(&output).contains("iterations in 0.5 s"));
    }

    #[test]
    fn usage_errors_exit_2_with_the_usage() {
        for (args, message) in [
            (&["--seconds", "1"][..], "soak: --mode is required\n"),
            (
                &["--mode", "slow"][..],
                "soak: --mode \"slow\": expected leak, plateau or fragment\n",
            ),
            (
                &["--mode", "leak", "--seconds", "1", "--iterations", "5"][..],
                "soak: give --seconds or --iterations, not both\n",
            ),
        ] {
            let output = run(BIN, args);
            assert_exit(&output, 2);
            let err = stderr(&output);
            assert!(err.starts_with(message), "{args:?}: {err}");
            assert!(
                err.contains("usage: soak --mode leak|plateau|fragment"),
                "{err}"
            );
        }
    }
}

mod actors {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_actors");

    #[test]
    fn idle_actors_and_queued_messages_have_a_per_item_cost_and_the_mailbox_drains() {
        let output = run(BIN, &["--drain-messages", "2000"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(
            out.contains(
                "memprobe scaling: actors::idle (per idle actor; sizes 1000, 10000, 50000, 100000;"
            ),
            "{out}"
        );
        assert!(out.contains("each idle actor costs "), "{out}");
        for kind in ["bounded", "unbounded"] {
            assert!(
                out.contains(&format!(
                    "memprobe scaling: actors::{kind}_mailbox (per queued message;"
                )),
                "{out}"
            );
        }
        assert!(
            out.contains("unbounded mailbox, 2000 messages queued then drained"),
            "{out}"
        );
        assert!(
            out.contains("back at its baseline after draining: yes"),
            "{out}"
        );
    }
}

mod hot_path {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_hot-path");

    #[test]
    fn the_parser_and_the_reused_encoder_allocate_nothing_and_encode_once() {
        let output = run(BIN, &["--iters", "500"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        for (label, allocs) in [
            ("parse", 0),
            ("encode_into (reused buffer)", 0),
            ("encode (new Vec)", 1),
        ] {
            let line = out
                .lines()
                .find(|l| l.starts_with(label))
                .unwrap_or_else(|| panic!("no {label} line:\n{out}"));
            assert!(
                line.contains(&format!(" {allocs} allocations and ")),
                "{line}"
            );
            assert!(
                line.ends_with(&format!("max_allocs = {allocs} holds")),
                "{line}"
            );
        }
        assert!(
            out.contains("memprobe scaling: hot_path::parse (per call;"),
            "{out}"
        );
    }
}

mod tour {
    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_tour");

    #[test]
    fn prints_the_per_item_table_and_both_soak_verdicts() {
        let output = run(BIN, &["--soak-seconds", "1"]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(out.contains("\nper-item cost (exact counts;"), "{out}");
        for scenario in memprobe_examples::SCENARIOS {
            assert!(
                out.lines()
                    .filter(|l| l.trim_start().starts_with(&format!("{} ", scenario.label)))
                    .count()
                    == 2,
                "{} once as a sentence and once in the table:\n{out}",
                scenario.label
            );
        }
        assert!(
            out.contains("leak (sessions never evicted): growth (exit 1)"),
            "{out}"
        );
        assert!(
            out.contains("plateau (bounded cache): pass (exit 0)"),
            "{out}"
        );
        assert!(out.contains("3 more rounds leave 0 B more"), "{out}");
    }

    #[test]
    fn a_bad_soak_length_is_a_usage_error() {
        let output = run(BIN, &["--soak-seconds", "0"]);
        assert_exit(&output, 2);
        assert!(
            stderr(&output)
                .starts_with("tour: --soak-seconds 0: expected a positive number\nusage: tour "),
            "{}",
            stderr(&output)
        );
    }
}
