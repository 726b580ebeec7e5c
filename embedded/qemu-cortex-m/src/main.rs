//! Counts a known allocation pattern with `memprobe_core::CountingAlloc` over `embedded-alloc`'s
//! heap on a Cortex-M3 and prints the figures over semihosting, one `key=value` line per
//! measurement, then exits QEMU through semihosting (status 0, or 1 after a panic).
//!
//! The pattern's sizes come from the build environment (`MEMPROBE_QEMU_VEC_LEN`,
//! `MEMPROBE_QEMU_BOX_BYTES`, `MEMPROBE_QEMU_STRING_BYTES`), so the host test chooses them and
//! derives the expected figures from them:
//!
//! 1. a `Vec<u32>` with capacity for `VEC_LEN` elements, pushed to capacity (1 allocation);
//! 2. `reserve_exact(VEC_LEN)` on it: a reallocation to twice the size;
//! 3. a boxed `[u8; BOX_BYTES]`-sized slice (1 allocation), kept;
//! 4. a `String` of `STRING_BYTES` bytes, dropped (1 allocation, 1 deallocation);
//! 5. the vector dropped (1 deallocation).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::MaybeUninit;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_alloc::LlffHeap;
#[cfg(not(feature = "bare"))]
use memprobe_core::{CountingAlloc, Figures};

#[cfg(not(feature = "bare"))]
#[global_allocator]
static HEAP: CountingAlloc<LlffHeap> = CountingAlloc::new(LlffHeap::empty());

/// `--features bare`: the same firmware without counting, to measure what counting adds to the
/// image (BENCHMARKS.md, "Embedded").
#[cfg(feature = "bare")]
#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

fn heap() -> &'static LlffHeap {
    #[cfg(not(feature = "bare"))]
    return HEAP.inner();
    #[cfg(feature = "bare")]
    return &HEAP;
}

const HEAP_BYTES: usize = 16 * 1024;

/// A size from the build environment, or `default`.
fn size(value: Option<&str>, default: usize) -> usize {
    value.map_or(default, |v| v.parse().expect("a size in bytes or elements"))
}

#[cfg(not(feature = "bare"))]
fn print(label: &str, f: &Figures) {
    hprintln!(
        "{}: alloc_count={} realloc_count={} dealloc_count={} alloc_bytes={} freed_bytes={} \
         live_bytes={} peak_bytes={} largest_alloc_bytes={}",
        label,
        f.alloc_count,
        f.realloc_count,
        f.dealloc_count,
        f.alloc_bytes,
        f.freed_bytes,
        f.live_bytes,
        f.peak_bytes,
        f.largest_alloc_bytes
    );
}

#[entry]
fn main() -> ! {
    {
        static mut MEMORY: [MaybeUninit<u8>; HEAP_BYTES] = [MaybeUninit::uninit(); HEAP_BYTES];
        // SAFETY: `entry` runs once, before anything allocates; `MEMORY` is handed to the heap
        // here and never touched again.
        unsafe { heap().init(&raw mut MEMORY as usize, HEAP_BYTES) }
    }
    let vec_len = size(option_env!("MEMPROBE_QEMU_VEC_LEN"), 100);
    let box_bytes = size(option_env!("MEMPROBE_QEMU_BOX_BYTES"), 48);
    let string_bytes = size(option_env!("MEMPROBE_QEMU_STRING_BYTES"), 13);
    hprintln!(
        "pattern: vec_len={} box_bytes={} string_bytes={}",
        vec_len,
        box_bytes,
        string_bytes
    );

    let run = || pattern(vec_len, box_bytes, string_bytes);
    #[cfg(not(feature = "bare"))]
    {
        let (kept, window) = HEAP.measure(run);
        print("window", &window);
        print("total", &HEAP.figures());
        hprintln!("high_water_mark={}", HEAP.high_water_mark());
        HEAP.reset_peak();
        hprintln!("after_reset_peak={}", HEAP.high_water_mark());
        drop(kept);
        hprintln!("after_free: live_bytes={}", HEAP.figures().live_bytes);
    }
    #[cfg(feature = "bare")]
    {
        drop(run());
        hprintln!("bare: not counted");
    }
    exit(debug::EXIT_SUCCESS)
}

/// Ends the QEMU run with `status`; on a board without a debugger attached, sleeps forever.
fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    loop {
        cortex_m::asm::wfi();
    }
}

/// The allocation pattern (see the crate docs); returns the block it keeps.
fn pattern(vec_len: usize, box_bytes: usize, string_bytes: usize) -> Box<[u8]> {
    let mut v: Vec<u32> = Vec::with_capacity(vec_len);
    for i in 0..vec_len {
        v.push(i as u32);
    }
    v.reserve_exact(vec_len);
    let kept: Box<[u8]> = alloc::vec![7u8; box_bytes].into_boxed_slice();
    let mut s = String::with_capacity(string_bytes);
    for _ in 0..string_bytes {
        s.push('x');
    }
    drop(core::hint::black_box(s));
    drop(core::hint::black_box(v));
    kept
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    exit(debug::EXIT_FAILURE)
}
