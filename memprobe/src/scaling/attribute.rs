//! What `#[memprobe(sizes = [...])]` runs: the function as a scaling fit over the sizes, its
//! per-item limits (`max_allocs_per_item`, `max_bytes_per_item`) and, with `fail_if_growth`, its
//! per-item baseline; then one panic listing every failure above the fit's table, or the verdict
//! printed. Reached from generated code through [`crate::__private::run_scaling`].

use super::{PerItemLimits, Scaling};
use crate::baseline::{Baselines, Policy};
use crate::measured::Test;
use std::path::PathBuf;

/// Runs `body` at each of `test`'s sizes and checks the fit.
pub(crate) fn run<R>(test: &'static Test, body: impl FnMut(u64) -> R) {
    let path = test.path();
    let fit = Scaling::new(test.sizes.iter().copied())
        .name(path.clone())
        .scope(test.scope)
        .run(body)
        .unwrap_or_else(|e| panic!("{e}"));
    if test.report.prints_table(test.is_test) {
        println!("{fit}");
    }
    let mut limits = PerItemLimits::new();
    if let Some(n) = test.max_allocs_per_item {
        limits = limits.max_allocs_per_item(n);
    }
    if let Some(size) = test.max_bytes_per_item {
        limits = limits.max_bytes_per_item(size).unwrap_or_else(|e| {
            panic!(
                "memprobe: `{path}`: max_bytes_per_item: {e} (the attribute accepted it; please report this)"
            )
        });
    }
    let mut failures: Vec<String> = limits.check(&fit).iter().map(ToString::to_string).collect();
    if let Some(growth) = test.fail_if_growth {
        let name = test.baseline.unwrap_or(&path);
        let root = test.manifest_dir().unwrap_or_else(|| PathBuf::from("."));
        let baselines = Baselines::for_crate(root, test.crate_name());
        let verdict = Policy::new(growth).and_then(|policy| {
            fit.check_baseline(
                &baselines,
                name,
                &policy.update_command(test.update_command()),
                crate::session::baseline_mode(),
            )
        });
        match verdict {
            Ok(verdict) if verdict.failed() => failures.push(verdict.to_string()),
            Ok(verdict) => println!("{verdict}"),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if !failures.is_empty() {
        if crate::github::in_actions() {
            // As `session` does for the other checks: one line at the test, before the panic.
            let lines: Vec<String> = failures
                .iter()
                .map(|f| crate::failure::one_line(f))
                .collect();
            let heading = format!("`{path}` failed its per-item checks");
            println!(
                "{}",
                crate::failure::annotation(&heading, &lines, test.source())
            );
        }
        panic!(
            "memprobe: `{path}` failed its per-item checks:\n  {}\n{fit}",
            failures.join("\n  ")
        );
    }
}
