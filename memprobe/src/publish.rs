//! Publishing in-process statistics to `memprobe-daemon`: jemalloc's allocated/active/resident
//! figures, the counting allocator's live bytes and counts, and iteration and phase markers, in a
//! small shared record the daemon reads without a lock.
//!
//! When the daemon starts a command it sets `MEMPROBE_PUBLISH=<path>` (a file in a private
//! directory of its own). The first call to [`start`], [`mark_iteration`] or [`phase`] in a process
//! that sees the variable creates that file (mode 0600, `O_EXCL`, so a forked child that inherits
//! the variable does not take over its parent's record), maps it shared, and starts a background
//! thread that refreshes the record at most 10 times a second: a jemalloc epoch merges every
//! arena and can cost milliseconds. Without the variable everything here is a no-op.
//!
//! ```no_run
//! // In the watched program:
//! for request in 0..1_000_000u64 {
//!     memprobe::publish::mark_iteration();
//!     if request == 1000 {
//!         memprobe::publish::phase("steady");
//!     }
//!     // ... work ...
//! }
//! ```
//!
//! # Allocation sites on request
//!
//! With memprobe's `sites` feature too, `memprobe-daemon watch --sites` asks the process, through
//! the record, to start an allocation-sites session ([`crate::sites::Session`]) once warm-up ends
//! and, before it stops the process, to write the session's profile: the background thread (never
//! the allocator hooks) serves both and writes [`site_profile_path`]`(record)` (the
//! `sites::render::json` JSON) and its `.pb.gz` twin (gzipped pprof), each atomically (a temporary
//! file, then `rename`). A process can write the same files itself, on demand, with
//! `write_site_profile` (feature `sites`). A process built without `sites` answers every request
//! with [`SitesState::NotBuilt`], so the daemon says so in one line instead of waiting.
//!
//! # Layout (version 2)
//!
//! Native-endian `u64` words, [`RECORD_SIZE`] bytes; word offsets are the `WORD_*` constants.
//!
//! ```text
//!  0 magic "MPRBPUB1"   1 version | size << 32   2 seq (odd while writing)   3 pid   4 updates
//!  5 flags (1: jemalloc figures valid, 2: counting figures valid)   6 updated, CLOCK_MONOTONIC ns
//!  7..13  jemalloc allocated, active, resident, mapped, retained, metadata
//! 13..18  counting alloc_count, realloc_count, dealloc_count, alloc_bytes, freed_bytes
//! 18 iteration   19 phase sequence   20 phase name length   21..29 phase name (64 bytes, UTF-8)
//! 29 purge requested (written by the daemon)   30 purge done (written by the process)
//! 31 sites sampling mean in bytes, 0 exact (daemon)   32 sites request, n << 8 | op (daemon)
//! 33 sites request answered (process)   34 sites state (process, a `SitesState` code)   35..40 spare
//! ```
//!
//! # Implementation
//!
//! A seqlock: the one writer (the background thread) makes `seq` odd, stores the fields, then
//! makes it even again. The reader, [`Reader`], reads `seq`, the record, then `seq` again with
//! `pread` (the file's page cache is the very memory the process maps), and keeps the copy only
//! when both reads of `seq` are equal and even. Every field is an `AtomicU64`, so the writer's
//! stores are well-defined while another process reads. The purge and sites words sit outside the
//! seqlock: each has a single writer, and a request is a counter the process catches up with (the
//! sites answer: the state word is stored before the answered request, with release ordering, so
//! a reader that sees its request answered sees the state that goes with it).
//! The reader trusts nothing in the file: it opens it without following a symbolic link or
//! blocking on a FIFO, checks its type and size, fences between its reads (AArch64 reorders
//! loads), checks the copy's own sequence word, and refuses a wrong magic, version or pid.
//! The process reserves the record's pages with `posix_fallocate` before mapping them, so a full
//! tmpfs is an error from [`start`], not a `SIGBUS` at the first store.
//! `unsafe` is confined to mapping the file and viewing it as atomics.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::Duration;

/// The environment variable naming the record file.
pub const ENV_VAR: &str = "MEMPROBE_PUBLISH";
/// First word of a record: `"MPRBPUB1"`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"MPRBPUB1");
/// Layout version; a reader refuses others. Version 2 added the allocation-sites words.
pub const VERSION: u32 = 2;
/// Size of the record in bytes.
pub const RECORD_SIZE: usize = WORDS * 8;
/// How often the background thread refreshes the record.
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(100);
/// Longest phase name kept, in bytes (longer names are cut at a character boundary).
pub const PHASE_MAX: usize = 64;

