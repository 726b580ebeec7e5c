//! The growth verdict: the daemon's samples turned into [`memprobe::trend`] series and judged by
//! [`memprobe::trend::analyze`], at the end of `watch` and by `verdict FILE.jsonl`, which re-judges
//! a saved run without sampling again.
//!
//! # Which samples the verdict sees
//!
//! `watch`'s in-memory series ([`crate::series::Downsampled`]) are bucket means: fine for a status
//! line, but a mean hides the noise the engine's windowed check measures, and its time is a
//! bucket's middle. So [`RunSeries`] keeps, beside them, a bounded copy of *raw* samples thinned
//! evenly ([`Thinned`]): every sample until [`KEEP`] are held, then every second one, then every
//! fourth, and so on: the samples kept are exactly those whose index is a multiple of the stride.
//! Raw values keep the noise, even spacing keeps the slope unbiased, and 4,096 samples are plenty:
//! the engine fits its slope on at most 500 block medians anyway. Memory stays bounded for any
//! run length (under 0.5 MiB).
//!
//! Two streams are thinned apart: the `/proc` figures (one row per tick) and the published ones
//! (one row per refresh of the record, ≤ 10 Hz); thinned together, a 1 kHz run would keep almost
//! no published rows.
//!
//! `verdict FILE.jsonl` feeds the file's lines through the same [`RunSeries`] in the same order,
//! so with the same flags it reproduces `watch`'s verdict exactly: the JSONL holds the very values
//! `watch` recorded. (The full-resolution series is on disk; judging all of it would make a
//! re-judged verdict differ from the one `watch` gave for runs over 4,096 samples.)
//!
//! # Series and x-axis
//!
//! Series offered to the engine: `RSS` and `RssAnon+VmSwap` (summed over the tree with `--tree`),
//! and when the process publishes, jemalloc allocated, active and resident and the counting
//! allocator's live bytes. With `--tree` the published series (the root process's only) are
//! offered only when `--series` names one.
//!
//! When the process marks iterations (its published count passes 0), every series is judged on
//! iterations: published rows carry their own count; `/proc` rows carry the last count the daemon
//! had read at that tick (up to ~200 ms old: the record is refreshed at ≤ 10 Hz and read every
//! 100 ms). `/proc` samples taken before the first record cannot be placed on that axis and are
//! left out.

use crate::cli::VerdictArgs;
use crate::config::{InconclusiveExit, JudgeConfig};
use crate::output::SummaryFile;
use anyhow::{Context, Result, bail};
use memprobe::publish::PublishedStats;
use memprobe::trend::{self, Sample, Series, SeriesChoice, SeriesKind, Verdict, VerdictKind};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;

/// Samples of each stream kept for the verdict.
pub const KEEP: usize = 4096;

/// An evenly thinned copy of a stream: at most [`KEEP`] items, those whose index is a multiple of
/// [`stride`](Self::stride), which doubles each time the copy fills up.
///
/// ```text
///  stride 1: 0 1 2 3 … 4095   full ─▶ stride 2: 0 2 4 … 4094, then 4096 4098 …
/// ```
#[derive(Debug, Clone)]
pub struct Thinned<T> {
    items: Vec<T>,
    stride: u64,
    seen: u64,
}

impl<T> Default for Thinned<T> {
    fn default() -> Self {
        Thinned {
            items: Vec::with_capacity(KEEP),
            stride: 1,
            seen: 0,
        }
    }
}

impl<T> Thinned<T> {
    /// Offers the next item of the stream. Never allocates once created.
    pub fn push(&mut self, item: T) {
        let index = self.seen;
        self.seen += 1;
        if index % self.stride != 0 {
            return;
        }
        if self.items.len() == KEEP {
            let mut position = 0;
            self.items.retain(|_| {
                position += 1;
                position % 2 == 1
            });
            self.stride *= 2;
            if index % self.stride != 0 {
                return;
            }
        }
        self.items.push(item);
    }

    /// The items kept, oldest first.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Items offered in all.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// One item kept per this many offered.
    pub fn stride(&self) -> u64 {
        self.stride
    }
}

/// One tick's `/proc` figures.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProcRow {
    t_ns: u64,
    rss_bytes: u64,
    anon_swap_bytes: Option<u64>,
    /// The last published iteration count at this tick.
    iteration: Option<u64>,
}

/// One refresh of the published record.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PublishedRow {
    t_ns: u64,
    iteration: u64,
    /// jemalloc allocated, active, resident.
    jemalloc: Option<[u64; 3]>,
    live_bytes: Option<i64>,
}

