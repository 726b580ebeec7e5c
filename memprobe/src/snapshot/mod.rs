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
//! | `rss_anon/file/shmem`  | `status` `RssAnon:/RssFile:/RssShmem:` lines | – | –          | –         |
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
//! `benches/snapshot.rs`). The files are opened from the process's `/proc/<pid>` directory, held
//! open (`openat`), so they all belong to one process and follow it, not its number: after it is
//! reaped every reading, and every peak reset, fails with [`crate::Error::ProcessNotFound`], even
//! if the PID is reused. One reader may be shared by threads: its `status` readings take turns
//! (see [`ProcessMemory::status`]). [`ProcRoot`] points the readers at a `/proc` elsewhere (tests
//! replay a committed fake tree). A zombie
//! (exited, not yet reaped) reads as zero RSS with the `Vm*` figures `None`, as does a kernel
//! thread. Each figure has one Linux source, the table above: in particular `rss_anon_bytes` is
//! the kernel's `RssAnon:` line of `status`, never derived from `statm` (resident − shared).
//!
//! A sampling loop that wants the resident size at every tick but not the cost of formatting
//! `status` each time uses a [`Sampler`]: `statm` every tick, `status` on its own schedule. On macOS the calling process is read with mach `task_info`, others with
//! `proc_pidinfo`/`proc_pid_rusage` (see `sys/macos.rs` for why not `task_for_pid`). Other
//! platforms use `sysinfo`.

pub mod procfs;
mod sys;

use serde::{Deserialize, Serialize};
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

/// One reading of a process's memory, in bytes. Figures a platform does not offer are `None`.
///
/// # Examples
///
/// ```
/// let s = memprobe::MemorySnapshot::default();
/// assert_eq!(s.rss_bytes, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
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

    /// The process `pid` under `root` (Linux only): [`ProcessMemory::for_pid`] for a `/proc`
    /// elsewhere, such as a test's fake tree.
    ///
    /// # Errors
    ///
    /// As [`ProcessMemory::for_pid`].
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::{ProcessMemory, snapshot::ProcRoot};
    /// let me = ProcessMemory::for_pid_in(&ProcRoot::system(), std::process::id())?;
    /// assert!(me.rss_bytes()? > 0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    #[cfg(target_os = "linux")]
    pub fn for_pid_in(root: &ProcRoot, pid: u32) -> crate::Result<Self> {
        Ok(ProcessMemory {
            pid,
            reader: sys::Reader::open_in(root, pid)?,
        })
    }

    /// Opens another file of this very process's `/proc/<pid>` directory for reading, such as
    /// `smaps_rollup` or `cgroup` (Linux only). It is opened from the directory the reader holds
    /// (`openat`), so it belongs to the process read, never to a later one given the same PID.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has gone;
    /// [`crate::Error::PermissionDenied`] naming the file when the caller may not read it.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = memprobe::ProcessMemory::current()?;
    /// let cmdline = std::io::read_to_string(me.open_file("cmdline")?).unwrap();
    /// assert!(!cmdline.is_empty());
    /// assert!(me.open_file("no-such-file").is_err());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    #[cfg(target_os = "linux")]
    pub fn open_file(&self, name: &str) -> crate::Result<std::fs::File> {
        self.reader.dir().open_file(name, false)
    }

    /// Appends the process's direct children to `out`, from its `task/*/children` lists read
    /// through the directory the reader holds (Linux only). A process that has gone has none.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut child = std::process::Command::new("sleep").arg("5").spawn()?;
    /// let me = memprobe::ProcessMemory::current()?;
    /// let mut kids = Vec::new();
    /// me.children(&mut kids);
    /// assert!(kids.contains(&child.id()));
    /// child.kill()?;
    /// child.wait()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(target_os = "linux")]
    pub fn children(&self, out: &mut Vec<u32>) {
        self.reader.dir().children(out);
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

    /// The memory lines of `/proc/<pid>/status` (Linux only), read whole from one generation of
    /// the file: within one reading `vm_rss_bytes` is exactly `rss_anon_bytes + rss_file_bytes +
    /// rss_shmem_bytes`, as the kernel computes them together, even while other threads read the
    /// same [`ProcessMemory`].
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has been reaped.
    ///
    /// # Examples
    ///
    /// ```
    /// let status = memprobe::ProcessMemory::current()?.status()?;
    /// let parts = status.rss_anon_bytes.unwrap() + status.rss_file_bytes.unwrap()
    ///     + status.rss_shmem_bytes.unwrap();
    /// assert_eq!(status.vm_rss_bytes, Some(parts));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    #[cfg(target_os = "linux")]
    pub fn status(&self) -> crate::Result<procfs::Status> {
        self.reader.status()
    }

    /// State, parent and start time, from the kept-open `/proc/<pid>/stat` (Linux only).
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has been reaped;
    /// [`crate::Error::Parse`] if the file is malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = memprobe::ProcessMemory::current()?;
    /// let stat = me.stat()?;
    /// assert_eq!(stat.state, b'R'); // reading its own stat, the process is running
    /// assert_eq!(stat.start_time_ticks, me.start_time_ticks()?);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    #[cfg(target_os = "linux")]
    pub fn stat(&self) -> crate::Result<procfs::Stat> {
        self.reader.stat()
    }
}

