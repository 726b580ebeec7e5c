//! Limits on a [`Fit`]'s per-item costs (`max_bytes_per_item = "2 KiB"`), checked all at once so
//! a failure lists every figure over its limit.
//!
//! A limit is checked against the fitted per-item cost (the slope), not against the upper end of
//! its interval: the figures are exact counts, so a deterministic workload has a zero-width
//! interval, and a noisy one shows its interval in the message.

use super::table::count;
use super::{Fit, Line, Shape};
use crate::error::Result;
use crate::units::{ByteAmount, ByteRange, parse_bytes};
use std::fmt;

/// Upper bounds on the per-item cost. Unset limits are not checked.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::scaling::{PerItemLimits, Scaling};
/// let fit = Scaling::new([10, 20, 40]).item("job").run(|n| vec![0u8; 3000 * n as usize])?;
/// let limits = PerItemLimits::new().max_bytes_per_item("2 KiB")?.max_allocs_per_item(1);
/// let violations = limits.check(&fit);
/// assert_eq!(violations.len(), 1);
/// assert_eq!(
///     violations[0].to_string(),
///     "max_bytes_per_item: limit 2.0 KiB per job, actual 2.9 KiB per job (95% CI 2.9 to 2.9 KiB)"
/// );
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct PerItemLimits {
    /// Most allocation events per item.
    pub max_allocs_per_item: Option<u64>,
    /// Most bytes allocated per item.
    pub max_bytes_per_item: Option<u64>,
    /// Most peak live bytes per item.
    pub max_peak_per_item: Option<u64>,
    /// Most bytes kept (net) per item.
    pub max_net_per_item: Option<u64>,
    /// Fail when allocations or bytes bend instead of growing in a straight line.
    pub require_linear: bool,
}

impl PerItemLimits {
    /// No limits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::scaling::PerItemLimits::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// `true` when nothing is checked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!memprobe::scaling::PerItemLimits::new().require_linear().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Limits allocation events per item.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = memprobe::scaling::PerItemLimits::new().max_allocs_per_item(3);
    /// assert_eq!(l.max_allocs_per_item, Some(3));
    /// ```
    pub fn max_allocs_per_item(mut self, n: u64) -> Self {
        self.max_allocs_per_item = Some(n);
        self
    }

