//! Leak, plateau or fragmentation: a verdict on a memory time series that CI can trust.
//!
//! Pure analysis, no I/O: the daemon (`watch` and `verdict FILE.jsonl`), the run-compare tool and
//! in-process soak tests ([`Soak`]) all call [`analyze`] on [`Series`] of [`Sample`]s and get a
//! [`Verdict`]: [`Pass`](VerdictKind::Pass), [`Growth`](VerdictKind::Growth),
//! [`Fragmentation`](VerdictKind::Fragmentation) or [`Inconclusive`](VerdictKind::Inconclusive)
//! with the reason, the [`Evidence`], and one sentence such as
//! "RSS grows 131.0 KiB/s (95% CI 120.0 to 140.0 KiB/s) after a 30 s warm-up: 7.7 MiB over the
//! run, above the 5% threshold (2.1 MiB)".
//!
//! ```
//! use memprobe::trend::{analyze, Sample, Series, SeriesKind, TrendConfig};
//! let mut rss = Series::new(SeriesKind::Rss);
//! for i in 0..600 {
//!     let t = i as f64 * 0.5;
//!     rss.push(Sample::new(t, 100e6 + 4096.0 * t)); // 4 KiB/s for 5 minutes
//! }
//! let config = TrendConfig::new().warmup("30s".parse()?).fail_if_growth("1%".parse()?);
//! let verdict = analyze(&config, &[rss])?;
//! assert_eq!(verdict.exit_code(), 1, "{verdict}");
//! # Ok::<(), memprobe::Error>(())
//! ```
//!
//! # Method
//!
//! 1. **Series**: [`SeriesChoice::Auto`] judges jemalloc `allocated` when present (no allocator
//!    slack), else the counting allocator's live bytes, else `RssAnon + VmSwap`, else RSS; never
//!    virtual size.
//! 2. **Axis**: iterations when every sample carries one (bytes per iteration do not depend on the
//!    machine), else monotonic time. Samples are sorted by (x, bytes), so their order, even among
//!    samples sharing a timestamp, does not matter.
//! 3. **Warm-up** ([`Warmup`]): a duration, a share of the run or a number of iterations is
//!    dropped. The run must then still have [`TrendConfig::min_samples`] samples and last
//!    [`TrendConfig::min_duration`].
//! 4. **Slope**: the samples are thinned to at most [`TrendConfig::max_points`] block medians
//!    (O(n) by selection), and the Theil–Sen slope is fitted with Sen's 95% confidence interval
//!    ([`theil_sen`]). Block medians shrug off spikes, keep every sample's information, make
//!    neighbouring points closer to independent, and bound the quadratic fit, so 10⁶ samples take
//!    milliseconds. The slope times the run's span is the *projected growth*.
//! 5. **Windows** ([`Windows`]): the median of the last tenth of the samples (at least 6) against
//!    the first tenth; the change counts only above 2.5 σ, σ = 1.4826 × the pooled MAD
//!    (Chromium's perf dashboard uses 2.5 σ with at least 6 points per side).
//! 6. **Decision**, against the *allowance*: the largest of [`TrendConfig::fail_if_growth`]
//!    (percentages of the first window's median):
//!    - **growth** when the projected growth's interval excludes zero, its estimate exceeds the
//!      allowance, *and* the windows agree;
//!    - **pass** when the interval's upper end is within the allowance: growth above the threshold
//!      is ruled out;
//!    - otherwise a **plateau search** ([`TrendConfig::plateau_detection`]): "a line, then flat
//!      from τ" is fitted against one line by least squares with a BIC penalty, the flat part covering
//!      at least 30% of the points; when it wins and the flat tail passes on its own (its slope
//!      projected over the whole run within the allowance), the run is a pass at a new level. This
//!      is what keeps a single step up (a cache filling once) or a slow warm-up from being called a
//!      leak, while Theil–Sen over the whole run would see a positive slope;
//!    - otherwise **inconclusive, too noisy**: growth above the threshold can be neither shown nor
//!      ruled out.
//! 7. **Fragmentation**: when an allocator-level series passes but a resident-level one
//!    (RssAnon + swap, RSS, jemalloc resident or active) grows by the same rules.
//!
//! Mann–Kendall-style trend tests alone call every staircase a trend; here a trend must also be
//! large (above the threshold), visible in the windows, and still present at the end of the run.
//!
//! # Limits
//!
//! - A step in the last 30% of the run cannot be told from growth (too little flat after it to
//!   see a plateau) and is judged as growth if large enough: run longer than the warm-up of
//!   whatever grows last.
//! - Sen's interval assumes independent noise; block medians reduce but do not remove
//!   autocorrelation, so slowly wandering noise (a random walk) can look like a trend. The windowed
//!   check and the threshold guard against that, not the interval.
//! - A sawtooth (periodic frees) passes when the run spans several periods; over one or two
//!   periods a rising tooth is indistinguishable from growth.
//! - Growth is judged against the threshold projected over the run: a leak too slow to exceed the
//!   threshold during this run passes even if it would exceed it over a longer one.
//! - With an empty [`TrendConfig::fail_if_growth`] any significant growth fails and a pass needs a
//!   slope interval at or below zero, which noisy series rarely give: expect inconclusive.

mod config;
mod fit;
mod grid;
mod judge;
mod period;
mod series;
mod slope;
mod soak;
mod stats;
mod steps;
mod verdict;
mod vocab;
mod window;

pub use config::TrendConfig;
pub use judge::analyze;
pub use series::{Sample, Series, SeriesChoice, SeriesKind};
pub use slope::{Estimate, theil_sen};
pub use soak::Soak;
pub use verdict::{
    Axis, Evidence, InconclusiveReason, Period, Plateau, Step, Verdict, VerdictKind,
};
pub use vocab::Warmup;
pub use window::Windows;
