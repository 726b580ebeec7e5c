//! Contender: dhat's heap profiler (a backtrace per allocation; testing mode, so nothing is
//! written at exit).

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    bench_peers::contender::main(|work| work());
}
