//! `memprobe::snapshot::procfs::parse_statm` on any bytes: a figure or `None`, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = memprobe::snapshot::procfs::parse_statm(data);
});
