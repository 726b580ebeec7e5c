//! Scaling fits: "each job costs 1.2 KiB and 3 allocations" as a measured, tested number.
//!
//! [`Scaling`] runs a closure at several sizes `n₁ … n_k` (fresh state per run, warm-up runs
//! first, several repetitions), measures each run with a [`Probe`](crate::Probe), and fits each
//! figure as `fixed + per_item·n` by least squares ([`Line`]): the per-item cost with a 95%
//! confidence interval, the fixed cost, R², and whether the figure bends (a significant, material
//! quadratic term) instead of growing in a straight line.
//!
//! ```text
//!   for each size: [warm-up runs]            (unmeasured: lazy statics, thread-locals)
//!   for each repetition, for each size:
//!       setup(n) ─▶ probe starts ─▶ f(&mut state, n) ─▶ probe finishes ─▶ drop result, state
//!   fit allocations, bytes, peak, net (and RSS, noisy, when asked) against n ─▶ Fit
//! ```
//!
//! The measured figures are exact counts, so a deterministic workload gives the same figures in
//! every repetition and a zero-width interval; repetitions exist to show when it does not.
//! [`Fit`] is plain data; its `Display` is the table ([`table`]), [`PerItemLimits`] checks it as CI
//! would, and [`Fit::check_baseline`] compares the per-item costs with a committed baseline.
//!
//! # Examples
//!
//! ```
//! # memprobe::global_allocator!();
//! use memprobe::scaling::Scaling;
//! // n boxes of 64 bytes, kept in a Vec built with its exact capacity.
//! let fit = Scaling::new([10, 50, 100, 200]).item("box").run(|n| {
//!     let mut boxes = Vec::with_capacity(n as usize);
//!     for _ in 0..n {
//!         boxes.push(Box::new([0u8; 64]));
//!     }
//!     boxes
//! })?;
//! // Each box: its 64 bytes, one allocation, and 8 bytes of pointer in the Vec.
//! assert_eq!(fit.alloc_bytes.per_item, 72.0);
//! assert_eq!(fit.allocations.per_item, 1.0);
//! assert_eq!(fit.allocations.fixed, 1.0); // the Vec itself
//! assert!(fit.summary().starts_with("each box costs 72 B and 1 allocation"));
//! # Ok::<(), memprobe::Error>(())
//! ```

pub(crate) mod attribute;
mod baseline;
// The per-item baseline file's on-disk form, for its JSON Schema (`crate::schema`).
#[cfg(feature = "json-schema")]
pub(crate) use baseline::{FORMAT as PER_ITEM_FORMAT, File as PerItemFile};
mod fit;
mod limits;
pub mod table;

pub use baseline::{PerItemChange, PerItemVerdict};
pub use fit::{Interval, Line, MATERIAL_BEND, Shape};
pub use limits::{PerItemLimits, PerItemViolation};

use crate::Scope;
use crate::error::{Error, Result};
use crate::probe::ProbeOptions;
use crate::units::{ByteAmount, ByteRange};
use serde::Serialize;
use std::hint::black_box;

/// A scaling run: sizes, repetitions, warm-up and what to measure. Run it with
/// [`run`](Self::run) or [`run_with`](Self::run_with).
///
/// # Examples
///
/// ```
/// use memprobe::scaling::Scaling;
/// let s = Scaling::new([1, 10, 50, 100]).item("client").repetitions(5).warmup(2).rss(true);
/// assert_eq!(s.sizes(), &[1, 10, 50, 100]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    sizes: Vec<u64>,
    item: String,
    name: Option<String>,
    repetitions: u32,
    warmup: u32,
    rss: bool,
    scope: Scope,
}

impl Scaling {
    /// Runs at `sizes` (at least two distinct, each once), 3 repetitions, 1 warm-up run per
    /// size, thread scope, no RSS; items are called "item".
    ///
    /// # Examples
    ///
    /// See [`Scaling`].
    ///
    /// ```
    /// assert_eq!(memprobe::scaling::Scaling::new([2, 4]).sizes().len(), 2);
    /// ```
    pub fn new(sizes: impl IntoIterator<Item = u64>) -> Self {
        Scaling {
            sizes: sizes.into_iter().collect(),
            item: "item".to_owned(),
            name: None,
            repetitions: 3,
            warmup: 1,
            rss: false,
            scope: Scope::Thread,
        }
    }

