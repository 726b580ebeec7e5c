//! What the daemon reads of `/proc` beyond memprobe's snapshot module (which owns `statm`,
//! `status` and `stat`, the `children` lists, their parsers and the memory figures' sources, and
//! opens every file of a process from its held `/proc/<pid>` directory): PSS/USS from
//! `smaps_rollup` (opened through the target's reader, so it is the verified process's), whether
//! the system has swap, and the daemon's own CPU time and RSS. Parsers are pure functions of `&[u8]`, unit-tested on
//! captured files; numbers and `kB` values go through memprobe's `parse_u64` and `parse_kib`.
//!
//! # Freshness of each figure
//!
//! The target is read by a [`memprobe::snapshot::Sampler`]: `statm` at every tick, `status` (the
//! text the kernel formats on each read, several times a `statm` read) every [`STATUS_EVERY`], or
//! every tick when ticks are further apart. On a system without swap VmSwap is always 0, so
//! `status` is then read every [`STATUS_EVERY_NO_SWAP`]:
//!
//! | figure | source | fresh |
//! |---|---|---|
//! | RSS | `statm` resident | every tick |
//! | RssAnon, RssFile, RssShmem, VmSwap, VmHWM, virtual size | `status` lines | the last `status` read, `status_t_ns` in each sample: ≤ 100 ms old with swap, ≤ 1 s without |

use memprobe::snapshot::procfs::parse_kib;
use memprobe::{Error, Result};
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Reads a kept-open file from offset 0 into `buf`, until end of file or a full buffer; the bytes
/// read.
fn pread(file: &File, buf: &mut [u8], path: &Path, pid: u32) -> Result<usize> {
    let mut len = 0;
    loop {
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => return Ok(len),
            Ok(n) => {
                len += n;
                if len == buf.len() {
                    return Ok(len);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::from_io("reading", path.to_owned(), e, Some(pid))),
        }
    }
}

/// A `kB` value after a `Key:` (`"   1234 kB"` → `1234 * 1024`).
fn kib_value(rest: &[u8]) -> Option<u64> {
    parse_kib(rest)?.checked_mul(1024)
}

/// Shortest time between two reads of `status` when ticks come faster.
pub(crate) const STATUS_EVERY: Duration = Duration::from_millis(100);
/// The same on a system without swap, where `status` adds no per-tick figure of the verdict.
pub(crate) const STATUS_EVERY_NO_SWAP: Duration = Duration::from_secs(1);

/// How often the target's `status` is read: [`STATUS_EVERY`], or [`STATUS_EVERY_NO_SWAP`] on a
/// system without swap.
pub(crate) fn status_every() -> Duration {
    if swap_configured() {
        STATUS_EVERY
    } else {
        STATUS_EVERY_NO_SWAP
    }
}

/// Whether the system has swap (`SwapTotal` above 0 in `/proc/meminfo`), asked once. When it
/// cannot be read, assume it has.
fn swap_configured() -> bool {
    use std::sync::OnceLock;
    static SWAP: OnceLock<bool> = OnceLock::new();
    *SWAP.get_or_init(|| {
        let Ok(text) = std::fs::read("/proc/meminfo") else {
            return true;
        };
        text.split(|b| *b == b'\n')
            .find_map(|l| l.strip_prefix(b"SwapTotal:"))
            .and_then(kib_value)
            .is_none_or(|total| total > 0)
    })
}

/// Proportional and unique set sizes from `smaps_rollup`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct Pss {
    /// Proportional set size: each shared page divided by its sharers.
    pub(crate) pss_bytes: u64,
    /// Unique set size: Private_Clean + Private_Dirty.
    pub(crate) uss_bytes: u64,
    /// Anonymous part of PSS (`Pss_Anon`, Linux ≥ 5.x), when shown.
    pub(crate) pss_anon_bytes: Option<u64>,
    /// With `--tree`, PSS summed over the tree (the target and every process followed): a page
    /// shared by N processes counts 1/N in each, so once in the sum, where summed RSS counts it
    /// N times.
    pub(crate) tree_pss_bytes: Option<u64>,
}

/// Parses `/proc/<pid>/smaps_rollup`.
pub(crate) fn parse_smaps_rollup(buf: &[u8]) -> Option<Pss> {
    let mut pss = None;
    let mut pss_anon = None;
    let mut private = 0;
    for line in buf.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let value = kib_value(&line[colon + 1..]);
        match &line[..colon] {
            b"Pss" => pss = value,
            b"Pss_Anon" => pss_anon = value,
            // A present but malformed or out-of-range figure refuses the file rather than
            // count as 0; the sum of the two cannot exceed u64 in a real file.
            b"Private_Clean" | b"Private_Dirty" => {
                private = value.and_then(|v| v.checked_add(private))?
            }
            _ => {}
        }
    }
    Some(Pss {
        pss_bytes: pss?,
        uss_bytes: private,
        pss_anon_bytes: pss_anon,
        tree_pss_bytes: None,
    })
}

/// A reader of `smaps_rollup` with the auto-skip rule: a walk is skipped while the previous one
/// took more than [`PSS_MAX_SHARE`] of the PSS interval.
///
/// The file is opened afresh for each walk, from the process's held `/proc/<pid>` directory
/// ([`memprobe::ProcessMemory::open_file`]): `smaps_rollup` is bound to the address space the
/// process had when it was opened, so a kept one goes blank once the process calls `exec` (a
/// wrapper such as a pyenv shim, `env` or `nice` replacing itself), while `statm` and `status`
/// follow the process. An `openat` is nothing beside the walk itself.
#[derive(Debug)]
pub(crate) struct PssReader {
    buf: Vec<u8>,
    /// How long the last walk took.
    pub(crate) last_walk: Duration,
}

