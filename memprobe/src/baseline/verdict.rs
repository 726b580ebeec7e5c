//! The outcome of one per-test baseline check ([`Verdict`]): what was done, the figures that
//! changed, and the message to show (worded in [`super::message`]).

use super::change::Change;
use super::message::{Subject, write_verdict};
use super::outcome::Action;
use std::fmt;
use std::path::PathBuf;

/// The outcome of [`Baselines::check`](super::Baselines::check). `Display` gives the message to show: what grew and how
/// to bless it, what shrank and how to lock it in, or where a baseline was written.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::baseline::{Action, Baselines, Mode, Policy};
/// let dir = tempfile::tempdir().unwrap();
/// let v = Baselines::new(dir.path()).check("t", &memprobe::measure(|| ())?, &Policy::new("5%")?, Mode::Local)?;
/// assert_eq!(v.action, Action::Created);
/// assert!(v.to_string().contains("created baseline `t`"));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// The baseline's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// What was done.
    pub action: Action,
    /// Figures that differ from the baseline (after [`Action::Compared`]).
    pub changes: Vec<Change>,
    /// Remarks: figures that could not be compared, and why.
    pub notes: Vec<String>,
    pub(super) growth_percent: f64,
    pub(super) update_command: String,
}

impl Verdict {
    /// `true` when a figure grew beyond the allowance.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Mode, Policy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = Baselines::new(dir.path());
    /// let p = Policy::new("0%")?;
    /// b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Update)?;
    /// assert!(!b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Local)?.failed());
    /// let grown = b.check("t", &memprobe::measure(|| vec![0u8; 11])?, &p, Mode::Local)?;
    /// assert!(grown.failed());
    /// assert!(grown.to_string().contains("grew beyond its baseline"), "{grown}");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn failed(&self) -> bool {
        self.changes.iter().any(Change::grew)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = format!("`{}`", self.name);
        let subject = Subject {
            kind: "baseline",
            name: &self.name,
            what: &what,
            path: &self.path,
            growth_percent: self.growth_percent,
            update_command: &self.update_command,
        };
        write_verdict(
            f,
            &subject,
            self.action,
            &self.changes,
            &self.notes,
            |f, change| change.fmt(f),
        )
    }
}
