//! Fail-if-growth baselines: a run's exact figures compared with figures committed in the user's
//! repository, failing when one grows by more than a percentage.
//!
//! # Files
//!
//! One small TOML file per test, in a directory per test crate, at the crate root:
//!
//! ```text
//!   <crate root>/.memprobe/baselines/<test crate>/<test path>.toml
//!   e.g. .memprobe/baselines/parser_tests/header.small_input.toml
//! ```
//!
//! ```toml
//! # memprobe baseline of `header::small_input`: exact figures compared by fail_if_growth.
//! # Rewrite it with: MEMPROBE_UPDATE=1 cargo test -p parser -- header::small_input
//! format = 1
//! name = "header::small_input"
//! iterations = 1000
//! allocations = 2000
//! alloc_bytes = 131072
//! peak_bytes = 64
//! ```
//!
//! One file per test keeps diffs to the tests that changed, and lets tests running in parallel
//! write their baselines without a lock: each writes its own file, through a temporary file and a
//! rename, so a reader never sees half a file and no entry can be lost.
//!
//! # What is compared
//!
//! Allocation events and bytes allocated per iteration, and the peak of live bytes: exact figures,
//! so any growth is real and the allowed percentage only expresses how much is acceptable. RSS
//! growth is compared only when asked ([`Policy::rss_noise`]), with an absolute noise allowance on
//! top of the percentage, since RSS moves with things the code does not control.
//!
//! # Modes
//!
//! [`Mode::from_env`]: `MEMPROBE_UPDATE=1` writes (blesses) the current figures; under `CI=true`
//! a missing baseline is an error naming the command that creates it; otherwise a missing
//! baseline is created. Shrinking figures never fail; the verdict suggests re-blessing.
//!
//! # Messages of passing tests
//!
//! "created baseline … commit it" and "figures shrank: lock the improvement in with …" come from
//! tests that pass, whose output libtest hides: under `#[memprobe]` they are also written to the
//! terminal and appended to [`notes_file`] (`target/memprobe/baseline-notes.txt`).

use crate::error::{Error, Result};
use crate::files::file_stem;
pub use crate::output_dir::notes_file;
use crate::report::{OutsideNote, Report};
use crate::units::{Exact, parse_bytes};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) mod file;

/// The `format` this build writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// A directory of per-test baseline files.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::baseline::{Baselines, Mode, Policy};
/// let dir = tempfile::tempdir().unwrap();
/// let baselines = Baselines::new(dir.path());
/// let report = memprobe::measure(|| vec![0u8; 100])?;
/// let policy = Policy::new("10%")?;
/// // First run: no baseline yet, so it is created (outside CI).
/// let verdict = baselines.check("parse", &report, &policy, Mode::Local)?;
/// assert!(!verdict.failed());
/// assert!(baselines.path("parse").exists());
/// // Same figures again: within the baseline.
/// assert!(!baselines.check("parse", &report, &policy, Mode::Local)?.failed());
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baselines {
    dir: PathBuf,
}

