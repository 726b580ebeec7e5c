//! Per-site deltas, on allocation-site profiles written by real runs of `workload_sites` (BASE of
//! size 1, NEW of size 2: `site_grow` allocates twice as much, `site_keep` leaks twice as much,
//! `site_retired` is gone and `site_added` new): two profiles compared by themselves, and report
//! directories whose reports carry a profile beside them. `compare --json` validates against
//! the committed compare schema.

use crate::support::*;

#[path = "../../../memprobe/tests/support/schemas.rs"]
#[allow(dead_code)]
mod checks;

/// BASE and NEW report directories with `workload_sites` (and `workload_steady`) run, BASE
/// sampled as `base_sampling`, NEW as `new_sampling`.
fn site_runs(base_sampling: &str, new_sampling: &str) -> Runs {
    let dir = tempfile::tempdir().unwrap();
    let tests = ["workload_sites", "workload_steady"];
    let base = run_workloads_sampled(&dir.path().join("base"), 1, base_sampling, &tests);
    let new = run_workloads_sampled(&dir.path().join("new"), 2, new_sampling, &tests);
    Runs { dir, base, new }
}

fn profile(dir: &Path) -> PathBuf {
    dir.join("compare.measured_sites.sites.json")
}

fn json_of(base: &Path, new: &Path, extra: &[&str]) -> (Value, i32) {
    let out = compare()
        .arg(base)
        .arg(new)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    checks::assert_valid(
        &memprobe_daemon::__schemas::compare(),
        &json,
        "compare --json of site profiles",
    );
    (json, out.status.code().unwrap())
}

/// The site whose function ends with `name`, among `list`.
fn site<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["function"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} in {list:#}"))
}

fn figure<'a>(site: &'a Value, metric: &str) -> &'a Value {
    site["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == metric)
        .unwrap()
}

#[test]
fn two_profiles_per_site_with_new_and_gone_apart() {
    let runs = site_runs("exact", "exact");
    let (json, code) = json_of(&profile(&runs.base), &profile(&runs.new), &[]);
    assert_eq!(code, 0, "no threshold: report only");
    assert_eq!(json["kind"], "sites");
    let d = &json["rows"][0]["sites"];
    assert_eq!(d["mean_interval_bytes"], serde_json::json!([0, 0]));
    assert_eq!(d["sampling_differs"], false);
    // Largest growth first: the doubled function.
    assert!(
        d["sites"][0]["function"]
            .as_str()
            .unwrap()
            .ends_with("site_grow"),
        "{d:#}"
    );
    let grow = site(&d["sites"], "site_grow");
    let bytes = figure(grow, "alloc_bytes");
    assert_eq!(
        (
            &bytes["base"],
            &bytes["new"],
            &bytes["delta"],
            &bytes["relative"]
        ),
        (
            &Value::from(100_000),
            &Value::from(200_000),
            &Value::from(100_000),
            &Value::from(1.0)
        ),
        "{grow:#}"
    );
    assert_eq!(figure(grow, "allocations")["delta"], 100);
    assert_eq!(figure(grow, "live_bytes")["delta"], 0);
    let keep = site(&d["sites"], "site_keep");
    assert_eq!(figure(keep, "live_bytes")["base"], 4096);
    assert_eq!(figure(keep, "live_bytes")["delta"], 4096);
    let steady = site(&d["sites"], "site_steady");
    assert_eq!(figure(steady, "alloc_bytes")["change"], "same");
    assert_eq!(site(&d["added"], "site_added")["alloc_bytes"], 7000);
    assert_eq!(site(&d["removed"], "site_retired")["alloc_bytes"], 3000);
    // The profile's totals are the row's figures: exact, so their change is the sum of the
    // sites' changes, new sites counted in and gone ones out.
    let total = figure(&json["rows"][0], "alloc_bytes");
    let sum = |list: &Value, f: &dyn Fn(&Value) -> i64| -> i64 {
        list.as_array().unwrap().iter().map(f).sum()
    };
    let by_site = sum(&d["sites"], &|s| {
        figure(s, "alloc_bytes")["delta"].as_i64().unwrap()
    }) + sum(&d["added"], &|s| s["alloc_bytes"].as_i64().unwrap())
        - sum(&d["removed"], &|s| s["alloc_bytes"].as_i64().unwrap());
    assert_eq!(total["delta"].as_i64().unwrap(), by_site, "{total:#}");

    let text = compare()
        .arg(profile(&runs.base))
        .arg(profile(&runs.new))
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("site_grow"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("97.7 KiB") && line.contains("195.3 KiB") && line.contains("(+100.0%)"),
        "{line}"
    );
    assert!(text.contains("sites (exact)"), "{text}");
    assert!(
        text.contains("new in NEW: compare::site_added (6.8 KiB, 1 allocations, 0 B live)"),
        "{text}"
    );
    assert!(
        text.contains("gone from NEW: compare::site_retired"),
        "{text}"
    );
    let markdown = compare()
        .arg(profile(&runs.base))
        .arg(profile(&runs.new))
        .arg("--markdown")
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(markdown.contains("#### Sites"), "{markdown}");
    assert!(
        markdown.contains("| `compare::site_grow` | 97.7 KiB | 195.3 KiB |"),
        "{markdown}"
    );
}

