//! The board: the figures the sampler publishes for `/metrics`, one preallocated [`Slot`] per
//! watched target, each a seqlock of plain atomics. The run loop (the only writer) copies a tick
//! into its slot without a lock, an allocation or a syscall; the HTTP thread (the reader) copies a
//! slot out and retries when a write was under way, so a scrape never holds the sampler up and
//! never sees half a tick.
//!
//! # Implementation
//!
//! ```text
//!  writer (run loop)                       reader (HTTP thread)
//!  seq += 1  (odd: writing)                s1 = seq            (acquire; odd → retry)
//!  fence(release)                          copy the words      (relaxed)
//!  store the words (relaxed)               fence(acquire)
//!  seq += 1  (even; release)               s2 = seq; s1 != s2 → retry
//! ```
//!
//! Every field is an `AtomicU64`, so torn reads are impossible at the word level and the sequence
//! number makes a snapshot consistent across words (the classic seqlock written with atomics
//! only, which keeps the crate free of `unsafe`). Strings (the command and the phase) are packed
//! into fixed arrays of words: a label longer than [`LABEL_BYTES`] is cut at a character boundary.
//! Slots are claimed by the writer alone (a free slot, else the oldest ended one), so claiming
//! needs no compare-and-swap either.

use std::sync::atomic::{AtomicU64, Ordering, fence};

/// How many targets one daemon exports at once; more are still watched, not exported.
pub(crate) const MAX_TARGETS: usize = 64;
/// Longest label value kept (command, phase), in bytes.
pub(crate) const LABEL_BYTES: usize = 64;
const LABEL_WORDS: usize = LABEL_BYTES / 8;

/// The verdict a slot shows, as the `kind` label of `memprobe_verdict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerdictKind {
    /// Not judged yet.
    None = 0,
    /// `pass`.
    Pass = 1,
    /// `growth`.
    Growth = 2,
    /// `inconclusive`.
    Inconclusive = 3,
    /// `fragmentation`.
    Fragmentation = 4,
}

impl VerdictKind {
    /// Every kind `memprobe_verdict` lists, in its order.
    pub(crate) const LISTED: [VerdictKind; 4] = [
        VerdictKind::Growth,
        VerdictKind::Pass,
        VerdictKind::Inconclusive,
        VerdictKind::Fragmentation,
    ];

    /// The label value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            VerdictKind::None => "none",
            VerdictKind::Pass => "pass",
            VerdictKind::Growth => "growth",
            VerdictKind::Inconclusive => "inconclusive",
            VerdictKind::Fragmentation => "fragmentation",
        }
    }

    fn from_word(w: u64) -> VerdictKind {
        match w {
            1 => VerdictKind::Pass,
            2 => VerdictKind::Growth,
            3 => VerdictKind::Inconclusive,
            4 => VerdictKind::Fragmentation,
            _ => VerdictKind::None,
        }
    }

    /// The kind of an engine verdict.
    pub(crate) fn of(kind: &memprobe::trend::VerdictKind) -> VerdictKind {
        use memprobe::trend::VerdictKind as K;
        match kind {
            K::Pass => VerdictKind::Pass,
            K::Growth => VerdictKind::Growth,
            K::Fragmentation => VerdictKind::Fragmentation,
            _ => VerdictKind::Inconclusive,
        }
    }
}

/// Whether a slot is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// Never claimed.
    Free = 0,
    /// Its target is being sampled.
    Running = 1,
    /// Its target ended (exited, replaced, or the run stopped); the last figures stay.
    Ended = 2,
}

// Word indices of a slot. PERF: one flat array, so a publish is a run of relaxed stores.
const STATE: usize = 0;
const PID: usize = 1;
const RSS: usize = 2;
const ANON_SWAP: usize = 3;
const PEAK_RSS: usize = 4;
const CGROUP_USAGE: usize = 5;
const JE_ALLOCATED: usize = 6;
const JE_ACTIVE: usize = 7;
const JE_RESIDENT: usize = 8;
const SAMPLES: usize = 9;
const VERDICT: usize = 10;
/// Which optional figures are present: bits of the `HAS_*` constants.
const PRESENT: usize = 11;
const COMMAND_LEN: usize = 12;
const PHASE_LEN: usize = 13;
const ENDED_AT: usize = 14;
const COMMAND: usize = 15;
const PHASE: usize = COMMAND + LABEL_WORDS;
const WORDS: usize = PHASE + LABEL_WORDS;

