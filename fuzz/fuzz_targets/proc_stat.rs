//! `/proc/<pid>/stat` (start time, state, parent) and `children` parsers on any bytes, hostile
//! command names included: a value or `None`, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = memprobe::snapshot::procfs::parse_stat_start_time(data);
    let stat = memprobe::snapshot::procfs::parse_stat(data);
    assert_eq!(
        stat.map(|s| s.start_time_ticks),
        memprobe::snapshot::procfs::parse_stat_start_time(data)
    );
    let _ = memprobe_daemon::__readers::children(data);
});
