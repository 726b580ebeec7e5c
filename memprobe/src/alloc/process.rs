//! Process-scope counting: the one group every thread's allocations go to while a process-scope
//! probe runs, and the protocol that keeps each report self-consistent.
//!
//! # Implementation
//!
//! The hook may be preempted between seeing that a probe runs and adding to its group; without
//! care its adds would land after the probe ended (a report read with half an event in it) or
//! inside the next probe, after its reset. Two words prevent both, with no lock in the hook:
//!
//! - [`STATE`] is `epoch << 1 | running`. Every begin and every end moves it on by one, so a hook
//!   holding an old value can tell that anything changed, even a whole probe later.
//! - [`WRITERS`] counts hooks between announcing themselves and finishing their adds.
//!
//! ```text
//!   hook:  s = STATE ─ running? ─▶ WRITERS += 1 ─▶ STATE == s ? add to GROUP ─▶ WRITERS -= 1
//!   end:   STATE: s ─CAS─▶ s + 1 ─▶ wait until WRITERS == 0 ─▶ read GROUP (now still)
//!   begin: reset GROUP ─▶ STATE += 1
//! ```
//!
//! Both sides use `SeqCst` on the two words (a store-load pattern, as in Dekker's algorithm):
//! either the hook's second load sees the end and adds nothing, or the end sees the hook in
//! `WRITERS` and waits for its adds to complete. So after `end` returns no hook adds to the group
//! again, and `begin` resets a group nobody writes. The wait is for a few atomic adds by a hook
//! that has already started them; it is on the probe's side, never in the hook.

use super::Group;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

/// `epoch << 1 | running`.
static STATE: AtomicU64 = AtomicU64::new(0);

/// Hooks that may be adding to [`GROUP`] right now.
static WRITERS: AtomicUsize = AtomicUsize::new(0);

/// Counters of the running process-scope probe.
pub(crate) static GROUP: Group = Group::new_static();

/// Whether a process-scope probe is running. One relaxed load: the hook's fast check.
#[inline(always)]
pub(crate) fn running_relaxed() -> bool {
    STATE.load(Relaxed) & 1 != 0
}

/// Whether a process-scope probe is running, ordered with [`begin`] and [`end`].
pub(crate) fn running() -> bool {
    STATE.load(SeqCst) & 1 != 0
}

/// Adds one allocator event to the running probe's group, whole or not at all (see the module
/// docs). No lock, no allocation.
#[inline]
pub(crate) fn record(add: impl FnOnce(&Group)) {
    let seen = STATE.load(SeqCst);
    if seen & 1 == 0 {
        return;
    }
    WRITERS.fetch_add(1, SeqCst);
    if STATE.load(SeqCst) == seen {
        add(&GROUP);
    }
    WRITERS.fetch_sub(1, Release);
}

/// Starts counting into [`GROUP`]. The caller holds the process-scope lock and no probe runs.
pub(crate) fn begin() {
    // No hook writes to the group: the previous `end` waited for the last one.
    GROUP.reset();
    let previous = STATE.fetch_add(1, SeqCst);
    debug_assert_eq!(previous & 1, 0, "process scope begun twice");
}

/// Stops counting into [`GROUP`] and waits until no hook can still add to it. Ends the running
/// probe exactly once: a second call changes nothing (returns `false`).
pub(crate) fn end() -> bool {
    let state = STATE.load(SeqCst);
    if state & 1 == 0
        || STATE
            .compare_exchange(state, state.wrapping_add(1), SeqCst, SeqCst)
            .is_err()
    {
        return false;
    }
    // Acquire (via SeqCst): every add of a hook that decremented WRITERS is visible after this.
    while WRITERS.load(SeqCst) != 0 {
        std::thread::yield_now();
    }
    true
}
