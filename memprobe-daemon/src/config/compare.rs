//! `compare`'s flags, validated.

use super::{fail_if_growth, flag_error};
use anyhow::Result;
use memprobe::units::Growth;
use std::path::PathBuf;

/// How `compare` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareFormat {
    /// The terminal table, coloured or not.
    Table {
        /// ANSI colours (stdout is a terminal and `NO_COLOR` is unset).
        color: bool,
    },
    /// Markdown.
    Markdown,
    /// JSON.
    Json,
}

/// The `compare` subcommand's options, checked.
#[derive(Debug, Clone)]
pub(crate) struct CompareConfig {
    /// The reference side.
    pub(crate) base: PathBuf,
    /// The side under test.
    pub(crate) new: PathBuf,
    /// Thresholds, RSS inclusion and noise.
    pub(crate) settings: crate::compare::diff::Settings,
    /// Output format.
    pub(crate) format: CompareFormat,
    /// Print GitHub error annotations (`--github` or `GITHUB_ACTIONS=true`).
    pub(crate) github: bool,
    /// Append the markdown to this file (`$GITHUB_STEP_SUMMARY`, in GitHub mode).
    pub(crate) step_summary: Option<PathBuf>,
}

impl CompareConfig {
    /// Checks the flags of `compare`, reading `GITHUB_ACTIONS`, `GITHUB_STEP_SUMMARY` and
    /// `NO_COLOR` from the environment here, once.
    ///
    /// # Errors
    ///
    /// A bad threshold or noise allowance, in one line naming the flag and the accepted forms.
    pub(crate) fn from_args(args: crate::cli::CompareArgs) -> Result<Self> {
        use std::io::IsTerminal;
        let fail_if_growth = fail_if_growth(&args.fail_if_growth)?;
        let rss_noise = args
            .rss_noise
            .parse::<Growth>()
            .map_err(|e| flag_error("--rss-noise", e))?;
        let format = if args.json {
            CompareFormat::Json
        } else if args.markdown {
            CompareFormat::Markdown
        } else {
            CompareFormat::Table {
                color: std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            }
        };
        let github = args.github || std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true");
        let step_summary = github
            .then(|| std::env::var_os("GITHUB_STEP_SUMMARY"))
            .flatten()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(CompareConfig {
            base: args.base,
            new: args.new,
            settings: crate::compare::diff::Settings {
                fail_if_growth,
                include_rss: args.include_rss,
                rss_noise,
            },
            format,
            github,
            step_summary,
        })
    }
}
