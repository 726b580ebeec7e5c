//! Helpers shared by the integration tests (`mod support;` in each test file that needs them):
//! reading back a written report, the panic message of a failing run, and describing a measured
//! function in a temporary crate as the attribute would.

// Each test binary compiles this module and uses only some of its helpers.
#![allow(dead_code)]

use memprobe::__private::{ReportMode, Test};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// The report of the measured function `name` in `module` (crate first, as `module_path!()`
/// gives it). Reports are rewritten in place, and the test of the same name may be rewriting this
/// one right now (it runs in parallel with the check): retry until the file parses.
pub fn written_report(module: &str, name: &str) -> memprobe::Report {
    let path = memprobe::__private::report_path(
        Some(env!("CARGO_PKG_NAME")),
        &format!("{module}::{name}"),
    );
    for _ in 0..100 {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if let Ok(report) = memprobe::Report::from_json(&text) {
            return report;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("{} never parsed", path.display());
}

/// The panic message of `f`, which must panic.
pub fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

/// A test at `item_path` (its full path, as generated code passes it) in the crate `package`
/// whose manifest directory is `dir`, writing no report: add the attribute's options, then
/// [`leak`] it.
pub fn test_in(dir: &Path, package: &'static str, item_path: fn() -> &'static str) -> Test {
    let dir: &'static str = Box::leak(dir.to_string_lossy().into_owned().into_boxed_str());
    Test::new(item_path)
        .in_package(Some(package), Some(dir))
        .test()
        .report(ReportMode::Off)
}

/// `test` for the life of the process, as generated code's `static` is.
pub fn leak(test: Test) -> &'static Test {
    Box::leak(Box::new(test))
}
