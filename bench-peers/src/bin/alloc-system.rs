//! Contender: bare System (glibc malloc).

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

fn main() {
    bench_peers::contender::main(|work| work());
}