const HAS_ANON_SWAP: u64 = 1;
const HAS_PEAK_RSS: u64 = 2;
const HAS_CGROUP: u64 = 4;
const HAS_JEMALLOC: u64 = 8;

/// One target's figures as the HTTP thread reads them: a consistent copy of a [`Slot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetFigures {
    /// The slot's state.
    pub(crate) state: SlotState,
    /// The target's PID.
    pub(crate) pid: u32,
    /// Its command name (comm).
    pub(crate) command: String,
    /// The phase it last published, empty when none.
    pub(crate) phase: String,
    /// RSS at the last sample.
    pub(crate) rss_bytes: u64,
    /// RssAnon + VmSwap at the last sample.
    pub(crate) anon_swap_bytes: Option<u64>,
    /// VmHWM at the last sample.
    pub(crate) peak_rss_bytes: Option<u64>,
    /// The memory cgroup's usage, when it is watched.
    pub(crate) cgroup_usage_bytes: Option<u64>,
    /// jemalloc allocated, active, resident, when the target publishes them.
    pub(crate) jemalloc: Option<[u64; 3]>,
    /// Samples taken of this target (the number of its JSONL lines).
    pub(crate) samples: u64,
    /// The last verdict.
    pub(crate) verdict: VerdictKind,
}

/// One target's words.
pub(crate) struct Slot {
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
}

