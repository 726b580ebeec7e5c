//! Baseline messages a passing test must not lose: "created baseline … commit it", "wrote
//! baseline …", "figures shrank: lock the improvement in with …".
//!
//! libtest hides a passing test's output (`println!` is captured), so printing alone shows them
//! only under `--nocapture`. Each such message is therefore also:
//!
//! - written to the terminal directly, through `/dev/tty`, when the process has one (a developer's
//!   `cargo test`): libtest's capture does not see it, and its own output stays intact since the
//!   message is one whole write of whole lines;
//! - appended to `baseline-notes.txt` in the report directory ([`notes_file`]), one block per
//!   message, written with one `O_APPEND` write so parallel tests never interleave: in CI, or when
//!   the terminal scrolled by, the file has them all.
//!
//! A failed comparison is not a note: it fails the test, whose output libtest always shows.

use crate::baseline::{Action, Verdict};
use crate::output_dir::report_dir;
use std::io::Write;
use std::path::PathBuf;

/// The file baseline messages are appended to: `baseline-notes.txt` in the report directory
/// (`$MEMPROBE_HOME`, else `$CARGO_TARGET_DIR/memprobe`, else `target/memprobe`).
///
/// Delete it whenever you like; it only collects what passing tests had to say about their
/// baselines (created, rewritten, or shrunk and worth re-blessing).
///
/// # Examples
///
/// ```
/// let file = memprobe::baseline::notes_file();
/// assert!(file.ends_with("baseline-notes.txt"));
/// assert!(file.starts_with(memprobe::__private::report_dir()));
/// ```
pub fn notes_file() -> PathBuf {
    report_dir().join("baseline-notes.txt")
}

/// `true` when the verdict asks something of the user: commit a new file, review a rewritten
/// one, or lock in figures that shrank.
pub(crate) fn worth_a_note(verdict: &Verdict) -> bool {
    match verdict.action {
        Action::Created | Action::Updated => true,
        Action::Compared => !verdict.failed() && verdict.changes.iter().any(|c| c.shrank()),
    }
}

/// Shows a passing verdict: printed (seen under `--nocapture`), and when it asks something of
/// the user, also written to the terminal and appended to [`notes_file`]. Delivery is best
/// effort: a read-only report directory or no terminal never fails the test.
pub(crate) fn deliver(verdict: &Verdict) {
    println!("{verdict}");
    if !worth_a_note(verdict) {
        return;
    }
    let block = format!("{verdict}\n");
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = tty.write_all(block.as_bytes());
    }
    let file = notes_file();
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut notes) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        let _ = notes.write_all(block.as_bytes());
    }
}
