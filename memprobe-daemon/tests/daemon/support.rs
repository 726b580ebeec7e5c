//! Set-up shared by the daemon's integration tests: the binaries under test, temporary
//! directories, and readers of what `watch` writes.

pub use assert_cmd::Command;
pub use predicates::prelude::*;
pub use serde_json::Value;
pub use std::path::{Path, PathBuf};
pub use std::process::Stdio;
pub use std::time::{Duration, Instant};

/// `memprobe-daemon`, built for this test run, outside GitHub Actions even when the tests run
/// there (its verdict annotations would add a line to stdout; `tests/annotations.rs` tests them).
pub fn daemon() -> Command {
    let mut cmd = Command::cargo_bin("memprobe-daemon").unwrap();
    cmd.env_remove("GITHUB_ACTIONS");
    cmd
}

/// The path of the `memprobe-daemon` binary, for `std::process::Command`.
pub fn daemon_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("memprobe-daemon")
}

/// The path of `memprobe-soak-target`, the process the tests watch.
pub fn target() -> String {
    assert_cmd::cargo::cargo_bin("memprobe-soak-target")
        .display()
        .to_string()
}

/// A JSON file (a `--summary`) parsed.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The lines of a JSONL file (an `--out`) parsed.
pub fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A temporary directory for a test's outputs, removed when dropped.
pub fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The usual outputs of a `watch` run, in a fresh temporary directory: `--out` (`s.jsonl`),
/// `--summary` (`s.json`) and `--csv` (`s.csv`). The directory goes when `dir` is dropped.
pub struct Outputs {
    /// The directory holding them.
    pub dir: tempfile::TempDir,
    /// `--out FILE.jsonl`.
    pub out: PathBuf,
    /// `--summary FILE.json`.
    pub summary: PathBuf,
    /// `--csv FILE`.
    pub csv: PathBuf,
}

/// A fresh set of [`Outputs`].
pub fn outputs() -> Outputs {
    let dir = dir();
    let path = |name: &str| dir.path().join(name);
    let (out, summary, csv) = (path("s.jsonl"), path("s.json"), path("s.csv"));
    Outputs {
        dir,
        out,
        summary,
        csv,
    }
}

/// Serializes the tests that load the machine (hundreds of daemons, hundreds of MiB touched) with
/// those that time the daemon's ticks, so the timing tests do not measure the load tests.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
