//! macOS reader: the mach `task_info(TASK_VM_INFO)` call for the calling process, and
//! `proc_pidinfo` + `proc_pid_rusage` for any other.
//!
//! # Why not `task_for_pid` for other processes
//!
//! `task_for_pid` needs root *and*, since macOS 10.11 (SIP), a target that is not hardened or an
//! entitlement the caller cannot grant itself, so it fails for nearly every process even under
//! `sudo`. `proc_pidinfo(PROC_PIDTASKINFO)` (resident and virtual size) and
//! `proc_pid_rusage(RUSAGE_INFO_V4)` (`phys_footprint`) work for any process of the same user, or
//! any at all as root, and report `EPERM`/`ESRCH`, which map to [`Error::PermissionDenied`] and
//! [`Error::ProcessNotFound`]. They do not offer the peak RSS, so `peak_rss_bytes` is `None` there.

use std::io;
use std::mem::size_of;
use std::path::PathBuf;

use mach2::kern_return::KERN_SUCCESS;
use mach2::message::mach_msg_type_number_t;
use mach2::task::task_info;
use mach2::task_info::{TASK_VM_INFO, task_vm_info};
use mach2::traps::mach_task_self;
use mach2::vm_types::natural_t;

use crate::Error;
use crate::snapshot::MemorySnapshot;

const PLATFORM: &str = "macos";

/// `TASK_VM_INFO_COUNT` from `<mach/task_info.h>`: the struct's size in `natural_t` words.
const TASK_VM_INFO_COUNT: mach_msg_type_number_t =
    (size_of::<task_vm_info>() / size_of::<natural_t>()) as mach_msg_type_number_t;

/// A reader for one process; only the PID is kept, the kernel calls need no open handle.
#[derive(Debug)]
pub(crate) struct Reader {
    pid: u32,
    own: bool,
}

/// The current task's VM figures. Older kernels fill fewer fields than the struct has; the rest
/// stay zero (all we read is in revision 1, macOS 10.11).
fn own_vm_info() -> crate::Result<task_vm_info> {
    let mut info = task_vm_info::default();
    let mut count = TASK_VM_INFO_COUNT;
    // SAFETY: `info` is a live, writable `task_vm_info` and `count` holds its size in `natural_t`
    // words, so the kernel writes at most that many words into it; `mach_task_self` only reads a
    // process-wide constant that needs no deallocation.
    let kr = unsafe {
        task_info(
            mach_task_self(),
            TASK_VM_INFO,
            (&raw mut info).cast(),
            &raw mut count,
        )
    };
    if kr != KERN_SUCCESS {
        return Err(Error::Io {
            action: "calling",
            path: PathBuf::from("task_info(mach_task_self(), TASK_VM_INFO)"),
            source: io::Error::other(format!("kern_return_t {kr}")),
        });
    }
    Ok(info)
}

fn call_error(pid: u32, call: &'static str) -> Error {
    Error::from_io(
        "calling",
        PathBuf::from(format!("{call} for PID {pid}")),
        io::Error::last_os_error(),
        Some(pid),
    )
}

/// `proc_pidinfo(PROC_PIDTASKINFO)`: resident and virtual size of any process we may inspect.
fn task_info_of(pid: u32) -> crate::Result<libc::proc_taskinfo> {
    const SIZE: libc::c_int = size_of::<libc::proc_taskinfo>() as libc::c_int;
    let c_pid = libc::c_int::try_from(pid).map_err(|_| Error::ProcessNotFound { pid })?;
    // SAFETY: proc_taskinfo is plain integers, for which all-zero bytes are a valid value.
    let mut info: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is a writable proc_taskinfo of exactly SIZE bytes, the size the flavor
    // PROC_PIDTASKINFO writes.
    let n = unsafe {
        libc::proc_pidinfo(
            c_pid,
            libc::PROC_PIDTASKINFO,
            0,
            (&raw mut info).cast(),
            SIZE,
        )
    };
    if n <= 0 {
        return Err(call_error(pid, "proc_pidinfo(PROC_PIDTASKINFO)"));
    }
    if n != SIZE {
        return Err(Error::Parse {
            what: "proc_taskinfo (short answer)",
            path: PathBuf::from(format!("proc_pidinfo(PROC_PIDTASKINFO) for PID {pid}")),
        });
    }
    Ok(info)
}

/// `proc_pid_rusage(RUSAGE_INFO_V4)`: the physical footprint (macOS 10.12+).
fn rusage_of(pid: u32) -> crate::Result<libc::rusage_info_v4> {
    let c_pid = libc::c_int::try_from(pid).map_err(|_| Error::ProcessNotFound { pid })?;
    // SAFETY: rusage_info_v4 is plain integers and bytes, for which all-zero is a valid value.
    let mut info: libc::rusage_info_v4 = unsafe { std::mem::zeroed() };
    // SAFETY: the buffer is a writable rusage_info_v4, the struct the RUSAGE_INFO_V4 flavor fills;
    // the C prototype takes it as `rusage_info_t *`, hence the cast.
    let rc = unsafe {
        libc::proc_pid_rusage(
            c_pid,
            libc::RUSAGE_INFO_V4,
            (&raw mut info).cast::<libc::rusage_info_t>(),
        )
    };
    if rc != 0 {
        return Err(call_error(pid, "proc_pid_rusage(RUSAGE_INFO_V4)"));
    }
    Ok(info)
}

impl Reader {
    pub(crate) fn open(pid: u32) -> crate::Result<Self> {
        let reader = Reader {
            pid,
            own: pid == std::process::id(),
        };
        // Fails now, with ProcessNotFound or PermissionDenied, rather than at the first reading.
        reader.rss_bytes()?;
        Ok(reader)
    }

    pub(crate) fn rss_bytes(&self) -> crate::Result<u64> {
        if self.own {
            Ok(own_vm_info()?.resident_size)
        } else {
            Ok(task_info_of(self.pid)?.pti_resident_size)
        }
    }

    pub(crate) fn snapshot(&self) -> crate::Result<MemorySnapshot> {
        if self.own {
            let info = own_vm_info()?;
            return Ok(MemorySnapshot {
                rss_bytes: info.resident_size,
                peak_rss_bytes: Some(info.resident_size_peak),
                virtual_bytes: Some(info.virtual_size),
                phys_footprint_bytes: Some(info.phys_footprint),
                ..MemorySnapshot::default()
            });
        }
        let task = task_info_of(self.pid)?;
        let rusage = rusage_of(self.pid)?;
        Ok(MemorySnapshot {
            rss_bytes: task.pti_resident_size,
            virtual_bytes: Some(task.pti_virtual_size),
            phys_footprint_bytes: Some(rusage.ri_phys_footprint),
            ..MemorySnapshot::default()
        })
    }

    pub(crate) fn reset_peak(&self) -> crate::Result<()> {
        Err(Error::Unsupported {
            what: "resetting the peak RSS",
            platform: PLATFORM,
        })
    }

    pub(crate) fn start_time_ticks(&self) -> crate::Result<u64> {
        Err(Error::Unsupported {
            what: "the start time in clock ticks (/proc/<pid>/stat)",
            platform: PLATFORM,
        })
    }
}
