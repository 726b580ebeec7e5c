//! Linux `/proc` readers of the sampler: a process's memory figures from kept-open `statm` and
//! `status` ([`MemReader`]), process identity (start time, state, parent) from `/proc/<pid>/stat`,
//! children from `/proc/<pid>/task/*/children`, PSS/USS from `smaps_rollup`, and the daemon's own
//! CPU time and RSS. Parsers are pure functions of `&[u8]`, unit-tested on captured files.
//! (`memprobe::ProcessMemory` still opens the target first, for its error messages, and does the
//! start-time read and the peak reset.)
//!
//! # Freshness of each figure
//!
//! `statm` is short and cheap; `status` is 1.4 KiB of text the kernel formats on each read
//! (signal masks, CPU lists, ...) and costs about four times as much. So [`MemReader`] reads
//! `statm` at every tick and `status` only every [`STATUS_EVERY`] (every tick when ticks are
//! further apart). On a system without swap VmSwap is always 0, so `status` then only adds the
//! peak and the file/shmem split, and is read every [`STATUS_EVERY_NO_SWAP`]:
//!
//! | figure | source | fresh |
//! |---|---|---|
//! | RSS | `statm` resident | every tick |
//! | RssAnon | `statm` resident − shared (the kernel's shared is RssFile + RssShmem) | every tick |
//! | virtual size | `statm` size | every tick |
//! | RssFile, RssShmem, VmSwap, VmHWM | `status` | the last `status` read, `status_t_ns` in each sample: ≤ 100 ms old with swap, ≤ 1 s without |

use memprobe::snapshot::procfs::{Status, parse_statm, parse_status};
use memprobe::{Error, MemorySnapshot, Result};
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes per page, asked of the kernel once.
pub fn page_size() -> u64 {
    use std::sync::OnceLock;
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .map_or(4096, |p| p as u64)
    })
}

fn io_error(action: &'static str, path: &Path, e: std::io::Error, pid: u32) -> Error {
    let gone = e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(nix::libc::ESRCH);
    if gone {
        Error::ProcessNotFound { pid }
    } else if e.kind() == ErrorKind::PermissionDenied {
        Error::PermissionDenied {
            action,
            path: path.to_owned(),
        }
    } else {
        Error::Io {
            action,
            path: path.to_owned(),
            source: e,
        }
    }
}

/// Opens `/proc/<pid>/<name>` for reading, mapping errors as the library does.
pub fn open_proc(pid: u32, name: &str) -> Result<(File, PathBuf)> {
    let path = PathBuf::from(format!("/proc/{pid}/{name}"));
    match File::open(&path) {
        Ok(f) => Ok((f, path)),
        Err(e) => Err(io_error("opening", &path, e, pid)),
    }
}

/// Reads a kept-open file from offset 0 into `buf`, until end of file or a full buffer; the bytes
/// read.
pub fn pread(file: &File, buf: &mut [u8], path: &Path, pid: u32) -> Result<usize> {
    read_from(file, buf, path, pid, false)
}

/// Like [`pread`], for the `/proc` files the kernel formats as one record (`statm`, `status`,
/// `stat`, `smaps_rollup`): their whole text comes in the first read when it fits, so a short
/// read is the end and the read that would return 0 is saved. PERF: one syscall instead of two.
pub fn pread_record(file: &File, buf: &mut [u8], path: &Path, pid: u32) -> Result<usize> {
    read_from(file, buf, path, pid, true)
}

