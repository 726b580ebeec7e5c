//! The record's layout (version 2): word offsets and flag bits, shared by the writer and the
//! reader. The table is in the [module docs](super#layout-version-2).

/// Words in the record.
pub(super) const WORDS: usize = 40;
pub(super) const WORD_MAGIC: usize = 0;
pub(super) const WORD_VERSION: usize = 1;
pub(super) const WORD_SEQ: usize = 2;
pub(super) const WORD_PID: usize = 3;
pub(super) const WORD_UPDATES: usize = 4;
pub(super) const WORD_FLAGS: usize = 5;
pub(super) const WORD_UPDATED_NS: usize = 6;
pub(super) const WORD_JEMALLOC: usize = 7;
pub(super) const WORD_COUNTING: usize = 13;
pub(super) const WORD_ITERATION: usize = 18;
pub(super) const WORD_PHASE_SEQ: usize = 19;
pub(super) const WORD_PHASE_LEN: usize = 20;
pub(super) const WORD_PHASE: usize = 21;
pub(super) const WORD_PURGE_REQUESTED: usize = 29;
pub(super) const WORD_PURGE_DONE: usize = 30;
pub(super) const WORD_SITES_MEAN: usize = 31;
pub(super) const WORD_SITES_REQUEST: usize = 32;
pub(super) const WORD_SITES_DONE: usize = 33;
pub(super) const WORD_SITES_STATE: usize = 34;
pub(super) const SITES_OP_START: u64 = 1;
pub(super) const SITES_OP_WRITE: u64 = 2;
pub(super) const FLAG_JEMALLOC: u64 = 1;
pub(super) const FLAG_COUNTING: u64 = 2;
