//! Series adaptation: the daemon's samples (a tick's `/proc` figures, a refresh of the published
//! record) kept in [`RunSeries`] and turned into [`memprobe::trend`] series to judge.

use crate::config::JudgeConfig;
use anyhow::{Result, bail};
use memprobe::publish::PublishedStats;
use memprobe::trend::{self, BoundedSeries, Sample, Series, SeriesChoice, SeriesKind, Verdict};
use serde::Serialize;

/// Samples kept per series: each stands for a stride of consecutive samples (their min, mean and
/// max), so a run of any length costs the same. 2,048 is what the engine bins a series into
/// anyway.
pub(crate) const KEEP: usize = 2048;

/// How many samples the verdict was given, and how they were thinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct VerdictInput {
    /// `/proc` samples taken.
    pub(crate) proc_samples: u64,
    /// `/proc` samples judged: each the min, mean and max of up to `proc_stride` samples.
    pub(crate) proc_kept: usize,
    /// `/proc` samples merged into each judged one.
    pub(crate) proc_stride: u64,
    /// Refreshes of the published record read.
    pub(crate) published_samples: u64,
    /// Published samples judged: each the min, mean and max of up to `published_stride`.
    pub(crate) published_kept: usize,
    /// Published samples merged into each judged one.
    pub(crate) published_stride: u64,
    /// Whether the `/proc` series are summed over the process tree.
    pub(crate) tree: bool,
    /// Whether the process marked iterations (the x-axis is then iterations).
    pub(crate) iterations_marked: bool,
}

/// The `/proc` series of a run, decimated.
#[derive(Debug, Clone)]
struct ProcSeries {
    rss: BoundedSeries,
    anon_swap: BoundedSeries,
}

impl ProcSeries {
    fn new() -> Self {
        ProcSeries {
            rss: BoundedSeries::new(SeriesKind::Rss, KEEP),
            anon_swap: BoundedSeries::new(SeriesKind::RssAnonPlusSwap, KEEP),
        }
    }

    fn push(&mut self, t_ns: u64, rss: u64, anon_swap: Option<u64>, iteration: Option<u64>) {
        let sample = |bytes: u64| {
            let s = Sample::new(t_ns as f64 / 1e9, bytes as f64);
            match iteration {
                Some(i) => s.with_iteration(i),
                None => s,
            }
        };
        self.rss.push(sample(rss));
        if let Some(v) = anon_swap {
            self.anon_swap.push(sample(v));
        }
    }
}

/// The series fed by the published record: made on its first refresh, so watching a process
/// that never publishes keeps only the two `/proc` series.
#[derive(Debug, Clone)]
struct PublishedSeries {
    /// The ticks after the first published record, with its iteration count: the iteration
    /// axis, when the process marks iterations.
    marked_procs: ProcSeries,
    /// jemalloc allocated, active, resident.
    jemalloc: [BoundedSeries; 3],
    live: BoundedSeries,
}

impl PublishedSeries {
    fn new() -> Self {
        PublishedSeries {
            marked_procs: ProcSeries::new(),
            jemalloc: [
                SeriesKind::JemallocAllocated,
                SeriesKind::JemallocActive,
                SeriesKind::JemallocResident,
            ]
            .map(|k| BoundedSeries::new(k, KEEP)),
            live: BoundedSeries::new(SeriesKind::AllocatorLive, KEEP),
        }
    }
}

/// The samples of one run, kept for the verdict: every series decimated into at most [`KEEP`]
/// samples of min, mean and max ([`BoundedSeries`]), each allocated and touched in full when it
/// is made, so the daemon's resident memory does not grow as they fill.
#[derive(Debug, Clone)]
pub(crate) struct RunSeries {
    tree: bool,
    /// Every tick, on the time axis.
    procs: ProcSeries,
    /// From the first refresh of the published record on.
    published: Option<Box<PublishedSeries>>,
    published_seen: u64,
    last_iteration: Option<u64>,
    max_iteration: u64,
}

impl Default for RunSeries {
    fn default() -> Self {
        RunSeries {
            tree: false,
            procs: ProcSeries::new(),
            published: None,
            published_seen: 0,
            last_iteration: None,
            max_iteration: 0,
        }
    }
}

impl RunSeries {
    /// Whether the `/proc` figures are the tree's totals.
    pub(crate) fn tree(&self) -> bool {
        self.tree
    }

    /// An empty run; `tree` when its `/proc` figures are tree totals.
    pub(crate) fn new(tree: bool) -> Self {
        RunSeries {
            tree,
            ..RunSeries::default()
        }
    }

