//! The counting core of memprobe, for `#![no_std]`: exact allocation, reallocation and
//! deallocation counts, bytes allocated and freed, signed live bytes, the high-water mark of
//! live bytes, the largest block, and probe windows, over any [`core::alloc::GlobalAlloc`].
//!
//! It needs neither `std` nor `alloc` nor thread-locals: [`CountingAlloc`] keeps process-wide
//! atomic [`Counters`] inside itself, with no lock, so its hooks are safe in interrupt handlers.
//! `memprobe` (the `std` crate) counts each thread into its own thread-local instead, and takes
//! from here the one implementation of what an allocator call adds to which counter
//! ([`Event::count`] into a [`Tally`]).
//!
//! ```
//! use memprobe_core::CountingAlloc;
//!
//! // On a microcontroller: `CountingAlloc<embedded_alloc::LlffHeap>`, initialised the same way.
//! #[global_allocator]
//! static HEAP: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);
//!
//! let (boxed, f) = HEAP.measure(|| {
//!     let mut v: Vec<u32> = Vec::with_capacity(4);
//!     v.extend([1, 2, 3, 4]);
//!     v.push(5); // grows by realloc to 8 elements
//!     Box::new(v)
//! });
//! assert_eq!((f.alloc_count, f.realloc_count), (2, 1)); // the vector's buffer, then the box
//! assert_eq!(f.alloc_bytes, 16 + 32 + 24);
//! assert_eq!(f.live_bytes, 32 + 24);
//! assert_eq!(f.peak_bytes, 32 + 24);
//! drop(boxed);
//! ```
//!
//! # Targets
//!
//! Counters are 64 bits wide where the target has 64-bit atomics and 32 bits wide where it has
//! only 32-bit ones (thumbv7m/thumbv7em, riscv32imac): there the cumulative counts wrap at
//! 2^32, windows stay exact, and live bytes and the high-water mark never wrap (see [`Word`]
//! and the reasoning in `src/word.rs`). Targets without atomic read-modify-write (thumbv6m) are
//! refused at compile time. `scripts/check-embedded.sh` type-checks the embedded targets; a
//! Cortex-M firmware in `embedded/qemu-cortex-m` runs under QEMU in the tests.

#![no_std]
#![deny(missing_docs)]

mod counters;
mod counting;
mod event;
mod figures;
mod totals;
mod window;
mod word;

pub use counters::Counters;
pub use counting::CountingAlloc;
pub use event::{Count, Event, Tally};
pub use figures::Figures;
pub use totals::{SingleWriter, Totals};
pub use window::Window;
pub use word::{AtomicSignedWord, AtomicWord, SignedWord, Word};
