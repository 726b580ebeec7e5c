//! The recorder: what the run keeps of each tick once it is written: counts, first and last
//! readings, peaks, the phases met, the run's notes, and the verdict's bounded copy of the series
//! (which the status line reads too). It consumes [`Tick`]s and reads nothing itself.

use super::sampler::Tick;
use super::tree::LIST_MAX;
use crate::verdict::RunSeries;
use memprobe::MemorySnapshot;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct PhaseMark {
    pub(super) name: String,
    pub(super) t_ns: u64,
    pub(super) iteration: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct Peaks {
    pub(super) rss_bytes: u64,
    pub(super) anon_swap_bytes: Option<u64>,
    pub(super) vm_hwm_bytes: Option<u64>,
    pub(super) tree_rss_bytes: Option<u64>,
    pub(super) cgroup_usage_bytes: Option<u64>,
    pub(super) cgroup_peak_bytes: Option<u64>,
    pub(super) jemalloc_allocated_bytes: Option<u64>,
    pub(super) jemalloc_resident_bytes: Option<u64>,
}

/// What the run keeps of its samples: counts, first and last readings, peaks and the verdict's
/// bounded copy of the series.
#[derive(Debug)]
pub(super) struct Recorder {
    pub(super) samples: u64,
    /// Time of the last sample, ns since the run started.
    pub(super) last_t_ns: u64,
    pub(super) first: Option<MemorySnapshot>,
    pub(super) last: Option<MemorySnapshot>,
    pub(super) peaks: Peaks,
    pub(super) judged: RunSeries,
    /// Phases the process published (the first [`LIST_MAX`]).
    pub(super) phases: Vec<PhaseMark>,
    /// What the summary should say about the run, in the order it happened.
    pub(super) notes: Vec<String>,
}

impl Recorder {
    pub(super) fn new(tree: bool) -> Self {
        Recorder {
            samples: 0,
            last_t_ns: 0,
            first: None,
            last: None,
            peaks: Peaks::default(),
            judged: RunSeries::new(tree),
            phases: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Records one tick.
    pub(super) fn record(&mut self, tick: &Tick<'_>) {
        let Tick {
            t_ns,
            ref mem,
            tree,
            cgroup,
            published,
            ..
        } = *tick;
        let tree = tree.map(|(totals, _)| totals);
        if let Some(stats) = published.filter(|_| tick.phase_started) {
            if self.phases.len() < LIST_MAX {
                self.phases.push(PhaseMark {
                    name: stats.phase.clone(),
                    t_ns,
                    iteration: stats.iteration,
                });
            }
        }
        self.samples += 1;
        self.last_t_ns = t_ns;
        self.first.get_or_insert(*mem);
        self.last = Some(*mem);
        // The verdict's copy: published first, as `verdict FILE.jsonl` reads a line.
        if let Some(stats) = published {
            self.judged.record_published(t_ns, stats);
        }
        match tree {
            Some(t) => self
                .judged
                .record_proc(t_ns, t.rss_bytes, Some(t.anon_swap_bytes)),
            None => self.judged.record_proc(
                t_ns,
                mem.rss_bytes,
                mem.rss_anon_bytes
                    .map(|a| a.saturating_add(mem.swap_bytes.unwrap_or(0))),
            ),
        }
        let p = &mut self.peaks;
        p.rss_bytes = p.rss_bytes.max(mem.rss_bytes);
        if let Some(anon) = mem.rss_anon_bytes {
            let v = anon.saturating_add(mem.swap_bytes.unwrap_or(0));
            p.anon_swap_bytes = Some(p.anon_swap_bytes.unwrap_or(0).max(v));
        }
        if let Some(h) = mem.peak_rss_bytes {
            p.vm_hwm_bytes = Some(p.vm_hwm_bytes.unwrap_or(0).max(h));
        }
        if let Some(t) = tree {
            p.tree_rss_bytes = Some(p.tree_rss_bytes.unwrap_or(0).max(t.rss_bytes));
        }
        if let Some(c) = cgroup {
            p.cgroup_usage_bytes = Some(p.cgroup_usage_bytes.unwrap_or(0).max(c.usage_bytes));
            if let Some(peak) = c.peak_bytes {
                p.cgroup_peak_bytes = Some(p.cgroup_peak_bytes.unwrap_or(0).max(peak));
            }
        }
        if let Some(j) = published.and_then(|p| p.jemalloc) {
            p.jemalloc_allocated_bytes = Some(
                p.jemalloc_allocated_bytes
                    .unwrap_or(0)
                    .max(j.allocated_bytes),
            );
            p.jemalloc_resident_bytes =
                Some(p.jemalloc_resident_bytes.unwrap_or(0).max(j.resident_bytes));
        }
    }
}