fn read_from(file: &File, buf: &mut [u8], path: &Path, pid: u32, record: bool) -> Result<usize> {
    let mut len = 0;
    loop {
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => return Ok(len),
            Ok(n) => {
                let short = n < buf.len() - len;
                len += n;
                if len == buf.len() || (record && short) {
                    return Ok(len);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error("reading", path, e, pid)),
        }
    }
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    let s = s.trim_ascii();
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// `"   1234 kB"` → `1234 * 1024`.
fn kib_value(rest: &[u8]) -> Option<u64> {
    let rest = rest.trim_ascii();
    let digits = rest.strip_suffix(b"kB").unwrap_or(rest);
    parse_u64(digits).map(|k| k * 1024)
}

/// Shortest time between two reads of `status` when ticks come faster.
pub const STATUS_EVERY: Duration = Duration::from_millis(100);
/// The same on a system without swap, where `status` adds no per-tick figure of the verdict.
pub const STATUS_EVERY_NO_SWAP: Duration = Duration::from_secs(1);

/// Whether the system has swap (`SwapTotal` above 0 in `/proc/meminfo`), asked once. When it
/// cannot be read, assume it has.
pub fn swap_configured() -> bool {
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

const STATUS_BUF: usize = 4096;

/// A process's memory figures from kept-open `statm` and `status`, read with `pread` into stack
/// buffers: no allocation per read. See the module docs for how fresh each figure is.
///
/// Kept-open files name the process, not the PID: once it has gone, reads fail with
/// `ProcessNotFound` instead of reading a process that reused the PID.
#[derive(Debug)]
pub struct MemReader {
    pid: u32,
    statm: File,
    statm_path: PathBuf,
    status: File,
    status_path: PathBuf,
    status_every: Duration,
    status_at: Option<Instant>,
    status_last: Status,
    /// PERF: kept, so a read does not zero 4 KiB of stack first.
    status_buf: Box<[u8; STATUS_BUF]>,
}

impl MemReader {
    /// Opens the files of `pid`, for ticks `interval` apart, reading `status` every
    /// [`STATUS_EVERY`] or, without swap, [`STATUS_EVERY_NO_SWAP`].
    ///
    /// # Errors
    ///
    /// `ProcessNotFound` or `PermissionDenied` naming the file.
    pub fn open(pid: u32, interval: Duration) -> Result<MemReader> {
        let every = if swap_configured() {
            STATUS_EVERY
        } else {
            STATUS_EVERY_NO_SWAP
        };
        Self::open_with(pid, interval, every)
    }

    /// Opens the files of `pid`, for ticks `interval` apart, reading `status` every `every`.
    ///
    /// # Errors
    ///
    /// `ProcessNotFound` or `PermissionDenied` naming the file.
    pub fn open_with(pid: u32, interval: Duration, every: Duration) -> Result<MemReader> {
        let (statm, statm_path) = open_proc(pid, "statm")?;
        let (status, status_path) = open_proc(pid, "status")?;
        Ok(MemReader {
            pid,
            statm,
            statm_path,
            status,
            status_path,
            // PERF: ticks `every` apart or more read status each time; faster ones, every
            // `every`. Due half an interval early, so a tick a few µs short of `every` does not
            // wait a whole tick more.
            status_every: if interval >= every {
                Duration::ZERO
            } else {
                every - interval / 2
            },
            status_at: None,
            status_last: Status::default(),
            status_buf: Box::new([0; STATUS_BUF]),
        })
    }

    /// When `status` was last read.
    pub fn status_read_at(&self) -> Option<Instant> {
        self.status_at
    }

    /// Reads the figures at `now` (`status` only when due).
    ///
    /// # Errors
    ///
    /// `ProcessNotFound` once the process has gone; `Parse` on a malformed file.
    pub fn read(&mut self, now: Instant) -> Result<MemorySnapshot> {
        let mut buf = [0u8; 256];
        let n = pread_record(&self.statm, &mut buf, &self.statm_path, self.pid)?;
        let statm = parse_statm(&buf[..n]).ok_or_else(|| Error::Parse {
            what: "size, resident and shared pages",
            path: self.statm_path.clone(),
        })?;
        if self
            .status_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.status_every)
        {
            let buf = &mut self.status_buf[..];
            let n = pread_record(&self.status, buf, &self.status_path, self.pid)?;
            self.status_last = parse_status(&buf[..n]);
            self.status_at = Some(now);
        }
        let page = page_size();
        let st = &self.status_last;
        let mut m = MemorySnapshot::default();
        m.rss_bytes = statm.resident_pages * page;
        m.rss_anon_bytes = Some(statm.resident_pages.saturating_sub(statm.shared_pages) * page);
        m.rss_file_bytes = st.rss_file_bytes;
        m.rss_shmem_bytes = st.rss_shmem_bytes;
        m.swap_bytes = st.vm_swap_bytes;
        m.peak_rss_bytes = st.vm_hwm_bytes;
        m.virtual_bytes = Some(statm.size_pages * page);
        Ok(m)
    }
}

/// The identity fields of `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Single-letter state (`R`, `S`, `Z`, ...).
    pub state: u8,
    /// Parent PID.
    pub ppid: u32,
    /// Start time in clock ticks after boot: with the PID, the process's identity.
    pub start_time_ticks: u64,
}

