//! Versioned JSON: `{"schema": "memprobe.report", "version": 1, ...}`. A reader refuses another
//! schema or a newer version with a clear message instead of misreading it.

use super::{Render, Report};
use serde::{Deserialize, Serialize};

/// The `schema` field of a report file.
pub const SCHEMA: &str = "memprobe.report";
/// The `version` field this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

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
struct Versioned<'a> {
    schema: &'static str,
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
    "a memprobe report written by Report::to_json (schema \"memprobe.report\", version 1)";

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
