//! The cgroup readers: `memory.stat` of both versions, and locating the memory cgroup from
//! `/proc/<pid>/cgroup` and `mountinfo` (the input split at the first NUL). Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use memprobe_daemon::cgroup::{Version, locate, parse_stat};

fuzz_target!(|data: &[u8]| {
    let _ = parse_stat(Version::V1, data);
    let _ = parse_stat(Version::V2, data);
    let text = String::from_utf8_lossy(data);
    let (cgroup, mountinfo) = text.split_once('\0').unwrap_or((&text, ""));
    let _ = locate(cgroup, mountinfo);
});