#[test]
fn fail_if_growth_gates_the_total_and_each_sites_bytes() {
    let runs = site_runs("exact", "exact");
    let (base, new) = (profile(&runs.base), profile(&runs.new));
    let (json, code) = json_of(&base, &new, &["--fail-if-growth", "50%"]);
    assert_eq!(code, 1);
    let d = &json["rows"][0]["sites"];
    assert_eq!(
        figure(site(&d["sites"], "site_grow"), "alloc_bytes")["change"],
        "grew_past_threshold"
    );
    assert_eq!(site(&d["sites"], "site_grow")["failed"], true);
    // Counts and live bytes are reported, not gated: site_keep's live bytes doubled.
    assert_eq!(
        figure(site(&d["sites"], "site_keep"), "live_bytes")["change"],
        "increased"
    );
    // 100 KB of growth is under a 1 MiB threshold: every threshold has to be exceeded.
    let (_, code) = json_of(&base, &new, &["--fail-if-growth", "50%,1MiB"]);
    assert_eq!(code, 0);
    let out = compare()
        .arg(&base)
        .arg(&new)
        .args(["--fail-if-growth", "50%", "--github"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // `%` is escaped as the runner requires.
    assert!(
        text.contains("site compare::site_grow bytes +97.7 KiB (+100.0%25)"),
        "{text}"
    );
}

#[test]
fn different_sampling_rates_are_compared_and_marked() {
    let runs = site_runs("exact", "4096");
    let (json, code) = json_of(&profile(&runs.base), &profile(&runs.new), &[]);
    assert_eq!(code, 0);
    let d = &json["rows"][0]["sites"];
    assert_eq!(d["mean_interval_bytes"], serde_json::json!([0, 4096]));
    assert_eq!(d["sampling_differs"], true);
    // The doubled function is still found, estimated: 200 blocks of 1000 B at one sample per
    // 4 KiB. Each block is sampled with p = 1 - e^(-1000/4096) and weighs 1000/p, so the
    // estimate's standard deviation is sqrt(200 p (1 - p)) x 1000/p, about 27 kB: within 5 of
    // them (a 2.25-sigma bound failed one run in about 40: 263 kB was seen).
    let grow = figure(site(&d["sites"], "site_grow"), "alloc_bytes");
    let new = grow["new"].as_f64().unwrap();
    let p = 1.0 - (-1000.0f64 / 4096.0).exp();
    let sigma = (200.0 * p * (1.0 - p)).sqrt() * 1000.0 / p;
    assert!(
        (new - 200_000.0).abs() < 5.0 * sigma,
        "sigma {sigma:.0}: {grow:#}"
    );
    let text = compare()
        .arg(profile(&runs.base))
        .arg(profile(&runs.new))
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(
            "sampled at different rates (BASE exact, NEW one sample per 4.0 KiB on average)"
        ),
        "{text}"
    );
}

#[test]
fn report_directories_gain_each_tests_top_sites() {
    let runs = site_runs("exact", "exact");
    let (json, code) = json_of(&runs.base, &runs.new, &["--fail-if-growth", "10%"]);
    let rows = json["rows"].as_array().unwrap();
    let sited = rows
        .iter()
        .find(|r| r["name"].as_str().unwrap().ends_with("measured_sites"))
        .unwrap();
    let d = &sited["sites"];
    assert!(site(&d["sites"], "site_grow")["figures"].is_array());
    // In a report directory a test's exact figures gate it; its sites only explain them.
    assert_eq!(site(&d["sites"], "site_grow")["failed"], false);
    assert_eq!(code, i32::from(sited["failed"] == true));
    let steady = rows
        .iter()
        .find(|r| r["name"].as_str().unwrap().ends_with("workload_steady"))
        .unwrap();
    assert!(steady.get("sites").is_none(), "no profile, no sites");

    let markdown = compare()
        .arg(&runs.base)
        .arg(&runs.new)
        .arg("--markdown")
        .output()
        .unwrap();
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    let start = markdown
        .find("<details><summary>Sites of <code>")
        .unwrap_or_else(|| panic!("{markdown}"));
    let block = &markdown[start..markdown[start..].find("</details>").unwrap() + start];
    assert!(block.contains("measured_sites</code>"), "{block}");
    assert!(
        block.contains("| `compare::site_grow` | 97.7 KiB | 195.3 KiB |"),
        "{block}"
    );
    assert!(block.contains("- `compare::site_added (6.8 KiB"), "{block}");

    let text = compare().arg(&runs.base).arg(&runs.new).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("sites of ") && text.contains("site_grow"),
        "{text}"
    );
    // The pprof file beside the profile is not read as a report.
    assert!(
        runs.new
            .join("compare.measured_sites.sites.pb.gz")
            .is_file()
    );
    // A single report takes the profile beside it too.
    let (json, _) = json_of(
        &report(&runs.base, "measured_sites"),
        &report(&runs.new, "measured_sites"),
        &[],
    );
    assert!(json["rows"][0]["sites"]["sites"].is_array(), "{json:#}");
}

