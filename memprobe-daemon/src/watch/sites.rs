//! `watch --sites`: the watched command's allocation sites over the judged part of the run. The
//! daemon asks the publishing process, through its record ([`memprobe::publish::Reader::request_sites`]),
//! to start an allocation-sites session once warm-up ends, and for its profile before the process
//! is stopped; it reads the profile the process wrote beside the record, writes
//! `STEM.sites.json` and `STEM.sites.pb.gz` beside the summary, and keeps the top growing sites
//! for the summary and the printed verdict.
//!
//! ```text
//!  waiting (warm-up) ─▶ start asked ─▶ sampling ─┬─ end of run / stop signal: profile asked ─▶ read ─▶ done
//!        │                   │                   └─ target exited first: too late (a note)
//!        └─ no record, or the run ended in warm-up: a note      └─ refused (not built, busy): a note
//! ```
//!
//! Because sampling starts when warm-up ends, a site's *live* bytes at the end are what it grew
//! by over the judged part of the run: that is the "growing" ranking. Every failure (a process
//! that does not publish, was built without `sites`, never answers, or left a garbled file) is one
//! note in the summary and never changes the exit code.

use super::sampler::Sampler;
use memprobe::publish::{SitesRequest, SitesState};
use memprobe::sites::{Profile, pprof::to_gzipped, render};
use memprobe::trend::Warmup;
use memprobe::units::Bytes;
use serde::Serialize;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the daemon waits for the process to answer a request. Writing the profile
/// symbolizes every sampled stack, which in a debug build loads the program's DWARF: seconds,
/// not milliseconds.
pub(super) const SITES_WAIT: Duration = Duration::from_secs(5);
/// How many growing sites the summary and the verdict line name.
pub(super) const TOP: usize = 5;
/// A site must hold at least this share of the sampled live bytes to be named as growing: a
/// churning function caught with a buffer in flight is not growth.
pub(super) const MIN_SHARE_PERCENT: f64 = 1.0;
/// The largest profile file read back (a hostile process could write anything).
const PROFILE_MAX_BYTES: u64 = 64 << 20;

/// What `--sites` found, for the summary.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct SitesReport {
    /// The mean sampling interval in bytes; 0 in exact mode.
    pub(super) mean_interval_bytes: u64,
    /// Samples in the profile.
    pub(super) samples: u64,
    /// Samples lost to a full table (the estimates are then low).
    pub(super) dropped_samples: u64,
    /// Estimated live bytes of every sampled site: growth since warm-up ended.
    pub(super) live_bytes: u64,
    /// The profile as JSON (`memprobe::sites::Profile`), when written.
    pub(super) json: Option<PathBuf>,
    /// The profile as gzipped pprof `profile.proto`, when written.
    pub(super) pprof: Option<PathBuf>,
    /// The sites that grew most (live bytes), largest first; at most five, each with at least
    /// 1% of the sampled live bytes.
    pub(super) top_growing: Vec<GrowingSite>,
}

/// One site whose live bytes grew.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct GrowingSite {
    /// The allocating function (demangled, without its hash).
    pub(super) function: String,
    /// `file:line` of the allocation, when debug info has it.
    pub(super) location: Option<String>,
    /// Estimated bytes allocated there since warm-up and still live.
    pub(super) live_bytes: u64,
    /// Share of the sampled live bytes, in percent.
    pub(super) live_share_percent: f64,
}

impl SitesReport {
    /// The verdict's addition: `top growing sites: f 14.1 MiB live (92%), …`.
    pub(super) fn sentence(&self) -> Option<String> {
        if self.top_growing.is_empty() {
            return None;
        }
        let sites: Vec<String> = self
            .top_growing
            .iter()
            .map(|s| {
                let at = s
                    .location
                    .as_deref()
                    .map_or_else(String::new, |l| format!(" at {l}"));
                format!(
                    "{} {} live ({:.0}%){at}",
                    s.function,
                    Bytes(s.live_bytes),
                    s.live_share_percent
                )
            })
            .collect();
        Some(format!("top growing sites: {}", sites.join(", ")))
    }
}

enum State {
    /// Warm-up not over, or the process not publishing yet.
    Waiting,
    /// Start asked; the request's number.
    Starting(u64),
    Sampling,
    /// Refused or already collected: nothing more to do.
    Over,
}

