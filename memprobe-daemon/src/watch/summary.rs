//! Output of a run that only presents: the summary JSON (its structs and the builder), the TTY
//! status line and the series it shows.

use super::child::{ExitInfo, Started};
use super::progress::{Ended, Progress};
use super::recorder::{Peaks, PhaseMark, Recorder};
use super::sampler::Sampler;
use super::tree::SeenProc;
use crate::cgroup::{CgroupSample, CgroupStat};
use crate::config::{Config, InconclusiveExit, Target};
use crate::output::{SCHEMA_VERSION, TreeTotals};
use crate::procfs::{self, Pss, SelfUsage};
use crate::signals;
use crate::verdict::VerdictInput;
use memprobe::MemorySnapshot;
use memprobe::publish::PublishedStats;
use memprobe::trend::{SeriesChoice, Verdict, Warmup};
use memprobe::units::{Bytes, SignedBytes};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The summary JSON. Field names carry their units.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct Summary<'a> {
    pub(super) schema_version: u32,
    pub(super) tool: &'static str,
    pub(super) state: &'static str,
    /// Whether the run went to its end (`--duration` elapsed, or the target exited on its own):
    /// `false` while running and when a stop signal cut it short (SIGINT/SIGTERM/SIGHUP), so a
    /// reader knows the figures cover only part of the run.
    pub(super) complete: bool,
    pub(super) command: Option<Vec<String>>,
    pub(super) target: TargetInfo,
    pub(super) config: ConfigInfo<'a>,
    pub(super) system: SystemInfo,
    pub(super) run: RunInfo,
    pub(super) sampler: SamplerInfo,
    pub(super) first: Option<MemorySnapshot>,
    pub(super) last: Option<MemorySnapshot>,
    pub(super) peaks: &'a Peaks,
    pub(super) tree: Option<TreeInfo<'a>>,
    pub(super) cgroup: Option<CgroupInfo>,
    pub(super) pss: Option<PssInfo>,
    pub(super) published: Option<&'a PublishedStats>,
    pub(super) phases: &'a [PhaseMark],
    pub(super) peak_resets: u64,
    /// The samples the verdict judged.
    pub(super) verdict_input: VerdictInput,
    /// `memprobe::trend::Verdict`, once the run is over.
    pub(super) verdict: Option<Verdict>,
    /// The daemon's exit code, once the run is over.
    pub(super) exit_code: Option<u8>,
    pub(super) notes: &'a [String],
    /// `--sites`: the command's allocation sites since warm-up, once collected (absent
    /// otherwise, so summaries written before the field still validate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sites: Option<&'a super::sites::SitesReport>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct TargetInfo {
    pub(super) pid: u32,
    pub(super) start_time_ticks: u64,
    pub(super) started_by_daemon: bool,
    pub(super) exit: Option<ExitInfo>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct ConfigInfo<'a> {
    pub(super) interval_ns: u64,
    pub(super) duration_ns: Option<u64>,
    pub(super) warmup: Warmup,
    pub(super) series: SeriesChoice,
    pub(super) fail_if_growth: Vec<String>,
    pub(super) allow_fragmentation: bool,
    /// Whether the verdict sets the exit code (`--fail-if-growth` given).
    pub(super) verdict_enforced: bool,
    pub(super) inconclusive: InconclusiveExit,
    pub(super) tree: bool,
    pub(super) cgroup: Option<String>,
    pub(super) pss_interval_ns: Option<u64>,
    pub(super) phase_reset: bool,
    pub(super) out: Option<&'a std::path::Path>,
    pub(super) csv: Option<&'a std::path::Path>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct SystemInfo {
    pub(super) kernel: &'static str,
    pub(super) page_size: u64,
    pub(super) cgroup_version: Option<crate::cgroup::Version>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct RunInfo {
    pub(super) started_wall_ns: u64,
    pub(super) elapsed_ns: u64,
    pub(super) samples: u64,
    pub(super) ticks_scheduled: u64,
    pub(super) missed_ticks: u64,
    pub(super) requested_rate_hz: f64,
    /// Time spent sampling (before stopping the command and judging).
    pub(super) sampling_ns: u64,
    /// Samples per second of sampling time.
    pub(super) achieved_rate_hz: f64,
    pub(super) ended: Option<Ended>,
    pub(super) stop_signal: Option<String>,
}

/// The daemon's own cost while sampling (up to the end of sampling: stopping the command and
/// judging are not sampling), and its peak RSS at exit, judging included.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct SamplerInfo {
    #[serde(flatten)]
    pub(super) usage: SelfUsage,
    pub(super) cpu_share: f64,
    /// Peak RSS when the summary was written, the verdict's working memory included.
    pub(super) max_rss_bytes_at_exit: u64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct TreeInfo<'a> {
    pub(super) note: &'static str,
    pub(super) processes_seen: u64,
    pub(super) max_processes: u32,
    pub(super) last: TreeTotals,
    pub(super) processes: &'a [SeenProc],
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct CgroupInfo {
    pub(super) version: crate::cgroup::Version,
    pub(super) path: PathBuf,
    pub(super) last: Option<CgroupSample>,
    pub(super) stat: CgroupStat,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct PssInfo {
    pub(super) walks: u64,
    pub(super) skipped: u64,
    pub(super) last_walk_ns: u64,
    pub(super) last: Option<Pss>,
}

/// The JSON Schema of the summary `watch --summary` writes, at [`SCHEMA_VERSION`].
#[cfg(feature = "json-schema")]
pub(crate) fn schema() -> memprobe::schema::FileSchema {
    memprobe::schema::FileSchema::of::<Summary<'static>>(
        "summary",
        SCHEMA_VERSION,
        "memprobe-daemon watch summary",
    )
    .with_const("schema_version", SCHEMA_VERSION)
}

