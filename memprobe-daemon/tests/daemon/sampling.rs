use crate::support::*;

/// A process with 1,000 supplementary groups (its `status` is over 6 KiB, the `Groups:` line
/// before every `Vm*` line) watched by PID: swap and peak are in every sample. A single 4 KiB
/// read of `status` (the daemon's old copy of the reader) lost both.
#[test]
fn watch_pid_of_a_process_with_a_thousand_groups_has_swap_and_peak() {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective user.
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: setting 1,000 supplementary groups needs root");
        return;
    }
    let groups: Vec<String> = (10_000..11_000).map(|g| g.to_string()).collect();
    let mut child = std::process::Command::new("setpriv")
        .arg("--groups")
        .arg(groups.join(","))
        .args(["--reuid", "0", "--regid", "0", "--", "sleep", "30"])
        .spawn()
        .expect("setpriv (util-linux) starts");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        let text = std::fs::read(format!("/proc/{pid}/status")).unwrap();
        // setpriv sets the groups, then execs `sleep`: wait for the exec too, or the first status
        // read (the peak) can be setpriv's while the first statm read (RSS) is sleep's.
        let execed =
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep");
        if execed && text.windows(6).any(|w| w == b"10999 ") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.len() > 6 * 1024, "status is {} bytes", status.len());
    let Outputs { dir: _d, out, .. } = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "20ms",
            "--duration",
            "300ms",
        ])
        .args(["--pid", &pid.to_string(), "--out"])
        .arg(&out)
        .assert()
        .success();
    child.kill().unwrap();
    child.wait().unwrap();
    let samples = lines(&out);
    assert!(samples.len() >= 5, "{} samples", samples.len());
    for s in &samples {
        assert!(s["swap_bytes"].is_u64(), "{s}");
        assert!(
            s["peak_rss_bytes"].as_u64().unwrap() >= s["rss_bytes"].as_u64().unwrap() / 2,
            "{s}"
        );
        assert!(
            s["rss_file_bytes"].is_u64() && s["rss_shmem_bytes"].is_u64(),
            "{s}"
        );
    }
}

#[test]
fn counts_rates_and_every_output() {
    let Outputs {
        dir: _d,
        out,
        csv,
        summary,
    } = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "20ms",
            "--duration",
            "1s",
            "--out",
        ])
        .arg(&out)
        .arg("--csv")
        .arg(&csv)
        .arg("--summary")
        .arg(&summary)
        .args(["--", &target(), "flat"])
        .assert()
        .success()
        .stderr("");
    let samples = lines(&out);
    assert!(
        (40..=52).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    assert!(
        samples
            .windows(2)
            .all(|w| w[0]["t_ns"].as_u64() < w[1]["t_ns"].as_u64())
    );
    assert!(
        samples
            .iter()
            .all(|s| s["rss_bytes"].as_u64().unwrap() > 0 && s["rss_anon_bytes"].is_u64())
    );
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        rows.lines().count(),
        samples.len() + 1,
        "header + one row per sample"
    );
    let s = read_json(&summary);
    assert_eq!(s["state"], "finished");
    assert_eq!(
        s["run"]["samples"].as_u64().unwrap() as usize,
        samples.len()
    );
    assert_eq!(s["run"]["ended"], "duration");
    let rate = s["run"]["achieved_rate_hz"].as_f64().unwrap();
    assert!((40.0..=52.0).contains(&rate), "rate {rate}");
    assert!(s["run"]["missed_ticks"].as_u64().unwrap() <= 2);
    assert!(
        s["sampler"]["cpu_user_ns"].is_u64() && s["sampler"]["rss_bytes"].as_u64().unwrap() > 0
    );
    assert!(s["peaks"]["rss_bytes"].as_u64().unwrap() >= 4 << 20);
    assert_eq!(
        s["target"]["exit"]["code"], 143,
        "stopped with SIGTERM at the end of --duration"
    );
    // Without --fail-if-growth the verdict is reported (at the default 5%), not enforced.
    assert_eq!(s["config"]["verdict_enforced"], false);
    assert_eq!(s["config"]["fail_if_growth"], serde_json::json!(["5%"]));
    assert_eq!(s["exit_code"], 0);
    assert!(
        s["verdict"]["kind"]["verdict"].is_string(),
        "{}",
        s["verdict"]
    );
    assert_eq!(
        s["verdict_input"]["proc_samples"].as_u64().unwrap() as usize,
        samples.len()
    );
    // Every figure carries when it was read: statm-derived ones at t_ns, status ones at
    // status_t_ns, at most 100 ms before (1 s on a system without swap).
    let swap = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("SwapTotal:") && !l.ends_with(" 0 kB"));
    let max_age = if swap { 100_000_000 } else { 1_000_000_000 };
    assert!(samples.iter().all(|s| {
        let (t, st) = (
            s["t_ns"].as_u64().unwrap(),
            s["status_t_ns"].as_u64().unwrap(),
        );
        st <= t && t - st <= max_age
    }));
    assert!(
        samples
            .iter()
            .any(|s| s["status_t_ns"] != samples[0]["status_t_ns"]),
        "status is read again"
    );
}

#[test]
fn target_exiting_mid_run_is_noted() {
    let Outputs {
        dir: _d, summary, ..
    } = outputs();
    let t = Instant::now();
    daemon()
        .args(["watch", "--quiet", "--duration", "20s", "--summary"])
        .arg(&summary)
        .args(["--", &target(), "flat", "--duration", "500ms"])
        .assert()
        .success();
    assert!(t.elapsed() < Duration::from_secs(5));
    let s = read_json(&summary);
    assert_eq!(s["run"]["ended"], "target_exited");
    assert_eq!(s["target"]["exit"]["code"], 0);
    let notes = s["notes"].to_string();
    assert!(
        notes.contains("before --duration 20.0 s: the summary covers what was collected"),
        "{notes}"
    );
    assert!(s["run"]["samples"].as_u64().unwrap() >= 3);
}

#[test]
fn attach_by_pid_never_signals_the_process() {
    let mut t = std::process::Command::new(target())
        .args(["flat", "--duration", "10s"])
        .spawn()
        .unwrap();
    let Outputs {
        dir: _d, summary, ..
    } = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "50ms",
            "--duration",
            "600ms",
            "--pid",
            &t.id().to_string(),
            "--summary",
        ])
        .arg(&summary)
        .assert()
        .success();
    assert!(t.try_wait().unwrap().is_none(), "still running");
    t.kill().unwrap();
    t.wait().unwrap();
    let s = read_json(&summary);
    assert_eq!(s["target"]["started_by_daemon"], false);
    assert!(s["run"]["samples"].as_u64().unwrap() >= 10);
}

#[test]
fn inconclusive_maps_to_exit_3_or_as_asked() {
    let run = |extra: &[&str]| {
        let mut c = daemon();
        c.args([
            "watch",
            "--quiet",
            "--interval",
            "100ms",
            "--duration",
            "300ms",
            "--fail-if-growth",
            "10%",
        ]);
        c.args(extra).args(["--", &target(), "flat"]);
        c.assert()
    };
    run(&[]).code(3);
    run(&["--inconclusive", "pass"]).code(0);
    run(&["--inconclusive", "fail"]).code(1);
}
