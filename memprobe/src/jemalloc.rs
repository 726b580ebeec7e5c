//! jemalloc's own statistics: what the allocator holds from the OS, beyond the bytes the program
//! asked for, and `purge()` to hand freed dirty pages back so they are not mistaken for a leak.
//!
//! The figures are jemalloc's, refreshed by an epoch advance before each read. An epoch merges the
//! statistics of every arena, so a read costs microseconds with one arena and more with many
//! (the `alloc_overhead` bench publishes both): read it around a measurement, never inside a hot
//! loop. When jemalloc is not the global allocator the figures would describe an idle allocator,
//! so [`JemallocStats::read`] refuses with an error instead of returning zeros.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[cfg(feature = "jemalloc")]
#[doc(no_inline)]
pub use tikv_jemallocator::Jemalloc;

/// jemalloc's statistics at one epoch, in bytes.
///
/// # Examples
///
/// ```
/// memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);
/// # fn main() -> memprobe::Result<()> {
/// let stats = memprobe::JemallocStats::read()?;
/// assert!(stats.active_bytes >= stats.allocated_bytes);
/// assert!(stats.fragmentation() >= 1.0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct JemallocStats {
    /// Bytes in allocations the program holds (jemalloc's size classes, so ≥ requested sizes).
    pub allocated_bytes: u64,
    /// Bytes in active pages: allocated plus the unused parts of those pages.
    pub active_bytes: u64,
    /// Bytes in physically resident pages the allocator maps, including dirty freed pages and
    /// metadata.
    pub resident_bytes: u64,
    /// Bytes in active extents mapped by the allocator.
    pub mapped_bytes: u64,
    /// Bytes retained as virtual memory for reuse (not resident; not returned to the OS).
    pub retained_bytes: u64,
    /// Bytes of the allocator's own metadata.
    pub metadata_bytes: u64,
}

impl JemallocStats {
    /// Advances the epoch and reads every figure.
    ///
    /// # Errors
    ///
    /// [`Error::JemallocUnavailable`] when memprobe was built without the `jemalloc` feature, when
    /// jemalloc is not the global allocator, or when a statistic cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// // No jemalloc global allocator in this program: a clear error, never zeros.
    /// let err = memprobe::JemallocStats::read().unwrap_err();
    /// assert!(err.to_string().contains("jemalloc is not the global allocator"));
    /// ```
    pub fn read() -> Result<Self> {
        imp::read()
    }

    /// `active / allocated`: page-level slack (1.0 is none).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut s = memprobe::JemallocStats::default();
    /// s.allocated_bytes = 100;
    /// s.active_bytes = 150;
    /// assert_eq!(s.fragmentation(), 1.5);
    /// ```
    pub fn fragmentation(&self) -> f64 {
        ratio(self.active_bytes, self.allocated_bytes)
    }

