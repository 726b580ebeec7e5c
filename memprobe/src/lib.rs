// The crate docs are lib.md, not the README: rustdoc's hidden `# ` lines keep their examples
// compiling, and would show verbatim on a repository page. The README's own snippets are
// complete programs, compiled as doctests through `ReadmeSnippets` below.
#![doc = include_str!("lib.md")]
#![deny(missing_docs)]
// The docs show `#[test]` functions as users write them: compiled as doctests so they stay
// correct, not run.
#![allow(clippy::test_attr_in_doctest)]

/// The README's Rust snippets, compiled (and run) as doctests so that what a reader copies builds.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeSnippets;

#[doc(hidden)]
pub mod __private;
#[doc(hidden)]
pub mod __readers;
pub mod alloc;
mod backtrace_trim;
pub mod baseline;
mod baseline_notes;
mod config;
#[cfg(feature = "criterion")]
pub mod criterion;
pub mod error;
mod failure;
mod files;
pub mod github;
pub mod jemalloc;
pub mod limits;
mod measured;
mod output_dir;
pub mod probe;
#[cfg(feature = "publish")]
pub mod publish;
pub mod report;
pub mod scaling;
#[cfg(feature = "json-schema")]
pub mod schema;
mod scope;
mod session;
#[cfg(feature = "sites")]
pub mod sites;
pub mod snapshot;
pub mod trend;
pub mod units;

pub use alloc::{AllocTotals, Attribution, Counting, process_totals, thread_totals};
pub use error::{Error, Result};
pub use jemalloc::JemallocStats;
pub use limits::{Limits, Violation};
pub use probe::{Probe, measure, measure_iters};
#[cfg(feature = "publish")]
pub use publish::{mark_iteration, phase};
pub use report::Report;
pub use scaling::{Fit, PerItemLimits, Scaling};
pub use scope::Scope;
pub use snapshot::{MemorySnapshot, ProcessMemory};

/// The `#[memprobe(...)]` attribute for tests and benches (see the crate docs).
pub use memprobe_macros::memprobe;
