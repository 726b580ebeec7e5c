//! Aggregation by call site: the sampled records symbolized (at collection time, never in the
//! allocator), their frames collapsed so each stack starts at the user's code, and unbiased
//! estimates of the objects and bytes allocated, and still live, per site.
//!
//! # Estimates
//!
//! With a mean interval of `T` bytes, an allocation of `s` bytes is sampled with probability
//! `p = 1 - exp(-s / T)` (sampling is a Poisson process over bytes, see `sampler.rs`). Each sample
//! therefore stands for `1 / p` allocations and `s / p` bytes: the standard unbiasing of pprof's
//! heap profiles (`scaleHeapSample` in Go's runtime, tcmalloc's sampler). For `s` much smaller
//! than `T` a sample weighs about `T` bytes; for `s` much larger it weighs its own size. In exact
//! mode every allocation is a sample of weight 1. Each sample's estimate is rounded to whole
//! objects and bytes once, so every total (per site, per stack, in the pprof file) is an exact
//! sum of the same integers.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::sampler;
use super::table::{self, Record};

/// Estimated allocations of one site (or of a whole profile). Exact in exact mode.
///
/// # Examples
///
/// ```
/// let stats = memprobe::sites::SiteStats::default();
/// assert_eq!((stats.alloc_count, stats.alloc_bytes, stats.live_bytes), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SiteStats {
    /// Samples taken at this site (not an estimate).
    pub samples: u64,
    /// Estimated allocations made.
    pub alloc_count: u64,
    /// Estimated bytes allocated (requested sizes).
    pub alloc_bytes: u64,
    /// Estimated allocations not freed while sampling was on.
    pub live_count: u64,
    /// Estimated bytes not freed while sampling was on.
    pub live_bytes: u64,
}

impl SiteStats {
    fn add(&mut self, other: &SiteStats) {
        self.samples += other.samples;
        self.alloc_count += other.alloc_count;
        self.alloc_bytes += other.alloc_bytes;
        self.live_count += other.live_count;
        self.live_bytes += other.live_bytes;
    }
}

/// A call site: the first function on the allocation's stack that is not memprobe, the
/// standard library's allocation plumbing or the test harness.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{Sampling, Session};
///
/// #[inline(never)]
/// fn make() -> Vec<u8> { Vec::with_capacity(1000) }
///
/// let session = Session::start(Sampling::Exact)?;
/// let kept = make();
/// let profile = session.finish();
/// let site = profile.site("make").expect("sampled");
/// assert!(site.function.ends_with("make"));
/// assert_eq!(site.stats.alloc_bytes, 1000);
/// # drop(kept);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Site {
    /// The function's demangled name without its hash (`my_crate::parse::{{closure}}`).
    pub function: String,
    /// `file:line` of the first sample's call, when debug info has it.
    pub location: Option<String>,
    /// The site's estimates.
    pub stats: SiteStats,
}

/// One symbolized source line of a stack frame (several per address when calls were inlined).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Line {
    pub(crate) function: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
}

/// A distinct collapsed stack and its estimates, kept for the pprof export.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stack {
    /// Leaf first: (return address, the lines of that address kept after collapsing, innermost
    /// first).
    pub(crate) frames: Vec<(usize, Vec<Line>)>,
    pub(crate) stats: SiteStats,
}

/// The sites of a sampling session, heaviest first by estimated bytes allocated.
///
/// Collected from the table by [`Session::finish`](super::Session::finish) or
/// [`Profile::collect`]; serialises to JSON (without the stacks, which only the pprof export
/// carries).
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{Sampling, Session};
///
/// let session = Session::start(Sampling::Exact)?;
/// let v = vec![1u8; 4096];
/// let profile = session.finish();
/// assert!(profile.total.alloc_bytes >= 4096);
/// assert_eq!(profile.mean_interval_bytes, 0);
/// # drop(v);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Profile {
    /// The mean sampling interval in bytes; 0 in exact mode.
    pub mean_interval_bytes: u64,
    /// Samples stored in the table.
    pub sample_count: u64,
    /// Samples lost because the table was full (its capacity is
    /// [`CAPACITY`](super::CAPACITY)); non-zero means the estimates are low.
    pub dropped_samples: u64,
    /// The sum over all sites.
    pub total: SiteStats,
    /// Every site, by estimated bytes allocated, largest first.
    pub sites: Vec<Site>,
    #[serde(skip)]
    pub(crate) stacks: Vec<Stack>,
}

