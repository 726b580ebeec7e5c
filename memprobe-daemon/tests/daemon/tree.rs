use crate::support::*;

#[test]
fn children_are_followed_and_summed() {
    let Outputs {
        dir: _d,
        out,
        summary,
        ..
    } = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--tree",
            "--interval",
            "50ms",
            "--duration",
            "1500ms",
            "--out",
        ])
        .arg(&out)
        .arg("--summary")
        .arg(&summary)
        .args([
            "--",
            &target(),
            "fork",
            "--children",
            "2",
            "--child-mode",
            "flat",
            "--base",
            "8MiB",
        ])
        .assert()
        .success();
    let s = read_json(&summary);
    assert_eq!(s["tree"]["max_processes"], 3, "{}", s["tree"]);
    assert_eq!(s["tree"]["processes"].as_array().unwrap().len(), 2);
    let last = lines(&out).pop().unwrap();
    let procs = last["procs"].as_array().unwrap();
    assert_eq!(procs.len(), 2);
    let root_pid = last["pid"].as_u64().unwrap();
    assert!(procs.iter().all(|p| p["ppid"].as_u64() == Some(root_pid)));
    let sum: u64 = procs
        .iter()
        .map(|p| p["rss_bytes"].as_u64().unwrap())
        .sum::<u64>()
        + last["rss_bytes"].as_u64().unwrap();
    assert_eq!(last["tree"]["rss_bytes"].as_u64().unwrap(), sum);
    assert!(
        procs
            .iter()
            .all(|p| p["rss_anon_bytes"].as_u64().unwrap() >= 8 << 20)
    );
    assert!(s["tree"]["note"].as_str().unwrap().contains("over-counts"));
}
