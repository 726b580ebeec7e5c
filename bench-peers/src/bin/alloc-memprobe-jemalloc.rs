//! Contender: memprobe's counting allocator over jemalloc.

#[global_allocator]
static GLOBAL: memprobe::Counting<tikv_jemallocator::Jemalloc> =
    memprobe::Counting::new(tikv_jemallocator::Jemalloc);

fn main() {
    bench_peers::contender::main(|work| work());
}
