//! Procedural macros for [memprobe](https://docs.rs/memprobe).
//!
//! This crate only parses and expands; generated code calls `::memprobe::__private`. It is
//! re-exported by `memprobe`; depend on `memprobe`, not on this crate.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

/// Measures a test or bench (placeholder: passes the item through unchanged).
#[proc_macro_attribute]
pub fn memprobe(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
