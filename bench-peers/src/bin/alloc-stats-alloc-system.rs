//! Contender: stats_alloc over System, its documented setup (process-wide atomics).

#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

fn main() {
    bench_peers::contender::main(|work| work());
}
