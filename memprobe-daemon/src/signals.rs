//! Sleeping until the next tick while staying responsive to signals. SIGINT, SIGTERM and SIGHUP
//! (stop), and SIGCHLD (the started command changed state) set flags and write a byte to a
//! self-pipe; the sampler sleeps in `ppoll` on that pipe with the time left to the tick's absolute
//! deadline, so it wakes at the deadline or at once on a signal, never polling. (A plain
//! `clock_nanosleep` would lose a signal that lands between checking the flags and sleeping, and
//! could then sleep through a whole `--interval 1h`.)

use anyhow::{Context, Result};
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The daemon's signal state.
#[derive(Debug)]
pub struct Signals {
    wake: UnixStream,
    stop: Arc<AtomicUsize>,
    child: Arc<AtomicBool>,
}

impl Signals {
    /// Installs the handlers. Call before starting the command so no SIGCHLD is missed.
    ///
    /// # Errors
    ///
    /// When a handler cannot be installed.
    pub fn install() -> Result<Signals> {
        let (wake, notify) = UnixStream::pair().context("creating the signal pipe")?;
        wake.set_nonblocking(true)?;
        notify.set_nonblocking(true)?;
        let stop = Arc::new(AtomicUsize::new(0));
        let child = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal_hook::flag::register_usize(sig, Arc::clone(&stop), sig as usize)?;
        }
        signal_hook::flag::register(SIGCHLD, Arc::clone(&child))?;
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGCHLD] {
            signal_hook::low_level::pipe::register(sig, notify.try_clone()?)?;
        }
        Ok(Signals { wake, stop, child })
    }

    /// Sleeps until `deadline` or a signal, whichever is first; `true` when woken by a signal.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        let now = Instant::now();
        if deadline > now {
            let mut fds = [PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
            let _ = ppoll(
                &mut fds,
                Some(TimeSpec::from_duration(deadline - now)),
                None,
            );
        }
        self.drain()
    }

    fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        let mut any = false;
        while let Ok(n) = (&self.wake).read(&mut buf) {
            if n == 0 {
                break;
            }
            any = true;
        }
        any
    }

    /// The stop signal received since the last call, if any.
    pub fn take_stop(&self) -> Option<i32> {
        match self.stop.swap(0, Ordering::Relaxed) {
            0 => None,
            sig => Some(sig as i32),
        }
    }

    /// `true` when SIGCHLD arrived since the last call.
    pub fn take_child(&self) -> bool {
        self.child.swap(false, Ordering::Relaxed)
    }
}

/// The name of a signal number, for the summary.
pub fn name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map_or_else(|_| format!("signal {sig}"), |s| s.as_str().to_owned())
}
