//! A `/proc/<pid>` directory held open, and every file of the process opened from it with
//! `openat(2)`: the one place the snapshot readers open a process's files, and this crate's only
//! `openat` (std has none; the unsafe is fenced here).
//!
//! # Why a directory descriptor
//!
//! A PID is a number the kernel gives again once its process is reaped; the `/proc/<pid>`
//! directory, once open, is bound to the process itself (its `struct pid`), not to the number.
//! Files opened by path one after the other (`statm`, then `status`, then `clear_refs` minutes
//! later) could each belong to a different process if the PID was reused in between; files
//! opened from the held directory all belong to the process that was checked, and once it is
//! gone `openat` fails (`ENOENT`) instead of opening a stranger's file. So a peak reset
//! (`clear_refs`) never reaches a process the caller did not verify.
//!
//! The directory is opened under a root that is `/proc` except in tests, which point it at a
//! committed fake tree (see [`crate::snapshot::ProcRoot`]).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::Error;

/// An open `/proc/<pid>` directory.
#[derive(Debug)]
pub(crate) struct ProcDir {
    pid: u32,
    /// `<root>/<pid>`, for messages.
    path: PathBuf,
    dir: File,
}

impl ProcDir {
    /// Opens `<root>/<pid>`.
    ///
    /// # Errors
    ///
    /// [`Error::ProcessNotFound`] when there is no such directory (no such process).
    pub(crate) fn open(root: &Path, pid: u32) -> crate::Result<ProcDir> {
        let path = root.join(pid.to_string());
        // A directory opens read-only like a file; the descriptor is only used as `openat`'s
        // base and to list `task/`.
        match File::open(&path) {
            Ok(dir) => Ok(ProcDir { pid, path, dir }),
            Err(e) => Err(Error::from_io("opening", path, e, Some(pid))),
        }
    }

    /// `<root>/<pid>/<name>`, as messages name it.
    pub(crate) fn path_of(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens `name` (a path relative to the directory) of this process, for reading or, with
    /// `write`, for writing.
    ///
    /// # Errors
    ///
    /// [`Error::ProcessNotFound`] once the process has gone (even if its PID names another one
    /// now); [`Error::PermissionDenied`] or [`Error::Io`] naming the file otherwise.
    pub(crate) fn open_file(&self, name: &str, write: bool) -> crate::Result<File> {
        let access = if write {
            libc::O_WRONLY
        } else {
            libc::O_RDONLY
        };
        openat(&self.dir, name, access).map_err(|e| {
            let action = if write {
                "opening for writing"
            } else {
                "opening"
            };
            Error::from_io(action, self.path_of(name), e, Some(self.pid))
        })
    }

    /// Appends this process's direct children to `out`, from `task/*/children` (each thread
    /// lists the children it forked). A process that has gone has none.
    pub(crate) fn children(&self, out: &mut Vec<u32>) {
        let Ok(task) = openat(&self.dir, "task", libc::O_RDONLY | libc::O_DIRECTORY) else {
            return;
        };
        // std lists a directory by path only: `/proc/self/fd/<n>` is the open `task` directory
        // itself (a magic link), so the listing stays this process's.
        let Ok(tasks) = std::fs::read_dir(format!("/proc/self/fd/{}", task.as_raw_fd())) else {
            return;
        };
        let mut buf = [0u8; 4096];
        for entry in tasks.flatten() {
            let Some(tid) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(file) = openat(&self.dir, &format!("task/{tid}/children"), libc::O_RDONLY)
            else {
                continue;
            };
            let read = crate::snapshot::procfs::read_all(
                |b, offset| std::os::unix::fs::FileExt::read_at(&file, b, offset),
                &mut buf,
            );
            match read {
                Ok(n) if n < buf.len() => crate::snapshot::procfs::parse_children(&buf[..n], out),
                // A very long list does not fit the buffer: read it whole then.
                Ok(_) => {
                    let mut all = Vec::new();
                    if io::Read::read_to_end(&mut &file, &mut all).is_ok() {
                        crate::snapshot::procfs::parse_children(&all, out);
                    }
                }
                Err(_) => {}
            }
        }
    }
}

/// `openat(dir, name, flags | O_CLOEXEC)` as a `File`.
fn openat(dir: &File, name: &str, flags: libc::c_int) -> io::Result<File> {
    let name = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `dir` is an open descriptor for the whole call and `name` a NUL-terminated string
    // that outlives it; openat reads both and keeps neither.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by a successful openat, so it is open and owned by no one
    // else; the `OwnedFd` takes sole ownership and closes it on drop.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}
