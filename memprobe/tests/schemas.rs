//! The committed JSON Schemas (`schemas/` at the repository root) are the ones the types
//! generate, and every file memprobe writes validates against its schema: reports written by
//! real `#[memprobe]` tests (this binary runs its own `#[ignore]`d tests below under a temporary
//! `MEMPROBE_HOME`), baselines blessed for real, and the examples' committed baselines. Files with
//! a wrong type, a missing field or another version are rejected. With the `sites` feature, an
//! allocation-site profile of a real session validates too (the counting allocator calls the
//! hooks of `memprobe::sites` itself).

use memprobe::baseline::{Baselines, Mode, Policy};
use memprobe::memprobe;
use memprobe::schema;
use serde_json::{Value, json};
use std::hint::black_box;
use std::path::{Path, PathBuf};

// With the `sites` feature the counting allocator calls the allocation-site hooks itself.
memprobe::global_allocator!();

#[path = "support/schemas.rs"]
mod checks;

use checks::{assert_rejected, assert_valid};

#[test]
fn committed_schemas_are_the_generated_ones() {
    checks::check_committed(
        &schema::all(),
        "cargo test -p memprobe --features json-schema,sites --test schemas",
    );
}

#[test]
fn every_schema_names_its_version() {
    for s in schema::all() {
        assert_eq!(s.schema["$id"], s.id(), "{}", s.name);
        assert!(
            s.id()
                .ends_with(&format!("/schemas/{}.v{}.schema.json", s.name, s.version)),
            "{}",
            s.id()
        );
        assert_eq!(
            s.schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            s.name
        );
    }
}

// The annotated functions whose reports are validated: run by
// `reports_written_by_annotated_tests_validate` in a child process.

#[memprobe]
#[test]
#[ignore = "writes a report: run by reports_written_by_annotated_tests_validate"]
fn writes_report_once() {
    black_box(vec![0u8; 100]);
}

#[memprobe(iters = 5, warmup = 2, purge)]
#[test]
#[ignore = "writes a report: run by reports_written_by_annotated_tests_validate"]
fn writes_report_iterations() {
    black_box(String::from("iteration"));
}

#[memprobe(scope = "process")]
#[test]
#[ignore = "writes a report: run by reports_written_by_annotated_tests_validate"]
fn writes_report_process_scope() {
    std::thread::spawn(|| black_box(vec![1u64; 16]))
        .join()
        .unwrap();
}

#[memprobe(max_allocs = 0)]
#[test]
#[ignore = "fails on purpose, its report has the first allocation's backtrace"]
fn writes_report_failing() {
    black_box(Box::new(1u32));
}

/// Every `*.json` file under `dir`.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    found
}

#[test]
fn reports_written_by_annotated_tests_validate() {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "writes_report_", "--test-threads=1"])
        .env("MEMPROBE_HOME", home.path())
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 passed; 1 failed"),
        "the four annotated tests ran (one fails on purpose): {stdout}"
    );
    let report_schema = schema::report();
    let files = json_files(home.path());
    assert_eq!(files.len(), 4, "one report per test: {files:?}");
    let mut seen_backtrace = false;
    let mut seen_outside = false;
    for file in &files {
        let value: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_valid(&report_schema, &value, &file.display().to_string());
        seen_backtrace |= value["first_alloc_backtrace"].is_string();
        seen_outside |= value["outside_alloc_count"].is_u64();
        assert!(value["source_line"].is_u64(), "{value:#}");
    }
    assert!(
        seen_backtrace && seen_outside,
        "the optional parts were exercised"
    );
}

/// A TOML baseline in its parsed form, as JSON.
fn parsed(path: &Path) -> Value {
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn baselines_blessed_for_real_validate() {
    let dir = tempfile::tempdir().unwrap();
    let baselines = Baselines::new(dir.path());
    let policy = Policy::new("10%").unwrap();
    let report = memprobe::measure_iters(memprobe::probe::Iterations::new(10), || {
        black_box(vec![0u8; 64])
    })
    .unwrap();
    baselines
        .check("jobs::create", &report, &policy, Mode::Local)
        .unwrap();
    assert_valid(
        &schema::baseline(),
        &parsed(&baselines.path("jobs::create")),
        "a baseline",
    );

    let fit = memprobe::Scaling::new([10, 20, 40])
        .item("job")
        .run(|n| vec![0u8; 100 * n as usize])
        .unwrap();
    fit.check_baseline(&baselines, "jobs::per_job", &policy, Mode::Local)
        .unwrap();
    let per_item: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".per_item.toml"))
        .collect();
    assert_eq!(per_item.len(), 1, "{per_item:?}");
    assert_valid(
        &schema::per_item_baseline(),
        &parsed(&per_item[0]),
        "a per-item baseline",
    );
}