    /// Limits bytes allocated per item, from a size string (`"2 KiB"`).
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = memprobe::scaling::PerItemLimits::new().max_bytes_per_item("2 KiB")?;
    /// assert_eq!(l.max_bytes_per_item, Some(2048));
    /// assert!(memprobe::scaling::PerItemLimits::new().max_bytes_per_item("2 KBB").is_err());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_bytes_per_item(mut self, size: &str) -> Result<Self> {
        self.max_bytes_per_item = Some(parse_bytes(size)?);
        Ok(self)
    }

    /// Limits peak live bytes per item, from a size string.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = memprobe::scaling::PerItemLimits::new().max_peak_per_item("1 KiB")?;
    /// assert_eq!(l.max_peak_per_item, Some(1024));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_peak_per_item(mut self, size: &str) -> Result<Self> {
        self.max_peak_per_item = Some(parse_bytes(size)?);
        Ok(self)
    }

    /// Limits bytes kept (net) per item, from a size string.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] naming the string and the accepted forms.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = memprobe::scaling::PerItemLimits::new().max_net_per_item("512 B")?;
    /// assert_eq!(l.max_net_per_item, Some(512));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn max_net_per_item(mut self, size: &str) -> Result<Self> {
        self.max_net_per_item = Some(parse_bytes(size)?);
        Ok(self)
    }

    /// Fails a fit whose allocations or bytes bend (see [`Shape`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::scaling::{PerItemLimits, Scaling};
    /// // n vectors of n bytes: quadratic.
    /// let fit = Scaling::new([10, 50, 100, 200])
    ///     .run(|n| (0..n).map(|_| vec![0u8; n as usize]).collect::<Vec<_>>())?;
    /// let v = PerItemLimits::new().require_linear().check(&fit);
    /// assert!(v[0].to_string().starts_with("linear: allocated bytes bend upward"), "{}", v[0]);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn require_linear(mut self) -> Self {
        self.require_linear = true;
        self
    }

    /// Every limit `fit` breaks, in the order of the fields; empty when it passes.
    ///
    /// # Examples
    ///
    /// See [`PerItemLimits`].
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let fit = memprobe::scaling::Scaling::new([1, 2, 3]).run(|n| vec![0u8; n as usize])?;
    /// assert!(memprobe::scaling::PerItemLimits::new().max_bytes_per_item("1 B")?.check(&fit).is_empty());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn check(&self, fit: &Fit) -> Vec<PerItemViolation> {
        let mut out = Vec::new();
        for (limit_name, limit, line, bytes) in [
            (
                "max_allocs_per_item",
                self.max_allocs_per_item,
                &fit.allocations,
                false,
            ),
            (
                "max_bytes_per_item",
                self.max_bytes_per_item,
                &fit.alloc_bytes,
                true,
            ),
            (
                "max_peak_per_item",
                self.max_peak_per_item,
                &fit.peak_bytes,
                true,
            ),
            (
                "max_net_per_item",
                self.max_net_per_item,
                &fit.net_bytes,
                true,
            ),
        ] {
            if let Some(limit) = limit.filter(|&l| line.per_item > l as f64) {
                out.push(PerItemViolation {
                    limit_name,
                    item: fit.item.clone(),
                    limit: limit as f64,
                    line: *line,
                    bytes,
                });
            }
        }
        if self.require_linear {
            for (name, line, bytes) in [
                ("allocations", &fit.allocations, false),
                ("allocated bytes", &fit.alloc_bytes, true),
            ] {
                if !line.shape.is_linear() {
                    out.push(PerItemViolation {
                        limit_name: "linear",
                        item: name.to_owned(),
                        limit: f64::NAN,
                        line: *line,
                        bytes,
                    });
                }
            }
        }
        out
    }
}

/// One per-item limit a fit breaks.
///
/// # Examples
///
/// See [`PerItemLimits`].
///
/// ```
/// # let _ = memprobe::scaling::PerItemViolation::limit_name;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PerItemViolation {
    limit_name: &'static str,
    /// The item's name (for `linear`, the figure's).
    item: String,
    /// The limit, in bytes or allocation events per item (NaN for `linear`).
    pub limit: f64,
    /// The fitted line of the figure over its limit.
    pub line: Line,
    bytes: bool,
}

impl PerItemViolation {
    /// The limit's name, as in `#[memprobe(...)]`: `max_bytes_per_item`, ..., or `linear`.
    ///
    /// # Examples
    ///
    /// See [`PerItemLimits`].
    ///
    /// ```
    /// # let _ = memprobe::scaling::PerItemViolation::limit_name;
    /// ```
    pub fn limit_name(&self) -> &'static str {
        self.limit_name
    }
}

impl fmt::Display for PerItemViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: f64| {
            if self.bytes {
                ByteAmount(v).to_string()
            } else {
                count(v)
            }
        };
        if self.limit_name == "linear" {
            let Shape::Bends {
                upward,
                quadratic_per_item_squared,
                bend,
            } = self.line.shape
            else {
                return write!(f, "linear: {} {}", self.item, self.line.shape);
            };
            return write!(
                f,
                "linear: {} bend {} (quadratic term {:+.3} per item², up to {} off the straight line)",
                self.item,
                if upward { "upward" } else { "downward" },
                quadratic_per_item_squared,
                show(bend)
            );
        }
        write!(
            f,
            "{}: limit {} per {item}, actual {} per {item}",
            self.limit_name,
            show(self.limit),
            show(self.line.per_item),
            item = self.item
        )?;
        match self.line.per_item_ci {
            Some(ci) if self.bytes => write!(
                f,
                " (95% CI {})",
                ByteRange {
                    low: ci.low,
                    high: ci.high
                }
            )?,
            Some(ci) => write!(f, " (95% CI {} to {})", show(ci.low), show(ci.high))?,
            None => {}
        }
        Ok(())
    }
}
