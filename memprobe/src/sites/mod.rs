//! Allocation sites: where the bytes come from. Allocations are sampled by bytes (a Poisson
//! process with a configurable mean interval, 512 KiB by default, or every allocation in exact
//! mode), each sample keeps its return addresses, and a [`Profile`] turns the samples into
//! unbiased per-site estimates of objects and bytes allocated and still live, symbolized at
//! collection time. Profiles render as a table ([`render`]), JSON, or the gzipped pprof
//! `profile.proto` ([`pprof`]), and two of them diff per site ([`diff`]).
//!
//! ```
//! # memprobe::sites::__doc_allocator!();
//! use memprobe::sites::{Sampling, Session};
//!
//! #[inline(never)]
//! fn parse() -> Vec<u64> { (0..1000).collect() }
//!
//! let session = Session::start(Sampling::Exact)?;
//! let kept = parse();
//! let profile = session.finish();
//! let top = &profile.sites[0];
//! assert!(top.function.ends_with("parse"), "{top:?}");
//! assert_eq!(top.stats.alloc_bytes, 8000);
//! assert_eq!(top.stats.live_bytes, 8000);
//! # drop(kept);
//! # Ok::<(), memprobe::sites::SitesError>(())
//! ```
//!
//! # The allocator's contract
//!
//! A global allocator feeds this module through two functions, and nothing else:
//!
//! - after a successful `alloc` or `alloc_zeroed`: [`on_alloc`]`(ptr, layout.size())`;
//! - before `dealloc`: [`on_dealloc`]`(ptr, layout.size())`;
//! - a successful `realloc` is a deallocation of the old block then an allocation of the new:
//!   [`on_dealloc`]`(old_ptr, layout.size())` then [`on_alloc`]`(new_ptr, new_size)`;
//! - a call that fails (null) calls neither.
//!
//! Both may be called from any thread at any time (also while thread-locals are destroyed),
//! never allocate, never lock, and return at once while no [`Session`] runs: called with
//! sampling off, a hook costs one relaxed load and a branch; with it on, an unsampled allocation
//! adds a thread-local countdown decrement and one test (countdown crossed, or a new session)
//! and branch; a free reads one counter of the sampled addresses' filter, and looks its address
//! up in the index only when a live sampled block shares that counter.
//! `benches/sites.rs` measures each path. **Wiring:** with this feature, memprobe's counting
//! allocator ([`crate::Counting`], `global_allocator!()`) calls both hooks only off its hot
//! path: a session raises a watch bit on every thread before sampling starts, and a thread whose
//! only bit it is takes a lane laid out after the hot path that counts and runs the hooks'
//! unsampled checks inline. So with sampling off `Counting`'s hot path is the featureless code,
//! instruction for instruction, and costs nothing more (BENCHMARKS.md, "Sites";
//! `memprobe/tests/sites_wired.rs`). Another global
//! allocator calls the hooks itself (see `memprobe/tests/sites.rs`). `#[memprobe(sites)]` opens
//! one session per measured run; parallel `sites` runs take turns.
//!
//! # Stack walks
//!
//! A sample's stack is walked with the system's DWARF unwinder (microseconds per sample). With
//! `MEMPROBE_SITES_UNWIND=frame-pointers` in the environment at [`Session::start`] and a build
//! with frame pointers (`RUSTFLAGS="-C force-frame-pointers=yes"`; Rust omits them otherwise, in
//! debug builds too), it follows the frame-pointer chain instead (tens of nanoseconds), bounded at
//! every step by the thread's own stack; a build without frame pointers is detected once (the
//! chain must start at its real caller and agree with a DWARF walk) and keeps DWARF.
//! [`frame_pointer_walk`] says which one a session uses. Code built without frame pointers (a
//! prebuilt C library's) ends the chain, or, where it leaves the register alone, is skipped
//! together with its caller's frame: use DWARF where such code calls back into code that
//! allocates on the paths you care about.
//!
//! # Limits
//!
//! - One session at a time per process; samples live in a fixed table of [`CAPACITY`] records,
//!   and samples past it are dropped and counted in [`Profile::dropped_samples`].
//! - Live means "not freed while the session ran": a block freed after [`Session::finish`]
//!   stays live in that profile.
//! - Stacks are walked on unix only; elsewhere samples are kept without frames.

mod sampler;
mod table;

pub mod diff;
pub mod pprof;
mod profile;
pub mod render;

pub use diff::{ProfileDiff, SiteDelta};
pub use profile::{Profile, Site, SiteStats};
pub use sampler::DEFAULT_MEAN_BYTES;
pub use table::CAPACITY;

use std::sync::atomic::{AtomicBool, Ordering::*};

