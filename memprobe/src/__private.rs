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

//! # Failures point at the test
//!
//! Every entry point is `#[track_caller]`, and so is the chain below it down to each `panic!`, so
//! a failed check or a missing allocator reports the measured function's file and line (the
//! attribute spans the generated call on the function's signature), not a line of memprobe. An
//! async function cannot be `#[track_caller]`, so the async entry points are plain functions
//! that resolve the settings at once and return a future of [`Finished`]; generated code calls
//! [`Finished::check`] after `.await`, in the user's function, where the checks run.

use crate::session::Session;
use std::future::Future;

pub use crate::measured::{MARKER, Outcome, ReportMode, SitesEnabled, SitesFeature, Test};
pub use crate::output_dir::{report_dir, report_path};
pub use crate::scope::Scope;
pub use crate::session::with_baseline_mode;

/// Runs `body` once inside a probe.
#[track_caller]
pub fn run<R: Outcome, F: FnOnce() -> R>(test: &'static Test, body: F) -> R {
    let session = Session::prepare(test).start();
    let out = body();
    session.finish(1, &out);
    out
}

/// Runs `body` `warmup` times unmeasured, then `iters` times inside one probe.
#[track_caller]
pub fn run_iters<R: Outcome, F: FnMut() -> R>(test: &'static Test, mut body: F) -> R {
    let prepared = Session::prepare(test);
    for _ in 0..test.warmup {
        let out = body();
        if out.failed() {
            return out;
        }
    }
    let session = prepared.start();
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

/// A measured async body that has run: [`Finished::check`] checks it and returns its value.
#[must_use = "call `.check()`: the checks run there"]
pub struct Finished<R> {
    /// `None` when a warm-up run failed: nothing was measured, the value is returned as is.
    session: Option<Session>,
    iterations: u64,
    out: R,
}

impl<R: Outcome> Finished<R> {
    /// Writes the report, checks limits and the baseline, and panics here (at the caller)
    /// listing every failure; else returns the body's value.
    #[track_caller]
    pub fn check(self) -> R {
        if let Some(session) = self.session {
            session.finish(self.iterations, &self.out);
        }
        self.out
    }
}

/// Awaits `body` inside a probe; every poll enters the probe's attribution, on whichever thread
/// polls it. Settings are resolved now (panicking at the caller when they are invalid or the
/// counting allocator is missing); the probe starts on the first poll.
///
/// The probe starts detached: no guard is held across `.await`, only each poll of `body` enters
/// the attribution. Two measured futures polled together on one thread (`join!`, `select!`) thus
/// each count exactly their own polls, and their enter/leave pairs never interleave.
#[track_caller]
pub fn run_async<R: Outcome, F: Future<Output = R>>(
    test: &'static Test,
    body: F,
) -> impl Future<Output = Finished<R>> {
    let prepared = Session::prepare(test);
    async move {
        let session = prepared.start_detached();
        let out = session.probe.attribution().scope(body).await;
        Finished {
            session: Some(session),
            iterations: 1,
            out,
        }
    }
}

/// The async form of [`run_iters`]: each iteration awaits a fresh future from `body`.
#[track_caller]
pub fn run_async_iters<R, F, Fut>(
    test: &'static Test,
    mut body: F,
) -> impl Future<Output = Finished<R>>
where
    R: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = R>,
{
    let prepared = Session::prepare(test);
    async move {
        for _ in 0..test.warmup {
            let out = body().await;
            if out.failed() {
                return Finished {
                    session: None,
                    iterations: 0,
                    out,
                };
            }
        }
        // Detached, as in `run_async`: only the polls of each iteration's future count.
        let session = prepared.start_detached();
        let attribution = session.probe.attribution();
        let mut done = 1;
        let mut out = attribution.scope(body()).await;
        while done < test.iters.unwrap_or(1) && !out.failed() {
            drop(out);
            out = attribution.scope(body()).await;
            done += 1;
        }
        drop(attribution);
        Finished {
            session: Some(session),
            iterations: done,
            out,
        }
    }
}