/// How many samples the verdict was given, and how they were thinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerdictInput {
    /// `/proc` samples taken.
    pub proc_samples: u64,
    /// `/proc` samples judged (one in `proc_stride`).
    pub proc_kept: usize,
    /// One `/proc` sample judged per this many.
    pub proc_stride: u64,
    /// Refreshes of the published record read.
    pub published_samples: u64,
    /// Published samples judged.
    pub published_kept: usize,
    /// One published sample judged per this many.
    pub published_stride: u64,
    /// Whether the `/proc` series are summed over the process tree.
    pub tree: bool,
    /// Whether the process marked iterations (the x-axis is then iterations).
    pub iterations_marked: bool,
}

/// The samples of one run, kept for the verdict.
#[derive(Debug, Clone, Default)]
pub struct RunSeries {
    tree: bool,
    procs: Thinned<ProcRow>,
    published: Thinned<PublishedRow>,
    last_iteration: Option<u64>,
    max_iteration: u64,
}

impl RunSeries {
    /// An empty run; `tree` when its `/proc` figures are tree totals.
    pub fn new(tree: bool) -> Self {
        RunSeries {
            tree,
            ..RunSeries::default()
        }
    }

    /// Records one tick's `/proc` figures: RSS and RssAnon + VmSwap (of the tree with `--tree`).
    pub fn record_proc(&mut self, t_ns: u64, rss_bytes: u64, anon_swap_bytes: Option<u64>) {
        self.procs.push(ProcRow {
            t_ns,
            rss_bytes,
            anon_swap_bytes,
            iteration: self.last_iteration,
        });
    }

    /// Records a refresh of the published record read at `t_ns`. Call it before
    /// [`record_proc`](Self::record_proc) for the same tick, as `watch` reads the record first.
    pub fn record_published(&mut self, t_ns: u64, stats: &PublishedStats) {
        self.last_iteration = Some(stats.iteration);
        self.max_iteration = self.max_iteration.max(stats.iteration);
        self.published.push(PublishedRow {
            t_ns,
            iteration: stats.iteration,
            jemalloc: stats
                .jemalloc
                .map(|j| [j.allocated_bytes, j.active_bytes, j.resident_bytes]),
            live_bytes: stats.counting.map(|c| c.live_bytes()),
        });
    }

    /// `/proc` samples recorded.
    pub fn proc_samples(&self) -> u64 {
        self.procs.seen()
    }

    /// What the verdict is given.
    pub fn input(&self) -> VerdictInput {
        VerdictInput {
            proc_samples: self.procs.seen(),
            proc_kept: self.procs.items().len(),
            proc_stride: self.procs.stride(),
            published_samples: self.published.seen(),
            published_kept: self.published.items().len(),
            published_stride: self.published.stride(),
            tree: self.tree,
            iterations_marked: self.max_iteration > 0,
        }
    }

    /// The series offered to the engine for `choice`.
    pub fn series(&self, choice: SeriesChoice) -> Vec<Series> {
        let marked = self.max_iteration > 0;
        let sample = |t_ns: u64, bytes: f64, iteration: Option<u64>| {
            let s = Sample::new(t_ns as f64 / 1e9, bytes);
            match iteration {
                Some(i) if marked => s.with_iteration(i),
                _ => s,
            }
        };
        // On the iteration axis, /proc rows from before the first record have no place.
        let procs = || {
            self.procs
                .items()
                .iter()
                .filter(move |r| !marked || r.iteration.is_some())
        };
        let mut out = vec![Series::from_samples(
            SeriesKind::Rss,
            procs().map(|r| sample(r.t_ns, r.rss_bytes as f64, r.iteration)),
        )];
        let anon = Series::from_samples(
            SeriesKind::RssAnonPlusSwap,
            procs().filter_map(|r| {
                r.anon_swap_bytes
                    .map(|v| sample(r.t_ns, v as f64, r.iteration))
            }),
        );
        if !anon.is_empty() {
            out.push(anon);
        }
        let allocator_chosen = matches!(choice, SeriesChoice::Kind(k) if !matches!(k, SeriesKind::Rss | SeriesKind::RssAnonPlusSwap));
        if self.tree && !allocator_chosen {
            return out;
        }
        let rows = self.published.items();
        let jemalloc = [
            SeriesKind::JemallocAllocated,
            SeriesKind::JemallocActive,
            SeriesKind::JemallocResident,
        ];
        for (i, kind) in jemalloc.into_iter().enumerate() {
            let s = Series::from_samples(
                kind,
                rows.iter().filter_map(|r| {
                    r.jemalloc
                        .map(|j| sample(r.t_ns, j[i] as f64, Some(r.iteration)))
                }),
            );
            if !s.is_empty() {
                out.push(s);
            }
        }
        let live = Series::from_samples(
            SeriesKind::AllocatorLive,
            rows.iter().filter_map(|r| {
                r.live_bytes
                    .map(|v| sample(r.t_ns, v as f64, Some(r.iteration)))
            }),
        );
        if !live.is_empty() {
            out.push(live);
        }
        out
    }

