//! `async fn`s: the body is awaited inside the probe, once or per iteration.
#![deny(warnings)]

use memprobe::memprobe;
use std::hint::black_box;

memprobe::global_allocator!();

#[memprobe(max_allocs = 1, max_bytes = 64, report = false)]
async fn once() {
    tokio::task::yield_now().await;
    black_box(vec![0u8; 64]);
}

#[memprobe(iters = 10, warmup = 2, max_allocs = 1, report = false)]
async fn iterated() -> Result<(), String> {
    black_box(Box::new(7u64));
    Ok(())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        tokio::task::yield_now().await; // tokio's defer list, before the probe
        once().await;
        iterated().await.unwrap();
    });
}
