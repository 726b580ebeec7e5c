//! The growth verdict: the daemon's samples turned into [`memprobe::trend`] series and judged by
//! [`memprobe::trend::analyze`], at the end of `watch` and by `verdict FILE.jsonl`, which re-judges
//! a saved run without sampling again.
//!
//! # Which samples the verdict sees
//!
//! Every series is kept in a [`memprobe::trend::BoundedSeries`]: at most
//! [`series::KEEP`] samples, each standing for a stride of consecutive samples with their mean,
//! minimum and maximum; the stride doubles each time the store fills up. Merging, not keeping
//! every k-th sample: a period near the stride would alias into a slow drift (a sawtooth read as
//! growth), while a stride's mean averages it out and its minimum keeps the troughs. 2,048
//! samples are what the engine bins any series into anyway, so nothing is lost for the verdict,
//! and memory stays bounded for any run length (under 1 MiB for all series). The TTY status line
//! reads its growth from the same store.
//!
//! `verdict FILE.jsonl` feeds the file's lines through the same [`RunSeries`] in the same order,
//! so with the same flags it reproduces `watch`'s verdict exactly: the JSONL holds the very values
//! `watch` recorded.
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
//! [`series`] keeps the bounded series, adapts samples to the engine's series and judges them; [`command`] is the `verdict FILE.jsonl` subcommand (its JSONL reader
//! sits beside the writer, in [`crate::output::read`]).

pub(crate) mod annotation;
pub(crate) mod command;
pub(crate) mod series;

pub(crate) use series::{RunSeries, VerdictInput};
