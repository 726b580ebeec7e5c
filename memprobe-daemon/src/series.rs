//! The in-memory series, bounded for any run length: at most [`CAPACITY`] buckets, each the min,
//! max and mean of a run of consecutive samples. When the buckets are full, neighbours merge in
//! pairs and each bucket then covers twice as many samples, so a 10-minute and a 10-day soak cost
//! the same memory. The full-resolution series is on disk (`--out`).
//!
//! ```text
//!  samples ─▶ [b0 b1 b2 … b1023]   full ─▶ [b0+b1  b2+b3 … ] (512) ─▶ keep filling, 2 samples/bucket
//! ```

use serde::Serialize;

/// Buckets kept per series. PERF: 1024 × 40 bytes = 40 KiB per series, allocated once up front.
pub const CAPACITY: usize = 1024;

/// A run of consecutive samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    /// Time of the first sample, ns since the run started.
    pub t_first_ns: u64,
    /// Time of the last sample, ns since the run started.
    pub t_last_ns: u64,
    /// Samples merged.
    pub count: u64,
    /// Smallest value.
    pub min: u64,
    /// Largest value.
    pub max: u64,
    /// Sum of values (the mean is `sum / count`).
    pub sum: f64,
}

impl Bucket {
    /// Mean of the samples.
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }

    /// Middle of the time the bucket covers.
    pub fn t_mid_ns(&self) -> u64 {
        self.t_first_ns + (self.t_last_ns - self.t_first_ns) / 2
    }

    fn merge(&mut self, other: &Bucket) {
        self.t_last_ns = other.t_last_ns;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }
}

/// A downsampled series with bounded memory.
#[derive(Debug, Clone)]
pub struct Downsampled {
    buckets: Vec<Bucket>,
    per_bucket: u64,
    samples: u64,
}

impl Default for Downsampled {
    fn default() -> Self {
        Downsampled {
            buckets: Vec::with_capacity(CAPACITY),
            per_bucket: 1,
            samples: 0,
        }
    }
}

impl Downsampled {
    /// Adds one sample at `t_ns`. Never allocates once created.
    pub fn push(&mut self, t_ns: u64, value: u64) {
        self.samples += 1;
        let one = Bucket {
            t_first_ns: t_ns,
            t_last_ns: t_ns,
            count: 1,
            min: value,
            max: value,
            sum: value as f64,
        };
        if let Some(last) = self.buckets.last_mut() {
            if last.count < self.per_bucket {
                last.merge(&one);
                return;
            }
        }
        if self.buckets.len() == CAPACITY {
            self.halve();
        }
        self.buckets.push(one);
    }

    fn halve(&mut self) {
        let n = self.buckets.len() / 2;
        for i in 0..n {
            let mut merged = self.buckets[2 * i];
            merged.merge(&self.buckets[2 * i + 1]);
            self.buckets[i] = merged;
        }
        self.buckets.truncate(n);
        self.per_bucket *= 2;
    }

    /// The buckets, oldest first.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Samples pushed in all.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// `true` when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_exact_in_aggregate() {
        let mut s = Downsampled::default();
        let cap = s.buckets.capacity();
        let n = 100_000u64;
        for i in 0..n {
            s.push(i * 10, i);
        }
        assert!(s.buckets().len() <= CAPACITY && s.buckets().len() > CAPACITY / 2);
        assert_eq!(s.buckets.capacity(), cap, "never reallocates");
        assert_eq!(s.buckets().iter().map(|b| b.count).sum::<u64>(), n);
        assert_eq!(s.buckets()[0].min, 0);
        assert_eq!(s.buckets().last().unwrap().max, n - 1);
        let total: f64 = s.buckets().iter().map(|b| b.sum).sum();
        assert_eq!(total, (n * (n - 1) / 2) as f64);
        // Buckets are in time order and do not overlap.
        assert!(
            s.buckets()
                .windows(2)
                .all(|w| w[0].t_last_ns < w[1].t_first_ns)
        );
    }
}
