//! Where samples go: JSONL and CSV, one line per sample written with a single `write` as it is
//! taken (so a SIGKILL of the daemon loses at most the sample being written) — at intervals under
//! 10 ms in batches at most 10 ms old ([`BATCH_AGE_NS`]) — and the summary JSON,
//! replaced atomically (temporary file in the same directory, then `rename`) so a reader never
//! sees half a file. Files are opened before the target starts: a bad path fails at once.
//!
//! Formatting only: the figures come from [`crate::watch`]. Lines are formatted into a reused
//! buffer, so steady-state sampling allocates nothing here.

pub(crate) mod read;
#[cfg(feature = "json-schema")]
pub(crate) mod sample_schema;

use crate::cgroup::CgroupSample;
use crate::procfs::Pss;
use anyhow::{Context, Result};
use memprobe::MemorySnapshot;
use memprobe::publish::PublishedStats;
use std::fmt::Display;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the summary JSON schema (`watch --summary`, `verdict --summary`), written beside
/// the code that formats the outputs. 2: the verdict's evidence gained `schema_version`,
/// `period`, `steps`, `projected_shift_bytes`, `plateau` and the windows' `shift_bytes`
/// (see `memprobe::trend::Evidence`), and `verdict_input` strides merge samples (min, mean, max)
/// instead of keeping one in each.
pub(crate) const SCHEMA_VERSION: u32 = 2;

/// One process of a `--tree` sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProcSample {
    /// PID.
    pub(crate) pid: u32,
    /// Parent PID.
    pub(crate) ppid: u32,
    /// RSS.
    pub(crate) rss_bytes: u64,
    /// RssAnon.
    pub(crate) rss_anon_bytes: u64,
    /// VmSwap.
    pub(crate) swap_bytes: u64,
}

/// Totals over a process tree (the root included). Summed RSS over-counts shared pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct TreeTotals {
    /// Processes alive in the tree.
    pub(crate) processes: u32,
    /// Sum of RSS.
    pub(crate) rss_bytes: u64,
    /// Sum of RssAnon + VmSwap.
    pub(crate) anon_swap_bytes: u64,
}

/// Everything measured at one tick.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample<'a> {
    /// Monotonic ns since the run started.
    pub(crate) t_ns: u64,
    /// Wall-clock ns since the Unix epoch.
    pub(crate) wall_ns: u64,
    /// Watched PID.
    pub(crate) pid: u32,
    /// Its figures.
    pub(crate) mem: &'a MemorySnapshot,
    /// When `status` was read, ns since the run started: RssFile, RssShmem, VmSwap and VmHWM are
    /// from then (at most 100 ms before `t_ns`); the other figures are from `t_ns`.
    pub(crate) status_t_ns: Option<u64>,
    /// `--tree`: totals and each process.
    pub(crate) tree: Option<(TreeTotals, &'a [ProcSample])>,
    /// `--cgroup`.
    pub(crate) cgroup: Option<CgroupSample>,
    /// `--pss-interval`, when a walk was taken this tick.
    pub(crate) pss: Option<Pss>,
    /// The process's published statistics, when refreshed this tick.
    pub(crate) published: Option<&'a PublishedStats>,
}

struct Opt<T>(Option<T>);

impl<T: Display> Display for Opt<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("null"),
        }
    }
}

/// CSV header; one column per figure, empty cells for figures not measured.
pub(crate) const CSV_HEADER: &str = "t_ns,wall_ns,pid,rss_bytes,rss_anon_bytes,rss_file_bytes,rss_shmem_bytes,swap_bytes,peak_rss_bytes,virtual_bytes,status_t_ns,tree_processes,tree_rss_bytes,tree_anon_swap_bytes,cgroup_usage_bytes,cgroup_peak_bytes,pss_bytes,uss_bytes,jemalloc_allocated_bytes,jemalloc_active_bytes,jemalloc_resident_bytes,live_bytes,iteration\n";

