//! Faults under the real binary: many short-lived targets watched one after another, each exiting
//! around the daemon's reads (before its first, during one, between two). Every run must end with
//! a documented exit code, a finished summary saying how it ended, and no panic.
//!
//! `MEMPROBE_FAULT_RUNS` sets the number of runs (default 200, what CI runs; 1,000 locally).

use crate::support::*;

fn runs() -> usize {
    std::env::var("MEMPROBE_FAULT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Checks one finished run: no panic, a finished summary ending with the target's exit, and
/// the documented exit code of its verdict (`--fail-if-growth` given): 3 inconclusive (too few
/// samples, nearly always), 0 when a slow start left enough samples of a flat series to pass.
fn check(run: usize, what: &str, out: &std::process::Output, summary: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "run {run} ({what}) panicked: {stderr}"
    );
    let s = read_json(summary);
    assert_eq!(s["state"], "finished", "run {run} ({what})");
    assert_eq!(
        s["run"]["ended"], "target_exited",
        "run {run} ({what}): {s}"
    );
    let verdict = s["verdict"]["kind"]["verdict"].as_str().unwrap();
    let code = match verdict {
        "inconclusive" => 3,
        "pass" => 0,
        other => panic!("run {run} ({what}): verdict {other}: {s}"),
    };
    assert_eq!(
        out.status.code(),
        Some(code),
        "run {run} ({what}): {stderr}"
    );
    assert_eq!(s["exit_code"], code, "run {run} ({what})");
}

#[test]
fn short_lived_targets_end_cleanly() {
    let _heavy = heavy();
    let d = dir();
    let summary = d.path().join("s.json");
    let out = d.path().join("s.jsonl");
    let runs = runs();
    let started = Instant::now();
    for run in 0..runs {
        let base = || {
            let mut c = std::process::Command::new(daemon_path());
            c.args([
                "watch",
                "--quiet",
                "--interval",
                "1ms",
                "--fail-if-growth",
                "5%",
            ])
            .arg("--summary")
            .arg(&summary)
            .arg("--out")
            .arg(&out);
            c
        };
        if run % 2 == 0 {
            // A command that exits at once: before, during or after the first read; every
            // other one with the tree walk, which lists and opens children as they go.
            let mut cmd = base();
            if run % 4 == 0 {
                cmd.arg("--tree");
            }
            let output = cmd
                .args(["--", "sh", "-c", "true & true"])
                .output()
                .unwrap();
            check(run, "-- sh -c 'true & true'", &output, &summary);
        } else {
            // A process the daemon did not start, exiting 0-9 ms into the run: it stays a
            // zombie (this test is its parent) until the daemon has finished.
            let delay = format!("0.00{}", run % 10);
            let mut target = std::process::Command::new("sleep")
                .arg(&delay)
                .spawn()
                .unwrap();
            let output = base()
                .arg("--pid")
                .arg(target.id().to_string())
                .output()
                .unwrap();
            target.wait().unwrap();
            check(run, "--pid of sleep", &output, &summary);
        }
        // Every line written is whole.
        for line in std::fs::read_to_string(&out).unwrap().lines() {
            serde_json::from_str::<Value>(line).unwrap();
        }
    }
    eprintln!(
        "{runs} short-lived targets watched in {:.1} s: 0 panics",
        started.elapsed().as_secs_f64()
    );
}
