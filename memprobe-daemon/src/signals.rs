//! Sleeping until the next tick while staying responsive to signals. SIGINT, SIGTERM and SIGHUP
//! (stop), and SIGCHLD (the started command changed state) set flags. They are blocked while the
//! sampler works and unblocked only inside `ppoll`, which sleeps with the time left to the tick's
//! absolute deadline (the `pselect` pattern): a signal sent while the sampler works waits, pending,
//! and ends the next sleep at once; one sent during the sleep ends it. So the sampler wakes at the
//! deadline or on a signal, never polls, and cannot lose a signal that lands between checking the
//! flags and sleeping (a plain `clock_nanosleep` could, and then sleep through a whole
//! `--interval 1h`).
//!
//! PERF: `ppoll` watches no file descriptor, so a tick's sleep costs no more than a
//! `clock_nanosleep`; a self-pipe added a poll table and a `recvfrom` per tick.
//!
//! A child inherits the signal mask across `fork` and `exec` (std leaves it alone), so the
//! command is started inside [`Signals::unblocked`]: a signal landing meanwhile only sets its
//! flag, which the sampler reads before its first sleep.

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::poll::ppoll;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::time::TimeSpec;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The daemon's signal state.
#[derive(Debug)]
pub(crate) struct Signals {
    /// The mask in force while sleeping: the daemon's own, with the four signals unblocked.
    sleep_mask: SigSet,
    /// The four signals.
    handled: SigSet,
    stop: Arc<AtomicUsize>,
    child: Arc<AtomicBool>,
}

impl Signals {
    /// Installs the handlers and blocks the signals outside [`sleep_until`](Self::sleep_until).
    /// Call before starting the command so no SIGCHLD is missed.
    ///
    /// # Errors
    ///
    /// When a handler cannot be installed or the mask set.
    pub(crate) fn install() -> Result<Signals> {
        let stop = Arc::new(AtomicUsize::new(0));
        let child = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal_hook::flag::register_usize(sig, Arc::clone(&stop), sig as usize)?;
        }
        signal_hook::flag::register(SIGCHLD, Arc::clone(&child))?;
        let mut handled = SigSet::empty();
        for sig in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGCHLD,
        ] {
            handled.add(sig);
        }
        let mut old = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&handled), Some(&mut old))
            .context("blocking the stop signals outside the sleep")?;
        let mut sleep_mask = old;
        for sig in handled.iter() {
            sleep_mask.remove(sig);
        }
        Ok(Signals {
            sleep_mask,
            handled,
            stop,
            child,
        })
    }

    /// Runs `f` (starting the command) with the signals unblocked, so the child does not inherit
    /// them blocked, and blocks them again.
    ///
    /// # Errors
    ///
    /// When the mask cannot be set, or `f`'s error.
    pub(crate) fn unblocked<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.sleep_mask), None)
            .context("unblocking the stop signals to start the command")?;
        let result = f();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&self.handled), None)
            .context("blocking the stop signals outside the sleep")?;
        result
    }

    /// Sleeps until `deadline` or a signal, whichever is first; `true` when woken by a signal.
    pub(crate) fn sleep_until(&self, deadline: Instant) -> bool {
        self.sleep_until_from(Instant::now(), deadline)
    }

    /// [`sleep_until`](Self::sleep_until) when the caller has just read the clock (`now`): one
    /// clock read less per tick at 1 kHz.
    pub(crate) fn sleep_until_from(&self, now: Instant, deadline: Instant) -> bool {
        // Past the deadline, still let a pending signal in: zero timeout, same mask.
        let left = deadline.saturating_duration_since(now);
        matches!(
            ppoll(
                &mut [],
                Some(TimeSpec::from_duration(left)),
                Some(self.sleep_mask)
            ),
            Err(Errno::EINTR)
        )
    }

    /// The stop signal received since the last call, if any.
    pub(crate) fn take_stop(&self) -> Option<i32> {
        match self.stop.swap(0, Ordering::Relaxed) {
            0 => None,
            sig => Some(sig as i32),
        }
    }

    /// `true` when SIGCHLD arrived since the last call.
    pub(crate) fn take_child(&self) -> bool {
        self.child.swap(false, Ordering::Relaxed)
    }
}

/// The name of a signal number, for the summary.
pub(crate) fn name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map_or_else(|_| format!("signal {sig}"), |s| s.as_str().to_owned())
}