/// Parses `/proc/<pid>/stat`. The command name is in parentheses and may itself contain spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(buf: &[u8]) -> Option<ProcStat> {
    let close = buf.iter().rposition(|b| *b == b')')?;
    let mut fields = buf[close + 1..]
        .split(|b| *b == b' ')
        .filter(|f| !f.is_empty());
    // Fields after the name: 3 state, 4 ppid, ..., 22 starttime.
    let state = *fields.next()?.first()?;
    let ppid = u32::try_from(parse_u64(fields.next()?)?).ok()?;
    let start_time_ticks = parse_u64(fields.nth(22 - 5)?)?;
    Some(ProcStat {
        state,
        ppid,
        start_time_ticks,
    })
}

/// Reads `/proc/<pid>/stat` afresh (by path: a PID reused since is seen as a new start time).
///
/// # Errors
///
/// `ProcessNotFound` when no process has this PID.
pub fn read_stat(pid: u32) -> Result<ProcStat> {
    let (file, path) = open_proc(pid, "stat")?;
    let mut buf = [0u8; 1024];
    let n = pread_record(&file, &mut buf, &path, pid)?;
    parse_stat(&buf[..n]).ok_or(Error::Parse {
        what: "state, parent and start time",
        path,
    })
}

/// Appends the PIDs listed in a `children` file (`"12 34 "`) to `out`.
pub fn parse_children(buf: &[u8], out: &mut Vec<u32>) {
    out.extend(
        buf.split(|b| b.is_ascii_whitespace())
            .filter_map(parse_u64)
            .filter_map(|p| u32::try_from(p).ok()),
    );
}

/// Direct children of `pid`, from `/proc/<pid>/task/*/children` (every thread's list: a child's
/// parent is the thread that forked it). No scan of `/proc`. A process that is gone has none.
pub fn children_of(pid: u32, out: &mut Vec<u32>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    let mut buf = [0u8; 4096];
    for task in tasks.flatten() {
        let path = task.path().join("children");
        if let Ok(file) = File::open(&path) {
            // A very long list does not fit the buffer: read it whole then.
            match pread(&file, &mut buf, &path, pid) {
                Ok(n) if n < buf.len() => parse_children(&buf[..n], out),
                Ok(_) => {
                    if let Ok(all) = std::fs::read(&path) {
                        parse_children(&all, out);
                    }
                }
                Err(_) => {}
            }
        }
    }
}

/// Proportional and unique set sizes from `smaps_rollup`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pss {
    /// Proportional set size: each shared page divided by its sharers.
    pub pss_bytes: u64,
    /// Unique set size: Private_Clean + Private_Dirty.
    pub uss_bytes: u64,
    /// Anonymous part of PSS (`Pss_Anon`, Linux ≥ 5.x), when shown.
    pub pss_anon_bytes: Option<u64>,
}

/// Parses `/proc/<pid>/smaps_rollup`.
pub fn parse_smaps_rollup(buf: &[u8]) -> Option<Pss> {
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
            b"Private_Clean" | b"Private_Dirty" => private += value.unwrap_or(0),
            _ => {}
        }
    }
    Some(Pss {
        pss_bytes: pss?,
        uss_bytes: private,
        pss_anon_bytes: pss_anon,
    })
}

/// A kept-open `smaps_rollup` with the auto-skip rule: a walk is skipped while the previous one
/// took more than [`PSS_MAX_SHARE`] of the PSS interval.
#[derive(Debug)]
pub struct PssReader {
    pid: u32,
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    /// How long the last walk took.
    pub last_walk: Duration,
}

