//! Memory cgroup sampling, v1 and v2. The cgroup of a process is found from `/proc/<pid>/cgroup`
//! and the mounts in `/proc/self/mountinfo` (a cgroup namespace or a container mounts the hierarchy
//! at a non-root path, so the mount's root is stripped from the process's cgroup path).
//!
//! | figure | v1 file | v2 file |
//! |---|---|---|
//! | usage | `memory.usage_in_bytes` | `memory.current` |
//! | peak | `memory.max_usage_in_bytes` | `memory.peak` (Linux ≥ 5.19) |
//! | anon / file / shmem / swap | `memory.stat` `total_rss` / `total_cache` / `total_shmem` / `total_swap` | `memory.stat` `anon` / `file` / `shmem`, `memory.swap.current` |
//!
//! Usage and peak are read every tick (one `pread` each); `memory.stat` is long, so it is read at
//! most once a second.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};

/// cgroup hierarchy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Version {
    /// cgroup v1, memory controller hierarchy.
    V1,
    /// cgroup v2, unified hierarchy.
    V2,
}

/// One tick's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct CgroupSample {
    /// Memory charged to the cgroup now (page cache included).
    pub(crate) usage_bytes: u64,
    /// Highest usage since the cgroup was created or the peak was reset.
    pub(crate) peak_bytes: Option<u64>,
}

/// The breakdown from `memory.stat` (hierarchical totals on v1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub(crate) struct CgroupStat {
    /// Anonymous memory (v1 `total_rss`, v2 `anon`).
    pub(crate) anon_bytes: Option<u64>,
    /// Page cache (v1 `total_cache`, v2 `file`).
    pub(crate) file_bytes: Option<u64>,
    /// Shared memory (v1 `total_shmem`, v2 `shmem`).
    pub(crate) shmem_bytes: Option<u64>,
    /// Swapped out (v1 `total_swap`, v2 `memory.swap.current`).
    pub(crate) swap_bytes: Option<u64>,
}

/// A memory cgroup with its files kept open.
#[derive(Debug)]
pub(crate) struct Cgroup {
    /// v1 or v2.
    pub(crate) version: Version,
    /// The cgroup directory.
    pub(crate) dir: PathBuf,
    usage: File,
    peak: Option<File>,
}

impl Cgroup {
    /// Opens the cgroup directory `dir`, detecting the version from the files it holds.
    ///
    /// # Errors
    ///
    /// When `dir` is not a memory cgroup directory, naming what was looked for.
    pub(crate) fn open(dir: &Path) -> Result<Cgroup> {
        let (version, usage, peak) = if dir.join("memory.current").exists() {
            (Version::V2, "memory.current", "memory.peak")
        } else if dir.join("memory.usage_in_bytes").exists() {
            (
                Version::V1,
                "memory.usage_in_bytes",
                "memory.max_usage_in_bytes",
            )
        } else {
            bail!(
                "--cgroup {}: not a memory cgroup directory (no memory.current for v2 nor memory.usage_in_bytes for v1)",
                dir.display()
            );
        };
        let usage_path = dir.join(usage);
        let usage =
            File::open(&usage_path).with_context(|| format!("opening {}", usage_path.display()))?;
        let peak = File::open(dir.join(peak)).ok();
        let me = Cgroup {
            version,
            dir: dir.to_owned(),
            usage,
            peak,
        };
        me.sample()
            .with_context(|| format!("reading {}", usage_path.display()))?;
        Ok(me)
    }

