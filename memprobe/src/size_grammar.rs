//! The size and growth-threshold grammar, the one copy of it: `memprobe::units` parses with it at
//! run time, and `memprobe-macros` includes this very file (`#[path]`) to reject bad attribute
//! strings at compile time, spanned on the literal. It therefore depends on nothing but `std`,
//! and says what is wrong in a [`Problem`] each crate words in its own error type.
//!
//! The rules (documented for users in `memprobe::units`):
//!
//! ```text
//!   size    = number [space] unit?          bare number = bytes
//!   growth  = number [space] "%"  |  size   a bare number other than 0 is refused: 5% or 5B?
//!   number  = digits ["." digits]           no sign, no exponent, no digit separators
//!   unit    = B | KB MB GB TB (1000^n) | KiB MiB GiB TiB (1024^n), any letter case
//! ```
//!
//! Whitespace around the figure and between number and unit is ignored. `k`, `M`, `Gi`, ... alone
//! are refused as ambiguous rather than guessed. A size must come out as a whole number of bytes
//! no larger than `u64::MAX`.

use std::fmt;

/// A growth threshold as parsed: relative or absolute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Threshold {
    /// Percent of a reference figure.
    Percent(f64),
    /// Bytes.
    Bytes(u64),
}

/// What is wrong with a size or threshold string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Nothing but whitespace.
    Empty,
    /// A leading `-`.
    Negative,
    /// No digits where the number should be (`KiB`, `ten%`).
    NoNumber,
    /// Digits that are not one decimal number (`1..5`, too many decimals).
    BadNumber,
    /// A unit memprobe does not know (`KBB`, `e3`).
    UnknownUnit(String),
    /// A prefix without its `B` (`k`, `Mi`): 1000ⁿ or 1024ⁿ would be a guess.
    AmbiguousUnit(String),
    /// A percentage where only a size is accepted.
    PercentForSize,
    /// A bare number where a growth threshold needs `%` or a unit.
    BareGrowth(String),
    /// A bare number where a growth over a baseline (always a percentage) is expected.
    BareBaselineGrowth(String),
    /// More than `u64::MAX` bytes.
    TooLarge,
    /// A fraction of a byte once scaled (`1.5`, `0.1 B`).
    FractionalBytes,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("it is empty"),
            Problem::Negative => f.write_str("it is negative; limits and thresholds are never below 0"),
            Problem::NoNumber => f.write_str("there is no number"),
            Problem::BadNumber => f.write_str("the number is not a plain decimal such as `64` or `1.5`"),
            Problem::UnknownUnit(u) => write!(f, "unknown unit `{u}`"),
            Problem::AmbiguousUnit(u) => {
                let p = u.chars().next().unwrap_or('k').to_ascii_uppercase();
                write!(
                    f,
                    "the unit `{u}` is ambiguous: write `{p}iB` (1024^n) or `{p}B` (1000^n)"
                )
            }
            Problem::PercentForSize => f.write_str(
                "a percentage is only accepted by growth limits (`max_rss_growth`, `fail_if_growth`, `--fail-if-growth`); this one takes a size",
            ),
            Problem::BareGrowth(n) => write!(
                f,
                "a bare number is ambiguous for a growth threshold: write `{n}%` (relative) or `{n}B` (bytes)"
            ),
            Problem::BareBaselineGrowth(n) => write!(
                f,
                "a bare number is ambiguous; growth over a baseline is relative to each figure: write `{n}%`"
            ),
            Problem::TooLarge => f.write_str("it is too large: at most 18446744073709551615 bytes (16 EiB)"),
            Problem::FractionalBytes => f.write_str("it is not a whole number of bytes"),
        }
    }
}

