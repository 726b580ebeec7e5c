//! The vocabulary shared by the configuration, the judge and the sentences: the warm-up. It sits
//! below every other trend module, so none of them imports another for a word (durations, shares
//! and byte figures are written by [`crate::units`]).

use crate::error::{Error, Result};
use crate::units::{Seconds as Secs, parse_duration, percent};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

const WARMUP_FORMS: &str = "a duration (`30s`, `500ms`, `2m`), a share of the run (`20%`), a number of iterations (`100it`), or `none`";

/// The start of a run that is not judged: caches filling, pools growing, JIT warming.
///
/// Parses from `none` (or `0`), a share of the run's x-axis span (`20%`; below 100%), a number of
/// iterations (`100it`, `100 iterations`), or a duration (`30s`, `1.5m`, `500ms`). Durations and
/// iterations count from the series' first sample, not from zero.
///
/// # Examples
///
/// ```
/// use memprobe::trend::Warmup;
/// use std::time::Duration;
/// assert_eq!("30s".parse::<Warmup>().unwrap(), Warmup::Duration(Duration::from_secs(30)));
/// assert_eq!("20%".parse::<Warmup>().unwrap(), Warmup::Share(0.2));
/// assert_eq!("100it".parse::<Warmup>().unwrap(), Warmup::Iterations(100));
/// assert_eq!("none".parse::<Warmup>().unwrap(), Warmup::None);
/// assert!("100%".parse::<Warmup>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warmup {
    /// Judge every sample.
    None,
    /// Drop the samples taken within this time of the first one.
    Duration(Duration),
    /// Drop this share (0 to below 1) of the run's x-axis span, from its start.
    Share(f64),
    /// Drop the samples taken within this many iterations of the first one (needs iteration marks).
    Iterations(u64),
}

impl Default for Warmup {
    /// A fifth of the run.
    fn default() -> Self {
        Warmup::Share(0.2)
    }
}

impl std::str::FromStr for Warmup {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let bad = || Error::InvalidInput {
            kind: "warm-up",
            input: input.to_owned(),
            expected: WARMUP_FORMS,
        };
        let s = input.trim();
        if s.eq_ignore_ascii_case("none") || s == "0" {
            return Ok(Warmup::None);
        }
        if let Some(number) = s.strip_suffix('%') {
            let number = number.trim_end();
            let plain =
                !number.is_empty() && number.chars().all(|c| c.is_ascii_digit() || c == '.');
            return match number.parse::<f64>() {
                Ok(p) if plain && (0.0..100.0).contains(&p) => Ok(Warmup::Share(p / 100.0)),
                _ => Err(bad()),
            };
        }
        for suffix in ["iterations", "iteration", "iters", "iter", "it"] {
            if let Some(number) = s.strip_suffix(suffix) {
                return number
                    .trim_end()
                    .parse::<u64>()
                    .map(Warmup::Iterations)
                    .map_err(|_| bad());
            }
        }
        parse_duration(s).map(Warmup::Duration).map_err(|_| bad())
    }
}

impl fmt::Display for Warmup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Warmup::None => f.write_str("none"),
            Warmup::Duration(d) => write!(f, "{}", Secs(d.as_secs_f64())),
            Warmup::Share(s) => write!(f, "{}%", percent(s)),
            Warmup::Iterations(n) => write!(f, "{n} iterations"),
        }
    }
}
