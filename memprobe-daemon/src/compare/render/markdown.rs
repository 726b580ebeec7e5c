//! The comparison as GitHub-flavoured markdown, to paste into a pull request (and what
//! `$GITHUB_STEP_SUMMARY` receives): changed tests only, largest regression first.

use super::{Render, delta, headline, status, value};
use crate::compare::diff::{Change, Comparison};
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
