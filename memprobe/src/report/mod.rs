//! The [`Report`]: plain data, every figure labelled with its unit and what it includes, and the
//! renderers that present it (one file per format behind [`Render`]).
//!
//! Exact figures (allocation counts and bytes) and noisy ones (RSS, which includes shared pages,
//! file pages and memory the allocator holds after a free) are kept apart, and the report's
//! [`Report::includes`] says which is which.

mod json;
mod table;

pub use json::{Json, SCHEMA, SCHEMA_VERSION};
// The report file's form (the report with its schema and version), for its JSON Schema.
#[cfg(feature = "json-schema")]
pub(crate) use json::Versioned;
pub use table::Table;

use crate::alloc::{Group, signed_difference};
use crate::jemalloc::JemallocStats;
use crate::scope::Scope;
use crate::snapshot::MemorySnapshot;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Exact allocation figures of one probe.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let figures = memprobe::measure(|| String::from("hello"))?.allocs;
/// assert_eq!(figures.allocations(), 1);
/// assert_eq!(figures.net_bytes, 5);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct AllocFigures {
    /// Successful `alloc` and `alloc_zeroed` calls.
    pub alloc_count: u64,
    /// Successful `realloc` calls (counted apart from allocations).
    pub realloc_count: u64,
    /// `dealloc` calls.
    pub dealloc_count: u64,
    /// Bytes requested by allocations plus the new sizes of reallocations.
    pub alloc_bytes: u64,
    /// Bytes freed by deallocations plus the old sizes of reallocations.
    pub freed_bytes: u64,
    /// `alloc_bytes - freed_bytes`, signed: negative when the probe freed memory allocated before
    /// it started.
    pub net_bytes: i64,
    /// High-water mark of `net_bytes` during the probe (0 when it never rose above the start).
    pub peak_bytes: u64,
    /// The largest single allocation or reallocation, in bytes.
    pub largest_alloc_bytes: u64,
}

impl AllocFigures {
    pub(crate) fn from_group(g: &Group) -> Self {
        let f = g.counters.figures();
        AllocFigures {
            alloc_count: f.alloc_count,
            realloc_count: f.realloc_count,
            dealloc_count: f.dealloc_count,
            alloc_bytes: f.alloc_bytes,
            freed_bytes: f.freed_bytes,
            net_bytes: f.live_bytes,
            peak_bytes: f.peak_bytes,
            largest_alloc_bytes: f.largest_alloc_bytes,
        }
    }

    /// Allocation events: allocations plus reallocations. This is what `max_allocs` limits.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = memprobe::report::AllocFigures::default();
    /// assert_eq!(f.allocations(), 0);
    /// ```
    pub fn allocations(&self) -> u64 {
        self.alloc_count + self.realloc_count
    }
}

/// RSS before and after a probe: a noisy, process-wide figure (see [`Report::includes`]).
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let report = memprobe::measure(|| ())?;
/// let rss = report.rss.expect("RSS is readable on this platform");
/// assert_eq!(rss.delta_rss_bytes, rss.after.rss_bytes as i64 - rss.before.rss_bytes as i64);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct RssFigures {
    /// The snapshot taken as the probe started.
    pub before: MemorySnapshot,
    /// The snapshot taken as it finished.
    pub after: MemorySnapshot,
    /// `after.rss_bytes - before.rss_bytes`, signed.
    pub delta_rss_bytes: i64,
    /// Peak RSS (exact, from the kernel's high-water mark) at the end of the probe: since the
    /// process started, or since the probe began when `peak_reset` is true.
    pub peak_rss_bytes: Option<u64>,
    /// Whether the peak was reset when the probe started.
    pub peak_reset: bool,
}

impl RssFigures {
    pub(crate) fn new(before: MemorySnapshot, after: MemorySnapshot, peak_reset: bool) -> Self {
        RssFigures {
            before,
            after,
            delta_rss_bytes: signed_difference(after.rss_bytes, before.rss_bytes),
            peak_rss_bytes: after.peak_rss_bytes,
            peak_reset,
        }
    }
}

/// jemalloc statistics around a probe, or why there are none.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let report = memprobe::measure(|| ())?;
/// // This doctest's global allocator is System, so jemalloc figures say why they are absent.
/// assert!(matches!(report.jemalloc, memprobe::report::JemallocFigures::Unavailable { .. }));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JemallocFigures {
    /// Read before and after the probe.
    Measured {
        /// At the start.
        before: JemallocStats,
        /// At the end.
        after: JemallocStats,
        /// Whether dirty pages were purged before each read.
        purged: bool,
    },
    /// Not available, and why.
    Unavailable {
        /// The reason, e.g. "jemalloc is not the global allocator".
        reason: String,
    },
}

/// Figures averaged over a report's measured iterations.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::probe::Iterations;
/// let report = memprobe::measure_iters(Iterations::new(10), || Box::new([0u8; 32]))?;
/// assert_eq!(report.per_iteration().alloc_bytes, 32.0);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PerIteration {
    /// Allocation events (allocations + reallocations) per iteration.
    pub allocations: f64,
    /// Bytes allocated per iteration.
    pub alloc_bytes: f64,
    /// Net bytes per iteration (what each iteration keeps alive).
    pub net_bytes: f64,
    /// Nanoseconds per iteration.
    pub duration_ns: f64,
}

