//! Human units in and out: size strings (`64 KiB`, `1.5MB`, `0`), growth thresholds (`10%` or a
//! size), durations (`100ms`, `30s`, `1h`), and binary-unit formatting of byte counts.
//!
//! Units are exact and never guessed: `KB`/`MB`/`GB`/`TB` are decimal (1000ⁿ), `KiB`/`MiB`/`GiB`/`TiB`
//! are binary (1024ⁿ), both case-insensitive; `B` or no unit means bytes. A fractional figure is
//! allowed (`1.5MB`) and must come out as a whole number of bytes once scaled.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

const SIZE_FORMS: &str = "a byte count with an optional unit, e.g. `0`, `512`, `64 KiB`, `1.5MB`, `2 GiB` (B; KB, MB, GB, TB = 1000^n; KiB, MiB, GiB, TiB = 1024^n)";
const GROWTH_FORMS: &str = "a percentage such as `10%` or `2.5%`, or a size such as `64 KiB`, `1.5MB`, `0` (KB, MB, GB = 1000^n; KiB, MiB, GiB = 1024^n)";
const DURATION_FORMS: &str =
    "a number with a unit, e.g. `500us`, `100ms`, `30s`, `5m`, `1h` (units: ns, us, ms, s, m, h)";

/// Parses a size string into bytes.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the input and the accepted forms when the string is not a
/// non-negative number with a known unit, or scales to a fraction of a byte or more than `u64::MAX`.
///
/// # Examples
///
/// ```
/// use memprobe::units::parse_bytes;
/// assert_eq!(parse_bytes("64 KiB").unwrap(), 65_536);
/// assert_eq!(parse_bytes("1.5MB").unwrap(), 1_500_000);
/// assert_eq!(parse_bytes("0").unwrap(), 0);
/// assert!(parse_bytes("12 KBB").is_err());
/// ```
pub fn parse_bytes(input: &str) -> Result<u64> {
    parse_bytes_as(input, "size", SIZE_FORMS)
}

fn parse_bytes_as(input: &str, kind: &'static str, expected: &'static str) -> Result<u64> {
    let bad = || Error::InvalidInput {
        kind,
        input: input.to_owned(),
        expected,
    };
    let (number, unit) = split_number(input.trim()).ok_or_else(bad)?;
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    scale_exact(number, multiplier).ok_or_else(bad)
}

/// Splits `"1.5 MiB"` into `("1.5", "MiB")`; `None` when there is no number or a sign.
fn split_number(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, rest) = s.split_at(end);
    if number.is_empty() || number == "." {
        return None;
    }
    Some((number, rest.trim_start()))
}

/// `number × multiplier` computed exactly from the decimal digits, `None` on a fractional byte or
/// overflow.
fn scale_exact(number: &str, multiplier: u64) -> Option<u64> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(u128::from(multiplier))?;
    if !frac.is_empty() {
        if frac.len() > 18 {
            return None;
        }
        let denominator = 10u128.pow(frac.len() as u32);
        let scaled = frac
            .parse::<u128>()
            .ok()?
            .checked_mul(u128::from(multiplier))?;
        if scaled % denominator != 0 {
            return None;
        }
        value = value.checked_add(scaled / denominator)?;
    }
    u64::try_from(value).ok()
}

/// A growth threshold: relative (`10%`) or absolute (`64 MiB`).
///
/// # Examples
///
/// ```
/// use memprobe::units::Growth;
/// assert_eq!("10%".parse::<Growth>().unwrap(), Growth::Percent(10.0));
/// assert_eq!("64 MiB".parse::<Growth>().unwrap(), Growth::Bytes(64 << 20));
/// // 10% of 1000 bytes is 100 bytes.
/// assert_eq!(Growth::Percent(10.0).allowance(1000), 100.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

    fn from_str(input: &str) -> Result<Self> {
        let trimmed = input.trim();
        if let Some(number) = trimmed.strip_suffix('%') {
            let number = number.trim_end();
            let valid = !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit() || c == '.')
                && number.matches('.').count() <= 1;
            return match number.parse::<f64>() {
                Ok(p) if valid && p.is_finite() => Ok(Growth::Percent(p)),
                _ => Err(Error::InvalidInput {
                    kind: "size or percentage",
                    input: input.to_owned(),
                    expected: GROWTH_FORMS,
                }),
            };
        }
        parse_bytes_as(input, "size or percentage", GROWTH_FORMS).map(Growth::Bytes)
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
    let (number, unit) = split_number(input.trim()).ok_or_else(bad)?;
    let nanos_per_unit: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    scale_exact(number, nanos_per_unit)
        .map(Duration::from_nanos)
        .ok_or_else(bad)
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
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
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

const BINARY_UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// The binary unit (index into `B, KiB, MiB, …`) that shows `magnitude` below 1024.
fn binary_unit(magnitude: f64) -> usize {
    let mut k = 0;
    let mut v = magnitude.abs();
    while v >= 1024.0 && k < BINARY_UNITS.len() - 1 {
        v /= 1024.0;
        k += 1;
    }
    k
}

/// `v` in unit `k` with one decimal (none for whole bytes or ten bytes and more), never `-0`.
fn in_unit(v: f64, k: usize) -> String {
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

/// A measured or estimated byte figure that may be negative or fractional (a slope, a projected
/// growth), in binary units with one decimal: `7.7 MiB`, `-12 B`, `0.5 B`.
///
/// # Examples
///
/// ```
/// use memprobe::units::ByteFigure;
/// assert_eq!(ByteFigure(7.7 * 1048576.0).to_string(), "7.7 MiB");
/// assert_eq!(ByteFigure(-12.0).to_string(), "-12 B");
/// assert_eq!(ByteFigure(0.5).to_string(), "0.5 B");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteFigure(pub f64);

impl fmt::Display for ByteFigure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = binary_unit(self.0);
        write!(f, "{} {}", in_unit(self.0, k), BINARY_UNITS[k])
    }
}

/// Two byte figures in the unit of the larger, as an interval: `120.0 to 140.0 KiB`.
///
/// # Examples
///
/// ```
/// use memprobe::units::ByteRange;
/// assert_eq!(ByteRange(120.0 * 1024.0, 140.0 * 1024.0).to_string(), "120.0 to 140.0 KiB");
/// assert_eq!(ByteRange(-40.0, 60.0).to_string(), "-40 to 60 B");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteRange(pub f64, pub f64);

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = binary_unit(self.0.abs().max(self.1.abs()));
        write!(
            f,
            "{} to {} {}",
            in_unit(self.0, k),
            in_unit(self.1, k),
            BINARY_UNITS[k]
        )
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
