//! The input of the verdict engine: named memory series of timestamped samples, and the rule that
//! picks which one to judge.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One reading of one memory figure.
///
/// `t_secs` is monotonic time in seconds from any origin (the daemon uses the start of the watch);
/// `iteration` is the number of iterations the program had completed when the sample was taken,
/// if it marks them.
///
/// # Examples
///
/// ```
/// use memprobe::trend::Sample;
/// let s = Sample::new(1.5, 4096.0).with_iteration(30);
/// assert_eq!((s.t_secs, s.iteration, s.bytes), (1.5, Some(30), 4096.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Sample {
    /// Monotonic time of the reading, in seconds.
    pub t_secs: f64,
    /// Iterations completed at the reading, when the program marks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u64>,
    /// The figure, in bytes (the mean, for a sample standing for several).
    pub bytes: f64,
    /// The smallest reading, for a sample standing for several consecutive readings (see
    /// [`BoundedSeries`](super::BoundedSeries)): a sawtooth's troughs survive decimation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bytes: Option<f64>,
    /// The largest reading, for a sample standing for several consecutive readings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<f64>,
}

impl Sample {
    /// A sample at `t_secs` seconds holding `bytes`, without an iteration mark.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::Sample::new(0.25, 1e6);
    /// assert_eq!(s.iteration, None);
    /// ```
    pub fn new(t_secs: f64, bytes: f64) -> Self {
        Sample {
            t_secs,
            iteration: None,
            bytes,
            min_bytes: None,
            max_bytes: None,
        }
    }

    /// The same sample marked with the number of iterations completed.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::Sample::new(0.25, 1e6).with_iteration(7);
    /// assert_eq!(s.iteration, Some(7));
    /// ```
    pub fn with_iteration(mut self, iteration: u64) -> Self {
        self.iteration = Some(iteration);
        self
    }

    /// The same sample standing for several readings whose smallest and largest were `min` and
    /// `max` (`bytes` being their mean).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::Sample::new(0.25, 1e6).with_range(0.5e6, 2e6);
    /// assert_eq!((s.min_bytes, s.max_bytes), (Some(0.5e6), Some(2e6)));
    /// ```
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        self.min_bytes = Some(min);
        self.max_bytes = Some(max);
        self
    }
}

/// Which memory figure a series holds.
///
/// Allocator-level figures ([`JemallocAllocated`](Self::JemallocAllocated),
/// [`AllocatorLive`](Self::AllocatorLive)) count what the program holds; the others also count
/// what the allocator keeps around, so they can grow from fragmentation alone. Virtual size is
/// deliberately absent: reserving address space costs nothing and says nothing about leaks.
///
/// # Examples
///
/// ```
/// use memprobe::trend::SeriesKind;
/// assert_eq!(SeriesKind::Rss.to_string(), "RSS");
/// assert!(SeriesKind::JemallocAllocated.is_allocator_level());
/// assert!(!SeriesKind::RssAnonPlusSwap.is_allocator_level());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SeriesKind {
    /// jemalloc `stats.allocated`: bytes in live allocations (size classes included).
    JemallocAllocated,
    /// jemalloc `stats.active`: bytes in pages holding live allocations.
    JemallocActive,
    /// jemalloc `stats.resident`: bytes of allocator pages resident in RAM.
    JemallocResident,
    /// memprobe's counting allocator: bytes requested and not yet freed.
    AllocatorLive,
    /// Linux `RssAnon + VmSwap`: anonymous memory, resident or swapped out.
    RssAnonPlusSwap,
    /// Resident set size, file-backed pages included.
    Rss,
}

impl SeriesKind {
    /// Every kind, in the order [`SeriesChoice::Auto`] prefers them.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::SeriesKind;
    /// assert_eq!(SeriesKind::AUTO_ORDER[0], SeriesKind::JemallocAllocated);
    /// ```
    pub const AUTO_ORDER: [SeriesKind; 6] = [
        SeriesKind::JemallocAllocated,
        SeriesKind::AllocatorLive,
        SeriesKind::RssAnonPlusSwap,
        SeriesKind::Rss,
        SeriesKind::JemallocResident,
        SeriesKind::JemallocActive,
    ];

    /// Whether the figure counts only what the program holds (no allocator slack or retention).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::trend::SeriesKind::AllocatorLive.is_allocator_level());
    /// ```
    pub fn is_allocator_level(self) -> bool {
        matches!(
            self,
            SeriesKind::JemallocAllocated | SeriesKind::AllocatorLive
        )
    }

    /// The name used on the command line and in JSON (`jemalloc_allocated`, `rss`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::trend::SeriesKind::RssAnonPlusSwap.key(), "rss_anon_plus_swap");
    /// ```
    pub fn key(self) -> &'static str {
        match self {
            SeriesKind::JemallocAllocated => "jemalloc_allocated",
            SeriesKind::JemallocActive => "jemalloc_active",
            SeriesKind::JemallocResident => "jemalloc_resident",
            SeriesKind::AllocatorLive => "allocator_live",
            SeriesKind::RssAnonPlusSwap => "rss_anon_plus_swap",
            SeriesKind::Rss => "rss",
        }
    }
}

