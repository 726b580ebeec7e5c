//! Plots of a run: `plot RUN.jsonl --svg out.svg --html out.html`, and `watch --plot out.svg
//! --html out.html` at the end of a run. Both draw the same [`Chart`]: the run's series on the
//! verdict's x-axis with the marks the verdict names (warm-up, fitted slope and band, steps,
//! period, plateau), the published phases and the verdict's sentence as the title.
//!
//! Files: [`data`] builds the [`Chart`] from a [`RunSeries`] and its verdict (what is shown),
//! [`units`] chooses binary byte units and round ticks, and one renderer per format, [`svg`]
//! (plotters) and [`html`] (one self-contained page with an inlined script, `chart.js`).
//!
//! # Which samples are drawn
//!
//! The verdict's own bounded copy of the run ([`RunSeries`]): at most 2,048 points per series,
//! each the mean of the samples it stands for, drawn with their min–max envelope. A run of any
//! length draws in the same time, and a plot shows exactly the points the verdict judged.

pub(crate) mod data;
mod html;
mod svg;
mod units;

pub(crate) use data::{Chart, Phase};

use crate::config::{PlotConfig, PlotOutputs};
use crate::output::read::read_jsonl;
use crate::verdict::RunSeries;
use anyhow::{Context, Result};
use memprobe::trend::Verdict;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The plot files of a run, created before anything is measured or read so that a bad path
/// fails at once, and written once the chart is known.
#[derive(Debug)]
pub(crate) struct Outputs {
    svg: Option<(PathBuf, File)>,
    html: Option<(PathBuf, File)>,
}

fn create(what: &str, path: &Path) -> Result<(PathBuf, File)> {
    let file = File::create(path)
        .with_context(|| format!("cannot write the {what} plot to {}", path.display()))?;
    Ok((path.to_owned(), file))
}

impl Outputs {
    /// Creates (or truncates) the files asked for.
    ///
    /// # Errors
    ///
    /// A file that cannot be created, in one line naming it.
    pub(crate) fn open(paths: &PlotOutputs) -> Result<Outputs> {
        Ok(Outputs {
            svg: paths.svg.as_deref().map(|p| create("SVG", p)).transpose()?,
            html: paths
                .html
                .as_deref()
                .map(|p| create("HTML", p))
                .transpose()?,
        })
    }

    /// Whether any plot was asked for.
    pub(crate) fn any(&self) -> bool {
        self.svg.is_some() || self.html.is_some()
    }

    /// Removes the files created for the plots (a run that could not be judged has nothing to
    /// draw). A file that cannot be removed is left: it was created empty.
    pub(crate) fn discard(self) {
        for (path, file) in [self.svg, self.html].into_iter().flatten() {
            drop(file);
            let _ = std::fs::remove_file(path);
        }
    }

    /// Draws `run` as `verdict` judged it into the files, each with one write; the paths written.
    ///
    /// # Errors
    ///
    /// A failed write, in one line naming the file.
    pub(crate) fn write(
        self,
        run: &RunSeries,
        verdict: &Verdict,
        phases: &[Phase],
    ) -> Result<Vec<PathBuf>> {
        let chart = Chart::build(run, verdict, phases);
        let mut written = Vec::new();
        if let Some((path, mut file)) = self.svg {
            let text = svg::render(&chart)?;
            file.write_all(text.as_bytes())
                .with_context(|| format!("cannot write the SVG plot to {}", path.display()))?;
            written.push(path);
        }
        if let Some((path, mut file)) = self.html {
            let text = html::render(&chart)?;
            file.write_all(text.as_bytes())
                .with_context(|| format!("cannot write the HTML plot to {}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Runs `plot FILE.jsonl`: reads the run, judges it as `verdict` would with the same flags,
/// draws it; exit code 0 once the plots are written (the verdict is drawn, not enforced).
///
/// # Errors
///
/// An unreadable, corrupt or empty file, a bad judging flag, an unwritable output (exit 2).
pub(crate) fn command(config: &PlotConfig) -> Result<u8> {
    let saved = read_jsonl(&config.file)?;
    let verdict = saved.series.judge(&config.judge)?;
    let outputs = Outputs::open(&config.outputs)?;
    let written = outputs.write(&saved.series, &verdict, &saved.phases)?;
    if !config.quiet {
        for note in &saved.notes {
            eprintln!("memprobe-daemon: {}: {note}", config.file.display());
        }
        for path in written {
            eprintln!(
                "memprobe-daemon: plotted {} ({}) to {}",
                config.file.display(),
                verdict.kind.name(),
                path.display()
            );
        }
    }
    Ok(0)
}