/// The `--sites` side of one run.
pub(super) struct Sites {
    mean_bytes: u64,
    /// Where the process writes its profile (beside its record).
    profile: PathBuf,
    /// Where the run's copies go: `STEM.sites.json` and `STEM.sites.pb.gz`.
    stem: Option<PathBuf>,
    warmup: Warmup,
    duration: Option<Duration>,
    first_iteration: Option<u64>,
    state: State,
    /// What was found, once collected.
    pub(super) report: Option<SitesReport>,
}

impl Sites {
    /// `--sites` for a command publishing at `record`; outputs beside `stem_of` (the summary, else
    /// the JSONL).
    pub(super) fn new(
        mean_bytes: u64,
        record: &Path,
        stem_of: Option<&Path>,
        warmup: Warmup,
        duration: Option<Duration>,
    ) -> Sites {
        Sites {
            mean_bytes,
            profile: memprobe::publish::site_profile_path(record),
            stem: stem_of.map(|p| p.with_extension("")),
            warmup,
            duration,
            first_iteration: None,
            state: State::Waiting,
            report: None,
        }
    }

    /// Called after each tick: starts sampling once warm-up is over, and notes a refusal.
    pub(super) fn poll(&mut self, t_ns: u64, sampler: &mut Sampler, notes: &mut Vec<String>) {
        match self.state {
            State::Waiting => {
                if !self.warmup_over(t_ns, sampler) {
                    return;
                }
                // None: not publishing (yet); asked again at the next tick.
                if let Some(n) = sampler.request_sites(SitesRequest::Start {
                    mean_bytes: self.mean_bytes,
                }) {
                    self.state = State::Starting(n);
                }
            }
            State::Starting(n) => match sampler.sites_answer(n) {
                Some(SitesState::Sampling) => {
                    self.state = State::Sampling;
                    notes.push(format!(
                        "--sites: sampling allocation sites from {:.1} s (after warm-up), {}",
                        t_ns as f64 / 1e9,
                        rate(self.mean_bytes)
                    ));
                }
                Some(other) => self.refused(other, notes),
                None => {}
            },
            _ => {}
        }
    }

    fn warmup_over(&mut self, t_ns: u64, sampler: &Sampler) -> bool {
        let end = match (self.warmup, self.duration) {
            (Warmup::Duration(d), _) => d,
            (Warmup::Share(share), Some(total)) => total.mul_f64(share),
            (Warmup::Iterations(n), _) => {
                let Some(now) = sampler.published.as_ref().map(|p| p.iteration) else {
                    return false;
                };
                let first = *self.first_iteration.get_or_insert(now);
                return now.saturating_sub(first) >= n;
            }
            // A share of a run of unknown length has no known end: sample from the start.
            _ => Duration::ZERO,
        };
        t_ns >= end.as_nanos() as u64
    }

    fn refused(&mut self, state: SitesState, notes: &mut Vec<String>) {
        self.state = State::Over;
        notes.push(format!("--sites: no allocation sites: {state}"));
    }

    /// Asks for the profile (waiting at most [`SITES_WAIT`] for each answer), reads it back, and
    /// writes the run's copies. Call it before the process is stopped; once.
    pub(super) fn collect(&mut self, sampler: &mut Sampler, notes: &mut Vec<String>) {
        let state = std::mem::replace(&mut self.state, State::Over);
        match state {
            State::Over => return,
            State::Waiting => {
                notes.push(if sampler.published.is_none() {
                    "--sites: no allocation sites: the command published no record (build it with memprobe's `publish` and `sites` features, memprobe::global_allocator!(), and call memprobe::publish::start())".into()
                } else {
                    "--sites: no allocation sites: the run ended before warm-up did".into()
                });
                return;
            }
            State::Starting(n) => match wait(sampler, n) {
                Some(SitesState::Sampling) => {}
                Some(other) => return self.refused(other, notes),
                None => {
                    notes.push(format!(
                        "--sites: no allocation sites: the process did not answer the request to sample within {} s",
                        SITES_WAIT.as_secs()
                    ));
                    return;
                }
            },
            State::Sampling => {}
        }
        let Some(n) = sampler.request_sites(SitesRequest::Write) else {
            notes.push("--sites: no allocation sites: the record could not be written to ask for the profile".into());
            return;
        };
        match wait(sampler, n) {
            Some(SitesState::Written) => {}
            Some(other) => return self.refused(other, notes),
            None => {
                notes.push(format!(
                    "--sites: no allocation sites: the process did not write its profile within {} s of the request",
                    SITES_WAIT.as_secs()
                ));
                return;
            }
        }
        match read_profile(&self.profile) {
            Ok((profile, pprof)) => self.report = Some(self.keep(&profile, &pprof, notes)),
            Err(e) => notes.push(format!("--sites: no allocation sites: {e}")),
        }
    }

