use memprobe::memprobe;

memprobe::global_allocator!();

#[memprobe]
fn returns_a_number() -> u32 {
    42
}

fn main() {
    returns_a_number();
}
