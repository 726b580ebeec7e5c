//! The words of a baseline verdict, one wording for the per-test baselines and the per-item ones
//! ([`crate::scaling`]): where a baseline was written, what grew and how to bless it, what shrank
//! and how to lock it in, and the line of one changed figure.
//!
//! ```text
//! memprobe: `t` grew beyond its baseline (<path>, fail_if_growth = 10%):
//!   alloc_bytes: baseline 1000 B, now 1200 B (+20.0%; allowed up to 1100 B)
//!   if the growth is intended, bless it with: MEMPROBE_UPDATE=1 cargo test
//! ```

use super::outcome::{Action, Judged};
use std::fmt;
use std::path::Path;

/// Who a verdict speaks of.
pub(crate) struct Subject<'a> {
    /// The kind of file: "baseline" or "per-item baseline".
    pub(crate) kind: &'a str,
    /// The baseline's name.
    pub(crate) name: &'a str,
    /// What is compared, as the sentence names it: "`t`" or "the cost per job of `t`".
    pub(crate) what: &'a dyn fmt::Display,
    /// The baseline's file.
    pub(crate) path: &'a Path,
    /// The allowed growth, in percent.
    pub(crate) growth_percent: f64,
    /// The command that rewrites the baseline.
    pub(crate) update_command: &'a str,
}

/// Writes the message of a check on `subject` that did `action`: for a comparison, the figures
/// that grew (a failure) or else those that shrank, each shown by `line`; then the `notes`.
pub(crate) fn write_verdict<C: Judged>(
    f: &mut fmt::Formatter<'_>,
    subject: &Subject<'_>,
    action: Action,
    changes: &[C],
    notes: &[String],
    line: impl Fn(&mut fmt::Formatter<'_>, &C) -> fmt::Result,
) -> fmt::Result {
    let Subject {
        kind,
        name,
        what,
        growth_percent,
        update_command,
        ..
    } = subject;
    let path = subject.path.display();
    match action {
        Action::Created => write!(f, "memprobe: created {kind} `{name}` at {path}; commit it")?,
        Action::Updated => write!(f, "memprobe: wrote {kind} `{name}` at {path}")?,
        Action::Compared if changes.iter().any(C::grew) => {
            write!(
                f,
                "memprobe: {what} grew beyond its baseline ({path}, fail_if_growth = {growth_percent}%):"
            )?;
            for change in changes.iter().filter(|c| c.grew()) {
                write!(f, "\n  ")?;
                line(f, change)?;
            }
            write!(
                f,
                "\n  if the growth is intended, bless it with: {update_command}"
            )?;
        }
        Action::Compared => {
            write!(f, "memprobe: {what} is within its baseline ({path})")?;
            let shrank: Vec<_> = changes.iter().filter(|c| c.shrank()).collect();
            for change in &shrank {
                write!(f, "\n  ")?;
                line(f, change)?;
            }
            if !shrank.is_empty() {
                write!(
                    f,
                    "\n  figures shrank: lock the improvement in with: {update_command}"
                )?;
            }
        }
    }
    for note in notes {
        write!(f, "\n  note: {note}")?;
    }
    Ok(())
}

/// The line of one changed figure: `alloc_bytes: baseline 100 B, now 120 B per job (+20.0%;
/// allowed up to 110 B)`, the allowance shown only when the figure grew beyond it.
pub(crate) struct ChangeLine<'a, S> {
    /// The figure's key in the baseline file.
    pub(crate) figure: &'a str,
    /// Its baseline value.
    pub(crate) baseline: f64,
    /// Its value in this run.
    pub(crate) current: f64,
    /// The most it may be without failing.
    pub(crate) allowed: f64,
    /// Whether it is over the allowance.
    pub(crate) grew: bool,
    /// What the values are counted per, with its leading space (" per iteration"), or "".
    pub(crate) each: &'a str,
    /// How a value is shown (with its unit).
    pub(crate) show: S,
}

impl<S: Fn(f64) -> D, D: fmt::Display> fmt::Display for ChangeLine<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = &self.show;
        write!(
            f,
            "{}: baseline {}, now {}{}",
            self.figure,
            show(self.baseline),
            show(self.current),
            self.each
        )?;
        if self.baseline != 0.0 {
            let percent = (self.current - self.baseline) / self.baseline.abs() * 100.0;
            write!(f, " ({percent:+.1}%")?;
        } else {
            write!(f, " (from zero")?;
        }
        if self.grew {
            write!(f, "; allowed up to {})", show(self.allowed))
        } else {
            write!(f, ")")
        }
    }
}