    /// The stop came from the target exiting: too late to ask.
    pub(super) fn target_gone(&mut self, notes: &mut Vec<String>) {
        if matches!(self.state, State::Starting(_) | State::Sampling) {
            notes.push("--sites: no allocation sites: the command exited before its profile was asked for (give --duration shorter than the command's run)".into());
        }
        self.state = State::Over;
    }

    /// The report, and the run's copies of the profile written beside the summary.
    fn keep(&self, profile: &Profile, pprof: &[u8], notes: &mut Vec<String>) -> SitesReport {
        let (mut json, mut pb) = (None, None);
        if let Some(stem) = &self.stem {
            let json_path = suffixed(stem, ".sites.json");
            let pb_path = suffixed(stem, ".sites.pb.gz");
            match std::fs::write(&json_path, render::json(profile))
                .and_then(|()| std::fs::write(&pb_path, pprof))
            {
                Ok(()) => (json, pb) = (Some(json_path), Some(pb_path)),
                Err(e) => notes.push(format!(
                    "--sites: writing {} and {}: {e}",
                    json_path.display(),
                    pb_path.display()
                )),
            }
        } else {
            notes.push("--sites: no --summary or --out names the profile's files: only the top growing sites are kept".into());
        }
        SitesReport {
            mean_interval_bytes: profile.mean_interval_bytes,
            samples: profile.sample_count,
            dropped_samples: profile.dropped_samples,
            live_bytes: profile.total.live_bytes,
            json,
            pprof: pb,
            top_growing: top_growing(profile),
        }
    }
}

/// The sites holding the most live bytes, largest first: at most [`TOP`], each with at least
/// [`MIN_SHARE_PERCENT`] of the total.
pub(super) fn top_growing(profile: &Profile) -> Vec<GrowingSite> {
    let total = profile.total.live_bytes;
    if total == 0 {
        return Vec::new();
    }
    let mut sites: Vec<GrowingSite> = profile
        .sites
        .iter()
        .map(|s| GrowingSite {
            function: s.function.clone(),
            location: s.location.clone(),
            live_bytes: s.stats.live_bytes,
            live_share_percent: 100.0 * s.stats.live_bytes as f64 / total as f64,
        })
        .filter(|s| s.live_bytes > 0 && s.live_share_percent >= MIN_SHARE_PERCENT)
        .collect();
    sites.sort_by(|a, b| {
        b.live_bytes
            .cmp(&a.live_bytes)
            .then_with(|| a.function.cmp(&b.function))
    });
    sites.truncate(TOP);
    sites
}

fn rate(mean_bytes: u64) -> String {
    match mean_bytes {
        0 => "every allocation (exact)".into(),
        n => format!("one sample per {} on average", Bytes(n)),
    }
}

