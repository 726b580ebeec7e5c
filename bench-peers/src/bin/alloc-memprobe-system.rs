//! Contender: memprobe's counting allocator over System.

#[global_allocator]
static GLOBAL: memprobe::Counting<std::alloc::System> = memprobe::Counting::new(std::alloc::System);

fn main() {
    bench_peers::contender::main(|work| work());
}
