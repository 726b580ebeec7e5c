//! Contender: allocation-counter, its own global allocator over System (per-thread `RefCell`s); it
//! counts inside `measure`, so each measuring thread's work runs inside one.

// The crate installs its own `#[global_allocator]`: linking it is enough.
use allocation_counter as _;

fn main() {
    bench_peers::contender::main(|work| {
        std::hint::black_box(allocation_counter::measure(work));
    });
}
