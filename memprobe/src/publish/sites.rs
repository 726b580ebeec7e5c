//! Allocation sites on request: what the daemon asks ([`SitesRequest`]), how the process
//! answers ([`SitesState`]), where it writes the profile ([`site_profile_path`]), and the
//! process's side that serves the requests from the publishing thread.

use super::layout::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the daemon asks of a publishing process's allocation sites ([`Reader::request_sites`](super::Reader::request_sites)).
///
/// # Examples
///
/// ```
/// use memprobe::publish::SitesRequest;
/// let exact = SitesRequest::Start { mean_bytes: 0 };
/// assert_ne!(exact, SitesRequest::Write);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SitesRequest {
    /// Start a session sampling one allocation per `mean_bytes` on average; 0 samples every
    /// allocation (exact mode).
    Start {
        /// The mean sampling interval in bytes, 0 for exact.
        mean_bytes: u64,
    },
    /// Write the running session's profile to [`site_profile_path`] (sampling goes on).
    Write,
}

/// How a publishing process answered its last allocation-sites request
/// ([`Reader::sites_answer`](super::Reader::sites_answer)).
///
/// # Examples
///
/// ```
/// use memprobe::publish::SitesState;
/// assert_eq!(SitesState::from_code(3), SitesState::NotBuilt);
/// assert_eq!(SitesState::from_code(99), SitesState::Unknown(99));
/// assert!(SitesState::NotBuilt.to_string().contains("`sites` feature"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SitesState {
    /// A session runs (started on request, or already running from an earlier one).
    Sampling,
    /// The profile was written.
    Written,
    /// The process was built without memprobe's `sites` feature.
    NotBuilt,
    /// The program already runs its own allocation-sites session; one runs at a time.
    Busy,
    /// Writing the profile failed (I/O: a full or removed directory).
    WriteFailed,
    /// A write was asked while no session runs.
    NotSampling,
    /// A code this memprobe does not know (a newer process, or a garbled word).
    Unknown(u64),
}

impl SitesState {
    const CODES: [(u64, SitesState); 6] = [
        (1, SitesState::Sampling),
        (2, SitesState::Written),
        (3, SitesState::NotBuilt),
        (4, SitesState::Busy),
        (5, SitesState::WriteFailed),
        (6, SitesState::NotSampling),
    ];

    /// The state a word of the record holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::publish::SitesState;
    /// assert_eq!(SitesState::from_code(SitesState::Written.code()), SitesState::Written);
    /// ```
    pub fn from_code(code: u64) -> SitesState {
        Self::CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(SitesState::Unknown(code), |(_, s)| *s)
    }

    /// The word the record holds for this state.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::publish::SitesState::Sampling.code(), 1);
    /// ```
    pub fn code(self) -> u64 {
        match self {
            SitesState::Unknown(code) => code,
            known => Self::CODES
                .iter()
                .find(|(_, s)| *s == known)
                .map_or(0, |(c, _)| *c),
        }
    }
}

impl std::fmt::Display for SitesState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SitesState::Sampling => f.write_str("sampling allocation sites"),
            SitesState::Written => f.write_str("the allocation-sites profile is written"),
            SitesState::NotBuilt => f.write_str(
                "the process was not built with memprobe's `sites` feature; build it with features [\"publish\", \"sites\"] and memprobe::global_allocator!()",
            ),
            SitesState::Busy => f.write_str(
                "the process already runs its own allocation-sites session (one at a time); finish it, or drop --sites",
            ),
            SitesState::WriteFailed => f.write_str(
                "the process could not write its allocation-sites profile beside the record (a full or removed directory?)",
            ),
            SitesState::NotSampling => {
                f.write_str("the process was asked for a profile while no session ran")
            }
            SitesState::Unknown(code) => write!(
                f,
                "the process answered with unknown state {code} (a memprobe of another version?)"
            ),
        }
    }
}

/// Where a publishing process writes its allocation-sites profile for the daemon: the record's
/// path with `.sites.json` appended (in the daemon's private directory); the gzipped pprof twin
/// is the same path with `.pb.gz` in place of `.json`.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// let json = memprobe::publish::site_profile_path(Path::new("/tmp/d/record"));
/// assert_eq!(json, Path::new("/tmp/d/record.sites.json"));
/// assert_eq!(json.with_extension("pb.gz"), Path::new("/tmp/d/record.sites.pb.gz"));
/// ```
pub fn site_profile_path(record: &Path) -> PathBuf {
    let mut name = record.as_os_str().to_owned();
    name.push(".sites.json");
    PathBuf::from(name)
}

