//! `sizes = [...]`: the function takes the number of items and runs once per size as a scaling
//! fit; per-item limits hold; the function keeps its other attributes and returns what it builds.
#![deny(warnings)]

use memprobe::memprobe;

memprobe::global_allocator!();

#[memprobe(sizes = [10, 50, 100], max_bytes_per_item = "64 B", max_allocs_per_item = 1, report = false)]
fn boxes(n: u64) -> Vec<Box<[u8; 32]>> {
    (0..n).map(|_| Box::new([0u8; 32])).collect()
}

#[memprobe(sizes = [1, 2, 3], report = false)]
fn nothing(_n: u64) {}

fn main() {
    boxes();
    nothing();
}
