//! Compile-time behaviour of `#[memprobe]`: what compiles (and runs), and the diagnostics for
//! what does not, with their spans. One trybuild invocation, so the cases share one build.
//!
//! Refresh the expected output with `TRYBUILD=overwrite cargo test -p memprobe-macros --test ui`,
//! then review the `.stderr` diffs.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
