//! The `WATCH_SITES` bit of every thread's `watch` word: raised while an allocation-sites
//! session runs, so the counting allocator's cold path calls the site hooks then and only then.
//! Apart from `alloc/mod.rs` so that `sites` can raise it without importing the allocator's
//! module (which imports `sites` for the hooks).

use std::sync::atomic::AtomicBool;

/// `watch` bit: an allocation-sites session runs (see [`set`]): the cold path calls the site
/// hooks. Only with the `sites` feature; never set without it.
pub(crate) const WATCH_SITES: u8 = 64;

/// Whether threads listed from now on get [`WATCH_SITES`]; read under the registry lock.
pub(super) static SITES_WATCHED: AtomicBool = AtomicBool::new(false);

/// Raises (`on`) or clears [`WATCH_SITES`] on every thread: called by `sites::Session` before
/// sampling starts and after it stopped.
///
/// Why the hooks see every sampled block's free (the happens-before argument): a session raises
/// the bit on every listed thread (under the registry lock, which a thread listed later also
/// takes, and then reads `SITES_WATCHED`, stored before that lock) *before* its `SeqCst` store
/// of the sampler's `EPOCH`. A block is sampled only by a capture that read that store with a
/// `SeqCst` (acquiring) load, so the bit's raise happens-before the sample; any thread that
/// frees the block was handed it after the sample (a free needs the pointer, passed through
/// some synchronisation), so the raise happens-before its `watch` load too, which therefore
/// reads the bit (or a later value: every other write to `watch` is a read-modify-write of other
/// bits, and the clear comes only after sampling stopped). Threads not listed (new, registry
/// full, no exit hook, exited) have other bits set and take the cold path anyway. The bit is
/// cleared only after the sampler stopped and its writers drained: past that the hooks return
/// at once, so a thread still seeing it only takes a needless trip through the cold path.
#[cfg(feature = "sites")]
pub(crate) fn set(on: bool) {
    use std::sync::atomic::Ordering::Relaxed;
    SITES_WATCHED.store(on, Relaxed);
    super::registry::watch_all(WATCH_SITES, on);
}
