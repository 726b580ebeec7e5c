//! Each kind of file as an [`Entry`]: a test report, a site profile, a `watch --summary`.

use super::entry::{Entry, Metric, Source, Value};
use memprobe::Report;
use memprobe::sites::Profile;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

fn int(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

pub(super) fn from_report(path: &Path, report: &Report) -> Entry {
    let name = report.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    let a = &report.allocs;
    let mut figures = BTreeMap::from([
        (Metric::Allocations, int(a.allocations())),
        (Metric::AllocBytes, int(a.alloc_bytes)),
        (Metric::PeakBytes, int(a.peak_bytes)),
        (Metric::NetBytes, Value::Int(a.net_bytes)),
    ]);
    if report.iterations > 1 {
        let per = report.per_iteration();
        figures.insert(
            Metric::AllocationsPerIteration,
            Value::Float(per.allocations),
        );
        figures.insert(
            Metric::AllocBytesPerIteration,
            Value::Float(per.alloc_bytes),
        );
        figures.insert(Metric::NetBytesPerIteration, Value::Float(per.net_bytes));
    }
    if let Some(rss) = &report.rss {
        figures.insert(Metric::RssGrowthBytes, Value::Int(rss.delta_rss_bytes));
        if let Some(peak) = rss.peak_rss_bytes {
            figures.insert(Metric::PeakRssBytes, int(peak));
        }
    }
    Entry {
        name,
        source: report
            .source_file
            .clone()
            .zip(report.source_line)
            .map(|(file, line)| Source { file, line }),
        iterations: report.iterations,
        figures,
        sites: None,
    }
}

/// A site profile as an entry: its totals are the figures, the profile rides along.
pub(super) fn from_profile(name: String, profile: Profile) -> Entry {
    let t = &profile.total;
    Entry {
        name,
        source: None,
        iterations: 1,
        figures: BTreeMap::from([
            (Metric::Allocations, int(t.alloc_count)),
            (Metric::AllocBytes, int(t.alloc_bytes)),
            (Metric::LiveBytes, int(t.live_bytes)),
        ]),
        sites: Some(profile),
    }
}

/// The parts of a `watch --summary` file a comparison reads (the writer is
/// `crate::watch::summary`; every field here is optional so a summary written mid-run reads too).
#[derive(Debug, Deserialize)]
pub(super) struct SummaryFile {
    command: Option<Vec<String>>,
    target: Option<SummaryTarget>,
    peaks: Option<SummaryPeaks>,
    last: Option<SummarySnapshot>,
    published: Option<SummaryPublished>,
}

#[derive(Debug, Deserialize)]
struct SummaryTarget {
    pid: u32,
}

#[derive(Debug, Deserialize)]
struct SummaryPeaks {
    vm_hwm_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct SummarySnapshot {
    rss_bytes: u64,
}

#[derive(Debug, Deserialize)]
struct SummaryPublished {
    counting: Option<memprobe::AllocTotals>,
    #[serde(default)]
    iteration: u64,
}

pub(super) fn from_summary(summary: &SummaryFile) -> Entry {
    let name = match (&summary.command, &summary.target) {
        (Some(argv), _) if !argv.is_empty() => {
            let program = Path::new(&argv[0])
                .file_name()
                .map_or_else(|| argv[0].clone(), |p| p.to_string_lossy().into_owned());
            std::iter::once(program)
                .chain(argv[1..].iter().cloned())
                .collect::<Vec<_>>()
                .join(" ")
        }
        (_, Some(target)) => format!("pid {}", target.pid),
        _ => "soak".to_owned(),
    };
    let mut figures = BTreeMap::new();
    let published = summary.published.as_ref();
    let iterations = published.map_or(0, |p| p.iteration);
    if let Some(c) = published.and_then(|p| p.counting.as_ref()) {
        let allocations = c.alloc_count + c.realloc_count;
        let net = i64::try_from(i128::from(c.alloc_bytes) - i128::from(c.freed_bytes))
            .unwrap_or(i64::MAX);
        figures.insert(Metric::Allocations, int(allocations));
        figures.insert(Metric::AllocBytes, int(c.alloc_bytes));
        figures.insert(Metric::NetBytes, Value::Int(net));
        if iterations > 0 {
            let n = iterations as f64;
            figures.insert(
                Metric::AllocationsPerIteration,
                Value::Float(allocations as f64 / n),
            );
            figures.insert(
                Metric::AllocBytesPerIteration,
                Value::Float(c.alloc_bytes as f64 / n),
            );
            figures.insert(Metric::NetBytesPerIteration, Value::Float(net as f64 / n));
        }
    }
    if let Some(peak) = summary.peaks.as_ref().and_then(|p| p.vm_hwm_bytes) {
        figures.insert(Metric::PeakRssBytes, int(peak));
    }
    if let Some(last) = &summary.last {
        figures.insert(Metric::FinalRssBytes, int(last.rss_bytes));
    }
    Entry {
        name,
        source: None,
        iterations,
        figures,
        sites: None,
    }
}
