//! The comparison itself: per test (or soak) and per figure, BASE against NEW, the absolute and
//! relative change, whether it is noise (RSS within `--rss-noise`) and whether it grows past
//! `--fail-if-growth`. Plain data for the renderers; nothing here formats.
//!
//! # Rules
//!
//! - Exact figures (allocation counts and bytes, per-iteration means) are compared exactly: any
//!   difference is a change.
//! - RSS figures are compared only with `--include-rss`, and a change within the noise allowance
//!   is reported as noise, never as growth.
//! - A figure *grows past* the thresholds when it grew by more than every one of them (as
//!   `watch --fail-if-growth 5%,64MiB`): a percentage is of the BASE figure's magnitude (so any
//!   growth from 0 passes it), a size is in bytes and so never exceeded by an allocation count:
//!   counts fail only under percentages alone (`--fail-if-growth 10%`), and `10%,64MiB` gates
//!   byte figures only.
//! - Tests new in NEW or gone from it are listed apart and never fail the comparison.
//! - Allocation-site profiles are compared per site by [`super::sites`] (its rules: estimates
//!   within their sampling error are noise; thresholds gate bytes allocated, in total and per
//!   site, when the sides are profiles; a report's sites explain its test and never fail it).

pub(crate) use super::figure::{Change, FigureDiff};
use super::figure::{allowance, judge};
use super::load::{Entry, Kind, Metric, Side, Source, Value};
use super::sites::{self, SitesDiff};
use memprobe::units::Growth;
use serde::Serialize;
use std::path::PathBuf;

/// One test (or soak) present on both sides.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Row {
    /// Its name.
    pub(crate) name: String,
    /// Where it is written (NEW's, else BASE's), when the reports say.
    pub(crate) source: Option<Source>,
    /// Measured iterations, BASE and NEW.
    pub(crate) iterations: [u64; 2],
    /// Its figures.
    pub(crate) figures: Vec<FigureDiff>,
    /// Whether a figure (or, comparing site profiles, a site's bytes) grew past the thresholds.
    pub(crate) failed: bool,
    /// Per-site deltas, when both sides carry an allocation-site profile for this test (every
    /// site; the table and markdown of a report directory show the top 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sites: Option<SitesDiff>,
    /// The largest relative growth of a figure that is not noise (infinite when a figure grew
    /// from 0; 0 when nothing grew): the sort key.
    #[serde(skip)]
    pub(crate) worst: f64,
}

impl Row {
    /// Whether any figure (or site) differs beyond noise.
    pub(crate) fn changed(&self) -> bool {
        self.figures.iter().any(|f| {
            !matches!(
                f.change,
                Change::Same | Change::Noise | Change::SamplingNoise
            )
        }) || self.sites.as_ref().is_some_and(SitesDiff::changed)
    }
}

/// A test present on one side only.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Lone {
    /// Its name.
    pub(crate) name: String,
    /// Where it is written, when the report says.
    pub(crate) source: Option<Source>,
}

/// What the comparison was asked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Settings {
    /// `--fail-if-growth`, as parsed (empty: report only).
    pub(crate) fail_if_growth: Vec<Growth>,
    /// `--include-rss`.
    pub(crate) include_rss: bool,
    /// `--rss-noise`: RSS changes within it are noise.
    pub(crate) rss_noise: Growth,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Comparison {
    /// BASE's path.
    pub(crate) base: PathBuf,
    /// NEW's path.
    pub(crate) new: PathBuf,
    /// Reports or summaries.
    pub(crate) kind: Kind,
    /// Schema versions read on each side, deduplicated.
    pub(crate) versions: [Vec<u32>; 2],
    /// What was asked.
    pub(crate) settings: Settings,
    /// Tests on both sides, largest regression first.
    pub(crate) rows: Vec<Row>,
    /// Tests only in NEW.
    pub(crate) added: Vec<Lone>,
    /// Tests only in BASE.
    pub(crate) removed: Vec<Lone>,
    /// Whether a figure grew past the thresholds (exit 1).
    pub(crate) failed: bool,
}

