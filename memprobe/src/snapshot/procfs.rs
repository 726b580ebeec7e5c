//! Pure parsers for the Linux `/proc/<pid>/{statm,status,stat}` files, and the line streamer that
//! feeds them from a fixed stack buffer.
//!
//! Every parser is a function of `&[u8]` that never allocates and never panics, whatever the bytes:
//! a missing, truncated or malformed field is `None`, not an error, so a kernel that drops or renames
//! a field costs one figure, not the whole snapshot. They compile on every platform (they touch no
//! OS interface), so the captured files in `tests/fixtures/proc/` are checked everywhere.
//!
//! # Implementation
//!
//! A value only counts when it is visibly complete: a `status` value must be followed by its `kB`
//! unit, a `statm` or `stat` number by a separator. A buffer cut in the middle of a number therefore
//! yields `None` rather than a silently shortened figure.

use std::ops::ControlFlow;

/// The figures of `/proc/<pid>/statm`, in pages (multiply by the page size for bytes).
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_statm;
/// let statm = parse_statm(b"765 409 381 5 0 123 0\n").unwrap();
/// assert_eq!(statm.resident_pages, 409);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Statm {
    /// Total virtual size (`VmSize`), in pages.
    pub size_pages: u64,
    /// Resident set size (`VmRSS` = `RssAnon` + `RssFile` + `RssShmem`), in pages.
    pub resident_pages: u64,
    /// Resident file-backed plus shared pages (`RssFile` + `RssShmem`), in pages.
    pub shared_pages: u64,
}

/// Parses the first line of `/proc/<pid>/statm`: `size resident shared text lib data dt`.
///
/// Returns `None` unless the first three numbers are present, decimal, within `u64` and each
/// followed by a separator (so a truncated buffer is refused rather than misread).
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_statm;
/// let statm = parse_statm(b"765 409 381 5 0 123 0\n").unwrap();
/// assert_eq!((statm.size_pages, statm.resident_pages, statm.shared_pages), (765, 409, 381));
/// assert_eq!(parse_statm(b"765 40"), None); // cut inside `resident`
/// assert_eq!(parse_statm(b"garbage"), None);
/// ```
pub fn parse_statm(buf: &[u8]) -> Option<Statm> {
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut rest = line;
    let mut next = || {
        let end = rest.iter().position(|&b| b == b' ')?;
        let value = parse_u64(&rest[..end]);
        rest = &rest[end + 1..];
        value
    };
    Some(Statm {
        size_pages: next()?,
        resident_pages: next()?,
        shared_pages: next()?,
    })
}

/// The memory figures of `/proc/<pid>/status`, converted from the file's `kB` (KiB) to bytes.
/// A field the file lacks (a kernel thread or zombie has no `Vm*` lines; old kernels lack
/// `RssShmem`) is `None`.
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_status;
/// let status = parse_status(b"VmHWM:\t    1636 kB\nVmSwap:\t       0 kB\n");
/// assert_eq!(status.vm_hwm_bytes, Some(1636 * 1024));
/// assert_eq!(status.vm_size_bytes, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Status {
    /// `VmSize`: virtual address space size.
    pub vm_size_bytes: Option<u64>,
    /// `VmHWM`: peak resident set size ("high water mark") since start or the last reset.
    pub vm_hwm_bytes: Option<u64>,
    /// `VmRSS`: resident set size.
    pub vm_rss_bytes: Option<u64>,
    /// `RssAnon`: resident anonymous memory.
    pub rss_anon_bytes: Option<u64>,
    /// `RssFile`: resident file-backed memory.
    pub rss_file_bytes: Option<u64>,
    /// `RssShmem`: resident shared memory (SysV shm, shared anonymous and tmpfs mappings).
    pub rss_shmem_bytes: Option<u64>,
    /// `VmSwap`: swapped-out anonymous memory.
    pub vm_swap_bytes: Option<u64>,
}

