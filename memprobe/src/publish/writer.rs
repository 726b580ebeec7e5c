//! The process's side: creates and maps the record, and refreshes it from a background thread
//! under the seqlock.

use super::layout::*;
use super::sites::{serve_sites, site_profile_path};
use super::{ENV_VAR, MAGIC, PHASE_MAX, RECORD_SIZE, REFRESH_INTERVAL, VERSION, io};
use crate::error::Result;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering, fence};

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
/// [`Error::Io`](crate::Error::Io) naming the file when it cannot be created, its pages reserved (a full device:
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
    // Consecutive words from `first` on.
    let set_from = |first: usize, values: &[u64]| {
        for (i, &v) in values.iter().enumerate() {
            set(first + i, v);
        }
    };
    let mut flags = 0;
    if let Some(j) = jemalloc {
        flags |= FLAG_JEMALLOC;
        set_from(
            WORD_JEMALLOC,
            &[
                j.allocated_bytes,
                j.active_bytes,
                j.resident_bytes,
                j.mapped_bytes,
                j.retained_bytes,
                j.metadata_bytes,
            ],
        );
    }
    if let Some(c) = counting {
        flags |= FLAG_COUNTING;
        set_from(
            WORD_COUNTING,
            &[
                c.alloc_count,
                c.realloc_count,
                c.dealloc_count,
                c.alloc_bytes,
                c.freed_bytes,
            ],
        );
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
