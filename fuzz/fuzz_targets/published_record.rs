//! The published-record decoder on any bytes (of any length): stats or a reason, never a panic;
//! a decoded record's phase name is at most 64 bytes of input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match memprobe::publish::decode(data) {
        Ok(stats) => {
            assert_eq!(data.len(), memprobe::publish::RECORD_SIZE);
            assert!(stats.phase.chars().count() <= memprobe::publish::PHASE_MAX);
            let _ = stats.counting.map(|c| c.live_bytes());
        }
        Err(reason) => assert!(!reason.to_string().is_empty()),
    }
});