impl Baselines {
    /// Baselines kept in `dir`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = memprobe::baseline::Baselines::new("/tmp/baselines");
    /// assert_eq!(b.dir(), std::path::Path::new("/tmp/baselines"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Baselines { dir: dir.into() }
    }

    /// The baselines of one test crate (a test binary, a bench, the library's unit tests):
    /// `<crate_root>/.memprobe/baselines/<crate_name>`, which is where `#[memprobe]` keeps them.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::baseline::Baselines;
    /// let b = Baselines::for_crate("/src/parser", "header_tests");
    /// assert_eq!(b.dir(), std::path::Path::new("/src/parser/.memprobe/baselines/header_tests"));
    /// ```
    pub fn for_crate(crate_root: impl AsRef<Path>, crate_name: &str) -> Self {
        Baselines::new(
            crate_root
                .as_ref()
                .join(".memprobe")
                .join("baselines")
                .join(file_stem(crate_name)),
        )
    }

    /// The directory.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(memprobe::baseline::Baselines::new("b").dir().ends_with("b"));
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of baseline `name`: `::` becomes `.`, and characters that are not safe in a
    /// file name on every platform are escaped.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = memprobe::baseline::Baselines::new("b");
    /// assert_eq!(b.path("parser::header"), std::path::Path::new("b/parser.header.toml"));
    /// ```
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.toml", file_stem(name)))
    }

    /// Reads baseline `name`; `None` when it does not exist.
    ///
    /// # Errors
    ///
    /// [`Error::Baseline`] naming the file and the problem when it cannot be read or is not a
    /// baseline of this name in a format this build reads.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = memprobe::baseline::Baselines::new(dir.path());
    /// assert!(b.load("missing")?.is_none());
    /// std::fs::write(b.path("broken"), "allocations = \"many\"").unwrap();
    /// let err = b.load("broken").unwrap_err().to_string();
    /// assert!(err.contains("broken.toml") && err.contains("not a valid memprobe baseline"));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn load(&self, name: &str) -> Result<Option<Baseline>> {
        let path = self.path(name);
        file::read(&path)?
            .map(|text| parse(&text, name, &path))
            .transpose()
    }

    /// Writes baseline `name` (atomically: a reader never sees half a file), creating the
    /// directory. The file's header names `update_command`, the command that rewrites it.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory or file cannot be written.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::baseline::{Baseline, Baselines};
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = Baselines::new(dir.path().join("nested"));
    /// let baseline = Baseline::new(1, 3, 300, 200);
    /// let path = b.save("t", &baseline, "MEMPROBE_UPDATE=1 cargo test")?;
    /// assert_eq!(b.load("t")?, Some(baseline));
    /// assert!(std::fs::read_to_string(path).unwrap().contains("allocations = 3"));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn save(&self, name: &str, baseline: &Baseline, update_command: &str) -> Result<PathBuf> {
        let path = self.path(name);
        let file = File {
            format: FORMAT,
            name: name.to_owned(),
            iterations: baseline.iterations,
            allocations: baseline.allocations,
            alloc_bytes: baseline.alloc_bytes,
            peak_bytes: baseline.peak_bytes,
            rss_growth_bytes: baseline.rss_growth_bytes,
        };
        file::write(
            &path,
            &format!("memprobe baseline of `{name}`: exact figures compared by fail_if_growth."),
            update_command,
            &file,
        )?;
        Ok(path)
    }

    /// Compares `report` with baseline `name` under `policy`, or writes it, as `mode` says.
    ///
    /// # Errors
    ///
    /// [`Error::Baseline`] when the baseline is missing in [`Mode::Ci`] (the message names the
    /// command that creates it), corrupt, or would be written from contaminated process-scope
    /// figures; [`Error::Io`] when it cannot be written.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Mode, Policy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let baselines = Baselines::new(dir.path());
    /// let policy = Policy::new("10%")?;
    /// let small = memprobe::measure(|| vec![0u8; 1000])?;
    /// baselines.check("job", &small, &policy, Mode::Update)?;
    /// let big = memprobe::measure(|| vec![0u8; 1200])?;
    /// let verdict = baselines.check("job", &big, &policy, Mode::Local)?;
    /// assert!(verdict.failed());
    /// assert!(verdict.to_string().contains("alloc_bytes: baseline 1000 B, now 1200 B (+20.0%"));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn check(
        &self,
        name: &str,
        report: &Report,
        policy: &Policy,
        mode: Mode,
    ) -> Result<Verdict> {
        let path = self.path(name);
        let current = Baseline::from_report(report, policy.rss_noise_bytes.is_some());
        let verdict = |action, changes, notes| Verdict {
            name: name.to_owned(),
            path: path.clone(),
            action,
            changes,
            notes,
            growth_percent: policy.growth_percent,
            update_command: policy.update_command.clone(),
        };
        let write = |action| -> Result<Verdict> {
            if let Some(outside) = report.outside_alloc_count.filter(|&n| n > 0) {
                return Err(Error::Baseline {
                    path: path.clone(),
                    problem: format!("not written: {}", OutsideNote(outside)),
                });
            }
            self.save(name, &current, &policy.update_command)?;
            Ok(verdict(action, Vec::new(), Vec::new()))
        };
        if mode == Mode::Update {
            return write(Action::Updated);
        }
        let Some(base) = self.load(name)? else {
            if mode == Mode::Ci {
                return Err(Error::Baseline {
                    path: path.clone(),
                    problem: format!(
                        "missing: there is no baseline `{name}` yet, and under CI it is not created; create it with `{}` and commit the file",
                        policy.update_command
                    ),
                });
            }
            return write(Action::Created);
        };
        let (changes, notes) = compare(&base, &current, policy);
        Ok(verdict(Action::Compared, changes, notes))
    }
}

