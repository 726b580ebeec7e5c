//! The footprint as versioned JSON (`{"schema": "memprobe.footprint", "version": 1, ...}`), sizes
//! as integer bytes, for scripts. One binary: `binary`; two: `base`, `new` (without their symbol
//! lists) and the `totals`, `sections` and `symbols` that changed.

use super::{Render, Report};
use crate::footprint::diff::{ItemDiff, TotalDiff};
use crate::footprint::measure::{Footprint, Section, Symbol, SymbolSizes, Totals};
use serde::Serialize;
use std::fmt;

/// The `schema` field of the output.
pub(crate) const SCHEMA: &str = "memprobe.footprint";
/// Its `version`.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Pretty-printed JSON.
pub(crate) struct Json;

#[derive(Serialize)]
struct Binary<'a> {
    path: &'a str,
    format: &'a str,
    architecture: &'a str,
    totals: Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    sections: Option<&'a [Section]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    symbols: Option<&'a [Symbol]>,
    symbol_sizes: SymbolSizes,
}

impl<'a> Binary<'a> {
    fn of(f: &'a Footprint, top: Option<usize>) -> Self {
        Binary {
            path: &f.path,
            format: f.format,
            architecture: &f.architecture,
            totals: f.totals,
            sections: top.map(|_| f.sections.as_slice()),
            symbols: top.map(|n| &f.symbols[..n.min(f.symbols.len())]),
            symbol_sizes: f.symbol_sizes,
        }
    }
}

/// `footprint BINARY`.
#[derive(Serialize)]
struct One<'a> {
    binary: Binary<'a>,
}

/// `footprint BINARY BINARY2`.
#[derive(Serialize)]
struct Two<'a> {
    base: Binary<'a>,
    new: Binary<'a>,
    fail_if_growth: &'a [String],
    failed: bool,
    totals: &'a [TotalDiff],
    sections: &'a [ItemDiff],
    symbols: &'a [ItemDiff],
}

#[derive(Serialize)]
struct Versioned<T> {
    schema: &'static str,
    version: u32,
    #[serde(flatten)]
    body: T,
}

fn versioned<T: Serialize>(body: T) -> Result<String, fmt::Error> {
    serde_json::to_string_pretty(&Versioned {
        schema: SCHEMA,
        version: SCHEMA_VERSION,
        body,
    })
    .map_err(|_| fmt::Error)
}

impl Render for Json {
    fn render(&self, report: &Report, top: usize, out: &mut dyn fmt::Write) -> fmt::Result {
        let text = match report {
            Report::One(f) => versioned(One {
                binary: Binary::of(f, Some(top)),
            })?,
            Report::Two(d) => versioned(Two {
                base: Binary::of(&d.base, None),
                new: Binary::of(&d.new, None),
                fail_if_growth: &d.fail_if_growth,
                failed: d.failed,
                totals: &d.totals,
                sections: &d.sections,
                symbols: &d.symbols[..top.min(d.symbols.len())],
            })?,
        };
        writeln!(out, "{text}")
    }
}
