//! Process memory snapshots (placeholder until the platform readers land).

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

/// A reader of one process's memory figures.
///
/// # Examples
///
/// ```
/// let me = memprobe::ProcessMemory::current()?;
/// assert!(me.snapshot()?.rss_bytes > 0);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug)]
pub struct ProcessMemory {
    pid: u32,
}

impl ProcessMemory {
    /// The calling process.
    ///
    /// # Errors
    ///
    /// When the process's memory files cannot be opened.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::ProcessMemory::current()?.pid(), std::process::id());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn current() -> crate::Result<Self> {
        Ok(ProcessMemory { pid: std::process::id() })
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

    /// Reads every figure.
    ///
    /// # Errors
    ///
    /// When the files cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::ProcessMemory::current()?.snapshot()?.rss_bytes > 0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn snapshot(&self) -> crate::Result<MemorySnapshot> {
        let text = std::fs::read_to_string(format!("/proc/{}/statm", self.pid)).unwrap_or_default();
        let pages: u64 = text.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(MemorySnapshot { rss_bytes: pages * 4096, ..Default::default() })
    }
}
