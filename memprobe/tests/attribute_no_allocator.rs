//! A test binary without the counting allocator: an annotated test fails with the line to add,
//! never with zeros.

use memprobe::memprobe;

#[memprobe(max_allocs = 0)]
#[test]
#[should_panic(
    expected = "memprobe: the counting allocator is not installed, so every allocation figure would read 0; add this line to your crate root: memprobe::global_allocator!();"
)]
fn fails_with_the_one_line_fix() {
    drop(std::hint::black_box(vec![1u8; 8]));
}