    /// The memory cgroup of process `pid`.
    ///
    /// # Errors
    ///
    /// When the process has no memory cgroup or its directory is not mounted here.
    pub(crate) fn of_process(process: &memprobe::ProcessMemory) -> Result<Cgroup> {
        let pid = process.pid();
        // Opened through the process's reader: the cgroup of the process verified, not of a
        // later one given its PID.
        let cgroup = process
            .open_file("cgroup")
            .and_then(|f| {
                std::io::read_to_string(f).map_err(|e| {
                    memprobe::Error::from_io(
                        "reading",
                        format!("/proc/{pid}/cgroup").into(),
                        e,
                        Some(pid),
                    )
                })
            })
            .with_context(|| format!("reading /proc/{pid}/cgroup"))?;
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .context("reading /proc/self/mountinfo")?;
        let dir = locate(&cgroup, &mountinfo).with_context(|| {
            format!("--cgroup auto: no memory cgroup found for PID {pid} in /proc/{pid}/cgroup; give the directory with --cgroup PATH")
        })?;
        Cgroup::open(&dir)
    }

    /// Usage and peak now.
    ///
    /// # Errors
    ///
    /// When a file cannot be read (the cgroup was removed).
    pub(crate) fn sample(&self) -> std::io::Result<CgroupSample> {
        let mut buf = [0u8; 64];
        Ok(CgroupSample {
            usage_bytes: read_number(&self.usage, &mut buf)?,
            peak_bytes: self
                .peak
                .as_ref()
                .and_then(|f| read_number(f, &mut buf).ok()),
        })
    }

    /// The `memory.stat` breakdown (and swap on v2).
    pub(crate) fn stat(&self) -> CgroupStat {
        let text = std::fs::read(self.dir.join("memory.stat")).unwrap_or_default();
        let mut stat = parse_stat(self.version, &text);
        if self.version == Version::V2 {
            stat.swap_bytes = std::fs::read(self.dir.join("memory.swap.current"))
                .ok()
                .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse().ok());
        }
        stat
    }
}

fn read_number(file: &File, buf: &mut [u8; 64]) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let n = file.read_at(buf, 0)?;
    std::str::from_utf8(&buf[..n])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not a number"))
}

/// Parses `memory.stat` of either version.
pub(crate) fn parse_stat(version: Version, text: &[u8]) -> CgroupStat {
    let keys: [&[u8]; 4] = match version {
        Version::V1 => [b"total_rss", b"total_cache", b"total_shmem", b"total_swap"],
        Version::V2 => [b"anon", b"file", b"shmem", b"\0"],
    };
    let mut out = [None; 4];
    for line in text.split(|b| *b == b'\n') {
        let Some(space) = line.iter().position(|b| *b == b' ') else {
            continue;
        };
        if let Some(i) = keys.iter().position(|k| *k == &line[..space]) {
            out[i] = std::str::from_utf8(&line[space + 1..])
                .ok()
                .and_then(|v| v.trim().parse().ok());
        }
    }
    CgroupStat {
        anon_bytes: out[0],
        file_bytes: out[1],
        shmem_bytes: out[2],
        swap_bytes: out[3],
    }
}

