//! Bad input: one line that says what and how to fix it, exit 2, never a crash.

use crate::support::*;

/// Runs `compare BASE NEW` and returns its stderr, checking exit 2, one line, no panic.
fn refused(base: &Path, new: &Path, extra: &[&str]) -> String {
    let out = compare().arg(base).arg(new).args(extra).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn a_directory_without_reports() {
    let runs = runs(1);
    let empty = runs.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    // Other JSON is not a report; it does not count as one.
    std::fs::write(empty.join("package.json"), "{\"name\": \"x\"}").unwrap();
    let e = refused(&runs.base, &empty, &[]);
    assert!(
        e.starts_with(&format!(
            "memprobe-daemon: NEW {}: no memprobe reports in this directory",
            empty.display()
        )),
        "{e}"
    );
    assert!(
        e.contains("run the #[memprobe] tests first (`cargo test`)"),
        "{e}"
    );
}

#[test]
fn a_missing_path() {
    let runs = runs(1);
    let e = refused(&runs.dir.path().join("nope"), &runs.new, &[]);
    assert!(
        e.contains("BASE") && e.contains("No such file or directory"),
        "{e}"
    );
    assert!(e.contains("give a directory of reports"), "{e}");
}

#[test]
fn a_truncated_report() {
    let runs = runs(1);
    let file = report(&runs.new, "workload_steady");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let e = refused(&runs.base, &runs.new, &[]);
    assert!(
        e.contains(&format!("NEW {}: truncated JSON", file.display())),
        "{e}"
    );
    assert!(e.contains("re-run what wrote it"), "{e}");
}

#[test]
fn a_report_of_a_newer_schema_version() {
    let runs = runs(1);
    let file = report(&runs.new, "workload_steady");
    let mut json = read_json(&file);
    json["version"] = 99.into();
    std::fs::write(&file, json.to_string()).unwrap();
    let e = refused(&runs.base, &runs.new, &[]);
    assert!(
        e.contains(&format!(
            "NEW {}: report schema version 99 is newer than this memprobe-daemon reads (up to 2)",
            file.display()
        )),
        "{e}"
    );
}

#[test]
fn a_summary_against_test_reports() {
    let runs = runs(1);
    let summary = crate::summaries::watch_summary(runs.dir.path(), "s.json", "1MiB");
    let e = refused(&runs.base, &summary, &[]);
    assert!(
        e.contains("is test reports but NEW") && e.contains("is a watch summary"),
        "{e}"
    );
    assert!(e.contains("compare test reports with test reports"), "{e}");
    // And a summary inside a report directory.
    std::fs::copy(&summary, runs.new.join("summary.json")).unwrap();
    let e = refused(&runs.base, &runs.new, &[]);
    assert!(
        e.contains("a watch summary inside a directory of test reports"),
        "{e}"
    );
}

#[test]
fn a_foreign_file_and_a_bad_threshold() {
    let runs = runs(1);
    let foreign = runs.dir.path().join("foreign.json");
    std::fs::write(&foreign, "{\"schema\": \"other\"}").unwrap();
    let e = refused(
        &runs.base.join("compare.workload_steady.json"),
        &foreign,
        &[],
    );
    assert!(e.contains("not a memprobe report"), "{e}");
    let e = refused(&runs.base, &runs.new, &["--fail-if-growth", "lots"]);
    assert!(
        e.starts_with("memprobe-daemon: --fail-if-growth: invalid size or percentage \"lots\""),
        "{e}"
    );
    let e = refused(&runs.base, &runs.new, &["--rss-noise", "5"]);
    assert!(
        e.contains("--rss-noise") && e.contains("write `5%` (relative) or `5B` (bytes)"),
        "{e}"
    );
}
