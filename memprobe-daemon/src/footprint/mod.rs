//! `memprobe-daemon footprint BINARY [BINARY2]`: the static footprint of a binary (`.text`,
//! `.rodata`, `.data`, `.bss`, the flash/RAM split of an embedded image, the largest symbols),
//! or of two compared, with `--fail-if-growth` turning growth of a total into exit code 1.
//!
//! Three rooms, as in `compare`: [`load`] reads an ELF or Mach-O file and [`measure`]s it into
//! plain figures, [`diff`] compares two, [`render`] presents one file per format. This file only
//! wires them to the checked configuration and to stdout.

pub(crate) mod diff;
pub(crate) mod load;
pub(crate) mod measure;
pub(crate) mod render;

use crate::compare::{EXIT_GROWTH, EXIT_PASS};
use crate::config::{FootprintConfig, FootprintFormat};
use anyhow::{Context, Result};
use render::{Render, Report};
use std::io::Write;

/// Runs `footprint`: loads, measures, compares when there are two, prints; the exit code.
///
/// # Errors
///
/// A missing, unreadable, truncated or foreign file (see [`load::load`]), in one line.
pub(crate) fn command(config: &FootprintConfig) -> Result<u8> {
    let base = load::load("BINARY", &config.base)?;
    let (report, failed) = match &config.new {
        None => (Report::One(base), false),
        Some(path) => {
            let new = load::load("BINARY2", path)?;
            let d = diff::diff(base, new, &config.fail_if_growth);
            let failed = d.failed;
            (Report::Two(Box::new(d)), failed)
        }
    };
    let text = match config.format {
        FootprintFormat::Table => render::Table.render_to_string(&report, config.symbols),
        FootprintFormat::Markdown => render::Markdown.render_to_string(&report, config.symbols),
        FootprintFormat::Json => render::Json.render_to_string(&report, config.symbols),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`| head`) is not an error: the reader has what it wanted.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(e).context("writing to stdout");
        }
        _ => {}
    }
    Ok(if failed { EXIT_GROWTH } else { EXIT_PASS })
}