fn suffixed(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Polls for the answer to request `n`, at most [`SITES_WAIT`].
fn wait(sampler: &mut Sampler, n: u64) -> Option<SitesState> {
    let until = Instant::now() + SITES_WAIT;
    loop {
        if let Some(state) = sampler.sites_answer(n) {
            return Some(state);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The profile the process wrote (JSON, parsed) and its pprof twin (gzip bytes, checked for the
/// gzip magic). Both files are the process's to write, so neither is trusted: no symbolic link
/// followed, no FIFO waited on, regular files only, at most [`PROFILE_MAX_BYTES`].
pub(super) fn read_profile(json: &Path) -> anyhow::Result<(Profile, Vec<u8>)> {
    let text = read_untrusted(json)?;
    let profile: Profile = serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not an allocation-sites profile ({e}); ignoring it",
            json.display()
        )
    })?;
    let pb_path = json.with_extension("pb.gz");
    let pprof = match read_untrusted(&pb_path) {
        Ok(bytes) if bytes.starts_with(&[0x1f, 0x8b]) => bytes,
        // A missing or garbled twin: the JSON is good, so rebuild a pprof from it (sites
        // only: the JSON carries no stacks).
        _ => to_gzipped(&profile),
    };
    Ok((profile, pprof))
}

fn read_untrusted(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK).bits())
        .open(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file; ignoring it", path.display());
    }
    if meta.len() > PROFILE_MAX_BYTES {
        anyhow::bail!(
            "{} is {}, more than a profile's {}; ignoring it",
            path.display(),
            Bytes(meta.len()),
            Bytes(PROFILE_MAX_BYTES)
        );
    }
    let mut bytes = Vec::new();
    file.take(PROFILE_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile file's name, how it is made, and a phrase its one line must hold.
    type Hostile<'a> = (&'a str, &'a dyn Fn(&Path), &'a str);

    fn profile_json(dir: &Path) -> PathBuf {
        dir.join("record.sites.json")
    }

    /// Every hostile profile file is one line naming it, never a panic or a hang.
    #[test]
    fn hostile_profile_files_give_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let json = profile_json(dir.path());
        let cases: [Hostile<'_>; 6] = [
            ("missing", &|_| {}, "No such file"),
            (
                "garbled",
                &|p| std::fs::write(p, b"{\"sites\": [1, 2").unwrap(),
                "not an allocation-sites profile",
            ),
            (
                "another JSON",
                &|p| std::fs::write(p, b"{\"answer\": 42}").unwrap(),
                "not an allocation-sites profile",
            ),
            (
                "symlink",
                &|p| {
                    let real = p.with_extension("real");
                    std::fs::write(&real, render::json(&Profile::default())).unwrap();
                    std::os::unix::fs::symlink(real, p).unwrap();
                },
                "reading",
            ),
            (
                "FIFO",
                &|p| {
                    nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRWXU).unwrap();
                },
                "not a regular file",
            ),
            (
                "directory",
                &|p| std::fs::create_dir(p).unwrap(),
                "not a regular file",
            ),
        ];
        for (name, make, words) in cases {
            let _ = std::fs::remove_file(&json);
            let _ = std::fs::remove_dir(&json);
            make(&json);
            let err = read_profile(&json).map(|_| ()).unwrap_err().to_string();
            assert!(err.contains(words) && !err.contains('\n'), "{name}: {err}");
            assert!(err.contains("record.sites.json"), "{name}: {err}");
        }
    }

    /// A good JSON with a garbled pprof twin: the JSON is kept, the pprof rebuilt from it.
    #[test]
    fn a_garbled_pprof_twin_is_rebuilt_from_the_json() {
        let dir = tempfile::tempdir().unwrap();
        let json = profile_json(dir.path());
        std::fs::write(&json, render::json(&Profile::default())).unwrap();
        std::fs::write(json.with_extension("pb.gz"), b"not gzip").unwrap();
        let (profile, pprof) = read_profile(&json).unwrap();
        assert_eq!(profile.sample_count, 0);
        assert_eq!(&pprof[..2], &[0x1f, 0x8b]);
    }

    /// Growing sites: by live bytes, at least 1% of them, at most five.
    #[test]
    fn top_growing_ranks_live_bytes_and_drops_crumbs() {
        let mut json = serde_json::json!({
            "mean_interval_bytes": 0, "sample_count": 8, "dropped_samples": 0,
            "total": {"samples": 8, "alloc_count": 8, "alloc_bytes": 0, "live_count": 8, "live_bytes": 0},
            "sites": []
        });
        let live = [
            ("churn", 5u64),
            ("a", 100),
            ("b", 9000),
            ("c", 300),
            ("d", 200),
            ("e", 150),
            ("f", 120),
        ];
        let total: u64 = live.iter().map(|(_, b)| b).sum();
        json["total"]["live_bytes"] = total.into();
        json["sites"] = live
            .iter()
            .map(|(f, b)| serde_json::json!({"function": f, "location": null, "stats": {"samples": 1, "alloc_count": 1, "alloc_bytes": 1 << 20, "live_count": 1, "live_bytes": b}}))
            .collect();
        let profile: Profile = serde_json::from_value(json).unwrap();
        let names: Vec<String> = top_growing(&profile)
            .into_iter()
            .map(|s| s.function)
            .collect();
        assert_eq!(names, ["b", "c", "d", "e", "f"]);
        assert!(top_growing(&Profile::default()).is_empty());
    }
}