#[test]
fn the_examples_committed_baselines_validate() {
    let dir = checks::schemas_dir().join("../examples/.memprobe/baselines/scenarios");
    let mut checked = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.display().to_string();
        if name.ends_with(".per_item.toml") {
            assert_valid(&schema::per_item_baseline(), &parsed(&path), &name);
            checked.1 += 1;
        } else if name.ends_with(".toml") {
            assert_valid(&schema::baseline(), &parsed(&path), &name);
            checked.0 += 1;
        }
    }
    assert!(
        checked.0 > 0 && checked.1 > 0,
        "{checked:?} in {}",
        dir.display()
    );
}

#[test]
fn invalid_files_are_rejected() {
    let report = memprobe::measure(|| black_box(vec![0u8; 8])).unwrap();
    let valid: Value = serde_json::from_str(&report.to_json()).unwrap();
    let s = schema::report();
    assert_valid(&s, &valid, "a measured report");

    let mut wrong_type = valid.clone();
    wrong_type["iterations"] = json!("ten");
    assert_rejected(&s, &wrong_type, "\"ten\" is not of type \"integer\"");
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("allocs");
    assert_rejected(&s, &missing, "\"allocs\" is a required property");
    let mut negative = valid.clone();
    negative["allocs"]["alloc_count"] = json!(-1);
    assert_rejected(&s, &negative, "-1 is less than the minimum of 0");
    let mut newer = valid.clone();
    newer["version"] = json!(memprobe::report::SCHEMA_VERSION + 1);
    assert_rejected(&s, &newer, "2 was expected");
    let mut other = valid;
    other["schema"] = json!("memprobe.compare");
    assert_rejected(&s, &other, "\"memprobe.report\" was expected");

    let baseline = json!({"format": 1, "name": "t", "iterations": 1, "allocations": 0,
        "alloc_bytes": 0, "peak_bytes": 0});
    assert_valid(&schema::baseline(), &baseline, "a minimal baseline");
    let mut extra = baseline.clone();
    extra["allocs"] = json!(1);
    assert_rejected(&schema::baseline(), &extra, "Additional properties");
    let mut no_peak = baseline;
    no_peak.as_object_mut().unwrap().remove("peak_bytes");
    assert_rejected(
        &schema::baseline(),
        &no_peak,
        "\"peak_bytes\" is a required property",
    );
}

#[cfg(feature = "sites")]
#[inline(never)]
fn sites_workload() -> Vec<Vec<u8>> {
    (0..10).map(|i| vec![0u8; 100 * (i + 1)]).collect()
}

#[cfg(feature = "sites")]
#[test]
fn site_profiles_of_a_real_session_validate() {
    use memprobe::sites::{Sampling, Session, render};
    let s = schema::sites();
    for sampling in [Sampling::Exact, Sampling::MeanBytes(256)] {
        let session = Session::start(sampling).unwrap();
        let kept = black_box(sites_workload());
        let profile = session.finish();
        drop(kept);
        let value: Value = serde_json::from_str(&render::json(&profile)).unwrap();
        assert!(
            value["sites"].as_array().is_some_and(|a| !a.is_empty()),
            "{value:#}"
        );
        assert!(
            value["total"]["live_bytes"].as_u64().unwrap() > 0,
            "{value:#}"
        );
        assert_valid(&s, &value, &format!("a {sampling:?} site profile"));
        let mut wrong = value.clone();
        wrong["total"]["alloc_bytes"] = json!(-5);
        assert_rejected(&s, &wrong, "-5 is less than the minimum of 0");
        let mut missing = value.clone();
        missing
            .as_object_mut()
            .unwrap()
            .remove("mean_interval_bytes");
        assert_rejected(
            &s,
            &missing,
            "\"mean_interval_bytes\" is a required property",
        );
        let mut site = value;
        site["sites"][0]["function"] = json!(7);
        assert_rejected(&s, &site, "7 is not of type \"string\"");
    }
}
