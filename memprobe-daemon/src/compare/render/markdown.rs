//! The comparison as GitHub-flavoured markdown, to paste into a pull request (and what
//! `$GITHUB_STEP_SUMMARY` receives): changed tests only, largest regression first. A test with
//! site profiles on both sides gets its per-site deltas (top 10 by growth) in a `<details>`
//! block of its own; two site profiles compared get every changed site in an open table.

use super::{
    Render, SITE_HEADER, delta, headline, lone_site, sampling_note, site_cells, status, value,
};
use crate::compare::diff::{Change, Comparison, Row};
use crate::compare::load::Kind;
use crate::compare::sites::TOP;
use std::fmt;

/// Markdown.
pub(crate) struct Markdown;

impl Render for Markdown {
    fn render(&self, c: &Comparison, out: &mut dyn fmt::Write) -> fmt::Result {
        writeln!(out, "### memprobe compare\n")?;
        writeln!(
            out,
            "BASE `{}` → NEW `{}`: {}.\n",
            c.base.display(),
            c.new.display(),
            headline(c)
        )?;
        let changed: Vec<_> = c.rows.iter().filter(|r| r.changed()).collect();
        if !changed.is_empty() {
            writeln!(out, "| test | figure | BASE | NEW | change | |")?;
            writeln!(out, "|---|---|---:|---:|---:|---|")?;
            for row in changed {
                let mut first = true;
                for f in &row.figures {
                    let name = if first {
                        format!("`{}`", row.name)
                    } else {
                        String::new()
                    };
                    first = false;
                    let mark = match f.change {
                        Change::GrewPastThreshold => "❌ ",
                        _ => "",
                    };
                    writeln!(
                        out,
                        "| {name} | {} | {} | {} | {} | {mark}{} |",
                        f.metric.label(),
                        value(f, f.base),
                        value(f, f.new),
                        delta(f),
                        status(f, c)
                    )?;
                }
            }
            writeln!(out)?;
        }
        for row in c.rows.iter().filter(|r| r.changed()) {
            sites(c, row, out)?;
        }
        let unchanged = c.rows.iter().filter(|r| !r.changed()).count();
        if unchanged > 0 {
            writeln!(out, "{unchanged} unchanged.\n")?;
        }
        for (title, list) in [("New in NEW", &c.added), ("Gone from NEW", &c.removed)] {
            if !list.is_empty() {
                writeln!(out, "{title}:\n")?;
                for lone in list {
                    writeln!(out, "- `{}`", lone.name)?;
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }
}

/// A row's per-site deltas: in a `<details>` block per test in a report directory, open when
/// the sides are profiles.
fn sites(c: &Comparison, row: &Row, out: &mut dyn fmt::Write) -> fmt::Result {
    let Some(d) = &row.sites else {
        return Ok(());
    };
    let folded = c.kind != Kind::Sites;
    let top = if folded { TOP } else { usize::MAX };
    let changed: Vec<_> = d.sites.iter().filter(|s| s.changed()).collect();
    if folded {
        let what = if changed.len() > top {
            format!("top {top} of {} changed sites", changed.len())
        } else {
            format!("{} changed sites", changed.len())
        };
        writeln!(
            out,
            "<details><summary>Sites of <code>{}</code>: {what}</summary>\n",
            html(&row.name)
        )?;
    } else {
        writeln!(out, "#### Sites\n")?;
    }
    writeln!(out, "{}.\n", sampling_note(d))?;
    if !changed.is_empty() {
        writeln!(out, "| {} |", SITE_HEADER.join(" | "))?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---|")?;
        for site in changed.iter().take(top) {
            let mut cells = site_cells(site, c).map(|cell| cell.replace('|', "\\|"));
            cells[0] = format!("`{}`", cells[0]);
            if site.failed {
                cells[6] = format!("❌ {}", cells[6]);
            }
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        writeln!(out)?;
    }
    let more = changed.len().saturating_sub(top);
    if more > 0 {
        writeln!(out, "{more} more changed sites (all in `--json`).\n")?;
    }
    for (title, list) in [("New in NEW", &d.added), ("Gone from NEW", &d.removed)] {
        if !list.is_empty() {
            writeln!(out, "{title}:\n")?;
            for lone in list.iter().take(top) {
                writeln!(out, "- `{}`", lone_site(lone))?;
            }
            if list.len() > top {
                writeln!(out, "- … {} more (all in `--json`)", list.len() - top)?;
            }
            writeln!(out)?;
        }
    }
    if folded {
        writeln!(out, "</details>\n")?;
    }
    Ok(())
}

/// Text inside an HTML tag: `<`, `>` and `&` escaped (test names hold generics' brackets).
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