/// Checks the text of baseline `name`'s file (`path` only names it in errors): a pure function
/// of the text that never panics.
pub(crate) fn parse(text: &str, name: &str, path: &Path) -> Result<Baseline> {
    let file: File = file::parse(text, "baseline", name, FORMAT, path)?;
    if file.iterations == 0 {
        return Err(Error::Baseline {
            path: path.to_path_buf(),
            problem: "says `iterations = 0`; a baseline covers at least one iteration".to_owned(),
        });
    }
    Ok(Baseline {
        iterations: file.iterations,
        allocations: file.allocations,
        alloc_bytes: file.alloc_bytes,
        peak_bytes: file.peak_bytes,
        rss_growth_bytes: file.rss_growth_bytes,
    })
}

/// The figures a baseline records: totals over `iterations`, as in a [`Report`].
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::probe::Iterations;
/// let report = memprobe::measure_iters(Iterations::new(10), || vec![0u8; 64])?;
/// let b = memprobe::baseline::Baseline::from_report(&report, false);
/// assert_eq!((b.iterations, b.allocations, b.alloc_bytes, b.peak_bytes), (10, 10, 640, 64));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Baseline {
    /// Measured iterations the totals cover (at least 1).
    pub iterations: u64,
    /// Allocation events (allocations + reallocations), total.
    pub allocations: u64,
    /// Bytes allocated, total.
    pub alloc_bytes: u64,
    /// Peak of live bytes over the run.
    pub peak_bytes: u64,
    /// RSS growth over the run in bytes, recorded only when RSS is compared.
    pub rss_growth_bytes: Option<i64>,
}

impl Baseline {
    /// A baseline from totals (no RSS figure).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = memprobe::baseline::Baseline::new(2, 4, 100, 50);
    /// assert_eq!(b.allocations, 4);
    /// ```
    pub fn new(iterations: u64, allocations: u64, alloc_bytes: u64, peak_bytes: u64) -> Self {
        Baseline {
            iterations: iterations.max(1),
            allocations,
            alloc_bytes,
            peak_bytes,
            rss_growth_bytes: None,
        }
    }

    /// The figures of `report`, with its RSS growth when `with_rss` (and the report has one).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// let report = memprobe::measure(|| String::from("abc"))?;
    /// let b = memprobe::baseline::Baseline::from_report(&report, false);
    /// assert_eq!((b.allocations, b.alloc_bytes), (1, 3));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn from_report(report: &Report, with_rss: bool) -> Self {
        Baseline {
            iterations: report.iterations.max(1),
            allocations: report.allocs.allocations(),
            alloc_bytes: report.allocs.alloc_bytes,
            peak_bytes: report.allocs.peak_bytes,
            rss_growth_bytes: if with_rss {
                report.rss.map(|r| r.delta_rss_bytes)
            } else {
                None
            },
        }
    }
}

/// The on-disk form.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    /// The baseline format (the schema version).
    format: u32,
    /// The test's baseline name (its path, or the attribute's `baseline = "..."`).
    name: String,
    /// Measured iterations the totals cover.
    iterations: u64,
    /// Allocation events (allocations + reallocations), exact.
    allocations: u64,
    /// Bytes allocated, exact.
    alloc_bytes: u64,
    /// Peak live bytes above the start, exact.
    peak_bytes: u64,
    /// RSS growth, signed and noisy; only when the test compares RSS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rss_growth_bytes: Option<i64>,
}

