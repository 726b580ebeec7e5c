//! Reading one side of a comparison: a directory of test reports (as `#[memprobe]` writes them
//! under `$MEMPROBE_HOME`, `$CARGO_TARGET_DIR/memprobe` or `target/memprobe`), a single report, a
//! `watch --summary` file, or an allocation-site profile (`<stem>.sites.json`, as
//! `memprobe::sites::render::json` writes it), turned into plain [`Entry`] figures. A report
//! with a `<stem>.sites.json` beside it carries that profile too. Measuring only: nothing here
//! formats for people, and every failure is one line naming the file and the fix.
//!
//! A site profile has no `schema` marker of its own: it is recognised by its shape (an object
//! with `mean_interval_bytes`, `total` and `sites`).

pub(crate) use super::entry::{Entry, Kind, Metric, Side, Source, Value};

use super::convert::{SummaryFile, from_profile, from_report, from_summary};
use anyhow::{Result, anyhow, bail};
use memprobe::Report;
use memprobe::sites::Profile;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Loads both sides and checks that they can be compared.
///
/// # Errors
///
/// A missing path, a directory without reports, a truncated or foreign file, a schema version
/// this build does not read, or sides of different kinds: one line naming the file and the fix.
pub(crate) fn load_pair(base: &Path, new: &Path) -> Result<(Side, Side)> {
    let base = load("BASE", base)?;
    let new = load("NEW", new)?;
    if base.kind != new.kind {
        bail!(
            "BASE {} is {} but NEW {} is {}: compare test reports with test reports, a watch summary with a watch summary, or a site profile (.sites.json) with a site profile",
            base.path.display(),
            base.kind.describe(),
            new.path.display(),
            new.kind.describe()
        );
    }
    Ok((base, new))
}

/// Loads one side (`role` is `BASE` or `NEW`, for messages).
fn load(role: &str, path: &Path) -> Result<Side> {
    let meta = std::fs::metadata(path).map_err(|e| {
        anyhow!(
            "{role} {}: {e}: give a directory of reports (e.g. target/memprobe), a report .json or a `watch --summary` file",
            path.display()
        )
    })?;
    if meta.is_dir() {
        load_dir(role, path)
    } else {
        let file = read_json(role, path)?;
        let mut side = Side {
            path: path.to_owned(),
            kind: file.kind().ok_or_else(|| {
                anyhow!(
                    "{role} {}: not a memprobe report (schema \"memprobe.report\"), a memprobe-daemon watch summary nor an allocation-site profile: give a file written by #[memprobe], `watch --summary` or #[memprobe(sites)] (<stem>.sites.json)",
                    path.display()
                )
            })?,
            versions: Vec::new(),
            is_dir: false,
            entries: BTreeMap::new(),
        };
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let key = name
            .strip_suffix(SITES_SUFFIX)
            .or_else(|| name.strip_suffix(".json"))
            .unwrap_or(&name)
            .to_owned();
        side.add(role, path, key.clone(), &file)?;
        if side.kind == Kind::Reports {
            // A single report takes the profile beside it, as in a directory.
            let beside = path.with_file_name(format!("{key}{SITES_SUFFIX}"));
            if beside.is_file()
                && let Some(entry) = side.entries.get_mut(&key)
            {
                entry.sites = Some(read_profile(role, &beside)?);
            }
        }
        Ok(side)
    }
}

fn load_dir(role: &str, dir: &Path) -> Result<Side> {
    let mut side = Side {
        path: dir.to_owned(),
        kind: Kind::Reports,
        versions: Vec::new(),
        is_dir: true,
        entries: BTreeMap::new(),
    };
    // Profiles by the key of the report they sit beside, attached once every report is read.
    let mut profiles = BTreeMap::<String, Profile>::new();
    let rel_key = |path: &Path, suffix: &str| {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        // `/`-separated whatever the platform, for stable keys and messages.
        let rel: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
        let rel = rel.join("/");
        rel.strip_suffix(suffix).unwrap_or(&rel).to_owned()
    };
    // Sorted, so every message and the order of equal rows are reproducible.
    for item in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let item = item.map_err(|e| anyhow!("{role} {}: {e}", dir.display()))?;
        let path = item.path();
        if !item.file_type().is_file() || path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        if path.to_string_lossy().ends_with(SITES_SUFFIX) {
            profiles.insert(rel_key(path, SITES_SUFFIX), read_profile(role, path)?);
            continue;
        }
        let file = read_json(role, path)?;
        match file.kind() {
            Some(Kind::Reports) => {
                side.add(role, path, rel_key(path, ".json"), &file)?;
            }
            Some(Kind::Summary) => bail!(
                "{role} {}: a watch summary inside a directory of test reports: give the summary file itself as {role}, or move it out of the directory",
                path.display()
            ),
            Some(Kind::Sites) => bail!(
                "{role} {}: a site profile inside a directory of test reports without the .sites.json name that pairs it with its report: name it <report stem>.sites.json, or give it as {role} by itself",
                path.display()
            ),
            // Other tools' JSON beside the reports is not ours to judge.
            None => {}
        }
    }
    // A profile whose report is missing has nothing to explain: left out.
    for (rel, profile) in profiles {
        if let Some(entry) = side.entries.get_mut(&rel) {
            entry.sites = Some(profile);
        }
    }
    // Keys: the report file's name (`<crate>.<module>.<test>`), so a side given as the report
    // directory and one given as a package directory below it still pair; the path inside the
    // directory only where two packages have a test crate of the same name.
    let stem = |rel: &str| rel.rsplit('/').next().unwrap_or(rel).to_owned();
    let mut stems = HashMap::<String, usize>::new();
    for rel in side.entries.keys() {
        *stems.entry(stem(rel)).or_default() += 1;
    }
    side.entries = std::mem::take(&mut side.entries)
        .into_iter()
        .map(|(rel, entry)| {
            let short = stem(&rel);
            (if stems[&short] > 1 { rel } else { short }, entry)
        })
        .collect();
    // Report names are test paths without the crate (what `cargo test` prints): two test crates
    // may share one. Those show their key instead, which tells them apart.
    let mut names = HashMap::<String, usize>::new();
    for entry in side.entries.values() {
        *names.entry(entry.name.clone()).or_default() += 1;
    }
    for (key, entry) in &mut side.entries {
        if names[&entry.name] > 1 {
            entry.name = key.clone();
        }
    }
    if side.entries.is_empty() {
        bail!(
            "{role} {}: no memprobe reports in this directory (*.json with schema \"memprobe.report\"): run the #[memprobe] tests first (`cargo test`) and give their report directory ($MEMPROBE_HOME, else target/memprobe)",
            dir.display()
        );
    }
    Ok(side)
}

