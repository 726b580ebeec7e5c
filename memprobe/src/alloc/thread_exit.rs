//! Learns when a thread exits, without allocating and without a Rust thread-local destructor, so
//! its counter slot can be handed back.
//!
//! # Implementation
//!
//! Registering a Rust `thread_local!` destructor from inside the allocator could allocate (std's
//! fallback destructor list is a `Vec`), which would re-enter the allocator. A pthread key does
//! not: `pthread_key_create` takes a slot in libc's static key table, and `pthread_setspecific`
//! for the first keys writes into the thread descriptor (any second-level block comes from libc's
//! own `calloc`, never from Rust's global allocator). glibc and macOS run key destructors after
//! Rust's thread-local destructors, so allocations made while those run still count in the slot.
//! The main thread's keys are not destroyed at process exit; nothing needs handing back then.
//! Without pthreads (not unix), slots are simply never handed back.

use super::slot::Slot;

#[cfg(unix)]
mod imp {
    use super::Slot;
    use std::sync::atomic::{AtomicUsize, Ordering::*};

    /// The key plus one (0 = not created yet), so creation needs no lock.
    static KEY: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn on_exit(value: *mut libc::c_void) {
        // SAFETY: `value` was set by `watch` to a `&'static Slot` (never null here: pthreads only
        // calls destructors for non-null values), so the reference is valid for 'static.
        let slot: &'static Slot = unsafe { &*(value as *const Slot) };
        super::super::on_thread_exit(slot);
    }

    fn key() -> Option<libc::pthread_key_t> {
        let existing = KEY.load(Acquire);
        if existing != 0 {
            return Some((existing - 1) as libc::pthread_key_t);
        }
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is a valid out-pointer and `on_exit` has the destructor's C signature.
        if unsafe { libc::pthread_key_create(&mut key, Some(on_exit)) } != 0 {
            return None;
        }
        match KEY.compare_exchange(0, key as usize + 1, AcqRel, Acquire) {
            Ok(_) => Some(key),
            Err(winner) => {
                // Another thread created the key first: use theirs, drop ours.
                // SAFETY: `key` was created above and never handed out.
                unsafe { libc::pthread_key_delete(key) };
                Some((winner - 1) as libc::pthread_key_t)
            }
        }
    }

    /// Arranges for `on_thread_exit(slot)` when the calling thread exits. Returns `false` when
    /// it cannot (the key table is full): the slot then stays owned forever, counts still exact.
    pub(crate) fn watch(slot: &'static Slot) -> bool {
        let Some(key) = key() else { return false };
        // SAFETY: `key` came from `pthread_key_create`; the value is a 'static pointer that the
        // destructor turns back into `&'static Slot`.
        unsafe { libc::pthread_setspecific(key, slot as *const Slot as *const libc::c_void) == 0 }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::Slot;

    pub(crate) fn watch(_slot: &'static Slot) -> bool {
        false
    }
}

pub(crate) use imp::watch;
