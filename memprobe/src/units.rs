//! Human units in and out: size strings (`64 KiB`, `1.5MB`, `0`), growth thresholds (`10%` or a
//! size), durations (`100ms`, `30s`, `1h`); and the one place figures are formatted for people:
//! byte counts and amounts in binary units, exact figures, durations and percentages.
//!
//! # Sizes and growth thresholds
//!
//! One grammar for every size and threshold memprobe reads: the attribute's options
//! (`max_bytes = "64 KiB"`, `fail_if_growth = "10%"`), `memprobe.toml`, the daemon's
//! `--fail-if-growth`, and [`Limits`](crate::Limits) / [`Policy`](crate::baseline::Policy).
//!
//! | written | means |
//! |---|---|
//! | `512`, `512B`, `512 b` | 512 bytes (a bare number is bytes, for sizes only) |
//! | `64KB`, `64 kb` | 64 000 bytes: `KB`, `MB`, `GB`, `TB` are 1000ⁿ |
//! | `64KiB`, `64 kib` | 65 536 bytes: `KiB`, `MiB`, `GiB`, `TiB` are 1024ⁿ |
//! | `1.5MB` | 1 500 000 bytes: a fraction is fine if the result is whole bytes |
//! | `10%`, `2.5 %` | a percentage: **growth thresholds only** (`max_rss_growth`, `fail_if_growth`, `--fail-if-growth`) |
//! | `0` | zero, accepted everywhere (0 bytes and 0% are the same limit) |
//!
//! Units are case-insensitive; spaces around the figure and between number and unit are ignored.
//! Refused, with a message saying which rule was broken:
//!
//! - a bare number other than `0` as a growth threshold: write `5%` or `5B`, memprobe does not guess;
//! - a prefix without `B` (`64k`, `2 Mi`): 1000ⁿ or 1024ⁿ would be a guess;
//! - a sign (`-1`), an exponent (`1e3`), digit separators, an unknown unit (`12 KBB`);
//! - a percentage where a size is expected (`max_bytes = "10%"`);
//! - more than `u64::MAX` bytes (`99999999999 GiB` is "too large"), or a fraction of a byte
//!   (`0.1 B`, `1.5`).
//!
//! The macro crate checks attribute strings at compile time with this same grammar (one source
//! file, `size_grammar.rs`, compiled into both crates), so an attribute that compiles never fails
//! to parse at run time.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

#[path = "size_grammar.rs"]
pub(crate) mod grammar;

pub(crate) const SIZE_FORMS: &str = "a byte count with an optional unit, e.g. `0`, `512`, `64 KiB`, `1.5MB`, `2 GiB` (B; KB, MB, GB, TB = 1000^n; KiB, MiB, GiB, TiB = 1024^n; see memprobe::units)";
pub(crate) const GROWTH_FORMS: &str = "a percentage such as `10%` or `2.5%`, or a size with its unit such as `64 KiB`, `1.5MB`, `512B`, `0` (KB, MB, GB = 1000^n; KiB, MiB, GiB = 1024^n; see memprobe::units)";
const DURATION_FORMS: &str =
    "a number with a unit, e.g. `500us`, `100ms`, `30s`, `5m`, `1h` (units: ns, us, ms, s, m, h)";

/// Parses a size string into bytes, by the grammar in the [module docs](self).
///
/// # Errors
///
/// [`Error::InvalidSize`] naming the input, what is wrong with it (negative, too large, a
/// percentage, an ambiguous or unknown unit, a fraction of a byte) and the accepted forms.
///
/// # Examples
///
/// ```
/// use memprobe::units::parse_bytes;
/// assert_eq!(parse_bytes("64 KiB").unwrap(), 65_536);
/// assert_eq!(parse_bytes("1.5MB").unwrap(), 1_500_000);
/// assert_eq!(parse_bytes("0").unwrap(), 0);
/// assert!(parse_bytes("12 KBB").unwrap_err().to_string().contains("unknown unit `KBB`"));
/// assert!(parse_bytes("99999999999 GiB").unwrap_err().to_string().contains("too large"));
/// ```
pub fn parse_bytes(input: &str) -> Result<u64> {
    grammar::size(input).map_err(|problem| Error::InvalidSize {
        kind: "size",
        input: input.to_owned(),
        problem: problem.to_string(),
        expected: SIZE_FORMS,
    })
}