/// What a summary is made of: the run's parts, read only.
pub(super) struct Parts<'a> {
    pub(super) config: &'a Config,
    pub(super) progress: &'a Progress,
    pub(super) sampler: &'a Sampler,
    pub(super) recorder: &'a Recorder,
    pub(super) command: Option<&'a Started>,
    pub(super) sites: Option<&'a super::sites::SitesReport>,
}

/// The TTY status line: time, samples, RSS, and the growth of the series the verdict will most
/// likely judge (read from the recorder's copy of the samples).
pub(super) fn status_line(config: &Config, start: Instant, recorder: &Recorder, now: Instant) {
    let (name, growth) = recorder.judged.status_growth(config.judge.trend.series);
    let growth = growth.map_or_else(|| "-".into(), |g| SignedBytes(g).to_string());
    let rss = recorder.last.map_or(0, |m| m.rss_bytes);
    eprint!(
        "\r\x1b[2Kmemprobe-daemon: {:.1} s  {} samples  RSS {}  {name} growth {growth}",
        now.duration_since(start).as_secs_f64(),
        recorder.samples,
        Bytes(rss)
    );
}

impl Parts<'_> {
    /// The summary at `now`, in `state`, with the verdict and exit code once there are.
    pub(super) fn summary(
        &self,
        state: &'static str,
        verdict: Option<Verdict>,
        exit_code: Option<u8>,
        now: Instant,
    ) -> Summary<'_> {
        let p = self.progress;
        let s = self.sampler;
        let r = self.recorder;
        let elapsed = now.duration_since(p.start);
        let sampling = p.sampling_ended.unwrap_or(now).duration_since(p.start);
        let now_usage = procfs::self_usage();
        let usage = p.sampling_usage.unwrap_or(now_usage);
        let c = self.config;
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: concat!("memprobe-daemon ", env!("CARGO_PKG_VERSION")),
            state,
            complete: state == "finished" && p.stop_signal.is_none(),
            command: match &c.target {
                Target::Command(argv) => Some(argv.iter().map(|a| a.to_string_lossy().into_owned()).collect()),
                Target::Pid(_) | Target::Fleet(_) => None,
            },
            target: TargetInfo {
                pid: s.pid,
                start_time_ticks: s.start_ticks,
                started_by_daemon: self.command.is_some(),
                exit: self.command.and_then(Started::exit).map(ExitInfo::from),
            },
            config: ConfigInfo {
                interval_ns: c.interval.as_nanos() as u64,
                duration_ns: c.duration.map(|d| d.as_nanos() as u64),
                warmup: c.judge.trend.warmup,
                series: c.judge.trend.series,
                fail_if_growth: c.judge.trend.fail_if_growth.iter().map(ToString::to_string).collect(),
                allow_fragmentation: c.judge.trend.allow_fragmentation,
                verdict_enforced: c.judge.enforced,
                inconclusive: c.judge.inconclusive,
                tree: c.tree,
                cgroup: s.cgroup.as_ref().map(|g| g.dir.display().to_string()),
                pss_interval_ns: c.pss_interval.map(|d| d.as_nanos() as u64),
                phase_reset: c.phase_reset,
                out: c.out.as_deref(),
                csv: c.csv.as_deref(),
            },
            system: SystemInfo {
                kernel: procfs::kernel_release(),
                page_size: c.proc_root.page_size(),
                cgroup_version: s.cgroup.as_ref().map(|g| g.version),
            },
            run: RunInfo {
                started_wall_ns: p.started_wall_ns,
                elapsed_ns: elapsed.as_nanos() as u64,
                samples: r.samples,
                ticks_scheduled: p.ticks,
                missed_ticks: p.missed,
                requested_rate_hz: 1.0 / c.interval.as_secs_f64(),
                sampling_ns: sampling.as_nanos() as u64,
                achieved_rate_hz: if sampling.is_zero() { 0.0 } else { r.samples as f64 / sampling.as_secs_f64() },
                ended: p.ended,
                stop_signal: p.stop_signal.map(signals::name),
            },
            sampler: SamplerInfo {
                cpu_share: (usage.cpu_user_ns + usage.cpu_system_ns) as f64 / sampling.as_nanos().max(1) as f64,
                usage,
                max_rss_bytes_at_exit: now_usage.max_rss_bytes,
            },
            first: r.first,
            last: r.last,
            peaks: &r.peaks,
            tree: c.tree.then(|| TreeInfo {
                note: "summed RSS over-counts pages the processes share (libraries, copy-on-write after fork)",
                processes_seen: s.tree.seen_count + 1,
                max_processes: s.tree.max_processes,
                last: s.tree.last,
                processes: &s.tree.seen,
            }),
            cgroup: s.cgroup.as_ref().map(|g| CgroupInfo {
                version: g.version,
                path: g.dir.clone(),
                last: s.cgroup_last,
                stat: s.cgroup_stat,
            }),
            pss: s.pss.as_ref().map(|reader| PssInfo {
                walks: s.pss_walks,
                skipped: s.pss_skipped,
                last_walk_ns: reader.last_walk.as_nanos() as u64,
                last: s.pss_last,
            }),
            published: s.published.as_ref(),
            phases: &r.phases,
            peak_resets: s.peak_resets,
            verdict_input: r.judged.input(),
            verdict,
            exit_code,
            notes: &r.notes,
            sites: self.sites,
        }
    }
}