impl fmt::Display for SeriesKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SeriesKind::JemallocAllocated => "jemalloc allocated",
            SeriesKind::JemallocActive => "jemalloc active",
            SeriesKind::JemallocResident => "jemalloc resident",
            SeriesKind::AllocatorLive => "the live heap",
            SeriesKind::RssAnonPlusSwap => "RssAnon+swap",
            SeriesKind::Rss => "RSS",
        })
    }
}

/// One memory figure of one run over time.
///
/// Samples may come in any order; the analysis sorts them. Several series of the same run are
/// passed side by side to [`analyze`](super::analyze), which picks one to judge and uses the
/// others to tell fragmentation from a leak.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{Sample, Series, SeriesKind};
/// let mut rss = Series::new(SeriesKind::Rss);
/// rss.push(Sample::new(0.0, 10e6));
/// rss.push(Sample::new(1.0, 10e6));
/// assert_eq!(rss.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Series {
    /// The figure held.
    pub kind: SeriesKind,
    /// The readings.
    pub samples: Vec<Sample>,
}

impl Series {
    /// An empty series of `kind`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::Series::new(memprobe::trend::SeriesKind::Rss);
    /// assert!(s.is_empty());
    /// ```
    pub fn new(kind: SeriesKind) -> Self {
        Series {
            kind,
            samples: Vec::new(),
        }
    }

    /// A series of `kind` holding `samples`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{Sample, Series, SeriesKind};
    /// let s = Series::from_samples(SeriesKind::Rss, (0..10).map(|i| Sample::new(i as f64, 1e6)));
    /// assert_eq!(s.len(), 10);
    /// ```
    pub fn from_samples(kind: SeriesKind, samples: impl IntoIterator<Item = Sample>) -> Self {
        Series {
            kind,
            samples: samples.into_iter().collect(),
        }
    }

    /// Appends one reading.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{Sample, Series, SeriesKind};
    /// let mut s = Series::new(SeriesKind::JemallocAllocated);
    /// s.push(Sample::new(0.0, 1.0).with_iteration(0));
    /// assert_eq!(s.samples[0].iteration, Some(0));
    /// ```
    pub fn push(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    /// The number of readings.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::trend::Series::new(memprobe::trend::SeriesKind::Rss).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the series holds no reading.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::trend::Series::new(memprobe::trend::SeriesKind::Rss).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Which series [`analyze`](super::analyze) judges.
///
/// Parses from `auto` or a [`SeriesKind::key`] (`jemalloc_allocated`, `allocator_live`, `rss`,
/// ...; `-` may stand for `_`).
///
/// # Examples
///
/// ```
/// use memprobe::trend::{SeriesChoice, SeriesKind};
/// assert_eq!("auto".parse::<SeriesChoice>().unwrap(), SeriesChoice::Auto);
/// assert_eq!("rss-anon-plus-swap".parse::<SeriesChoice>().unwrap(),
///            SeriesChoice::Kind(SeriesKind::RssAnonPlusSwap));
/// assert!("vsz".parse::<SeriesChoice>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeriesChoice {
    /// The first present, non-empty series in [`SeriesKind::AUTO_ORDER`]: jemalloc allocated,
    /// else the counting allocator's live bytes, else RssAnon + swap, else RSS.
    #[default]
    Auto,
    /// Exactly this series.
    Kind(SeriesKind),
}

impl SeriesChoice {
    /// The series this choice picks among `series`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{Sample, Series, SeriesChoice, SeriesKind};
    /// let rss = Series::from_samples(SeriesKind::Rss, [Sample::new(0.0, 1.0)]);
    /// let anon = Series::from_samples(SeriesKind::RssAnonPlusSwap, [Sample::new(0.0, 1.0)]);
    /// let all = [rss, anon];
    /// assert_eq!(SeriesChoice::Auto.pick(&all).unwrap().kind, SeriesKind::RssAnonPlusSwap);
    /// ```
    pub fn pick(self, series: &[Series]) -> Option<&Series> {
        match self {
            SeriesChoice::Kind(kind) => series.iter().find(|s| s.kind == kind),
            SeriesChoice::Auto => SeriesKind::AUTO_ORDER
                .iter()
                .find_map(|&kind| series.iter().find(|s| s.kind == kind && !s.is_empty())),
        }
    }
}

const SERIES_FORMS: &str = "`auto` or one of `jemalloc_allocated`, `jemalloc_active`, `jemalloc_resident`, `allocator_live`, `rss_anon_plus_swap`, `rss`";

impl std::str::FromStr for SeriesChoice {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let key = input.trim().to_ascii_lowercase().replace('-', "_");
        if key == "auto" {
            return Ok(SeriesChoice::Auto);
        }
        SeriesKind::AUTO_ORDER
            .iter()
            .find(|k| k.key() == key)
            .map(|&k| SeriesChoice::Kind(k))
            .ok_or(Error::InvalidInput {
                kind: "series",
                input: input.to_owned(),
                expected: SERIES_FORMS,
            })
    }
}

impl fmt::Display for SeriesChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesChoice::Auto => f.write_str("auto"),
            SeriesChoice::Kind(kind) => f.write_str(kind.key()),
        }
    }
}
