//! The watched command's lifecycle: start it in its own process group with `MEMPROBE_PUBLISH`
//! set, reap it, and tell how it exited. (Forwarding stop signals and terminating it at the end
//! are in the run's loop and `finish`, which own the timing.)

use super::*;

#[derive(Debug, Clone, Serialize)]
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
    pub(super) child: Child,
    pub(super) exit: Option<ExitStatus>,
    pub(super) publish_path: PathBuf,
    pub(super) _publish_dir: tempfile::TempDir,
    pub(super) reader: Option<publish::Reader>,
    pub(super) stop_signals: u32,
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
    let child = std::process::Command::new(program)
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
        reader: None,
        stop_signals: 0,
    })
}

impl Run<'_> {
    pub(super) fn reap(&mut self) -> Result<bool> {
        let Some(s) = self.started.as_mut() else {
            return Ok(false);
        };
        if s.exit.is_none() {
            s.exit = s.child.try_wait().context("waiting for the command")?;
        }
        Ok(s.exit.is_some())
    }

    /// The target has gone: reaps our own child so its exit status is known; `false` (end the run).
    pub(super) fn target_gone(&mut self) -> Result<bool> {
        // Our own child: reap it so its exit status is known.
        if let Some(s) = self.started.as_mut() {
            if s.exit.is_none() {
                s.exit = Some(s.child.wait().context("waiting for the command")?);
            }
        }
        Ok(false)
    }
}