/// A growth threshold: relative (`10%`) or absolute (`64 MiB`).
///
/// # Examples
///
/// ```
/// use memprobe::units::Growth;
/// assert_eq!("10%".parse::<Growth>().unwrap(), Growth::Percent(10.0));
/// assert_eq!("64 MiB".parse::<Growth>().unwrap(), Growth::Bytes(64 << 20));
/// // A bare number could be either: refused, naming both spellings.
/// let err = "5".parse::<Growth>().unwrap_err().to_string();
/// assert!(err.contains("write `5%` (relative) or `5B` (bytes)"), "{err}");
/// // 10% of 1000 bytes is 100 bytes.
/// assert_eq!(Growth::Percent(10.0).allowance(1000), 100.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    /// A share of the reference figure, in percent (`10.0` is 10%).
    Percent(f64),
    /// An absolute number of bytes.
    Bytes(u64),
}

impl Growth {
    /// The growth allowed over `reference` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::units::Growth;
    /// assert_eq!(Growth::Bytes(4096).allowance(1 << 30), 4096.0);
    /// ```
    pub fn allowance(&self, reference: u64) -> f64 {
        match *self {
            Growth::Percent(p) => reference as f64 * p / 100.0,
            Growth::Bytes(b) => b as f64,
        }
    }
}

impl std::str::FromStr for Growth {
    type Err = Error;

    /// Parses a growth threshold by the grammar in the [module docs](self): a percentage, or a
    /// size with its unit; a bare number other than `0` is refused as ambiguous.
    fn from_str(input: &str) -> Result<Self> {
        match grammar::growth(input) {
            Ok(grammar::Threshold::Percent(p)) => Ok(Growth::Percent(p)),
            Ok(grammar::Threshold::Bytes(b)) => Ok(Growth::Bytes(b)),
            Err(problem) => Err(Error::InvalidSize {
                kind: "size or percentage",
                input: input.to_owned(),
                problem: problem.to_string(),
                expected: GROWTH_FORMS,
            }),
        }
    }
}

impl fmt::Display for Growth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Growth::Percent(p) => write!(f, "{p}%"),
            Growth::Bytes(b) => write!(f, "{}", Bytes(b)),
        }
    }
}

/// Parses a duration string such as `100ms`, `30s`, `1.5s`, `5m` or `1h`.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the input and the accepted forms.
///
/// # Examples
///
/// ```
/// use memprobe::units::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("100ms").unwrap(), Duration::from_millis(100));
/// assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
/// assert!(parse_duration("10").is_err());
/// ```
pub fn parse_duration(input: &str) -> Result<Duration> {
    let bad = || Error::InvalidInput {
        kind: "duration",
        input: input.to_owned(),
        expected: DURATION_FORMS,
    };
    let (number, unit) = grammar::split(input.trim()).map_err(|_| bad())?;
    let nanos_per_unit: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    grammar::scale_exact(number, nanos_per_unit)
        .map(Duration::from_nanos)
        .map_err(|_| bad())
}

/// A byte count shown in binary units (`1.2 KiB`, `64.0 MiB`); exact below 1 KiB.
///
/// # Examples
///
/// ```
/// use memprobe::units::Bytes;
/// assert_eq!(Bytes(1000).to_string(), "1000 B");
/// assert_eq!(Bytes(1229).to_string(), "1.2 KiB");
/// assert_eq!(Bytes(64 << 20).to_string(), "64.0 MiB");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Below 1 KiB the f64 is the exact integer, so the figure prints exactly.
        ByteAmount(self.0 as f64).fmt(f)
    }
}

/// The binary units byte figures are shown in, from bytes up.
const BYTE_UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// The index in [`BYTE_UNITS`] of the largest unit not above `magnitude`.
fn byte_unit_for(magnitude: f64) -> usize {
    let mut k = 0;
    let mut v = magnitude.abs();
    while v >= 1024.0 && k < BYTE_UNITS.len() - 1 {
        v /= 1024.0;
        k += 1;
    }
    k
}

/// `v` in unit `k`: whole bytes without decimals (a fraction of a byte below 10 B keeps one),
/// larger units with one decimal; never a negative zero.
fn byte_scaled(v: f64, k: usize) -> String {
    let s = v / 1024f64.powi(k as i32);
    let text = if k == 0 && (s.abs() >= 10.0 || s.fract() == 0.0) {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    };
    match text.as_str() {
        "-0" | "-0.0" => text[1..].to_owned(),
        _ => text,
    }
}

