//! The JSON Schema of one `watch --out` line. The writer ([`super::format_jsonl`]) formats each
//! line by hand into a reused buffer, so that sampling allocates nothing, and no serialized type
//! exists to derive a schema from: the structs here describe the line field by field for
//! `schemars` and nothing else. `tests/schemas.rs` validates lines of real runs against the
//! schema (unknown fields rejected), so writer and description cannot drift apart unnoticed.

// Never built or read: the types only carry the schema.
#![allow(dead_code)]

use super::TreeTotals;
use crate::cgroup::CgroupSample;
use memprobe::publish::PublishedStats;
use memprobe::schema::FileSchema;

/// Version of the JSONL line format (the lines do not carry it): 1, as `watch --out` has
/// always written it.
pub(crate) const SAMPLE_SCHEMA_VERSION: u32 = 1;

/// One sample, as one line of `watch --out`.
#[derive(schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SampleLine {
    /// Monotonic nanoseconds since the run started.
    t_ns: u64,
    /// Wall-clock nanoseconds since the Unix epoch.
    wall_ns: u64,
    /// The watched PID.
    pid: u32,
    /// RSS (statm), at `t_ns`.
    rss_bytes: u64,
    /// RssAnon (status), read at `status_t_ns`.
    rss_anon_bytes: Option<u64>,
    /// RssFile (status).
    rss_file_bytes: Option<u64>,
    /// RssShmem (status).
    rss_shmem_bytes: Option<u64>,
    /// VmSwap (status).
    swap_bytes: Option<u64>,
    /// VmHWM (status).
    peak_rss_bytes: Option<u64>,
    /// Virtual size (statm).
    virtual_bytes: Option<u64>,
    /// When `status` was read, ns since the run started (at most 100 ms before `t_ns`).
    status_t_ns: Option<u64>,
    /// `--tree`: totals over the tree (summed RSS over-counts shared pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    tree: Option<TreeTotals>,
    /// `--tree`: each process of the tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    procs: Option<Vec<ProcLine>>,
    /// `--cgroup`: the memory cgroup.
    #[serde(skip_serializing_if = "Option::is_none")]
    cgroup: Option<CgroupSample>,
    /// `--pss-interval`: present on the ticks a walk was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pss: Option<PssLine>,
    /// The process's published statistics, on the ticks they were refreshed.
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<PublishedStats>,
}

/// One process of a `--tree` sample.
#[derive(schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProcLine {
    /// PID.
    pid: u32,
    /// Parent PID.
    ppid: u32,
    /// RSS.
    rss_bytes: u64,
    /// RssAnon.
    rss_anon_bytes: u64,
    /// VmSwap.
    swap_bytes: u64,
}

/// PSS and USS from `smaps_rollup`.
#[derive(schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PssLine {
    /// Proportional set size.
    pss_bytes: u64,
    /// Unique set size.
    uss_bytes: u64,
    /// Anonymous part of PSS, when the kernel shows it.
    pss_anon_bytes: Option<u64>,
    /// With `--tree`, PSS summed over the tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    tree_pss_bytes: Option<u64>,
}

/// The JSON Schema of one line of `watch --out`.
pub(crate) fn schema() -> FileSchema {
    FileSchema::of::<SampleLine>(
        "sample",
        SAMPLE_SCHEMA_VERSION,
        "memprobe-daemon watch --out sample (one JSONL line)",
    )
}
