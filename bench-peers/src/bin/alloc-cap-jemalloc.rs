//! Contender: cap over jemalloc with no limit (process-wide atomics).

#[global_allocator]
static GLOBAL: cap::Cap<tikv_jemallocator::Jemalloc> =
    cap::Cap::new(tikv_jemallocator::Jemalloc, usize::MAX);

fn main() {
    bench_peers::contender::main(|work| work());
}