/// A byte figure that may be fractional or negative (a mean, a slope, a residual), in binary
/// units: the same form as [`Bytes`] for whole bytes.
///
/// # Examples
///
/// ```
/// use memprobe::units::ByteAmount;
/// assert_eq!(ByteAmount(7.7 * 1048576.0).to_string(), "7.7 MiB");
/// assert_eq!(ByteAmount(-12.0).to_string(), "-12 B");
/// assert_eq!(ByteAmount(0.5).to_string(), "0.5 B");
/// assert_eq!(ByteAmount(-0.01).to_string(), "0.0 B");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteAmount(pub f64);

impl fmt::Display for ByteAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = byte_unit_for(self.0);
        write!(f, "{} {}", byte_scaled(self.0, k), BYTE_UNITS[k])
    }
}

/// Two byte figures in the unit of the larger: `120.0 to 140.0 KiB`.
///
/// # Examples
///
/// ```
/// use memprobe::units::ByteRange;
/// let r = ByteRange { low: 120.0 * 1024.0, high: 140.0 * 1024.0 };
/// assert_eq!(format!("{r}/s"), "120.0 to 140.0 KiB/s");
/// assert_eq!(ByteRange { low: -40.0, high: 60.0 }.to_string(), "-40 to 60 B");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteRange {
    /// The lower end, in bytes.
    pub low: f64,
    /// The upper end, in bytes.
    pub high: f64,
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = byte_unit_for(self.low.abs().max(self.high.abs()));
        write!(
            f,
            "{} to {} {}",
            byte_scaled(self.low, k),
            byte_scaled(self.high, k),
            BYTE_UNITS[k]
        )
    }
}

/// A figure shown exactly: whole numbers without decimals, others with two (a per-iteration
/// mean). With `unit`, appended after a space: `1000 B`, `12.50 B`.
///
/// # Examples
///
/// ```
/// use memprobe::units::Exact;
/// assert_eq!(Exact(3.0, "").to_string(), "3");
/// assert_eq!(Exact(1000.0, "B").to_string(), "1000 B");
/// assert_eq!(Exact(12.5, "B").to_string(), "12.50 B");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exact(pub f64, pub &'static str);

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Exact(v, unit) = *self;
        if v.fract() == 0.0 {
            write!(f, "{v:.0}")?;
        } else {
            write!(f, "{v:.2}")?;
        }
        if !unit.is_empty() {
            write!(f, " {unit}")?;
        }
        Ok(())
    }
}

/// A duration in seconds shown in the largest fitting unit, with at most one decimal: `250 ms`,
/// `30 s`, `2.5 min`, `2.5 h`.
///
/// # Examples
///
/// ```
/// use memprobe::units::Seconds;
/// assert_eq!(Seconds(30.0).to_string(), "30 s");
/// assert_eq!(Seconds(0.25).to_string(), "250 ms");
/// assert_eq!(Seconds(150.0).to_string(), "2.5 min");
/// assert_eq!(Seconds(9000.0).to_string(), "2.5 h");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub f64);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.abs() < 1.0 && s != 0.0 {
            write!(f, "{} ms", one_decimal(s * 1e3))
        } else if s.abs() < 120.0 {
            write!(f, "{} s", one_decimal(s))
        } else if s.abs() < 7200.0 {
            write!(f, "{} min", one_decimal(s / 60.0))
        } else {
            write!(f, "{} h", one_decimal(s / 3600.0))
        }
    }
}

/// One decimal, without a trailing `.0` or a negative zero.
fn one_decimal(v: f64) -> String {
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A share as a percentage rounded to two decimals: `0.2` gives `20`, `0.0725` gives `7.25`.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::units::percent(0.2), 20.0);
/// assert_eq!(memprobe::units::percent(0.0725), 7.25);
/// ```
pub fn percent(share: f64) -> f64 {
    (share * 1e4).round() / 100.0
}

/// A signed byte count in binary units with an explicit sign (`+1.2 KiB`, `-6.6 KiB`, `0 B`).
///
/// # Examples
///
/// ```
/// use memprobe::units::SignedBytes;
/// assert_eq!(SignedBytes(-6720).to_string(), "-6.6 KiB");
/// assert_eq!(SignedBytes(100).to_string(), "+100 B");
/// assert_eq!(SignedBytes(0).to_string(), "0 B");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedBytes(pub i64);

