//! The vocabulary of a baseline check's outcome, shared by the per-test baselines and the
//! per-item ones ([`crate::scaling`]): what the check did ([`Action`]) and what one compared
//! figure says ([`Judged`]). It sits below the judgement and the messages so neither imports the
//! other.

/// What [`Baselines::check`](super::Baselines::check) (or a per-item check) did.
///
/// # Examples
///
/// ```
/// use memprobe::baseline::Action;
/// assert_ne!(Action::Created, Action::Compared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// There was no baseline; the current figures became it.
    Created,
    /// The current figures replaced the baseline ([`Mode::Update`](super::Mode::Update)).
    Updated,
    /// The current figures were compared with the baseline.
    Compared,
}

/// A figure compared with its baseline, as the verdict messages see it: over its allowance (a
/// failure) or below its baseline (a hint to re-bless).
pub(crate) trait Judged {
    /// Over the allowance: this fails the check.
    fn grew(&self) -> bool;
    /// Below the baseline: never a failure.
    fn shrank(&self) -> bool;
}
