//! One per-test figure compared with its baseline: which figure ([`Figure`]), its baseline and
//! current values, its allowance and whether it is over it ([`Change`]).

use super::message::ChangeLine;
use super::outcome::Judged;
use crate::units::Exact;
use std::fmt;

/// A figure compared with its baseline.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::baseline::Figure::AllocBytes.name(), "alloc_bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Figure {
    /// Allocation events per iteration.
    Allocations,
    /// Bytes allocated per iteration.
    AllocBytes,
    /// Peak of live bytes.
    PeakBytes,
    /// RSS growth over the run.
    RssGrowthBytes,
}

impl Figure {
    /// The figure's key in the baseline file.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Figure::PeakBytes.name(), "peak_bytes");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Figure::Allocations => "allocations",
            Figure::AllocBytes => "alloc_bytes",
            Figure::PeakBytes => "peak_bytes",
            Figure::RssGrowthBytes => "rss_growth_bytes",
        }
    }
}

/// One figure that differs from its baseline.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::baseline::{Baselines, Figure, Mode, Policy};
/// let dir = tempfile::tempdir().unwrap();
/// let b = Baselines::new(dir.path());
/// let p = Policy::new("0%")?;
/// b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Update)?;
/// let verdict = b.check("t", &memprobe::measure(|| vec![0u8; 8])?, &p, Mode::Local)?;
/// let change = &verdict.changes[0];
/// assert_eq!(change.figure, Figure::AllocBytes);
/// assert!(change.shrank() && !change.grew());
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// The figure.
    pub figure: Figure,
    /// Its baseline value (per iteration where that applies).
    pub baseline: f64,
    /// Its value in this run.
    pub current: f64,
    /// The most it may be without failing: a whole number for totals, and for per-iteration
    /// figures rounded down to a hundredth. [`Change::grew`] does not compare against this
    /// rounded figure but exactly, in integers.
    pub allowed: f64,
    /// Whether the values are per iteration.
    pub per_iteration: bool,
    /// Over the allowance, decided exactly by [`compare`](super::judge::compare): `current >
    /// allowed` in floating point would fail a figure at exactly the allowed growth whenever
    /// `baseline × (1 + p/100)` rounds down (100 B with 15% gives 114.99999999999999).
    pub(super) over: bool,
}

impl Change {
    /// `true` when the figure is over its allowance: this fails the check.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Figure, Mode, Policy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = Baselines::new(dir.path());
    /// let p = Policy::new("10%")?;
    /// b.check("t", &memprobe::measure(|| vec![0u8; 100])?, &p, Mode::Update)?;
    /// // 110 bytes is exactly the allowance; 111 is over it.
    /// let at = b.check("t", &memprobe::measure(|| vec![0u8; 110])?, &p, Mode::Local)?;
    /// assert!(at.changes.iter().all(|c| !c.grew()));
    /// let over = b.check("t", &memprobe::measure(|| vec![0u8; 111])?, &p, Mode::Local)?;
    /// let change = &over.changes[0];
    /// assert_eq!((change.figure, change.grew()), (Figure::AllocBytes, true));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn grew(&self) -> bool {
        self.over
    }

    /// `true` when the figure is below its baseline (never a failure).
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
    /// let v = b.check("t", &memprobe::measure(|| vec![0u8; 8])?, &p, Mode::Local)?;
    /// assert!(v.changes[0].shrank() && !v.changes[0].grew());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn shrank(&self) -> bool {
        self.current < self.baseline
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.figure == Figure::Allocations {
            ""
        } else {
            "B"
        };
        ChangeLine {
            figure: self.figure.name(),
            baseline: self.baseline,
            current: self.current,
            allowed: self.allowed,
            grew: self.grew(),
            each: if self.per_iteration {
                " per iteration"
            } else {
                ""
            },
            show: |v: f64| Exact(v, unit),
        }
        .fmt(f)
    }
}

impl Judged for Change {
    fn grew(&self) -> bool {
        Change::grew(self)
    }
    fn shrank(&self) -> bool {
        Change::shrank(self)
    }
}
