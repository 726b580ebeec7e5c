//! A started command dies with the daemon: `PR_SET_PDEATHSIG` set to SIGKILL in the child between
//! fork and exec, so a daemon killed by a CI timeout (SIGKILL, no chance to clean up) never leaves
//! the server it started running. The command runs in its own process group, so nothing else
//! would reach it.
//!
//! The one `unsafe` block of the crate lives here: `CommandExt::pre_exec` is unsafe because its
//! closure runs in the forked child, where only async-signal-safe calls are allowed.
//!
//! # What it covers, and what it does not
//!
//! - The signal fires when the *thread* that forked exits: the daemon starts the command from its
//!   main thread, which lives until the run ends, so it fires exactly when the daemon dies.
//! - A daemon that died between fork and `prctl` would never send it: the child compares its
//!   parent with the daemon's PID after setting it, and refuses to exec when they differ.
//! - It survives `execve` except into set-user-ID/set-group-ID or file-capability binaries, where
//!   the kernel clears it (such a command outlives a killed daemon as before).
//! - Only the started command gets it; processes *it* starts are its business (a shell script's
//!   children are reparented to init when it is killed). On a normal stop the daemon still sends
//!   SIGTERM to the whole group, then SIGKILL after 5 s.
#![allow(unsafe_code)]

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::Signal;
use nix::unistd::{Pid, getppid};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `command`, once spawned from this thread, receive SIGKILL when this thread exits.
pub(crate) fn die_with_this_thread(command: &mut Command) -> &mut Command {
    let daemon = Pid::this();
    // SAFETY: the closure runs in the child between fork and exec and calls only prctl(2) and
    // getppid(2), both async-signal-safe syscalls; it allocates nothing (an `io::Error` from a
    // raw errno is not boxed) and touches no lock.
    unsafe {
        command.pre_exec(move || {
            set_pdeathsig(Signal::SIGKILL)
                .map_err(|e| std::io::Error::from_raw_os_error(e as i32))?;
            if getppid() != daemon {
                // The daemon is already gone: the signal will never come, so do not start.
                return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        })
    }
}
