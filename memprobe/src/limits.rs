//! Limits on a report's figures, parsed from the strings people write (`0`, `64 KiB`, `1.5MB`,
//! `10%`), and checked all at once so a failure lists every violated figure.
//!
//! # What each limit applies to
//!
//! | limit | figure | with iterations |
//! |---|---|---|
//! | `max_allocs` | allocation events: allocations + reallocations | per iteration (average) |
//! | `max_bytes` | bytes allocated | per iteration (average) |
//! | `max_net` | net bytes (what the code keeps alive) | per iteration (average) |
//! | `max_peak` | peak live bytes above the start | whole run |
//! | `max_rss_growth` | RSS after − before, as bytes or % of before | whole run |
//!
//! With one iteration, "per iteration" is the total. `max_allocs = 0` therefore means no
//! allocation at all, in any iteration.

use crate::error::Result;
use crate::report::Report;
use crate::units::{Bytes, Growth, SignedBytes, parse_bytes};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Upper bounds on a report's figures. Unset limits are not checked.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::Limits;
/// let limits = Limits::new().max_allocs(1).max_bytes("1 KiB")?;
/// let report = memprobe::measure(|| vec![0u8; 4096])?;
/// let violations = limits.check(&report);
/// assert_eq!(violations.len(), 1);
/// assert_eq!(violations[0].to_string(), "max_bytes: limit 1.0 KiB, actual 4.0 KiB");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Limits {
    /// Most allocation events (allocations + reallocations) per iteration.
    pub max_allocs: Option<u64>,
    /// Most bytes allocated per iteration.
    pub max_bytes: Option<u64>,
    /// Highest peak of live bytes over the run.
    pub max_peak: Option<u64>,
    /// Most net bytes per iteration.
    pub max_net: Option<u64>,
    /// Most RSS growth over the run, absolute or relative to RSS at the start.
    pub max_rss_growth: Option<Growth>,
}

impl Limits {
    /// No limits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::Limits::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// `true` when no limit is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!memprobe::Limits::new().max_allocs(0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Limits allocation events per iteration.
    ///
    /// # Examples
    ///
    /// ```
    /// let limits = memprobe::Limits::new().max_allocs(0);
    /// assert_eq!(limits.max_allocs, Some(0));
    /// ```
    pub fn max_allocs(mut self, n: u64) -> Self {
        self.max_allocs = Some(n);
        self
    }

    /// Limits bytes allocated per iteration, from a size string.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::Limits::new().max_bytes("64 KiB")?.max_bytes, Some(65536));
    /// assert!(memprobe::Limits::new().max_bytes("12 KBB").is_err());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_bytes(mut self, size: &str) -> Result<Self> {
        self.max_bytes = Some(parse_bytes(size)?);
        Ok(self)
    }

    /// Limits the peak of live bytes, from a size string.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::Limits::new().max_peak("1MB")?.max_peak, Some(1_000_000));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_peak(mut self, size: &str) -> Result<Self> {
        self.max_peak = Some(parse_bytes(size)?);
        Ok(self)
    }

    /// Limits net bytes per iteration, from a size string.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::Limits::new().max_net("0")?.max_net, Some(0));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_net(mut self, size: &str) -> Result<Self> {
        self.max_net = Some(parse_bytes(size)?);
        Ok(self)
    }

    /// Limits RSS growth over the run, from a size (`8 MiB`) or a percentage (`10%`).
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::units::Growth;
    /// let limits = memprobe::Limits::new().max_rss_growth("10%")?;
    /// assert_eq!(limits.max_rss_growth, Some(Growth::Percent(10.0)));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_rss_growth(mut self, growth: &str) -> Result<Self> {
        self.max_rss_growth = Some(growth.parse()?);
        Ok(self)
    }

    /// Every violated limit, in the order of the table above; empty when the report passes.
    ///
    /// An RSS limit on a report without RSS figures is reported as a violation (the figure
    /// could not be checked), never passed silently.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let limits = memprobe::Limits::new().max_allocs(0);
    /// assert!(limits.check(&memprobe::measure(|| 1 + 1)?).is_empty());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn check(&self, report: &Report) -> Vec<Violation> {
        let per = report.per_iteration();
        let iterated = report.iterations > 1;
        let mut out = Vec::new();
        let mut per_iter = |figure, limit: Option<u64>, actual: f64, total: i128, bytes: bool| {
            if let Some(limit) = limit {
                if actual > limit as f64 {
                    out.push(Violation {
                        figure,
                        limit: limit as f64,
                        actual,
                        total: iterated.then_some(total),
                        bytes,
                    });
                }
            }
        };
        let a = &report.allocs;
        per_iter(
            Figure::Allocations,
            self.max_allocs,
            per.allocations,
            a.allocations().into(),
            false,
        );
        per_iter(
            Figure::AllocatedBytes,
            self.max_bytes,
            per.alloc_bytes,
            a.alloc_bytes.into(),
            true,
        );
        per_iter(
            Figure::NetBytes,
            self.max_net,
            per.net_bytes,
            a.net_bytes.into(),
            true,
        );
        if let Some(limit) = self.max_peak.filter(|&l| a.peak_bytes > l) {
            out.push(Violation::whole(
                Figure::PeakBytes,
                limit as f64,
                a.peak_bytes as f64,
            ));
        }
        if let Some(growth) = self.max_rss_growth {
            match &report.rss {
                Some(rss) => {
                    let allowed = growth.allowance(rss.before.rss_bytes);
                    if rss.delta_rss_bytes as f64 > allowed {
                        out.push(Violation::whole(
                            Figure::RssGrowth,
                            allowed,
                            rss.delta_rss_bytes as f64,
                        ));
                    }
                }
                None => out.push(Violation::whole(
                    Figure::RssGrowth,
                    growth.allowance(0),
                    f64::NAN,
                )),
            }
        }
        out
    }
}

