//! The on-disk life of one baseline file, shared by the per-test baselines
//! ([`crate::baseline`]) and the per-item ones ([`crate::scaling`]): read it (a missing file is
//! `None`), check its header (`format`, `name`) with messages that say how to fix it, and write it
//! atomically under a comment naming the command that rewrites it.

use crate::error::{Error, Result};
use crate::files::write_atomically;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// The header every baseline file starts with.
pub(crate) trait Header {
    /// The file's `format` field.
    fn format(&self) -> u32;
    /// The file's `name` field: the test (or fit) it belongs to.
    fn name(&self) -> &str;
}

/// The text of `path`, or `None` when there is no such file.
pub(crate) fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Baseline {
            path: path.to_owned(),
            problem: format!("cannot be read: {e}"),
        }),
    }
}

/// Parses `text` as a `kind` (e.g. "baseline", "per-item baseline") of `name` in the `format`
/// this build reads; `path` only names the file in errors. Never panics.
pub(crate) fn parse<F: DeserializeOwned + Header>(
    text: &str,
    kind: &str,
    name: &str,
    format: u32,
    path: &Path,
) -> Result<F> {
    let bad = |problem: String| Error::Baseline {
        path: path.to_path_buf(),
        problem,
    };
    let file: F = toml::from_str(text).map_err(|e| {
        bad(format!(
            "is not a valid memprobe {kind} ({}); fix it by hand, or delete it and rerun with MEMPROBE_UPDATE=1",
            e.to_string().trim_end()
        ))
    })?;
    if file.format() != format {
        return Err(bad(format!(
            "has format {}, but this memprobe reads format {format}; rewrite it with MEMPROBE_UPDATE=1",
            file.format()
        )));
    }
    if file.name() != name {
        return Err(bad(format!(
            "is the {kind} of `{}`, not `{name}`; was it copied from another test? Delete it and rerun with MEMPROBE_UPDATE=1",
            file.name()
        )));
    }
    Ok(file)
}

/// Writes `file` to `path` atomically (a reader never sees half a file) after the comment line
/// `title` and a line naming `update_command`, creating the directory.
pub(crate) fn write(
    path: &Path,
    title: &str,
    update_command: &str,
    file: &impl Serialize,
) -> Result<()> {
    let body = toml::to_string(file).map_err(|e| Error::Baseline {
        path: path.to_owned(),
        problem: format!("could not be serialized: {e}"),
    })?;
    let text = format!("# {title}\n# Rewrite it with: {update_command}\n{body}");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::from_io("creating baseline directory", dir.to_owned(), e, None))?;
    }
    write_atomically(path, text.as_bytes())
        .map_err(|e| Error::from_io("writing", path.to_owned(), e, None))
}
