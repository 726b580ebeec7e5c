//! A test binary without the counting allocator: an annotated test fails with the line to add
//! and the file to add it to (this one: an integration test is its own binary), never with zeros.

use memprobe::memprobe;

#[memprobe(max_allocs = 0)]
#[test]
#[should_panic(
    expected = "memprobe: the counting allocator is not installed, so every allocation figure would read 0; add `memprobe::global_allocator!();` at the top of memprobe/tests/attribute_no_allocator.rs: each file in tests/, benches/ and examples/ is its own binary and needs the line itself (not in src/lib.rs, where it conflicts with a test file's own: \"the `#[global_allocator]` in this crate conflicts with global allocator in: ...\")"
)]
fn fails_with_the_one_line_fix() {
    drop(std::hint::black_box(vec![1u8; 8]));
}