    /// Records one tick's `/proc` figures: RSS and RssAnon + VmSwap (of the tree with `--tree`).
    pub(crate) fn record_proc(&mut self, t_ns: u64, rss_bytes: u64, anon_swap_bytes: Option<u64>) {
        self.procs.push(t_ns, rss_bytes, anon_swap_bytes, None);
        if let (Some(i), Some(p)) = (self.last_iteration, self.published.as_mut()) {
            p.marked_procs
                .push(t_ns, rss_bytes, anon_swap_bytes, Some(i));
        }
    }

    /// Records a refresh of the published record read at `t_ns`. Call it before
    /// [`record_proc`](Self::record_proc) for the same tick, as `watch` reads the record first.
    pub(crate) fn record_published(&mut self, t_ns: u64, stats: &PublishedStats) {
        self.last_iteration = Some(stats.iteration);
        self.max_iteration = self.max_iteration.max(stats.iteration);
        self.published_seen += 1;
        let t = t_ns as f64 / 1e9;
        let sample = |bytes: f64| Sample::new(t, bytes).with_iteration(stats.iteration);
        let published = self
            .published
            .get_or_insert_with(|| Box::new(PublishedSeries::new()));
        if let Some(j) = stats.jemalloc {
            for (series, v) in published.jemalloc.iter_mut().zip([
                j.allocated_bytes,
                j.active_bytes,
                j.resident_bytes,
            ]) {
                series.push(sample(v as f64));
            }
        }
        if let Some(c) = stats.counting {
            published.live.push(sample(c.live_bytes() as f64));
        }
    }

    /// The `/proc` series judged: on iterations when the process marks them.
    fn judged_procs(&self) -> &ProcSeries {
        match &self.published {
            Some(p) if self.max_iteration > 0 => &p.marked_procs,
            _ => &self.procs,
        }
    }

    /// The series a status line shows growth of, as `choice` will most likely be judged, with its
    /// name: the change from its first kept value to its last (`None` before two values).
    pub(crate) fn status_growth(&self, choice: SeriesChoice) -> (&'static str, Option<i64>) {
        fn growth(series: &BoundedSeries) -> Option<i64> {
            let s = series.series();
            let first = s.samples.first()?;
            let last = s.samples.last().unwrap_or(first);
            Some((last.bytes - first.bytes).round() as i64)
        }
        let anon = &self.procs.anon_swap;
        let rss = &self.procs.rss;
        let allocated = self.published.as_ref().map(|p| &p.jemalloc[0]);
        let (anon_name, rss_name) = if self.tree {
            ("tree RssAnon+VmSwap", "tree RSS")
        } else {
            ("RssAnon+VmSwap", "RSS")
        };
        let has_allocated = allocated.is_some_and(|a| !a.is_empty());
        let has_anon = !anon.is_empty();
        match choice {
            SeriesChoice::Kind(SeriesKind::Rss) => (rss_name, growth(rss)),
            SeriesChoice::Kind(SeriesKind::RssAnonPlusSwap) => (anon_name, growth(anon)),
            SeriesChoice::Kind(_) => ("jemalloc allocated", allocated.and_then(growth)),
            SeriesChoice::Auto if !self.tree && has_allocated => {
                ("jemalloc allocated", allocated.and_then(growth))
            }
            SeriesChoice::Auto if has_anon => (anon_name, growth(anon)),
            SeriesChoice::Auto => (rss_name, growth(rss)),
        }
    }

    /// What the verdict is given.
    pub(crate) fn input(&self) -> VerdictInput {
        VerdictInput {
            proc_samples: self.procs.rss.readings(),
            proc_kept: self.judged_procs().rss.len(),
            proc_stride: self.judged_procs().rss.stride(),
            published_samples: self.published_seen,
            published_kept: self
                .published
                .as_ref()
                .map_or(0, |p| p.jemalloc[0].len().max(p.live.len())),
            published_stride: self
                .published
                .as_ref()
                .map_or(1, |p| p.jemalloc[0].stride().max(p.live.stride())),
            tree: self.tree,
            iterations_marked: self.max_iteration > 0,
        }
    }

    /// The series offered to the engine for `choice`.
    pub(crate) fn series(&self, choice: SeriesChoice) -> Vec<Series> {
        let procs = self.judged_procs();
        let mut out = vec![procs.rss.series()];
        if !procs.anon_swap.is_empty() {
            out.push(procs.anon_swap.series());
        }
        let allocator_chosen = matches!(choice, SeriesChoice::Kind(k) if !matches!(k, SeriesKind::Rss | SeriesKind::RssAnonPlusSwap));
        if self.tree && !allocator_chosen {
            return out;
        }
        let Some(published) = &self.published else {
            return out;
        };
        out.extend(
            published
                .jemalloc
                .iter()
                .chain([&published.live])
                .filter(|s| !s.is_empty())
                .map(BoundedSeries::series),
        );
        out
    }