/// Compares two loaded sides.
pub(crate) fn compare(base: Side, new: Side, settings: Settings) -> Comparison {
    let mut base_entries = base.entries;
    let mut new_entries = new.entries;
    // One file against one file (a report, a summary): the same test or soak, whatever the
    // files, test or command are called.
    if base_entries.len() == 1 && new_entries.len() == 1 && !(base.is_dir && new.is_dir) {
        if let (Some((key, b)), Some((_, mut n))) =
            (base_entries.first_key_value(), new_entries.pop_first())
        {
            if n.name != b.name {
                n.name = format!("{} → {}", b.name, n.name);
            }
            new_entries.insert(key.clone(), n);
        }
    }
    let mut rows = Vec::new();
    let mut removed = Vec::new();
    for (key, b) in std::mem::take(&mut base_entries) {
        match new_entries.remove(&key) {
            Some(n) => rows.push(row(&b, &n, base.kind, &settings)),
            None => removed.push(Lone {
                name: b.name,
                source: b.source,
            }),
        }
    }
    let added = new_entries
        .into_values()
        .map(|n| Lone {
            name: n.name,
            source: n.source,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.failed
            .cmp(&a.failed)
            .then(b.worst.total_cmp(&a.worst))
            .then_with(|| a.name.cmp(&b.name))
    });
    let dedup = |mut v: Vec<u32>| {
        v.sort_unstable();
        v.dedup();
        v
    };
    Comparison {
        failed: rows.iter().any(|r| r.failed),
        base: base.path,
        new: new.path,
        kind: base.kind,
        versions: [dedup(base.versions), dedup(new.versions)],
        settings,
        rows,
        added,
        removed,
    }
}

fn row(base: &Entry, new: &Entry, kind: Kind, settings: &Settings) -> Row {
    let site_diff = match (&base.sites, &new.sites) {
        (Some(b), Some(n)) => {
            // Site profiles themselves are gated; a report's sites only explain it.
            let gate: &[Growth] = if kind == Kind::Sites {
                &settings.fail_if_growth
            } else {
                &[]
            };
            Some((sites::compare(b, n, gate), b, n, gate))
        }
        _ => None,
    };
    let figures = match (&site_diff, kind) {
        (Some((d, b, n, gate)), Kind::Sites) => {
            sites::figures(&b.total, &n.total, d.mean_interval_bytes, gate)
        }
        _ => report_figures(base, new, settings),
    };
    let worst = figures
        .iter()
        .filter(|f| matches!(f.change, Change::Increased | Change::GrewPastThreshold))
        .map(|f| f.relative.unwrap_or(f64::INFINITY))
        .fold(0.0, f64::max);
    let sites = site_diff.map(|(d, ..)| d);
    Row {
        name: new.name.clone(),
        source: new.source.clone().or_else(|| base.source.clone()),
        iterations: [base.iterations, new.iterations],
        failed: figures
            .iter()
            .any(|f| f.change == Change::GrewPastThreshold)
            || sites.as_ref().is_some_and(|s| s.failed),
        figures,
        sites,
        worst,
    }
}

fn report_figures(base: &Entry, new: &Entry, settings: &Settings) -> Vec<FigureDiff> {
    let mut metrics: Vec<Metric> = base
        .figures
        .keys()
        .chain(new.figures.keys())
        .copied()
        .collect();
    metrics.sort_unstable();
    metrics.dedup();
    metrics
        .into_iter()
        .filter(|m| settings.include_rss || !m.is_rss())
        .map(|m| {
            figure(
                m,
                base.figures.get(&m).copied(),
                new.figures.get(&m).copied(),
                settings,
            )
        })
        .collect()
}

