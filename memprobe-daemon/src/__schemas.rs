//! The JSON Schemas of the files the daemon writes, for `tests/schemas.rs` (which checks the
//! committed copies in `schemas/` and validates real output against them): used by that test,
//! not public API. Each schema is built beside the type it describes; this module only routes.

use memprobe::schema::FileSchema;

/// The summary `watch --summary` writes.
///
/// # Examples
///
/// ```
/// let s = memprobe_daemon::__schemas::summary();
/// assert_eq!(s.file_name(), "summary.v2.schema.json");
/// ```
pub fn summary() -> FileSchema {
    crate::watch::summary_schema()
}

/// The summary `verdict --summary` writes.
///
/// # Examples
///
/// ```
/// let s = memprobe_daemon::__schemas::verdict_summary();
/// assert_eq!(s.schema["properties"]["schema_version"]["const"], s.version);
/// ```
pub fn verdict_summary() -> FileSchema {
    crate::verdict::command::schema()
}

/// One line of `watch --out` (JSONL).
///
/// # Examples
///
/// ```
/// let s = memprobe_daemon::__schemas::sample();
/// assert_eq!(s.schema["additionalProperties"], false);
/// ```
pub fn sample() -> FileSchema {
    crate::output::sample_schema::schema()
}

/// The output of `compare --json`.
///
/// # Examples
///
/// ```
/// let s = memprobe_daemon::__schemas::compare();
/// assert_eq!(s.schema["properties"]["schema"]["const"], "memprobe.compare");
/// ```
pub fn compare() -> FileSchema {
    crate::compare::render::json_schema()
}

/// Every schema of a file the daemon writes.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe_daemon::__schemas::all().len(), 4);
/// ```
pub fn all() -> Vec<FileSchema> {
    vec![summary(), verdict_summary(), sample(), compare()]
}