const WORDS: usize = 40;
const WORD_MAGIC: usize = 0;
const WORD_VERSION: usize = 1;
const WORD_SEQ: usize = 2;
const WORD_PID: usize = 3;
const WORD_UPDATES: usize = 4;
const WORD_FLAGS: usize = 5;
const WORD_UPDATED_NS: usize = 6;
const WORD_JEMALLOC: usize = 7;
const WORD_COUNTING: usize = 13;
const WORD_ITERATION: usize = 18;
const WORD_PHASE_SEQ: usize = 19;
const WORD_PHASE_LEN: usize = 20;
const WORD_PHASE: usize = 21;
const WORD_PURGE_REQUESTED: usize = 29;
const WORD_PURGE_DONE: usize = 30;
const WORD_SITES_MEAN: usize = 31;
const WORD_SITES_REQUEST: usize = 32;
const WORD_SITES_DONE: usize = 33;
const WORD_SITES_STATE: usize = 34;
const SITES_OP_START: u64 = 1;
const SITES_OP_WRITE: u64 = 2;
const FLAG_JEMALLOC: u64 = 1;
const FLAG_COUNTING: u64 = 2;

/// One consistent reading of a published record.
///
/// # Examples
///
/// ```
/// let stats = memprobe::publish::PublishedStats::default();
/// assert_eq!(stats.iteration, 0);
/// assert!(stats.jemalloc.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct PublishedStats {
    /// PID of the publishing process.
    pub pid: u32,
    /// Refreshes so far.
    pub updates: u64,
    /// `CLOCK_MONOTONIC` time of the last refresh, in ns.
    pub updated_monotonic_ns: u64,
    /// jemalloc's figures, when jemalloc is the process's global allocator.
    pub jemalloc: Option<crate::JemallocStats>,
    /// The counting allocator's totals, when it is installed.
    pub counting: Option<crate::AllocTotals>,
    /// Iterations marked with [`mark_iteration`].
    pub iteration: u64,
    /// Phases entered with [`phase`] so far.
    pub phase_seq: u64,
    /// Name of the current phase (empty before the first).
    pub phase: String,
    /// Purges the process has carried out on request.
    pub purge_done: u64,
}

impl PublishedStats {
    /// `true` once the process has carried out the purge [`Reader::request_purge`] returned
    /// `request` for. The request counter wraps at `u64::MAX` (see [`Reader::request_purge`]),
    /// so this is an equality, not `purge_done >= request`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut stats = memprobe::publish::PublishedStats::default();
    /// stats.purge_done = 3;
    /// assert!(stats.has_purged(3));
    /// assert!(!stats.has_purged(4));
    /// ```
    pub fn has_purged(&self, request: u64) -> bool {
        self.purge_done == request
    }
}

/// What the daemon asks of a publishing process's allocation sites ([`Reader::request_sites`]).
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
/// ([`Reader::sites_answer`]).
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

/// Why bytes are not (yet) a record of this layout version: what [`decode`] refuses.
///
/// # Examples
///
/// ```
/// use memprobe::publish::{decode, Invalid, RECORD_SIZE};
/// assert_eq!(decode(&[0u8; RECORD_SIZE]), Err(Invalid::NotYetWritten));
/// assert_eq!(decode(&[0u8; 8]), Err(Invalid::Size(8)));
/// assert_eq!(Invalid::Size(8).to_string(), "the record is 8 bytes, not 320");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// The file or buffer is not [`RECORD_SIZE`] bytes.
    Size(u64),
    /// Magic still zero: the process created the file and has not finished setting it up.
    NotYetWritten,
    /// Caught while the writer was updating it (odd sequence word).
    MidWrite,
    /// The first word is not [`MAGIC`].
    Magic(u64),
    /// A layout version (or record size) this reader does not know.
    Version {
        /// The version found.
        version: u32,
        /// The record size the record claims, in bytes.
        size: u32,
    },
    /// A pid word that cannot be a pid (0 or beyond `u32`).
    Pid(u64),
}

