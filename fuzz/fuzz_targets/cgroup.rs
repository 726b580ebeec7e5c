//! The cgroup readers: `memory.stat` of both versions, and locating the memory cgroup from
//! `/proc/<pid>/cgroup` and `mountinfo` (the input split at the first NUL). Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use memprobe_daemon::__readers::{cgroup_locate, cgroup_stat};

fuzz_target!(|data: &[u8]| {
    let _ = cgroup_stat(false, data);
    let _ = cgroup_stat(true, data);
    let text = String::from_utf8_lossy(data);
    let (cgroup, mountinfo) = text.split_once('\0').unwrap_or((&text, ""));
    let _ = cgroup_locate(cgroup, mountinfo);
});
