//! Comparing report directories and files written by real `#[memprobe]` runs.

use crate::support::*;

/// The figures of `test` in a `--json` comparison.
fn figures<'a>(json: &'a Value, test: &str) -> &'a Vec<Value> {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == test)
        .unwrap_or_else(|| panic!("no row for {test}: {json:#}"))["figures"]
        .as_array()
        .unwrap()
}

fn figure<'a>(figures: &'a [Value], metric: &str) -> &'a Value {
    figures
        .iter()
        .find(|f| f["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} in {figures:?}"))
}

#[test]
fn json_carries_the_exact_figures_of_both_reports() {
    let runs = runs(8);
    let out = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "no threshold: report only");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "memprobe.compare");
    assert_eq!(json["kind"], "reports");
    let base = read_json(&report(&runs.base, "workload_buffers"));
    let new = read_json(&report(&runs.new, "workload_buffers"));
    let buffers = figures(&json, "workload_buffers");
    for (metric, field) in [
        ("alloc_bytes", "alloc_bytes"),
        ("peak_bytes", "peak_bytes"),
        ("net_bytes", "net_bytes"),
    ] {
        let f = figure(buffers, metric);
        let (b, n) = (&base["allocs"][field], &new["allocs"][field]);
        assert_eq!((&f["base"], &f["new"]), (b, n), "{metric}");
        assert_eq!(
            f["delta"].as_i64().unwrap(),
            n.as_i64().unwrap() - b.as_i64().unwrap(),
            "{metric}"
        );
    }
    // 8 buffers of 1 KiB instead of 1: 7 more allocations (the Vec of buffers grows once more or
    // less, so at least 7), 7 KiB more bytes at least, exactly compared.
    let allocations = figure(buffers, "allocations");
    assert!(allocations["delta"].as_i64().unwrap() >= 7, "{allocations}");
    assert_eq!(figure(buffers, "alloc_bytes")["change"], "increased");
    assert!(figure(buffers, "alloc_bytes")["delta"].as_i64().unwrap() >= 7 * 1024);
    // The steady workload is identical, per iteration too; RSS is left out without --include-rss.
    let steady = figures(&json, "workload_steady");
    assert!(steady.iter().all(|f| f["change"] == "same"), "{steady:?}");
    assert_eq!(figure(steady, "allocations_per_iteration")["base"], 1.0);
    assert!(
        !json.to_string().contains("rss_growth_bytes"),
        "RSS only with --include-rss"
    );
    // Largest regression first; tests on one side only are listed apart.
    assert_eq!(json["rows"][0]["name"], "workload_buffers");
    assert_eq!(json["added"][0]["name"], "workload_added");
    assert_eq!(json["removed"][0]["name"], "workload_retired");
    assert_eq!(json["failed"], false);
    // A side given as the report directory pairs with one given as a package directory in it.
    let out = compare()
        .arg(runs.base.parent().unwrap())
        .arg(&runs.new)
        .arg("--json")
        .output()
        .unwrap();
    let mixed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(mixed["rows"], json["rows"]);
}

#[test]
fn fail_if_growth_exits_1_past_every_threshold_and_0_within() {
    let runs = runs(8);
    let table = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "10%"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    assert!(!table.contains('\x1b'), "no colour when stdout is a pipe");
    assert!(table.contains("FAIL: grew past 10%"), "{table}");
    assert!(table.contains("workload_buffers"), "{table}");
    assert!(table.contains("new in NEW: workload_added"), "{table}");
    assert!(table.contains("gone from NEW: workload_retired"), "{table}");
    assert!(table.contains("1 unchanged"), "{table}");
    assert!(
        table.ends_with("1 of 2 tests changed, 1 grew past 10%, 1 new, 1 gone\n"),
        "{table}"
    );
    // Past 10% but not past 1 GiB: every threshold has to be exceeded.
    compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "10%,1GiB"])
        .assert()
        .code(0);
    // A size threshold under the growth (7 KiB and more): fails on bytes.
    compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "1KiB"])
        .assert()
        .code(1);
    // Shrinking is never a failure: NEW as the base.
    compare()
        .arg(&runs.new)
        .arg(&runs.base)
        .args(["--fail-if-growth", "0"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("smaller"));
}