impl Invalid {
    /// `true` for the states a well-behaved writer passes through (being created, mid-update):
    /// try again later. Everything else is a file that is not a record.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::publish::Invalid;
    /// assert!(Invalid::MidWrite.is_transient());
    /// assert!(!Invalid::Magic(7).is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(self, Invalid::NotYetWritten | Invalid::MidWrite)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Invalid::Size(n) => write!(f, "the record is {n} bytes, not {RECORD_SIZE}"),
            Invalid::NotYetWritten => f.write_str("the record is not written yet"),
            Invalid::MidWrite => f.write_str("the record is being updated"),
            Invalid::Magic(m) => write!(
                f,
                "bad magic {:?}, not a memprobe published record",
                String::from_utf8_lossy(&m.to_le_bytes())
            ),
            Invalid::Version { version, size } => write!(
                f,
                "record version {version} ({size} bytes); this memprobe reads version {VERSION} ({RECORD_SIZE} bytes): use a memprobe-daemon built with the same memprobe as the program"
            ),
            Invalid::Pid(p) => write!(f, "pid {p} is not a process id"),
        }
    }
}

/// Decodes a record copied out of the file: [`Invalid`] says why it is not a consistent
/// record of this layout version. A pure function of the bytes; never panics.
///
/// # Examples
///
/// ```
/// use memprobe::publish::{decode, Invalid, RECORD_SIZE};
/// assert_eq!(decode(&[0u8; RECORD_SIZE]), Err(Invalid::NotYetWritten));
/// assert!(matches!(decode(&[0xffu8; RECORD_SIZE]), Err(Invalid::Magic(_))));
/// ```
pub fn decode(bytes: &[u8]) -> std::result::Result<PublishedStats, Invalid> {
    let bytes: &[u8; RECORD_SIZE] = bytes
        .try_into()
        .map_err(|_| Invalid::Size(bytes.len() as u64))?;
    let w = |i: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(word)
    };
    match w(WORD_MAGIC) {
        MAGIC => {}
        0 => return Err(Invalid::NotYetWritten),
        other => return Err(Invalid::Magic(other)),
    }
    let version = w(WORD_VERSION);
    if version as u32 != VERSION || (version >> 32) as usize != RECORD_SIZE {
        return Err(Invalid::Version {
            version: version as u32,
            size: (version >> 32) as u32,
        });
    }
    if w(WORD_SEQ) % 2 == 1 {
        return Err(Invalid::MidWrite);
    }
    let pid = w(WORD_PID);
    let pid = u32::try_from(pid)
        .ok()
        .filter(|&p| p != 0)
        .ok_or(Invalid::Pid(pid))?;
    let flags = w(WORD_FLAGS);
    let jemalloc = (flags & FLAG_JEMALLOC != 0).then(|| crate::JemallocStats {
        allocated_bytes: w(WORD_JEMALLOC),
        active_bytes: w(WORD_JEMALLOC + 1),
        resident_bytes: w(WORD_JEMALLOC + 2),
        mapped_bytes: w(WORD_JEMALLOC + 3),
        retained_bytes: w(WORD_JEMALLOC + 4),
        metadata_bytes: w(WORD_JEMALLOC + 5),
    });
    let counting = (flags & FLAG_COUNTING != 0).then(|| crate::AllocTotals {
        alloc_count: w(WORD_COUNTING),
        realloc_count: w(WORD_COUNTING + 1),
        dealloc_count: w(WORD_COUNTING + 2),
        alloc_bytes: w(WORD_COUNTING + 3),
        freed_bytes: w(WORD_COUNTING + 4),
    });
    let len = usize::try_from(w(WORD_PHASE_LEN)).map_or(PHASE_MAX, |l| l.min(PHASE_MAX));
    let name = &bytes[WORD_PHASE * 8..WORD_PHASE * 8 + len];
    Ok(PublishedStats {
        pid,
        updates: w(WORD_UPDATES),
        updated_monotonic_ns: w(WORD_UPDATED_NS),
        jemalloc,
        counting,
        iteration: w(WORD_ITERATION),
        phase_seq: w(WORD_PHASE_SEQ),
        phase: String::from_utf8_lossy(name).into_owned(),
        purge_done: w(WORD_PURGE_DONE),
    })
}

