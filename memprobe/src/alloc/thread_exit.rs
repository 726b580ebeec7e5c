//! Learns when a thread exits, without allocating and without a Rust thread-local destructor, so
//! its counts can be moved into the registry's exited total before its thread-local is freed.
//!
//! # Implementation
//!
//! Registering a Rust `thread_local!` destructor from inside the allocator could allocate (std's
//! fallback destructor list is a `Vec`), which would re-enter the allocator. A pthread key does
//! not: `pthread_key_create` takes a slot in libc's static key table (under libc's own lock), and
//! `pthread_setspecific` for the first keys writes into the thread descriptor (any second-level
//! block comes from libc's own `calloc`, never from Rust's global allocator).
//!
//! When the key's destructor runs relative to Rust's thread-local destructors depends on the
//! platform:
//! - glibc runs Rust's thread-local destructors (registered with `__cxa_thread_atexit_impl`)
//!   first, then pthread key destructors, and frees the thread's static TLS only after both: what
//!   thread-local destructors allocate still counts in the thread's own counters.
//! - musl has no `__cxa_thread_atexit_impl`; std runs thread-local destructors from a pthread key
//!   of its own, and keys run in creation order, so they can run after ours. macOS runs them
//!   through dyld's thread-local machinery, in an order we do not control either.
//!
//! Either way nothing is lost: an allocation after our destructor ran counts in the shared
//! overflow counters (in process totals, not in the thread's own), so process totals stay exact.
//! The main thread's keys are not destroyed at process exit; nothing needs moving then. Without
//! pthreads (not unix), or when libc's key table is full, a thread is never listed and counts
//! into its own counters and the overflow counters together.

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering::*};

    /// The key plus one (0 = not created yet), so creation needs no lock.
    static KEY: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn on_exit(_value: *mut libc::c_void) {
        // pthreads calls this once per thread that set a non-null value: the value itself (the
        // thread's state) is found again through the thread-local.
        super::super::on_thread_exit();
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

    /// Arranges for `on_thread_exit()` when the calling thread exits. `marker` must be non-null
    /// (pthreads skips null values). Returns `false` when it cannot (the key table is full).
    pub(crate) fn watch(marker: *const ()) -> bool {
        let Some(key) = key() else { return false };
        // SAFETY: `key` came from `pthread_key_create`; the value is never dereferenced.
        unsafe { libc::pthread_setspecific(key, marker.cast()) == 0 }
    }
}

#[cfg(not(unix))]
mod imp {
    pub(crate) fn watch(_marker: *const ()) -> bool {
        false
    }
}

pub(crate) use imp::watch;
