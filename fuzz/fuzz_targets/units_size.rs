//! `memprobe::units::parse_bytes`: any text is a size or an error, never a panic; a parsed size
//! printed with `format_bytes`-style exact text parses back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = memprobe::units::parse_bytes(text) {
        assert_eq!(
            memprobe::units::parse_bytes(&bytes.to_string()).ok(),
            Some(bytes)
        );
    }
});
