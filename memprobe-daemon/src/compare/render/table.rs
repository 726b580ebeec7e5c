//! The terminal table (the default): every figure of the changed tests, largest regression first,
//! aligned columns, coloured when stdout is a terminal (red past a threshold, yellow larger, green
//! smaller, dim for noise); unchanged tests counted in one line. A test with site profiles on
//! both sides is followed by its per-site deltas (the top 10 by growth in a report directory,
//! every changed site when the sides are profiles), then its sites new in NEW and gone.

use super::{
    Render, SITE_HEADER, delta, headline, lone_site, sampling_note, site_cells, site_change,
    status, value,
};
use crate::compare::diff::{Change, Comparison, Row};
use crate::compare::load::Kind;
use crate::compare::sites::TOP;
use anstyle::{AnsiColor, Style};
use std::fmt;

/// The terminal table.
pub(crate) struct Table {
    /// ANSI colours on.
    pub(crate) color: bool,
}

impl Table {
    fn style(&self, change: Change) -> Style {
        if !self.color {
            return Style::new();
        }
        match change {
            Change::GrewPastThreshold => AnsiColor::Red.on_default().bold(),
            Change::Increased => AnsiColor::Yellow.on_default(),
            Change::Decreased => AnsiColor::Green.on_default(),
            Change::Noise | Change::SamplingNoise | Change::Same => Style::new().dimmed(),
        }
    }
}

