//! GitHub annotations of failing checks: with `GITHUB_ACTIONS=true`, a `#[memprobe]` test whose
//! limit or baseline fails prints one `::error file=…,line=…,title=memprobe::…` line on stdout,
//! at the measured function, before its panic; without it, no workflow command at all.
//!
//! Each case is a real test binary run: this binary runs itself on one of its `#[ignore]`d
//! tests below (which fail on purpose) and reads the output libtest prints for a failing test.

use memprobe::memprobe;
use std::hint::black_box;
use std::process::Command;

memprobe::global_allocator!();

mod support;

const LIMIT_LINE: u32 = line!() + 4;
#[memprobe(max_allocs = 0, report = false)]
#[test]
#[ignore = "fails on purpose: run by limit_failure_is_annotated_at_the_test"]
fn over_its_limit() {
    drop(black_box(vec![1u8; 8]));
}

const PER_ITEM_LINE: u32 = line!() + 4;
#[memprobe(sizes = [10, 20, 40], max_allocs_per_item = 0)]
#[test]
#[ignore = "fails on purpose: run by per_item_failure_is_annotated_at_the_test"]
fn over_its_per_item_limit(n: u64) -> Vec<Box<u64>> {
    (0..n).map(|_| black_box(Box::new(0))).collect()
}

/// Where the baseline case keeps its baseline (a temporary directory the parent gives).
const BASELINE_DIR: &str = "MEMPROBE_TEST_ANNOTATION_BASELINES";
const BASELINE_LINE: u32 = line!() + 4;

#[test]
#[ignore = "fails on purpose: run by baseline_failure_is_annotated_once_with_every_check"]
fn grows_past_its_baseline() {
    use memprobe::__private::{run_iters, with_baseline_mode};
    use memprobe::baseline::Mode;
    let dir = std::env::var_os(BASELINE_DIR).expect("the baseline directory");
    // The descriptor `#[memprobe(iters = 10, fail_if_growth = "10%", max_bytes = "1 KiB")]`
    // generates, in a crate whose root is the temporary directory.
    let test = support::leak(
        support::test_in(
            std::path::Path::new(&dir),
            "jobs",
            || "job_tests::jobs::create_job",
        )
        .at(file!(), BASELINE_LINE)
        .iters(10)
        .fail_if_growth("10%")
        .max_bytes("1 KiB"),
    );
    // Blessed at 1000 bytes, then 1200: 20% over, and over the 1 KiB limit.
    with_baseline_mode(Mode::Local, || {
        run_iters(test, || drop(black_box(vec![0u8; 1000])))
    });
    with_baseline_mode(Mode::Ci, || {
        run_iters(test, || drop(black_box(vec![0u8; 1200])))
    });
}

/// [`run_failing`] with `GITHUB_ACTIONS=true`, for a test whose output says `failed`.
fn run_failing_with(name: &str, failed: &str) -> String {
    run(name, true, &[], failed)
}

/// Runs this binary on the ignored test `name`; its stdout, after checking that it failed.
fn run_failing(name: &str, github: bool, env: &[(&str, &std::path::Path)]) -> String {
    run(name, github, env, "failed its memory checks")
}

fn run(name: &str, github: bool, env: &[(&str, &std::path::Path)], failed: &str) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--ignored", "--exact", name, "--test-threads=1"])
        .env_remove("GITHUB_ACTIONS")
        .env_remove("MEMPROBE_UPDATE")
        .env_remove("CI");
    if github {
        cmd.env("GITHUB_ACTIONS", "true");
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !out.status.success() && stdout.contains(failed),
        "{name} should fail its checks: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The workflow-command lines of `stdout`.
fn commands(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("::")).collect()
}

#[test]
fn limit_failure_is_annotated_at_the_test() {
    let stdout = run_failing("over_its_limit", true, &[]);
    assert_eq!(
        commands(&stdout),
        [format!(
            "::error file={},line={LIMIT_LINE},title=memprobe::test `over_its_limit` failed its memory checks: limits: max_allocs: limit 0, actual 1",
            file!()
        )],
        "{stdout}"
    );
    // Before the panic: libtest shows the captured stdout, the line, then the panic message.
    let line = stdout.find("::error").unwrap();
    let panic = stdout
        .find("memprobe: test `over_its_limit` failed")
        .unwrap();
    assert!(line < panic, "{stdout}");

    let quiet = run_failing("over_its_limit", false, &[]);
    assert_eq!(commands(&quiet), Vec::<&str>::new(), "{quiet}");
}

#[test]
fn baseline_failure_is_annotated_once_with_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let env = [(BASELINE_DIR, dir.path())];
    let stdout = run_failing("grows_past_its_baseline", true, &env);
    let file = dir
        .path()
        .join(".memprobe/baselines/job_tests/jobs.create_job.toml");
    assert_eq!(
        commands(&stdout),
        [format!(
            "::error file={},line={BASELINE_LINE},title=memprobe::test `jobs::create_job` failed its memory checks: limits: max_bytes: limit 1.0 KiB per iteration, actual 1.2 KiB per iteration (11.7 KiB in total); `jobs::create_job` grew beyond its baseline ({}, fail_if_growth = 10%25): alloc_bytes: baseline 1000 B, now 1200 B per iteration (+20.0%25; allowed up to 1100 B); peak_bytes: baseline 1000 B, now 1200 B (+20.0%25; allowed up to 1100 B); if the growth is intended, bless it with: MEMPROBE_UPDATE=1 cargo test -p jobs -- jobs::create_job",
            file!(),
            file.display(),
        )],
        "{stdout}"
    );

    let quiet = run_failing("grows_past_its_baseline", false, &env);
    assert_eq!(commands(&quiet), Vec::<&str>::new(), "{quiet}");
}

#[test]
fn per_item_failure_is_annotated_at_the_test() {
    let stdout = run_failing_with("over_its_per_item_limit", "failed its per-item checks");
    assert_eq!(
        commands(&stdout),
        [format!(
            "::error file={},line={PER_ITEM_LINE},title=memprobe::`over_its_per_item_limit` failed its per-item checks: max_allocs_per_item: limit 0 per item, actual 1 per item (95%25 CI 1 to 1)",
            file!()
        )],
        "{stdout}"
    );
}