impl fmt::Display for SignedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("0 B"),
            n if n < 0 => write!(f, "-{}", Bytes(n.unsigned_abs())),
            n => write!(f, "+{}", Bytes(n.unsigned_abs())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_exactly() {
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert_eq!(parse_bytes("512B").unwrap(), 512);
        assert_eq!(parse_bytes("64 kib").unwrap(), 65_536);
        assert_eq!(parse_bytes("1.5 MiB").unwrap(), 1_572_864);
        assert_eq!(parse_bytes("2GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_bytes(" 1 TiB ").unwrap(), 1 << 40);
    }

    #[test]
    fn bad_sizes_name_the_input_and_the_forms() {
        for bad in [
            "",
            "KiB",
            "-1",
            "1.5",
            "1..5 KiB",
            "12 KBB",
            "1e3",
            "10%",
            "0.1 B",
            "99999999999 TiB",
        ] {
            let err = parse_bytes(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
            assert!(err.contains("64 KiB"), "{err}");
        }
    }

    /// The rules in the module docs, one assertion each, with the words the error uses.
    #[test]
    fn one_grammar_with_errors_that_name_the_rule() {
        let size_err = |s: &str| parse_bytes(s).unwrap_err().to_string();
        let growth_err = |s: &str| s.parse::<Growth>().unwrap_err().to_string();
        assert!(size_err("-1").contains("negative"), "{}", size_err("-1"));
        assert!(size_err("99999999999 GiB").contains("too large"));
        assert!(size_err("18446744073709551616").contains("too large"));
        assert_eq!(parse_bytes("18446744073709551615").unwrap(), u64::MAX);
        let e = size_err("10%");
        assert!(
            e.contains("percentage is only accepted by growth limits"),
            "{e}"
        );
        let e = size_err("64k");
        assert!(
            e.contains("`k` is ambiguous: write `KiB` (1024^n) or `KB` (1000^n)"),
            "{e}"
        );
        assert!(size_err("2 Mi").contains("ambiguous"));
        assert!(size_err("12 KBB").contains("unknown unit `KBB`"));
        assert!(size_err("1e3").contains("unknown unit `e3`"));
        assert!(size_err("0.1 B").contains("not a whole number of bytes"));
        assert!(size_err("").contains("empty"));
        assert!(size_err("KiB").contains("no number"));
        // Case and spacing: every spelling of one size means the same.
        for same in [
            "64KiB", "64 KiB", "64 kib", "64KIB", " 64 KiB ", "64\tKiB", "65536", "65536B",
        ] {
            assert_eq!(parse_bytes(same).unwrap(), 65_536, "{same:?}");
        }
        assert_eq!(parse_bytes("64 kb").unwrap(), parse_bytes("64KB").unwrap());
        // Growth: a percentage, a size with a unit, or 0; never a bare number.
        for bare in ["5", "10", "1.5"] {
            let e = growth_err(bare);
            assert!(
                e.contains(&format!("write `{bare}%` (relative) or `{bare}B` (bytes)")),
                "{e}"
            );
        }
        assert_eq!("0".parse::<Growth>().unwrap(), Growth::Bytes(0));
        assert_eq!("5B".parse::<Growth>().unwrap(), Growth::Bytes(5));
        assert_eq!("500%".parse::<Growth>().unwrap(), Growth::Percent(500.0));
        assert!(growth_err("-5%").contains("negative"));
        assert!(growth_err("64k").contains("ambiguous"));
        assert!(growth_err("99999999999 GiB").contains("too large"));
    }

    #[test]
    fn growth_parses_percent_or_size() {
        assert_eq!("2.5 %".parse::<Growth>().unwrap(), Growth::Percent(2.5));
        assert_eq!("0".parse::<Growth>().unwrap(), Growth::Bytes(0));
        let err = "ten%".parse::<Growth>().unwrap_err().to_string();
        assert!(err.contains("\"ten%\"") && err.contains("10%"), "{err}");
        assert!("-5%".parse::<Growth>().is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1ms").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert!(parse_duration("fast").is_err());
        assert!(
            parse_duration("1 fortnight")
                .unwrap_err()
                .to_string()
                .contains("100ms")
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(Bytes(0).to_string(), "0 B");
        assert_eq!(Bytes(1023).to_string(), "1023 B");
        assert_eq!(Bytes(1024).to_string(), "1.0 KiB");
        assert_eq!(Bytes(u64::MAX).to_string(), "16.0 EiB");
        assert_eq!(SignedBytes(i64::MIN).to_string(), "-8.0 EiB");
    }
}
