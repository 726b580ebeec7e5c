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
//!
//! The code, one concern per file: the word offsets in `layout.rs`; what a reading decodes to in
//! `record.rs`; the daemon's [`Reader`] in `reader.rs`; the process's writer in `writer.rs`; the
//! allocation-sites requests in `sites.rs`.

mod layout;
mod reader;
mod record;
mod sites;
mod writer;

pub use reader::Reader;
pub use record::{Invalid, PublishedStats, decode};
#[cfg(feature = "sites")]
pub use sites::write_site_profile;
pub use sites::{SitesRequest, SitesState, site_profile_path};
pub use writer::{mark_iteration, phase, start};

use crate::error::Error;
use layout::WORDS;
use std::path::Path;
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

/// An I/O error on the record file, naming it.
fn io(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::from_io(action, path.to_owned(), source, None)
}
