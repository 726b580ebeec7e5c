//! Measured functions inside functions (measured or not), same-named in different parents: each
//! gets its own marker item, without warnings.
#![deny(warnings)]

use memprobe::memprobe;
use std::hint::black_box;

memprobe::global_allocator!();

#[memprobe(report = false)]
fn outer() {
    #[memprobe(max_allocs = 1, report = false)]
    fn inner() {
        black_box(Box::new(1u8));
    }
    inner();
}

fn other() {
    #[memprobe(max_allocs = 1, report = false)]
    fn inner() {
        black_box(Box::new(2u8));
    }
    inner();
}

fn main() {
    outer();
    other();
}
