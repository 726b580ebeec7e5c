//! One daemon, several targets, on real processes: `--pid` repeated and `--match PATTERN` (a
//! process already running, one started after the daemon, none of the others and never the
//! daemon itself), one set of files and one `/metrics` series per target, ended targets marked
//! ended and finished at once, and the exit code the worst of the targets'.

#[path = "prometheus_support/mod.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;

fn summary(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn pids_and_matches_each_get_series_files_and_an_end() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: String| dir.path().join(name);
    let me = std::process::id();
    let a = Guard::spawn("sleep", &["600"]);
    let b = Guard::spawn("sleep", &["601"]);
    // Matched: one running before the daemon starts, one started after.
    let before = Guard::spawn("sleep", &[&format!("3601.{me}")]);
    let unrelated = Guard::spawn("sleep", &[&format!("3602.{me}")]);
    // The second pattern matches the daemon's own command line, which holds it: never watched.
    let daemon = Daemon::start(&[
        "--pid",
        &a.pid().to_string(),
        "--pid",
        &b.pid().to_string(),
        "--match",
        &format!("sleep 360[01].{me}$"),
        "--match",
        &format!("fleet-self-{me}"),
        "--interval",
        "100ms",
        "--out",
        &file("f.jsonl".into()).display().to_string(),
        "--summary",
        &file("f.json".into()).display().to_string(),
    ]);
    let daemon_pid = daemon.child.pid();
    let seen = |text: &str, pid: u32| metric(text, "memprobe_samples_total", pid).unwrap_or(0.0);
    wait_for(20, "the two PIDs and the running match at /metrics", || {
        let t = get(&daemon.url);
        (seen(&t, a.pid()) > 0.0 && seen(&t, b.pid()) > 0.0 && seen(&t, before.pid()) > 0.0)
            .then_some(())
    });
    let after = Guard::spawn("sleep", &[&format!("3600.{me}")]);
    let text = wait_for(20, "the process started after the daemon", || {
        let t = get(&daemon.url);
        (seen(&t, after.pid()) >= 5.0).then_some(t)
    });
    assert_eq!(
        metric(&text, "memprobe_target_running", after.pid()),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "memprobe_rss_bytes", daemon_pid),
        None,
        "the daemon never watches itself:\n{text}"
    );
    assert_eq!(metric(&text, "memprobe_rss_bytes", unrelated.pid()), None);
    let listed = text
        .lines()
        .filter(|l| l.starts_with("memprobe_target_running{"))
        .count();
    assert_eq!(listed, 4, "{text}");
    for pid in [a.pid(), b.pid(), before.pid(), after.pid()] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("memprobe_rss_bytes{{pid=\"{pid}\",")))
            .unwrap();
        assert!(line.contains("command=\"sleep\""), "{line}");
    }

    // A matched process and a --pid ending: finished at once, shown ended, the others go on.
    let after_pid = after.pid();
    drop(after);
    let a_pid = a.pid();
    drop(a);
    wait_for(20, "both ended targets marked ended", || {
        let t = get(&daemon.url);
        (metric(&t, "memprobe_target_running", after_pid) == Some(0.0)
            && metric(&t, "memprobe_target_running", a_pid) == Some(0.0))
        .then_some(())
    });
    let ended = summary(&file(format!("f.{after_pid}.json")));
    assert_eq!(ended["state"], "finished");
    assert_eq!(ended["target"]["pid"], after_pid);
    assert_eq!(ended["run"]["ended"], "target_exited");
    let t = get(&daemon.url);
    assert_eq!(metric(&t, "memprobe_target_running", b.pid()), Some(1.0));

    assert_eq!(daemon.stop(), 0, "not enforced: exit 0");
    for pid in [a_pid, b.pid(), before.pid(), after_pid] {
        let s = summary(&file(format!("f.{pid}.json")));
        assert_eq!(s["state"], "finished", "PID {pid}");
        assert_eq!(s["target"]["pid"], pid);
        let lines = jsonl(&file(format!("f.{pid}.jsonl")));
        assert!(lines.iter().all(|l| l["pid"] == pid));
        assert_eq!(
            s["run"]["samples"].as_u64(),
            Some(lines.len() as u64),
            "PID {pid}"
        );
    }
    assert!(!file(format!("f.{}.json", unrelated.pid())).exists());
    assert!(!file(format!("f.{daemon_pid}.json")).exists());
}

#[test]
fn the_exit_code_is_the_worst_of_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let flat = Guard::spawn("sleep", &["600"]);
    let leak = Guard::spawn(SOAK, &["leak", "--rate", "8MiB", "--step-ms", "50"]);
    let out = Command::new(DAEMON)
        .args(["watch", "--pid", &flat.pid().to_string(), "--pid"])
        .arg(leak.pid().to_string())
        .args(["--interval", "50ms", "--duration", "4s", "--warmup", "1s"])
        .args(["--fail-if-growth", "10%", "--summary"])
        .arg(dir.path().join("s.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let verdict = |pid: u32| {
        summary(&dir.path().join(format!("s.{pid}.json")))["exit_code"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(verdict(leak.pid()), 1, "{err}");
    assert!([0, 3].contains(&verdict(flat.pid())), "{err}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "growth (1) is worse than pass or inconclusive: {err}"
    );
    assert!(
        err.contains(&format!(
            "memprobe-daemon: PID {} (memprobe-soak-t): growth (exit 1)",
            leak.pid()
        )),
        "{err}"
    );
}

#[test]
fn fleet_flags_are_checked_in_one_line() {
    for (args, expected) in [
        (
            vec!["--pid", "1", "--pid", "2", "--", "sleep", "1"],
            "memprobe-daemon: --match and several --pid watch running processes: give them without -- CMD ARGS...",
        ),
        (
            vec!["--match", "(unclosed"],
            "memprobe-daemon: --match \"(unclosed\" is not a regular expression (",
        ),
        (
            vec!["--pid", "1", "--pid", "x"],
            "memprobe-daemon: --pid \"x\" is not a process ID",
        ),
    ] {
        let out = Command::new(DAEMON)
            .arg("watch")
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(expected), "{args:?}: {err}");
    }
}

#[test]
fn a_match_that_never_matches_is_inconclusive_when_enforced() {
    // The pattern is in the daemon's own command line, and only there.
    let pattern = format!("nothing-matches-{}", std::process::id());
    for (enforce, code) in [(false, 0), (true, 3)] {
        let mut cmd = Command::new(DAEMON);
        cmd.args(["watch", "--match", &pattern, "--duration", "1500ms"]);
        if enforce {
            cmd.args(["--fail-if-growth", "5%"]);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert_eq!(
            err.trim(),
            "memprobe-daemon: no process was watched: no --match pattern matched a running process"
        );
    }
}