impl file::Header for File {
    fn format(&self) -> u32 {
        self.format
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// How much growth is allowed, and how to bless.
///
/// # Examples
///
/// ```
/// use memprobe::baseline::Policy;
/// let p = Policy::new("10%")?.rss_noise("4 MiB")?;
/// assert_eq!(p.growth_percent(), 10.0);
/// assert!(Policy::new("10 KiB").is_err()); // growth over a baseline is relative
/// let bare = Policy::new("5").unwrap_err().to_string();
/// assert!(bare.contains("a bare number is ambiguous") && bare.contains("write `5%`"), "{bare}");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    growth_percent: f64,
    rss_noise_bytes: Option<u64>,
    update_command: String,
}

impl Policy {
    /// Allows each figure to grow by `growth`, a percentage such as `"10%"` or `"0%"`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSize`] when `growth` is not a percentage.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Policy::new("2.5%")?.growth_percent(), 2.5);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn new(growth: &str) -> Result<Self> {
        let problem = match crate::units::grammar::baseline_growth(growth) {
            Ok(Some(p)) => {
                return Ok(Policy {
                    growth_percent: p,
                    rss_noise_bytes: None,
                    update_command: "MEMPROBE_UPDATE=1 cargo test".to_owned(),
                });
            }
            Ok(None) => {
                "growth over a baseline is relative to each figure: write a percentage".to_owned()
            }
            Err(problem) => problem.to_string(),
        };
        Err(Error::InvalidSize {
            kind: "growth over a baseline",
            input: growth.to_owned(),
            problem,
            expected: "a percentage such as `10%`, `2.5%` or `0%`",
        })
    }

    /// Also compares RSS growth, allowing `noise` (a size such as `"4 MiB"`) on top of the
    /// percentage.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSize`] when `noise` is not a size.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = memprobe::baseline::Policy::new("10%")?.rss_noise("1 MiB")?;
    /// assert_eq!(p.rss_noise_bytes(), Some(1 << 20));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn rss_noise(mut self, noise: &str) -> Result<Self> {
        self.rss_noise_bytes = Some(parse_bytes(noise)?);
        Ok(self)
    }

    /// The command messages give for writing baselines (default `MEMPROBE_UPDATE=1 cargo test`).
    ///
    /// # Examples
    ///
    /// ```
    /// let p = memprobe::baseline::Policy::new("0%")?.update_command("MEMPROBE_UPDATE=1 cargo test -p parser");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn update_command(mut self, command: impl Into<String>) -> Self {
        self.update_command = command.into();
        self
    }

    /// The command messages give for writing baselines.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = memprobe::baseline::Policy::new("0%")?.update_command("MEMPROBE_UPDATE=1 cargo test -p jobs");
    /// assert_eq!(p.update_command_line(), "MEMPROBE_UPDATE=1 cargo test -p jobs");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn update_command_line(&self) -> &str {
        &self.update_command
    }

    /// The allowed growth, in percent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Policy::new("0%")?.growth_percent(), 0.0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn growth_percent(&self) -> f64 {
        self.growth_percent
    }

    /// The RSS noise allowance, when RSS is compared.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Policy::new("0%")?.rss_noise_bytes(), None);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn rss_noise_bytes(&self) -> Option<u64> {
        self.rss_noise_bytes
    }
}

/// What to do with baselines.
///
/// # Examples
///
/// ```
/// use memprobe::baseline::Mode;
/// assert_ne!(Mode::Local, Mode::Ci);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compare; create a missing baseline (a developer's machine).
    Local,
    /// Compare; a missing baseline is an error (continuous integration).
    Ci,
    /// Write the current figures, replacing any baseline ("bless").
    Update,
}

impl Mode {
    /// `Update` when `MEMPROBE_UPDATE` is set (and not `0`), else `Ci` when `CI` is set (and not
    /// `false` or `0`, as CI services set `CI=true`), else `Local`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::baseline::Mode;
    /// // SAFETY: a doctest runs in a process of its own, and no other thread reads the environment.
    /// unsafe {
    ///     std::env::remove_var("MEMPROBE_UPDATE");
    ///     std::env::set_var("CI", "false");
    /// }
    /// assert_eq!(Mode::from_env(), Mode::Local);
    /// unsafe { std::env::set_var("CI", "true") };
    /// assert_eq!(Mode::from_env(), Mode::Ci);
    /// unsafe { std::env::set_var("MEMPROBE_UPDATE", "1") };
    /// assert_eq!(Mode::from_env(), Mode::Update);
    /// ```
    pub fn from_env() -> Self {
        let set = |name: &str| {
            std::env::var(name).is_ok_and(|v| {
                !matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "" | "0" | "false" | "no"
                )
            })
        };
        if set("MEMPROBE_UPDATE") {
            Mode::Update
        } else if set("CI") {
            Mode::Ci
        } else {
            Mode::Local
        }
    }
}

