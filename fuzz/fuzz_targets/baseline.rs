//! The baseline reader on any text: a baseline or a one-line error naming the file, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = memprobe::__readers::baseline(text, "fuzz::case") {
            assert!(e.to_string().starts_with("memprobe: "));
        }
    }
});
