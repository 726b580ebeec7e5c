//! Every option, in every accepted spelling, on the functions the attribute supports.
#![deny(warnings)]

use memprobe::memprobe;
use std::hint::black_box;

memprobe::global_allocator!();

#[memprobe(max_allocs = 0)]
fn no_allocation() {
    black_box(1 + 1);
}

#[memprobe(
    scope = "thread",
    max_allocs = 1,
    max_bytes = "64 KiB",
    max_peak = 65536,
    max_net = "0",
    max_rss_growth = "10%",
    iters = 100,
    warmup = 3,
    purge = false,
    report = false
)]
fn every_limit() {
    black_box(vec![0u8; 100]);
}

#[memprobe(scope = "process", max_rss_growth = "8 MiB", purge, report = "table")]
pub(crate) fn process_scope() {
    black_box(Box::new(1u8));
}

#[memprobe(report = "json", max_bytes = "1.5MB")]
fn returns_result() -> Result<u32, std::num::ParseIntError> {
    // `?` and `return` keep their meaning inside the measured body.
    let n: u32 = "41".parse()?;
    if n > 100 {
        return Ok(0);
    }
    Ok(n + 1)
}

#[memprobe(report = false)]
fn r#loop() {
    #![allow(unused_variables)]
    let unused = 1;
}

macro_rules! measured {
    ($name:ident, $allocs:literal, $bytes:literal) => {
        #[memprobe(max_allocs = $allocs, max_bytes = $bytes, report = false)]
        fn $name() {
            black_box(vec![0u8; 8]);
        }
    };
}

measured!(from_a_macro, 1, "8 B");

struct Job;

impl Job {
    #[memprobe(max_allocs = 0, report = false)]
    fn associated() {}
}

fn main() {
    no_allocation();
    every_limit();
    process_scope();
    assert_eq!(returns_result(), Ok(42));
    r#loop();
    from_a_macro();
    Job::associated();
}
