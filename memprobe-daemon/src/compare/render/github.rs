//! GitHub Actions workflow commands: one `::error file=…,line=…,title=…::…` per test whose figures
//! grew past `--fail-if-growth`, at the annotated function (`file!()`/`line!()` from the report;
//! reports of schema version 1 have no location, and their annotation names no file). Values
//! are escaped as the runner requires (`%`, CR, LF; and `:` `,` in properties).

use super::{Render, delta, thresholds};
use crate::compare::diff::{Change, Comparison};
// One escaping for every annotation memprobe prints: the failing tests' and the verdicts'.
use memprobe::github::{data, property};
use std::fmt;

/// Error annotations for the failing tests.
pub(crate) struct Github;

impl Render for Github {
    fn render(&self, c: &Comparison, out: &mut dyn fmt::Write) -> fmt::Result {
        for row in c.rows.iter().filter(|r| r.failed) {
            let grown: Vec<String> = row
                .figures
                .iter()
                .filter(|f| f.change == Change::GrewPastThreshold)
                .map(|f| format!("{} {}", f.metric.label(), delta(f)))
                .chain(row.sites.iter().flat_map(|d| {
                    d.sites.iter().filter(|s| s.failed).filter_map(|s| {
                        let f = s.figure(crate::compare::load::Metric::AllocBytes)?;
                        Some(format!("site {} bytes {}", s.function, delta(f)))
                    })
                }))
                .collect();
            let message = format!(
                "{} grew past --fail-if-growth {} against {}: {}",
                row.name,
                thresholds(c),
                c.base.display(),
                grown.join(", ")
            );
            let mut properties = Vec::new();
            if let Some(source) = &row.source {
                properties.push(format!("file={}", property(&source.file)));
                properties.push(format!("line={}", source.line));
            }
            properties.push(format!("title={}", property("memprobe compare")));
            writeln!(out, "::error {}::{}", properties.join(","), data(&message))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(super::data("10%\nx"), "10%25%0Ax");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
