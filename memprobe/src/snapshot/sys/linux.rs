//! Linux reader: `/proc/<pid>/statm`, `status` and `stat`, opened once and re-read with `pread`
//! into a stack buffer, so a reading costs one or two system calls and no allocation.
//!
//! # Implementation
//!
//! The files are opened when the reader is made and kept. Each reading is a `pread` at offset 0
//! (`FileExt::read_at`), which makes procfs regenerate the text, parsed in place by the pure
//! functions of [`crate::snapshot::procfs`]. The descriptors are bound to the process, not to its
//! number: once it is reaped they fail with `ESRCH` (mapped to [`Error::ProcessNotFound`]) even if
//! the PID is given to a new process, so a reader never silently switches to a stranger.
//!
//! ```text
//!   open(pid) ── statm, status, stat fds ──► read_at(stack buf, 0) ──► parse ──► figures
//!                                             ▲ more chunks only if the file outgrows the buffer
//! ```

use std::fs::File;
use std::io::Write;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::Error;
use crate::snapshot::MemorySnapshot;
use crate::snapshot::procfs::{self, Stat, Statm, Status};

// PERF: statm is one line of seven numbers, at most 7 × 21 bytes, so one read fills it. status is
// about 1.5 KiB; 4 KiB leaves room for kernels that add lines, and because reading stops at the
// last field we use (VmSwap, a third of the way down) a larger file still costs one read. A
// status larger than the buffer (a `Groups:` line of a thousand groups is 6 KiB) is streamed in
// several reads, never cut: a line longer than the buffer is skipped whole and the `Vm*` lines
// after it are still read.
const STATM_BUF: usize = 256;
const STATUS_BUF: usize = 4096;
// stat is one line of 52 fields; the command name is at most 64 bytes.
const STAT_BUF: usize = 1024;

/// An open set of `/proc/<pid>` files.
#[derive(Debug)]
pub(crate) struct Reader {
    pid: u32,
    page_size: u64,
    statm: File,
    status: File,
    stat: File,
}

fn proc_path(pid: u32, file: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{file}"))
}

/// The page size, asked of the system once.
pub(crate) fn page_size() -> u64 {
    static PAGE_SIZE: OnceLock<u64> = OnceLock::new();
    *PAGE_SIZE.get_or_init(|| {
        // SAFETY: sysconf only reads a configuration value; _SC_PAGESIZE is always defined.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        // POSIX guarantees a positive page size; 4096 is the fallback of every Linux ABI we meet.
        u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
    })
}

impl Reader {
    pub(crate) fn open(pid: u32) -> crate::Result<Self> {
        let open = |file: &str| {
            let path = proc_path(pid, file);
            File::open(&path).map_err(|e| Error::from_io("opening", path, e, Some(pid)))
        };
        // statm first: for a PID that does not exist this is the error the caller sees.
        let statm = open("statm")?;
        let status = open("status")?;
        let stat = open("stat")?;
        let reader = Reader {
            pid,
            page_size: page_size(),
            statm,
            status,
            stat,
        };
        // Some files open fine but refuse reads (hidepid, ptrace checks): fail now, not later.
        reader.rss_bytes()?;
        Ok(reader)
    }

    fn io_error(&self, action: &'static str, file: &str, e: std::io::Error) -> Error {
        Error::from_io(action, proc_path(self.pid, file), e, Some(self.pid))
    }

    pub(crate) fn statm(&self) -> crate::Result<Statm> {
        let mut buf = [0u8; STATM_BUF];
        let mut statm = None;
        procfs::read_lines(
            |out, offset| self.statm.read_at(out, offset),
            &mut buf,
            |line| {
                statm = procfs::parse_statm(line);
                ControlFlow::Break(())
            },
        )
        .map_err(|e| self.io_error("reading", "statm", e))?;
        statm.ok_or_else(|| Error::Parse {
            what: "size, resident and shared pages",
            path: proc_path(self.pid, "statm"),
        })
    }