/// Largest share of `--pss-interval` one smaps_rollup walk may take before walks are skipped.
pub const PSS_MAX_SHARE: f64 = 0.10;

impl PssReader {
    /// Opens `smaps_rollup`, so a permission problem shows before the run starts.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` naming the file (it needs ptrace access to the process).
    pub fn open(pid: u32) -> Result<PssReader> {
        let (file, path) = open_proc(pid, "smaps_rollup")?;
        let mut me = PssReader {
            pid,
            file,
            path,
            buf: vec![0; 4096],
            last_walk: Duration::ZERO,
        };
        me.read()?;
        Ok(me)
    }

    /// `true` when the last walk was cheap enough to take another at `interval`.
    pub fn affordable(&self, interval: Duration) -> bool {
        self.last_walk.as_secs_f64() <= interval.as_secs_f64() * PSS_MAX_SHARE
    }

    /// Walks the process's mappings once.
    ///
    /// # Errors
    ///
    /// When the process has gone or the file cannot be parsed.
    pub fn read(&mut self) -> Result<Pss> {
        let start = std::time::Instant::now();
        let n = pread(&self.file, &mut self.buf, &self.path, self.pid)?;
        self.last_walk = start.elapsed();
        parse_smaps_rollup(&self.buf[..n]).ok_or(Error::Parse {
            what: "Pss",
            path: self.path.clone(),
        })
    }
}

/// The daemon's own cost: CPU time from getrusage, current RSS from statm, peak from getrusage.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct SelfUsage {
    /// User CPU time, in nanoseconds.
    pub cpu_user_ns: u64,
    /// System CPU time, in nanoseconds.
    pub cpu_system_ns: u64,
    /// Current RSS of the daemon.
    pub rss_bytes: u64,
    /// The anonymous part of it (heap, stacks: what the daemon itself allocated); the rest is
    /// file-backed (its binary and libraries, shared with other processes).
    pub rss_anon_bytes: u64,
    /// Peak RSS of the daemon (ru_maxrss).
    pub max_rss_bytes: u64,
}

/// Measures the daemon itself.
pub fn self_usage() -> SelfUsage {
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
    if let Some(statm) = std::fs::read("/proc/self/statm")
        .ok()
        .and_then(|text| parse_statm(&text))
    {
        u.rss_bytes = statm.resident_pages * page_size();
        u.rss_anon_bytes = statm.resident_pages.saturating_sub(statm.shared_pages) * page_size();
    }
    u
}

