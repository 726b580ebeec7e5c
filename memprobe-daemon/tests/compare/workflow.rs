//! The README's GitHub Actions workflow: parsed as YAML, and its `memprobe-daemon` steps (compare
//! with main, soak the service) run here as the shell commands they are, with the runner's
//! variables pointed at temporary files. The steps that build and run cargo are not re-run: the
//! report directories they produce are made by this binary's workloads instead, and the job's
//! `SERVICE` and `SOAK_DURATION` (the workflow's own knobs) name the soak target for 3 s.

use crate::support::*;
use yaml_rust2::{Yaml, YamlLoader};

/// The first `yaml` block of the README's `compare` section.
fn workflow() -> Yaml {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## Did my change make it worse? `compare`")
        .nth(1)
        .expect("the README has a compare section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the compare section shows a workflow");
    YamlLoader::load_from_str(block)
        .expect("the workflow is valid YAML")
        .remove(0)
}

#[test]
fn the_readme_workflow_runs_its_memprobe_steps() {
    let workflow = workflow();
    let job = &workflow["jobs"]["memory"];
    assert_eq!(job["runs-on"].as_str(), Some("ubuntu-latest"));
    assert!(
        job["env"]["SERVICE"].as_str().is_some() && job["env"]["SOAK_DURATION"].as_str().is_some()
    );
    let steps = job["steps"].as_vec().expect("steps");
    let memprobe_steps: Vec<(&str, &str)> = steps
        .iter()
        .filter_map(|s| Some((s["name"].as_str()?, s["run"].as_str()?)))
        .filter(|(_, run)| run.starts_with("memprobe-daemon "))
        .collect();
    let names: Vec<&str> = memprobe_steps.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["Compare with main", "Soak the service"]);
    // What the earlier steps leave: the reports of main and of the branch.
    let work = tempfile::tempdir().unwrap();
    let tests = ["workload_buffers", "workload_steady"];
    run_workloads(&work.path().join("memprobe-base"), 3, &tests);
    run_workloads(&work.path().join("memprobe-new"), 3, &tests);
    // The service: the soak target, flat.
    let service = work.path().join("service.sh");
    std::fs::write(
        &service,
        format!(
            "#!/bin/sh\nexec {} flat --base 4MiB\n",
            assert_cmd::cargo::cargo_bin("memprobe-soak-target").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &service,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let daemon = assert_cmd::cargo::cargo_bin("memprobe-daemon");
    let path = format!(
        "{}:{}",
        daemon.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let step_summary = work.path().join("step-summary.md");
    for (name, run) in memprobe_steps {
        let out = std::process::Command::new("bash")
            .args(["-e", "-c", run])
            .current_dir(work.path())
            .env("PATH", &path)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &step_summary)
            .env("GITHUB_WORKSPACE", work.path())
            .env("SERVICE", &service)
            .env("SOAK_DURATION", "3s")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "step {name:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let summary = std::fs::read_to_string(&step_summary).unwrap();
    assert!(
        summary.contains("0 of 2 tests changed, 0 grew past 10%"),
        "{summary}"
    );
    let soak = read_json(&work.path().join("soak.json"));
    assert_eq!(soak["verdict"]["kind"]["verdict"], "pass", "{soak:#}");
    assert!(work.path().join("soak.jsonl").is_file());
}
