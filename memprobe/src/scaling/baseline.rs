//! Per-item baselines: a fit's per-item costs compared with figures committed in the repository,
//! failing when one grows by more than the allowed percentage.
//!
//! The file sits beside the test's ordinary baseline, in the same directory
//! ([`Baselines::for_crate`]), named `<name>.per_item.toml`:
//!
//! ```toml
//! # memprobe per-item baseline of `jobs`: costs per job from a scaling fit, compared by fail_if_growth.
//! # Rewrite it with: MEMPROBE_UPDATE=1 cargo test -p memprobe-examples
//! format = 1
//! name = "jobs"
//! item = "job"
//! sizes = [10, 50, 100, 200]
//! allocations_per_item = 5.0
//! alloc_bytes_per_item = 1282.0
//! peak_bytes_per_item = 1282.0
//! ```
//!
//! The modes are the ordinary baselines' ([`Mode`]): bless with `MEMPROBE_UPDATE=1`, a missing
//! file is created locally and an error under `CI=true`, shrinking never fails. The per-item
//! figures of a deterministic workload are exact; a tolerance of a billionth absorbs only the
//! rounding of the fit.

use super::Fit;
use super::table::count;
use crate::baseline::judge::{self, Step};
use crate::baseline::message::{ChangeLine, Subject, write_verdict};
use crate::baseline::outcome::Judged;
use crate::baseline::{Action, Baselines, Mode, Policy, file};
use crate::error::{Error, Result};
use crate::files::file_stem;
use crate::units::ByteAmount;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    /// The per-item baseline format (the schema version).
    format: u32,
    /// The test's baseline name.
    name: String,
    /// What one unit of `n` is called.
    item: String,
    /// The sizes the fit ran.
    sizes: Vec<u64>,
    /// Allocation events per item (the fitted slope).
    allocations_per_item: f64,
    /// Bytes allocated per item.
    alloc_bytes_per_item: f64,
    /// Peak live bytes per item.
    peak_bytes_per_item: f64,
}

impl File {
    fn of(fit: &Fit, name: &str) -> File {
        File {
            format: FORMAT,
            name: name.to_owned(),
            item: fit.item.clone(),
            sizes: fit.sizes.clone(),
            allocations_per_item: fit.allocations.per_item,
            alloc_bytes_per_item: fit.alloc_bytes.per_item,
            peak_bytes_per_item: fit.peak_bytes.per_item,
        }
    }

    fn figures(&self) -> [(&'static str, f64, bool); 3] {
        [
            ("allocations_per_item", self.allocations_per_item, false),
            ("alloc_bytes_per_item", self.alloc_bytes_per_item, true),
            ("peak_bytes_per_item", self.peak_bytes_per_item, true),
        ]
    }
}

/// The file of per-item baseline `name` in `baselines`.
fn path_of(baselines: &Baselines, name: &str) -> PathBuf {
    baselines
        .dir()
        .join(format!("{}.per_item.toml", file_stem(name)))
}

fn load(path: &Path, name: &str) -> Result<Option<File>> {
    file::read(path)?
        .map(|text| file::parse(&text, "per-item baseline", name, FORMAT, path))
        .transpose()
}

fn save(path: &Path, file: &File, update_command: &str) -> Result<()> {
    let title = format!(
        "memprobe per-item baseline of `{}`: costs per {} from a scaling fit, compared by fail_if_growth.",
        file.name, file.item
    );
    file::write(path, &title, update_command, file)
}

impl file::Header for File {
    fn format(&self) -> u32 {
        self.format
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Fit {
    /// Compares the per-item costs (allocations, bytes allocated, peak live bytes) with per-item
    /// baseline `name` in `baselines` under `policy`, or writes it, as `mode` says.
    ///
    /// # Errors
    ///
    /// [`Error::Baseline`] when the baseline is missing in [`Mode::Ci`] (naming the command that
    /// creates it), corrupt, or would be written from process-scope figures that include other
    /// threads' allocations; [`Error::Io`] when it cannot be written.
    ///
    /// # Examples
    ///
    /// ```
    /// # memprobe::global_allocator!();
    /// use memprobe::baseline::{Baselines, Mode, Policy};
    /// use memprobe::scaling::Scaling;
    /// let dir = tempfile::tempdir().unwrap();
    /// let baselines = Baselines::new(dir.path());
    /// let policy = Policy::new("10%")?;
    /// let sizes = Scaling::new([10, 20, 40]).item("job");
    /// let small = sizes.run(|n| vec![0u8; 100 * n as usize])?;
    /// assert!(!small.check_baseline(&baselines, "jobs", &policy, Mode::Local)?.failed()); // created
    /// let big = sizes.run(|n| vec![0u8; 120 * n as usize])?;
    /// let verdict = big.check_baseline(&baselines, "jobs", &policy, Mode::Local)?;
    /// assert!(verdict.failed());
    /// assert!(verdict.to_string().contains(
    ///     "alloc_bytes_per_item: baseline 100 B, now 120 B per job (+20.0%; allowed up to 110 B)"
    /// ), "{verdict}");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn check_baseline(
        &self,
        baselines: &Baselines,
        name: &str,
        policy: &Policy,
        mode: Mode,
    ) -> Result<PerItemVerdict> {
        let path = path_of(baselines, name);
        let current = File::of(self, name);
        let verdict = |action, changes, notes| PerItemVerdict {
            name: name.to_owned(),
            item: self.item.clone(),
            path: path.clone(),
            action,
            changes,
            notes,
            growth_percent: policy.growth_percent(),
            update_command: policy.update_command_line().to_owned(),
        };
        let write = || -> Result<()> {
            let outside: u64 = self
                .points
                .iter()
                .filter_map(|p| p.outside_alloc_count)
                .sum();
            if outside > 0 {
                return Err(Error::Baseline {
                    path: path.clone(),
                    problem: format!(
                        "not written: {outside} allocation events came from threads outside the measured runs, so the per-item costs are not this code's alone; use thread scope, or run under cargo nextest (one test per process)"
                    ),
                });
            }
            save(&path, &current, policy.update_command_line())
        };
        let step = judge::decide(
            mode,
            "per-item baseline",
            name,
            &path,
            policy.update_command_line(),
            || load(&path, name),
            write,
        )?;
        let base = match step {
            Step::Written(action) => return Ok(verdict(action, Vec::new(), Vec::new())),
            Step::Compare(base) => base,
        };
        let mut changes = Vec::new();
        for ((figure, b, bytes), (_, c, _)) in base.figures().into_iter().zip(current.figures()) {
            if b == c {
                continue;
            }
            let (allowed, over) = judge::fitted(b, c, policy);
            changes.push(PerItemChange {
                figure,
                baseline: b,
                current: c,
                allowed,
                over,
                bytes,
            });
        }
        let mut notes = Vec::new();
        if base.sizes != current.sizes {
            notes.push(format!(
                "the baseline was fitted over sizes {:?}, this run over {:?}; per-item costs compare, but a re-bless records the new sizes",
                base.sizes, current.sizes
            ));
        }
        Ok(verdict(Action::Compared, changes, notes))
    }
}

/// A per-item figure that differs from its baseline.
///
/// # Examples
///
/// See [`Fit::check_baseline`].
///
/// ```
/// # let _ = memprobe::scaling::PerItemChange::grew;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PerItemChange {
    /// The figure's key in the file (`alloc_bytes_per_item`, ...).
    pub figure: &'static str,
    /// Its baseline value, per item.
    pub baseline: f64,
    /// Its value in this run, per item.
    pub current: f64,
    /// The most it may be without failing.
    pub allowed: f64,
    over: bool,
    bytes: bool,
}

impl PerItemChange {
    /// `true` when the figure is over its allowance: this fails the check.
    ///
    /// # Examples
    ///
    /// See [`Fit::check_baseline`].
    ///
    /// ```
    /// # let _ = memprobe::scaling::PerItemChange::grew;
    /// ```
    pub fn grew(&self) -> bool {
        self.over
    }

