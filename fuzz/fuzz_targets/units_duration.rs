//! `memprobe::units::parse_duration`: any text is a duration or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = memprobe::units::parse_duration(text);
    }
});