/// Finds the memory cgroup directory from `/proc/<pid>/cgroup` and `/proc/self/mountinfo`.
/// A v1 memory hierarchy wins over v2 (on a hybrid system the v2 tree has no memory controller).
pub(crate) fn locate(proc_cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    let mut v1 = None;
    let mut v2 = None;
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (_id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path);
        } else if controllers.is_empty() {
            v2 = Some(path);
        }
    }
    let mut v1_mount = None;
    let mut v2_mount = None;
    for line in mountinfo.lines() {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(point), Some(fstype)) = (left.get(3), left.get(4), right.first())
        else {
            continue;
        };
        match *fstype {
            "cgroup"
                if right
                    .get(2)
                    .is_some_and(|o| o.split(',').any(|o| o == "memory")) =>
            {
                v1_mount = Some((*root, *point))
            }
            "cgroup2" => v2_mount = Some((*root, *point)),
            _ => {}
        }
    }
    let join = |(root, point): (&str, &str), path: &str| {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .trim_start_matches('/');
        Path::new(point).join(rel)
    };
    if let (Some(path), Some(mount)) = (v1, v1_mount) {
        return Some(join(mount, path));
    }
    let dir = join(v2_mount?, v2?);
    dir.join("memory.current").exists().then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO_HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn v1_location_from_real_files() {
        let cg = "9:name=systemd:/\n4:memory:/process_api/69cf\n1:cpu:/\n0::/\n";
        assert_eq!(
            locate(cg, MOUNTINFO_HYBRID).unwrap(),
            Path::new("/sys/fs/cgroup/memory/process_api/69cf")
        );
    }

    #[test]
    fn namespaced_mount_root_is_stripped() {
        let mi = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        let cg = "4:memory:/docker/abc\n";
        assert_eq!(locate(cg, mi).unwrap(), Path::new("/sys/fs/cgroup/memory"));
    }

    #[test]
    fn v1_stat_uses_hierarchical_totals() {
        let text = b"cache 9486336\nrss 7528448\nshmem 9084928\nswap 0\ntotal_cache 1961598976\ntotal_rss 769875968\ntotal_shmem 9084928\ntotal_swap 0\n";
        let s = parse_stat(Version::V1, text);
        assert_eq!(s.anon_bytes, Some(769875968));
        assert_eq!(s.file_bytes, Some(1961598976));
        assert_eq!(s.shmem_bytes, Some(9084928));
        assert_eq!(s.swap_bytes, Some(0));
    }

    /// A v2 cgroup directory with files in the kernel's format (captured from Linux 6.x).
    fn v2_fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("memory.current"), "52543488\n").unwrap();
        std::fs::write(dir.path().join("memory.peak"), "104857600\n").unwrap();
        std::fs::write(dir.path().join("memory.swap.current"), "4096\n").unwrap();
        std::fs::write(
            dir.path().join("memory.stat"),
            "anon 31457280\nfile 18874368\nkernel 1638400\nkernel_stack 98304\npagetables 270336\nsec_pagetables 0\n\
percpu 0\nsock 0\nvmalloc 0\nshmem 1048576\nzswap 0\nzswapped 0\nfile_mapped 9437184\nfile_dirty 0\n\
file_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\ninactive_anon 30408704\nactive_anon 2097152\n\
inactive_file 12582912\nactive_file 6291456\nunevictable 0\nslab_reclaimable 655360\nslab_unreclaimable 458752\n\
slab 1114112\nworkingset_refault_anon 0\nworkingset_refault_file 0\npgfault 24515\npgmajfault 2\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn v2_fixture_reads() {
        let dir = v2_fixture();
        let cg = Cgroup::open(dir.path()).unwrap();
        assert_eq!(cg.version, Version::V2);
        assert_eq!(
            cg.sample().unwrap(),
            CgroupSample {
                usage_bytes: 52543488,
                peak_bytes: Some(104857600)
            }
        );
        let s = cg.stat();
        assert_eq!(
            s,
            CgroupStat {
                anon_bytes: Some(31457280),
                file_bytes: Some(18874368),
                shmem_bytes: Some(1048576),
                swap_bytes: Some(4096)
            }
        );
    }

    #[test]
    fn v2_location() {
        let dir = v2_fixture();
        let mi = format!(
            "41 31 0:38 / {} rw - cgroup2 cgroup2 rw\n",
            dir.path().display()
        );
        assert_eq!(locate("0::/\n", &mi).unwrap(), dir.path());
    }

    #[test]
    fn not_a_cgroup() {
        let dir = tempfile::tempdir().unwrap();
        let e = Cgroup::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a memory cgroup directory"), "{e}");
    }

    /// This machine runs cgroup v1: our own cgroup is found and its usage is real.
    #[test]
    fn v1_for_real_when_present() {
        let Ok(cg) = Cgroup::of_process(&memprobe::ProcessMemory::current().unwrap()) else {
            return;
        };
        let s = cg.sample().unwrap();
        assert!(s.usage_bytes > 0);
        if cg.version == Version::V1 {
            assert!(s.peak_bytes.unwrap() >= s.usage_bytes);
            assert!(cg.stat().anon_bytes.is_some());
        }
    }
}
