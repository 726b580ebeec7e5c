//! The verdict of `watch` and `verdict` as a GitHub annotation: with `GITHUB_ACTIONS=true` or
//! `--github`, `::error title=memprobe watch::KIND: sentence` on stdout when the verdict fails
//! the run, `::warning` for an inconclusive one that does not; nothing without either, and
//! nothing for a pass. On the recorded run (exact lines) and on real `watch` runs.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn daemon() -> Command {
    let mut cmd = Command::cargo_bin("memprobe-daemon").unwrap();
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leak.jsonl")
}

/// `cmd`'s exit code and the workflow commands on its stdout.
fn run(cmd: &mut Command) -> (i32, Vec<String>) {
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8(o.stdout).unwrap();
    let commands = stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(str::to_owned)
        .collect();
    (o.status.code().unwrap(), commands)
}

/// The recorded leak (`tests/fixtures/leak.jsonl`), judged growth: `%` escaped as `%25`.
const GROWTH: &str = "::error title=memprobe watch::growth: jemalloc allocated grows 208.0 KiB/iteration (95%25 CI 207.9 to 208.1 KiB/iteration) after a 20%25 warm-up (600 ms): 9.5 MiB over the run, above the 5%25 threshold (395.0 KiB)";

#[test]
fn verdict_growth_is_an_error_annotation() {
    let with_env = run(daemon()
        .arg("verdict")
        .arg(fixture())
        .env("GITHUB_ACTIONS", "true"));
    assert_eq!(with_env, (1, vec![GROWTH.to_owned()]));
    let with_flag = run(daemon().arg("verdict").arg(fixture()).arg("--github"));
    assert_eq!(with_flag, (1, vec![GROWTH.to_owned()]));
    // Printed for CI even when the terminal line is not.
    let quiet = run(daemon()
        .arg("verdict")
        .arg(fixture())
        .args(["--github", "--quiet"]));
    assert_eq!(quiet, (1, vec![GROWTH.to_owned()]));

    let without = run(daemon().arg("verdict").arg(fixture()));
    assert_eq!(without, (1, vec![]));
    // Not `true`: not GitHub Actions.
    let other = run(daemon()
        .arg("verdict")
        .arg(fixture())
        .env("GITHUB_ACTIONS", "false"));
    assert_eq!(other, (1, vec![]));
}

#[test]
fn inconclusive_is_a_warning_unless_it_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.jsonl");
    let text = std::fs::read_to_string(fixture()).unwrap();
    let head: String = text.lines().take(12).map(|l| format!("{l}\n")).collect();
    std::fs::write(&short, head).unwrap();
    let sentence =
        "inconclusive: Inconclusive for jemalloc allocated: only 2 samples, at least 20 needed";

    let warned = run(daemon().arg("verdict").arg(&short).arg("--github"));
    assert_eq!(
        warned,
        (
            3,
            vec![format!("::warning title=memprobe watch::{sentence}")]
        )
    );
    let failed =
        run(daemon()
            .arg("verdict")
            .arg(&short)
            .args(["--github", "--inconclusive", "fail"]));
    assert_eq!(
        failed,
        (1, vec![format!("::error title=memprobe watch::{sentence}")])
    );
    let passed =
        run(daemon()
            .arg("verdict")
            .arg(&short)
            .args(["--github", "--inconclusive", "pass"]));
    assert_eq!(
        passed,
        (
            0,
            vec![format!("::warning title=memprobe watch::{sentence}")]
        )
    );
}

/// A real `watch` of `memprobe-soak-target MODE` for 3 s with `--fail-if-growth 10%`: the exit
/// code, the workflow commands on stdout and the summary's verdict.
fn watch(mode: &[&str], github: bool) -> (i32, Vec<String>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    let mut cmd = daemon();
    cmd.args(["watch", "--quiet", "--interval", "50ms", "--duration", "3s"])
        .args(["--fail-if-growth", "10%", "--summary"])
        .arg(&summary)
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("memprobe-soak-target"))
        .args(mode);
    if github {
        cmd.env("GITHUB_ACTIONS", "true");
    }
    let (code, commands) = run(&mut cmd);
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    (code, commands, summary["verdict"].clone())
}

#[test]
fn watch_growth_is_an_error_annotation_with_the_verdict_sentence() {
    let (code, commands, verdict) = watch(&["leak", "--rate", "8MiB"], true);
    assert_eq!(code, 1, "{verdict:#}");
    assert_eq!(verdict["kind"]["verdict"], "growth", "{verdict:#}");
    let sentence = verdict["summary"].as_str().unwrap().replace('%', "%25");
    assert_eq!(
        commands,
        [format!("::error title=memprobe watch::growth: {sentence}")]
    );

    let (code, commands, _) = watch(&["leak", "--rate", "8MiB"], false);
    assert_eq!((code, commands), (1, vec![]));
}

#[test]
fn watch_pass_has_no_annotation() {
    let (code, commands, verdict) = watch(&["flat", "--base", "8MiB"], true);
    assert_eq!((code, commands), (0, vec![]), "{verdict:#}");
}
