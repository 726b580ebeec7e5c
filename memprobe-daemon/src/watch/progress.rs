//! How far the run got: when it started, the ticks scheduled and missed, when sampling ended and
//! at what cost, and how the run ended. Kept by the run loop, shown by the summary.

use crate::procfs::SelfUsage;
use serde::Serialize;
use std::time::Instant;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ended {
    /// `--duration` elapsed.
    Duration,
    /// The watched process exited (or its PID now names another process).
    TargetExited,
    /// The daemon was asked to stop (`--pid` mode).
    Signal,
}

/// The run's clock and counters.
#[derive(Debug)]
pub(super) struct Progress {
    /// When the run started (tick 0).
    pub(super) start: Instant,
    /// The same, in ns since the Unix epoch.
    pub(super) started_wall_ns: u64,
    /// Ticks scheduled so far (taken or missed).
    pub(super) ticks: u64,
    /// Ticks skipped because the daemon was behind.
    pub(super) missed: u64,
    /// How the run ended, once it has.
    pub(super) ended: Option<Ended>,
    /// When sampling ended.
    pub(super) sampling_ended: Option<Instant>,
    /// The daemon's own cost up to then.
    pub(super) sampling_usage: Option<SelfUsage>,
    /// The stop signal received, if any.
    pub(super) stop_signal: Option<i32>,
}