/// The allocation hook: call it after every successful allocation, with the block and its
/// requested size. See [the allocator's contract](self#the-allocators-contract).
///
/// # Examples
///
/// ```
/// use std::alloc::{GlobalAlloc, Layout, System};
///
/// struct Sampled;
/// // SAFETY: every call goes to `System`; the hooks only observe.
/// unsafe impl GlobalAlloc for Sampled {
///     unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
///         // SAFETY: the caller's contract is passed on.
///         let ptr = unsafe { System.alloc(layout) };
///         if !ptr.is_null() {
///             memprobe::sites::on_alloc(ptr, layout.size());
///         }
///         ptr
///     }
///     unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
///         memprobe::sites::on_dealloc(ptr, layout.size());
///         // SAFETY: the caller's contract is passed on.
///         unsafe { System.dealloc(ptr, layout) }
///     }
/// }
///
/// #[global_allocator]
/// static GLOBAL: Sampled = Sampled;
///
/// let session = memprobe::sites::Session::start(memprobe::sites::Sampling::Exact)?;
/// let b = Box::new([0u8; 24]);
/// assert_eq!(session.finish().total.alloc_bytes, 24);
/// # drop(b);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
#[inline(always)]
pub fn on_alloc(ptr: *mut u8, size: usize) {
    sampler::on_alloc(ptr, size);
}

/// The deallocation hook: call it before every deallocation, with the block and its size. It
/// marks the block's sample freed if it has one. See
/// [the allocator's contract](self#the-allocators-contract).
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{Sampling, Session};
///
/// let session = Session::start(Sampling::Exact)?;
/// drop(vec![0u8; 512]); // the allocator calls on_dealloc: not live
/// let kept = vec![0u8; 256];
/// let profile = session.finish();
/// assert_eq!(profile.total.alloc_bytes, 768);
/// assert_eq!(profile.total.live_bytes, 256);
/// # drop(kept);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
#[inline(always)]
pub fn on_dealloc(ptr: *mut u8, size: usize) {
    let _ = size; // part of the contract: a size-keyed table may use it
    sampler::on_dealloc(ptr);
}

/// [`on_dealloc`] for the counting allocator's sites lane, which calls it only while its thread
/// is watched for a session: the table's filter first, the session checked only past it.
#[inline(always)]
pub(crate) fn on_dealloc_in_session(ptr: *mut u8) {
    sampler::on_dealloc_in_session(ptr);
}

/// Whether the running (or last) session walks stacks with frame pointers rather than the DWARF
/// unwinder: only when `MEMPROBE_SITES_UNWIND=frame-pointers` was set at [`Session::start`] and
/// the build keeps frame pointers (`RUSTFLAGS="-C force-frame-pointers=yes"`, checked once by
/// comparing both walks); otherwise `false`, and samples use the DWARF unwinder.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// // SAFETY: no other thread of this example reads the environment.
/// unsafe { std::env::remove_var("MEMPROBE_SITES_UNWIND") };
/// let session = memprobe::sites::Session::start(memprobe::sites::Sampling::Exact)?;
/// assert!(!memprobe::sites::frame_pointer_walk()); // DWARF unless asked for
/// # drop(session);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
pub fn frame_pointer_walk() -> bool {
    sampler::frame_pointer_walk()
}

/// How often a session samples.
///
/// # Examples
///
/// ```
/// use memprobe::sites::Sampling;
/// assert_eq!(Sampling::default(), Sampling::MeanBytes(512 * 1024));
/// assert_eq!(Sampling::Exact.mean_bytes(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sampling {
    /// One sample per this many allocated bytes on average (Poisson); must be at least 1.
    MeanBytes(u64),
    /// Every allocation: exact counts, for small tests.
    Exact,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::MeanBytes(DEFAULT_MEAN_BYTES)
    }
}

impl Sampling {
    /// The mean interval in bytes; 0 for [`Sampling::Exact`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::sites::Sampling::MeanBytes(4096).mean_bytes(), 4096);
    /// ```
    pub fn mean_bytes(self) -> u64 {
        match self {
            Sampling::MeanBytes(n) => n,
            Sampling::Exact => 0,
        }
    }
}

