// `sites` needs memprobe's `sites` feature; this crate's memprobe is built without it.
memprobe::global_allocator!();

#[memprobe::memprobe(sites)]
fn sampled() {
    drop(vec![0u8; 64]);
}

#[memprobe::memprobe(max_bytes = "1 MiB", sites = "exact")]
fn exact() {
    drop(vec![0u8; 64]);
}

#[memprobe::memprobe(sites = 0)]
fn no_rows() {}

#[memprobe::memprobe(sites = "all")]
fn bad_mode() {}

fn main() {
    sampled();
    exact();
    no_rows();
    bad_mode();
}