impl Render for Table {
    fn render(&self, c: &Comparison, out: &mut dyn fmt::Write) -> fmt::Result {
        writeln!(out, "BASE {}", c.base.display())?;
        writeln!(out, "NEW  {}", c.new.display())?;
        let mut lines: Vec<(Option<Change>, [String; 5])> = Vec::new();
        for row in c.rows.iter().filter(|r| r.changed()) {
            let mut name = row.name.clone();
            if row.iterations[0] != row.iterations[1] {
                name += &format!(
                    " (iterations {} → {})",
                    row.iterations[0], row.iterations[1]
                );
            }
            lines.push((
                None,
                [
                    name,
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
            ));
            for f in &row.figures {
                lines.push((
                    Some(f.change),
                    [
                        format!("  {}", f.metric.label()),
                        value(f, f.base),
                        value(f, f.new),
                        delta(f),
                        status(f, c),
                    ],
                ));
            }
        }
        if !lines.is_empty() {
            let header = ["test / figure", "BASE", "NEW", "change", ""].map(String::from);
            let mut widths = [0usize; 5];
            // Test names span their line: they do not widen the first column.
            let figure_lines = lines.iter().filter(|(change, _)| change.is_some());
            for (_, cells) in std::iter::once(&(None, header.clone())).chain(figure_lines) {
                for (w, cell) in widths.iter_mut().zip(cells) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            writeln!(out)?;
            let bold = if self.color {
                Style::new().bold()
            } else {
                Style::new()
            };
            write_cells(out, &header, &widths, bold)?;
            for (change, cells) in &lines {
                match change {
                    // A test's name spans the row, unpadded.
                    None => writeln!(out, "{bold}{}{bold:#}", cells[0])?,
                    Some(change) => write_cells(out, cells, &widths, self.style(*change))?,
                }
            }
        }
        for row in c.rows.iter().filter(|r| r.changed()) {
            self.sites(c, row, out)?;
        }
        writeln!(out)?;
        let unchanged = c.rows.iter().filter(|r| !r.changed()).count();
        if unchanged > 0 {
            writeln!(out, "{unchanged} unchanged")?;
        }
        for (title, list) in [("new in NEW", &c.added), ("gone from NEW", &c.removed)] {
            for lone in list {
                writeln!(out, "{title}: {}", lone.name)?;
            }
        }
        writeln!(out, "{}", headline(c))
    }
}

impl Table {
    /// A row's per-site block, if it has site profiles on both sides.
    fn sites(&self, c: &Comparison, row: &Row, out: &mut dyn fmt::Write) -> fmt::Result {
        let Some(d) = &row.sites else {
            return Ok(());
        };
        let top = if c.kind == Kind::Sites {
            usize::MAX
        } else {
            TOP
        };
        let changed: Vec<_> = d.sites.iter().filter(|s| s.changed()).collect();
        writeln!(out)?;
        let bold = if self.color {
            Style::new().bold()
        } else {
            Style::new()
        };
        let title = if c.kind == Kind::Sites {
            "sites".to_owned()
        } else if changed.len() > top {
            format!("sites of {}, top {top} by growth", row.name)
        } else {
            format!("sites of {}", row.name)
        };
        writeln!(out, "{bold}{title}{bold:#} ({})", sampling_note(d))?;
        let lines: Vec<_> = changed
            .iter()
            .take(top)
            .map(|s| (site_change(s), site_cells(s, c)))
            .collect();
        if !lines.is_empty() {
            let header = SITE_HEADER.map(String::from);
            let mut widths = [0usize; 7];
            for cells in std::iter::once(&header).chain(lines.iter().map(|(_, c)| c)) {
                for (w, cell) in widths.iter_mut().zip(cells) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let line = |cells: &[String; 7]| {
                let mut text = format!("  {:<w$}", cells[0], w = widths[0]);
                for i in 1..6 {
                    text += &format!("  {:>w$}", cells[i], w = widths[i]);
                }
                text += &format!("  {}", cells[6]);
                text.trim_end().to_owned()
            };
            writeln!(out, "{bold}{}{bold:#}", line(&header))?;
            for (change, cells) in &lines {
                let style = self.style(*change);
                writeln!(out, "{style}{}{style:#}", line(cells))?;
            }
        }
        let more = changed.len().saturating_sub(top);
        if more > 0 {
            writeln!(out, "  {more} more changed sites (all in --json)")?;
        }
        let unchanged = d.sites.len() - changed.len();
        if unchanged > 0 {
            writeln!(out, "  {unchanged} sites unchanged")?;
        }
        for (title, list) in [("new in NEW", &d.added), ("gone from NEW", &d.removed)] {
            let shown = list.len().min(top);
            for lone in &list[..shown] {
                writeln!(out, "  {title}: {}", lone_site(lone))?;
            }
            if list.len() > shown {
                writeln!(
                    out,
                    "  {} more sites {title} (all in --json)",
                    list.len() - shown
                )?;
            }
        }
        Ok(())
    }
}

fn write_cells(
    out: &mut dyn fmt::Write,
    cells: &[String; 5],
    widths: &[usize; 5],
    style: Style,
) -> fmt::Result {
    // Name left-aligned, figures right-aligned, the status as it is.
    let line = format!(
        "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
        cells[0],
        cells[1],
        cells[2],
        cells[3],
        cells[4],
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
        w3 = widths[3],
    );
    writeln!(out, "{style}{}{style:#}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::diff::{Settings, compare};
    use crate::compare::load::{Entry, Kind, Metric, Side, Value};
    use std::path::PathBuf;

    fn side(bytes: i64) -> Side {
        let entry = Entry {
            name: "t".into(),
            source: None,
            iterations: 1,
            figures: [(Metric::AllocBytes, Value::Int(bytes))].into(),
            sites: None,
        };
        Side {
            path: PathBuf::from("x"),
            kind: Kind::Reports,
            versions: vec![2],
            is_dir: false,
            entries: [("t".to_owned(), entry)].into(),
        }
    }

    #[test]
    fn colours_only_when_asked() {
        let settings = Settings {
            fail_if_growth: vec!["10%".parse().unwrap()],
            include_rss: false,
            rss_noise: "1MiB".parse().unwrap(),
        };
        let c = compare(side(100), side(200), settings);
        let plain = Table { color: false }.render_to_string(&c);
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(
            plain.contains("  bytes        100 B  200 B  +100 B (+100.0%)  FAIL: grew past 10%"),
            "{plain}"
        );
        let coloured = Table { color: true }.render_to_string(&c);
        let red = AnsiColor::Red.on_default().bold();
        assert!(
            coloured.contains(&format!(
                "{red}  bytes        100 B  200 B  +100 B (+100.0%)  FAIL: grew past 10%{red:#}"
            )),
            "{coloured:?}"
        );
    }
}
