//! Fail-if-growth baselines: the cycle through the public API (create → pass → grow 20% → fail
//! naming the figure → bless → pass), corrupt and missing files, and the same cycle through the
//! runtime `#[memprobe(fail_if_growth = ...)]` calls, on crates in temporary directories.

use memprobe::baseline::{Action, Baselines, Figure, Mode, Policy};
use memprobe::probe::Iterations;
use std::hint::black_box;

memprobe::global_allocator!();

mod support;

/// A job that allocates `bytes` per iteration, measured over 100 iterations.
fn job(bytes: usize) -> memprobe::Report {
    memprobe::measure_iters(Iterations::new(100), || black_box(vec![0u8; bytes])).unwrap()
}

mod api {
    use super::*;

    #[test]
    fn create_pass_grow_fail_bless_pass() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("10%")
            .unwrap()
            .update_command("MEMPROBE_UPDATE=1 cargo test -p jobs -- create_job");

        // Create: no baseline yet, so a local run writes one.
        let created = baselines
            .check("jobs::create_job", &job(1000), &policy, Mode::Local)
            .unwrap();
        assert_eq!(created.action, Action::Created);
        assert!(!created.failed());
        let path = dir.path().join("jobs.create_job.toml");
        assert_eq!(created.path, path);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# memprobe baseline of `jobs::create_job`: exact figures compared by fail_if_growth.\n\
             # Rewrite it with: MEMPROBE_UPDATE=1 cargo test -p jobs -- create_job\n\
             format = 1\nname = \"jobs::create_job\"\niterations = 100\nallocations = 100\nalloc_bytes = 100000\npeak_bytes = 1000\n"
        );

        // Pass: the same figures.
        let same = baselines
            .check("jobs::create_job", &job(1000), &policy, Mode::Ci)
            .unwrap();
        assert_eq!(
            (same.action, same.failed(), same.changes.len()),
            (Action::Compared, false, 0)
        );

        // Grow 20%: fails, naming each figure that grew, by how much, and how to bless.
        let grown = baselines
            .check("jobs::create_job", &job(1200), &policy, Mode::Ci)
            .unwrap();
        assert!(grown.failed());
        let figures: Vec<Figure> = grown
            .changes
            .iter()
            .filter(|c| c.grew())
            .map(|c| c.figure)
            .collect();
        assert_eq!(figures, [Figure::AllocBytes, Figure::PeakBytes]);
        let message = grown.to_string();
        assert_eq!(
            message,
            format!(
                "memprobe: `jobs::create_job` grew beyond its baseline ({}, fail_if_growth = 10%):\n  \
                 alloc_bytes: baseline 1000 B, now 1200 B per iteration (+20.0%; allowed up to 1100 B)\n  \
                 peak_bytes: baseline 1000 B, now 1200 B (+20.0%; allowed up to 1100 B)\n  \
                 if the growth is intended, bless it with: MEMPROBE_UPDATE=1 cargo test -p jobs -- create_job",
                path.display()
            )
        );

        // Bless, then pass with the new figures.
        let blessed = baselines
            .check("jobs::create_job", &job(1200), &policy, Mode::Update)
            .unwrap();
        assert_eq!(blessed.action, Action::Updated);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("alloc_bytes = 120000\n")
        );
        assert!(
            !baselines
                .check("jobs::create_job", &job(1200), &policy, Mode::Ci)
                .unwrap()
                .failed()
        );
    }

    #[test]
    fn growth_within_the_allowance_passes() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("10%").unwrap();
        baselines
            .check("t", &job(1000), &policy, Mode::Update)
            .unwrap();
        let verdict = baselines.check("t", &job(1100), &policy, Mode::Ci).unwrap();
        assert!(!verdict.failed() && verdict.changes.iter().all(|c| !c.shrank()));
    }

    /// Exactly the allowed growth passes: 100 B with 15% allows 115 B, although
    /// `100.0 * 1.15` is 114.99999999999999; one byte more fails, naming 115 B.
    #[test]
    fn exactly_the_allowed_growth_passes() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("15%").unwrap();
        baselines
            .check("t", &job(100), &policy, Mode::Update)
            .unwrap();
        let at = baselines.check("t", &job(115), &policy, Mode::Ci).unwrap();
        assert!(!at.failed(), "{at}");
        let over = baselines.check("t", &job(116), &policy, Mode::Ci).unwrap();
        assert!(over.failed());
        let message = over.to_string();
        assert!(
            message.contains(
                "alloc_bytes: baseline 100 B, now 116 B per iteration (+16.0%; allowed up to 115 B)\n  \
                 peak_bytes: baseline 100 B, now 116 B (+16.0%; allowed up to 115 B)\n"
            ),
            "{message}"
        );
    }

    #[test]
    fn shrinking_passes_and_suggests_blessing() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("0%").unwrap();
        baselines
            .check("t", &job(1000), &policy, Mode::Update)
            .unwrap();
        let verdict = baselines.check("t", &job(500), &policy, Mode::Ci).unwrap();
        assert!(!verdict.failed());
        let message = verdict.to_string();
        assert!(
            message.contains("alloc_bytes: baseline 1000 B, now 500 B per iteration (-50.0%)"),
            "{message}"
        );
        assert!(
            message.contains(
                "figures shrank: lock the improvement in with: MEMPROBE_UPDATE=1 cargo test"
            ),
            "{message}"
        );
    }

    #[test]
    fn iterations_are_compared_per_iteration() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("0%").unwrap();
        baselines
            .check("t", &job(1000), &policy, Mode::Update)
            .unwrap();
        let ten =
            memprobe::measure_iters(Iterations::new(10), || black_box(vec![0u8; 1000])).unwrap();
        assert!(
            baselines
                .check("t", &ten, &policy, Mode::Ci)
                .unwrap()
                .changes
                .is_empty()
        );
    }

    #[test]
    fn missing_under_ci_names_the_command_that_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("10%")
            .unwrap()
            .update_command("MEMPROBE_UPDATE=1 cargo test -p jobs -- x");
        let err = baselines
            .check("x", &job(10), &policy, Mode::Ci)
            .unwrap_err();
        assert!(matches!(err, memprobe::Error::Baseline { .. }));
        assert_eq!(
            err.to_string(),
            format!(
                "memprobe: baseline {}: missing: there is no baseline `x` yet, and under CI it is not created; create it with `MEMPROBE_UPDATE=1 cargo test -p jobs -- x` and commit the file",
                dir.path().join("x.toml").display()
            )
        );
        assert!(!baselines.path("x").exists());
    }

    #[test]
    fn corrupt_files_give_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("10%").unwrap();
        let path = baselines.path("t");
        let cases = [
            ("allocations = [1, 2", "is not a valid memprobe baseline"),
            (
                "format = 1\nname = \"t\"\niterations = 1\nallocations = 1\nalloc_bytes = 1\n",
                "missing field `peak_bytes`",
            ),
            (
                "format = 1\nname = \"t\"\niterations = 1\nallocations = -3\nalloc_bytes = 1\npeak_bytes = 1\n",
                "is not a valid memprobe baseline",
            ),
            (
                "format = 1\nname = \"t\"\niterations = 1\nallocations = 1\nalloc_bytes = 1\npeak_bytes = 1\npeek = 2\n",
                "unknown field `peek`",
            ),
            (
                "format = 2\nname = \"t\"\niterations = 1\nallocations = 1\nalloc_bytes = 1\npeak_bytes = 1\n",
                "has format 2, but this memprobe reads format 1",
            ),
            (
                "format = 1\nname = \"u\"\niterations = 1\nallocations = 1\nalloc_bytes = 1\npeak_bytes = 1\n",
                "is the baseline of `u`, not `t`",
            ),
            (
                "format = 1\nname = \"t\"\niterations = 0\nallocations = 1\nalloc_bytes = 1\npeak_bytes = 1\n",
                "iterations = 0",
            ),
        ];
        for (text, problem) in cases {
            std::fs::write(&path, text).unwrap();
            let err = baselines
                .check("t", &job(10), &policy, Mode::Local)
                .unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, memprobe::Error::Baseline { .. }), "{message}");
            assert!(
                message.starts_with(&format!("memprobe: baseline {}: ", path.display())),
                "{message}"
            );
            assert!(message.contains(problem), "{text:?}: {message}");
        }
        // Blessing replaces a corrupt file.
        baselines
            .check("t", &job(10), &policy, Mode::Update)
            .unwrap();
        assert!(
            !baselines
                .check("t", &job(10), &policy, Mode::Ci)
                .unwrap()
                .failed()
        );
    }

    #[test]
    fn rss_is_compared_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let plain = Policy::new("10%").unwrap();
        baselines
            .check("t", &job(10), &plain, Mode::Update)
            .unwrap();
        assert!(
            !std::fs::read_to_string(baselines.path("t"))
                .unwrap()
                .contains("rss")
        );
        // Asked for, but not recorded yet: a note, not a failure.
        let with_rss = Policy::new("10%").unwrap().rss_noise("64 MiB").unwrap();
        let verdict = baselines.check("t", &job(10), &with_rss, Mode::Ci).unwrap();
        assert!(!verdict.failed());
        assert!(
            verdict.notes[0].contains("rss_growth_bytes is not in the baseline"),
            "{:?}",
            verdict.notes
        );
        baselines
            .check("t", &job(10), &with_rss, Mode::Update)
            .unwrap();
        assert!(
            std::fs::read_to_string(baselines.path("t"))
                .unwrap()
                .contains("rss_growth_bytes = ")
        );
        // Within the noise allowance.
        assert!(
            !baselines
                .check("t", &job(10), &with_rss, Mode::Ci)
                .unwrap()
                .failed()
        );
    }

    /// Tests writing baselines in parallel each keep their own file: nothing is lost.
    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let baselines = Baselines::new(dir.path());
        let policy = Policy::new("10%").unwrap();
        std::thread::scope(|s| {
            for i in 0..16 {
                let (baselines, policy) = (&baselines, &policy);
                s.spawn(move || {
                    for _ in 0..5 {
                        baselines
                            .check(&format!("t{i}"), &job(10 + i), policy, Mode::Update)
                            .unwrap();
                    }
                });
            }
        });
        for i in 0..16 {
            let b = baselines.load(&format!("t{i}")).unwrap().unwrap();
            assert_eq!(b.alloc_bytes, 100 * (10 + i as u64));
        }
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 16, "no temporary files left behind");
    }
}

