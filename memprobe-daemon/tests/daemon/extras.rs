use crate::support::*;

#[test]
fn pss_walks_are_taken_at_their_own_interval() {
    let Outputs {
        dir: _d, summary, ..
    } = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "20ms",
            "--pss-interval",
            "200ms",
            "--duration",
            "1s",
            "--summary",
        ])
        .arg(&summary)
        .args(["--", &target(), "flat", "--base", "8MiB"])
        .assert()
        .success();
    let s = read_json(&summary);
    let walks = s["pss"]["walks"].as_u64().unwrap();
    assert!((4..=6).contains(&walks), "{walks} walks");
    assert!(s["pss"]["last"]["uss_bytes"].as_u64().unwrap() >= 8 << 20);
}

#[test]
fn published_stats_arrive_and_agree_with_the_process() {
    let d = dir();
    let (summary, report) = (d.path().join("s.json"), d.path().join("report"));
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "50ms",
            "--duration",
            "1200ms",
            "--summary",
        ])
        .arg(&summary)
        .args(["--", &target(), "flat", "--base", "24MiB", "--report"])
        .arg(&report)
        .assert()
        .success();
    let s = read_json(&summary);
    let published = &s["published"];
    let allocated = published["jemalloc"]["allocated_bytes"].as_u64().unwrap();
    let own: u64 = std::fs::read_to_string(&report)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let diff = allocated.abs_diff(own);
    assert!(
        diff < 256 << 10,
        "daemon saw {allocated}, the process read {own}"
    );
    assert!(allocated >= 24 << 20);
    assert!(published["counting"]["alloc_count"].as_u64().unwrap() > 0);
    assert!(published["iteration"].as_u64().unwrap() >= 10);
    assert_eq!(published["phase"], "steady");
    assert_eq!(
        published["purge_done"], 1,
        "purged on request before the final sample"
    );
    assert!(
        s["notes"]
            .to_string()
            .contains("jemalloc purged on request")
    );
}

/// The watched process is a shell; its child inherits MEMPROBE_PUBLISH and creates the record.
/// Its figures are not the shell's: the daemon refuses them (by the record's pid) with a note.
#[test]
fn a_descendants_record_is_not_reported_as_the_watched_process() {
    let d = dir();
    let summary = d.path().join("s.json");
    daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "50ms",
            "--duration",
            "1200ms",
            "--summary",
        ])
        .arg(&summary)
        // `; true` keeps the shell from exec'ing the target in its place.
        .args(["--", "sh", "-c", "\"$0\" flat --base 4MiB; true"])
        .arg(target())
        .assert()
        .success();
    let s = read_json(&summary);
    assert!(
        s["published"].is_null(),
        "a descendant's record reported as the shell's: {}",
        s["published"]
    );
    let notes = s["notes"].to_string();
    assert!(
        notes.contains("published figures ignored") && notes.contains("not the watched process"),
        "{notes}"
    );
}

#[test]
fn phase_reset_resets_the_peak() {
    let Outputs {
        dir: _d, summary, ..
    } = outputs();
    daemon()
        .args([
            "watch",
            "--quiet",
            "--phase-reset",
            "--warmup",
            "300ms",
            "--interval",
            "50ms",
            "--duration",
            "1s",
            "--summary",
        ])
        .arg(&summary)
        .args(["--", &target(), "flat", "--grow-for", "200ms"])
        .assert()
        .success();
    let s = read_json(&summary);
    // End of warm-up, plus the published phases "grow" and "steady".
    assert!(
        s["peak_resets"].as_u64().unwrap() >= 2,
        "{}",
        s["peak_resets"]
    );
    assert!(
        s["phases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "steady")
    );
}