/// The daemon's side: reads a record with `pread` (no mapping, no lock) and asks for purges.
///
/// The file is another process's to write, so nothing in it is trusted: [`Reader::open`]
/// refuses symbolic links, FIFOs, devices and directories without blocking, and
/// [`Reader::read`] refuses a file of the wrong size, magic, version or (with
/// [`Reader::expecting_pid`]) pid, each with a one-line error. It never maps the file, so a
/// file truncated under it is an error, not a `SIGBUS`.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let err = memprobe::publish::Reader::open(&dir.path().join("none")).unwrap_err();
/// assert!(err.to_string().contains("reading"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reader {
    file: File,
    path: PathBuf,
    purges_requested: u64,
    expected_pid: Option<u32>,
}

impl Reader {
    /// Opens a record file for reading and purge requests. The last path component must not be
    /// a symbolic link (`O_NOFOLLOW`) and the file must be a regular file; the open never
    /// blocks (`O_NONBLOCK`, so a FIFO is refused rather than waited on).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] or [`Error::PermissionDenied`] naming the file; [`Error::Io`] of kind
    /// `InvalidData` when it is a symbolic link or not a regular file.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = memprobe::publish::Reader::open(std::path::Path::new("/dev/null")).unwrap_err();
    /// assert!(err.to_string().contains("not a regular file"), "{err}");
    /// ```
    pub fn open(path: &Path) -> Result<Reader> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    invalid(path, "it is a symbolic link; refusing to follow it".into())
                } else {
                    io("reading", path, e)
                }
            });
        // Opening a directory for writing fails with EISDIR before the type check can run.
        let file = match file {
            Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::EISDIR) => {
                return Err(invalid(path, "not a regular file (a directory)".into()));
            }
            other => other?,
        };
        let kind = file
            .metadata()
            .map_err(|e| io("reading", path, e))?
            .file_type();
        if !kind.is_file() {
            return Err(invalid(
                path,
                format!("not a regular file ({})", file_kind(kind)),
            ));
        }
        Ok(Reader {
            file,
            path: path.to_owned(),
            purges_requested: 0,
            expected_pid: None,
        })
    }

    /// Refuses records published by any process other than `pid`: a descendant that inherited
    /// `MEMPROBE_PUBLISH` and created the record before the watched process did would otherwise
    /// have its figures reported as the watched process's.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("record");
    /// # std::fs::write(&path, b"")?;
    /// let reader = memprobe::publish::Reader::open(&path)?.expecting_pid(std::process::id());
    /// assert_eq!(reader.read()?, None); // not written yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expecting_pid(mut self, pid: u32) -> Reader {
        self.expected_pid = Some(pid);
        self
    }

    /// One consistent reading, retried a few times while the writer is mid-update; `Ok(None)`
    /// while the record is being created (empty, or magic not yet stored) or stays mid-update.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file when it cannot be read, or (kind `InvalidData`) when it is
    /// not a record of this layout version: wrong size, magic, version or pid.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("record");
    /// std::fs::write(&path, [0u8; 100])?;
    /// let err = memprobe::publish::Reader::open(&path)?.read().unwrap_err();
    /// assert!(err.to_string().contains("100 bytes, not 320"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self) -> Result<Option<PublishedStats>> {
        let size = self
            .file
            .metadata()
            .map_err(|e| io("reading", &self.path, e))?
            .len();
        if size == 0 {
            // Created (O_EXCL) but not yet sized by the process.
            return Ok(None);
        }
        if size != RECORD_SIZE as u64 {
            return Err(invalid(&self.path, Invalid::Size(size).to_string()));
        }
        let mut buf = [0u8; RECORD_SIZE];
        for _ in 0..8 {
            let before = self.word(WORD_SEQ)?;
            // The seqlock's reader side. `pread` copies the words the writer stores; the fences
            // keep this thread's loads in order on weakly ordered CPUs (AArch64): the copy is
            // not read before `before`, and `after` not before the copy.
            fence(Ordering::Acquire);
            if before % 2 == 0 {
                let n = self
                    .file
                    .read_at(&mut buf, 0)
                    .map_err(|e| io("reading", &self.path, e))?;
                fence(Ordering::Acquire);
                let after = self.word(WORD_SEQ)?;
                if n < RECORD_SIZE {
                    // Truncated since the size check.
                    return Err(invalid(&self.path, Invalid::Size(n as u64).to_string()));
                }
                // The copy's own sequence word must be the one read around it too: a copy
                // taken across two updates can show equal outer reads but a different inner one.
                let inner = u64::from_ne_bytes(
                    buf[WORD_SEQ * 8..WORD_SEQ * 8 + 8]
                        .try_into()
                        .expect("8 bytes"),
                );
                if after == before && inner == before {
                    match decode(&buf) {
                        Ok(stats) => return self.check_pid(stats).map(Some),
                        Err(e) if e.is_transient() => {}
                        Err(e) => return Err(invalid(&self.path, e.to_string())),
                    }
                }
            }
            std::thread::yield_now();
        }
        Ok(None)
    }

    fn check_pid(&self, stats: PublishedStats) -> Result<PublishedStats> {
        match self.expected_pid {
            Some(pid) if pid != stats.pid => Err(invalid(
                &self.path,
                format!(
                    "published by pid {}, not the watched process {pid} (a descendant that inherited {ENV_VAR}?); ignoring it",
                    stats.pid
                ),
            )),
            _ => Ok(stats),
        }
    }

    /// Asks the process to purge jemalloc's dirty pages; returns the request number, which
    /// [`PublishedStats::has_purged`] accepts once the process has purged (≤ 100 ms later).
    ///
    /// The request counter wraps: after `u64::MAX` comes 0. Wrapping rather than saturating,
    /// because the process purges whenever the request differs from the last one it carried
    /// out; a saturated counter would equal it forever and never purge again.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file when it cannot be read or written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("record");
    /// std::fs::write(&path, [0u8; memprobe::publish::RECORD_SIZE])?;
    /// let mut reader = memprobe::publish::Reader::open(&path)?;
    /// assert_eq!(reader.request_purge()?, 1);
    /// assert_eq!(reader.request_purge()?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_purge(&mut self) -> Result<u64> {
        self.purges_requested = self.word(WORD_PURGE_REQUESTED)?.wrapping_add(1);
        self.file
            .write_all_at(
                &self.purges_requested.to_ne_bytes(),
                (WORD_PURGE_REQUESTED * 8) as u64,
            )
            .map_err(|e| io("writing", &self.path, e))?;
        Ok(self.purges_requested)
    }

    /// Asks the process to start an allocation-sites session or to write its profile; returns
    /// the request's number, which [`Reader::sites_answer`] reports answered (within a refresh,
    /// ≤ 100 ms, plus the time to symbolize for a write).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file when it cannot be read or written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("record");
    /// use memprobe::publish::{Reader, SitesRequest, RECORD_SIZE};
    /// std::fs::write(&path, [0u8; RECORD_SIZE])?;
    /// let mut reader = Reader::open(&path)?;
    /// let n = reader.request_sites(SitesRequest::Start { mean_bytes: 65536 })?;
    /// assert_eq!(reader.sites_answer(n)?, None); // nobody answers a bare file
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_sites(&mut self, request: SitesRequest) -> Result<u64> {
        let op = match request {
            SitesRequest::Start { mean_bytes } => {
                self.file
                    .write_all_at(&mean_bytes.to_ne_bytes(), (WORD_SITES_MEAN * 8) as u64)
                    .map_err(|e| io("writing", &self.path, e))?;
                SITES_OP_START
            }
            SitesRequest::Write => SITES_OP_WRITE,
        };
        // The mean is written (its own pwrite, so the kernel orders it) before the request
        // that makes the process read it. The count wraps within 56 bits, like purge requests.
        let previous = self.word(WORD_SITES_REQUEST)?;
        let number = ((previous >> 8).wrapping_add(1) << 8) | op;
        self.file
            .write_all_at(&number.to_ne_bytes(), (WORD_SITES_REQUEST * 8) as u64)
            .map_err(|e| io("writing", &self.path, e))?;
        Ok(number)
    }

    /// The process's answer to sites request `request`: `None` until it has answered that very
    /// request (a garbled file simply never answers; callers bound their wait).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file when it cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("record");
    /// std::fs::write(&path, [0u8; memprobe::publish::RECORD_SIZE])?;
    /// let reader = memprobe::publish::Reader::open(&path)?;
    /// assert_eq!(reader.sites_answer(0x101)?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sites_answer(&self, request: u64) -> Result<Option<SitesState>> {
        if self.word(WORD_SITES_DONE)? != request {
            return Ok(None);
        }
        // The process stores the state, then the answered request with release ordering; the
        // fence keeps this read of the state after that of the request.
        fence(Ordering::Acquire);
        Ok(Some(SitesState::from_code(self.word(WORD_SITES_STATE)?)))
    }

    fn word(&self, index: usize) -> Result<u64> {
        let mut w = [0u8; 8];
        self.file
            .read_exact_at(&mut w, (index * 8) as u64)
            .map_err(|e| io("reading", &self.path, e))?;
        Ok(u64::from_ne_bytes(w))
    }
}

