//! The answer: a [`Verdict`] with its [`Evidence`] and one sentence a person reads (written in
//! `sentence`), plus the exit codes the daemon maps it to.

use super::evidence::Evidence;
use super::outcome::VerdictKind;
use super::sentence::summarize;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The verdict on a run: what it shows, the figures behind it, and one sentence saying both.
///
/// Serializes to JSON for the daemon's summary. [`exit_code`](Self::exit_code) maps it to the
/// daemon's exit codes.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig, VerdictKind};
/// // RSS grows 128 KiB/s for 60 s on a 64 MiB base.
/// let rss = Series::from_samples(
///     SeriesKind::Rss,
///     (0..600).map(|i| Sample::new(i as f64 / 10.0, 64e6 + 131_072.0 * i as f64 / 10.0)),
/// );
/// let config = TrendConfig::new().warmup("10s".parse()?);
/// let verdict = analyze(&config, &[rss])?;
/// assert_eq!(verdict.kind, VerdictKind::Growth);
/// assert_eq!(verdict.exit_code(), 1);
/// assert!(verdict.summary.starts_with("RSS grows 128.0 KiB/s"), "{}", verdict.summary);
/// let json = serde_json::to_string(&verdict).unwrap();
/// assert!(json.contains(r#""verdict":"growth""#));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Verdict {
    /// What the run shows.
    pub kind: VerdictKind,
    /// The figures of the series judged.
    pub evidence: Evidence,
    /// For [`VerdictKind::Fragmentation`], the figures of the resident series that grew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragmentation: Option<Evidence>,
    /// Whether fragmentation exits 0 ([`TrendConfig::allow_fragmentation`](super::TrendConfig)).
    pub fragmentation_allowed: bool,
    /// One sentence for people: the verdict, the slope, the growth over the run, the threshold.
    pub summary: String,
}

impl Verdict {
    /// Exit code for a pass (fragmentation too, when allowed).
    pub const EXIT_PASS: u8 = 0;
    /// Exit code for growth (fragmentation too, unless allowed).
    pub const EXIT_GROWTH: u8 = 1;
    /// Exit code for a run that cannot be judged.
    pub const EXIT_INCONCLUSIVE: u8 = 3;

    /// The daemon's exit code: 0 pass, 1 growth, 3 inconclusive; fragmentation is 1 unless
    /// allowed, then 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
    /// let few = Series::from_samples(SeriesKind::Rss, (0..5).map(|i| Sample::new(i as f64, 1e6)));
    /// assert_eq!(analyze(&TrendConfig::new(), &[few])?.exit_code(), 3);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            VerdictKind::Pass => Self::EXIT_PASS,
            VerdictKind::Fragmentation if self.fragmentation_allowed => Self::EXIT_PASS,
            VerdictKind::Growth | VerdictKind::Fragmentation => Self::EXIT_GROWTH,
            VerdictKind::Inconclusive { .. } => Self::EXIT_INCONCLUSIVE,
        }
    }

    /// Whether the run passes: [`exit_code`](Self::exit_code) is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
    /// let flat = Series::from_samples(SeriesKind::Rss, (0..50).map(|i| Sample::new(i as f64, 1e6)));
    /// assert!(analyze(&TrendConfig::new(), &[flat])?.passed());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn passed(&self) -> bool {
        self.exit_code() == Self::EXIT_PASS
    }

    /// Panics with the summary unless the run passes.
    ///
    /// # Panics
    ///
    /// When [`passed`](Self::passed) is false, with `memprobe: ` and the summary as the message.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
    /// let leak = Series::from_samples(SeriesKind::Rss, (0..50).map(|i| Sample::new(i as f64, 1e6 + 1e5 * i as f64)));
    /// analyze(&TrendConfig::new(), &[leak])?.assert_pass(); // panics: "memprobe: RSS grows ..."
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    #[track_caller]
    pub fn assert_pass(&self) {
        if !self.passed() {
            panic!("memprobe: {}", self.summary);
        }
    }

    /// Adds a remark to the evidence and to the sentence.
    pub(crate) fn add_note(&mut self, note: &str) {
        self.evidence.notes.push(note.to_owned());
        self.summary = summarize(&self.kind, &self.evidence, self.fragmentation.as_ref());
    }

    /// Builds the verdict and writes its sentence.
    pub(crate) fn new(
        kind: VerdictKind,
        evidence: Evidence,
        fragmentation: Option<Evidence>,
        fragmentation_allowed: bool,
    ) -> Self {
        let summary = summarize(&kind, &evidence, fragmentation.as_ref());
        Verdict {
            kind,
            evidence,
            fragmentation,
            fragmentation_allowed,
            summary,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}
