//! Set-up: report directories written by real runs of this binary's `#[memprobe]` workloads, the
//! daemon under test with a clean CI environment, and readers.

pub use assert_cmd::Command;
pub use predicates::prelude::*;
pub use serde_json::Value;
pub use std::path::{Path, PathBuf};

/// The variable the workloads read their size from.
pub const WORKLOAD_ENV: &str = "MEMPROBE_COMPARE_WORKLOAD";
/// How `workload_sites` samples: `exact` (the default) or a mean interval in bytes.
pub const SAMPLING_ENV: &str = "MEMPROBE_COMPARE_SAMPLING";

/// `memprobe-daemon compare`, with GitHub's variables removed (a test that wants them sets them).
pub fn compare() -> Command {
    let mut cmd = Command::cargo_bin("memprobe-daemon").unwrap();
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .arg("compare");
    cmd
}

/// Runs this test binary's workloads `tests` (names without the crate) with size `size`, writing
/// their reports under `home` (`MEMPROBE_HOME`); returns the directory the reports are in.
pub fn run_workloads(home: &Path, size: usize, tests: &[&str]) -> PathBuf {
    run_workloads_sampled(home, size, "exact", tests)
}

/// [`run_workloads`], with `workload_sites` sampling as `sampling` says (`exact` or a mean in
/// bytes).
pub fn run_workloads_sampled(home: &Path, size: usize, sampling: &str, tests: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["--ignored", "--exact", "--test-threads=1"])
        .args(tests)
        .env("MEMPROBE_HOME", home)
        .env(WORKLOAD_ENV, size.to_string())
        .env(SAMPLING_ENV, sampling)
        .env_remove("MEMPROBE_UPDATE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "workloads failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("{} passed", tests.len())),
        "{stdout}"
    );
    home.join("memprobe-daemon")
}

/// Two runs: BASE with 1 buffer (and the retired test), NEW with `new_size` (and the added one).
pub struct Runs {
    /// Holds both homes.
    pub dir: tempfile::TempDir,
    /// BASE's report directory.
    pub base: PathBuf,
    /// NEW's report directory.
    pub new: PathBuf,
}

/// Generates [`Runs`].
pub fn runs(new_size: usize) -> Runs {
    let dir = tempfile::tempdir().unwrap();
    let base = run_workloads(
        &dir.path().join("base"),
        1,
        &["workload_buffers", "workload_steady", "workload_retired"],
    );
    let new = run_workloads(
        &dir.path().join("new"),
        new_size,
        &["workload_buffers", "workload_steady", "workload_added"],
    );
    Runs { dir, base, new }
}

/// A report file of a run, by test name.
pub fn report(dir: &Path, test: &str) -> PathBuf {
    dir.join(format!("compare.{test}.json"))
}

/// A JSON file parsed.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The line of `fn NAME(` in this binary's `main.rs` (1-based): where annotations must point.
pub fn line_of_fn(name: &str) -> u32 {
    let source = include_str!("main.rs");
    let needle = format!("fn {name}(");
    source
        .lines()
        .position(|l| l.contains(&needle))
        .map(|i| i as u32 + 1)
        .unwrap()
}