#[test]
fn top_ten_in_the_table_all_in_json() {
    // Two profiles of eleven growing sites, derived from a real one (site names renamed): the
    // table of a report directory shows ten, the JSON all.
    let runs = site_runs("exact", "exact");
    for dir in [&runs.base, &runs.new] {
        let path = profile(dir);
        let mut p = read_json(&path);
        let grow = site(&p["sites"], "site_grow").clone();
        let sites = p["sites"].as_array_mut().unwrap();
        for i in 0..11 {
            let mut copy = grow.clone();
            copy["function"] = format!("compare::copy_{i:02}").into();
            sites.push(copy);
        }
        std::fs::write(&path, p.to_string()).unwrap();
    }
    let (json, _) = json_of(&runs.base, &runs.new, &[]);
    let sited = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sites"].is_object())
        .unwrap();
    let copies = sited["sites"]["sites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["function"].as_str().unwrap().contains("copy_"))
        .count();
    assert_eq!(copies, 11);
    let text = compare().arg(&runs.base).arg(&runs.new).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("top 10 by growth"), "{text}");
    assert!(
        text.contains("more changed sites (all in --json)"),
        "{text}"
    );
    let shown = text
        .lines()
        .filter(|l| l.contains("compare::copy_"))
        .count();
    assert!(shown < 11, "{text}");
}

/// Runs `compare BASE NEW` and returns its stderr, checking exit 2, one line, no panic.
fn refused(base: &Path, new: &Path) -> String {
    let out = compare().arg(base).arg(new).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_site_profiles_are_one_line_exit_2() {
    let runs = site_runs("exact", "exact");
    let (base, new) = (profile(&runs.base), profile(&runs.new));
    // A site profile against a test report.
    let e = refused(&base, &report(&runs.new, "measured_sites"));
    assert!(
        e.contains("is an allocation-site profile but NEW") && e.contains("is test reports"),
        "{e}"
    );
    assert!(
        e.contains("a site profile (.sites.json) with a site profile"),
        "{e}"
    );
    // A truncated profile, by itself and beside its report.
    let text = std::fs::read_to_string(&new).unwrap();
    std::fs::write(&new, &text[..text.len() / 2]).unwrap();
    let e = refused(&base, &new);
    assert!(
        e.contains(&format!("NEW {}: truncated JSON", new.display())),
        "{e}"
    );
    let e = refused(&runs.base, &runs.new);
    assert!(
        e.contains(&format!("NEW {}: truncated JSON", new.display())),
        "{e}"
    );
    // A profile whose figures are not numbers.
    let mut json = read_json(&base);
    json["total"]["alloc_bytes"] = "many".into();
    std::fs::write(&new, json.to_string()).unwrap();
    let e = refused(&base, &new);
    assert!(e.contains("malformed allocation-site profile"), "{e}");
    // Something else named .sites.json beside a report.
    std::fs::write(&new, "{\"name\": \"x\"}").unwrap();
    let e = refused(&runs.base, &runs.new);
    assert!(e.contains("not an allocation-site profile"), "{e}");
}
