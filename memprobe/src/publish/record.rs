//! One reading of the record: [`PublishedStats`], and [`decode`], which turns copied bytes into
//! it or says why they are not a record ([`Invalid`]).

use super::layout::*;
use super::{MAGIC, PHASE_MAX, RECORD_SIZE, VERSION};
// For the field docs' links only: they become the JSON schemas' descriptions word for word.
#[cfg(doc)]
use super::{mark_iteration, phase};
use serde::{Deserialize, Serialize};

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
    /// `true` once the process has carried out the purge [`Reader::request_purge`](super::Reader::request_purge) returned
    /// `request` for. The request counter wraps at `u64::MAX` (see [`Reader::request_purge`](super::Reader::request_purge)),
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
