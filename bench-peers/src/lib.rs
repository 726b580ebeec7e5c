//! Side-by-side benchmarks of memprobe against its peers, run by `scripts/bench-peers.sh`.
//!
//! A global allocator is chosen per binary, so each counting allocator gets a small binary of
//! its own (`src/bin/alloc-*.rs`: a `#[global_allocator]` line and a call to
//! [`contender::main`]); the driver (`src/bin/peers.rs`) runs them interleaved, one round at a
//! time with the order rotated, and turns the per-round times into ratios to bare jemalloc.
//! The workloads are memprobe's own bench workloads, included by path so there is one source
//! for them: `memprobe/benches/common/` (churn, thread CPU time) and its `workloads.rs` (the
//! `BTreeMap` build/drop and the serde_json round trip).

#![deny(missing_docs)]

#[path = "../../memprobe/benches/common/mod.rs"]
#[allow(missing_docs, unreachable_pub, clippy::all)]
mod common;

pub mod contender;
pub mod stats;

pub use common::thread_cpu_time;
