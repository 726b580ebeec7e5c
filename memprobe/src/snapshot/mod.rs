//! Process memory snapshots: what the operating system says a process holds in RAM, read cheaply
//! enough to sample in a loop.
//!
//! [`ProcessMemory`] reads one process (this one with [`ProcessMemory::current`], any other with
//! [`ProcessMemory::for_pid`]): [`ProcessMemory::rss_bytes`] is the fast resident-size-only read,
//! [`ProcessMemory::snapshot`] gives every figure the platform offers as a [`MemorySnapshot`].
//!
//! | figure                 | Linux                   | macOS (this process)   | macOS (other) | elsewhere |
//! |------------------------|-------------------------|------------------------|---------------|-----------|
//! | `rss_bytes`            | `statm` resident × page | `resident_size`        | `pti_resident_size` | sysinfo |
//! | `rss_anon/file/shmem`  | `RssAnon/RssFile/RssShmem` | –                   | –             | –         |
//! | `swap_bytes`           | `VmSwap`                | –                      | –             | –         |
//! | `peak_rss_bytes`       | `VmHWM`                 | `resident_size_peak`   | –             | –         |
//! | `virtual_bytes`        | `VmSize`                | `virtual_size`         | `pti_virtual_size` | sysinfo |
//! | `phys_footprint_bytes` | –                       | `phys_footprint`       | `ri_phys_footprint` | –    |
//!
//! # RSS is a noisy figure, never an exact heap measure
//!
//! The resident set counts every page of the process that is in RAM right now, whoever asked for
//! it: the executable and shared libraries (file pages, shared with other processes and counted in
//! full by each), memory-mapped files, shared memory, thread stacks, and the allocator's own
//! metadata. It also keeps counting memory the program has freed but the allocator retains for
//! reuse (glibc arenas, jemalloc dirty pages), and it misses memory that was allocated but never
//! touched, or was swapped or compressed out. So RSS can stay flat across a leak that reuses
//! retained pages and jump on a read of a mapped file. Use it for trends and coarse limits; for
//! exact heap figures use the counting allocator ([`crate::Counting`]).
//!
//! # Implementation
//!
//! On Linux the `/proc/<pid>` files are opened once and each reading is a `pread` into a stack
//! buffer parsed by the pure functions of [`procfs`]: no allocation, about 1 µs for
//! [`ProcessMemory::rss_bytes`] and a few µs for [`ProcessMemory::snapshot`] (see
//! `benches/snapshot.rs`). The open files follow the process, not its number: after it is reaped
//! every reading fails with [`crate::Error::ProcessNotFound`], even if the PID is reused. A zombie
//! (exited, not yet reaped) reads as zero RSS with the `Vm*` figures `None`, as does a kernel
//! thread. On macOS the calling process is read with mach `task_info`, others with
//! `proc_pidinfo`/`proc_pid_rusage` (see `sys/macos.rs` for why not `task_for_pid`). Other
//! platforms use `sysinfo`.

pub mod procfs;
mod sys;

use serde::{Deserialize, Serialize};

/// One reading of a process's memory, in bytes. Figures a platform does not offer are `None`.
///
/// # Examples
///
/// ```
/// let s = memprobe::MemorySnapshot::default();
/// assert_eq!(s.rss_bytes, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemorySnapshot {
    /// Resident set size: pages of the process in RAM, shared and file-backed ones included.
    pub rss_bytes: u64,
    /// Resident anonymous memory (heap, stacks): Linux `RssAnon`.
    pub rss_anon_bytes: Option<u64>,
    /// Resident file-backed memory (binary, mapped files): Linux `RssFile`.
    pub rss_file_bytes: Option<u64>,
    /// Resident shared memory: Linux `RssShmem`.
    pub rss_shmem_bytes: Option<u64>,
    /// Swapped-out anonymous memory: Linux `VmSwap`.
    pub swap_bytes: Option<u64>,
    /// Peak resident set size since start or the last reset: Linux `VmHWM`, macOS `resident_size_peak`.
    pub peak_rss_bytes: Option<u64>,
    /// Virtual address space size (not memory use): Linux `VmSize`, macOS `virtual_size`.
    pub virtual_bytes: Option<u64>,
    /// macOS `phys_footprint`, what Activity Monitor shows as Memory.
    pub phys_footprint_bytes: Option<u64>,
}