fn figure(
    metric: Metric,
    base: Option<Value>,
    new: Option<Value>,
    settings: &Settings,
) -> FigureDiff {
    let magnitude = base.map_or(0.0, |b| b.as_f64().abs());
    let noise = metric
        .is_rss()
        .then(|| (allowance(settings.rss_noise, magnitude), Change::Noise));
    judge(metric, base, new, &settings.fail_if_growth, noise)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(name: &str, figures: &[(Metric, i64)]) -> Entry {
        Entry {
            name: name.to_owned(),
            source: None,
            iterations: 1,
            figures: figures.iter().map(|&(m, v)| (m, Value::Int(v))).collect(),
            sites: None,
        }
    }

    fn side(entries: Vec<Entry>) -> Side {
        Side {
            path: PathBuf::from("x"),
            kind: Kind::Reports,
            versions: vec![2],
            is_dir: true,
            entries: entries
                .into_iter()
                .map(|e| (e.name.clone(), e))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn settings(thresholds: &[&str], include_rss: bool) -> Settings {
        Settings {
            fail_if_growth: thresholds.iter().map(|t| t.parse().unwrap()).collect(),
            include_rss,
            rss_noise: "1MiB".parse().unwrap(),
        }
    }

    #[test]
    fn thresholds_all_have_to_be_exceeded_and_sizes_skip_counts() {
        let s = settings(&["10%", "1KiB"], false);
        // +20% but only 200 B: under the size threshold.
        let f = figure(
            Metric::AllocBytes,
            Some(Value::Int(1000)),
            Some(Value::Int(1200)),
            &s,
        );
        assert_eq!(f.change, Change::Increased);
        assert_eq!(f.relative, Some(0.2));
        let f = figure(
            Metric::AllocBytes,
            Some(Value::Int(10_000)),
            Some(Value::Int(12_000)),
            &s,
        );
        assert_eq!(f.change, Change::GrewPastThreshold);
        // Counts never exceed a size: gated by percentages alone.
        let f = figure(
            Metric::Allocations,
            Some(Value::Int(10)),
            Some(Value::Int(12)),
            &s,
        );
        assert_eq!(f.change, Change::Increased);
        let f = figure(
            Metric::Allocations,
            Some(Value::Int(10)),
            Some(Value::Int(12)),
            &settings(&["10%"], false),
        );
        assert_eq!(f.change, Change::GrewPastThreshold);
        let sizes_only = settings(&["1KiB"], false);
        let f = figure(
            Metric::Allocations,
            Some(Value::Int(10)),
            Some(Value::Int(10_000)),
            &sizes_only,
        );
        assert_eq!(f.change, Change::Increased);
        // From 0, any growth is past a percentage; exactly at the threshold is not past it.
        let f = figure(
            Metric::PeakBytes,
            Some(Value::Int(0)),
            Some(Value::Int(1)),
            &settings(&["10%"], false),
        );
        assert_eq!((f.change, f.relative), (Change::GrewPastThreshold, None));
        let f = figure(
            Metric::AllocBytes,
            Some(Value::Int(100)),
            Some(Value::Int(110)),
            &settings(&["10%"], false),
        );
        assert_eq!(f.change, Change::Increased);
        // Net bytes are signed: -100 to -50 is growth of 50, 50% of the magnitude.
        let f = figure(
            Metric::NetBytes,
            Some(Value::Int(-100)),
            Some(Value::Int(-50)),
            &settings(&["10%"], false),
        );
        assert_eq!(
            (f.change, f.delta, f.relative),
            (Change::GrewPastThreshold, Some(Value::Int(50)), Some(0.5))
        );
    }

    #[test]
    fn rss_only_when_asked_and_within_noise_is_noise() {
        let base = side(vec![entry(
            "t",
            &[(Metric::AllocBytes, 10), (Metric::PeakRssBytes, 100 << 20)],
        )]);
        let new = side(vec![entry(
            "t",
            &[
                (Metric::AllocBytes, 10),
                (Metric::PeakRssBytes, (100 << 20) + 4096),
            ],
        )]);
        let c = compare(base.clone(), new.clone(), settings(&["0"], false));
        assert_eq!(
            c.rows[0].figures.len(),
            1,
            "RSS left out without --include-rss"
        );
        assert!(!c.failed);
        let c = compare(base, new, settings(&["0"], true));
        assert_eq!(c.rows[0].figures[1].change, Change::Noise);
        assert!(!c.failed && !c.rows[0].changed());
    }

    #[test]
    fn rows_sort_by_largest_regression_and_lone_tests_are_apart() {
        let base = side(vec![
            entry("a", &[(Metric::AllocBytes, 100)]),
            entry("b", &[(Metric::AllocBytes, 100)]),
            entry("c", &[(Metric::AllocBytes, 100)]),
            entry("gone", &[(Metric::AllocBytes, 1)]),
        ]);
        let new = side(vec![
            entry("a", &[(Metric::AllocBytes, 90)]),
            entry("b", &[(Metric::AllocBytes, 150)]),
            entry("c", &[(Metric::AllocBytes, 300)]),
            entry("fresh", &[(Metric::AllocBytes, 1)]),
        ]);
        let c = compare(base, new, settings(&[], false));
        let names: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        assert_eq!(c.added[0].name, "fresh");
        assert_eq!(c.removed[0].name, "gone");
        assert!(!c.failed, "no threshold: report only");
    }
}
