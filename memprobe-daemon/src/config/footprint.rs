//! `footprint`'s flags, validated.

use super::fail_if_growth;
use anyhow::{Result, bail};
use memprobe::units::Growth;
use std::path::PathBuf;

/// How `footprint` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FootprintFormat {
    /// Plain aligned text.
    Table,
    /// Markdown.
    Markdown,
    /// JSON.
    Json,
}

/// The `footprint` subcommand's options, checked.
#[derive(Debug, Clone)]
pub(crate) struct FootprintConfig {
    /// The binary, or the reference of two.
    pub(crate) base: PathBuf,
    /// The binary under test, when comparing.
    pub(crate) new: Option<PathBuf>,
    /// Thresholds on the totals; empty for none.
    pub(crate) fail_if_growth: Vec<Growth>,
    /// How many symbols to list.
    pub(crate) symbols: usize,
    /// Output format.
    pub(crate) format: FootprintFormat,
}

impl FootprintConfig {
    /// Checks the flags of `footprint`.
    ///
    /// # Errors
    ///
    /// A bad threshold, in one line naming the flag and the accepted forms; a threshold with
    /// one binary (there is nothing to grow from).
    pub(crate) fn from_args(args: crate::cli::FootprintArgs) -> Result<Self> {
        let fail_if_growth = fail_if_growth(&args.fail_if_growth)?;
        if args.new.is_none() && !fail_if_growth.is_empty() {
            bail!(
                "--fail-if-growth needs two binaries to compare: give BINARY2 (the build under \
                 test) after BINARY"
            );
        }
        let format = if args.json {
            FootprintFormat::Json
        } else if args.markdown {
            FootprintFormat::Markdown
        } else {
            FootprintFormat::Table
        };
        Ok(FootprintConfig {
            base: args.base,
            new: args.new,
            fail_if_growth,
            symbols: args.symbols,
            format,
        })
    }
}
