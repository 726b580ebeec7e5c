//! The watched command's lifecycle: start it in its own process group with `MEMPROBE_PUBLISH`
//! set, forward stop signals to that group, reap it, terminate it at the end (SIGTERM, then
//! SIGKILL after 5 s), and tell how it exited. It knows nothing of sampling: the run asks it.
//! The command also dies with the daemon itself: killed, it takes the command with it
//! ([`parent_death`]).

use crate::signals::{self, Signals};
use anyhow::{Context, Result};
use memprobe::publish;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

mod parent_death;

/// How the command exited, as the summary shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(super) struct ExitInfo {
    pub(super) code: Option<i32>,
    pub(super) signal: Option<String>,
}

impl From<ExitStatus> for ExitInfo {
    fn from(s: ExitStatus) -> Self {
        ExitInfo {
            code: s.code(),
            signal: s.signal().map(signals::name),
        }
    }
}

/// The started command and its publish directory.
pub(super) struct Started {
    child: Child,
    exit: Option<ExitStatus>,
    publish_path: PathBuf,
    _publish_dir: tempfile::TempDir,
    stop_signals: u32,
}

pub(super) fn start_command(argv: &[std::ffi::OsString]) -> Result<Started> {
    let program = &argv[0];
    let dir_base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    // A private 0700 directory: the record file inside is created 0600 by the process.
    let publish_dir = tempfile::Builder::new()
        .prefix("memprobe-publish-")
        .tempdir_in(&dir_base)
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix("memprobe-publish-")
                .tempdir()
        })
        .context("creating the directory for the published record")?;
    let publish_path = publish_dir.path().join("record");
    let mut command = std::process::Command::new(program);
    let child = parent_death::die_with_this_thread(&mut command)
        .args(&argv[1..])
        .env(publish::ENV_VAR, &publish_path)
        // Its own process group: signals the daemon forwards reach the command and its children
        // once, not twice (a terminal's Ctrl-C would otherwise hit both).
        .process_group(0)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!(
                    "command not found: {} (not a file, and not in PATH)",
                    program.to_string_lossy()
                )
            }
            std::io::ErrorKind::PermissionDenied => {
                anyhow::anyhow!(
                    "cannot execute {}: permission denied",
                    program.to_string_lossy()
                )
            }
            _ => anyhow::Error::new(e).context(format!("starting {}", program.to_string_lossy())),
        })?;
    Ok(Started {
        child,
        exit: None,
        publish_path,
        _publish_dir: publish_dir,
        stop_signals: 0,
    })
}

/// How long the command has to exit after SIGTERM before it is killed.
const TERM_GRACE: Duration = Duration::from_secs(5);

impl Started {
    /// The command's PID.
    pub(super) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Where the command publishes its record (`MEMPROBE_PUBLISH`), if it does.
    pub(super) fn publish_path(&self) -> &Path {
        &self.publish_path
    }

    /// How it exited, once reaped.
    pub(super) fn exit(&self) -> Option<ExitStatus> {
        self.exit
    }

    /// Reaps the command if it exited; `true` when it has.
    pub(super) fn reap(&mut self) -> Result<bool> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().context("waiting for the command")?;
        }
        Ok(self.exit.is_some())
    }

    /// The command has gone (its `/proc` files are): waits for it so its exit status is known.
    pub(super) fn wait_gone(&mut self) -> Result<()> {
        if self.exit.is_none() {
            self.exit = Some(self.child.wait().context("waiting for the command")?);
        }
        Ok(())
    }

    /// Forwards the stop signal `sig` to the command's process group (the third one as SIGKILL);
    /// the signal sent.
    pub(super) fn forward_stop(&mut self, sig: i32) -> Result<Signal> {
        self.stop_signals += 1;
        let forward = if self.stop_signals >= 3 {
            Signal::SIGKILL
        } else {
            Signal::try_from(sig)?
        };
        let _ = kill(self.group(), forward);
        Ok(forward)
    }

    /// Stops the command if it still runs: SIGTERM to its group, SIGKILL after [`TERM_GRACE`];
    /// `true` when it had to be killed.
    pub(super) fn terminate(&mut self, signals: &Signals) -> Result<bool> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        if self.exit.is_some() {
            return Ok(false);
        }
        let group = self.group();
        let _ = kill(group, Signal::SIGTERM);
        let until = Instant::now() + TERM_GRACE;
        while self.exit.is_none() && Instant::now() < until {
            signals.sleep_until(Instant::now() + Duration::from_millis(20));
            self.exit = self.child.try_wait()?;
        }
        if self.exit.is_some() {
            return Ok(false);
        }
        let _ = kill(group, Signal::SIGKILL);
        self.exit = Some(self.child.wait()?);
        Ok(true)
    }

    /// The command's process group (it leads its own, started with `process_group(0)`).
    fn group(&self) -> Pid {
        Pid::from_raw(-(self.child.id() as i32))
    }
}
