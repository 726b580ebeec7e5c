//! Per-site deltas: two allocation-site profiles (`memprobe::sites::Profile`) matched site by site
//! with `memprobe::sites::ProfileDiff` (one source for the matching and the order: by function,
//! largest growth in bytes allocated first), each site's allocations, bytes and live bytes judged
//! as [`FigureDiff`]s, and the sites new in NEW or gone from it set apart. Plain data for the
//! renderers.
//!
//! # Rules
//!
//! - Profiles sampled at different rates are comparable: every figure is an unbiased estimate of
//!   the same quantity. The difference is marked ([`SitesDiff::sampling_differs`]), never refused.
//! - Exact profiles (every allocation sampled) are compared exactly. An estimated figure's change
//!   within three standard deviations of the sampling error is [`Change::SamplingNoise`], never
//!   growth: with a mean interval of `T` bytes, an estimate of `B` bytes has a variance of at most
//!   `T·B` (each sample weighs about `T`; allocations larger than `T` weigh their own size and
//!   vary less), and a count estimate `C` of a site with `B` bytes about `C²·T/B`.
//! - `--fail-if-growth` applies, when the sides *are* site profiles, to bytes allocated: the
//!   profile's total and each site's. Counts and live bytes are reported, not gated. In a report
//!   directory a test's own exact figures gate it, and its sites only explain them (no site fails
//!   a test).
//! - Sites new in NEW or gone from it never fail the comparison, as tests new or gone do not.

use super::figure::{Change, FigureDiff, judge};
use super::load::{Metric, Value};
use memprobe::sites::{Profile, ProfileDiff, SiteStats};
use memprobe::units::Growth;
use serde::Serialize;
use std::collections::HashMap;

/// How many sites a report directory's per-test output shows (`--json` has them all).
pub(crate) const TOP: usize = 10;

/// How many standard deviations of sampling error an estimated change must exceed to count.
const SIGMAS: f64 = 3.0;

/// One site present in both profiles.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct SiteRow {
    /// The site's function (demangled, without its hash).
    pub(crate) function: String,
    /// `file:line` of its first sample, when debug info has it (NEW's, else BASE's).
    pub(crate) location: Option<String>,
    /// Allocations, bytes allocated and live bytes, BASE against NEW.
    pub(crate) figures: Vec<FigureDiff>,
    /// Whether its bytes grew past `--fail-if-growth` (site profiles only).
    pub(crate) failed: bool,
}

impl SiteRow {
    /// Whether any figure differs beyond noise.
    pub(crate) fn changed(&self) -> bool {
        self.figures
            .iter()
            .any(|f| !matches!(f.change, Change::Same | Change::SamplingNoise))
    }

    /// The figure `metric`, if the row has it.
    pub(crate) fn figure(&self, metric: Metric) -> Option<&FigureDiff> {
        self.figures.iter().find(|f| f.metric == metric)
    }
}

/// A site present in one profile only.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct LoneSite {
    /// The site's function.
    pub(crate) function: String,
    /// `file:line`, when known.
    pub(crate) location: Option<String>,
    /// Estimated allocations in the profile that has it.
    pub(crate) alloc_count: u64,
    /// Estimated bytes allocated.
    pub(crate) alloc_bytes: u64,
    /// Estimated live bytes.
    pub(crate) live_bytes: u64,
}

/// Two profiles' sites, compared.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct SitesDiff {
    /// Mean sampling interval in bytes of BASE and NEW; 0 for an exact profile.
    pub(crate) mean_interval_bytes: [u64; 2],
    /// Whether the sides were sampled at different rates (comparable: both are estimates of
    /// the same figures).
    pub(crate) sampling_differs: bool,
    /// Samples each side dropped because its table was full (non-zero: its figures are low).
    pub(crate) dropped_samples: [u64; 2],
    /// Sites in both profiles, largest growth in bytes allocated first.
    pub(crate) sites: Vec<SiteRow>,
    /// Sites only in NEW, heaviest first.
    pub(crate) added: Vec<LoneSite>,
    /// Sites only in BASE, heaviest first.
    pub(crate) removed: Vec<LoneSite>,
    /// Whether a site's bytes grew past `--fail-if-growth`.
    pub(crate) failed: bool,
}

impl SitesDiff {
    /// Whether either side is an estimate (sampled, not exact).
    pub(crate) fn estimated(&self) -> bool {
        self.mean_interval_bytes.iter().any(|&m| m > 0)
    }

    /// Whether any site changed beyond noise, appeared or went.
    pub(crate) fn changed(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty() || self.sites.iter().any(|s| s.changed())
    }
}

