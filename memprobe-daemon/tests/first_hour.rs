//! What a new user meets first: thresholds read by the one grammar of `memprobe::units`, and an
//! install that puts only `memprobe-daemon` on the PATH. (The killed-daemon test lives in
//! `child_dies.rs`.)

use assert_cmd::Command;
use predicates::prelude::*;

fn daemon() -> Command {
    Command::cargo_bin("memprobe-daemon").unwrap()
}

/// `--fail-if-growth 5` used to mean 5 bytes: a bare number is now a usage error naming both
/// spellings, for `verdict` and `watch` alike, before anything is read or started.
#[test]
fn a_bare_growth_threshold_is_refused_naming_both_spellings() {
    let both = "memprobe-daemon: --fail-if-growth: invalid size or percentage \"5\": a bare number is ambiguous for a growth threshold: write `5%` (relative) or `5B` (bytes)";
    daemon()
        .args(["verdict", "run.jsonl", "--fail-if-growth", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(both));
    daemon()
        .args(["watch", "--fail-if-growth", "5%,5", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(both));
}

/// The other rules of the grammar, as the CLI words them.
#[test]
fn threshold_errors_name_what_is_wrong() {
    for (value, problem) in [
        ("-5%", "it is negative"),
        ("99999999999 GiB", "it is too large"),
        (
            "64k",
            "the unit `k` is ambiguous: write `KiB` (1024^n) or `KB` (1000^n)",
        ),
        ("5 parsecs", "unknown unit `parsecs`"),
    ] {
        daemon()
            .args(["verdict", "run.jsonl", &format!("--fail-if-growth={value}")])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(problem));
    }
}

/// `cargo install --path memprobe-daemon` installs every binary whose required features are on;
/// the test helper needs `test-helpers`, which is not a default feature (tests get it through
/// the package's dev-dependency on itself, which `cargo install` ignores). A real install takes
/// a release build, so this reads what cargo would act on: `cargo metadata`.
#[test]
fn cargo_install_skips_the_test_helper() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "memprobe-daemon")
        .unwrap();
    let defaults: Vec<&str> = package["features"]["default"]
        .as_array()
        .map(|d| d.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    let installed: Vec<&str> = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .filter(|t| {
            t["required-features"]
                .as_array()
                .is_none_or(|r| r.iter().all(|f| defaults.contains(&f.as_str().unwrap())))
        })
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    // The daemon and its cargo front (`cargo memprobe compare ...`); never the test helper.
    assert_eq!(installed, ["cargo-memprobe", "memprobe-daemon"]);
    // And the helper the other tests run is still built for them.
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_memprobe-soak-target")).is_file());
}