    /// Judges the run.
    ///
    /// # Errors
    ///
    /// When `--series` names a published series the process never published, or the engine
    /// refuses the settings (`--warmup 100it` without iteration marks).
    pub(crate) fn judge(&self, config: &JudgeConfig) -> Result<Verdict> {
        let mut trend = config.trend.clone();
        let series = self.series(trend.series);
        if let SeriesChoice::Kind(kind) = trend.series {
            if !series.iter().any(|s| s.kind == kind) {
                match kind {
                    SeriesKind::Rss | SeriesKind::RssAnonPlusSwap => {}
                    SeriesKind::AllocatorLive => bail!(
                        "--series {}: the process published no counting-allocator figures (it needs memprobe's `publish` feature, memprobe::global_allocator!, and a call to memprobe::publish::start())",
                        kind.key()
                    ),
                    _ => bail!(
                        "--series {}: the process published no jemalloc figures (it needs memprobe's `publish` feature, jemalloc as its global allocator, and a call to memprobe::publish::start())",
                        if kind == SeriesKind::JemallocAllocated {
                            "allocated"
                        } else {
                            kind.key()
                        }
                    ),
                }
            }
        }
        // Nothing measured at all (the target exited at once): judge the empty RSS series, which
        // the engine calls inconclusive with "only 0 samples".
        if trend.series == SeriesChoice::Auto && series.iter().all(Series::is_empty) {
            trend = trend.series(SeriesChoice::Kind(SeriesKind::Rss));
        }
        let mut verdict = trend::analyze(&trend, &series).map_err(|e| {
            let message = e.to_string();
            anyhow::anyhow!(
                "judging the run: {}",
                message.strip_prefix("memprobe: ").unwrap_or(&message)
            )
        })?;
        if self.tree
            && matches!(
                verdict.evidence.series,
                SeriesKind::Rss | SeriesKind::RssAnonPlusSwap
            )
        {
            // The same form as the engine's own notes: in the evidence and after the sentence.
            let note = "summed over the process tree";
            verdict.evidence.notes.push(note.to_owned());
            verdict.summary.push_str(&format!(" ({note})"));
        }
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InconclusiveExit;
    use memprobe::trend::{TrendConfig, VerdictKind};
    use memprobe::units::Growth;

    fn judge_config(thresholds: &[Growth], allow_fragmentation: bool) -> JudgeConfig {
        JudgeConfig {
            trend: TrendConfig::new()
                .fail_if_growth_all(thresholds.iter().copied())
                .allow_fragmentation(allow_fragmentation),
            enforced: true,
            inconclusive: InconclusiveExit::Inconclusive,
            github: false,
        }
    }

    fn published(iteration: u64, allocated: u64, resident: u64) -> PublishedStats {
        let mut p = PublishedStats::default();
        p.iteration = iteration;
        let mut j = memprobe::JemallocStats::default();
        j.allocated_bytes = allocated;
        j.active_bytes = allocated;
        j.resident_bytes = resident;
        p.jemalloc = Some(j);
        p
    }

    const MIB: u64 = 1 << 20;

    #[test]
    fn status_line_growth_follows_the_series_choice() {
        let mut run = RunSeries::new(false);
        assert_eq!(run.status_growth(SeriesChoice::Auto), ("RSS", None));
        run.record_proc(0, 10 * MIB, None);
        run.record_proc(1, 12 * MIB, None);
        // No RssAnon yet: auto falls back to RSS.
        assert_eq!(
            run.status_growth(SeriesChoice::Auto),
            ("RSS", Some(2 * MIB as i64))
        );
        run.record_proc(2, 11 * MIB, Some(5 * MIB));
        run.record_proc(3, 9 * MIB, Some(4 * MIB));
        assert_eq!(
            run.status_growth(SeriesChoice::Auto),
            ("RssAnon+VmSwap", Some(-(MIB as i64)))
        );
        assert_eq!(
            run.status_growth(SeriesChoice::Kind(SeriesKind::Rss)),
            ("RSS", Some(-(MIB as i64)))
        );
        run.record_published(4, &published(1, 3 * MIB, 8 * MIB));
        run.record_published(5, &published(2, 6 * MIB, 8 * MIB));
        assert_eq!(
            run.status_growth(SeriesChoice::Auto),
            ("jemalloc allocated", Some(3 * MIB as i64))
        );
        let mut tree = RunSeries::new(true);
        tree.record_proc(0, 10 * MIB, Some(MIB));
        tree.record_published(0, &published(1, 3 * MIB, 8 * MIB));
        // With --tree, auto judges the tree's /proc series, not the root's published ones.
        assert_eq!(
            tree.status_growth(SeriesChoice::Auto),
            ("tree RssAnon+VmSwap", Some(0))
        );
    }

    #[test]
    fn fragmentation_fails_unless_allowed() {
        // The heap stays flat at 50 MiB while RSS creeps up 1 MiB a second.
        let mut run = RunSeries::new(false);
        for i in 0..100u64 {
            let t = i * 1_000_000_000;
            run.record_published(t, &published(i + 1, 50 * MIB, 60 * MIB));
            run.record_proc(t, 80 * MIB + i * MIB, Some(70 * MIB + i * MIB));
        }
        let c = judge_config(&[Growth::Percent(5.0)], false);
        let v = run.judge(&c).unwrap();
        assert_eq!(v.kind, VerdictKind::Fragmentation, "{}", v.summary);
        assert_eq!(v.evidence.series, SeriesKind::JemallocAllocated);
        assert_eq!(v.evidence.axis, trend::Axis::Iterations);
        assert_eq!(c.exit_code(&v), 1);
        let allowed = judge_config(&[Growth::Percent(5.0)], true);
        assert_eq!(allowed.exit_code(&run.judge(&allowed).unwrap()), 0);
        let mut report_only = c.clone();
        report_only.enforced = false;
        assert_eq!(report_only.exit_code(&v), 0);
    }

    #[test]
    fn proc_rows_before_the_first_record_are_left_out_on_iterations() {
        let mut run = RunSeries::new(false);
        for i in 0..40u64 {
            let t = i * 100_000_000;
            if i >= 5 {
                run.record_published(t, &published(i, 10 * MIB + i * MIB, 20 * MIB));
            }
            run.record_proc(t, 30 * MIB + i * MIB, Some(20 * MIB + i * MIB));
        }
        let series = run.series(SeriesChoice::Auto);
        let rss = series.iter().find(|s| s.kind == SeriesKind::Rss).unwrap();
        assert_eq!(rss.len(), 35);
        assert!(rss.samples.iter().all(|s| s.iteration.is_some()));
        let v = run
            .judge(&judge_config(&[Growth::Percent(5.0)], false))
            .unwrap();
        assert_eq!(v.kind, VerdictKind::Growth, "{}", v.summary);
        assert_eq!(v.evidence.series, SeriesKind::JemallocAllocated);
        assert!(
            v.summary.contains("MiB/iteration"),
            "judged per iteration: {}",
            v.summary
        );
    }

    #[test]
    fn tree_runs_judge_the_tree_and_say_so() {
        let mut run = RunSeries::new(true);
        for i in 0..50u64 {
            run.record_published(i * 1_000_000_000, &published(0, MIB, MIB));
            run.record_proc(i * 1_000_000_000, 100 * MIB, Some(90 * MIB + i * MIB));
        }
        let series = run.series(SeriesChoice::Auto);
        assert_eq!(series.len(), 2, "no root-only published series");
        let v = run
            .judge(&judge_config(&[Growth::Percent(5.0)], false))
            .unwrap();
        assert_eq!(v.kind, VerdictKind::Growth, "{}", v.summary);
        assert_eq!(v.evidence.series, SeriesKind::RssAnonPlusSwap);
        assert!(
            v.summary.ends_with("(summed over the process tree)"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn missing_published_series_is_an_error_and_nothing_is_inconclusive() {
        let mut run = RunSeries::new(false);
        run.record_proc(0, MIB, Some(MIB));
        let mut c = judge_config(&[Growth::Percent(5.0)], false);
        c.trend = c
            .trend
            .series(SeriesChoice::Kind(SeriesKind::JemallocAllocated));
        let e = format!("{:#}", run.judge(&c).unwrap_err());
        assert!(
            e.starts_with("--series allocated: the process published no jemalloc figures"),
            "{e}"
        );
        let empty = RunSeries::new(false);
        let v = empty
            .judge(&judge_config(&[Growth::Percent(5.0)], false))
            .unwrap();
        assert!(
            matches!(v.kind, VerdictKind::Inconclusive { .. }),
            "{}",
            v.summary
        );
    }
}
