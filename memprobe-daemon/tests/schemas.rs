//! The committed JSON Schemas of the daemon's files (`schemas/` at the repository root) are the
//! ones the types generate, and what the daemon writes validates against them: the summary and
//! every JSONL line of a real `watch` of a child process (tree, PSS, published statistics and,
//! where the machine has one, the cgroup included), `verdict --summary` on that run, and
//! `compare --json` of real summaries and of real reports. Files with a wrong type, a missing
//! field, an unknown field or another version are rejected.

use assert_cmd::Command;
use memprobe::schema::FileSchema;
use memprobe_daemon::__schemas;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

memprobe::global_allocator!();

#[path = "../../memprobe/tests/support/schemas.rs"]
mod checks;

use checks::{assert_rejected, assert_valid};

fn daemon() -> Command {
    let mut cmd = Command::cargo_bin("memprobe-daemon").unwrap();
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

fn target() -> PathBuf {
    assert_cmd::cargo::cargo_bin("memprobe-soak-target")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    checks::check_committed(
        &__schemas::all(),
        "cargo test -p memprobe-daemon --test schemas",
    );
}

/// A real `watch` of `memprobe-soak-target plateau` with `extra` flags: (summary, lines), or
/// `None` when the daemon refused the flags with `skip_if` in its error.
fn watch(dir: &Path, name: &str, extra: &[&str], skip_if: &str) -> Option<(Value, Vec<Value>)> {
    let out = dir.join(format!("{name}.jsonl"));
    let summary = dir.join(format!("{name}.json"));
    let o = daemon()
        .args([
            "watch",
            "--quiet",
            "--interval",
            "50ms",
            "--duration",
            "1500ms",
        ])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg("--summary")
        .arg(&summary)
        .arg("--")
        .arg(target())
        .args(["plateau", "--rate", "8MiB", "--grow-for", "500ms"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    if !skip_if.is_empty() && stderr.contains(skip_if) {
        eprintln!("skipped the {name} run: {stderr}");
        return None;
    }
    assert!(o.status.success(), "{stderr}");
    Some((read_json(&summary), jsonl(&out)))
}

fn assert_lines_valid(lines: &[Value], what: &str) {
    let sample = __schemas::sample();
    assert!(lines.len() > 10, "{what}: {} lines", lines.len());
    for (i, line) in lines.iter().enumerate() {
        assert_valid(&sample, line, &format!("{what} line {}", i + 1));
    }
}

#[test]
fn a_real_watch_run_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, lines) = watch(
        dir.path(),
        "tree",
        &["--tree", "--pss-interval", "200ms", "--sites"],
        "",
    )
    .unwrap();
    assert_valid(&__schemas::summary(), &summary, "the watch summary");
    assert!(
        summary["verdict"].is_object()
            && summary["tree"].is_object()
            && summary["sites"].is_object(),
        "{summary:#}"
    );
    assert_lines_valid(&lines, "the --tree --pss-interval run");
    for part in ["tree", "procs", "pss", "published"] {
        assert!(
            lines.iter().any(|l| l.get(part).is_some()),
            "no line has `{part}`: the schema's optional part went unchecked"
        );
    }

    // The cgroup parts, where this machine has a memory cgroup.
    if let Some((summary, lines)) = watch(
        dir.path(),
        "cgroup",
        &["--cgroup", "auto"],
        "no memory cgroup found",
    ) {
        assert_valid(&__schemas::summary(), &summary, "the --cgroup summary");
        assert!(summary["cgroup"].is_object(), "{summary:#}");
        assert_lines_valid(&lines, "the --cgroup run");
        assert!(lines.iter().all(|l| l["cgroup"].is_object()));
    }

    // `verdict --summary` on the saved run.
    let verdict = dir.path().join("verdict.json");
    let o = daemon()
        .arg("verdict")
        .arg(dir.path().join("tree.jsonl"))
        .arg("--summary")
        .arg(&verdict)
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c != 2), "{o:?}");
    assert_valid(
        &__schemas::verdict_summary(),
        &read_json(&verdict),
        "the verdict summary",
    );

    // `compare --json` of two real summaries.
    let o = daemon()
        .args(["compare", "--json"])
        .arg(dir.path().join("tree.json"))
        .arg(dir.path().join("tree.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let compared: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid(
        &__schemas::compare(),
        &compared,
        "compare --json of summaries",
    );
    assert_eq!(compared["rows"].as_array().map(Vec::len), Some(1));
}

#[test]
fn compare_json_of_real_reports_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = (dir.path().join("base"), dir.path().join("new"));
    for (side, n) in [(&base, 100usize), (&new, 150)] {
        std::fs::create_dir_all(side).unwrap();
        for test in ["parse", "encode"] {
            let mut report = memprobe::measure(|| vec![0u8; n]).unwrap();
            report.name = Some(format!("scenarios::{test}"));
            std::fs::write(side.join(format!("{test}.json")), report.to_json()).unwrap();
        }
    }
    let o = daemon()
        .args(["compare", "--json", "--fail-if-growth", "10%"])
        .arg(&base)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let compared: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid(
        &__schemas::compare(),
        &compared,
        "compare --json of reports",
    );
    assert_eq!(compared["failed"], true);
}

fn schema_named(name: &str) -> FileSchema {
    __schemas::all()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
}

#[test]
fn invalid_files_are_rejected() {
    let line = json!({"t_ns": 1, "wall_ns": 2, "pid": 3, "rss_bytes": 4096,
        "rss_anon_bytes": null, "rss_file_bytes": null, "rss_shmem_bytes": null,
        "swap_bytes": null, "peak_rss_bytes": null, "virtual_bytes": null, "status_t_ns": null});
    let sample = schema_named("sample");
    assert_valid(&sample, &line, "a minimal line");
    let mut wrong = line.clone();
    wrong["rss_bytes"] = json!("4 KiB");
    assert_rejected(&sample, &wrong, "\"4 KiB\" is not of type \"integer\"");
    let mut missing = line.clone();
    missing.as_object_mut().unwrap().remove("t_ns");
    assert_rejected(&sample, &missing, "\"t_ns\" is a required property");
    let mut unknown = line;
    unknown["rss_mib"] = json!(4);
    assert_rejected(&sample, &unknown, "Additional properties");

    let summary = schema_named("summary");
    let version = summary.version;
    assert_rejected(
        &summary,
        &json!({"schema_version": version + 1}),
        &format!("{version} was expected"),
    );
    assert_rejected(
        &summary,
        &json!({"schema_version": version}),
        "\"verdict_input\" is a required property",
    );

    let compare = schema_named("compare");
    assert_rejected(
        &compare,
        &json!({"schema": "memprobe.report", "version": 1}),
        "\"memprobe.compare\" was expected",
    );
}
