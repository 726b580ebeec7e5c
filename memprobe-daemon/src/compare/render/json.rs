//! The comparison as versioned JSON (`{"schema": "memprobe.compare", "version": 1, ...}`): every
//! figure of every test, exact values as integers, for scripts.

use super::Render;
use crate::compare::diff::Comparison;
use serde::Serialize;
use std::fmt;

/// The `schema` field of the output.
pub(crate) const SCHEMA: &str = "memprobe.compare";
/// Its `version`.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Pretty-printed JSON.
pub(crate) struct Json;

#[derive(Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
struct Versioned<'a> {
    /// Always `memprobe.compare`.
    schema: &'static str,
    /// The schema version this output follows.
    version: u32,
    #[serde(flatten)]
    comparison: &'a Comparison,
}

/// The JSON Schema of `compare --json`.
#[cfg(feature = "json-schema")]
pub(crate) fn schema() -> memprobe::schema::FileSchema {
    memprobe::schema::FileSchema::of::<Versioned<'static>>(
        "compare",
        SCHEMA_VERSION,
        "memprobe-daemon compare --json",
    )
    .with_const("schema", SCHEMA)
    .with_const("version", SCHEMA_VERSION)
}

impl Render for Json {
    fn render(&self, comparison: &Comparison, out: &mut dyn fmt::Write) -> fmt::Result {
        let text = serde_json::to_string_pretty(&Versioned {
            schema: SCHEMA,
            version: SCHEMA_VERSION,
            comparison,
        })
        .map_err(|_| fmt::Error)?;
        writeln!(out, "{text}")
    }
}