/// Reads `/proc/<pid>/stat` afresh, by number (Linux only): unlike [`ProcessMemory::stat`], which
/// follows the process it opened, a PID reused since reads as the new process (another start
/// time). For checking a process's identity, or a process met once (a child found in a tree).
///
/// # Errors
///
/// [`crate::Error::ProcessNotFound`] when no process has this PID; [`crate::Error::Parse`] if the
/// file is malformed.
///
/// # Examples
///
/// ```
/// let stat = memprobe::snapshot::read_stat(std::process::id())?;
/// assert_eq!(stat.ppid, std::os::unix::process::parent_id());
/// assert!(matches!(
///     memprobe::snapshot::read_stat(i32::MAX as u32),
///     Err(memprobe::Error::ProcessNotFound { .. })
/// ));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn read_stat(pid: u32) -> crate::Result<procfs::Stat> {
    sys::read_stat_in(&ProcRoot::system(), pid)
}

/// [`read_stat`] under another root than `/proc` (Linux only).
///
/// # Errors
///
/// As [`read_stat`].
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::{ProcRoot, read_stat_in};
/// let stat = read_stat_in(&ProcRoot::system(), std::process::id())?;
/// assert_eq!(stat.ppid, std::os::unix::process::parent_id());
/// # Ok::<(), memprobe::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn read_stat_in(root: &ProcRoot, pid: u32) -> crate::Result<procfs::Stat> {
    sys::read_stat_in(root, pid)
}

/// Where the readers find `/proc` (Linux only): the system's `/proc`, or a directory laid out
/// like it, which is how the tests replay a committed fake `/proc` (hostile command names,
/// integer extremes, missing fields, a PID replaced between sampling rounds).
///
/// A fake root may hold a `page_size` file (decimal bytes) standing for the page size of the
/// machine it copies (`statm` counts pages); without one, and for `/proc`, the page size is this
/// system's.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("page_size"), "65536\n")?;
/// let fake = memprobe::snapshot::ProcRoot::at(dir.path())?;
/// assert_eq!(fake.page_size(), 65536);
/// assert_eq!(fake.path(), dir.path());
/// let system = memprobe::snapshot::ProcRoot::system();
/// assert_eq!(system.page_size(), memprobe::snapshot::page_size());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcRoot {
    path: std::path::PathBuf,
    page_size: u64,
}

#[cfg(target_os = "linux")]
impl ProcRoot {
    /// The system's `/proc`.
    ///
    /// # Examples
    ///
    /// See [`ProcRoot`].
    pub fn system() -> Self {
        ProcRoot {
            path: "/proc".into(),
            page_size: sys::page_size(),
        }
    }

