//! One per-test baseline's figures ([`Baseline`]) and its on-disk form: the TOML fields, the
//! `format` this build reads and writes, and the check of a file's text ([`parse`]).

use super::file;
use crate::error::{Error, Result};
use crate::report::Report;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `format` this build writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// Checks the text of baseline `name`'s file (`path` only names it in errors): a pure function
/// of the text that never panics.
pub(crate) fn parse(text: &str, name: &str, path: &Path) -> Result<Baseline> {
    let file: File = file::parse(text, "baseline", name, FORMAT, path)?;
    if file.iterations == 0 {
        return Err(Error::Baseline {
            path: path.to_path_buf(),
            problem: "says `iterations = 0`; a baseline covers at least one iteration".to_owned(),
        });
    }
    Ok(Baseline {
        iterations: file.iterations,
        allocations: file.allocations,
        alloc_bytes: file.alloc_bytes,
        peak_bytes: file.peak_bytes,
        rss_growth_bytes: file.rss_growth_bytes,
    })
}

/// The figures a baseline records: totals over `iterations`, as in a [`Report`].
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::probe::Iterations;
/// let report = memprobe::measure_iters(Iterations::new(10), || vec![0u8; 64])?;
/// let b = memprobe::baseline::Baseline::from_report(&report, false);
/// assert_eq!((b.iterations, b.allocations, b.alloc_bytes, b.peak_bytes), (10, 10, 640, 64));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Baseline {
    /// Measured iterations the totals cover (at least 1).
    pub iterations: u64,
    /// Allocation events (allocations + reallocations), total.
    pub allocations: u64,
    /// Bytes allocated, total.
    pub alloc_bytes: u64,
    /// Peak of live bytes over the run.
    pub peak_bytes: u64,
    /// RSS growth over the run in bytes, recorded only when RSS is compared.
    pub rss_growth_bytes: Option<i64>,
}

impl Baseline {
    /// A baseline from totals (no RSS figure).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = memprobe::baseline::Baseline::new(2, 4, 100, 50);
    /// assert_eq!(b.allocations, 4);
    /// ```
    pub fn new(iterations: u64, allocations: u64, alloc_bytes: u64, peak_bytes: u64) -> Self {
        Baseline {
            iterations: iterations.max(1),
            allocations,
            alloc_bytes,
            peak_bytes,
            rss_growth_bytes: None,
        }
    }

    /// The figures of `report`, with its RSS growth when `with_rss` (and the report has one).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let report = memprobe::measure(|| String::from("abc"))?;
    /// let b = memprobe::baseline::Baseline::from_report(&report, false);
    /// assert_eq!((b.allocations, b.alloc_bytes), (1, 3));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn from_report(report: &Report, with_rss: bool) -> Self {
        Baseline {
            iterations: report.iterations.max(1),
            allocations: report.allocs.allocations(),
            alloc_bytes: report.allocs.alloc_bytes,
            peak_bytes: report.allocs.peak_bytes,
            rss_growth_bytes: if with_rss {
                report.rss.map(|r| r.delta_rss_bytes)
            } else {
                None
            },
        }
    }
}

/// The on-disk form.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    /// The baseline format (the schema version).
    format: u32,
    /// The test's baseline name (its path, or the attribute's `baseline = "..."`).
    name: String,
    /// Measured iterations the totals cover.
    iterations: u64,
    /// Allocation events (allocations + reallocations), exact.
    allocations: u64,
    /// Bytes allocated, exact.
    alloc_bytes: u64,
    /// Peak live bytes above the start, exact.
    peak_bytes: u64,
    /// RSS growth, signed and noisy; only when the test compares RSS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rss_growth_bytes: Option<i64>,
}

impl File {
    /// The file of baseline `name` holding `baseline`'s figures.
    pub(super) fn of(name: &str, baseline: &Baseline) -> File {
        File {
            format: FORMAT,
            name: name.to_owned(),
            iterations: baseline.iterations,
            allocations: baseline.allocations,
            alloc_bytes: baseline.alloc_bytes,
            peak_bytes: baseline.peak_bytes,
            rss_growth_bytes: baseline.rss_growth_bytes,
        }
    }
}

impl file::Header for File {
    fn format(&self) -> u32 {
        self.format
    }
    fn name(&self) -> &str {
        &self.name
    }
}