/// What [`Baselines::check`] did.
///
/// # Examples
///
/// ```
/// use memprobe::baseline::Action;
/// assert_ne!(Action::Created, Action::Compared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// There was no baseline; the current figures became it.
    Created,
    /// The current figures replaced the baseline ([`Mode::Update`]).
    Updated,
    /// The current figures were compared with the baseline.
    Compared,
}

/// A figure compared with its baseline.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::baseline::Figure::AllocBytes.name(), "alloc_bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Figure {
    /// Allocation events per iteration.
    Allocations,
    /// Bytes allocated per iteration.
    AllocBytes,
    /// Peak of live bytes.
    PeakBytes,
    /// RSS growth over the run.
    RssGrowthBytes,
}

impl Figure {
    /// The figure's key in the baseline file.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Figure::PeakBytes.name(), "peak_bytes");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Figure::Allocations => "allocations",
            Figure::AllocBytes => "alloc_bytes",
            Figure::PeakBytes => "peak_bytes",
            Figure::RssGrowthBytes => "rss_growth_bytes",
        }
    }
}

/// One figure that differs from its baseline.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::baseline::{Baselines, Figure, Mode, Policy};
/// let dir = tempfile::tempdir().unwrap();
/// let b = Baselines::new(dir.path());
/// let p = Policy::new("0%")?;
/// b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Update)?;
/// let verdict = b.check("t", &memprobe::measure(|| vec![0u8; 8])?, &p, Mode::Local)?;
/// let change = &verdict.changes[0];
/// assert_eq!(change.figure, Figure::AllocBytes);
/// assert!(change.shrank() && !change.grew());
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// The figure.
    pub figure: Figure,
    /// Its baseline value (per iteration where that applies).
    pub baseline: f64,
    /// Its value in this run.
    pub current: f64,
    /// The most it may be without failing: a whole number for totals, and for per-iteration
    /// figures rounded down to a hundredth. [`Change::grew`] does not compare against this
    /// rounded figure but exactly, in integers.
    pub allowed: f64,
    /// Whether the values are per iteration.
    pub per_iteration: bool,
    /// Over the allowance, decided exactly by [`compare`]: `current > allowed` in floating point
    /// would fail a figure at exactly the allowed growth whenever `baseline × (1 + p/100)`
    /// rounds down (100 B with 15% gives 114.99999999999999).
    over: bool,
}

impl Change {
    /// `true` when the figure is over its allowance: this fails the check.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Figure, Mode, Policy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = Baselines::new(dir.path());
    /// let p = Policy::new("10%")?;
    /// b.check("t", &memprobe::measure(|| vec![0u8; 100])?, &p, Mode::Update)?;
    /// // 110 bytes is exactly the allowance; 111 is over it.
    /// let at = b.check("t", &memprobe::measure(|| vec![0u8; 110])?, &p, Mode::Local)?;
    /// assert!(at.changes.iter().all(|c| !c.grew()));
    /// let over = b.check("t", &memprobe::measure(|| vec![0u8; 111])?, &p, Mode::Local)?;
    /// let change = &over.changes[0];
    /// assert_eq!((change.figure, change.grew()), (Figure::AllocBytes, true));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn grew(&self) -> bool {
        self.over
    }

    /// `true` when the figure is below its baseline (never a failure).
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Mode, Policy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = Baselines::new(dir.path());
    /// let p = Policy::new("0%")?;
    /// b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Update)?;
    /// let v = b.check("t", &memprobe::measure(|| vec![0u8; 8])?, &p, Mode::Local)?;
    /// assert!(v.changes[0].shrank() && !v.changes[0].grew());
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn shrank(&self) -> bool {
        self.current < self.baseline
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.figure == Figure::Allocations {
            ""
        } else {
            "B"
        };
        let show = |v: f64| Exact(v, unit);
        let each = if self.per_iteration {
            " per iteration"
        } else {
            ""
        };
        write!(
            f,
            "{}: baseline {}, now {}{each}",
            self.figure.name(),
            show(self.baseline),
            show(self.current)
        )?;
        if self.baseline != 0.0 {
            let percent = (self.current - self.baseline) / self.baseline.abs() * 100.0;
            write!(f, " ({percent:+.1}%")?;
        } else {
            write!(f, " (from zero")?;
        }
        if self.grew() {
            write!(f, "; allowed up to {})", show(self.allowed))
        } else {
            write!(f, ")")
        }
    }
}

