//! The growth verdict: the daemon's samples turned into [`memprobe::trend`] series and judged by
//! [`memprobe::trend::analyze`], at the end of `watch` and by `verdict FILE.jsonl`, which re-judges
//! a saved run without sampling again.
//!
//! # Which samples the verdict sees
//!
//! A bucket mean would hide the noise the engine's windowed check measures, and put a sample's
//! time at a bucket's middle. So [`RunSeries`] keeps a bounded copy of *raw* samples thinned
//! evenly ([`store::Thinned`]): every sample until [`store::KEEP`] are held, then every second
//! one, then every fourth, and so on: the samples kept are exactly those whose index is a multiple
//! of the stride. The TTY status line reads its growth from the same copy.
//! Raw values keep the noise, even spacing keeps the slope unbiased, and 4,096 samples are plenty:
//! the engine fits its slope on at most 500 block medians anyway. Memory stays bounded for any
//! run length (under 0.5 MiB).
//!
//! Two streams are thinned apart: the `/proc` figures (one row per tick) and the published ones
//! (one row per refresh of the record, ≤ 10 Hz); thinned together, a 1 kHz run would keep almost
//! no published rows.
//!
//! `verdict FILE.jsonl` feeds the file's lines through the same [`RunSeries`] in the same order,
//! so with the same flags it reproduces `watch`'s verdict exactly: the JSONL holds the very values
//! `watch` recorded. (The full-resolution series is on disk; judging all of it would make a
//! re-judged verdict differ from the one `watch` gave for runs over 4,096 samples.)
//!
//! # Series and x-axis
//!
//! Series offered to the engine: `RSS` and `RssAnon+VmSwap` (summed over the tree with `--tree`),
//! and when the process publishes, jemalloc allocated, active and resident and the counting
//! allocator's live bytes. With `--tree` the published series (the root process's only) are
//! offered only when `--series` names one.
//!
//! When the process marks iterations (its published count passes 0), every series is judged on
//! iterations: published rows carry their own count; `/proc` rows carry the last count the daemon
//! had read at that tick (up to ~200 ms old: the record is refreshed at ≤ 10 Hz and read every
//! 100 ms). `/proc` samples taken before the first record cannot be placed on that axis and are
//! left out.
//!
//! # Files
//!
//! [`store`] keeps the bounded, evenly thinned copy; [`series`] adapts samples to the engine's
//! series and judges them; [`command`] is the `verdict FILE.jsonl` subcommand (its JSONL reader
//! sits beside the writer, in [`crate::output::read`]).

pub(crate) mod command;
pub(crate) mod series;
pub(crate) mod store;

pub(crate) use series::{RunSeries, VerdictInput, kind_name};
