//! `watch --prometheus` end to end: a real Prometheus (Debian's `/usr/bin/prometheus`) scrapes
//! two daemons watching real processes, and the values it stored equal the daemons' own (their
//! JSONL line of the same sample, their `/metrics`, their summary); `promtool check metrics`
//! accepts the exposition; the shipped alert rules pass `promtool check rules` and their unit
//! tests (`promtool test rules`). A missing Prometheus fails under `CI=true` and skips elsewhere.

#[path = "prometheus_support/mod.rs"]
mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::*;

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET a Prometheus API path; its `data`, once `status` is `success`.
fn api(base: &str, path_and_query: &str) -> Option<Value> {
    let body = ureq::get(&format!("{base}{path_and_query}"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    let v: Value = serde_json::from_str(&body).ok()?;
    (v["status"] == "success").then(|| v["data"].clone())
}

/// One instant query, percent-encoded by ureq's query builder.
fn query(base: &str, promql: &str) -> Vec<Value> {
    let body = ureq::get(&format!("{base}/api/v1/query"))
        .query("query", promql)
        .call()
        .unwrap_or_else(|e| panic!("query {promql}: {e}"))
        .body_mut()
        .read_to_string()
        .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{promql}: {body}");
    v["data"]["result"].as_array().unwrap().clone()
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus")
}

#[test]
fn real_prometheus_stores_what_the_daemons_serve() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();

    // A fleet daemon over a sleeping process (stable RSS) and a leaking one (RSS moving), and a
    // daemon that starts the soak target itself (it publishes jemalloc figures and phases).
    let sleeper = Guard::spawn("sleep", &["600"]);
    let leaker = Guard::spawn(SOAK, &["leak", "--rate", "1MiB", "--step-ms", "100"]);
    let (s_pid, l_pid) = (sleeper.pid(), leaker.pid());
    let fleet = Daemon::start(&[
        "--pid",
        &s_pid.to_string(),
        "--pid",
        &l_pid.to_string(),
        "--interval",
        "100ms",
        "--out",
        &path("fleet.jsonl"),
        "--summary",
        &path("fleet.json"),
    ]);
    let single = Daemon::start(&[
        "--interval",
        "100ms",
        "--out",
        &path("single.jsonl"),
        "--",
        SOAK,
        "plateau",
        "--rate",
        "1MiB",
        "--grow-for",
        "2s",
    ]);

    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: memprobe\n    static_configs:\n      - targets: ['{}', '{}']\n",
            fleet.addr, single.addr
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Guard(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", path("tsdb")))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let log_tail =
        || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();

    // Both targets scraped and up.
    wait_for(90, "Prometheus to scrape both daemons", || {
        let targets = api(&base, "/api/v1/targets")?;
        let active = targets["activeTargets"].as_array()?;
        (active.len() == 2 && active.iter().all(|t| t["health"] == "up")).then_some(())
    });
    // Every target's verdict judged at least once and scraped since.
    let single_pid = wait_for(60, "a verdict for each of the three targets", || {
        let v = query(&base, "memprobe_verdict == 1");
        (v.len() == 3).then(|| {
            v.iter()
                .map(|s| s["metric"]["pid"].as_str().unwrap().parse::<u32>().unwrap())
                .find(|p| ![s_pid, l_pid].contains(p))
                .expect("the started command's PID")
        })
    });
    let kinds: Vec<&str> = vec!["growth", "pass", "inconclusive", "fragmentation"];

    // One evaluation: each target's figures come from one scrape of one tick.
    let result = query(
        &base,
        r#"{__name__=~"memprobe_rss_bytes|memprobe_anon_swap_bytes|memprobe_samples_total|memprobe_jemalloc_allocated_bytes",job="memprobe"}"#,
    );
    let mut by_pid: HashMap<u32, HashMap<String, (f64, u64)>> = HashMap::new();
    for s in &result {
        let m = &s["metric"];
        let pid: u32 = m["pid"].as_str().unwrap().parse().unwrap();
        let at = s["value"][0].as_f64().unwrap();
        let value: u64 = s["value"][1].as_str().unwrap().parse().unwrap();
        by_pid
            .entry(pid)
            .or_default()
            .insert(m["__name__"].as_str().unwrap().to_owned(), (at, value));
        if pid == single_pid {
            let phase = m["phase"].as_str().unwrap_or("");
            assert!(
                phase == "grow" || phase == "steady",
                "the soak target's phase label: {m}"
            );
        }
    }
    assert_eq!(by_pid.len(), 3, "three targets: {result:?}\n{}", log_tail());
    for (pid, file) in [
        (s_pid, path(&format!("fleet.{s_pid}.jsonl"))),
        (l_pid, path(&format!("fleet.{l_pid}.jsonl"))),
        (single_pid, path("single.jsonl")),
    ] {
        let figures = &by_pid[&pid];
        let (rss_at, rss) = figures["memprobe_rss_bytes"];
        let (n_at, n) = figures["memprobe_samples_total"];
        assert_eq!(rss_at, n_at, "one scrape");
        // The sample Prometheus stored is the daemon's JSONL line number `n`, figure for figure.
        let lines = jsonl(Path::new(&file));
        assert!(
            lines.len() as u64 >= n,
            "{file}: {} lines, n = {n}",
            lines.len()
        );
        let line = &lines[n as usize - 1];
        assert_eq!(line["pid"], pid);
        assert_eq!(
            line["rss_bytes"].as_u64(),
            Some(rss),
            "PID {pid}, sample {n}"
        );
        let anon_swap =
            line["rss_anon_bytes"].as_u64().unwrap() + line["swap_bytes"].as_u64().unwrap_or(0);
        assert_eq!(
            figures["memprobe_anon_swap_bytes"].1, anon_swap,
            "PID {pid}"
        );
        if pid == single_pid {
            // jemalloc's figure is the last one published at or before that sample.
            let published = lines[..n as usize]
                .iter()
                .rev()
                .find_map(|l| l["published"]["jemalloc"]["allocated_bytes"].as_u64())
                .expect("the soak target publishes");
            assert_eq!(figures["memprobe_jemalloc_allocated_bytes"].1, published);
        } else {
            assert!(!figures.contains_key("memprobe_jemalloc_allocated_bytes"));
        }
    }

    // The sleeping process's RSS is stable: the daemon's own /metrics says what Prometheus
    // stored, and so does its summary once the run is over.
    let stored = by_pid[&s_pid]["memprobe_rss_bytes"].1 as f64;
    assert_eq!(
        metric(&get(&fleet.url), "memprobe_rss_bytes", s_pid),
        Some(stored)
    );
    let verdicts = query(&base, &format!("memprobe_verdict{{pid=\"{s_pid}\"}}"));
    assert_eq!(verdicts.len(), 4, "{verdicts:?}");
    let on: Vec<_> = verdicts
        .iter()
        .filter(|v| v["value"][1] == "1")
        .map(|v| v["metric"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(on.len(), 1, "one kind at a time: {verdicts:?}");
    assert!(kinds.contains(&on[0]));
    let cpu = query(&base, "memprobe_sampler_cpu_seconds_total");
    assert_eq!(cpu.len(), 2, "each daemon's own cost: {cpu:?}");

    assert_eq!(fleet.stop(), 0, "not enforced: exit 0");
    assert_eq!(single.stop(), 0);
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(path(&format!("fleet.{s_pid}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["state"], "finished");
    assert_eq!(summary["target"]["pid"], s_pid);
    assert_eq!(summary["last"]["rss_bytes"].as_f64(), Some(stored));
}

#[test]
fn promtool_accepts_the_exposition() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    // A publishing command (jemalloc families, a phase label) under a cgroup (its family too).
    let daemon = Daemon::start(&[
        "--interval",
        "50ms",
        "--cgroup",
        "auto",
        "--",
        SOAK,
        "plateau",
        "--rate",
        "1MiB",
        "--grow-for",
        "1s",
    ]);
    let text = wait_for(30, "jemalloc figures and a verdict at /metrics", || {
        let t = get(&daemon.url);
        let judged = t
            .lines()
            .any(|l| l.starts_with("memprobe_verdict{") && l.ends_with(" 1"));
        (judged && t.contains("memprobe_jemalloc_resident_bytes{")).then_some(t)
    });
    for family in [
        "memprobe_rss_bytes",
        "memprobe_anon_swap_bytes",
        "memprobe_peak_rss_bytes",
        "memprobe_cgroup_usage_bytes",
        "memprobe_jemalloc_allocated_bytes",
        "memprobe_jemalloc_active_bytes",
        "memprobe_jemalloc_resident_bytes",
        "memprobe_samples_total",
        "memprobe_verdict",
        "memprobe_sampler_missed_samples_total",
        "memprobe_sampler_cpu_seconds_total",
        "memprobe_sampler_rss_bytes",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family}:\n{text}"
        );
    }
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {:?}\n{}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let other = ureq::get(&daemon.url.replace("/metrics", "/")).call();
    assert!(
        matches!(other, Err(ureq::Error::StatusCode(404))),
        "only /metrics is served: {other:?}"
    );
    assert_eq!(daemon.stop(), 0);
}

#[test]
fn the_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = deploy_dir();
    for args in [
        vec!["check", "rules", "memprobe-alerts.yml"],
        vec!["test", "rules", "memprobe-alerts.test.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "promtool {args:?}:\n{text}");
        assert!(text.contains("SUCCESS"), "promtool {args:?}:\n{text}");
    }
}

#[test]
fn a_non_loopback_address_is_served_with_a_warning() {
    let out = Command::new(DAEMON)
        .args([
            "watch",
            "--prometheus",
            "0.0.0.0:0",
            "--duration",
            "300ms",
            "--",
            "sleep",
            "5",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.lines().any(|l| l.starts_with(
            "memprobe-daemon: warning: --prometheus 0.0.0.0:0 is not a loopback address"
        )),
        "{err}"
    );
    assert!(err.contains("memprobe-daemon: serving Prometheus metrics at http://0.0.0.0:"));
}

#[test]
fn a_bad_or_busy_address_is_one_line_and_nothing_starts() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    for (value, expected) in [
        (
            "nowhere:80".to_owned(),
            "memprobe-daemon: --prometheus \"nowhere:80\" is not an address: use HOST:PORT"
                .to_owned(),
        ),
        (
            addr.to_string(),
            format!("memprobe-daemon: --prometheus {addr}: cannot listen there ("),
        ),
    ] {
        let out = Command::new(DAEMON)
            .args(["watch", "--prometheus", &value, "--", "touch"])
            .arg(&marker)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&expected), "{err}");
        assert!(!marker.exists(), "the command must not start");
    }
}