/// The outcome of [`Baselines::check`]. `Display` gives the message to show: what grew and how
/// to bless it, what shrank and how to lock it in, or where a baseline was written.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::baseline::{Action, Baselines, Mode, Policy};
/// let dir = tempfile::tempdir().unwrap();
/// let v = Baselines::new(dir.path()).check("t", &memprobe::measure(|| ())?, &Policy::new("5%")?, Mode::Local)?;
/// assert_eq!(v.action, Action::Created);
/// assert!(v.to_string().contains("created baseline `t`"));
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// The baseline's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// What was done.
    pub action: Action,
    /// Figures that differ from the baseline (after [`Action::Compared`]).
    pub changes: Vec<Change>,
    /// Remarks: figures that could not be compared, and why.
    pub notes: Vec<String>,
    growth_percent: f64,
    update_command: String,
}

impl Verdict {
    /// `true` when a figure grew beyond the allowance.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Mode, Policy};
    /// let dir = tempfile::tempdir().unwrap();
    /// let b = Baselines::new(dir.path());
    /// let p = Policy::new("0%")?;
    /// b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Update)?;
    /// assert!(!b.check("t", &memprobe::measure(|| vec![0u8; 10])?, &p, Mode::Local)?.failed());
    /// let grown = b.check("t", &memprobe::measure(|| vec![0u8; 11])?, &p, Mode::Local)?;
    /// assert!(grown.failed());
    /// assert!(grown.to_string().contains("grew beyond its baseline"), "{grown}");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn failed(&self) -> bool {
        self.changes.iter().any(Change::grew)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.action {
            Action::Created => write!(
                f,
                "memprobe: created baseline `{}` at {path}; commit it",
                self.name
            )?,
            Action::Updated => write!(f, "memprobe: wrote baseline `{}` at {path}", self.name)?,
            Action::Compared if self.failed() => {
                write!(
                    f,
                    "memprobe: `{}` grew beyond its baseline ({path}, fail_if_growth = {}%):",
                    self.name, self.growth_percent
                )?;
                for change in self.changes.iter().filter(|c| c.grew()) {
                    write!(f, "\n  {change}")?;
                }
                write!(
                    f,
                    "\n  if the growth is intended, bless it with: {}",
                    self.update_command
                )?;
            }
            Action::Compared => {
                write!(
                    f,
                    "memprobe: `{}` is within its baseline ({path})",
                    self.name
                )?;
                let shrank: Vec<_> = self.changes.iter().filter(|c| c.shrank()).collect();
                for change in &shrank {
                    write!(f, "\n  {change}")?;
                }
                if !shrank.is_empty() {
                    write!(
                        f,
                        "\n  figures shrank: lock the improvement in with: {}",
                        self.update_command
                    )?;
                }
            }
        }
        for note in &self.notes {
            write!(f, "\n  note: {note}")?;
        }
        Ok(())
    }
}

/// Allowances are fractions of the baseline in millionths: exact for any percentage written with
/// up to four decimals (`15%` is 150 000, `2.5%` is 25 000).
const MILLION: i128 = 1_000_000;

/// `policy`'s allowed growth in millionths of the baseline (rounded to the nearest, saturating
/// for absurd percentages).
fn growth_millionths(policy: &Policy) -> i128 {
    // `as` saturates for values beyond i128; percentages are never negative.
    (policy.growth_percent * 10_000.0).round() as i128
}