impl Status {
    /// Reads one line (with or without its `\n`), keeping the figure if it is one of ours.
    pub(crate) fn parse_line(&mut self, line: &[u8]) {
        // PERF: most lines are not ours; every key we want starts with `V` or `R`.
        if !matches!(line.first(), Some(b'V' | b'R')) {
            return;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return;
        };
        let slot = match &line[..colon] {
            b"VmSize" => &mut self.vm_size_bytes,
            b"VmHWM" => &mut self.vm_hwm_bytes,
            b"VmRSS" => &mut self.vm_rss_bytes,
            b"RssAnon" => &mut self.rss_anon_bytes,
            b"RssFile" => &mut self.rss_file_bytes,
            b"RssShmem" => &mut self.rss_shmem_bytes,
            b"VmSwap" => &mut self.vm_swap_bytes,
            _ => return,
        };
        *slot = parse_kib(&line[colon + 1..]).and_then(|kib| kib.checked_mul(1024));
    }

    /// Whether every field has been seen, so the rest of the file can be left unread.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux reader only
    pub(crate) fn is_complete(&self) -> bool {
        let Status {
            vm_size_bytes,
            vm_hwm_bytes,
            vm_rss_bytes,
            rss_anon_bytes,
            rss_file_bytes,
            rss_shmem_bytes,
            vm_swap_bytes,
        } = self;
        [
            vm_size_bytes,
            vm_hwm_bytes,
            vm_rss_bytes,
            rss_anon_bytes,
            rss_file_bytes,
            rss_shmem_bytes,
            vm_swap_bytes,
        ]
        .iter()
        .all(|v| v.is_some())
    }
}

/// Parses `/proc/<pid>/status`. Never fails: unknown lines are skipped and a field that is
/// missing, malformed, cut short or out of range is `None`.
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_status;
/// let text = b"Name:\tcat\nVmSize:\t    3060 kB\nVmRSS:\t    1636 kB\nRssAnon:\t     112 kB\nVmSwap:\t  0 k";
/// let status = parse_status(text);
/// assert_eq!(status.vm_size_bytes, Some(3060 * 1024));
/// assert_eq!(status.rss_anon_bytes, Some(112 * 1024));
/// assert_eq!(status.vm_swap_bytes, None); // truncated before its unit
/// ```
pub fn parse_status(buf: &[u8]) -> Status {
    let mut status = Status::default();
    let mut rest = buf;
    while let Some(newline) = find_byte(b'\n', rest) {
        status.parse_line(&rest[..newline]);
        rest = &rest[newline + 1..];
    }
    status.parse_line(rest);
    status
}

/// The identity fields of `/proc/<pid>/stat`: state, parent and start time.
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_stat;
/// let stat = parse_stat(b"42 (sh) S 1 42 42 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 9876 3000 100 1\n").unwrap();
/// assert_eq!((stat.state, stat.ppid, stat.start_time_ticks), (b'S', 1, 9876));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stat {
    /// Field 3, the one-letter state: `R` running, `S` sleeping, `Z` zombie, `X` dead, ...
    pub state: u8,
    /// Field 4, the parent's PID.
    pub ppid: u32,
    /// Field 22, `starttime`: when the process started, in clock ticks since boot. Together with
    /// the PID it names a process uniquely, so a reused PID is detectable.
    pub start_time_ticks: u64,
}

/// Parses `/proc/<pid>/stat` (the whole buffer, not its first line).
///
/// The second field, the command name, is in parentheses and may itself hold spaces, `)` and
/// newlines (a process can name itself anything up to 15 bytes), so fields are counted from the
/// **last** `)` of the buffer. Returns `None` when the buffer is cut before field 23 (which proves
/// field 22 complete) or a field is malformed.
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_stat;
/// // The command name is `a\nb) (c`.
/// let stat = b"42 (a\nb) (c) Z 7 42 42 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 9876 3000 100 1\n";
/// let stat = parse_stat(stat).unwrap();
/// assert_eq!((stat.state, stat.ppid, stat.start_time_ticks), (b'Z', 7, 9876));
/// assert_eq!(parse_stat(b"42 (cut) S 1 42"), None);
/// ```
pub fn parse_stat(buf: &[u8]) -> Option<Stat> {
    let close = buf.iter().rposition(|&b| b == b')')?;
    let mut fields = buf[close + 1..]
        .split(|&b| b == b' ' || b == b'\n')
        .filter(|field| !field.is_empty());
    // After the `)` come field 3 (state), 4 (ppid), ...: field 22 is the 20th.
    let state = match fields.next()? {
        [state] => *state,
        _ => return None,
    };
    let ppid = u32::try_from(parse_u64(fields.next()?)?).ok()?;
    let start = fields.nth(17)?;
    // A following field proves `start` was not cut short.
    fields.next()?;
    Some(Stat {
        state,
        ppid,
        start_time_ticks: parse_u64(start)?,
    })
}