impl Slot {
    fn new() -> Slot {
        Slot {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn state(&self) -> SlotState {
        match self.words[STATE].load(Ordering::Relaxed) {
            1 => SlotState::Running,
            2 => SlotState::Ended,
            _ => SlotState::Free,
        }
    }

    /// A write: `f` stores words between the two sequence bumps. Only the run loop writes.
    fn write(&self, f: impl FnOnce(&[AtomicU64; WORDS])) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        f(&self.words);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// A consistent copy of the words (retried while a write is under way).
    fn read(&self) -> [u64; WORDS] {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let copy: [u64; WORDS] = std::array::from_fn(|i| self.words[i].load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return copy;
            }
        }
    }
}

fn store_label(words: &[AtomicU64; WORDS], at: usize, len_at: usize, text: &str) {
    let mut end = text.len().min(LABEL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = &text.as_bytes()[..end];
    for (i, w) in words[at..at + LABEL_WORDS].iter().enumerate() {
        let mut chunk = [0u8; 8];
        let from = (i * 8).min(bytes.len());
        let to = (i * 8 + 8).min(bytes.len());
        chunk[..to - from].copy_from_slice(&bytes[from..to]);
        w.store(u64::from_le_bytes(chunk), Ordering::Relaxed);
    }
    words[len_at].store(end as u64, Ordering::Relaxed);
}

fn load_label(words: &[u64; WORDS], at: usize, len_at: usize) -> String {
    let mut bytes = Vec::with_capacity(LABEL_BYTES);
    for w in &words[at..at + LABEL_WORDS] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.truncate((words[len_at] as usize).min(LABEL_BYTES));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The board: every slot, and the daemon-wide counters.
pub(crate) struct Board {
    slots: Box<[Slot]>,
    /// Ticks the run loop skipped because it was behind (all targets share the loop).
    missed: AtomicU64,
    /// How many slots were claimed so far (to find the oldest ended one).
    claims: AtomicU64,
}

/// A claimed slot: what the writer holds to publish one target's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotId(usize);

/// What one tick publishes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TickFigures {
    /// RSS.
    pub(crate) rss_bytes: u64,
    /// RssAnon + VmSwap, when `status` was read.
    pub(crate) anon_swap_bytes: Option<u64>,
    /// VmHWM.
    pub(crate) peak_rss_bytes: Option<u64>,
    /// The cgroup's usage.
    pub(crate) cgroup_usage_bytes: Option<u64>,
    /// jemalloc allocated, active, resident.
    pub(crate) jemalloc: Option<[u64; 3]>,
    /// Samples taken so far, this one included.
    pub(crate) samples: u64,
}

impl Board {
    /// An empty board of [`MAX_TARGETS`] slots, allocated once.
    pub(crate) fn new() -> Board {
        Board {
            slots: (0..MAX_TARGETS).map(|_| Slot::new()).collect(),
            missed: AtomicU64::new(0),
            claims: AtomicU64::new(0),
        }
    }

    /// Claims a slot for `pid` running `command`: a free one, else the one that ended first;
    /// `None` when all [`MAX_TARGETS`] are running. Only the run loop calls this.
    pub(crate) fn claim(&self, pid: u32, command: &str) -> Option<SlotId> {
        let free = self.slots.iter().position(|s| s.state() == SlotState::Free);
        let index = free.or_else(|| {
            self.slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.state() == SlotState::Ended)
                .min_by_key(|(_, s)| s.words[ENDED_AT].load(Ordering::Relaxed))
                .map(|(i, _)| i)
        })?;
        let order = self.claims.fetch_add(1, Ordering::Relaxed);
        self.slots[index].write(|w| {
            for word in w.iter() {
                word.store(0, Ordering::Relaxed);
            }
            w[STATE].store(SlotState::Running as u64, Ordering::Relaxed);
            w[PID].store(u64::from(pid), Ordering::Relaxed);
            w[ENDED_AT].store(order, Ordering::Relaxed);
            store_label(w, COMMAND, COMMAND_LEN, command);
        });
        Some(SlotId(index))
    }

    /// Publishes one tick's figures. PERF: relaxed stores only; no allocation, lock or syscall.
    pub(crate) fn publish(&self, id: SlotId, f: &TickFigures) {
        self.slots[id.0].write(|w| {
            let mut present = 0;
            w[RSS].store(f.rss_bytes, Ordering::Relaxed);
            if let Some(v) = f.anon_swap_bytes {
                present |= HAS_ANON_SWAP;
                w[ANON_SWAP].store(v, Ordering::Relaxed);
            }
            if let Some(v) = f.peak_rss_bytes {
                present |= HAS_PEAK_RSS;
                w[PEAK_RSS].store(v, Ordering::Relaxed);
            }
            if let Some(v) = f.cgroup_usage_bytes {
                present |= HAS_CGROUP;
                w[CGROUP_USAGE].store(v, Ordering::Relaxed);
            }
            if let Some([a, b, c]) = f.jemalloc {
                present |= HAS_JEMALLOC;
                w[JE_ALLOCATED].store(a, Ordering::Relaxed);
                w[JE_ACTIVE].store(b, Ordering::Relaxed);
                w[JE_RESIDENT].store(c, Ordering::Relaxed);
            }
            // A figure read once stays shown (the status file is read less often than statm).
            w[PRESENT].fetch_or(present, Ordering::Relaxed);
            w[SAMPLES].store(f.samples, Ordering::Relaxed);
        });
    }

    /// Publishes the phase the target entered (on the publish path, not every tick).
    pub(crate) fn set_phase(&self, id: SlotId, phase: &str) {
        self.slots[id.0].write(|w| store_label(w, PHASE, PHASE_LEN, phase));
    }

    /// Publishes a verdict.
    pub(crate) fn set_verdict(&self, id: SlotId, kind: VerdictKind) {
        self.slots[id.0].write(|w| w[VERDICT].store(kind as u64, Ordering::Relaxed));
    }

    /// Marks the target ended: its figures stay, `memprobe_target_running` turns 0.
    pub(crate) fn end(&self, id: SlotId) {
        let order = self.claims.fetch_add(1, Ordering::Relaxed);
        self.slots[id.0].write(|w| {
            w[STATE].store(SlotState::Ended as u64, Ordering::Relaxed);
            w[ENDED_AT].store(order, Ordering::Relaxed);
        });
    }

    /// Adds ticks the run loop skipped.
    pub(crate) fn add_missed(&self, n: u64) {
        self.missed.fetch_add(n, Ordering::Relaxed);
    }

    /// Ticks skipped so far.
    pub(crate) fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }

