//! The daemon's readers of outside text as plain functions, for the fuzz targets in `fuzz/` and
//! the property tests: used by those, not public API (hidden from the docs, and exempt from the
//! crate's rule that everything but `cli` and `run` is `pub(crate)`).
//!
//! The readers live where a reader looks for them (`cgroup`, `procfs`, `output::read`); this
//! module only routes to them and flattens their crate-private types.

use std::path::{Path, PathBuf};

/// `memory.stat` of cgroup v2 (`v2`) or v1: anon, file, shmem and swap bytes, as read.
///
/// # Examples
///
/// ```
/// use memprobe_daemon::__readers::cgroup_stat;
/// assert_eq!(cgroup_stat(true, b"anon 4096\nfile 8192\n"), [Some(4096), Some(8192), None, None]);
/// ```
pub fn cgroup_stat(v2: bool, text: &[u8]) -> [Option<u64>; 4] {
    use crate::cgroup::{Version, parse_stat};
    let s = parse_stat(if v2 { Version::V2 } else { Version::V1 }, text);
    [s.anon_bytes, s.file_bytes, s.shmem_bytes, s.swap_bytes]
}

/// The memory cgroup directory named by `/proc/<pid>/cgroup` and `mountinfo`.
///
/// # Examples
///
/// ```
/// use memprobe_daemon::__readers::cgroup_locate;
/// let mountinfo = "35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory";
/// let dir = cgroup_locate("4:memory:/app.slice", mountinfo).unwrap();
/// assert_eq!(dir, std::path::Path::new("/sys/fs/cgroup/memory/app.slice"));
/// ```
pub fn cgroup_locate(proc_cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    crate::cgroup::locate(proc_cgroup, mountinfo)
}

/// The PIDs of a `/proc/<pid>/task/<tid>/children` file.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe_daemon::__readers::children(b"12 34 "), [12, 34]);
/// ```
pub fn children(buf: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    memprobe::snapshot::procfs::parse_children(buf, &mut out);
    out
}

/// `smaps_rollup`: PSS, USS and anonymous PSS bytes.
///
/// # Examples
///
/// ```
/// let text = b"Pss: 8 kB\nPss_Anon: 4 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 2 kB\n";
/// assert_eq!(memprobe_daemon::__readers::smaps_rollup(text), Some((8192, 3072, Some(4096))));
/// ```
pub fn smaps_rollup(buf: &[u8]) -> Option<(u64, u64, Option<u64>)> {
    crate::procfs::parse_smaps_rollup(buf).map(|p| (p.pss_bytes, p.uss_bytes, p.pss_anon_bytes))
}

/// A `watch --out` JSONL file read back: its lines and the series the verdict would judge.
///
/// # Errors
///
/// The one-line error `memprobe-daemon verdict` reports for this file.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("run.jsonl");
/// std::fs::write(&path, "{\"t_ns\":1,\"rss_bytes\":4096}\n")?;
/// let (lines, series) = memprobe_daemon::__readers::jsonl(&path)?;
/// assert_eq!(lines, 1);
/// assert!(!series.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn jsonl(path: &Path) -> anyhow::Result<(u64, Vec<memprobe::trend::Series>)> {
    let run = crate::output::read::read_jsonl(path)?;
    let series = run.series.series(memprobe::trend::SeriesChoice::Auto);
    Ok((run.lines, series))
}