    /// What one unit of `n` is called in the summary and the table ("job", "client").
    ///
    /// # Examples
    ///
    /// See [`Scaling`].
    ///
    /// ```
    /// let _ = memprobe::scaling::Scaling::new([1, 2]).item("actor");
    /// ```
    pub fn item(mut self, item: impl Into<String>) -> Self {
        self.item = item.into();
        self
    }

    /// Names the fit (a scenario, a test path) in its table.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = memprobe::scaling::Scaling::new([1, 2]).name("jobs");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Measured runs per size (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = memprobe::scaling::Scaling::new([1, 2]).repetitions(5);
    /// ```
    pub fn repetitions(mut self, repetitions: u32) -> Self {
        self.repetitions = repetitions;
        self
    }

    /// Unmeasured runs per size before the measured ones.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = memprobe::scaling::Scaling::new([1, 2]).warmup(0);
    /// ```
    pub fn warmup(mut self, warmup: u32) -> Self {
        self.warmup = warmup;
        self
    }

    /// Also fits RSS growth per item: a noisy, process-wide figure (pages, not bytes; it moves
    /// with what the allocator keeps), labelled as such. jemalloc's dirty pages are purged before
    /// each snapshot when jemalloc is the global allocator.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = memprobe::scaling::Scaling::new([1, 2]).rss(true);
    /// ```
    pub fn rss(mut self, rss: bool) -> Self {
        self.rss = rss;
        self
    }

    /// What each probe counts (see [`Scope`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = memprobe::scaling::Scaling::new([1, 2]).scope(memprobe::Scope::Process);
    /// ```
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// The sizes, as given.
    ///
    /// # Examples
    ///
    /// See [`Scaling`].
    ///
    /// ```
    /// assert_eq!(memprobe::scaling::Scaling::new([3, 1]).sizes(), &[3, 1]);
    /// ```
    pub fn sizes(&self) -> &[u64] {
        &self.sizes
    }

    /// Runs `f(n)` at each size; what it returns is kept alive until its probe has finished (so
    /// it shows as net bytes) and dropped after.
    ///
    /// # Errors
    ///
    /// [`Error::Scaling`] for fewer than two sizes, a repeated size or zero repetitions;
    /// [`Error::AllocatorNotInstalled`] without the counting allocator.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let fit = memprobe::scaling::Scaling::new([1, 2, 4, 8]).run(|n| vec![0u8; 100 * n as usize])?;
    /// assert_eq!((fit.alloc_bytes.per_item, fit.alloc_bytes.fixed), (100.0, 0.0));
    /// assert_eq!(fit.net_bytes.per_item, 100.0); // kept until measured
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn run<R>(&self, mut f: impl FnMut(u64) -> R) -> Result<Fit> {
        self.run_with(|_| (), |(), n| f(n))
    }

