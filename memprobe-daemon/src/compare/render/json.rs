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
struct Versioned<'a> {
    schema: &'static str,
    version: u32,
    #[serde(flatten)]
    comparison: &'a Comparison,
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