/// A JSON file, parsed far enough to know what it is.
struct JsonFile {
    text: String,
    value: serde_json::Value,
}

impl JsonFile {
    fn kind(&self) -> Option<Kind> {
        let v = &self.value;
        if v.get("schema").and_then(|s| s.as_str()) == Some(memprobe::report::SCHEMA) {
            Some(Kind::Reports)
        } else if v
            .get("tool")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t.starts_with("memprobe-daemon"))
            && v.get("schema_version").is_some()
        {
            Some(Kind::Summary)
        } else if v.get("mean_interval_bytes").is_some_and(|m| m.is_u64())
            && v.get("total").is_some_and(|t| t.is_object())
            && v.get("sites").is_some_and(|s| s.is_array())
        {
            Some(Kind::Sites)
        } else {
            None
        }
    }
}

/// How a site profile's file name ends: `<report stem>.sites.json`.
pub(crate) const SITES_SUFFIX: &str = ".sites.json";

/// A site profile, read whole: truncated, foreign or malformed files are one line.
fn read_profile(role: &str, path: &Path) -> Result<Profile> {
    let file = read_json(role, path)?;
    if file.kind() != Some(Kind::Sites) {
        bail!(
            "{role} {}: not an allocation-site profile (an object with mean_interval_bytes, total and sites): re-run the #[memprobe(sites)] test that writes it, or remove the file",
            path.display()
        );
    }
    profile_of(role, path, &file)
}

fn profile_of(role: &str, path: &Path, file: &JsonFile) -> Result<Profile> {
    serde_json::from_value(file.value.clone()).map_err(|e| {
        anyhow!(
            "{role} {}: malformed allocation-site profile ({e}): re-run the #[memprobe(sites)] test that writes it",
            path.display()
        )
    })
}

fn read_json(role: &str, path: &Path) -> Result<JsonFile> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow!("{role} {}: {e}", path.display()))?;
    let value = serde_json::from_str(&text).map_err(|e| {
        let what = if e.is_eof() {
            "truncated JSON"
        } else {
            "malformed JSON"
        };
        anyhow!(
            "{role} {}: {what} ({e}): re-run what wrote it (the #[memprobe] test, or `watch --summary`), or delete it",
            path.display()
        )
    })?;
    Ok(JsonFile { text, value })
}

impl Side {
    fn add(&mut self, role: &str, path: &Path, key: String, file: &JsonFile) -> Result<()> {
        let entry = match self.kind {
            Kind::Reports => {
                let version = version_of(&file.value, "version");
                if version.is_some_and(|v| v > memprobe::report::SCHEMA_VERSION) {
                    bail!(
                        "{role} {}: report schema version {} is newer than this memprobe-daemon reads (up to {}): compare with the memprobe-daemon of the memprobe version that wrote it",
                        path.display(),
                        version.unwrap_or_default(),
                        memprobe::report::SCHEMA_VERSION
                    );
                }
                self.versions.extend(version);
                let report = Report::from_json(&file.text).map_err(|e| {
                    let message = e.to_string();
                    anyhow!(
                        "{role} {}: {}: re-run the #[memprobe] test that wrote it",
                        path.display(),
                        message.strip_prefix("memprobe: ").unwrap_or(&message)
                    )
                })?;
                from_report(path, &report)
            }
            Kind::Summary => {
                let version = version_of(&file.value, "schema_version");
                if version.is_some_and(|v| v > crate::output::SCHEMA_VERSION) {
                    bail!(
                        "{role} {}: summary schema version {} is newer than this memprobe-daemon reads (up to {}): compare with the memprobe-daemon that wrote it",
                        path.display(),
                        version.unwrap_or_default(),
                        crate::output::SCHEMA_VERSION
                    );
                }
                self.versions.extend(version);
                let summary: SummaryFile =
                    serde_json::from_value(file.value.clone()).map_err(|e| {
                        anyhow!(
                            "{role} {}: malformed watch summary ({e}): re-run `watch --summary`",
                            path.display()
                        )
                    })?;
                from_summary(&summary)
            }
            Kind::Sites => {
                let profile = profile_of(role, path, file)?;
                from_profile(key.clone(), profile)
            }
        };
        self.entries.insert(key, entry);
        Ok(())
    }
}

fn version_of(value: &serde_json::Value, field: &str) -> Option<u32> {
    value
        .get(field)
        .and_then(serde_json::Value::as_u64)
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}