    /// `true` when the figure is below its baseline (never a failure).
    ///
    /// # Examples
    ///
    /// See [`Fit::check_baseline`].
    ///
    /// ```
    /// # let _ = memprobe::scaling::PerItemChange::shrank;
    /// ```
    pub fn shrank(&self) -> bool {
        self.current < self.baseline
    }
}

/// What [`Fit::check_baseline`] did; `Display` gives the message to show.
///
/// # Examples
///
/// See [`Fit::check_baseline`].
///
/// ```
/// # let _ = memprobe::scaling::PerItemVerdict::failed;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PerItemVerdict {
    /// The baseline's name.
    pub name: String,
    /// What one item is called.
    pub item: String,
    /// Its file.
    pub path: PathBuf,
    /// What was done.
    pub action: Action,
    /// Per-item figures that differ from the baseline.
    pub changes: Vec<PerItemChange>,
    /// Remarks (sizes that changed).
    pub notes: Vec<String>,
    growth_percent: f64,
    update_command: String,
}

impl PerItemVerdict {
    /// `true` when a per-item figure grew beyond the allowance.
    ///
    /// # Examples
    ///
    /// See [`Fit::check_baseline`].
    ///
    /// ```
    /// # let _ = memprobe::scaling::PerItemVerdict::failed;
    /// ```
    pub fn failed(&self) -> bool {
        self.changes.iter().any(PerItemChange::grew)
    }
}

impl Judged for PerItemChange {
    fn grew(&self) -> bool {
        PerItemChange::grew(self)
    }
    fn shrank(&self) -> bool {
        PerItemChange::shrank(self)
    }
}

impl fmt::Display for PerItemVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = format!("the cost per {} of `{}`", self.item, self.name);
        let subject = Subject {
            kind: "per-item baseline",
            name: &self.name,
            what: &what,
            path: &self.path,
            growth_percent: self.growth_percent,
            update_command: &self.update_command,
        };
        let each = format!(" per {}", self.item);
        write_verdict(
            f,
            &subject,
            self.action,
            &self.changes,
            &self.notes,
            |f, c| {
                ChangeLine {
                    figure: c.figure,
                    baseline: c.baseline,
                    current: c.current,
                    allowed: c.allowed,
                    grew: c.grew(),
                    each: &each,
                    show: |v: f64| {
                        if c.bytes {
                            ByteAmount(v).to_string()
                        } else {
                            count(v)
                        }
                    },
                }
                .fmt(f)
            },
        )
    }
}
