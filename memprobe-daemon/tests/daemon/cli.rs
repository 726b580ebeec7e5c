use crate::support::*;

#[test]
fn help_has_examples_and_exit_codes() {
    daemon()
        .args(["watch", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("3  inconclusive"));
}

#[test]
fn missing_pid_is_one_line_exit_2() {
    // A PID that just exited and was reaped.
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    let out = daemon()
        .args(["watch", "--pid", &pid.to_string()])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("memprobe-daemon: no process with PID {pid}")),
        "{err}"
    );
}

#[test]
fn bad_duration_and_size_name_the_flag() {
    daemon()
        .args(["watch", "--pid", "1", "--interval", "fast"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "memprobe-daemon: --interval: invalid duration \"fast\": expected",
        ));
    daemon()
        .args(["watch", "--pid", "1", "--fail-if-growth", "lots"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--fail-if-growth: invalid size or percentage \"lots\"",
        ));
    daemon()
        .args(["watch", "--pid", "1", "--interval", "2h"])
        .assert()
        .code(2)
        .stderr("memprobe-daemon: --interval \"2h\" is out of range: use 1ms..1h\n");
}

#[test]
fn nothing_to_watch_is_a_usage_error() {
    daemon()
        .args(["watch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--pid"));
}

#[test]
fn unwritable_output_fails_before_the_target_starts() {
    let d = dir();
    let marker = d.path().join("started");
    daemon()
        .args(["watch", "--out", "/nonexistent-dir/s.jsonl", "--", "touch"])
        .arg(&marker)
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("memprobe-daemon: cannot create --out /nonexistent-dir/s.jsonl: No such file or directory"));
    daemon()
        .args([
            "watch",
            "--summary",
            "/nonexistent-dir/s.json",
            "--",
            "touch",
        ])
        .arg(&marker)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot create --summary /nonexistent-dir/s.json",
        ));
    assert!(!marker.exists(), "the command must not have run");
}

#[test]
fn command_not_found() {
    daemon()
        .args(["watch", "--", "no-such-command-memprobe"])
        .assert()
        .code(2)
        .stderr("memprobe-daemon: command not found: no-such-command-memprobe (not a file, and not in PATH)\n");
}

/// Another user's process: smaps_rollup needs ptrace access, so the refusal names that file.
/// Needs root (to become `nobody`) and `setpriv`; skipped otherwise.
#[test]
fn permission_denied_names_the_file() {
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !is_root
        || std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let mut sleeper = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(daemon_path())
        .args([
            "watch",
            "--pid",
            &sleeper.id().to_string(),
            "--pss-interval",
            "1s",
        ])
        .output()
        .unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    if err.contains("Permission denied (os error 13)")
        && err.contains("memprobe-daemon")
        && !err.contains("smaps")
    {
        eprintln!("skipped: the binary is not readable by nobody: {err}");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "memprobe-daemon: permission denied opening /proc/{}/smaps_rollup",
            sleeper.id()
        )),
        "{err}"
    );
}