    /// The directory `path`, laid out like `/proc`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Io`] naming the path when it is not a directory, or its `page_size` file
    /// cannot be read; [`crate::Error::Parse`] when that file does not hold a power of two.
    ///
    /// # Examples
    ///
    /// See [`ProcRoot`].
    pub fn at(path: impl Into<std::path::PathBuf>) -> crate::Result<Self> {
        let path = path.into();
        if let Err(e) = std::fs::read_dir(&path) {
            return Err(crate::Error::from_io("listing", path, e, None));
        }
        let page_file = path.join("page_size");
        let page_size = match std::fs::read(&page_file) {
            Ok(text) => procfs::parse_u64(text.trim_ascii())
                .filter(|p| p.is_power_of_two())
                .ok_or(crate::Error::Parse {
                    what: "a page size in bytes (a power of two)",
                    path: page_file,
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => sys::page_size(),
            Err(e) => return Err(crate::Error::from_io("reading", page_file, e, None)),
        };
        Ok(ProcRoot { path, page_size })
    }

    /// The directory.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::snapshot::ProcRoot::system().path(), std::path::Path::new("/proc"));
    /// ```
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Bytes per page of the machine the root describes.
    ///
    /// # Examples
    ///
    /// See [`ProcRoot`].
    pub fn page_size(&self) -> u64 {
        self.page_size
    }
}

#[cfg(target_os = "linux")]
impl Default for ProcRoot {
    fn default() -> Self {
        Self::system()
    }
}

/// Bytes per memory page, asked of the system once (Linux only).
///
/// # Examples
///
/// ```
/// let page = memprobe::snapshot::page_size();
/// assert!(page.is_power_of_two() && page >= 4096);
/// ```
#[cfg(target_os = "linux")]
pub fn page_size() -> u64 {
    sys::page_size()
}

/// A [`ProcessMemory`] read by a sampling loop (Linux only): `statm` at every [`Sampler::read`]
/// (the resident size, fresh at each tick), `status` only when `status_every` has passed since it
/// was last read (every other figure, see the table in the [module docs](self)).
///
/// `status` is text the kernel formats on each read (signal masks, CPU lists, groups) and costs
/// several times a `statm` read; at 1 kHz reading it each tick would be most of the sampler's
/// cost. Its figures in a reading are those of the last `status` read, at
/// [`Sampler::status_read_at`]. No allocation per reading.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// let me = memprobe::ProcessMemory::current()?;
/// let mut sampler = memprobe::snapshot::Sampler::new(me, Duration::from_millis(1), Duration::from_millis(100));
/// let t0 = Instant::now();
/// let first = sampler.read(t0)?;
/// assert!(first.rss_bytes > 0 && first.rss_anon_bytes.is_some());
/// assert_eq!(sampler.status_read_at(), Some(t0));
/// sampler.read(t0 + Duration::from_millis(10))?; // statm only
/// assert_eq!(sampler.status_read_at(), Some(t0));
/// sampler.read(t0 + Duration::from_millis(100))?; // status due again
/// assert_eq!(sampler.status_read_at(), Some(t0 + Duration::from_millis(100)));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct Sampler {
    memory: ProcessMemory,
    status_every: Duration,
    status_at: Option<Instant>,
    status_last: procfs::Status,
}

#[cfg(target_os = "linux")]
impl Sampler {
    /// Samples `memory` at ticks `interval` apart, reading `status` every `status_every`: at every
    /// tick when ticks are that far apart or more, otherwise when `status_every` less half an
    /// interval has passed (so a tick a few µs early does not wait a whole tick more).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let me = memprobe::ProcessMemory::current()?;
    /// let second = Duration::from_secs(1);
    /// let mut slow = memprobe::snapshot::Sampler::new(me, second, Duration::from_millis(100));
    /// let t0 = Instant::now();
    /// slow.read(t0)?;
    /// slow.read(t0 + second)?;
    /// assert_eq!(slow.status_read_at(), Some(t0 + second)); // every tick
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn new(memory: ProcessMemory, interval: Duration, status_every: Duration) -> Self {
        Sampler {
            memory,
            status_every: if interval >= status_every {
                Duration::ZERO
            } else {
                status_every - interval / 2
            },
            status_at: None,
            status_last: procfs::Status::default(),
        }
    }

    /// The process read, for its other operations (peak reset, start time).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let me = memprobe::ProcessMemory::current()?;
    /// let sampler = memprobe::snapshot::Sampler::new(me, Duration::from_millis(10), Duration::from_millis(100));
    /// assert_eq!(sampler.memory().pid(), std::process::id());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn memory(&self) -> &ProcessMemory {
        &self.memory
    }

    /// When `status` was last read (`None` before the first reading).
    ///
    /// # Examples
    ///
    /// See [`Sampler`].
    pub fn status_read_at(&self) -> Option<Instant> {
        self.status_at
    }

    /// One reading at `now`: `statm` always, `status` when due.
    ///
    /// # Errors
    ///
    /// [`crate::Error::ProcessNotFound`] once the process has been reaped; [`crate::Error::Parse`]
    /// if `statm` is malformed.
    ///
    /// # Examples
    ///
    /// See [`Sampler`].
    pub fn read(&mut self, now: Instant) -> crate::Result<MemorySnapshot> {
        let statm = self.memory.reader.statm()?;
        if self
            .status_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.status_every)
        {
            self.status_last = self.memory.reader.status()?;
            self.status_at = Some(now);
        }
        Ok(sys::from_parts(
            &statm,
            self.memory.reader.page_size(),
            &self.status_last,
        ))
    }
}