/// Largest share of `--pss-interval` one smaps_rollup walk may take before walks are skipped.
pub(crate) const PSS_MAX_SHARE: f64 = 0.10;

impl PssReader {
    /// Reads `smaps_rollup` of `process` once, so a permission problem shows before the run
    /// starts.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` naming the file (it needs ptrace access to the process).
    pub(crate) fn open(process: &memprobe::ProcessMemory) -> Result<PssReader> {
        let mut me = PssReader {
            buf: vec![0; 4096],
            last_walk: Duration::ZERO,
        };
        me.read(process)?;
        Ok(me)
    }

    /// `true` when the last walk was cheap enough to take another at `interval`.
    pub(crate) fn affordable(&self, interval: Duration) -> bool {
        self.last_walk.as_secs_f64() <= interval.as_secs_f64() * PSS_MAX_SHARE
    }

    /// Walks the mappings of `process` once.
    ///
    /// # Errors
    ///
    /// When the process has gone or the file cannot be parsed.
    pub(crate) fn read(&mut self, process: &memprobe::ProcessMemory) -> Result<Pss> {
        let start = std::time::Instant::now();
        let pid = process.pid();
        let path = || PathBuf::from(format!("/proc/{pid}/smaps_rollup"));
        let file = process.open_file("smaps_rollup")?;
        let n = pread(&file, &mut self.buf, &path(), pid)?;
        self.last_walk = start.elapsed();
        parse_smaps_rollup(&self.buf[..n]).ok_or_else(|| Error::Parse {
            what: "Pss",
            path: path(),
        })
    }
}

/// The daemon's own cost: CPU time from getrusage, current RSS from statm, peak from getrusage.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct SelfUsage {
    /// User CPU time, in nanoseconds.
    pub(crate) cpu_user_ns: u64,
    /// System CPU time, in nanoseconds.
    pub(crate) cpu_system_ns: u64,
    /// Current RSS of the daemon.
    pub(crate) rss_bytes: u64,
    /// The anonymous part of it (heap, stacks: what the daemon itself allocated); the rest is
    /// file-backed (its binary and libraries, shared with other processes).
    pub(crate) rss_anon_bytes: u64,
    /// Peak RSS of the daemon (ru_maxrss).
    pub(crate) max_rss_bytes: u64,
}

/// Measures the daemon itself.
pub(crate) fn self_usage() -> SelfUsage {
    use nix::sys::resource::{UsageWho, getrusage};
    let mut u = SelfUsage::default();
    if let Ok(r) = getrusage(UsageWho::RUSAGE_SELF) {
        let ns = |t: nix::sys::time::TimeVal| {
            (t.tv_sec() as u64) * 1_000_000_000 + (t.tv_usec() as u64) * 1000
        };
        u.cpu_user_ns = ns(r.user_time());
        u.cpu_system_ns = ns(r.system_time());
        u.max_rss_bytes = (r.max_rss() as u64) * 1024;
    }
    // The daemon's own figures, from the same source as the target's (statm for RSS, status's
    // RssAnon line for the anonymous part).
    if let Ok(me) = memprobe::ProcessMemory::current().and_then(|m| m.snapshot()) {
        u.rss_bytes = me.rss_bytes;
        u.rss_anon_bytes = me.rss_anon_bytes.unwrap_or(0);
    }
    u
}

/// The kernel release (`uname -r`), read once.
pub(crate) fn kernel_release() -> &'static str {
    use std::sync::OnceLock;
    static RELEASE: OnceLock<String> = OnceLock::new();
    RELEASE.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_rollup_real_format() {
        let text = b"55d1c0a00000-7ffd6d5f1000 ---p 00000000 00:00 0                          [rollup]\n\
Rss:                3968 kB\nPss:                1024 kB\nPss_Dirty:           400 kB\nPss_Anon:            380 kB\n\
Pss_File:            644 kB\nPss_Shmem:             0 kB\nShared_Clean:       2944 kB\nShared_Dirty:          0 kB\n\
Private_Clean:       624 kB\nPrivate_Dirty:       400 kB\nReferenced:         3968 kB\nAnonymous:           400 kB\n";
        let p = parse_smaps_rollup(text).unwrap();
        assert_eq!(
            p,
            Pss {
                pss_bytes: 1024 * 1024,
                uss_bytes: 1024 * 1024,
                pss_anon_bytes: Some(380 * 1024),
                tree_pss_bytes: None,
            }
        );
    }

    #[test]
    fn own_process() {
        let me = memprobe::ProcessMemory::for_pid(std::process::id()).unwrap();
        assert_eq!(
            me.start_time_ticks().unwrap(),
            memprobe::snapshot::read_stat(std::process::id())
                .unwrap()
                .start_time_ticks
        );
        assert!(
            PssReader::open(&memprobe::ProcessMemory::current().unwrap())
                .unwrap()
                .read(&memprobe::ProcessMemory::current().unwrap())
                .unwrap()
                .pss_bytes
                > 0
        );
        let u = self_usage();
        assert!(u.rss_bytes > 0 && u.max_rss_bytes > 0);
        assert!(u.rss_anon_bytes > 0 && u.rss_anon_bytes < u.rss_bytes);
    }

    #[test]
    fn kib_values_need_their_unit() {
        assert_eq!(kib_value(b"   1234 kB"), Some(1234 * 1024));
        assert_eq!(kib_value(b"   1234"), None);
    }
}
