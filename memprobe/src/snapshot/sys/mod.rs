//! Picks the platform reader. Each file defines the same `Reader` with `open(pid)`, `rss_bytes`,
//! `snapshot`, `reset_peak` and `start_time_ticks`; `ProcessMemory` wraps whichever is built.
//! Linux and macOS ask the kernel directly (cheaper than sysinfo, and allocation-free per read);
//! everything else goes through sysinfo.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::{Reader, from_parts, page_size, read_stat};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub(crate) use macos::Reader;

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod other;
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub(crate) use other::Reader;