#[test]
fn identical_runs_are_unchanged_even_at_a_zero_threshold() {
    let runs = runs(1);
    compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "0", "--markdown"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "0 of 2 tests changed, 0 grew past 0 B, 1 new, 1 gone.",
        ))
        .stdout(predicate::str::contains(
            "New in NEW:\n\n- `workload_added`",
        ));
}

#[test]
fn markdown_and_single_report_files() {
    let runs = runs(4);
    let md = compare()
        .arg(report(&runs.base, "workload_buffers"))
        .arg(report(&runs.new, "workload_buffers"))
        .args(["--markdown", "--fail-if-growth", "50%"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8(md).unwrap();
    assert!(md.starts_with("### memprobe compare\n"), "{md}");
    assert!(
        md.contains("| test | figure | BASE | NEW | change | |\n|---|---|---:|---:|---:|---|\n"),
        "{md}"
    );
    assert!(md.contains("| `workload_buffers` | allocations |"), "{md}");
    assert!(md.contains("❌ FAIL: grew past 50%"), "{md}");
}

#[test]
fn rss_is_compared_only_on_request_and_within_noise_is_noise() {
    let runs = runs(1);
    let out = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args([
            "--json",
            "--include-rss",
            "--rss-noise",
            "1GiB",
            "--fail-if-growth",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steady = figures(&json, "workload_steady");
    let rss = figure(steady, "rss_growth_bytes");
    assert!(
        rss["change"] == "same" || rss["change"] == "noise",
        "RSS changes within 1 GiB are noise: {rss}"
    );
    assert_eq!(json["settings"]["include_rss"], true);
}

#[test]
fn version_1_reports_still_read() {
    let runs = runs(1);
    // A report as memprobe wrote it before source locations: version 1, no location fields.
    let file = report(&runs.base, "workload_buffers");
    let mut old = read_json(&file);
    assert_eq!(old["version"], 2);
    assert!(old["source_file"].as_str().unwrap().ends_with("main.rs"));
    old["version"] = 1.into();
    let object = old.as_object_mut().unwrap();
    object.remove("source_file");
    object.remove("source_line");
    std::fs::write(&file, serde_json::to_string(&old).unwrap()).unwrap();
    compare()
        .arg(&file)
        .arg(report(&runs.new, "workload_buffers"))
        .args(["--fail-if-growth", "0"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 of 1 tests changed"));
}

#[test]
fn cargo_memprobe_is_the_same_command() {
    let runs = runs(8);
    let direct = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--json", "--fail-if-growth", "10%"])
        .output()
        .unwrap();
    // As cargo runs it: `cargo-memprobe memprobe compare ...`.
    let via_cargo = Command::cargo_bin("cargo-memprobe")
        .unwrap()
        .env_remove("GITHUB_ACTIONS")
        .args(["memprobe", "compare"])
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--json", "--fail-if-growth", "10%"])
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(1));
    assert_eq!(via_cargo.status.code(), Some(1));
    assert_eq!(direct.stdout, via_cargo.stdout);
    // Errors name the front they came through.
    Command::cargo_bin("cargo-memprobe")
        .unwrap()
        .args(["memprobe", "compare", "/nonexistent", "/nonexistent"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "cargo memprobe: BASE /nonexistent:",
        ));
}

#[test]
fn same_named_tests_of_two_test_crates_stay_apart() {
    let runs = runs(8);
    // A second package whose test crate has tests of the same names (report names leave out the
    // crate): compare the homes, which hold both packages.
    for dir in [&runs.base, &runs.new] {
        let twin = dir.with_file_name("twin-package");
        std::fs::create_dir(&twin).unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), twin.join(entry.file_name())).unwrap();
        }
    }
    let out = compare()
        .arg(runs.base.parent().unwrap())
        .arg(runs.new.parent().unwrap())
        .args(["--json", "--fail-if-growth", "10%"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "memprobe-daemon/compare.workload_buffers",
            "twin-package/compare.workload_buffers",
            "memprobe-daemon/compare.workload_steady",
            "twin-package/compare.workload_steady"
        ]
    );
}