/// A figure a limit applies to. Its name is the limit's (`max_allocs`, ...).
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::limits::Figure::Allocations.limit_name(), "max_allocs");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Figure {
    /// Allocation events per iteration.
    Allocations,
    /// Bytes allocated per iteration.
    AllocatedBytes,
    /// Net bytes per iteration.
    NetBytes,
    /// Peak live bytes.
    PeakBytes,
    /// RSS growth.
    RssGrowth,
}

impl Figure {
    /// The name of the limit on this figure, as written in `#[memprobe(...)]` and `memprobe.toml`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::limits::Figure::RssGrowth.limit_name(), "max_rss_growth");
    /// ```
    pub fn limit_name(&self) -> &'static str {
        match self {
            Figure::Allocations => "max_allocs",
            Figure::AllocatedBytes => "max_bytes",
            Figure::NetBytes => "max_net",
            Figure::PeakBytes => "max_peak",
            Figure::RssGrowth => "max_rss_growth",
        }
    }
}

/// One violated limit: the figure, the limit and the actual value.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::probe::Iterations;
/// let report = memprobe::measure_iters(Iterations::new(10), || vec![0u8; 100])?;
/// let v = &memprobe::Limits::new().max_allocs(0).check(&report)[0];
/// assert_eq!(v.to_string(), "max_allocs: limit 0 per iteration, actual 1 per iteration (10 in total)");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Violation {
    /// The figure over its limit.
    pub figure: Figure,
    /// The limit, in bytes or counts (per iteration where that applies).
    pub limit: f64,
    /// The measured value, same unit (NaN when it could not be measured).
    pub actual: f64,
    /// The run's total, when the figures are per iteration over several iterations.
    pub total: Option<i128>,
    bytes: bool,
}

impl Violation {
    fn whole(figure: Figure, limit: f64, actual: f64) -> Self {
        Violation {
            figure,
            limit,
            actual,
            total: None,
            bytes: figure != Figure::Allocations,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let each = if self.total.is_some() {
            " per iteration"
        } else {
            ""
        };
        let show = |v: f64| -> String {
            if !self.bytes {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            } else if v.fract() != 0.0 && v.abs() < 1024.0 {
                format!("{v:.1} B")
            } else if self.figure == Figure::RssGrowth || self.figure == Figure::NetBytes {
                SignedBytes(v as i64).to_string()
            } else {
                Bytes(v as u64).to_string()
            }
        };
        write!(
            f,
            "{}: limit {}{each}, ",
            self.figure.limit_name(),
            show(self.limit).trim_start_matches('+')
        )?;
        if self.actual.is_nan() {
            return write!(f, "actual unknown (no RSS figures on this platform)");
        }
        write!(f, "actual {}{each}", show(self.actual))?;
        if let Some(total) = self.total {
            let total = if self.bytes {
                SignedBytes(total as i64).to_string()
            } else {
                total.to_string()
            };
            write!(f, " ({} in total)", total.trim_start_matches('+'))?;
        }
        Ok(())
    }
}