/// Compares `base` and `new` site by site; `thresholds` gate bytes allocated (empty: report
/// only, as in a report directory).
pub(crate) fn compare(base: &Profile, new: &Profile, thresholds: &[Growth]) -> SitesDiff {
    let where_base: HashMap<&str, Option<&String>> = base
        .sites
        .iter()
        .map(|s| (s.function.as_str(), s.location.as_ref()))
        .collect();
    let where_new: HashMap<&str, Option<&String>> = new
        .sites
        .iter()
        .map(|s| (s.function.as_str(), s.location.as_ref()))
        .collect();
    let means = [base.mean_interval_bytes, new.mean_interval_bytes];
    let mut diff = SitesDiff {
        mean_interval_bytes: means,
        sampling_differs: means[0] != means[1],
        dropped_samples: [base.dropped_samples, new.dropped_samples],
        sites: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        failed: false,
    };
    let lone = |function: &str, location: Option<&String>, s: &SiteStats| LoneSite {
        function: function.to_owned(),
        location: location.cloned(),
        alloc_count: s.alloc_count,
        alloc_bytes: s.alloc_bytes,
        live_bytes: s.live_bytes,
    };
    for d in ProfileDiff::new(base, new).sites {
        match (
            where_base.get(d.function.as_str()),
            where_new.get(d.function.as_str()),
        ) {
            (Some(b), Some(n)) => {
                let figures = figures(&d.before, &d.after, means, thresholds);
                diff.sites.push(SiteRow {
                    failed: figures
                        .iter()
                        .any(|f| f.change == Change::GrewPastThreshold),
                    location: n.or(*b).cloned(),
                    function: d.function,
                    figures,
                });
            }
            (None, Some(n)) => diff.added.push(lone(&d.function, *n, &d.after)),
            (Some(b), None) => diff.removed.push(lone(&d.function, *b, &d.before)),
            (None, None) => {}
        }
    }
    for list in [&mut diff.added, &mut diff.removed] {
        list.sort_by(|a, b| {
            b.alloc_bytes
                .cmp(&a.alloc_bytes)
                .then_with(|| a.function.cmp(&b.function))
        });
    }
    diff.failed = diff.sites.iter().any(|s| s.failed);
    diff
}

/// Allocations, bytes and live bytes of one site (or a profile's totals), judged: bytes
/// allocated against `thresholds`, estimates against their sampling error.
pub(crate) fn figures(
    base: &SiteStats,
    new: &SiteStats,
    means: [u64; 2],
    thresholds: &[Growth],
) -> Vec<FigureDiff> {
    let int = |v: u64| Value::Int(i64::try_from(v).unwrap_or(i64::MAX));
    let sides = [base, new];
    [
        (Metric::Allocations, base.alloc_count, new.alloc_count),
        (Metric::AllocBytes, base.alloc_bytes, new.alloc_bytes),
        (Metric::LiveBytes, base.live_bytes, new.live_bytes),
    ]
    .into_iter()
    .map(|(metric, b, n)| {
        let variance: f64 = sides
            .iter()
            .zip(means)
            .zip([b, n])
            .map(|((s, mean), v)| variance(metric, v, s.alloc_bytes, mean))
            .sum();
        let noise = (variance > 0.0).then(|| (SIGMAS * variance.sqrt(), Change::SamplingNoise));
        let gate: &[Growth] = if metric == Metric::AllocBytes {
            thresholds
        } else {
            &[]
        };
        judge(metric, Some(int(b)), Some(int(n)), gate, noise)
    })
    .collect()
}

/// Upper bound of the variance of an estimated figure `value` of a site that allocated
/// `alloc_bytes`, sampled once per `mean` bytes on average (0: exact, no variance).
fn variance(metric: Metric, value: u64, alloc_bytes: u64, mean: u64) -> f64 {
    if mean == 0 || alloc_bytes == 0 {
        return 0.0;
    }
    let (v, t) = (value as f64, mean as f64);
    if metric.is_bytes() {
        t * v
    } else {
        v * v * t / alloc_bytes as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_is_exact_and_estimates_have_a_noise_allowance() {
        let stats = |bytes: u64| {
            let mut s = SiteStats::default();
            s.alloc_bytes = bytes;
            s.alloc_count = bytes / 64;
            s
        };
        let ten: Vec<Growth> = vec!["10%".parse().unwrap()];
        // Exact: +1 byte is a change, +20% fails.
        let f = figures(&stats(1000), &stats(1001), [0, 0], &ten);
        assert_eq!(f[1].change, Change::Increased);
        let f = figures(&stats(1000), &stats(1200), [0, 0], &ten);
        assert_eq!(f[1].change, Change::GrewPastThreshold);
        assert_eq!(f[0].change, Change::Increased, "counts are not gated");
        // Sampled at 512 KiB, 10 MiB against 11 MiB: 3·sqrt(T·10 MiB + T·11 MiB) ≈ 9.7 MiB, so
        // +1 MiB is noise; against 40 MiB the allowance is ≈ 15 MiB and +30 MiB is growth.
        let mean = 512 * 1024;
        let f = figures(&stats(10 << 20), &stats(11 << 20), [mean, mean], &ten);
        assert_eq!(f[1].change, Change::SamplingNoise);
        let f = figures(&stats(10 << 20), &stats(40 << 20), [mean, mean], &ten);
        assert_eq!(f[1].change, Change::GrewPastThreshold);
        assert_eq!(variance(Metric::AllocBytes, 100, 100, 0), 0.0);
    }
}
