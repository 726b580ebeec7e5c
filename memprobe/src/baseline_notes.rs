//! Baseline messages a passing test must not lose: "created baseline … commit it", "wrote
//! baseline …", "figures shrank: lock the improvement in with …".
//!
//! libtest hides a passing test's output (`println!` is captured), so printing alone shows them
//! only under `--nocapture`. Each such message is therefore also:
//!
//! - written to the terminal directly, through `/dev/tty`, when the process has one (a developer's
//!   `cargo test`): libtest's capture does not see it, and its own output stays intact since the
//!   message is one whole write of whole lines;
//! - appended to `baseline-notes.txt` in the report directory, one block per message
//!   (`crate::baseline::notes_file`), written with one `O_APPEND` write so parallel tests never
//!   interleave: in CI, or when
//!   the terminal scrolled by, the file has them all.
//!
//! A failed comparison is not a note: it fails the test, whose output libtest always shows.

use crate::baseline::{Action, Verdict};
use crate::output_dir::notes_file;
use std::io::Write;

/// `true` when the verdict asks something of the user: commit a new file, review a rewritten
/// one, or lock in figures that shrank.
pub(crate) fn worth_a_note(verdict: &Verdict) -> bool {
    match verdict.action {
        Action::Created | Action::Updated => true,
        Action::Compared => !verdict.failed() && verdict.changes.iter().any(|c| c.shrank()),
    }
}

/// Shows a passing verdict: printed (seen under `--nocapture`), and when it asks something of
/// the user, also written to the terminal and appended to the notes file. Delivery is best
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
