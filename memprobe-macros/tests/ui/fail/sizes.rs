use memprobe::memprobe;

memprobe::global_allocator!();

// Per-item limits without sizes.
#[memprobe(max_bytes_per_item = "2 KiB")]
fn no_sizes() {}

// A size twice, and one size alone.
#[memprobe(sizes = [10, 50, 10])]
fn twice(n: u64) {
    let _ = n;
}

#[memprobe(sizes = [10])]
fn alone(n: u64) {
    let _ = n;
}

// Per-run options do not apply to a fit.
#[memprobe(sizes = [10, 20], iters = 100, max_allocs = 0)]
fn per_run(n: u64) {
    let _ = n;
}

// The function takes the number of items.
#[memprobe(sizes = [10, 20])]
fn no_argument() {}

// Not a literal, and a bad size string.
#[memprobe(sizes = [10, N], max_bytes_per_item = "2 KBB")]
fn not_literal(n: u64) {
    let _ = n;
}

const N: u64 = 20;

fn main() {}
