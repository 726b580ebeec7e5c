//! CI: GitHub annotations at the annotated test's source, and the markdown appended to
//! `$GITHUB_STEP_SUMMARY`.

use crate::support::*;

#[test]
fn annotations_point_at_the_test_and_the_step_summary_is_appended() {
    let runs = runs(8);
    let step_summary = runs.dir.path().join("step-summary.md");
    std::fs::write(&step_summary, "earlier step\n").unwrap();
    let out = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "10%"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 1, "only the failing test: {stdout}");
    let expected = format!(
        "::error file={},line={},title=memprobe compare::workload_buffers grew past --fail-if-growth 10%25 against {}: allocations +",
        file!().replace("github.rs", "main.rs"),
        line_of_fn("workload_buffers"),
        runs.base.display()
    );
    assert!(
        annotations[0].starts_with(&expected),
        "{}\nexpected {expected}",
        annotations[0]
    );
    let summary = std::fs::read_to_string(&step_summary).unwrap();
    assert!(
        summary.starts_with("earlier step\n### memprobe compare\n"),
        "{summary}"
    );
    assert!(summary.contains("❌ FAIL: grew past 10%"), "{summary}");
}

#[test]
fn github_flag_without_the_runner_and_nothing_when_passing() {
    let runs = runs(8);
    let step_summary = runs.dir.path().join("step-summary.md");
    // --github outside Actions: annotations, and the step summary when the variable is set;
    // with --json the annotations go to stderr, so stdout stays JSON.
    let out = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "10%", "--github", "--json"])
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON alone");
    assert_eq!(json["failed"], true);
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("::error file=")
    );
    assert!(step_summary.exists());
    // Without --github and outside Actions: no annotation, no step summary.
    let untouched = runs.dir.path().join("untouched.md");
    compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .args(["--fail-if-growth", "10%"])
        .env("GITHUB_STEP_SUMMARY", &untouched)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("::error").not());
    assert!(!untouched.exists());
    // Passing under Actions: the summary is written, no annotation.
    compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &untouched)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("::error").not());
    assert!(
        std::fs::read_to_string(&untouched)
            .unwrap()
            .contains("### memprobe compare")
    );
}
