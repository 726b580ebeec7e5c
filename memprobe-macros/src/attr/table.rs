//! The option table of `#[memprobe(...)]`: every option's name (for the "unknown option"
//! message), and the checked [`Config`] that `expand.rs` emits from, with its value types.

use proc_macro2::Span;

/// Every option, in the order the docs list them (used in the "unknown option" message).
pub(crate) const OPTIONS: &[&str] = &[
    "scope",
    "max_allocs",
    "max_bytes",
    "max_peak",
    "max_net",
    "max_rss_growth",
    "iters",
    "warmup",
    "fail_if_growth",
    "baseline",
    "purge",
    "report",
    "sizes",
    "max_allocs_per_item",
    "max_bytes_per_item",
    "sites",
];

/// What a probe counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Thread,
    Process,
}

/// What the run leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportMode {
    /// JSON file; the table too when the function is not a test.
    Default,
    /// Nothing written or printed.
    Off,
    /// JSON file only.
    Json,
    /// Printed table only.
    Table,
}

/// A checked configuration: everything `expand.rs` needs, nothing it must validate.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) scope: Scope,
    pub(crate) max_allocs: Option<u64>,
    /// Size strings, validated, emitted as written.
    pub(crate) max_bytes: Option<String>,
    pub(crate) max_peak: Option<String>,
    pub(crate) max_net: Option<String>,
    pub(crate) max_rss_growth: Option<String>,
    pub(crate) iters: Option<u64>,
    pub(crate) warmup: u64,
    pub(crate) fail_if_growth: Option<String>,
    pub(crate) baseline: Option<String>,
    pub(crate) purge: bool,
    pub(crate) report: ReportMode,
    /// `sizes = [...]`: distinct, at least two.
    pub(crate) sizes: Option<Vec<u64>>,
    pub(crate) max_allocs_per_item: Option<u64>,
    /// A size string, validated, emitted as written.
    pub(crate) max_bytes_per_item: Option<String>,
    /// `sites`: the table's top N and exact mode, with the option's span (where a missing
    /// `sites` feature is reported).
    pub(crate) sites: Option<(Sites, Span)>,
}

/// `sites`, `sites = N` or `sites = "exact"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sites {
    /// Rows of the sites table: 10 unless `sites = N`.
    pub(crate) top: usize,
    /// `sites = "exact"`: every allocation sampled.
    pub(crate) exact: bool,
}