/// Parses field 22, `starttime`, of `/proc/<pid>/stat`: when the process started, in clock ticks
/// since boot. The same rules as [`parse_stat`] (counting from the last `)`).
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_stat_start_time;
/// let stat = b"42 (a) b) S 1 42 42 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 9876 3000 100 18446744073709551615\n";
/// assert_eq!(parse_stat_start_time(stat), Some(9876));
/// assert_eq!(parse_stat_start_time(b"42 (cut"), None);
/// ```
pub fn parse_stat_start_time(buf: &[u8]) -> Option<u64> {
    parse_stat(buf).map(|stat| stat.start_time_ticks)
}

/// A value in KiB as `status`, `smaps_rollup` and `meminfo` write it, after the `Key:`: blanks,
/// decimal digits, blanks, `kB`, optional trailing blanks. A value without its unit is refused
/// (it may have been cut short).
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_kib;
/// assert_eq!(parse_kib(b"\t    1636 kB"), Some(1636));
/// assert_eq!(parse_kib(b"\t    1636"), None);
/// ```
pub fn parse_kib(rest: &[u8]) -> Option<u64> {
    let rest = rest.trim_ascii_start();
    let digits = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    let unit = rest[digits..].trim_ascii();
    if unit != b"kB" {
        return None;
    }
    parse_u64(&rest[..digits])
}

/// A non-empty run of decimal digits that fits in `u64` (no sign, no blanks).
///
/// # Examples
///
/// ```
/// use memprobe::snapshot::procfs::parse_u64;
/// assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
/// assert_eq!(parse_u64(b"18446744073709551616"), None);
/// assert_eq!(parse_u64(b" 1"), None);
/// ```
pub fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The index of the first `byte` in `haystack`.
///
/// PERF: a word-at-a-time scan (SWAR). Finding line ends byte by byte was most of the parsing cost
/// of a `status` file; eight bytes per step makes it a small share, without a `memchr` dependency.
fn find_byte(byte: u8, haystack: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(byte);
    let mut chunks = haystack.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        // `chunks_exact(8)` only yields 8-byte chunks, so the conversion always succeeds.
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default()) ^ pattern;
        // A zero byte of `word` (a match) sets its high bit here. Borrows can only flag bytes
        // *above* a real match, so the lowest flag (first in little-endian order) is exact.
        let found = word.wrapping_sub(LO) & !word & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == byte)
        .map(|i| base + i)
}