    /// Judges the run.
    ///
    /// # Errors
    ///
    /// When `--series` names a published series the process never published, or the engine
    /// refuses the settings (`--warmup 100it` without iteration marks).
    pub fn judge(&self, config: &JudgeConfig) -> Result<Verdict> {
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

/// The verdict's kind in one word, as in the summary JSON: `pass`, `growth`, `fragmentation`,
/// `inconclusive`.
pub fn kind_name(kind: &VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Pass => "pass",
        VerdictKind::Growth => "growth",
        VerdictKind::Fragmentation => "fragmentation",
        VerdictKind::Inconclusive { .. } => "inconclusive",
        _ => "unknown",
    }
}

/// The part of a JSONL line the verdict reads (serde skips the rest).
#[derive(Debug, Deserialize)]
struct Line {
    t_ns: u64,
    rss_bytes: u64,
    rss_anon_bytes: Option<u64>,
    swap_bytes: Option<u64>,
    tree: Option<TreeLine>,
    published: Option<PublishedStats>,
}

#[derive(Debug, Deserialize)]
struct TreeLine {
    rss_bytes: u64,
    anon_swap_bytes: u64,
}

/// A saved run read back.
#[derive(Debug)]
pub struct SavedRun {
    /// Its samples.
    pub series: RunSeries,
    /// Lines read.
    pub lines: u64,
    /// Remarks on the file (a last line cut off by a killed daemon).
    pub notes: Vec<String>,
}

/// Reads a JSONL file written by `watch --out`. A last line without its newline is the sample a
/// killed daemon was writing: it is left out with a note. The first line decides whether the
/// `/proc` series are the tree's totals (a `--tree` run writes them on every line).
///
/// # Errors
///
/// One line each: the file cannot be read; line N is not a sample (with serde's reason); the file
/// holds no sample.
pub fn read_jsonl(path: &Path) -> Result<SavedRun> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut run: Option<RunSeries> = None;
    let mut notes = Vec::new();
    let mut buf = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = buf.last() == Some(&b'\n');
        if buf.trim_ascii().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_slice(&buf) {
            Ok(line) => line,
            Err(_) if !complete => {
                notes.push(format!(
                    "line {number}, the last, is cut off (the daemon was killed while writing it): left out"
                ));
                break;
            }
            Err(e) => bail!(
                "{}:{number}: not a sample line of `memprobe-daemon watch --out`: {e}",
                path.display()
            ),
        };
        let run = run.get_or_insert_with(|| RunSeries::new(line.tree.is_some()));
        if let Some(p) = &line.published {
            run.record_published(line.t_ns, p);
        }
        let (rss, anon_swap) = match (&line.tree, run.tree) {
            (Some(t), true) => (t.rss_bytes, Some(t.anon_swap_bytes)),
            _ => (
                line.rss_bytes,
                line.rss_anon_bytes
                    .map(|a| a + line.swap_bytes.unwrap_or(0)),
            ),
        };
        run.record_proc(line.t_ns, rss, anon_swap);
    }
    match run {
        Some(series) => Ok(SavedRun {
            series,
            lines: number,
            notes,
        }),
        None => bail!(
            "{} holds no samples: expected the JSONL written by `memprobe-daemon watch --out`",
            path.display()
        ),
    }
}

/// What `verdict --summary` writes.
#[derive(Debug, Serialize)]
struct VerdictSummary<'a> {
    schema_version: u32,
    tool: &'static str,
    source: &'a Path,
    lines: u64,
    config: JudgeInfo<'a>,
    verdict_input: VerdictInput,
    verdict: &'a Verdict,
    exit_code: u8,
    notes: &'a [String],
}

/// The judging settings, as `watch`'s summary shows them.
#[derive(Debug, Serialize)]
struct JudgeInfo<'a> {
    warmup: trend::Warmup,
    series: SeriesChoice,
    fail_if_growth: Vec<String>,
    allow_fragmentation: bool,
    verdict_enforced: bool,
    inconclusive: &'a InconclusiveExit,
}

