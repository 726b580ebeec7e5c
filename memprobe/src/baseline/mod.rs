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

//!
//! # Files of this module
//!
//! `record` (a baseline's figures and its TOML form), `file` (reading, checking and writing a
//! baseline file, shared with the per-item baselines), `policy` (allowed growth, [`Mode`]),
//! `judge` (the flow of a check and the comparison of each figure, shared with the per-item
//! baselines), `change` (one compared figure), `verdict` (the outcome) and `message` (the wording
//! of every baseline verdict, per-item ones included); `outcome` holds the vocabulary they share.

use crate::error::{Error, Result};
use crate::files::file_stem;
pub use crate::output_dir::notes_file;
use crate::report::{OutsideNote, Report};
use std::path::{Path, PathBuf};

mod change;
pub(crate) mod file;
pub(crate) mod judge;
pub(crate) mod message;
pub(crate) mod outcome;
mod policy;
mod record;
mod verdict;

pub use change::{Change, Figure};
pub use outcome::Action;
pub use policy::{Mode, Policy};
pub use record::Baseline;
pub(crate) use record::parse;
// The baseline file's on-disk form, for its JSON Schema (`crate::schema`).
#[cfg(feature = "json-schema")]
pub(crate) use record::{FORMAT, File};
pub use verdict::Verdict;

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
        let file = record::File::of(name, baseline);
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
        let current = Baseline::from_report(report, policy.rss_noise_bytes().is_some());
        let verdict = |action, changes, notes| Verdict {
            name: name.to_owned(),
            path: path.clone(),
            action,
            changes,
            notes,
            growth_percent: policy.growth_percent(),
            update_command: policy.update_command_line().to_owned(),
        };
        let write = || -> Result<()> {
            if let Some(outside) = report.outside_alloc_count.filter(|&n| n > 0) {
                return Err(Error::Baseline {
                    path: path.clone(),
                    problem: format!("not written: {}", OutsideNote(outside)),
                });
            }
            self.save(name, &current, policy.update_command_line())?;
            Ok(())
        };
        let step = judge::decide(
            mode,
            "baseline",
            name,
            &path,
            policy.update_command_line(),
            || self.load(name),
            write,
        )?;
        Ok(match step {
            judge::Step::Written(action) => verdict(action, Vec::new(), Vec::new()),
            judge::Step::Compare(base) => {
                let (changes, notes) = judge::compare(&base, &current, policy);
                verdict(Action::Compared, changes, notes)
            }
        })
    }
}