/// Reads a whole file with `read_at(buf, offset)` (a `pread`) into `buf`, looping until end of
/// file or a full buffer; the bytes read. For `stat`, whose fields must be counted from the last
/// `)` of the whole text, not of its first line.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux reader only
pub(crate) fn read_all(
    mut read_at: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// Streams the lines of a file read with `read_at(buf, offset)` (a `pread`) through `buf`, a fixed
/// buffer, calling `on_line` with each line without its `\n` until it returns `Break` or the file
/// ends. Nothing is allocated.
///
/// A file larger than `buf` is read in several calls, the unfinished last line of each chunk moved
/// to the front of `buf` first. A single line longer than `buf` cannot be held: it is skipped whole
/// (none of the lines memprobe reads comes close; long ones are `Groups:` or `Mems_allowed:` lists
/// on very large machines).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux reader only
pub(crate) fn read_lines(
    mut read_at: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
    buf: &mut [u8],
    mut on_line: impl FnMut(&[u8]) -> ControlFlow<()>,
) -> std::io::Result<()> {
    let mut offset = 0u64;
    // buf[..filled] holds the start of a line whose end is not read yet.
    let mut filled = 0;
    // Discarding the rest of a line longer than `buf`.
    let mut skipping = false;
    loop {
        let n = match read_at(&mut buf[filled..], offset) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            // End of file: the last line may lack its `\n`.
            if filled > 0 && !skipping {
                let _ = on_line(&buf[..filled]);
            }
            return Ok(());
        }
        offset += n as u64;
        let end = filled + n;
        let mut start = 0;
        while let Some(newline) = find_byte(b'\n', &buf[start..end]) {
            let line_end = start + newline;
            if skipping {
                skipping = false;
            } else if on_line(&buf[start..line_end]).is_break() {
                return Ok(());
            }
            start = line_end + 1;
        }
        if skipping || (start == 0 && end == buf.len()) {
            // No end of line in a full buffer: drop what we have and skip to the next `\n`.
            skipping = true;
            filled = 0;
        } else {
            buf.copy_within(start..end, 0);
            filled = end - start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `data` in reads of at most `chunk` bytes, like a pread on a file.
    fn lines_of(data: &[u8], buf_len: usize, chunk: usize) -> Vec<Vec<u8>> {
        let mut buf = vec![0u8; buf_len];
        let mut lines = Vec::new();
        read_lines(
            |out, offset| {
                let offset = offset as usize;
                let n = out.len().min(chunk).min(data.len() - offset);
                out[..n].copy_from_slice(&data[offset..offset + n]);
                Ok(n)
            },
            &mut buf,
            |line| {
                lines.push(line.to_vec());
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        lines
    }

    #[test]
    fn streams_a_file_larger_than_the_buffer() {
        let data = b"alpha\nbeta\ngamma delta\nepsilon";
        for buf_len in 12..40 {
            for chunk in 1..40 {
                let lines = lines_of(data, buf_len, chunk);
                assert_eq!(
                    lines,
                    [&b"alpha"[..], b"beta", b"gamma delta", b"epsilon"],
                    "buffer {buf_len}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn skips_a_line_longer_than_the_buffer() {
        let data = b"short\nthis line is far too long for the buffer\nnext\nlast\n";
        for chunk in 1..20 {
            assert_eq!(
                lines_of(data, 8, chunk),
                [&b"short"[..], b"next", b"last"],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn status_streamed_in_small_chunks_matches_whole_parse() {
        let data = include_bytes!("../../tests/fixtures/proc/self_status");
        let mut streamed = Status::default();
        let mut buf = [0u8; 128];
        read_lines(
            |out, offset| {
                let offset = offset as usize;
                let n = out.len().min(data.len() - offset);
                out[..n].copy_from_slice(&data[offset..offset + n]);
                Ok(n)
            },
            &mut buf,
            |line| {
                streamed.parse_line(line);
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert_eq!(streamed, parse_status(data));
        assert!(streamed.is_complete());
    }

    /// The Linux reader's 4 KiB buffer on a `status` whose `Groups:` line alone is 5.3 KiB: the
    /// long line is skipped and every figure after it read, whatever the read sizes.
    #[test]
    fn status_with_a_line_longer_than_the_buffer_is_read_whole() {
        let data = include_bytes!("../../tests/fixtures/proc/groups_status");
        assert!(data.len() > 6 * 1024);
        for chunk in [4096, 1000, 7000] {
            let mut streamed = Status::default();
            let mut buf = [0u8; 4096];
            read_lines(
                |out, offset| {
                    let offset = offset as usize;
                    let n = out.len().min(chunk).min(data.len() - offset);
                    out[..n].copy_from_slice(&data[offset..offset + n]);
                    Ok(n)
                },
                &mut buf,
                |line| {
                    streamed.parse_line(line);
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
            assert!(streamed.is_complete(), "chunk {chunk}: {streamed:?}");
            assert_eq!(streamed, parse_status(data), "chunk {chunk}");
        }
    }

    #[test]
    fn read_all_loops_until_end_of_file() {
        let data = b"3707 (a\nb) (c) S 3682 rest";
        for chunk in 1..8 {
            let mut buf = [0u8; 64];
            let n = read_all(
                |out, offset| {
                    let offset = offset as usize;
                    let n = out.len().min(chunk).min(data.len() - offset);
                    out[..n].copy_from_slice(&data[offset..offset + n]);
                    Ok(n)
                },
                &mut buf,
            )
            .unwrap();
            assert_eq!(&buf[..n], data, "chunk {chunk}");
        }
    }

    #[test]
    fn find_byte_matches_a_byte_loop() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..80 {
            for _ in 0..200 {
                let hay: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Few distinct values, so matches, near-matches and 0x80/0xff bytes abound.
                        [b'\n', b'\x0b', b'\t', 0, 0x80, 0x8a, 0xff, b'a'][(x % 8) as usize]
                    })
                    .collect();
                for needle in [b'\n', 0, 0xff, 0x80] {
                    let want = hay.iter().position(|&b| b == needle);
                    assert_eq!(find_byte(needle, &hay), want, "{needle:#x} in {hay:?}");
                }
            }
        }
    }

    #[test]
    fn parse_u64_limits() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
    }
}