/// The same cycle as `#[memprobe(fail_if_growth = "10%")]` runs it, on a crate in a temporary
/// directory described as the attribute would describe it.
mod attribute {
    use super::*;
    use memprobe::__private::{Test, run, with_baseline_mode};
    use std::panic::{AssertUnwindSafe, catch_unwind};

    fn test_in(dir: &std::path::Path) -> &'static Test {
        support::leak(
            support::test_in(dir, "jobs", || "job_tests::jobs::create_job")
                .iters(100)
                .warmup(2)
                .fail_if_growth("10%"),
        )
    }

    fn run_job(test: &'static Test, mode: Mode, bytes: usize) -> Result<(), String> {
        catch_unwind(AssertUnwindSafe(|| {
            with_baseline_mode(mode, || {
                memprobe::__private::run_iters(test, || drop(black_box(vec![0u8; bytes])))
            })
        }))
        .map_err(|p| p.downcast::<String>().map(|s| *s).unwrap_or_default())
    }

    #[test]
    fn create_pass_grow_fail_bless_pass() {
        let dir = tempfile::tempdir().unwrap();
        let test = test_in(dir.path());
        let file = dir
            .path()
            .join(".memprobe/baselines/job_tests/jobs.create_job.toml");

        let missing = run_job(test, Mode::Ci, 1000).unwrap_err();
        assert!(
            missing.contains("missing: there is no baseline `jobs::create_job` yet, and under CI it is not created; create it with `MEMPROBE_UPDATE=1 cargo test -p jobs -- jobs::create_job`"),
            "{missing}"
        );
        run_job(test, Mode::Local, 1000).unwrap();
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .contains("iterations = 100\nallocations = 100\nalloc_bytes = 100000\n")
        );
        run_job(test, Mode::Ci, 1000).unwrap();

        let grown = run_job(test, Mode::Ci, 1200).unwrap_err();
        assert!(grown.starts_with("memprobe: test `jobs::create_job` failed its memory checks\nmemprobe: `jobs::create_job` grew beyond its baseline"), "{grown}");
        assert!(grown.contains("alloc_bytes: baseline 1000 B, now 1200 B per iteration (+20.0%; allowed up to 1100 B)"), "{grown}");
        assert!(
            grown.contains(
                "bless it with: MEMPROBE_UPDATE=1 cargo test -p jobs -- jobs::create_job"
            ),
            "{grown}"
        );
        assert!(
            grown.contains(
                "memprobe: jobs::create_job (thread scope, 100 iterations after 2 warm-up"
            ),
            "{grown}"
        );

        run_job(test, Mode::Update, 1200).unwrap();
        run_job(test, Mode::Ci, 1200).unwrap();

        std::fs::write(&file, "format = 1\nallocations = \"lots\"\n").unwrap();
        let corrupt = run_job(test, Mode::Ci, 1200).unwrap_err();
        assert!(
            corrupt.contains(&format!(
                "memprobe: baseline {}: is not a valid memprobe baseline",
                file.display()
            )),
            "{corrupt}"
        );
    }

    /// "created … commit it" and "figures shrank: lock … in" come from passing tests, whose output
    /// libtest hides: they are appended to the notes file the README points to.
    #[test]
    fn passing_tests_leave_their_baseline_messages_in_the_notes_file() {
        let dir = tempfile::tempdir().unwrap();
        let test = test_in(dir.path());
        let file = dir
            .path()
            .join(".memprobe/baselines/job_tests/jobs.create_job.toml");
        let notes_file = memprobe::baseline::notes_file();
        // Beside the reports: target/memprobe/baseline-notes.txt unless MEMPROBE_HOME moves it.
        assert_eq!(
            notes_file,
            memprobe::__private::report_dir().join("baseline-notes.txt")
        );
        // Other tests append too, in parallel: look for this test's own (unique) file path.
        let notes_about_this = || {
            std::fs::read_to_string(&notes_file)
                .unwrap_or_default()
                .split("\nmemprobe: ")
                .filter(|block| block.contains(&file.display().to_string()))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };

        run_job(test, Mode::Local, 1000).unwrap();
        let notes = notes_about_this();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("created baseline `jobs::create_job`"),
            "{notes:?}"
        );
        assert!(notes[0].contains("; commit it"), "{notes:?}");

        // Unchanged figures ask nothing of the user: no note.
        run_job(test, Mode::Local, 1000).unwrap();
        assert_eq!(notes_about_this().len(), 1);

        run_job(test, Mode::Local, 500).unwrap();
        let notes = notes_about_this();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[1].contains("figures shrank: lock the improvement in with: MEMPROBE_UPDATE=1 cargo test -p jobs -- jobs::create_job"),
            "{notes:?}"
        );
    }

    /// An `Err` from the body is never blessed.
    #[test]
    fn failing_bodies_are_not_blessed() {
        let dir = tempfile::tempdir().unwrap();
        let test = test_in(dir.path());
        let out: Result<(), &str> =
            with_baseline_mode(Mode::Update, || run(test, || Err("broken")));
        assert_eq!(out, Err("broken"));
        assert!(!dir.path().join(".memprobe").exists());
    }
}