/// What can go wrong with allocation sites. Every message starts with `memprobe:` and says how
/// to fix it.
///
/// # Examples
///
/// ```
/// use memprobe::sites::{Sampling, Session};
///
/// let err = Session::start(Sampling::MeanBytes(0)).unwrap_err();
/// assert!(err.to_string().starts_with("memprobe: a sampling interval of 0 bytes"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SitesError {
    /// A session was started while another one runs.
    #[error(
        "memprobe: an allocation-sites session is already running in this process; finish (or drop) it before starting another"
    )]
    SessionRunning,
    /// `Sampling::MeanBytes(0)`.
    #[error(
        "memprobe: a sampling interval of 0 bytes samples nothing; use Sampling::Exact to sample every allocation, or a mean of at least 1 byte (default 512 KiB)"
    )]
    ZeroInterval,
    /// A profile was asked for while no session runs.
    #[error(
        "memprobe: no allocation-sites session is running; start one with memprobe::sites::Session::start (or memprobe-daemon watch --sites) before writing its profile"
    )]
    NotRunning,
    /// A profile file could not be written.
    #[error("memprobe: writing the allocation-sites profile {}: {source}; check that the directory exists and is writable", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

static RUNNING: AtomicBool = AtomicBool::new(false);

/// Whether a [`Session`] runs in this process now.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{is_running, Sampling, Session};
/// assert!(!is_running());
/// let session = Session::start(Sampling::Exact)?;
/// assert!(is_running());
/// drop(session);
/// assert!(!is_running());
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
pub fn is_running() -> bool {
    RUNNING.load(Acquire)
}

/// A sampling window: allocations are sampled from [`Session::start`] to [`Session::finish`] (or
/// the drop of the session), on every thread.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{Sampling, Session, SitesError};
///
/// let session = Session::start(Sampling::default())?;
/// assert!(matches!(Session::start(Sampling::Exact), Err(SitesError::SessionRunning)));
/// let profile = session.finish();
/// assert_eq!(profile.mean_interval_bytes, 512 * 1024);
/// # Ok::<(), SitesError>(())
/// ```
#[derive(Debug)]
pub struct Session {
    _private: (),
}

impl Session {
    /// Empties the sample table and starts sampling.
    ///
    /// # Errors
    ///
    /// [`SitesError::SessionRunning`] while another session runs, [`SitesError::ZeroInterval`]
    /// for `Sampling::MeanBytes(0)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::sites::__doc_allocator!();
    /// let session = memprobe::sites::Session::start(memprobe::sites::Sampling::MeanBytes(4096))?;
    /// # drop(session);
    /// # Ok::<(), memprobe::sites::SitesError>(())
    /// ```
    pub fn start(sampling: Sampling) -> Result<Session, SitesError> {
        if sampling == Sampling::MeanBytes(0) {
            return Err(SitesError::ZeroInterval);
        }
        if RUNNING.swap(true, Acquire) {
            return Err(SitesError::SessionRunning);
        }
        // The counting allocator's threads first, then the sampler: a thread must see the watch
        // bit before any block it may free can be sampled (the argument is at `alloc::site_watch::set`).
        crate::alloc::site_watch::set(true);
        sampler::start(sampling.mean_bytes());
        Ok(Session { _private: () })
    }

    /// Stops sampling and collects the profile (see [`Profile::collect`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::sites::__doc_allocator!();
    /// let session = memprobe::sites::Session::start(memprobe::sites::Sampling::Exact)?;
    /// let s = String::from("sampled");
    /// assert_eq!(session.finish().total.alloc_bytes, 7);
    /// # drop(s);
    /// # Ok::<(), memprobe::sites::SitesError>(())
    /// ```
    pub fn finish(self) -> Profile {
        stop();
        Profile::collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        stop();
        RUNNING.store(false, Release);
    }
}

/// Stops sampling, waits for captures in flight, and only then lowers the counting allocator's
/// watch bit (so no sampled block's free can be missed while sampling runs).
fn stop() {
    sampler::stop();
    crate::alloc::site_watch::set(false);
}

/// Installs a global allocator over `System` that calls [`on_alloc`] and [`on_dealloc`]: used by
/// the doc examples until the counting allocator calls the hooks itself; not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __sites_doc_allocator {
    () => {
        struct __SitesDocAllocator;
        // SAFETY: every call goes to `System`; the hooks only observe.
        unsafe impl ::std::alloc::GlobalAlloc for __SitesDocAllocator {
            unsafe fn alloc(&self, layout: ::std::alloc::Layout) -> *mut u8 {
                // SAFETY: the caller's contract is passed on.
                let ptr = unsafe { ::std::alloc::System.alloc(layout) };
                if !ptr.is_null() {
                    $crate::sites::on_alloc(ptr, layout.size());
                }
                ptr
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: ::std::alloc::Layout) {
                $crate::sites::on_dealloc(ptr, layout.size());
                // SAFETY: the caller's contract is passed on.
                unsafe { ::std::alloc::System.dealloc(ptr, layout) }
            }
        }
        #[global_allocator]
        static __SITES_DOC_ALLOCATOR: __SitesDocAllocator = __SitesDocAllocator;
    };
}
#[doc(hidden)]
pub use __sites_doc_allocator as __doc_allocator;
