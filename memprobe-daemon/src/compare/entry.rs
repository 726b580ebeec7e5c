//! What a comparison compares: the figures ([`Metric`], [`Value`]) of each test or soak
//! ([`Entry`]) of a side ([`Side`]). Plain data; `load.rs` fills it.

use memprobe::sites::Profile;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One figure compared between the sides, with its unit and whether it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Metric {
    /// Allocation events: allocations plus reallocations (exact).
    Allocations,
    /// Bytes allocated (exact).
    AllocBytes,
    /// High-water mark of live bytes during the probe (exact).
    PeakBytes,
    /// Allocated minus freed bytes, signed (exact).
    NetBytes,
    /// Allocation events per measured iteration (exact totals divided).
    AllocationsPerIteration,
    /// Bytes allocated per iteration.
    AllocBytesPerIteration,
    /// Net bytes per iteration.
    NetBytesPerIteration,
    /// Bytes of a site profile (or site) not freed while sampling was on (an estimate unless the
    /// profile is exact).
    LiveBytes,
    /// RSS after minus RSS before the probe, signed (noisy).
    RssGrowthBytes,
    /// Peak RSS, the kernel's high-water mark (noisy: whole process, shared pages).
    PeakRssBytes,
    /// RSS at the last sample of a soak (noisy).
    FinalRssBytes,
}

impl Metric {
    /// The name shown in tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Metric::Allocations => "allocations",
            Metric::AllocBytes => "bytes",
            Metric::PeakBytes => "peak",
            Metric::NetBytes => "net",
            Metric::AllocationsPerIteration => "allocations/iter",
            Metric::AllocBytesPerIteration => "bytes/iter",
            Metric::NetBytesPerIteration => "net/iter",
            Metric::LiveBytes => "live",
            Metric::RssGrowthBytes => "RSS growth (noisy)",
            Metric::PeakRssBytes => "peak RSS (noisy)",
            Metric::FinalRssBytes => "final RSS (noisy)",
        }
    }

    /// Whether the figure is in bytes (a size threshold applies) rather than a count.
    pub(crate) fn is_bytes(self) -> bool {
        !matches!(self, Metric::Allocations | Metric::AllocationsPerIteration)
    }

    /// Whether the figure is RSS: noisy, compared only with `--include-rss`, with an allowance.
    pub(crate) fn is_rss(self) -> bool {
        matches!(
            self,
            Metric::RssGrowthBytes | Metric::PeakRssBytes | Metric::FinalRssBytes
        )
    }
}

/// A figure's value: a whole number (totals, compared exactly) or a mean per iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub(crate) enum Value {
    /// A whole number.
    Int(i64),
    /// A mean (per iteration).
    Float(f64),
}

impl Value {
    /// As a float, for shares and sorting.
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Value::Int(v) => v as f64,
            Value::Float(v) => v,
        }
    }
}

/// Where the measured function is written, when the report says (reports of schema version 2
/// on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Source {
    /// `file!()` of the annotated function.
    pub(crate) file: String,
    /// `line!()` of the annotated function.
    pub(crate) line: u32,
}

/// One test (or one soak) of a side.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The test's full path, or the soak's command.
    pub(crate) name: String,
    /// Where its source is, if known.
    pub(crate) source: Option<Source>,
    /// Measured iterations (1 for a single run; published iterations for a soak, 0 if none).
    pub(crate) iterations: u64,
    /// The figures, in [`Metric`] order.
    pub(crate) figures: BTreeMap<Metric, Value>,
    /// Its allocation-site profile: the `<stem>.sites.json` beside a report, or the profile
    /// itself when the side is one.
    pub(crate) sites: Option<Profile>,
}

/// What a side is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// Test reports (`#[memprobe]`, `memprobe::measure`).
    Reports,
    /// A `watch --summary` file.
    Summary,
    /// An allocation-site profile (`<stem>.sites.json`).
    Sites,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Reports => "test reports",
            Kind::Summary => "a watch summary",
            Kind::Sites => "an allocation-site profile",
        }
    }
}

/// One side of the comparison, loaded.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// The path given.
    pub(crate) path: PathBuf,
    /// Reports or a summary.
    pub(crate) kind: Kind,
    /// Schema versions of the files read (report `version` or summary `schema_version`).
    pub(crate) versions: Vec<u32>,
    /// Whether the path is a directory (else one file, one entry).
    pub(crate) is_dir: bool,
    /// Entries by key: in a directory, the report file's path inside it without `.json`
    /// (`<package>/<crate>.<module>.<test>`), unique even where two test crates of a workspace
    /// have same-named tests; for a single file, its stem.
    pub(crate) entries: BTreeMap<String, Entry>,
}
