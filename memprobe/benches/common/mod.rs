//! Alloc/free churn shared by the `alloc_overhead` (criterion) and `alloc_ratio` (interleaved)
//! benches: mixed sizes 8 B – 4 KiB through each allocator called directly; and the reference
//! counters they are compared with. The realistic workloads are in `workloads.rs`.

// The naive reference counter below is lazily initialised on purpose.
#![allow(clippy::missing_const_for_thread_local, dead_code)]

pub mod workloads;

use memprobe::Counting;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tikv_jemallocator::Jemalloc;

/// Blocks kept alive at once per thread: each step frees the oldest and allocates a new one.
const RING: usize = 64;

/// A fixed pseudo-random size sequence in 8 B – 4 KiB, weighted toward small sizes as real
/// programs are.
pub fn sizes() -> Vec<usize> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bits = 3 + (x % 10) as u32; // 8 B .. 4 KiB, log-uniform
            ((1usize << bits) + (x >> 32) as usize % (1usize << bits)).clamp(8, 4096)
        })
        .collect()
}

pub fn churn<A: GlobalAlloc>(allocator: &A, sizes: &[usize], ops: u64) {
    let mut ring: [(*mut u8, usize); RING] = [(std::ptr::null_mut(), 8); RING];
    for i in 0..ops as usize {
        let slot = &mut ring[i % RING];
        if !slot.0.is_null() {
            // SAFETY: allocated below by the same allocator with this size and alignment 8.
            unsafe { allocator.dealloc(slot.0, Layout::from_size_align_unchecked(slot.1, 8)) };
        }
        let size = sizes[i % sizes.len()];
        // SAFETY: size is in 8..=4096 and alignment 8 is a power of two: a valid, non-zero layout.
        let ptr = unsafe { allocator.alloc(Layout::from_size_align_unchecked(size, 8)) };
        *slot = (black_box(ptr), size);
    }
    for (ptr, size) in ring {
        if !ptr.is_null() {
            // SAFETY: as above.
            unsafe { allocator.dealloc(ptr, Layout::from_size_align_unchecked(size, 8)) };
        }
    }
}

pub fn run<A: GlobalAlloc + Sync>(
    allocator: &A,
    sizes: &[usize],
    threads: usize,
    ops: u64,
) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    churn(allocator, sizes, ops);
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            h.join().unwrap();
        }
        start.elapsed()
    })
}

/// CPU time the calling thread has used: unlike wall time, it does not grow while the thread
/// waits for a core, so other processes on a shared machine do not inflate it.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID is always available on Linux
    // and macOS.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `work` on `threads` threads started together and returns the CPU time they used, summed.
pub fn run_cpu(threads: usize, work: &(dyn Fn() + Sync)) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = thread_cpu_time();
                    work();
                    thread_cpu_time() - start
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

/// A naive per-thread counter: lazily initialised `thread_local!` with a destructor-free `Cell`.
pub struct NaiveThreadLocal<A>(A);
// Deliberately lazy (not `const`): this is the common hand-rolled design being compared.
thread_local! {
    static NAIVE: (Cell<u64>, Cell<u64>) = (Cell::new(0), Cell::new(0));
}
// SAFETY: forwards every call unchanged to the inner allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for NaiveThreadLocal<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = NAIVE.try_with(|c| {
            c.0.set(c.0.get().wrapping_add(1));
            c.1.set(c.1.get().wrapping_add(layout.size() as u64));
        });
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = NAIVE.try_with(|c| c.1.set(c.1.get().wrapping_sub(layout.size() as u64)));
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.dealloc(ptr, layout) }
    }
    // Forwarded (not the default alloc + copy + free), so realistic workloads compare like
    // with like.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = NAIVE.try_with(|c| {
            c.0.set(c.0.get().wrapping_add(1));
            c.1.set(c.1.get().wrapping_add(layout.size() as u64));
        });
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = NAIVE.try_with(|c| {
            c.0.set(c.0.get().wrapping_add(1));
            c.1.set(
                c.1.get()
                    .wrapping_add(new_size as u64)
                    .wrapping_sub(layout.size() as u64),
            );
        });
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// The naive counter keeping the four figures memprobe's hot path keeps (allocations, bytes
/// allocated, deallocations, bytes freed), to show what counting deallocations costs by itself.
pub struct NaiveFourFigures<A>(A);
thread_local! {
    static NAIVE4: [Cell<u64>; 4] = [Cell::new(0), Cell::new(0), Cell::new(0), Cell::new(0)];
}
// SAFETY: forwards every call unchanged to the inner allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for NaiveFourFigures<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = NAIVE4.try_with(|c| {
            c[0].set(c[0].get().wrapping_add(1));
            c[1].set(c[1].get().wrapping_add(layout.size() as u64));
        });
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = NAIVE4.try_with(|c| {
            c[2].set(c[2].get().wrapping_add(1));
            c[3].set(c[3].get().wrapping_add(layout.size() as u64));
        });
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

/// `stats_alloc`-style: every call updates process-wide atomics.
pub struct SharedAtomics<A>(A, AtomicU64, AtomicU64);
// SAFETY: forwards every call unchanged to the inner allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SharedAtomics<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.1.fetch_add(1, Relaxed);
        self.2.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.1.fetch_add(1, Relaxed);
        self.2.fetch_sub(layout.size() as u64, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.1.fetch_add(1, Relaxed);
        self.2.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.1.fetch_add(1, Relaxed);
        self.2.fetch_add(new_size as u64, Relaxed);
        self.2.fetch_sub(layout.size() as u64, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

pub static JEMALLOC: Jemalloc = Jemalloc;
pub static COUNTING_JEMALLOC: Counting<Jemalloc> = Counting::new(Jemalloc);
pub static SYSTEM: System = System;
pub static COUNTING_SYSTEM: Counting<System> = Counting::new(System);
pub static NAIVE_JEMALLOC: NaiveThreadLocal<Jemalloc> = NaiveThreadLocal(Jemalloc);
pub static NAIVE4_JEMALLOC: NaiveFourFigures<Jemalloc> = NaiveFourFigures(Jemalloc);
pub static SHARED_JEMALLOC: SharedAtomics<Jemalloc> =
    SharedAtomics(Jemalloc, AtomicU64::new(0), AtomicU64::new(0));
