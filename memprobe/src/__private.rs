//! Used by generated code, not public API: the runtime behind `#[memprobe(...)]`. Nothing here is
//! covered by semver; `memprobe` pins `memprobe-macros` to its exact version, so the code the
//! attribute emits and these entry points always match.
//!
//! This module only routes: the descriptor generated code builds ([`Test`], in `measured.rs`),
//! the entry points it calls, and re-exports. What a run does lives in modules named for it:
//!
//! ```text
//!   run ─▶ session: settings (config: memprobe.toml globs, read once per crate; then the attribute)
//!       ─▶ probe starts ─▶ body (warm-up runs before, unmeasured; `iters` runs inside)
//!       ─▶ probe finishes ─▶ JSON report written (output_dir, files) ─▶ [table printed]
//!       ─▶ limits checked ─▶ baseline checked ─▶ one panic listing every failure (failure,
//!          backtrace_trim), or the body's value returned unchanged
//! ```
//!
//! A panic in the body is not caught: it unwinds through the probe (whose `Drop` stops counting)
//! and reaches the test harness unchanged. A body that returns `Err` fails the test with its own
//! error; its report is written, but limits and baselines are not checked and nothing is blessed.
//!
//! memprobe.toml, the optional per-crate file of checks by glob, is described in `config.rs`.

use crate::session::Session;
use std::future::Future;

pub use crate::measured::{MARKER, Outcome, ReportMode, Test};
pub use crate::output_dir::{report_dir, report_path};
pub use crate::scope::Scope;
pub use crate::session::with_baseline_mode;

/// Runs `body` once inside a probe.
pub fn run<R: Outcome, F: FnOnce() -> R>(test: &'static Test, body: F) -> R {
    let session = Session::start(test);
    let out = body();
    session.finish(1, &out);
    out
}

/// Runs `body` `warmup` times unmeasured, then `iters` times inside one probe.
pub fn run_iters<R: Outcome, F: FnMut() -> R>(test: &'static Test, mut body: F) -> R {
    for _ in 0..test.warmup {
        let out = body();
        if out.failed() {
            return out;
        }
    }
    let session = Session::start(test);
    let mut done = 1;
    let mut out = body();
    while done < test.iters.unwrap_or(1) && !out.failed() {
        drop(out);
        out = body();
        done += 1;
    }
    session.finish(done, &out);
    out
}

/// Runs `body` at each of `test`'s `sizes` as a scaling fit ([`crate::scaling`]), then checks its
/// per-item limits and per-item baseline; panics listing every failure.
pub fn run_scaling<R, F: FnMut(u64) -> R>(test: &'static Test, body: F) {
    crate::scaling::attribute::run(test, body);
}

/// Awaits `body` inside a probe; every poll enters the probe's attribution, on whichever thread
/// polls it.
///
/// The probe starts detached: no guard is held across `.await`, only each poll of `body` enters
/// the attribution. Two measured futures polled together on one thread (`join!`, `select!`) thus
/// each count exactly their own polls, and their enter/leave pairs never interleave.
pub async fn run_async<R: Outcome, F: Future<Output = R>>(test: &'static Test, body: F) -> R {
    let session = Session::start_detached(test);
    let out = session.probe.attribution().scope(body).await;
    session.finish(1, &out);
    out
}

/// The async form of [`run_iters`]: each iteration awaits a fresh future from `body`.
pub async fn run_async_iters<R, F, Fut>(test: &'static Test, mut body: F) -> R
where
    R: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = R>,
{
    for _ in 0..test.warmup {
        let out = body().await;
        if out.failed() {
            return out;
        }
    }
    // Detached, as in `run_async`: only the polls of each iteration's future count.
    let session = Session::start_detached(test);
    let attribution = session.probe.attribution();
    let mut done = 1;
    let mut out = attribution.scope(body()).await;
    while done < test.iters.unwrap_or(1) && !out.failed() {
        drop(out);
        out = attribution.scope(body()).await;
        done += 1;
    }
    drop(attribution);
    session.finish(done, &out);
    out
}
