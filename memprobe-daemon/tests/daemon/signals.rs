use crate::support::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn forwarded(signal: Signal, name: &str) {
    let d = dir();
    let (summary, marker) = (d.path().join("s.json"), d.path().join("marker"));
    let mut child = std::process::Command::new(daemon_path())
        .args(["watch", "--quiet", "--interval", "20ms", "--summary"])
        .arg(&summary)
        .args(["--", &target(), "flat", "--on-term", "42", "--marker"])
        .arg(&marker)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        format!("got {name}\n")
    );
    let s = read_json(&summary);
    assert_eq!(s["state"], "finished");
    assert_eq!(s["target"]["exit"]["code"], 42);
    assert_eq!(s["run"]["stop_signal"], name);
    assert_eq!(s["run"]["ended"], "target_exited");
    assert!(s["run"]["samples"].as_u64().unwrap() >= 20);
}

/// The daemon blocks its stop signals outside its sleep; the command must not inherit that.
#[test]
fn the_command_starts_with_no_signal_blocked() {
    // grep run directly (a shell blocks signals of its own while it forks), writing to the
    // stdout it inherits.
    daemon()
        .args([
            "watch",
            "--quiet",
            "--",
            "grep",
            "SigBlk",
            "/proc/self/status",
        ])
        .assert()
        .success()
        .stdout("SigBlk:\t0000000000000000\n");
}

#[test]
fn sigterm_is_forwarded_and_summary_written() {
    forwarded(Signal::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_is_forwarded_and_summary_written() {
    forwarded(Signal::SIGINT, "SIGINT");
}

#[test]
fn sigkill_of_the_daemon_loses_at_most_one_sample() {
    let Outputs {
        dir: _d,
        out,
        summary,
        ..
    } = outputs();
    let started = Instant::now();
    let mut child = std::process::Command::new(daemon_path())
        .args(["watch", "--quiet", "--interval", "10ms", "--out"])
        .arg(&out)
        .arg("--summary")
        .arg(&summary)
        .args(["--", &target(), "flat", "--duration", "10s"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let killed_after = started.elapsed();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let complete: Vec<Value> = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Only the line being written when the daemon died may be cut.
    let partial = text
        .split_inclusive('\n')
        .filter(|l| !l.ends_with('\n'))
        .count();
    assert!(partial <= 1);
    // The samples on disk reach to within a couple of intervals of the kill.
    let last_t = Duration::from_nanos(complete.last().unwrap()["t_ns"].as_u64().unwrap());
    let startup = Duration::from_millis(200);
    assert!(
        last_t + startup + Duration::from_millis(20) >= killed_after,
        "last sample at {last_t:?}, killed at {killed_after:?}"
    );
    let ticks = complete.last().unwrap()["t_ns"].as_u64().unwrap() / 10_000_000 + 1;
    assert!(
        complete.len() as u64 + 1 >= ticks - ticks / 50,
        "{} lines for {ticks} ticks",
        complete.len()
    );
    // The periodic summary survives as valid JSON.
    let s = read_json(&summary);
    assert_eq!(s["state"], "running");
    // The command runs in its own process group and survives the daemon: end it.
    let pid = complete[0]["pid"].as_i64().unwrap() as i32;
    let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
}