    /// Runs `setup(n)` unmeasured, then `f(&mut state, n)` measured, for a fresh state per run
    /// (a runtime, a pool, a server): the state is dropped after the probe finishes, after what
    /// `f` returned.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::scaling::Scaling;
    /// // A registry built unmeasured; what registering n names costs is measured.
    /// let fit = Scaling::new([10, 20, 40]).run_with(
    ///     |n| Vec::<String>::with_capacity(n as usize),
    ///     |names, n| names.extend((0..n).map(|_| String::from("sixteen-byte-str"))),
    /// )?;
    /// assert_eq!(fit.alloc_bytes.per_item, 16.0);
    /// assert_eq!(fit.allocations.per_item, 1.0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn run_with<S, R>(
        &self,
        mut setup: impl FnMut(u64) -> S,
        mut f: impl FnMut(&mut S, u64) -> R,
    ) -> Result<Fit> {
        self.validate()?;
        let options = ProbeOptions::new(self.scope).purge(self.rss);
        for &n in &self.sizes {
            for _ in 0..self.warmup {
                let mut state = setup(n);
                drop(black_box(f(&mut state, n)));
                drop(state);
            }
        }
        let mut points = Vec::with_capacity(self.sizes.len() * self.repetitions as usize);
        for repetition in 0..self.repetitions {
            for &n in &self.sizes {
                let mut state = setup(n);
                let probe = options.clone().start()?;
                let kept = black_box(f(&mut state, n));
                let report = probe.finish()?;
                drop(kept);
                drop(state);
                points.push(Point {
                    size: n,
                    repetition,
                    allocations: report.allocs.allocations(),
                    alloc_bytes: report.allocs.alloc_bytes,
                    peak_bytes: report.allocs.peak_bytes,
                    net_bytes: report.allocs.net_bytes,
                    rss_delta_bytes: report.rss.filter(|_| self.rss).map(|r| r.delta_rss_bytes),
                    duration_ns: report.duration_ns,
                    outside_alloc_count: report.outside_alloc_count,
                });
            }
        }
        Ok(Fit::from_points(self, points))
    }

    fn validate(&self) -> Result<()> {
        let bad = |problem: String| {
            Err(Error::Scaling {
                sizes: self.sizes.clone(),
                problem,
            })
        };
        let mut sorted = self.sizes.clone();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return bad(format!(
                "size {} is given twice; give each size once and repeat runs with .repetitions(r)",
                pair[0]
            ));
        }
        if sorted.len() < 2 {
            return bad(
                "a per-item cost needs at least 2 sizes (3 or more to tell whether it is linear), e.g. [10, 50, 100, 200]"
                    .to_owned(),
            );
        }
        if self.repetitions == 0 {
            return bad("repetitions is 0: measure each size at least once".to_owned());
        }
        Ok(())
    }
}

/// One measured run.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let fit = memprobe::scaling::Scaling::new([1, 2]).repetitions(1).run(|n| vec![0u8; n as usize])?;
/// let p = &fit.points[1];
/// assert_eq!((p.size, p.allocations, p.alloc_bytes, p.net_bytes), (2, 1, 2, 2));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Point {
    /// `n`, the number of items.
    pub size: u64,
    /// Which repetition (from 0).
    pub repetition: u32,
    /// Allocation events: allocations plus reallocations (exact).
    pub allocations: u64,
    /// Bytes allocated (exact, requested sizes).
    pub alloc_bytes: u64,
    /// Peak of live bytes above the start of the run (exact).
    pub peak_bytes: u64,
    /// Bytes still live when the run's probe finished, signed (exact).
    pub net_bytes: i64,
    /// RSS after minus before, signed: noisy and process-wide. `None` unless asked for
    /// ([`Scaling::rss`]) and readable on this platform.
    pub rss_delta_bytes: Option<i64>,
    /// Wall-clock time of the measured run, in nanoseconds.
    pub duration_ns: u64,
    /// Process scope only: allocation events from threads that did not enter the probe (other
    /// tests, the harness); `Some(0)` means the figures are the closure's alone.
    pub outside_alloc_count: Option<u64>,
}

/// What a [`Scaling`] run measured, and the line fitted to each figure.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// let fit = memprobe::scaling::Scaling::new([10, 20, 30]).item("box")
///     .run(|n| (0..n).map(|_| Box::new(0u64)).collect::<Vec<_>>())?;
/// assert_eq!(fit.allocations.per_item, 1.0);
/// assert_eq!(fit.alloc_bytes.per_item, 16.0); // the box and its pointer in the Vec
/// assert_eq!(fit.points.len(), 9); // 3 sizes x 3 repetitions
/// println!("{fit}"); // the table
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Fit {
    /// The fit's name, if given.
    pub name: Option<String>,
    /// What one unit of `n` is called.
    pub item: String,
    /// The sizes, in the order run.
    pub sizes: Vec<u64>,
    /// Measured runs per size.
    pub repetitions: u32,
    /// Unmeasured runs per size before them.
    pub warmup: u32,
    /// What the probes counted.
    pub scope: Scope,
    /// Every measured run, repetition by repetition.
    pub points: Vec<Point>,
    /// Allocation events against `n` (exact counts).
    pub allocations: Line,
    /// Bytes allocated against `n` (exact).
    pub alloc_bytes: Line,
    /// Peak live bytes against `n` (exact).
    pub peak_bytes: Line,
    /// Bytes still live at the end of each run against `n` (exact): what `n` items keep.
    pub net_bytes: Line,
    /// RSS growth against `n`: noisy and process-wide; only when asked for.
    pub rss_bytes: Option<Line>,
}