    /// Consistent copies of the slots in use, in slot order (the HTTP thread; allocates).
    pub(crate) fn targets(&self) -> Vec<TargetFigures> {
        self.slots
            .iter()
            .map(Slot::read)
            .filter(|w| w[STATE] != SlotState::Free as u64)
            .map(|w| {
                let present = w[PRESENT];
                let has = |bit: u64| present & bit != 0;
                TargetFigures {
                    state: if w[STATE] == SlotState::Ended as u64 {
                        SlotState::Ended
                    } else {
                        SlotState::Running
                    },
                    pid: w[PID] as u32,
                    command: load_label(&w, COMMAND, COMMAND_LEN),
                    phase: load_label(&w, PHASE, PHASE_LEN),
                    rss_bytes: w[RSS],
                    anon_swap_bytes: has(HAS_ANON_SWAP).then_some(w[ANON_SWAP]),
                    peak_rss_bytes: has(HAS_PEAK_RSS).then_some(w[PEAK_RSS]),
                    cgroup_usage_bytes: has(HAS_CGROUP).then_some(w[CGROUP_USAGE]),
                    jemalloc: has(HAS_JEMALLOC).then_some([
                        w[JE_ALLOCATED],
                        w[JE_ACTIVE],
                        w[JE_RESIDENT],
                    ]),
                    samples: w[SAMPLES],
                    verdict: VerdictKind::from_word(w[VERDICT]),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_tick_reads_back_whole() {
        let board = Board::new();
        let id = board.claim(42, "my-server").unwrap();
        board.publish(
            id,
            &TickFigures {
                rss_bytes: 10 << 20,
                anon_swap_bytes: Some(6 << 20),
                peak_rss_bytes: Some(12 << 20),
                cgroup_usage_bytes: None,
                jemalloc: Some([1, 2, 3]),
                samples: 7,
            },
        );
        board.set_phase(id, "steady");
        board.set_verdict(id, VerdictKind::Growth);
        let t = &board.targets()[0];
        assert_eq!(t.pid, 42);
        assert_eq!(t.command, "my-server");
        assert_eq!(t.phase, "steady");
        assert_eq!(t.rss_bytes, 10 << 20);
        assert_eq!(t.anon_swap_bytes, Some(6 << 20));
        assert_eq!(t.cgroup_usage_bytes, None);
        assert_eq!(t.jemalloc, Some([1, 2, 3]));
        assert_eq!(t.samples, 7);
        assert_eq!(t.verdict, VerdictKind::Growth);
        assert_eq!(t.state, SlotState::Running);
        board.end(id);
        assert_eq!(board.targets()[0].state, SlotState::Ended);
    }

    #[test]
    fn long_labels_are_cut_at_a_character_boundary() {
        let board = Board::new();
        let long = "é".repeat(40); // 80 bytes
        let id = board.claim(1, &long).unwrap();
        let t = &board.targets()[0];
        assert_eq!(t.command, "é".repeat(32));
        board.set_phase(id, "");
        assert_eq!(board.targets()[0].phase, "");
    }

    #[test]
    fn a_full_board_reuses_the_slot_that_ended_first() {
        let board = Board::new();
        let ids: Vec<_> = (0..MAX_TARGETS as u32)
            .map(|pid| board.claim(pid + 1, "x").unwrap())
            .collect();
        assert_eq!(board.claim(999, "x"), None, "all running: nothing to reuse");
        board.end(ids[5]);
        board.end(ids[3]);
        assert_eq!(board.claim(1000, "y"), Some(ids[5]));
        assert_eq!(board.claim(1001, "z"), Some(ids[3]));
    }

    #[test]
    fn a_reader_never_sees_half_a_write() {
        // The writer publishes ticks whose figures are all equal to the sample count; a reader
        // racing it must always find them equal.
        let board = std::sync::Arc::new(Board::new());
        let id = board.claim(1, "racer").unwrap();
        let writer = {
            let board = board.clone();
            std::thread::spawn(move || {
                for n in 1..=200_000u64 {
                    board.publish(
                        id,
                        &TickFigures {
                            rss_bytes: n,
                            anon_swap_bytes: Some(n),
                            peak_rss_bytes: Some(n),
                            cgroup_usage_bytes: Some(n),
                            jemalloc: Some([n, n, n]),
                            samples: n,
                        },
                    );
                }
            })
        };
        let mut reads = 0;
        while !writer.is_finished() || reads == 0 {
            let t = &board.targets()[0];
            let n = t.samples;
            assert_eq!(t.rss_bytes, n);
            assert_eq!(t.anon_swap_bytes.unwrap_or(n), n);
            assert_eq!(t.cgroup_usage_bytes.unwrap_or(n), n);
            assert_eq!(t.jemalloc.unwrap_or([n; 3]), [n; 3]);
            reads += 1;
        }
        writer.join().unwrap();
        assert_eq!(board.targets()[0].samples, 200_000);
    }
}