fn file_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// A file that is not a record: one line naming it and why.
fn invalid(path: &Path, why: String) -> Error {
    Error::Io {
        action: "reading the published record",
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    }
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::from_io(action, path.to_owned(), source, None)
}

// ---------------------------------------------------------------------------------------------
// The process's side.

/// The mapped record; lives until the process exits (never unmapped).
struct Record {
    words: &'static [AtomicU64; WORDS],
    /// The record's path: the site profile is written beside it.
    path: PathBuf,
}

static RECORD: OnceLock<Option<Record>> = OnceLock::new();
static ITERATION: AtomicU64 = AtomicU64::new(0);
static PHASE: std::sync::Mutex<(u64, String)> = std::sync::Mutex::new((0, String::new()));

/// Starts publishing if `MEMPROBE_PUBLISH` is set: creates and maps the record and starts the
/// refresh thread. Idempotent; [`mark_iteration`] and [`phase`] call it for you.
/// Returns `true` when this process publishes.
///
/// # Errors
///
/// [`Error::Io`] naming the file when it cannot be created, its pages reserved (a full device:
/// `memprobe: reserving <path>: No space left on device`) or mapped. Then nothing is published
/// and later calls return `Ok(false)`; the program runs on.
///
/// # Examples
///
/// ```
/// // Not started by memprobe-daemon: nothing to do.
/// assert!(!memprobe::publish::start()?);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn start() -> Result<bool> {
    let mut error = None;
    let record = RECORD.get_or_init(|| {
        let path = std::env::var_os(ENV_VAR)?;
        match Record::create(Path::new(&path)) {
            Ok(Some(record)) => Some(record),
            Ok(None) => None,
            Err(e) => {
                error = Some(e);
                None
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    let Some(record) = record else {
        return Ok(false);
    };
    static THREAD: OnceLock<()> = OnceLock::new();
    THREAD.get_or_init(|| {
        let words = record.words;
        let profile = site_profile_path(&record.path);
        // The thread name shows in `top -H` and debuggers.
        let _ = std::thread::Builder::new()
            .name("memprobe-publish".into())
            .spawn(move || {
                loop {
                    serve_sites(words, &profile);
                    refresh(words);
                    std::thread::sleep(REFRESH_INTERVAL);
                }
            });
    });
    Ok(true)
}

/// Counts one iteration of the program's main loop (one atomic add; the record shows it at the
/// next refresh). Starts publishing on first use.
///
/// # Examples
///
/// ```
/// memprobe::publish::mark_iteration();
/// ```
pub fn mark_iteration() {
    if ITERATION.fetch_add(1, Ordering::Relaxed) == 0 {
        let _ = start();
    }
}

/// Enters the phase `name` (e.g. `"warmup"`, `"steady"`), cut to [`PHASE_MAX`] bytes. The daemon
/// records phase changes and, with `--phase-reset`, resets the peak RSS at each. Starts publishing
/// on first use.
///
/// # Examples
///
/// ```
/// memprobe::publish::phase("steady");
/// ```
pub fn phase(name: &str) {
    let mut cut = name.len().min(PHASE_MAX);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    {
        let mut p = PHASE.lock().unwrap_or_else(|e| e.into_inner());
        p.0 += 1;
        p.1.clear();
        p.1.push_str(&name[..cut]);
    }
    let _ = start();
}

impl Record {
    /// Creates the file (0600, must not exist) and maps it. `Ok(None)` when it already exists:
    /// another process (our parent) publishes there.
    fn create(path: &Path) -> Result<Option<Record>> {
        use std::os::fd::AsRawFd;
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
            Err(e) => return Err(io("creating", path, e)),
        };
        // Reserve the pages, do not just size the file: on tmpfs (/dev/shm) `set_len` allocates
        // nothing, and the first store into the mapping would raise SIGBUS in the watched
        // program when the device is full (Docker's /dev/shm is 64 MiB). posix_fallocate makes
        // a full device an error here instead. (A file truncated under the mapping by someone
        // else can still fault; the file lives in the daemon's private 0700 directory.)
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is a valid open descriptor; the range is within off_t.
        let reserved = unsafe { libc::posix_fallocate(fd, 0, RECORD_SIZE as libc::off_t) };
        if reserved != 0 {
            return Err(io(
                "reserving",
                path,
                std::io::Error::from_raw_os_error(reserved),
            ));
        }
        // SAFETY: a fresh shared mapping of RECORD_SIZE bytes of a file whose blocks we just
        // reserved; the kernel picks the address. The fd may close afterwards: the mapping keeps
        // the file.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RECORD_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io("mapping", path, std::io::Error::last_os_error()));
        }
        assert!(
            ptr.cast::<AtomicU64>().is_aligned(),
            "mmap returns page-aligned memory"
        );
        // SAFETY: the mapping is page-aligned, RECORD_SIZE bytes, readable and writable, zeroed
        // by posix_fallocate, and never unmapped, so it lives for 'static. AtomicU64 has the size and
        // alignment of u64 and allows shared mutation, which the daemon's pwrite also does.
        let words: &'static [AtomicU64; WORDS] = unsafe { &*ptr.cast::<[AtomicU64; WORDS]>() };
        words[WORD_VERSION].store(
            u64::from(VERSION) | ((RECORD_SIZE as u64) << 32),
            Ordering::Relaxed,
        );
        words[WORD_PID].store(u64::from(std::process::id()), Ordering::Relaxed);
        words[WORD_MAGIC].store(MAGIC, Ordering::Release);
        Ok(Some(Record {
            words,
            path: path.to_owned(),
        }))
    }
}

/// Answers a new allocation-sites request, if the daemon made one: the state first, then the
/// request number it answers (release), so the daemon reading the number sees the state.
fn serve_sites(words: &[AtomicU64; WORDS], profile: &Path) {
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

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// One refresh: purge first if asked, then write every figure under the seqlock.
fn refresh(words: &[AtomicU64; WORDS]) {
    let requested = words[WORD_PURGE_REQUESTED].load(Ordering::Acquire);
    let purged = requested != words[WORD_PURGE_DONE].load(Ordering::Relaxed);
    if purged {
        let _ = crate::jemalloc::purge();
    }
    let jemalloc = crate::JemallocStats::read().ok();
    let counting = crate::alloc::is_installed()
        .then(crate::process_totals)
        .and_then(Result::ok);
    let (phase_seq, phase_bytes, phase_len) = {
        let p = PHASE.lock().unwrap_or_else(|e| e.into_inner());
        let mut bytes = [0u8; PHASE_MAX];
        bytes[..p.1.len()].copy_from_slice(p.1.as_bytes());
        (p.0, bytes, p.1.len())
    };

    let seq = words[WORD_SEQ].load(Ordering::Relaxed);
    words[WORD_SEQ].store(seq.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
    let set = |i: usize, v: u64| words[i].store(v, Ordering::Relaxed);
    let mut flags = 0;
    if let Some(j) = jemalloc {
        flags |= FLAG_JEMALLOC;
        for (i, v) in [
            j.allocated_bytes,
            j.active_bytes,
            j.resident_bytes,
            j.mapped_bytes,
            j.retained_bytes,
            j.metadata_bytes,
        ]
        .into_iter()
        .enumerate()
        {
            set(WORD_JEMALLOC + i, v);
        }
    }
    if let Some(c) = counting {
        flags |= FLAG_COUNTING;
        for (i, v) in [
            c.alloc_count,
            c.realloc_count,
            c.dealloc_count,
            c.alloc_bytes,
            c.freed_bytes,
        ]
        .into_iter()
        .enumerate()
        {
            set(WORD_COUNTING + i, v);
        }
    }
    set(WORD_FLAGS, flags);
    set(
        WORD_UPDATES,
        words[WORD_UPDATES].load(Ordering::Relaxed) + 1,
    );
    set(WORD_UPDATED_NS, monotonic_ns());
    set(WORD_ITERATION, ITERATION.load(Ordering::Relaxed));
    set(WORD_PHASE_SEQ, phase_seq);
    set(WORD_PHASE_LEN, phase_len as u64);
    for (i, chunk) in phase_bytes.chunks_exact(8).enumerate() {
        set(
            WORD_PHASE + i,
            u64::from_ne_bytes(chunk.try_into().expect("8 bytes")),
        );
    }
    if purged {
        set(WORD_PURGE_DONE, requested);
    }
    words[WORD_SEQ].store(seq.wrapping_add(2), Ordering::Release);
}
