//! Plot outputs: `plot`'s flags, and `watch --plot/--html`.

use super::JudgeConfig;
use anyhow::Result;
use std::path::PathBuf;

/// Where plots go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PlotOutputs {
    /// The SVG (`--svg`, or `--plot` on `watch`).
    pub(crate) svg: Option<PathBuf>,
    /// The self-contained HTML page (`--html`).
    pub(crate) html: Option<PathBuf>,
}

/// The `plot` subcommand's options, checked.
#[derive(Debug, Clone)]
pub(crate) struct PlotConfig {
    /// The JSONL file written by `watch --out`.
    pub(crate) file: PathBuf,
    /// How to judge: as `verdict` (the same defaults).
    pub(crate) judge: JudgeConfig,
    /// Where the plots go (at least one; clap requires it).
    pub(crate) outputs: PlotOutputs,
    /// Print nothing but errors.
    pub(crate) quiet: bool,
}

impl PlotConfig {
    /// Checks the flags of `plot`.
    ///
    /// # Errors
    ///
    /// A bad judging flag, in one line naming it and the accepted forms.
    pub(crate) fn from_args(args: crate::cli::PlotArgs) -> Result<Self> {
        Ok(PlotConfig {
            judge: JudgeConfig::from_args(args.judge, true)?,
            file: args.file,
            outputs: PlotOutputs {
                svg: args.svg,
                html: args.html,
            },
            quiet: args.quiet,
        })
    }
}
