//! `memprobe-daemon compare BASE NEW`: did this change make memory use worse? Each side is a
//! directory of `#[memprobe]` test reports, a single report, a `watch --summary` file, or an
//! allocation-site profile (`<stem>.sites.json`; reports with one beside them gain per-site
//! deltas, [`sites`]); the output is a table, markdown or JSON, and `--fail-if-growth` turns growth into exit code 1.
//!
//! Three rooms: [`load`] reads a side into plain figures, [`diff`] compares them (exact figures
//! exactly, RSS only on request and with a noise allowance), [`render`] presents the result, one
//! file per format. This file only wires them to the checked configuration and to CI: GitHub
//! annotations after the output (on stderr with `--json`, so stdout stays JSON) and the markdown
//! appended to `$GITHUB_STEP_SUMMARY`.

mod convert;
pub(crate) mod diff;
mod entry;
pub(crate) mod figure;
pub(crate) mod load;
pub(crate) mod render;
pub(crate) mod sites;

use crate::config::{CompareConfig, CompareFormat};
use anyhow::{Context, Result};
use render::Render;
use std::io::Write;

/// Exit code: no figure grew past the thresholds (or none were given); the daemon's pass.
pub(crate) const EXIT_PASS: u8 = memprobe::trend::Verdict::EXIT_PASS;
/// Exit code: a figure grew past `--fail-if-growth`; the daemon's growth.
pub(crate) const EXIT_GROWTH: u8 = memprobe::trend::Verdict::EXIT_GROWTH;

/// Runs `compare`: loads, compares, prints; the exit code.
///
/// # Errors
///
/// Unreadable or incompatible inputs (see [`load::load_pair`]), or an unwritable
/// `$GITHUB_STEP_SUMMARY`, in one line.
pub(crate) fn command(config: &CompareConfig) -> Result<u8> {
    let (base, new) = load::load_pair(&config.base, &config.new)?;
    let comparison = diff::compare(base, new, config.settings.clone());
    let mut text = match config.format {
        CompareFormat::Table { color } => render::Table { color }.render_to_string(&comparison),
        CompareFormat::Markdown => render::Markdown.render_to_string(&comparison),
        CompareFormat::Json => render::Json.render_to_string(&comparison),
    };
    let annotations = if config.github {
        render::Github.render_to_string(&comparison)
    } else {
        String::new()
    };
    if config.format == CompareFormat::Json {
        // Keep stdout valid JSON: the runner reads workflow commands on stderr as well.
        eprint!("{annotations}");
    } else {
        text += &annotations;
    }
    if let Some(file) = &config.step_summary {
        let markdown = render::Markdown.render_to_string(&comparison);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| f.write_all(markdown.as_bytes()))
            .with_context(|| {
                format!(
                    "appending the markdown summary to $GITHUB_STEP_SUMMARY ({})",
                    file.display()
                )
            })?;
    }
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
    Ok(if comparison.failed {
        EXIT_GROWTH
    } else {
        EXIT_PASS
    })
}