/// The kernel release (`uname -r`), read once.
pub fn kernel_release() -> &'static str {
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
    fn stat_with_awkward_name() {
        let line = b"4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            s,
            ProcStat {
                state: b'S',
                ppid: 1,
                start_time_ticks: 987654
            }
        );
    }

    /// `/proc/<pid>/statm` and `status` of a `sleep` on Linux 6.18, captured together.
    const STATM: &[u8] = b"730 452 424 5 0 89 0\n";
    const STATUS: &[u8] = b"Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t26653\nNgid:\t0\nPid:\t26653\nPPid:\t26652\n\
TracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t0 \nNStgid:\t26653\nNSpid:\t26653\n\
NSpgid:\t26653\nNSsid:\t1743\nKthread:\t0\nVmPeak:\t    2920 kB\nVmSize:\t    2920 kB\nVmLck:\t       0 kB\n\
VmPin:\t       0 kB\nVmHWM:\t    1808 kB\nVmRSS:\t    1808 kB\nRssAnon:\t     112 kB\nRssFile:\t    1696 kB\n\
RssShmem:\t       0 kB\nVmData:\t     356 kB\nVmStk:\t     132 kB\nVmExe:\t      20 kB\nVmLib:\t    1560 kB\n\
VmPTE:\t      44 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n\
Threads:\t1\nSigQ:\t0/31503\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n";

    #[test]
    fn statm_and_status_real_format() {
        // The parsers are memprobe's (`memprobe::snapshot::procfs`), tested there on captured
        // files; here, the derivation the sampler relies on.
        let statm = parse_statm(STATM).unwrap();
        assert_eq!(
            (statm.size_pages, statm.resident_pages, statm.shared_pages),
            (730, 452, 424)
        );
        let st = parse_status(STATUS);
        assert_eq!(
            (
                st.rss_anon_bytes,
                st.rss_file_bytes,
                st.rss_shmem_bytes,
                st.vm_swap_bytes,
                st.vm_hwm_bytes
            ),
            (
                Some(112 << 10),
                Some(1696 << 10),
                Some(0),
                Some(0),
                Some(1808 << 10)
            )
        );
        // resident − shared is RssAnon, page for page.
        assert_eq!(
            (statm.resident_pages - statm.shared_pages) * 4096,
            st.rss_anon_bytes.unwrap()
        );
        assert_eq!(
            statm.shared_pages * 4096,
            st.rss_file_bytes.unwrap() + st.rss_shmem_bytes.unwrap()
        );
        assert!(parse_statm(b"730 452\n").is_none());
        assert_eq!(parse_status(b"Name:\tx\n"), Status::default());
    }

    /// On a live, idle process the derived RssAnon equals the kernel's own.
    #[test]
    fn derived_anon_matches_status_on_a_live_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let mut r =
            MemReader::open_with(child.id(), Duration::from_millis(100), STATUS_EVERY).unwrap();
        let now = Instant::now();
        let m = r.read(now).unwrap();
        let (file, path) = open_proc(child.id(), "status").unwrap();
        let mut buf = [0u8; STATUS_BUF];
        let n = pread(&file, &mut buf, &path, child.id()).unwrap();
        let st = parse_status(&buf[..n]);
        assert_eq!(m.rss_anon_bytes, st.rss_anon_bytes);
        assert_eq!(
            m.rss_bytes,
            st.rss_anon_bytes.unwrap() + st.rss_file_bytes.unwrap() + st.rss_shmem_bytes.unwrap()
        );
        assert!(m.peak_rss_bytes.unwrap() >= m.rss_bytes && m.swap_bytes.is_some());
        assert_eq!(r.status_read_at(), Some(now));
        // Fast ticks read status at most every STATUS_EVERY.
        let mut fast =
            MemReader::open_with(child.id(), Duration::from_millis(1), STATUS_EVERY).unwrap();
        fast.read(now).unwrap();
        fast.read(now + Duration::from_millis(50)).unwrap();
        assert_eq!(fast.status_read_at(), Some(now));
        let almost = now + STATUS_EVERY - Duration::from_micros(100);
        fast.read(almost).unwrap();
        assert_eq!(fast.status_read_at(), Some(almost));
        child.kill().unwrap();
        child.wait().unwrap();
        let e = r.read(Instant::now()).unwrap_err();
        assert!(matches!(e, Error::ProcessNotFound { .. }), "{e}");
    }

    #[test]
    fn children_lists() {
        let mut v = vec![];
        parse_children(b"12 34 ", &mut v);
        parse_children(b"", &mut v);
        assert_eq!(v, [12, 34]);
    }

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
                pss_anon_bytes: Some(380 * 1024)
            }
        );
    }

    #[test]
    fn own_process() {
        let me = memprobe::ProcessMemory::for_pid(std::process::id()).unwrap();
        assert_eq!(
            me.start_time_ticks().unwrap(),
            read_stat(std::process::id()).unwrap().start_time_ticks
        );
        assert!(
            PssReader::open(std::process::id())
                .unwrap()
                .read()
                .unwrap()
                .pss_bytes
                > 0
        );
        let u = self_usage();
        assert!(u.rss_bytes > 0 && u.max_rss_bytes > 0);
        assert!(u.rss_anon_bytes > 0 && u.rss_anon_bytes < u.rss_bytes);
    }

    #[test]
    fn missing_process_is_named() {
        let e = read_stat(i32::MAX as u32).unwrap_err().to_string();
        assert!(
            e.contains(&format!("no process with PID {}", i32::MAX)),
            "{e}"
        );
    }
}
