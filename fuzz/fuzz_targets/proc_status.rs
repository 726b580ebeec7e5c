//! `/proc/<pid>/status` and `smaps_rollup` parsers on any bytes: figures or `None`, never a
//! panic (a `kB` value times 1024 must not overflow).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = memprobe::snapshot::procfs::parse_status(data);
    let _ = memprobe_daemon::__readers::smaps_rollup(data);
});
