#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]

pub mod alloc;
pub mod error;
pub mod jemalloc;
pub mod limits;
pub mod probe;
#[cfg(feature = "publish")]
pub mod publish;
pub mod report;
pub mod snapshot;
pub mod trend;
pub mod units;

pub use alloc::{AllocTotals, Attribution, Counting, process_totals, thread_totals};
pub use error::{Error, Result};
pub use jemalloc::JemallocStats;
pub use snapshot::{MemorySnapshot, ProcessMemory};
