//! The in-process soak helper: run a closure many times, sample this process's memory as it goes,
//! and judge the samples with the same engine as the daemon.
//!
//! Samples are the counting allocator's live bytes ([`crate::process_totals`]) and RSS, marked
//! with the iterations completed, so slopes are in bytes per iteration. Live bytes are counted
//! from the start of the soak: a percentage threshold is then a share of what the closure holds
//! after the warm-up (a closure that holds nothing may grow by nothing), while RSS, judged for
//! fragmentation, keeps its whole-process level. Without the counting allocator the helper judges
//! RSS alone and says so in the verdict. The sample buffers are
//! allocated before the run, so sampling adds no growth of its own; the counts are process-wide,
//! so other threads allocating during the soak (other tests of the same binary) show up too: give
//! soak tests their own test binary or serialize them.

use super::config::TrendConfig;
use super::judge::analyze;
use super::series::{Sample, Series, SeriesKind};
use super::verdict::Verdict;
use crate::error::Result;
use crate::snapshot::ProcessMemory;
use std::time::{Duration, Instant};

/// Samples taken over a run when the caller does not say how often.
const DEFAULT_SAMPLES: u64 = 200;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    Iterations(u64),
    Duration(Duration),
}

/// A soak test: a closure run for a number of iterations or a duration, sampled in-process, and
/// judged by [`analyze`](super::analyze).
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::trend::{Soak, VerdictKind};
/// // Allocates and frees every iteration: passes.
/// let verdict = Soak::iterations(2_000).run(|i| {
///     std::hint::black_box(vec![i; 16]);
/// })?;
/// assert_eq!(verdict.kind, VerdictKind::Pass, "{verdict}");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Soak {
    limit: Limit,
    sample_every: Option<u64>,
    config: TrendConfig,
}

impl Soak {
    /// Runs the closure `n` times, sampling about 200 times (see
    /// [`sample_every`](Self::sample_every)).
    ///
    /// # Examples
    ///
    /// ```
    /// let soak = memprobe::trend::Soak::iterations(10_000);
    /// ```
    pub fn iterations(n: u64) -> Self {
        Soak {
            limit: Limit::Iterations(n),
            sample_every: None,
            config: TrendConfig::default(),
        }
    }

    /// Runs the closure until `duration` has passed, sampling about 200 times at even intervals.
    ///
    /// # Examples
    ///
    /// ```
    /// let soak = memprobe::trend::Soak::duration(std::time::Duration::from_secs(5));
    /// ```
    pub fn duration(duration: Duration) -> Self {
        Soak {
            limit: Limit::Duration(duration),
            sample_every: None,
            config: TrendConfig::default(),
        }
    }

    /// Samples after every `k` iterations (at least 1). For a duration-limited soak this is how
    /// often the clock is checked.
    ///
    /// # Examples
    ///
    /// ```
    /// let soak = memprobe::trend::Soak::iterations(1000).sample_every(10); // 101 samples
    /// ```
    pub fn sample_every(mut self, k: u64) -> Self {
        self.sample_every = Some(k.max(1));
        self
    }

    /// Judges with `config` instead of [`TrendConfig::default`].
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{Soak, TrendConfig};
    /// let soak = Soak::iterations(1000).config(TrendConfig::new().fail_if_growth("1 KiB".parse()?));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn config(mut self, config: TrendConfig) -> Self {
        self.config = config;
        self
    }

    /// Runs `f` (given the iteration index, from 0), sampling as it goes, and judges the samples.
    ///
    /// # Errors
    ///
    /// An error reading this process's memory, or [`crate::Error::InvalidInput`] from
    /// [`analyze`](super::analyze) for an invalid configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::trend::{Soak, VerdictKind};
    /// // Leaks 64 bytes per iteration.
    /// let verdict = Soak::iterations(2_000).run(|_| {
    ///     std::hint::black_box(Box::leak(Box::new([0u8; 64])));
    /// })?;
    /// assert_eq!(verdict.kind, VerdictKind::Growth, "{verdict}");
    /// assert_eq!(verdict.evidence.slope_per_iteration.unwrap().value, 64.0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn run(&self, mut f: impl FnMut(u64)) -> Result<Verdict> {
        let counting = crate::process_totals().is_ok();
        let memory = ProcessMemory::current()?;
        let (capacity, every) = match self.limit {
            Limit::Iterations(n) => {
                let every = self.sample_every.unwrap_or((n / DEFAULT_SAMPLES).max(1));
                ((n / every + 2) as usize, every)
            }
            Limit::Duration(_) => (
                (DEFAULT_SAMPLES + 2) as usize,
                self.sample_every.unwrap_or(1),
            ),
        };
        // Allocated up front: growing them during the run would show up as growth.
        let mut live = Vec::with_capacity(if counting { capacity } else { 0 });
        let mut rss = Vec::with_capacity(capacity);
        let baseline = if counting {
            crate::process_totals()?.live_bytes()
        } else {
            0
        };
        let start = Instant::now();
        let sample = |i: u64, live: &mut Vec<Sample>, rss: &mut Vec<Sample>| -> Result<()> {
            if rss.len() == rss.capacity() {
                return Ok(());
            }
            let t = start.elapsed().as_secs_f64();
            if counting {
                let held = crate::process_totals()?.live_bytes() - baseline;
                live.push(Sample::new(t, held as f64).with_iteration(i));
            }
            let bytes = memory.snapshot()?.rss_bytes as f64;
            rss.push(Sample::new(t, bytes).with_iteration(i));
            Ok(())
        };
        sample(0, &mut live, &mut rss)?;
        let mut done = 0;
        match self.limit {
            Limit::Iterations(n) => {
                while done < n {
                    f(done);
                    done += 1;
                    if done % every == 0 || done == n {
                        sample(done, &mut live, &mut rss)?;
                    }
                }
            }
            Limit::Duration(d) => {
                let interval = d / DEFAULT_SAMPLES as u32;
                let mut next = interval;
                loop {
                    f(done);
                    done += 1;
                    if done % every == 0 {
                        let elapsed = start.elapsed();
                        if elapsed >= d {
                            sample(done, &mut live, &mut rss)?;
                            break;
                        }
                        if elapsed >= next {
                            sample(done, &mut live, &mut rss)?;
                            next += interval;
                        }
                    }
                }
            }
        }
        let mut series = Vec::with_capacity(2);
        if counting {
            series.push(Series::from_samples(SeriesKind::AllocatorLive, live));
        }
        series.push(Series::from_samples(SeriesKind::Rss, rss));
        let mut verdict = analyze(&self.config, &series)?;
        if !counting {
            verdict.add_note(
                "the counting allocator is not installed, so RSS was judged; add memprobe::global_allocator!(); for exact heap figures",
            );
        }
        Ok(verdict)
    }

    /// Like [`run`](Self::run), then panics with the verdict's sentence unless it passes.
    ///
    /// # Panics
    ///
    /// When the verdict is growth, fragmentation (unless allowed) or inconclusive, with
    /// `memprobe: ` and the summary; or when reading this process's memory fails.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// # memprobe::global_allocator!();
    /// // panics: "memprobe: The live heap grows 64 B/iteration ..."
    /// memprobe::trend::Soak::iterations(2_000).assert_pass(|_| {
    ///     std::hint::black_box(Box::leak(Box::new([0u8; 64])));
    /// });
    /// ```
    #[track_caller]
    pub fn assert_pass(&self, f: impl FnMut(u64)) -> Verdict {
        let verdict = self.run(f).unwrap_or_else(|e| panic!("{e}"));
        verdict.assert_pass();
        verdict
    }
}
