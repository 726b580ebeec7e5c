//! Set-up shared by `tests/prometheus.rs` and `tests/fleet.rs`: real processes killed when
//! dropped, the daemon started with `--prometheus 127.0.0.1:0` and its bound address read from
//! its stderr, plain HTTP GETs (ureq), a reader of the text exposition, and the rule for tools
//! the tests drive (Prometheus, promtool): a missing tool fails under `CI=true`, else skips.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `memprobe-daemon`, built for this test run.
pub const DAEMON: &str = env!("CARGO_BIN_EXE_memprobe-daemon");
/// `memprobe-soak-target`, the helper that allocates in shapes.
pub const SOAK: &str = env!("CARGO_BIN_EXE_memprobe-soak-target");

/// `/usr/bin/NAME` (Debian's packages put prometheus and promtool there), or the first on
/// `PATH`. Missing: under `CI=true` the test fails in one line naming the tool and the script
/// that installs it; elsewhere the reason goes to stderr and the caller skips (`None`).
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::iter::once(PathBuf::from("/usr/bin"))
        .chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ))
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        let message = format!(
            "{name} is not installed: run scripts/install-test-deps.sh (Debian's prometheus package)"
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("skipped: {message}");
    }
    found
}

/// A child process killed (SIGKILL) and reaped when dropped, whatever the test's outcome.
pub struct Guard(pub std::process::Child);

impl Guard {
    /// Starts `program args`, its output discarded.
    pub fn spawn(program: &str, args: &[&str]) -> Guard {
        Guard(
            Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {program}: {e}")),
        )
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon serving `/metrics`: its process, the address it printed, and its stderr so far.
pub struct Daemon {
    pub child: Guard,
    /// `http://127.0.0.1:PORT/metrics`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// `memprobe-daemon watch ARGS --prometheus 127.0.0.1:0`, once it has said where it serves.
    pub fn start(args: &[&str]) -> Daemon {
        let mut child = Command::new(DAEMON)
            .arg("watch")
            .args(["--prometheus", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start memprobe-daemon");
        let stderr = child.stderr.take().unwrap();
        let child = Guard(child);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line
                    .strip_prefix("memprobe-daemon: serving Prometheus metrics at ")
                    .map(str::to_owned)
                {
                    let _ = tx.send(url);
                }
                kept.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "the daemon printed no address in 30 s; stderr: {:?}",
                    lines.lock().unwrap()
                )
            });
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/metrics")
            .to_owned();
        Daemon {
            child,
            url,
            addr,
            stderr: lines,
        }
    }

    /// Sends SIGTERM and waits for the exit code (a `--pid` run ends at once on a signal).
    pub fn stop(mut self) -> i32 {
        nix_kill(self.child.pid(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                return status.code().expect("exited, not killed");
            }
            assert!(Instant::now() < deadline, "the daemon did not stop in 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the daemon to exit on its own; its exit code.
    pub fn wait(mut self) -> i32 {
        self.child
            .0
            .wait()
            .unwrap()
            .code()
            .expect("exited, not killed")
    }
}

/// `kill -SIG PID` through the system's `kill` (the tests need no signal crate).
pub fn nix_kill(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// The body of `GET url`.
pub fn get(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// The value of `name` for target `pid` in an exposition, if listed.
pub fn metric(text: &str, name: &str, pid: u32) -> Option<f64> {
    let prefix = format!("{name}{{pid=\"{pid}\",");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
}

/// Polls `f` every 100 ms until it gives a value, for at most `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The complete lines of a JSONL file, parsed (a line the daemon is writing right now, without
/// its newline yet, is left out).
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