/// Answers a new allocation-sites request, if the daemon made one: the state first, then the
/// request number it answers (release), so the daemon reading the number sees the state.
pub(super) fn serve_sites(words: &[AtomicU64; WORDS], profile: &Path) {
    let request = words[WORD_SITES_REQUEST].load(Ordering::Acquire);
    if request == words[WORD_SITES_DONE].load(Ordering::Relaxed) {
        return;
    }
    let mean_bytes = words[WORD_SITES_MEAN].load(Ordering::Relaxed);
    let state = sites_request(request & 0xff, mean_bytes, profile);
    words[WORD_SITES_STATE].store(state.code(), Ordering::Relaxed);
    words[WORD_SITES_DONE].store(request, Ordering::Release);
}

/// The session the daemon started; held by the publishing thread's requests only.
#[cfg(feature = "sites")]
static SITES_SESSION: std::sync::Mutex<Option<crate::sites::Session>> = std::sync::Mutex::new(None);

#[cfg(feature = "sites")]
fn sites_request(op: u64, mean_bytes: u64, profile: &Path) -> SitesState {
    use crate::sites::{Sampling, Session, SitesError};
    match op {
        SITES_OP_START => {
            let mut session = SITES_SESSION.lock().unwrap_or_else(|e| e.into_inner());
            if session.is_some() {
                return SitesState::Sampling;
            }
            let sampling = match mean_bytes {
                0 => Sampling::Exact,
                mean => Sampling::MeanBytes(mean),
            };
            match Session::start(sampling) {
                Ok(started) => {
                    *session = Some(started);
                    SitesState::Sampling
                }
                Err(_) => SitesState::Busy,
            }
        }
        SITES_OP_WRITE => match write_site_profile(profile) {
            Ok(_) => SitesState::Written,
            Err(SitesError::NotRunning) => SitesState::NotSampling,
            Err(_) => SitesState::WriteFailed,
        },
        other => SitesState::Unknown(other),
    }
}

// Without the `sites` feature there is nothing to sample: every request gets this answer, so
// the daemon reports it at once instead of waiting out its timeout.
#[cfg(not(feature = "sites"))]
fn sites_request(_op: u64, _mean_bytes: u64, _profile: &Path) -> SitesState {
    SitesState::NotBuilt
}

/// Writes the running allocation-sites session's profile so far (sampling goes on): `path` gets
/// the `sites::render::json` JSON and `path` with `.pb.gz` in place of its extension the gzipped
/// pprof, each written to a temporary file beside it and renamed into place, so a reader never
/// sees half a file. The publishing thread calls it when `memprobe-daemon watch --sites` asks;
/// a program may call it itself, on demand, with a session of its own or the daemon's.
///
/// # Errors
///
/// [`SitesError::NotRunning`](crate::sites::SitesError::NotRunning) when no session runs;
/// [`SitesError::Write`](crate::sites::SitesError::Write) naming the file that could not be
/// written.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{Profile, Sampling, Session, SitesError};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("now.sites.json");
/// assert!(matches!(
///     memprobe::publish::write_site_profile(&path),
///     Err(SitesError::NotRunning)
/// ));
/// let session = Session::start(Sampling::Exact)?;
/// let kept = vec![7u8; 4096];
/// let written = memprobe::publish::write_site_profile(&path)?;
/// let back: Profile = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
/// assert_eq!(back.total.live_bytes, written.total.live_bytes);
/// assert!(back.total.live_bytes >= 4096);
/// assert!(dir.path().join("now.sites.pb.gz").exists());
/// # drop((kept, session));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "sites")]
pub fn write_site_profile(
    path: &Path,
) -> std::result::Result<crate::sites::Profile, crate::sites::SitesError> {
    use crate::sites::{Profile, SitesError, pprof, render};
    if !crate::sites::is_running() {
        return Err(SitesError::NotRunning);
    }
    let profile = Profile::collect();
    let write = |target: &Path, bytes: &[u8]| {
        crate::files::write_atomically(target, bytes).map_err(|source| SitesError::Write {
            path: target.to_owned(),
            source,
        })
    };
    // The pprof first: once the JSON appears, both are complete.
    write(&path.with_extension("pb.gz"), &pprof::to_gzipped(&profile))?;
    write(path, render::json(&profile).as_bytes())?;
    Ok(profile)
}
