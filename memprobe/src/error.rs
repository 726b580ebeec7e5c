//! The library's one error type. Every message starts with `memprobe:`, names the bad input or state,
//! and says how to fix it, so a failing test or CI log is readable in one glance.

use std::path::PathBuf;

/// The line a user adds to install the counting allocator; quoted by every "not installed" message.
pub(crate) const INSTALL_LINE: &str = "memprobe::global_allocator!(); (or #[global_allocator] static GLOBAL: memprobe::Counting<std::alloc::System> = memprobe::Counting::new(std::alloc::System);)";

/// Everything that can go wrong in `memprobe`.
///
/// # Examples
///
/// ```
/// let err = memprobe::units::parse_bytes("12 KBB").unwrap_err();
/// assert!(err.to_string().starts_with("memprobe: invalid size \"12 KBB\": unknown unit `KBB`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A probe was started but the counting allocator is not the global allocator.
    ///
    /// Each integration test file, bench and example is its own binary and needs the line
    /// itself. Putting it in `src/lib.rs` instead (outside `#[cfg(test)]`) gives the test files
    /// that also install it rustc's conflicting-allocator error: "the `#[global_allocator]` in
    /// this crate conflicts with global allocator in: &lt;your library&gt;".
    #[error(
        "memprobe: the counting allocator is not installed, so every allocation figure would read 0; add this line to the file of the binary that measures (an integration test's own file in tests/, a bench, an example or src/main.rs; for unit tests, src/lib.rs under #[cfg(test)]): {INSTALL_LINE}"
    )]
    AllocatorNotInstalled,

    /// A size, percentage or duration string could not be parsed.
    #[error("memprobe: invalid {kind} {input:?}: expected {expected}")]
    InvalidInput {
        /// What was being parsed: "size", "size or percentage", "duration", ...
        kind: &'static str,
        /// The string as the user gave it.
        input: String,
        /// The accepted forms, with examples.
        expected: &'static str,
    },

    /// A size or growth threshold is not in the grammar of [`crate::units`].
    #[error("memprobe: invalid {kind} {input:?}: {problem}; expected {expected}")]
    InvalidSize {
        /// What was being parsed: "size", "size or percentage" (a growth threshold), ...
        kind: &'static str,
        /// The string as the user gave it.
        input: String,
        /// Which rule it breaks: negative, too large, a percentage for a size, an ambiguous or
        /// unknown unit, a bare number for a growth threshold, a fraction of a byte.
        problem: String,
        /// The accepted forms, with examples.
        expected: &'static str,
    },

    /// No process has this PID (or it exited while being read).
    #[error(
        "memprobe: no process with PID {pid} (it never existed or has exited); check the PID with `ps -p {pid}`"
    )]
    ProcessNotFound {
        /// The PID asked for.
        pid: u32,
    },

    /// The operating system refused access to a file of another process.
    #[error(
        "memprobe: permission denied {action} {}: run as the process's owner, or as root (CAP_SYS_PTRACE / CAP_SYS_ADMIN)",
        path.display()
    )]
    PermissionDenied {
        /// What was being done: "reading", "writing 5 to", ...
        action: &'static str,
        /// The file that refused.
        path: PathBuf,
    },

    /// An I/O error on a named file.
    #[error("memprobe: {action} {}: {source}", path.display())]
    Io {
        /// What was being done: "reading", "writing", ...
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A system file did not have the format memprobe expects.
    #[error("memprobe: could not parse {what} from {}; please report this with the file's contents", path.display())]
    Parse {
        /// The field or record that was expected.
        what: &'static str,
        /// The file that was read.
        path: PathBuf,
    },

    /// jemalloc statistics were asked for but jemalloc is not the global allocator.
    #[error(
        "memprobe: jemalloc statistics are unavailable: {reason}; install jemalloc as the global allocator with memprobe::global_allocator!(memprobe::jemalloc::Jemalloc) (needs memprobe's default `jemalloc` feature), or leave jemalloc figures out"
    )]
    JemallocUnavailable {
        /// Why: not the global allocator, feature off, or a mallctl failure.
        reason: String,
    },

    /// The platform does not offer this figure or operation.
    #[error("memprobe: {what} is not supported on {platform}")]
    Unsupported {
        /// The figure or operation.
        what: &'static str,
        /// The platform (`std::env::consts::OS`).
        platform: &'static str,
    },

    /// An API used in a way that cannot give a correct figure (the message says how to fix it).
    #[error("memprobe: {0}")]
    Misuse(&'static str),

    /// A scaling fit was asked for sizes it cannot fit (fewer than two, a size twice, no
    /// repetitions).
    #[error("memprobe: scaling fit over sizes {sizes:?}: {problem}")]
    Scaling {
        /// The sizes as given.
        sizes: Vec<u64>,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// A baseline file is missing, unreadable or corrupt.
    #[error("memprobe: baseline {}: {problem}", path.display())]
    Baseline {
        /// The baseline file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// A crate's `memprobe.toml` exists but could not be read.
    #[error("memprobe: cannot read {}: {source}", path.display())]
    ConfigRead {
        /// The memprobe.toml file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A crate's `memprobe.toml` is not valid TOML or has an unknown key.
    #[error("memprobe: {} is not a valid memprobe.toml: {problem}", path.display())]
    ConfigSyntax {
        /// The memprobe.toml file.
        path: PathBuf,
        /// The parser's message: the line, the column and what is wrong (an unknown key is named).
        problem: String,
    },

    /// A value in a `[[test]]` entry of a crate's `memprobe.toml` is invalid.
    #[error("memprobe: {}: [[test]] entry {entry} (name = {name:?}): {key}: {source}", path.display())]
    ConfigValue {
        /// The memprobe.toml file.
        path: PathBuf,
        /// The entry's position in the file, from 1.
        entry: usize,
        /// The entry's `name` glob.
        name: String,
        /// The key whose value is invalid.
        key: &'static str,
        /// Why the value is invalid: the accepted forms.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Maps an I/O error on `path` to the clearest variant: [`Error::ProcessNotFound`] for a file
    /// of process `pid` that is gone (`ENOENT` or `ESRCH`), [`Error::PermissionDenied`], or a plain
    /// [`Error::Io`]. The one mapping of I/O errors in memprobe and memprobe-daemon, so a file
    /// error reads the same wherever it happens. `action` is what was being done ("reading",
    /// "opening", "writing 5 to").
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Error as IoError, ErrorKind};
    /// use memprobe::Error;
    /// let gone = Error::from_io("reading", "/proc/7/statm".into(), IoError::from(ErrorKind::NotFound), Some(7));
    /// assert!(matches!(gone, Error::ProcessNotFound { pid: 7 }));
    /// let denied = Error::from_io("reading", "/x".into(), IoError::from(ErrorKind::PermissionDenied), None);
    /// assert_eq!(denied.to_string(), "memprobe: permission denied reading /x: run as the process's owner, or as root (CAP_SYS_PTRACE / CAP_SYS_ADMIN)");
    /// let other = Error::from_io("reading", "/x".into(), IoError::from(ErrorKind::NotFound), None);
    /// assert!(matches!(other, Error::Io { .. }));
    /// ```
    pub fn from_io(
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
        pid: Option<u32>,
    ) -> Self {
        // ESRCH: the process exited after its /proc file was opened.
        #[cfg(unix)]
        let gone = source.kind() == std::io::ErrorKind::NotFound
            || source.raw_os_error() == Some(libc::ESRCH);
        #[cfg(not(unix))]
        let gone = source.kind() == std::io::ErrorKind::NotFound;
        match pid {
            Some(pid) if gone => Error::ProcessNotFound { pid },
            _ if source.kind() == std::io::ErrorKind::PermissionDenied => {
                Error::PermissionDenied { action, path }
            }
            _ => Error::Io {
                action,
                path,
                source,
            },
        }
    }
}

/// Shorthand for `Result<T, memprobe::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