/// A reader of one process's memory figures. It keeps what it needs open (the `/proc` files on
/// Linux), so make it once and read it as often as you like; it is `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// let me = memprobe::ProcessMemory::current()?;
/// assert!(me.snapshot()?.rss_bytes > 0);
/// # Ok::<(), memprobe::Error>(())
/// ```
pub struct ProcessMemory {
    pid: u32,
    reader: sys::Reader,
}

impl std::fmt::Debug for ProcessMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessMemory")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl ProcessMemory {
    /// The calling process.
    ///
    /// # Errors
    ///
    /// When the process's memory figures cannot be read: on Linux, `/proc` not mounted
    /// ([`crate::Error::ProcessNotFound`] or [`crate::Error::Io`] naming the file).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::ProcessMemory::current()?.pid(), std::process::id());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn current() -> crate::Result<Self> {
        Self::for_pid(std::process::id())
    }

    /// The process `pid`, checked by a first reading.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] when no process has this PID;
    /// [`crate::Error::PermissionDenied`], naming the file (or the call, on macOS), when the system
    /// will not show this process's figures to the caller (another user's process, Linux `hidepid`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut child = std::process::Command::new("sleep").arg("5").spawn()?;
    /// let reader = memprobe::ProcessMemory::for_pid(child.id())?;
    /// assert!(reader.rss_bytes()? > 0);
    /// child.kill()?;
    /// child.wait()?;
    /// assert!(matches!(reader.rss_bytes(), Err(memprobe::Error::ProcessNotFound { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_pid(pid: u32) -> crate::Result<Self> {
        Ok(ProcessMemory {
            pid,
            reader: sys::Reader::open(pid)?,
        })
    }

    /// The PID read.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::ProcessMemory::current()?.pid() > 0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The resident set size alone, the cheapest reading (Linux: one `pread` of `statm`, about
    /// 1 µs, no allocation). See the [module docs](self) for what RSS includes.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has exited and been reaped;
    /// [`crate::Error::Parse`] if the system's answer is malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = memprobe::ProcessMemory::current()?;
    /// let before = me.rss_bytes()?;
    /// let touched = vec![1u8; 8 << 20]; // 8 MiB, written so it is resident
    /// assert!(me.rss_bytes()? > before);
    /// # drop(touched);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn rss_bytes(&self) -> crate::Result<u64> {
        self.reader.rss_bytes()
    }

    /// Reads every figure the platform offers (Linux: `statm` and `status`, a few µs, no
    /// allocation).
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has exited and been reaped;
    /// [`crate::Error::Parse`] if the system's answer is malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::ProcessMemory::current()?.snapshot()?;
    /// assert!(s.rss_bytes > 0);
    /// if cfg!(any(target_os = "linux", target_os = "macos")) {
    ///     assert!(s.peak_rss_bytes.unwrap() >= s.rss_bytes / 2);
    /// }
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn snapshot(&self) -> crate::Result<MemorySnapshot> {
        self.reader.snapshot()
    }

    /// Resets the peak RSS (`peak_rss_bytes`, Linux `VmHWM`) to the current RSS, by writing `5` to
    /// `/proc/<pid>/clear_refs`.
    ///
    /// The peak belongs to the whole process (all its threads share one address space), so a
    /// reset also restarts the peak seen by any other code in the process that watches it.
    ///
    /// # Errors
    ///
    /// [`crate::Error::PermissionDenied`] naming `clear_refs` when the caller may not write it
    /// (another user's process without root); [`crate::Error::ProcessNotFound`] once the process
    /// has gone; [`crate::Error::Unsupported`] on macOS and other non-Linux platforms, and on
    /// kernels built without `/proc/<pid>/clear_refs`.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = memprobe::ProcessMemory::current()?;
    /// match me.reset_peak() {
    ///     Ok(()) => assert!(me.snapshot()?.peak_rss_bytes.is_some()),
    ///     Err(memprobe::Error::Unsupported { .. }) => {} // not Linux
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn reset_peak(&self) -> crate::Result<()> {
        self.reader.reset_peak()
    }

    /// When the process started, in clock ticks since boot (Linux `/proc/<pid>/stat` field 22).
    /// The pair (PID, start time) names one process for good, so a tool that records it can tell
    /// a reused PID from the process it was watching.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has gone; [`crate::Error::Parse`] if the
    /// file is malformed; [`crate::Error::Unsupported`] on platforms other than Linux.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = memprobe::ProcessMemory::current()?;
    /// if cfg!(target_os = "linux") {
    ///     assert_eq!(me.start_time_ticks()?, me.start_time_ticks()?);
    /// }
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn start_time_ticks(&self) -> crate::Result<u64> {
        self.reader.start_time_ticks()
    }
}
