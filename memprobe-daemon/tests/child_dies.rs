//! A command started by `watch` dies with the daemon: after a real `kill -KILL` of the daemon
//! (what a CI timeout does), the command is gone within a second. Without `PR_SET_PDEATHSIG` it
//! would run on, in its own process group, for its full 60 s.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The PIDs of `pid`'s children (`/proc/<pid>/task/<pid>/children`).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// `true` while `pid` runs: it exists and is not a zombie waiting to be reaped.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => !stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with(['Z', 'X']),
        Err(_) => false,
    }
}

#[test]
fn a_started_command_dies_with_a_killed_daemon() {
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_memprobe-daemon"))
        .args([
            "watch",
            "--quiet",
            "--interval",
            "100ms",
            "--",
            "sleep",
            "60",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let command = loop {
        if let [pid] = children(daemon.id())[..] {
            // Started, and exec'd into `sleep` (not still the forked daemon).
            if std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() == "sleep\n"
            {
                break pid;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "watch never started sleep 60"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(running(command));

    let status = Command::new("kill")
        .args(["-KILL", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    daemon.wait().unwrap();
    let killed = Instant::now();
    while running(command) && killed.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let still_running = running(command);
    if still_running {
        // Do not leave it behind when the assertion fails.
        let _ = Command::new("kill")
            .args(["-KILL", &command.to_string()])
            .status();
    }
    assert!(
        !still_running,
        "`sleep 60` (PID {command}) outlived the killed daemon by over a second"
    );
}
