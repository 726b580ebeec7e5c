//! The daemon's side: [`Reader`] reads a record with `pread` and trusts nothing in it.

use super::layout::*;
use super::record::{Invalid, PublishedStats, decode};
use super::sites::{SitesRequest, SitesState};
use super::{ENV_VAR, RECORD_SIZE, io};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{Ordering, fence};

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