    /// `resident / allocated`: how much RAM the allocator holds per byte in use, dirty freed pages
    /// and metadata included. A growing figure with flat `allocated` is fragmentation, not a leak.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut s = memprobe::JemallocStats::default();
    /// s.allocated_bytes = 100;
    /// s.resident_bytes = 300;
    /// assert_eq!(s.resident_ratio(), 3.0);
    /// ```
    pub fn resident_ratio(&self) -> f64 {
        ratio(self.resident_bytes, self.allocated_bytes)
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        f64::NAN
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Returns every arena's dirty and muzzy pages to the OS, so that memory the program freed stops
/// counting as resident. Process-wide; costs a few milliseconds with many dirty pages.
///
/// # Errors
///
/// [`Error::JemallocUnavailable`] as for [`JemallocStats::read`].
///
/// # Examples
///
/// ```
/// memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);
/// # fn main() -> memprobe::Result<()> {
/// drop(vec![1u8; 8 << 20]);
/// memprobe::jemalloc::purge()?;
/// # Ok(()) }
/// ```
pub fn purge() -> Result<()> {
    imp::purge()
}

/// Number of arenas jemalloc has created (each epoch advance merges them all).
///
/// # Errors
///
/// [`Error::JemallocUnavailable`] as for [`JemallocStats::read`].
///
/// # Examples
///
/// ```
/// memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);
/// # fn main() -> memprobe::Result<()> {
/// assert!(memprobe::jemalloc::arena_count()? >= 1);
/// # Ok(()) }
/// ```
pub fn arena_count() -> Result<u32> {
    imp::arena_count()
}

/// `true` when jemalloc serves the program's global allocations (directly or under
/// [`crate::Counting`]). Measured once, by watching jemalloc's per-thread counter across one
/// 64 KiB allocation.
///
/// # Examples
///
/// ```
/// assert!(!memprobe::jemalloc::is_global_allocator());
/// ```
pub fn is_global_allocator() -> bool {
    imp::is_global_allocator()
}

#[cfg(feature = "jemalloc")]
mod imp {
    use super::{Error, JemallocStats, Result};
    use std::sync::OnceLock;
    use tikv_jemalloc_ctl::{arenas, epoch, stats, thread};

    fn unavailable(reason: impl Into<String>) -> Error {
        Error::JemallocUnavailable {
            reason: reason.into(),
        }
    }

    fn ctl<T>(what: &str, r: tikv_jemalloc_ctl::Result<T>) -> Result<T> {
        r.map_err(|e| unavailable(format!("reading {what} failed ({e})")))
    }

    pub(super) fn is_global_allocator() -> bool {
        static ANSWER: OnceLock<bool> = OnceLock::new();
        *ANSWER.get_or_init(|| {
            let Ok(counter) = thread::allocatedp::read() else {
                return false;
            };
            let before = counter.get();
            let block = std::hint::black_box(vec![0u8; 64 << 10]);
            let after = counter.get();
            drop(block);
            after.wrapping_sub(before) >= 64 << 10
        })
    }

    fn require_global() -> Result<()> {
        if is_global_allocator() {
            Ok(())
        } else {
            Err(unavailable(
                "jemalloc is not the global allocator (its counters would describe an idle allocator)",
            ))
        }
    }

    /// Management-information-base handles, resolved once.
    struct Mibs {
        epoch: epoch_mib,
        allocated: stats::allocated_mib,
        active: stats::active_mib,
        resident: stats::resident_mib,
        mapped: stats::mapped_mib,
        retained: stats::retained_mib,
        metadata: stats::metadata_mib,
    }
    use tikv_jemalloc_ctl::epoch_mib;

    fn mibs() -> Result<&'static Mibs> {
        static MIBS: OnceLock<Option<Mibs>> = OnceLock::new();
        MIBS.get_or_init(|| {
            Some(Mibs {
                epoch: epoch::mib().ok()?,
                allocated: stats::allocated::mib().ok()?,
                active: stats::active::mib().ok()?,
                resident: stats::resident::mib().ok()?,
                mapped: stats::mapped::mib().ok()?,
                retained: stats::retained::mib().ok()?,
                metadata: stats::metadata::mib().ok()?,
            })
        })
        .as_ref()
        .ok_or_else(|| {
            unavailable("jemalloc was built without statistics (enable its `stats` feature)")
        })
    }

    pub(super) fn read() -> Result<JemallocStats> {
        require_global()?;
        let m = mibs()?;
        ctl("epoch", m.epoch.advance())?;
        Ok(JemallocStats {
            allocated_bytes: ctl("stats.allocated", m.allocated.read())? as u64,
            active_bytes: ctl("stats.active", m.active.read())? as u64,
            resident_bytes: ctl("stats.resident", m.resident.read())? as u64,
            mapped_bytes: ctl("stats.mapped", m.mapped.read())? as u64,
            retained_bytes: ctl("stats.retained", m.retained.read())? as u64,
            metadata_bytes: ctl("stats.metadata", m.metadata.read())? as u64,
        })
    }

    pub(super) fn arena_count() -> Result<u32> {
        require_global()?;
        ctl("arenas.narenas", arenas::narenas::read())
    }

    pub(super) fn purge() -> Result<()> {
        require_global()?;
        // tikv-jemalloc-ctl has no typed key for `arena.<i>.purge`, and its raw writers always
        // pass a value, which this write-only, value-less control rejects; so call mallctl
        // directly. 4096 is MALLCTL_ARENAS_ALL: every arena at once.
        const PURGE_ALL: &[u8] = b"arena.4096.purge\0";
        // SAFETY: the name is NUL-terminated; this control reads and writes nothing, so null
        // old/new pointers with zero lengths are exactly what it expects.
        let code = unsafe {
            tikv_jemalloc_sys::mallctl(
                PURGE_ALL.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        if code == 0 {
            Ok(())
        } else {
            Err(unavailable(format!(
                "arena.4096.purge failed (error {code})"
            )))
        }
    }
}

#[cfg(not(feature = "jemalloc"))]
mod imp {
    use super::{Error, JemallocStats, Result};

    fn off() -> Error {
        Error::JemallocUnavailable {
            reason: "memprobe was built without its `jemalloc` feature".into(),
        }
    }

    pub(super) fn is_global_allocator() -> bool {
        false
    }
    pub(super) fn read() -> Result<JemallocStats> {
        Err(off())
    }
    pub(super) fn arena_count() -> Result<u32> {
        Err(off())
    }
    pub(super) fn purge() -> Result<()> {
        Err(off())
    }
}