impl Profile {
    /// The profile of what the table holds now (the running session's samples so far, or the
    /// last session's). Symbolizes with `backtrace`, so it allocates; those allocations are not
    /// sampled.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::sites::__doc_allocator!();
    /// use memprobe::sites::{Profile, Sampling, Session};
    ///
    /// let session = Session::start(Sampling::Exact)?;
    /// let v = vec![0u8; 100];
    /// let so_far = Profile::collect();
    /// assert!(so_far.sample_count >= 1);
    /// # drop((v, session));
    /// # Ok::<(), memprobe::sites::SitesError>(())
    /// ```
    pub fn collect() -> Profile {
        sampler::unsampled(|| {
            Profile::from_records(sampler::mean_bytes(), &table::records(), table::dropped())
        })
    }

    /// The site whose function name ends with `suffix` (`"parse"`, `"my_mod::parse"`), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let profile = memprobe::sites::Profile::default();
    /// assert!(profile.site("parse").is_none());
    /// ```
    pub fn site(&self, suffix: &str) -> Option<&Site> {
        self.sites.iter().find(|s| {
            s.function == suffix
                || s.function
                    .strip_suffix(suffix)
                    .is_some_and(|head| head.ends_with("::"))
        })
    }

    /// `site`'s share of the estimated bytes allocated, in percent (0 for an empty profile).
    ///
    /// # Examples
    ///
    /// ```
    /// let profile = memprobe::sites::Profile::default();
    /// assert_eq!(profile.share_percent(0), 0.0);
    /// ```
    pub fn share_percent(&self, site: usize) -> f64 {
        match (self.sites.get(site), self.total.alloc_bytes) {
            (Some(s), total) if total > 0 => 100.0 * s.stats.alloc_bytes as f64 / total as f64,
            _ => 0.0,
        }
    }

    pub(crate) fn from_records(mean: u64, records: &[Record], dropped: u64) -> Profile {
        let mut resolver = Resolver::default();
        let mut stacks: HashMap<Vec<(usize, usize)>, Stack> = HashMap::new();
        for record in records {
            let stats = estimate(mean, record.size as u64, record.live);
            // The unwinder ends some stacks with a null return address: not a frame.
            let ips: Vec<usize> = record.ips.iter().copied().filter(|&ip| ip != 0).collect();
            for &ip in &ips {
                resolver.resolve(ip);
            }
            let lines: Vec<(usize, usize, &Line)> = ips
                .iter()
                .flat_map(|&ip| {
                    let resolved = resolver.get(ip);
                    resolved
                        .iter()
                        .enumerate()
                        .map(move |(i, line)| (ip, i, line))
                })
                .collect();
            let start = first_user_line(&lines);
            let mut frames: Vec<(usize, Vec<Line>)> = Vec::new();
            let mut key = Vec::new();
            for &(ip, index, line) in &lines[start..] {
                match frames.last_mut() {
                    Some((last, kept)) if *last == ip => kept.push(line.clone()),
                    _ => {
                        key.push((ip, index));
                        frames.push((ip, vec![line.clone()]));
                    }
                }
            }
            let stack = stacks.entry(key).or_insert_with(|| Stack {
                frames,
                stats: SiteStats::default(),
            });
            stack.stats.add(&stats);
        }
        let mut stacks: Vec<Stack> = stacks.into_values().collect();
        stacks.sort_by_key(|s| std::cmp::Reverse(s.stats.alloc_bytes));
        let mut sites: Vec<Site> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut total = SiteStats::default();
        for stack in &stacks {
            total.add(&stack.stats);
            let leaf = stack.frames.first().and_then(|(_, lines)| lines.first());
            let function = leaf.map_or_else(|| "[unknown]".to_owned(), |l| l.function.clone());
            let index = *by_name.entry(function.clone()).or_insert_with(|| {
                sites.push(Site {
                    function,
                    location: leaf.and_then(|l| match (&l.file, l.line) {
                        (Some(f), Some(n)) => Some(format!("{f}:{n}")),
                        _ => None,
                    }),
                    stats: SiteStats::default(),
                });
                sites.len() - 1
            });
            sites[index].stats.add(&stack.stats);
        }
        sites.sort_by(|a, b| {
            b.stats
                .alloc_bytes
                .cmp(&a.stats.alloc_bytes)
                .then_with(|| a.function.cmp(&b.function))
        });
        Profile {
            mean_interval_bytes: mean,
            sample_count: records.len() as u64,
            dropped_samples: dropped,
            total,
            sites,
            stacks,
        }
    }
}