/// What one probe measured.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let report = memprobe::measure(|| vec![0u64; 128])?;
/// assert_eq!(report.allocs.alloc_bytes, 1024);
/// println!("{report}"); // a compact table in binary units
/// let json = report.to_json();
/// assert_eq!(memprobe::Report::from_json(&json)?, report);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Report {
    /// The probe's name (a test path, a bench name), if given.
    pub name: Option<String>,
    /// What was counted.
    pub scope: Scope,
    /// Measured iterations (1 for a single run).
    pub iterations: u64,
    /// Unmeasured warm-up iterations run before.
    pub warmup_iterations: u64,
    /// Wall-clock time of the measured part, in nanoseconds.
    pub duration_ns: u64,
    /// Exact allocation figures (totals over all measured iterations).
    pub allocs: AllocFigures,
    /// Process scope only: allocation events made by threads that did not enter the probe
    /// (other tests, the test harness, background threads). `Some(0)` means the process figures
    /// are the probed code's alone.
    pub outside_alloc_count: Option<u64>,
    /// RSS before and after (noisy, process-wide), if the platform offers it.
    pub rss: Option<RssFigures>,
    /// jemalloc statistics before and after, or why there are none.
    pub jemalloc: JemallocFigures,
    /// Where the first counted allocation came from, when asked for.
    pub first_alloc_backtrace: Option<String>,
    /// What each figure includes, in words.
    pub includes: Vec<String>,
    /// `file!()` of the function `#[memprobe]` annotates (as the compiler gives it, relative to
    /// the workspace for a local crate); `None` for a probe without the attribute and in reports
    /// of schema version 1, which did not record it.
    #[serde(default)]
    pub source_file: Option<String>,
    /// `line!()` of that function's attribute; `None` as for [`Report::source_file`].
    #[serde(default)]
    pub source_line: Option<u32>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: Option<String>,
        scope: Scope,
        iterations: u64,
        warmup_iterations: u64,
        duration: Duration,
        allocs: AllocFigures,
        outside_alloc_count: Option<u64>,
        rss: Option<RssFigures>,
        jemalloc: JemallocFigures,
        first_alloc_backtrace: Option<String>,
    ) -> Self {
        let mut includes = vec![match scope {
            Scope::Thread => "allocations: exact; requested sizes; the probing thread and threads that entered its attribution".to_owned(),
            Scope::Process => "allocations: exact; requested sizes; every thread of the process (process-wide figure)".to_owned(),
        }];
        if let Some(outside) = outside_alloc_count.filter(|&n| n > 0) {
            includes.push(format!("allocations: {}", OutsideNote(outside)));
        }
        if rss.is_some() {
            includes.push("rss: noisy; whole process; includes shared and file-backed pages and memory the allocator keeps after a free".to_owned());
        }
        if let JemallocFigures::Measured { purged, .. } = jemalloc {
            includes.push(format!(
                "jemalloc: whole process; size classes, page slack and metadata included; dirty pages {}",
                if purged { "purged before each read" } else { "not purged (resident may include freed memory)" }
            ));
        }
        Report {
            name,
            scope,
            iterations,
            warmup_iterations,
            duration_ns: u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            allocs,
            outside_alloc_count,
            rss,
            jemalloc,
            first_alloc_backtrace,
            includes,
            source_file: None,
            source_line: None,
        }
    }

    /// The report with the source location of the annotated function (what `#[memprobe]`
    /// records, for CI annotations at the test).
    pub(crate) fn at_source(mut self, file: &str, line: u32) -> Report {
        self.source_file = Some(file.to_owned());
        self.source_line = Some(line);
        self
    }

    /// Totals divided by the measured iterations.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let report = memprobe::measure(|| ())?;
    /// assert_eq!(report.per_iteration().allocations, 0.0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn per_iteration(&self) -> PerIteration {
        let n = self.iterations.max(1) as f64;
        PerIteration {
            allocations: self.allocs.allocations() as f64 / n,
            alloc_bytes: self.allocs.alloc_bytes as f64 / n,
            net_bytes: self.allocs.net_bytes as f64 / n,
            duration_ns: self.duration_ns as f64 / n,
        }
    }

    /// The report as versioned JSON (see [`Json`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let json = memprobe::measure(|| ())?.to_json();
    /// assert!(json.contains("\"schema\": \"memprobe.report\""));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        Json.render_to_string(self)
    }

    /// Reads a report written by [`Report::to_json`].
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] when the text is not a memprobe report of a version this
    /// build reads.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::Report::from_json("{}").is_err());
    /// ```
    pub fn from_json(text: &str) -> crate::Result<Report> {
        json::parse(text)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Table.render(self, f)
    }
}

/// One output format of a [`Report`].
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::report::{Render, Table};
/// let report = memprobe::measure(|| ())?;
/// assert!(Table.render_to_string(&report).contains("allocations"));
/// # Ok::<(), memprobe::Error>(())
/// ```
pub trait Render {
    /// Writes `report` to `out`.
    ///
    /// # Errors
    ///
    /// When `out` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::report::{Json, Render};
    /// let mut text = String::new();
    /// Json.render(&memprobe::measure(|| ())?, &mut text).unwrap();
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    fn render(&self, report: &Report, out: &mut dyn std::fmt::Write) -> std::fmt::Result;

    /// Renders into a new `String`.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::report::{Render, Table};
    /// let text = Table.render_to_string(&memprobe::measure(|| ())?);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    fn render_to_string(&self, report: &Report) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.render(report, &mut out);
        out
    }
}

/// The one wording of the note on process-scope figures inflated by threads that did not enter
/// the probe: used by the report's `includes`, its table, the attribute's output and the
/// baseline's refusal to write, so all four say the same thing.
pub(crate) struct OutsideNote(pub(crate) u64);

impl fmt::Display for OutsideNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} allocation events came from threads outside the probed code (the test harness, other tests running in parallel), so the process-scope figures are inflated; for exact figures use scope = \"thread\" (the default), or run under cargo nextest (one test per process)",
            self.0
        )
    }
}
