//! Comparing `watch --summary` files of two soaks of the soak target.

use crate::support::*;

/// Watches `memprobe-soak-target leak --rate RATE` for 1 s; the summary's path.
pub fn watch_summary(dir: &Path, name: &str, rate: &str) -> PathBuf {
    let summary = dir.join(name);
    let target = assert_cmd::cargo::cargo_bin("memprobe-soak-target");
    Command::cargo_bin("memprobe-daemon")
        .unwrap()
        .args(["watch", "--quiet", "--duration", "1s", "--summary"])
        .arg(&summary)
        .arg("--")
        .arg(target)
        .args(["leak", "--rate", rate, "--duration", "3s"])
        .assert()
        .code(0);
    summary
}

#[test]
fn a_soak_that_leaks_faster_fails() {
    let dir = tempfile::tempdir().unwrap();
    let slow = watch_summary(dir.path(), "slow.json", "1MiB");
    let fast = watch_summary(dir.path(), "fast.json", "16MiB");
    let out = compare()
        .arg(&slow)
        .arg(&fast)
        .args(["--json", "--fail-if-growth", "100%"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "summary");
    let row = &json["rows"][0];
    // The two commands differ; one soak each, so they are paired.
    assert!(
        row["name"]
            .as_str()
            .unwrap()
            .contains("leak --rate 1MiB --duration 3s → memprobe-soak-target leak --rate 16MiB"),
        "{row}"
    );
    let net = row["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "net_bytes")
        .unwrap();
    // The published counting-allocator totals, exact: the base's figure is the summary's.
    let base = read_json(&slow);
    let counting = &base["published"]["counting"];
    assert_eq!(
        net["base"].as_i64().unwrap(),
        counting["alloc_bytes"].as_i64().unwrap() - counting["freed_bytes"].as_i64().unwrap()
    );
    assert_eq!(net["change"], "grew_past_threshold");
    // The same soak against itself: unchanged.
    compare()
        .arg(&slow)
        .arg(&slow)
        .args(["--fail-if-growth", "0"])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with(
            "0 of 1 soaks changed, 0 grew past 0 B\n",
        ));
}
