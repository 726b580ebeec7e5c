//! Versioned JSON: `{"schema": "memprobe.report", "version": 2, ...}`. A reader refuses another
//! schema or a newer version with a clear message instead of misreading it.
//!
//! Versions: 1, the first; 2 adds `source_file` and `source_line` (where the `#[memprobe]`
//! function is written), optional, so version-1 reports still read (both `None`).

use super::{Render, Report};
use serde::{Deserialize, Serialize};

/// The `schema` field of a report file.
pub const SCHEMA: &str = "memprobe.report";
/// The `version` field this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 2;

/// Renders a report as pretty-printed, versioned JSON.
///
/// # Examples
///
/// ```
/// # memprobe::global_allocator!();
/// use memprobe::report::{Json, Render};
/// let text = Json.render_to_string(&memprobe::measure(|| ())?);
/// let value: serde_json::Value = serde_json::from_str(&text).unwrap();
/// assert_eq!(value["version"], memprobe::report::SCHEMA_VERSION);
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

#[derive(Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Versioned<'a> {
    /// Always `memprobe.report`.
    schema: &'static str,
    /// The schema version this file follows.
    version: u32,
    #[serde(flatten)]
    report: &'a Report,
}

#[derive(Deserialize)]
struct Header {
    schema: Option<String>,
    version: Option<u32>,
}

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn std::fmt::Write) -> std::fmt::Result {
        let versioned = Versioned {
            schema: SCHEMA,
            version: SCHEMA_VERSION,
            report,
        };
        let text = serde_json::to_string_pretty(&versioned).map_err(|_| std::fmt::Error)?;
        out.write_str(&text)
    }
}

const EXPECTED: &str =
    "a memprobe report written by Report::to_json (schema \"memprobe.report\", version 1 or 2)";

pub(super) fn parse(text: &str) -> crate::Result<Report> {
    let bad = |what: String| crate::Error::InvalidInput {
        kind: "report",
        input: what,
        expected: EXPECTED,
    };
    let header: Header = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    match (header.schema.as_deref(), header.version) {
        (Some(SCHEMA), Some(v)) if v <= SCHEMA_VERSION => {}
        (Some(SCHEMA), Some(v)) => {
            return Err(bad(format!(
                "version {v} is newer than this memprobe reads"
            )));
        }
        (schema, version) => return Err(bad(format!("schema {schema:?}, version {version:?}"))),
    }
    serde_json::from_str(text).map_err(|e| bad(format!("malformed report: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_reports_read_without_a_source_location() {
        let report = crate::Report::new(
            Some("t".into()),
            crate::Scope::Thread,
            1,
            0,
            std::time::Duration::ZERO,
            super::super::AllocFigures::default(),
            None,
            None,
            super::super::JemallocFigures::Unavailable {
                reason: "test".into(),
            },
            None,
        )
        .at_source("tests/t.rs", 7);
        let current: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(current["version"], 2);
        assert_eq!(current["source_file"], "tests/t.rs");
        assert_eq!(current["source_line"], 7);
        let mut old = current.clone();
        old["version"] = 1.into();
        let fields = old.as_object_mut().unwrap();
        fields.remove("source_file");
        fields.remove("source_line");
        let read = parse(&old.to_string()).unwrap();
        assert_eq!((read.source_file, read.source_line), (None, None));
        assert_eq!(read.name.as_deref(), Some("t"));
        let mut newer = current;
        newer["version"] = 3.into();
        let e = parse(&newer.to_string()).unwrap_err().to_string();
        assert!(
            e.contains("version 3 is newer than this memprobe reads"),
            "{e}"
        );
        assert!(e.contains("version 1 or 2"), "{e}");
    }
}
