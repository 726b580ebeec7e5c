//! The growth allowances: `memprobe::units::Growth` (`"10%"` or a size) and the baseline
//! policy's growth and RSS-noise strings. Any text is a value or an error, never a panic, and
//! a parsed percentage prints as text that parses back to the same value. (A `Growth::Bytes`
//! prints rounded, `1.5 GiB`, so it is not expected to parse back exactly.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use memprobe::units::Growth;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(growth) = text.parse::<Growth>() {
        let _ = growth.allowance(u64::MAX);
        let _ = growth.allowance(0);
        if let Growth::Percent(p) = growth {
            let again = growth.to_string().parse::<Growth>().ok();
            assert_eq!(
                again,
                Some(Growth::Percent(p)),
                "{growth} does not parse back"
            );
        }
    }
    if let Ok(policy) = memprobe::baseline::Policy::new(text) {
        let _ = policy.growth_percent();
        let _ = policy.rss_noise(text);
    }
});