/// Parses a size: bytes.
pub(crate) fn size(input: &str) -> Result<u64, Problem> {
    let s = input.trim();
    if s.ends_with('%') {
        // Tell "10%" apart from a broken size before saying percentages are not sizes.
        return match percent(s) {
            Ok(_) => Err(Problem::PercentForSize),
            Err(e) => Err(e),
        };
    }
    let (number, unit) = split(s)?;
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
        "k" | "m" | "g" | "t" | "ki" | "mi" | "gi" | "ti" => {
            return Err(Problem::AmbiguousUnit(unit.to_owned()));
        }
        _ => return Err(Problem::UnknownUnit(unit.to_owned())),
    };
    scale_exact(number, multiplier)
}

/// Parses a percentage (`10%`, `2.5 %`): the number before `%`.
pub(crate) fn percent(input: &str) -> Result<f64, Problem> {
    let s = input.trim();
    let Some(number) = s.strip_suffix('%') else {
        return Err(Problem::UnknownUnit(String::new()));
    };
    let number = number.trim_end();
    if number.is_empty() {
        return Err(Problem::NoNumber);
    }
    let (number, rest) = split(number)?;
    if !rest.is_empty() {
        return Err(Problem::UnknownUnit(format!("{rest}%")));
    }
    // `split` guarantees digits and at most one dot, so this parse cannot fail; the check is
    // for the error type only.
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() => Ok(p),
        _ => Err(Problem::TooLarge),
    }
}

/// Parses a growth threshold: a percentage, or a size with a unit (or `0`).
pub(crate) fn growth(input: &str) -> Result<Threshold, Problem> {
    let s = input.trim();
    if s.ends_with('%') {
        return percent(s).map(Threshold::Percent);
    }
    let (number, unit) = split(s)?;
    if unit.is_empty() && number.chars().any(|c| c != '0' && c != '.') {
        return Err(Problem::BareGrowth(number.to_owned()));
    }
    size(s).map(Threshold::Bytes)
}

/// Parses a growth over a baseline: a percentage only (each figure's own baseline is the
/// reference). A size is refused as `None`, for the caller to word.
pub(crate) fn baseline_growth(input: &str) -> Result<Option<f64>, Problem> {
    match growth(input) {
        Ok(Threshold::Percent(p)) => Ok(Some(p)),
        Ok(Threshold::Bytes(_)) => Ok(None),
        Err(Problem::BareGrowth(n)) => Err(Problem::BareBaselineGrowth(n)),
        Err(e) => Err(e),
    }
}

/// Splits `"1.5 MiB"` into `("1.5", "MiB")`, checking the number's shape.
pub(crate) fn split(s: &str) -> Result<(&str, &str), Problem> {
    if s.is_empty() {
        return Err(Problem::Empty);
    }
    if s.starts_with('-') {
        return Err(Problem::Negative);
    }
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, rest) = s.split_at(end);
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(if number.is_empty() {
            Problem::NoNumber
        } else {
            Problem::BadNumber
        });
    }
    if number.matches('.').count() > 1 {
        return Err(Problem::BadNumber);
    }
    Ok((number, rest.trim_start()))
}

/// `number × multiplier` computed exactly from the decimal digits.
pub(crate) fn scale_exact(number: &str, multiplier: u64) -> Result<u64, Problem> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let frac = frac.trim_end_matches('0');
    // Leading zeros never overflow; strip them so a long run of them is not "too large".
    let whole = whole.trim_start_matches('0');
    if whole.len() > 30 {
        return Err(Problem::TooLarge);
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| Problem::BadNumber)?
    };
    let mut value = whole
        .checked_mul(u128::from(multiplier))
        .ok_or(Problem::TooLarge)?;
    if !frac.is_empty() {
        if frac.len() > 18 {
            return Err(Problem::FractionalBytes);
        }
        let denominator = 10u128.pow(frac.len() as u32);
        let scaled = frac.parse::<u128>().map_err(|_| Problem::BadNumber)? * u128::from(multiplier);
        if scaled % denominator != 0 {
            return Err(Problem::FractionalBytes);
        }
        value += scaled / denominator;
    }
    u64::try_from(value).map_err(|_| Problem::TooLarge)
}
