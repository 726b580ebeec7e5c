//! The JSONL reader, mirroring the writer beside it ([`super::format_jsonl`]): a file written by
//! `watch --out` read back into a [`RunSeries`], line by line, in the order `watch` recorded.

use crate::verdict::series::RunSeries;
use anyhow::{Context, Result, bail};
use memprobe::publish::PublishedStats;
use serde::Deserialize;
use std::io::BufRead;
use std::path::Path;

/// The part of a JSONL line the verdict reads (serde skips the rest).
#[derive(Debug, Deserialize)]
struct Line {
    t_ns: u64,
    rss_bytes: u64,
    rss_anon_bytes: Option<u64>,
    swap_bytes: Option<u64>,
    tree: Option<TreeLine>,
    published: Option<PublishedStats>,
}

#[derive(Debug, Deserialize)]
struct TreeLine {
    rss_bytes: u64,
    anon_swap_bytes: u64,
}

/// A saved run read back.
#[derive(Debug)]
pub(crate) struct SavedRun {
    /// Its samples.
    pub(crate) series: RunSeries,
    /// Lines read.
    pub(crate) lines: u64,
    /// Remarks on the file (a last line cut off by a killed daemon).
    pub(crate) notes: Vec<String>,
    /// The phases the process published, where each was first seen (the first
    /// [`PHASES_MAX`]), for `plot`.
    pub(crate) phases: Vec<crate::plot::Phase>,
}

/// Phases kept from a file: as many as `watch` lists in its summary.
pub(crate) const PHASES_MAX: usize = 256;

/// Reads a JSONL file written by `watch --out`. A last line without its newline is the sample a
/// killed daemon was writing: it is left out with a note. The first line decides whether the
/// `/proc` series are the tree's totals (a `--tree` run writes them on every line).
///
/// # Errors
///
/// One line each: the file cannot be read; line N is not a sample (with serde's reason); the file
/// holds no sample.
pub(crate) fn read_jsonl(path: &Path) -> Result<SavedRun> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut run: Option<RunSeries> = None;
    let mut notes = Vec::new();
    let mut phases = Vec::new();
    let mut phase_seq = 0;
    let mut buf = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = buf.last() == Some(&b'\n');
        if buf.trim_ascii().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_slice(&buf) {
            Ok(line) => line,
            Err(_) if !complete => {
                notes.push(format!(
                    "line {number}, the last, is cut off (the daemon was killed while writing it): left out"
                ));
                break;
            }
            Err(e) => bail!(
                "{}:{number}: not a sample line of `memprobe-daemon watch --out`: {e}",
                path.display()
            ),
        };
        let run = run.get_or_insert_with(|| RunSeries::new(line.tree.is_some()));
        if let Some(p) = &line.published {
            run.record_published(line.t_ns, p);
            // A new phase, as `watch` sees one: the published sequence number moved.
            if p.phase_seq != phase_seq && phases.len() < PHASES_MAX {
                phases.push(crate::plot::Phase {
                    name: p.phase.clone(),
                    t_ns: line.t_ns,
                    iteration: p.iteration,
                });
            }
            phase_seq = p.phase_seq;
        }
        let (rss, anon_swap) = match (&line.tree, run.tree()) {
            (Some(t), true) => (t.rss_bytes, Some(t.anon_swap_bytes)),
            _ => {
                let anon_swap = match line.rss_anon_bytes {
                    None => None,
                    Some(a) => Some(a.checked_add(line.swap_bytes.unwrap_or(0)).with_context(
                        || {
                            format!(
                                "{}:{number}: rss_anon_bytes + swap_bytes exceed 2^64 bytes: not a sample `watch` wrote",
                                path.display()
                            )
                        },
                    )?),
                };
                (line.rss_bytes, anon_swap)
            }
        };
        run.record_proc(line.t_ns, rss, anon_swap);
    }
    match run {
        Some(series) => Ok(SavedRun {
            series,
            lines: number,
            notes,
            phases,
        }),
        None => bail!(
            "{} holds no samples: expected the JSONL written by `memprobe-daemon watch --out`",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn jsonl_errors_are_one_line_and_name_the_place() {
        let d = tempfile::tempdir().unwrap();
        let e = format!(
            "{:#}",
            read_jsonl(&d.path().join("none.jsonl")).unwrap_err()
        );
        assert!(e.starts_with("cannot read "), "{e}");
        assert!(
            e.ends_with("none.jsonl: No such file or directory (os error 2)"),
            "{e}"
        );
        let empty = write(d.path(), "empty.jsonl", "");
        let e = format!("{:#}", read_jsonl(&empty).unwrap_err());
        assert!(e.ends_with("empty.jsonl holds no samples: expected the JSONL written by `memprobe-daemon watch --out`"), "{e}");
        let good = r#"{"t_ns":1,"wall_ns":2,"pid":3,"rss_bytes":4096,"rss_anon_bytes":1024,"swap_bytes":0}"#;
        let corrupt = write(
            d.path(),
            "corrupt.jsonl",
            &format!("{good}\n{good}\n{{\"t_ns\":\n{good}\n"),
        );
        let e = format!("{:#}", read_jsonl(&corrupt).unwrap_err());
        assert!(
            e.contains("corrupt.jsonl:3: not a sample line of `memprobe-daemon watch --out`: "),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        let not_ours = write(d.path(), "other.jsonl", "{\"a\":1}\n");
        let e = format!("{:#}", read_jsonl(&not_ours).unwrap_err());
        assert!(
            e.contains("other.jsonl:1: ") && e.contains("missing field `t_ns`"),
            "{e}"
        );
        // A killed daemon's last, cut-off line is left out with a note.
        let cut = write(
            d.path(),
            "cut.jsonl",
            &format!("{good}\n{good}\n{{\"t_ns\":17,\"wa"),
        );
        let run = read_jsonl(&cut).unwrap();
        assert_eq!(run.series.input().proc_samples, 2);
        assert_eq!(run.notes.len(), 1, "{:?}", run.notes);
        assert!(run.notes[0].starts_with("line 3, the last, is cut off"));
    }
}