/// One sample's estimate: `1 / p` objects and `s / p` bytes with `p = 1 - exp(-s / mean)`,
/// rounded once; weight 1 in exact mode (`mean == 0`).
pub(crate) fn estimate(mean: u64, size: u64, live: bool) -> SiteStats {
    let (count, bytes) = if mean == 0 {
        (1, size)
    } else {
        // -expm1(-x) keeps precision where x is tiny.
        let p = -(-(size as f64) / mean as f64).exp_m1();
        ((1.0 / p).round() as u64, (size as f64 / p).round() as u64)
    };
    SiteStats {
        samples: 1,
        alloc_count: count,
        alloc_bytes: bytes,
        live_count: if live { count } else { 0 },
        live_bytes: if live { bytes } else { 0 },
    }
}

/// Symbol lookups, cached per return address.
#[derive(Default)]
struct Resolver {
    cache: HashMap<usize, Vec<Line>>,
}

impl Resolver {
    fn resolve(&mut self, ip: usize) {
        self.cache.entry(ip).or_insert_with(|| {
            let mut lines = Vec::new();
            // A return address points after the call: look up the call instruction itself, so
            // the line (and the inlining chain) is the call's, as std's backtraces do.
            let addr = ip.saturating_sub(1) as *mut std::ffi::c_void;
            backtrace::resolve(addr, |symbol| {
                lines.push(Line {
                    function: symbol
                        .name()
                        .map_or_else(|| format!("{ip:#x}"), |name| format!("{name:#}")),
                    file: symbol.filename().map(|f| f.display().to_string()),
                    line: symbol.lineno(),
                });
            });
            if lines.is_empty() {
                lines.push(Line {
                    function: format!("{ip:#x}"),
                    file: None,
                    line: None,
                });
            }
            lines
        });
    }

    fn get(&self, ip: usize) -> &[Line] {
        self.cache.get(&ip).map_or(&[], Vec::as_slice)
    }
}

/// Where a stack's user part starts (innermost first): past the capture, memprobe, any global
/// allocator's methods and the standard library's allocation plumbing. A stack made only of
/// those and the runtime (a harness thread allocating) starts past the capture and the
/// allocator, at the first frame of the runtime.
fn first_user_line(lines: &[(usize, usize, &Line)]) -> usize {
    if let Some(i) = lines
        .iter()
        .position(|(_, _, l)| !collapsed(&l.function) && !harness(&l.function))
    {
        return i;
    }
    lines
        .iter()
        .position(|(_, _, l)| !hook(&l.function))
        .unwrap_or(0)
}

/// The capture and the allocator hooks: never a site.
fn hook(function: &str) -> bool {
    const HOOK: &[&str] = &[
        "backtrace::",
        "<backtrace::",
        "memprobe::sites::",
        "<memprobe::sites::",
        "memprobe::alloc",
        "<memprobe::alloc",
        // The counting hot path's own crate, which will call the hooks.
        "memprobe_core::",
        "<memprobe_core::",
        "__rust",
        "__rdl",
        "__rg_",
    ];
    HOOK.iter().any(|p| function.starts_with(p))
        || function.contains(" as core::alloc::global::GlobalAlloc>::")
}

/// Frames collapsed into the site below them: the hooks plus the standard library.
fn collapsed(function: &str) -> bool {
    hook(function) || crate::backtrace_trim::is_machinery(function)
}

/// The test harness and the runtime under `main`.
fn harness(function: &str) -> bool {
    ["test::", "<test::", "std::rt::", "core::ops::function::"]
        .iter()
        .any(|p| function.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_weigh_about_the_interval_large_ones_their_size() {
        let mean = 512 * 1024;
        let small = estimate(mean, 64, true);
        assert!(
            (small.alloc_bytes as i64 - mean as i64).abs() <= 32,
            "{small:?}"
        );
        assert_eq!(small.alloc_count, (mean as f64 / 64.0 + 0.5).round() as u64);
        let large = estimate(mean, 64 * mean, false);
        assert_eq!(large.alloc_bytes, 64 * mean);
        assert_eq!((large.alloc_count, large.live_bytes), (1, 0));
        assert_eq!(estimate(0, 100, true).alloc_bytes, 100);
    }

    #[test]
    fn collapsing_keeps_the_users_frame() {
        for f in [
            "memprobe::sites::sampler::capture",
            "memprobe_core::counters::record_alloc",
            "backtrace::backtrace::trace_unsynchronized",
            "<sites::TestAlloc as core::alloc::global::GlobalAlloc>::alloc",
            "__rustc::__rust_alloc",
            "alloc::raw_vec::RawVecInner<A>::with_capacity_in",
            "<alloc::vec::Vec<T> as core::clone::Clone>::clone",
        ] {
            assert!(collapsed(f), "{f}");
        }
        for f in [
            "sites::workload::parse",
            "<myapp::Job as core::clone::Clone>::clone",
        ] {
            assert!(!collapsed(f) && !harness(f), "{f}");
        }
        assert!(harness("test::run_test"));
    }
}