/// Appends `key` then `value` in decimal.
///
/// PERF: `itoa` instead of `write!`: the always-present figures of a line are most of the
/// formatting at 1 kHz, and `core::fmt` spends more on its `Arguments` machinery than on digits.
fn field(out: &mut Vec<u8>, key: &[u8], value: impl itoa::Integer) {
    out.extend_from_slice(key);
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends `key` then `value` in decimal, or `null`.
fn opt_field(out: &mut Vec<u8>, key: &[u8], value: Option<u64>) {
    match value {
        Some(v) => field(out, key, v),
        None => {
            out.extend_from_slice(key);
            out.extend_from_slice(b"null");
        }
    }
}

/// Appends `,` then `value` in decimal, or an empty CSV cell.
fn cell(out: &mut Vec<u8>, value: Option<impl itoa::Integer>) {
    out.push(b',');
    if let Some(v) = value {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
}

/// Formats one JSONL line (with its newline) into `out`.
pub(crate) fn format_jsonl(s: &Sample<'_>, out: &mut Vec<u8>) -> std::io::Result<()> {
    let m = s.mem;
    field(out, b"{\"t_ns\":", s.t_ns);
    field(out, b",\"wall_ns\":", s.wall_ns);
    field(out, b",\"pid\":", s.pid);
    field(out, b",\"rss_bytes\":", m.rss_bytes);
    opt_field(out, b",\"rss_anon_bytes\":", m.rss_anon_bytes);
    opt_field(out, b",\"rss_file_bytes\":", m.rss_file_bytes);
    opt_field(out, b",\"rss_shmem_bytes\":", m.rss_shmem_bytes);
    opt_field(out, b",\"swap_bytes\":", m.swap_bytes);
    opt_field(out, b",\"peak_rss_bytes\":", m.peak_rss_bytes);
    opt_field(out, b",\"virtual_bytes\":", m.virtual_bytes);
    opt_field(out, b",\"status_t_ns\":", s.status_t_ns);
    if let Some((t, procs)) = s.tree {
        write!(
            out,
            ",\"tree\":{{\"processes\":{},\"rss_bytes\":{},\"anon_swap_bytes\":{}}},\"procs\":[",
            t.processes, t.rss_bytes, t.anon_swap_bytes
        )?;
        for (i, p) in procs.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(
                out,
                "{sep}{{\"pid\":{},\"ppid\":{},\"rss_bytes\":{},\"rss_anon_bytes\":{},\"swap_bytes\":{}}}",
                p.pid, p.ppid, p.rss_bytes, p.rss_anon_bytes, p.swap_bytes
            )?;
        }
        out.push(b']');
    }
    if let Some(c) = s.cgroup {
        write!(
            out,
            ",\"cgroup\":{{\"usage_bytes\":{},\"peak_bytes\":{}}}",
            c.usage_bytes,
            Opt(c.peak_bytes)
        )?;
    }
    if let Some(p) = s.pss {
        write!(
            out,
            ",\"pss\":{{\"pss_bytes\":{},\"uss_bytes\":{},\"pss_anon_bytes\":{}",
            p.pss_bytes,
            p.uss_bytes,
            Opt(p.pss_anon_bytes)
        )?;
        if let Some(tree) = p.tree_pss_bytes {
            write!(out, ",\"tree_pss_bytes\":{tree}")?;
        }
        out.push(b'}');
    }
    if let Some(p) = s.published {
        out.extend_from_slice(b",\"published\":");
        serde_json::to_writer(&mut *out, p).map_err(std::io::Error::other)?;
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// Formats one CSV row (with its newline) into `out`.
pub(crate) fn format_csv(s: &Sample<'_>, out: &mut Vec<u8>) -> std::io::Result<()> {
    let m = s.mem;
    let tree = s.tree.map(|t| t.0);
    let jemalloc = s.published.and_then(|p| p.jemalloc);
    out.extend_from_slice(itoa::Buffer::new().format(s.t_ns).as_bytes());
    cell(out, Some(s.wall_ns));
    cell(out, Some(s.pid));
    cell(out, Some(m.rss_bytes));
    cell(out, m.rss_anon_bytes);
    cell(out, m.rss_file_bytes);
    cell(out, m.rss_shmem_bytes);
    cell(out, m.swap_bytes);
    cell(out, m.peak_rss_bytes);
    cell(out, m.virtual_bytes);
    cell(out, s.status_t_ns);
    cell(out, tree.map(|t| t.processes));
    cell(out, tree.map(|t| t.rss_bytes));
    cell(out, tree.map(|t| t.anon_swap_bytes));
    cell(out, s.cgroup.map(|c| c.usage_bytes));
    cell(out, s.cgroup.and_then(|c| c.peak_bytes));
    cell(out, s.pss.map(|p| p.pss_bytes));
    cell(out, s.pss.map(|p| p.uss_bytes));
    cell(out, jemalloc.map(|j| j.allocated_bytes));
    cell(out, jemalloc.map(|j| j.active_bytes));
    cell(out, jemalloc.map(|j| j.resident_bytes));
    cell(
        out,
        s.published.and_then(|p| p.counting).map(|c| c.live_bytes()),
    );
    cell(out, s.published.map(|p| p.iteration));
    out.push(b'\n');
    Ok(())
}

/// How long a sample may wait in memory before it is written, at intervals shorter than this:
/// at 1 kHz a `write` per sample per file was a third of the daemon's CPU, so lines are written
/// in batches of at most this age (a SIGKILL of the daemon loses at most this much of the run).
/// At this interval and longer, each sample is written as it is taken.
pub(crate) const BATCH_AGE_NS: u64 = 10_000_000;

/// The per-sample files, opened up front.
#[derive(Debug, Default)]
pub(crate) struct SampleFiles {
    jsonl: Option<File>,
    csv: Option<File>,
    /// Lines formatted but not yet written, one buffer per file.
    jsonl_pending: Vec<u8>,
    csv_pending: Vec<u8>,
    /// `t_ns` of the oldest pending line.
    pending_since: Option<u64>,
    /// Whether lines are batched (the interval is shorter than [`BATCH_AGE_NS`]).
    batched: bool,
}

fn create(flag: &str, path: &Path) -> Result<File> {
    File::create(path).with_context(|| format!("cannot create {flag} {}", path.display()))
}

impl SampleFiles {
    /// Creates (truncates) the files and writes the CSV header; samples `interval_ns` apart.
    ///
    /// # Errors
    ///
    /// Naming the flag and the path that cannot be created.
    pub(crate) fn open(
        jsonl: Option<&Path>,
        csv: Option<&Path>,
        interval_ns: u64,
    ) -> Result<SampleFiles> {
        let jsonl = jsonl.map(|p| create("--out", p)).transpose()?;
        let mut csv = csv.map(|p| create("--csv", p)).transpose()?;
        if let Some(f) = csv.as_mut() {
            f.write_all(CSV_HEADER.as_bytes())
                .context("writing the --csv header")?;
        }
        // Room for a batch of lines: formatting never grows them on the sampling path.
        let room = |f: &Option<File>| if f.is_some() { 64 * 1024 } else { 0 };
        Ok(SampleFiles {
            jsonl_pending: Vec::with_capacity(room(&jsonl)),
            csv_pending: Vec::with_capacity(room(&csv)),
            jsonl,
            csv,
            pending_since: None,
            batched: interval_ns < BATCH_AGE_NS,
        })
    }

    /// Formats one sample into each file's pending lines and writes them out (one `write` per
    /// file) unless batching and the oldest pending line is younger than [`BATCH_AGE_NS`].
    ///
    /// # Errors
    ///
    /// When a file cannot be written (disk full).
    pub(crate) fn write(&mut self, sample: &Sample<'_>) -> Result<()> {
        if self.jsonl.is_some() {
            format_jsonl(sample, &mut self.jsonl_pending)?;
        }
        if self.csv.is_some() {
            format_csv(sample, &mut self.csv_pending)?;
        }
        let since = *self.pending_since.get_or_insert(sample.t_ns);
        let full = self.jsonl_pending.len().max(self.csv_pending.len()) >= 48 * 1024;
        if !self.batched || full || sample.t_ns.saturating_sub(since) >= BATCH_AGE_NS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes every pending line. Called at the end of the run (and by `Drop`, on every way out).
    ///
    /// # Errors
    ///
    /// When a file cannot be written (disk full).
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.pending_since = None;
        if let Some(f) = self
            .jsonl
            .as_mut()
            .filter(|_| !self.jsonl_pending.is_empty())
        {
            let result = f.write_all(&self.jsonl_pending).context("writing --out");
            self.jsonl_pending.clear();
            result?;
        }
        if let Some(f) = self.csv.as_mut().filter(|_| !self.csv_pending.is_empty()) {
            let result = f.write_all(&self.csv_pending).context("writing --csv");
            self.csv_pending.clear();
            result?;
        }
        Ok(())
    }
}

impl Drop for SampleFiles {
    fn drop(&mut self) {
        // An error here has no one left to tell; `finish` flushes first and reports it.
        let _ = self.flush();
    }
}

/// The summary file, replaced atomically each time.
#[derive(Debug)]
pub(crate) struct SummaryFile {
    path: PathBuf,
    temp: PathBuf,
}

impl SummaryFile {
    /// Checks that the summary can be written by writing `initial` now.
    ///
    /// # Errors
    ///
    /// Naming the path when it cannot be written.
    pub(crate) fn create(path: &Path, initial: &impl serde::Serialize) -> Result<SummaryFile> {
        let name = path
            .file_name()
            .with_context(|| format!("--summary {}: not a file path", path.display()))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}", std::process::id()));
        let me = SummaryFile {
            path: path.to_owned(),
            temp: path.with_file_name(temp_name),
        };
        me.write(initial)
            .with_context(|| format!("cannot create --summary {}", path.display()))?;
        Ok(me)
    }

    /// Replaces the summary with `value`.
    ///
    /// PERF: formatted in memory and written with one `write`: serde_json on an unbuffered file
    /// issues a syscall per token (600 for a summary). No `fsync`: a killed daemon cannot lose
    /// what the kernel already holds, so the rename alone keeps the file whole after SIGKILL;
    /// only a power loss could leave an empty file, a risk not worth a disk flush per rewrite.
    ///
    /// # Errors
    ///
    /// When the temporary file cannot be written or renamed.
    pub(crate) fn write(&self, value: &impl serde::Serialize) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(value)?;
        text.push(b'\n');
        std::fs::write(&self.temp, &text)
            .with_context(|| format!("writing {}", self.temp.display()))?;
        std::fs::rename(&self.temp, &self.path)
            .with_context(|| format!("renaming to {}", self.path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain sample at `t_ns`.
    fn plain(mem: &MemorySnapshot, t_ns: u64) -> Sample<'_> {
        Sample {
            t_ns,
            wall_ns: t_ns,
            pid: 1,
            mem,
            status_t_ns: None,
            tree: None,
            cgroup: None,
            pss: None,
            published: None,
        }
    }

    fn lines(path: &Path) -> usize {
        std::fs::read_to_string(path).unwrap().lines().count()
    }

    #[test]
    fn under_10ms_intervals_lines_are_written_in_batches_at_most_10ms_old() {
        let dir = tempfile::tempdir().unwrap();
        let (out, csv) = (dir.path().join("s.jsonl"), dir.path().join("s.csv"));
        let mem = MemorySnapshot::default();
        let ms = 1_000_000;
        let mut files = SampleFiles::open(Some(&out), Some(&csv), ms).unwrap();
        for t in 0..10 {
            files.write(&plain(&mem, t * ms)).unwrap();
        }
        // Ten samples within 9 ms: none written yet.
        assert_eq!((lines(&out), lines(&csv)), (0, 1));
        // The one 10 ms after the oldest pending writes all eleven.
        files.write(&plain(&mem, 10 * ms)).unwrap();
        assert_eq!((lines(&out), lines(&csv)), (11, 12));
        files.write(&plain(&mem, 11 * ms)).unwrap();
        assert_eq!(lines(&out), 11);
        // Dropping (every way out of a run) writes what is pending.
        drop(files);
        assert_eq!((lines(&out), lines(&csv)), (12, 13));
    }

    #[test]
    fn at_10ms_and_longer_each_sample_is_written_as_it_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("s.jsonl");
        let mem = MemorySnapshot::default();
        let mut files = SampleFiles::open(Some(&out), None, BATCH_AGE_NS).unwrap();
        for t in 0..3 {
            files.write(&plain(&mem, t * BATCH_AGE_NS)).unwrap();
            assert_eq!(lines(&out), t as usize + 1);
        }
        std::mem::forget(files); // as after a SIGKILL: nothing left to write
        assert_eq!(lines(&out), 3);
    }

    #[test]
    fn plain_lines_are_exact_with_nulls_and_empty_cells_for_figures_not_read() {
        let mut mem = MemorySnapshot::default();
        mem.rss_bytes = 18_446_744_073_709_551_615;
        mem.rss_anon_bytes = Some(0);
        mem.virtual_bytes = Some(4096);
        let mut s = plain(&mem, 7);
        s.pid = 4_294_967_295;
        let mut line = vec![];
        format_jsonl(&s, &mut line).unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"t_ns\":7,\"wall_ns\":7,\"pid\":4294967295,\"rss_bytes\":18446744073709551615,\"rss_anon_bytes\":0,\"rss_file_bytes\":null,\"rss_shmem_bytes\":null,\"swap_bytes\":null,\"peak_rss_bytes\":null,\"virtual_bytes\":4096,\"status_t_ns\":null}\n"
        );
        let mut row = vec![];
        format_csv(&s, &mut row).unwrap();
        assert_eq!(
            String::from_utf8(row).unwrap(),
            "7,7,4294967295,18446744073709551615,0,,,,,4096,,,,,,,,,,,,,\n"
        );
    }

    #[test]
    fn jsonl_line_is_valid_json_with_every_part() {
        let mut mem = MemorySnapshot::default();
        mem.rss_bytes = 4096;
        mem.rss_anon_bytes = Some(1024);
        let procs = [ProcSample {
            pid: 2,
            ppid: 1,
            rss_bytes: 10,
            rss_anon_bytes: 5,
            swap_bytes: 0,
        }];
        let mut published = PublishedStats::default();
        published.phase = "st\"eady".into();
        let s = Sample {
            t_ns: 1,
            wall_ns: 2,
            pid: 1,
            mem: &mem,
            status_t_ns: Some(0),
            tree: Some((
                TreeTotals {
                    processes: 2,
                    rss_bytes: 4106,
                    anon_swap_bytes: 1029,
                },
                &procs,
            )),
            cgroup: Some(CgroupSample {
                usage_bytes: 9,
                peak_bytes: None,
            }),
            pss: Some(Pss {
                pss_bytes: 1,
                uss_bytes: 2,
                pss_anon_bytes: None,
                tree_pss_bytes: Some(7),
            }),
            published: Some(&published),
        };
        let mut line = vec![];
        format_jsonl(&s, &mut line).unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["rss_bytes"], 4096);
        assert_eq!(v["rss_file_bytes"], serde_json::Value::Null);
        assert_eq!(v["procs"][0]["pid"], 2);
        assert_eq!(v["tree"]["rss_bytes"], 4106);
        assert_eq!(v["cgroup"]["usage_bytes"], 9);
        assert_eq!(v["pss"]["tree_pss_bytes"], 7);
        assert_eq!(v["published"]["phase"], "st\"eady");

        let mut row = vec![];
        format_csv(&s, &mut row).unwrap();
        let row = String::from_utf8(row).unwrap();
        assert_eq!(row.split(',').count(), CSV_HEADER.split(',').count());
        assert!(row.starts_with("1,2,1,4096,1024,,"), "{row}");
    }

    #[test]
    fn summary_is_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let f = SummaryFile::create(&path, &serde_json::json!({"a": 1})).unwrap();
        f.write(&serde_json::json!({"a": 2})).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["a"], 2);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let e = SummaryFile::create(Path::new("/nonexistent-dir/s.json"), &1).unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot create --summary /nonexistent-dir/s.json"),
            "{e:#}"
        );
    }
}