    pub(crate) fn rss_bytes(&self) -> crate::Result<u64> {
        self.statm()?
            .resident_pages
            .checked_mul(self.page_size)
            .ok_or_else(|| Error::Parse {
                what: "resident pages",
                path: proc_path(self.pid, "statm"),
            })
    }

    pub(crate) fn status(&self) -> crate::Result<Status> {
        let mut buf = [0u8; STATUS_BUF];
        let mut status = Status::default();
        procfs::read_lines(
            |out, offset| self.status.read_at(out, offset),
            &mut buf,
            |line| {
                status.parse_line(line);
                if status.is_complete() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .map_err(|e| self.io_error("reading", "status", e))?;
        Ok(status)
    }

    pub(crate) fn page_size(&self) -> u64 {
        self.page_size
    }

    pub(crate) fn snapshot(&self) -> crate::Result<MemorySnapshot> {
        let statm = self.statm()?;
        Ok(from_parts(&statm, self.page_size, &self.status()?))
    }

    pub(crate) fn reset_peak(&self) -> crate::Result<()> {
        let path = proc_path(self.pid, "clear_refs");
        // "5" resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+,
        // Documentation/admin-guide/mm/soft-dirty.rst and proc.rst).
        let result = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"5"));
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Either the process is gone or the kernel lacks CONFIG_PROC_PAGE_MONITOR; the
                // still-open statm tells which.
                self.rss_bytes()?;
                Err(Error::Unsupported {
                    what: "resetting the peak RSS (this kernel has no /proc/<pid>/clear_refs)",
                    platform: std::env::consts::OS,
                })
            }
            Err(e) => Err(Error::from_io("writing 5 to", path, e, Some(self.pid))),
        }
    }

    pub(crate) fn stat(&self) -> crate::Result<Stat> {
        read_stat_from(&self.stat, self.pid)
    }

    pub(crate) fn start_time_ticks(&self) -> crate::Result<u64> {
        Ok(self.stat()?.start_time_ticks)
    }
}

/// A snapshot from `statm` (the resident size, in pages of `page_size` bytes) and the
/// figures of `status`: the one place each field of [`MemorySnapshot`] gets its Linux source (see
/// the table in [`crate::snapshot`]).
pub(crate) fn from_parts(statm: &Statm, page_size: u64, status: &Status) -> MemorySnapshot {
    MemorySnapshot {
        rss_bytes: statm.resident_pages.saturating_mul(page_size),
        rss_anon_bytes: status.rss_anon_bytes,
        rss_file_bytes: status.rss_file_bytes,
        rss_shmem_bytes: status.rss_shmem_bytes,
        swap_bytes: status.vm_swap_bytes,
        peak_rss_bytes: status.vm_hwm_bytes,
        virtual_bytes: status.vm_size_bytes,
        phys_footprint_bytes: None,
    }
}

/// Reads and parses a whole `stat` file (all of it: the command name may hold newlines).
fn read_stat_from(file: &File, pid: u32) -> crate::Result<Stat> {
    let mut buf = [0u8; STAT_BUF];
    let n = procfs::read_all(|out, offset| file.read_at(out, offset), &mut buf)
        .map_err(|e| Error::from_io("reading", proc_path(pid, "stat"), e, Some(pid)))?;
    procfs::parse_stat(&buf[..n]).ok_or_else(|| Error::Parse {
        what: "state, parent and start time (fields 3, 4 and 22)",
        path: proc_path(pid, "stat"),
    })
}

/// Opens `/proc/<pid>/stat` afresh and parses it: by number, so a PID reused since reads as the
/// new process (a different start time).
pub(crate) fn read_stat(pid: u32) -> crate::Result<Stat> {
    let path = proc_path(pid, "stat");
    let file = File::open(&path).map_err(|e| Error::from_io("opening", path, e, Some(pid)))?;
    read_stat_from(&file, pid)
}
