//! The trend engine's verdict on real processes, end to end, and `verdict FILE.jsonl`
//! re-judging each saved run to the very same verdict.
use crate::support::*;

struct Run {
    code: i32,
    summary: Value,
    stderr: String,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    fn verdict(&self) -> &Value {
        &self.summary["verdict"]
    }
}

/// Watches `memprobe-soak-target MODE...` for 4 s at 20 Hz: the published record is refreshed
/// at ≤ 10 Hz, so ~30 published samples, enough after a warm-up for the engine's 20.
fn watch(args: &[&str], mode: &[&str]) -> Run {
    let Outputs {
        dir: d,
        out,
        summary,
        ..
    } = outputs();
    let o = daemon()
        .args([
            "watch",
            "--interval",
            "50ms",
            "--duration",
            "4s",
            "--summary",
        ])
        .arg(&summary)
        .arg("--out")
        .arg(&out)
        .args(args)
        .arg("--")
        .arg(target())
        .args(mode)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap(),
        summary: read_json(&summary),
        stderr: String::from_utf8(o.stderr).unwrap(),
        out,
        _dir: d,
    }
}

/// `verdict` on the run's JSONL with `args`: its exit code, stdout, and --summary JSON.
fn rejudge(run: &Run, args: &[&str]) -> (i32, String, Value) {
    let summary = run.out.with_extension("verdict.json");
    let o = daemon()
        .arg("verdict")
        .arg(&run.out)
        .args(args)
        .arg("--summary")
        .arg(&summary)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
        read_json(&summary),
    )
}

/// The re-judged verdict is the one `watch` gave, figure for figure.
fn rejudged_identically(run: &Run, args: &[&str]) {
    let (code, stdout, s) = rejudge(run, args);
    assert_eq!(code, run.code);
    assert_eq!(&s["verdict"], run.verdict());
    assert_eq!(s["verdict_input"], run.summary["verdict_input"]);
    let kind = run.verdict()["kind"]["verdict"].as_str().unwrap();
    let sentence = run.verdict()["summary"].as_str().unwrap();
    assert_eq!(stdout, format!("{kind} (exit {code}): {sentence}\n"));
}

#[test]
fn leak_is_growth_and_rejudged_the_same() {
    let args = ["--fail-if-growth", "10%"];
    let run = watch(&args, &["leak", "--rate", "16MiB"]);
    let v = run.verdict();
    assert_eq!(run.code, 1, "{v}");
    assert_eq!(v["kind"]["verdict"], "growth");
    assert_eq!(
        v["evidence"]["series"], "jemalloc_allocated",
        "auto picks the published series"
    );
    // The process marks an iteration per 50 ms step: the slope is per iteration, and its
    // conversion to time agrees with the 16 MiB/s the process leaks.
    assert_eq!(v["evidence"]["axis"], "iterations");
    let per_sec = v["evidence"]["slope_per_sec"]["value"].as_f64().unwrap();
    assert!(
        (10e6..24e6).contains(&per_sec),
        "{per_sec} B/s for a 16 MiB/s leak"
    );
    let sentence = v["summary"].as_str().unwrap();
    assert!(
        sentence.starts_with("jemalloc allocated grows ")
            && sentence.contains("above the 10% threshold"),
        "{sentence}"
    );
    assert_eq!(run.summary["exit_code"], 1);
    assert!(
        run.stderr
            .ends_with(&format!("memprobe-daemon: growth (exit 1): {sentence}\n")),
        "{}",
        run.stderr
    );
    rejudged_identically(&run, &args);
    // Re-judged with other flags: a threshold above the growth passes.
    let (code, stdout, _) = rejudge(&run, &["--fail-if-growth", "10%,1GiB"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("pass (exit 0): "), "{stdout}");
}

#[test]
fn leak_on_rss_exits_1() {
    let run = watch(
        &["--fail-if-growth", "4MiB", "--series", "rss", "--quiet"],
        &["leak", "--rate", "16MiB"],
    );
    let v = run.verdict();
    assert_eq!(run.code, 1, "{v}");
    assert_eq!(v["kind"]["verdict"], "growth");
    assert_eq!(v["evidence"]["series"], "rss");
    assert!(
        v["summary"].as_str().unwrap().starts_with("RSS grows "),
        "{v}"
    );
    assert_eq!(run.stderr, "", "--quiet");
}

#[test]
fn flat_exits_0() {
    let args = ["--fail-if-growth", "10%", "--series", "anon"];
    let run = watch(&args, &["flat", "--base", "16MiB"]);
    let v = run.verdict();
    assert_eq!(run.code, 0, "{v}");
    assert_eq!(v["kind"]["verdict"], "pass");
    assert_eq!(v["evidence"]["series"], "rss_anon_plus_swap");
    rejudged_identically(&run, &args);
}

#[test]
fn plateau_after_warmup_passes_and_rejudged_the_same() {
    let args = ["--fail-if-growth", "10%", "--warmup", "1s"];
    let run = watch(
        &args,
        &["plateau", "--grow-for", "700ms", "--rate", "32MiB"],
    );
    let v = run.verdict();
    assert_eq!(run.code, 0, "{v}");
    assert_eq!(v["kind"]["verdict"], "pass", "{v}");
    assert_eq!(v["evidence"]["series"], "jemalloc_allocated");
    // Judged after the warm-up: the 22 MiB grown during it do not count.
    let used = v["evidence"]["samples_used"].as_u64().unwrap();
    assert!(
        (20..=31).contains(&used),
        "{used} published samples after a 1 s warm-up of 4 s"
    );
    rejudged_identically(&run, &args);
    // Re-judged on RSS with no warm-up at all, the 0.7 s of growth are still no leak: the
    // robust slope over the 4 s is flat.
    let (code, stdout, s) = rejudge(
        &run,
        &[
            "--fail-if-growth",
            "10%",
            "--warmup",
            "none",
            "--series",
            "rss",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(s["verdict"]["evidence"]["series"], "rss");
    assert_eq!(s["verdict"]["evidence"]["warmup_dropped"], 0);
}