impl Fit {
    fn from_points(scaling: &Scaling, points: Vec<Point>) -> Fit {
        let line = |y: fn(&Point) -> i128| {
            Line::fit(&points.iter().map(|p| (p.size, y(p))).collect::<Vec<_>>())
        };
        let rss = points
            .iter()
            .map(|p| p.rss_delta_bytes.map(|r| (p.size, i128::from(r))))
            .collect::<Option<Vec<_>>>()
            .filter(|_| scaling.rss)
            .map(|xy| Line::fit(&xy));
        Fit {
            name: scaling.name.clone(),
            item: scaling.item.clone(),
            sizes: scaling.sizes.clone(),
            repetitions: scaling.repetitions,
            warmup: scaling.warmup,
            scope: scaling.scope,
            allocations: line(|p| p.allocations.into()),
            alloc_bytes: line(|p| p.alloc_bytes.into()),
            peak_bytes: line(|p| p.peak_bytes.into()),
            net_bytes: line(|p| p.net_bytes.into()),
            rss_bytes: rss,
            points,
        }
    }

    /// The runs at `size`, one per repetition.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let fit = memprobe::scaling::Scaling::new([1, 2]).run(|n| vec![0u8; n as usize])?;
    /// assert!(fit.at(2).all(|p| p.alloc_bytes == 2));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn at(&self, size: u64) -> impl Iterator<Item = &Point> {
        self.points.iter().filter(move |p| p.size == size)
    }

    /// One sentence: "each job costs 1.2 KiB and 3 allocations (95% CI …), fixed 4.2 KiB,
    /// R² 1.0000, linear" — bytes allocated and allocation events per item, the fixed bytes, the
    /// lower of the two fits' R², and their shapes.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let fit = memprobe::scaling::Scaling::new([1, 2, 3]).item("row")
    ///     .run(|n| (0..n).map(|_| Box::new([0u8; 40])).collect::<Vec<_>>())?;
    /// assert_eq!(
    ///     fit.summary(),
    ///     "each row costs 48 B and 1 allocation (95% CI 48 to 48 B; 1 to 1), fixed 0 B, R² 1.0000, linear"
    /// );
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn summary(&self) -> String {
        let (bytes, allocs) = (&self.alloc_bytes, &self.allocations);
        let ci = match (bytes.per_item_ci, allocs.per_item_ci) {
            (Some(b), Some(a)) => format!(
                " (95% CI {}; {} to {})",
                ByteRange {
                    low: b.low,
                    high: b.high
                },
                table::count(a.low),
                table::count(a.high)
            ),
            _ => " (no confidence interval from two points)".to_owned(),
        };
        let shape = match (&bytes.shape, &allocs.shape) {
            (Shape::Linear, Shape::Linear) => "linear".to_owned(),
            (Shape::Linear, other) => format!("allocations {other}"),
            (other, Shape::Linear) => format!("bytes {other}"),
            (b, a) if b == a => b.to_string(),
            (b, a) => format!("bytes {b}, allocations {a}"),
        };
        let noun = if allocs.per_item == 1.0 {
            "allocation"
        } else {
            "allocations"
        };
        format!(
            "each {} costs {} and {} {noun}{ci}, fixed {}, R² {:.4}, {shape}",
            self.item,
            ByteAmount(bytes.per_item),
            table::count(allocs.per_item),
            ByteAmount(bytes.fixed),
            bytes.r_squared.min(allocs.r_squared),
        )
    }
}
