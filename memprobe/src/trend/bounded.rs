//! A series in bounded memory for runs of any length: at most `capacity` samples, each standing
//! for a stride of consecutive readings with their mean, minimum and maximum. When full,
//! neighbours merge in pairs and the stride doubles, so 24 hours at 10 Hz (864,000 readings) and
//! an hour at 1 kHz (3.6 million) cost the same few hundred KiB as a minute.
//!
//! ```text
//!  readings ─▶ [s0 s1 … s4095]  full ─▶ [s0+s1 s2+s3 … s4094+s4095] (2048), stride 2 ─▶ …
//! ```
//!
//! Means, not every k-th reading: picking one reading per stride folds a period near the stride
//! into a slow drift (aliasing); a mean over the stride averages the period out, and the minimum
//! keeps the troughs.

use super::series::{Sample, Series, SeriesKind};

/// One stride's readings, accumulated.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stride {
    count: u64,
    t_sum: f64,
    bytes_sum: f64,
    min: f64,
    max: f64,
    /// Iterations of the last reading, when every reading carried one.
    iteration: Option<u64>,
}

impl Stride {
    /// What fills the unused capacity: not all zero bits, so the compiler cannot turn the fill
    /// into a `calloc` that leaves the pages untouched.
    const UNUSED: Stride = Stride {
        count: 0,
        t_sum: f64::NAN,
        bytes_sum: f64::NAN,
        min: f64::NAN,
        max: f64::NAN,
        iteration: None,
    };

    fn of(s: &Sample) -> Self {
        Stride {
            count: 1,
            t_sum: s.t_secs,
            bytes_sum: s.bytes,
            min: s.min_bytes.unwrap_or(s.bytes),
            max: s.max_bytes.unwrap_or(s.bytes),
            iteration: s.iteration,
        }
    }

    fn merge(&mut self, other: &Stride) {
        self.count += other.count;
        self.t_sum += other.t_sum;
        self.bytes_sum += other.bytes_sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.iteration = other.iteration.filter(|_| self.iteration.is_some());
    }

    fn sample(&self) -> Sample {
        let n = self.count as f64;
        let mut s = Sample::new(self.t_sum / n, self.bytes_sum / n);
        if self.count > 1 {
            s = s.with_range(self.min, self.max);
        }
        s.iteration = self.iteration;
        s
    }
}

/// A memory series decimated into at most `capacity` per-stride samples (min, mean, max), for
/// runs too long to keep every reading.
///
/// Feed readings in time order with [`push`](Self::push); [`series`](Self::series) gives the
/// samples to judge. Memory is allocated once, up front.
///
/// # Examples
///
/// ```
/// use memprobe::trend::{analyze, BoundedSeries, Sample, SeriesKind, TrendConfig};
/// // An hour at 1 kHz: a 2 s, 8 MiB sawtooth on 64 MiB, leaking 2 KiB/s.
/// let mut rss = BoundedSeries::new(SeriesKind::Rss, 4096);
/// for i in 0..3_600_000u64 {
///     let t = i as f64 / 1000.0;
///     rss.push(Sample::new(t, 64e6 + 2048.0 * t + 8e6 * (t % 2.0) / 2.0));
/// }
/// assert_eq!(rss.readings(), 3_600_000);
/// assert!(rss.len() <= 4096);
/// let v = analyze(&TrendConfig::new().fail_if_growth("1 MiB".parse()?), &[rss.series()])?;
/// assert!(!v.passed(), "{v}");
/// let slope = v.evidence.slope_per_sec.unwrap();
/// assert!(slope.low <= 2048.0 && 2048.0 <= slope.high, "{v}");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BoundedSeries {
    kind: SeriesKind,
    capacity: usize,
    stride: u64,
    done: Vec<Stride>,
    pending: Option<Stride>,
    readings: u64,
}

impl BoundedSeries {
    /// An empty series of `kind` keeping at most `capacity` samples (raised to 64; rounded up to
    /// an even number). Its memory (56 bytes a sample) is allocated and written here, once, so
    /// its resident size does not grow as it fills.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::BoundedSeries::new(memprobe::trend::SeriesKind::Rss, 4096);
    /// assert_eq!((s.len(), s.stride()), (0, 1));
    /// ```
    pub fn new(kind: SeriesKind, capacity: usize) -> Self {
        let capacity = capacity.max(64).next_multiple_of(2);
        // Every page written now: the series' resident size is fixed from the start, so a
        // process (or the daemon) that keeps one never sees it as growth while it fills.
        let mut done = vec![Stride::UNUSED; capacity];
        done.clear();
        BoundedSeries {
            kind,
            capacity,
            stride: 1,
            done,
            pending: None,
            readings: 0,
        }
    }

    /// Adds one reading (in time order). Never allocates.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{BoundedSeries, Sample, SeriesKind};
    /// let mut s = BoundedSeries::new(SeriesKind::Rss, 64);
    /// for i in 0..200 {
    ///     s.push(Sample::new(i as f64, 1e6 + (i % 2) as f64));
    /// }
    /// assert_eq!(s.stride(), 4);
    /// assert_eq!(s.series().samples[0].min_bytes, Some(1e6));
    /// assert_eq!(s.series().samples[0].bytes, 1e6 + 0.5);
    /// ```
    pub fn push(&mut self, sample: Sample) {
        self.readings += 1;
        let one = Stride::of(&sample);
        let pending = match self.pending.as_mut() {
            Some(p) => {
                p.merge(&one);
                p
            }
            None => self.pending.insert(one),
        };
        if pending.count < self.stride {
            return;
        }
        let full = *pending;
        self.pending = None;
        self.done.push(full);
        if self.done.len() == self.capacity {
            // Merge neighbours in pairs, in place.
            for k in 0..self.capacity / 2 {
                let mut merged = self.done[2 * k];
                merged.merge(&self.done[2 * k + 1]);
                self.done[k] = merged;
            }
            self.done.truncate(self.capacity / 2);
            self.stride *= 2;
        }
    }

    /// Samples kept (a partial last stride included).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{BoundedSeries, Sample, SeriesKind};
    /// let mut s = BoundedSeries::new(SeriesKind::Rss, 64);
    /// s.push(Sample::new(0.0, 1.0));
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.done.len() + usize::from(self.pending.is_some())
    }

    /// Whether no reading was pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::trend::BoundedSeries::new(memprobe::trend::SeriesKind::Rss, 64).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.readings == 0
    }

    /// Readings pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::BoundedSeries::new(memprobe::trend::SeriesKind::Rss, 64);
    /// assert_eq!(s.readings(), 0);
    /// ```
    pub fn readings(&self) -> u64 {
        self.readings
    }

    /// Readings per kept sample now.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = memprobe::trend::BoundedSeries::new(memprobe::trend::SeriesKind::Rss, 64);
    /// assert_eq!(s.stride(), 1);
    /// ```
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// The kept samples as a [`Series`] to judge: each at its stride's mean time, with its mean,
    /// minimum and maximum.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::trend::{BoundedSeries, Sample, SeriesKind};
    /// let mut s = BoundedSeries::new(SeriesKind::Rss, 64);
    /// s.push(Sample::new(0.0, 1.0));
    /// assert_eq!(s.series().kind, SeriesKind::Rss);
    /// ```
    pub fn series(&self) -> Series {
        Series::from_samples(
            self.kind,
            self.done
                .iter()
                .chain(self.pending.as_ref())
                .map(Stride::sample),
        )
    }
}