/// `a × b ≤ c × d`, exactly when the products fit in i128 (always, for u64 factors), else in
/// floating point.
fn products_le(a: i128, b: i128, c: i128, d: i128) -> bool {
    match (a.checked_mul(b), c.checked_mul(d)) {
        (Some(left), Some(right)) => left <= right,
        _ => (a as f64) * (b as f64) <= (c as f64) * (d as f64),
    }
}

/// `⌊n / d⌋` for `d > 0`, as f64.
fn floor_div(n: i128, d: i128) -> f64 {
    n.div_euclid(d) as f64
}

fn compare(base: &Baseline, current: &Baseline, policy: &Policy) -> (Vec<Change>, Vec<String>) {
    let growth = growth_millionths(policy);
    let allowance = MILLION.saturating_add(growth);
    let per = |total: u64, iterations: u64| total as f64 / iterations.max(1) as f64;
    let mut changes = Vec::new();
    let mut push = |figure, baseline: f64, current: f64, allowed: f64, over, per_iteration| {
        if current != baseline {
            changes.push(Change {
                figure,
                baseline,
                current,
                allowed,
                per_iteration,
                over,
            });
        }
    };
    let iterated = base.iterations > 1 || current.iterations > 1;
    let (b_iters, c_iters) = (
        i128::from(base.iterations.max(1)),
        i128::from(current.iterations.max(1)),
    );
    for (figure, b, c) in [
        (Figure::Allocations, base.allocations, current.allocations),
        (Figure::AllocBytes, base.alloc_bytes, current.alloc_bytes),
    ] {
        let (b_total, c_total) = (i128::from(b), i128::from(c));
        // c / c_iters ≤ b / b_iters × allowance / MILLION, cross-multiplied.
        let within = products_le(c_total * b_iters, MILLION, b_total * c_iters, allowance);
        // b / b_iters × allowance / MILLION, rounded down to a hundredth (a whole number when
        // the figures are totals, as rounding down a whole-number limit loses nothing).
        let allowed = if iterated {
            b_total
                .checked_mul(allowance)
                .and_then(|n| n.checked_mul(100))
                .map_or(
                    per(b, base.iterations) * allowance as f64 / MILLION as f64,
                    |n| floor_div(n, MILLION * b_iters) / 100.0,
                )
        } else {
            b_total
                .checked_mul(allowance)
                .map_or(b as f64 * allowance as f64 / MILLION as f64, |n| {
                    floor_div(n, MILLION)
                })
        };
        let (b, c) = (per(b, base.iterations), per(c, current.iterations));
        push(figure, b, c, allowed, !within, iterated);
    }
    let (b_peak, c_peak) = (i128::from(base.peak_bytes), i128::from(current.peak_bytes));
    push(
        Figure::PeakBytes,
        base.peak_bytes as f64,
        current.peak_bytes as f64,
        b_peak.checked_mul(allowance).map_or(
            base.peak_bytes as f64 * allowance as f64 / MILLION as f64,
            |n| floor_div(n, MILLION),
        ),
        !products_le(c_peak, MILLION, b_peak, allowance),
        false,
    );

    let mut notes = Vec::new();
    if let Some(noise) = policy.rss_noise_bytes {
        match (base.rss_growth_bytes, current.rss_growth_bytes) {
            (Some(b), Some(c)) => {
                // b + |b| × growth + noise, in millionths (RSS growth can be negative).
                let (b_m, c_m) = (i128::from(b), i128::from(c));
                let limit = b_m
                    .checked_mul(MILLION)
                    .zip(b_m.abs().checked_mul(growth))
                    .and_then(|(base, grown)| base.checked_add(grown))
                    .and_then(|n| n.checked_add(i128::from(noise) * MILLION));
                let (allowed, over) = match limit {
                    Some(limit) => (floor_div(limit, MILLION), c_m * MILLION > limit),
                    None => {
                        let allowed = b as f64
                            + (b as f64).abs() * policy.growth_percent / 100.0
                            + noise as f64;
                        (allowed, c as f64 > allowed)
                    }
                };
                push(
                    Figure::RssGrowthBytes,
                    b as f64,
                    c as f64,
                    allowed,
                    over,
                    false,
                );
            }
            (None, Some(_)) => notes.push(format!(
                "rss_growth_bytes is not in the baseline, so RSS was not compared; record it with: {}",
                policy.update_command
            )),
            (_, None) => notes.push("no RSS figures on this platform, so RSS was not compared".to_owned()),
        }
    }
    (changes, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_relative_and_shrinking_passes() {
        let policy = Policy::new("10%").unwrap();
        let base = Baseline::new(10, 100, 10_000, 500);
        let same = compare(&base, &base, &policy);
        assert!(same.0.is_empty());
        // 10% more allocations per iteration is allowed; one more is not.
        let (changes, _) = compare(&base, &Baseline::new(10, 110, 10_000, 500), &policy);
        assert!(!changes[0].grew());
        let (changes, _) = compare(&base, &Baseline::new(10, 111, 10_000, 500), &policy);
        assert!(changes[0].grew());
        // Per iteration: twice the iterations, twice the totals, no change.
        assert!(
            compare(&base, &Baseline::new(20, 200, 20_000, 500), &policy)
                .0
                .is_empty()
        );
        // From zero, anything is growth.
        let zero = Baseline::new(1, 0, 0, 0);
        assert!(
            compare(&zero, &Baseline::new(1, 1, 8, 8), &policy)
                .0
                .iter()
                .all(Change::grew)
        );
        let (shrunk, _) = compare(&base, &Baseline::new(10, 50, 10_000, 500), &policy);
        assert!(shrunk[0].shrank() && !shrunk[0].grew());
    }

    /// Exactly the allowed growth passes, one more fails, for totals and per iteration, and
    /// the message names the exact limit (`100 × 1.15` is 114.99999999999999 in f64).
    #[test]
    fn exactly_the_allowed_growth_passes() {
        let policy = Policy::new("15%").unwrap();
        let base = Baseline::new(1, 100, 100, 100);
        let (at, _) = compare(&base, &Baseline::new(1, 115, 115, 115), &policy);
        assert!(at.iter().all(|c| !c.grew() && c.allowed == 115.0), "{at:?}");
        let (over, _) = compare(&base, &Baseline::new(1, 116, 116, 116), &policy);
        assert!(over.iter().all(Change::grew), "{over:?}");
        assert_eq!(
            over[2].to_string(),
            "peak_bytes: baseline 100 B, now 116 B (+16.0%; allowed up to 115 B)"
        );
        // Per iteration: 100 per iteration over 3 iterations against 115 per iteration over 7.
        let base = Baseline::new(3, 300, 300, 100);
        assert!(
            compare(&base, &Baseline::new(7, 805, 805, 100), &policy)
                .0
                .iter()
                .all(|c| !c.grew())
        );
        let (over, _) = compare(&base, &Baseline::new(7, 806, 806, 100), &policy);
        assert!(over.iter().all(Change::grew), "{over:?}");
        assert_eq!(
            over[1].to_string(),
            "alloc_bytes: baseline 100 B, now 115.14 B per iteration (+15.1%; allowed up to 115 B)"
        );
        // Fractional percentages are exact too: 2.5% of 1000 is 25.
        let policy = Policy::new("2.5%").unwrap();
        let base = Baseline::new(1, 1000, 1000, 1000);
        assert!(
            compare(&base, &Baseline::new(1, 1025, 1025, 1025), &policy)
                .0
                .iter()
                .all(|c| !c.grew())
        );
        assert!(
            compare(&base, &Baseline::new(1, 1026, 1026, 1026), &policy)
                .0
                .iter()
                .all(Change::grew)
        );
        // RSS: baseline growth plus the percentage of its magnitude plus the noise, exactly.
        let policy = Policy::new("15%").unwrap().rss_noise("10").unwrap();
        let mut base = Baseline::new(1, 1, 1, 1);
        base.rss_growth_bytes = Some(-100);
        let mut at = base;
        at.rss_growth_bytes = Some(-100 + 15 + 10);
        assert!(compare(&base, &at, &policy).0.iter().all(|c| !c.grew()));
        at.rss_growth_bytes = Some(-74);
        let (over, _) = compare(&base, &at, &policy);
        assert!(over[0].grew() && over[0].allowed == -75.0, "{over:?}");
    }
}
