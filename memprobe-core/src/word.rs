//! The counter word: 64 bits where the target has 64-bit atomics, 32 bits where it has only
//! 32-bit ones (thumbv7m/thumbv7em, riscv32imac), chosen once here so every counter agrees.
//!
//! # Why 32-bit counters and not `portable-atomic`
//!
//! On a target without 64-bit atomics, `portable-atomic` emulates `AtomicU64` with a global
//! spin lock (its `fallback` feature) or by masking interrupts (`critical-section`). Either
//! puts a lock in the allocator hook: an interrupt handler that allocates while the interrupted
//! code holds the spin lock deadlocks a single core, and masking interrupts on every allocation
//! adds latency to every interrupt. Native 32-bit atomics (`LDREX`/`STREX`, `amoadd.w`) are
//! lock-free and interrupt-safe, so on those targets the counters are 32 bits wide:
//!
//! - cumulative counters (counts, bytes allocated, bytes freed) wrap at 2^32. Figures of a
//!   window are differences taken with wrapping arithmetic, so they stay exact for any window
//!   in which each figure moves by less than 2^32 (4 Gi allocations, 4 GiB);
//! - live bytes, the high-water mark and the largest block never wrap: they are bounded by the
//!   32-bit address space.
//!
//! Targets without any atomic read-modify-write (thumbv6m, riscv32i without the A extension)
//! are refused at compile time with a message: counting there needs a critical section per
//! allocation, which this crate does not hide in the hook.

#[cfg(target_has_atomic = "64")]
mod imp {
    pub type Word = u64;
    pub type SignedWord = i64;
    pub type AtomicWord = core::sync::atomic::AtomicU64;
    pub type AtomicSignedWord = core::sync::atomic::AtomicI64;
}

#[cfg(all(not(target_has_atomic = "64"), target_has_atomic = "32"))]
mod imp {
    pub type Word = u32;
    pub type SignedWord = i32;
    pub type AtomicWord = core::sync::atomic::AtomicU32;
    pub type AtomicSignedWord = core::sync::atomic::AtomicI32;
}

#[cfg(not(target_has_atomic = "32"))]
compile_error!(
    "memprobe-core: this target has no 32-bit atomic read-modify-write (e.g. thumbv6m-none-eabi, \
     riscv32i); counting without a lock needs fetch_add: build for a target with atomics \
     (thumbv7m-none-eabi and up, riscv32imac-unknown-none-elf)"
);

/// An unsigned counter value: `u64` where the target has 64-bit atomics, else `u32` (wrapping
/// at 2^32, see the crate docs on targets without 64-bit atomics).
///
/// # Examples
///
/// ```
/// // On a 64-bit host:
/// assert_eq!(memprobe_core::Word::MAX, u64::MAX);
/// ```
pub type Word = imp::Word;

/// A signed counter value (live bytes, the high-water mark): `i64` or `i32`, as [`Word`].
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe_core::SignedWord::BITS, memprobe_core::Word::BITS);
/// ```
pub type SignedWord = imp::SignedWord;

/// The atomic cell holding a [`Word`].
///
/// # Examples
///
/// ```
/// use core::sync::atomic::Ordering::Relaxed;
/// let counter = memprobe_core::AtomicWord::new(1);
/// counter.fetch_add(2, Relaxed);
/// assert_eq!(counter.load(Relaxed), 3);
/// ```
pub type AtomicWord = imp::AtomicWord;

/// The atomic cell holding a [`SignedWord`].
///
/// # Examples
///
/// ```
/// use core::sync::atomic::Ordering::Relaxed;
/// let live = memprobe_core::AtomicSignedWord::new(0);
/// live.fetch_sub(8, Relaxed);
/// assert_eq!(live.load(Relaxed), -8);
/// ```
pub type AtomicSignedWord = imp::AtomicSignedWord;

/// A [`Word`] as the `u64` of the figures: the identity where words are 64 bits, a widening
/// where they are 32 (hence the allow: the cast is only useless on one of the two).
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
#[inline(always)]
pub(crate) fn wide(word: Word) -> u64 {
    u64::from(word)
}

/// A [`SignedWord`] as the `i64` of the figures (see [`wide`]).
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
#[inline(always)]
pub(crate) fn wide_signed(word: SignedWord) -> i64 {
    i64::from(word)
}