/// Runs `verdict FILE.jsonl`: reads the saved run, judges it, prints
/// `KIND (exit N): sentence` on stdout (unless `--quiet`) and writes `--summary`; the exit code.
///
/// # Errors
///
/// Bad flags, an unreadable, corrupt or empty file, an unwritable `--summary` (exit 2).
pub fn command(args: VerdictArgs) -> Result<u8> {
    let config = JudgeConfig::from_args(args.judge, true)?;
    let saved = read_jsonl(&args.file)?;
    let verdict = saved.series.judge(&config)?;
    let code = config.exit_code(&verdict);
    if let Some(path) = &args.summary {
        let summary = VerdictSummary {
            schema_version: crate::output::SCHEMA_VERSION,
            tool: concat!("memprobe-daemon ", env!("CARGO_PKG_VERSION")),
            source: &args.file,
            lines: saved.lines,
            config: JudgeInfo {
                warmup: config.trend.warmup,
                series: config.trend.series,
                fail_if_growth: config
                    .trend
                    .fail_if_growth
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                allow_fragmentation: config.trend.allow_fragmentation,
                verdict_enforced: config.enforced,
                inconclusive: &config.inconclusive,
            },
            verdict_input: saved.series.input(),
            verdict: &verdict,
            exit_code: code,
            notes: &saved.notes,
        };
        SummaryFile::create(path, &summary)?;
    }
    if !args.quiet {
        for note in &saved.notes {
            eprintln!("memprobe-daemon: {}: {note}", args.file.display());
        }
        let line = format!(
            "{} (exit {code}): {}\n",
            kind_name(&verdict.kind),
            verdict.summary
        );
        // A closed stdout (`| head -0`) is not an error: the exit code still tells.
        match std::io::stdout().write_all(line.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(anyhow::Error::new(e).context("writing the verdict to stdout"));
            }
            _ => {}
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InconclusiveExit;
    use memprobe::trend::TrendConfig;
    use memprobe::units::Growth;

    #[test]
    fn thinning_keeps_every_stride_th_sample_within_bounds() {
        let mut t = Thinned::default();
        let cap = t.items.capacity();
        for i in 0..(KEEP as u64 * 5 + 3) {
            t.push(i);
        }
        assert_eq!(t.stride(), 8);
        assert_eq!(t.items.capacity(), cap, "never reallocates");
        assert!(t.items().len() <= KEEP && t.items().len() > KEEP / 2);
        assert!(
            t.items()
                .iter()
                .enumerate()
                .all(|(k, &i)| i == k as u64 * 8)
        );
        assert_eq!(t.seen(), KEEP as u64 * 5 + 3);
    }

    fn judge_config(thresholds: &[Growth], allow_fragmentation: bool) -> JudgeConfig {
        JudgeConfig {
            trend: TrendConfig::new()
                .fail_if_growth_all(thresholds.iter().copied())
                .allow_fragmentation(allow_fragmentation),
            enforced: true,
            inconclusive: InconclusiveExit::Inconclusive,
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

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn jsonl_errors_are_one_line_and_name_the_place() {
        let d = tempfile::tempdir().unwrap();
        let e = format!(
            "{:#}",
            read_jsonl(&d.path().join("none.jsonl")).unwrap_err()
        );
        assert!(e.starts_with("cannot read "), "{e}");
        assert!(
            e.ends_with("none.jsonl: No such file or directory (os error 2)"),
            "{e}"
        );
        let empty = write(d.path(), "empty.jsonl", "");
        let e = format!("{:#}", read_jsonl(&empty).unwrap_err());
        assert!(e.ends_with("empty.jsonl holds no samples: expected the JSONL written by `memprobe-daemon watch --out`"), "{e}");
        let good = r#"{"t_ns":1,"wall_ns":2,"pid":3,"rss_bytes":4096,"rss_anon_bytes":1024,"swap_bytes":0}"#;
        let corrupt = write(
            d.path(),
            "corrupt.jsonl",
            &format!("{good}\n{good}\n{{\"t_ns\":\n{good}\n"),
        );
        let e = format!("{:#}", read_jsonl(&corrupt).unwrap_err());
        assert!(
            e.contains("corrupt.jsonl:3: not a sample line of `memprobe-daemon watch --out`: "),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        let not_ours = write(d.path(), "other.jsonl", "{\"a\":1}\n");
        let e = format!("{:#}", read_jsonl(&not_ours).unwrap_err());
        assert!(
            e.contains("other.jsonl:1: ") && e.contains("missing field `t_ns`"),
            "{e}"
        );
        // A killed daemon's last, cut-off line is left out with a note.
        let cut = write(
            d.path(),
            "cut.jsonl",
            &format!("{good}\n{good}\n{{\"t_ns\":17,\"wa"),
        );
        let run = read_jsonl(&cut).unwrap();
        assert_eq!(run.series.proc_samples(), 2);
        assert_eq!(run.notes.len(), 1, "{:?}", run.notes);
        assert!(run.notes[0].starts_with("line 3, the last, is cut off"));
    }
}
