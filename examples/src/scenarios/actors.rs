//! Actors on tokio: each a task that owns an mpsc mailbox and handles messages until told to
//! stop. "How many bytes does one idle actor cost at 100,000 actors?", "what does one queued
//! message cost in a bounded and an unbounded mailbox?", and "is the mailbox back at its baseline
//! once it has drained?".
//!
//! Every run builds a fresh current-thread runtime (unmeasured), so the runtime's own queues start
//! empty and every allocation happens on the measuring thread.

use memprobe::scaling::Scaling;
use std::fmt::Write;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Idle actors: up to 100,000.
pub const ACTOR_SIZES: [u64; 4] = [1_000, 10_000, 50_000, 100_000];
/// Queued messages.
pub const MESSAGE_SIZES: [u64; 4] = [1_000, 10_000, 50_000, 100_000];
/// A bounded mailbox's capacity.
pub const MAILBOX_CAPACITY: usize = 64;
/// Bytes of each message's body.
pub const BODY_BYTES: usize = 32;

/// What an actor is sent.
#[derive(Debug)]
pub enum Msg {
    /// Work to do.
    Work {
        /// Which order.
        order: u64,
        /// Its body, [`BODY_BYTES`] long.
        body: String,
    },
    /// Stop after the messages before it.
    Stop,
}

impl Msg {
    /// Work on `order`, with a [`BODY_BYTES`] body.
    pub fn work(order: u64) -> Msg {
        // Sized up front: `format!` would guess a capacity and grow it twice.
        let mut body = String::with_capacity(BODY_BYTES);
        write!(body, "order-{order:026}").expect("writing to a String");
        Msg::Work { order, body }
    }
}

/// An actor: handles work until `Stop` or until every sender is gone; returns how much it did.
pub async fn actor(mut inbox: mpsc::Receiver<Msg>) -> u64 {
    let mut handled = 0;
    while let Some(msg) = inbox.recv().await {
        match msg {
            Msg::Work { order, body } => {
                std::hint::black_box((order, body));
                handled += 1;
            }
            Msg::Stop => break,
        }
    }
    handled
}

/// A fresh single-threaded runtime, as each run's state.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds")
}

/// Spawns `n` actors with bounded mailboxes and returns their senders: while the senders live,
/// the actors wait on an empty mailbox (idle).
pub fn spawn_idle(runtime: &Runtime, n: u64) -> Vec<mpsc::Sender<Msg>> {
    let _entered = runtime.enter();
    (0..n)
        .map(|_| {
            let (tx, rx) = mpsc::channel(MAILBOX_CAPACITY);
            tokio::spawn(actor(rx));
            tx
        })
        .collect()
}

/// The scaling run of [`spawn_idle`]: per actor.
pub fn idle_scaling() -> Scaling {
    Scaling::new(ACTOR_SIZES)
        .item("idle actor")
        .name("actors::idle")
        .repetitions(2)
        .rss(true)
}

/// A bounded mailbox with room for every message of the largest run.
pub type Bounded = (mpsc::Sender<Msg>, mpsc::Receiver<Msg>);
/// An unbounded mailbox.
pub type Unbounded = (mpsc::UnboundedSender<Msg>, mpsc::UnboundedReceiver<Msg>);

/// A new bounded mailbox holding `n` queued messages; no actor drains it while it is measured.
///
/// # Panics
///
/// When `n` exceeds the capacity (the largest of [`MESSAGE_SIZES`]).
pub fn queue_bounded(n: u64) -> Bounded {
    let (tx, rx) = mpsc::channel(MESSAGE_SIZES[MESSAGE_SIZES.len() - 1] as usize);
    for order in 0..n {
        tx.try_send(Msg::work(order)).expect("room in the mailbox");
    }
    (tx, rx)
}

/// Queues `n` messages in `mailbox`.
///
/// # Panics
///
/// When the mailbox is closed.
pub fn queue_unbounded(mailbox: &Unbounded, n: u64) {
    for order in 0..n {
        mailbox.0.send(Msg::work(order)).expect("mailbox open");
    }
}

/// Drains every queued message; returns how many there were.
pub fn drain(mailbox: &mut Unbounded) -> u64 {
    let mut drained = 0;
    while mailbox.1.try_recv().is_ok() {
        drained += 1;
    }
    drained
}

/// The scaling run of queued messages in a mailbox of `kind` (`bounded`, `unbounded`).
pub fn message_scaling(kind: &str) -> Scaling {
    Scaling::new(MESSAGE_SIZES)
        .item("queued message")
        .name(format!("actors::{kind}_mailbox"))
        .repetitions(2)
        .rss(true)
}

/// Fits what `n` idle actors cost, per actor: each on a fresh runtime.
///
/// # Errors
///
/// From [`Scaling::run_with`].
pub fn idle_fit() -> memprobe::Result<memprobe::Fit> {
    idle_scaling().run_with(|_| runtime(), |runtime, n| spawn_idle(runtime, n))
}

/// Fits what `n` messages queued in a bounded mailbox cost, per message.
///
/// # Errors
///
/// From [`Scaling::run_with`].
pub fn bounded_fit() -> memprobe::Result<memprobe::Fit> {
    message_scaling("bounded").run(queue_bounded)
}

/// Fits what `n` messages queued in an unbounded mailbox cost, per message.
///
/// # Errors
///
/// From [`Scaling::run_with`].
pub fn unbounded_fit() -> memprobe::Result<memprobe::Fit> {
    message_scaling("unbounded").run(|n| {
        let mailbox = mpsc::unbounded_channel();
        queue_unbounded(&mailbox, n);
        mailbox
    })
}

/// An unbounded mailbox filled with `n` messages and drained, round after round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Live bytes at the fullest point of the first round, above the empty mailbox.
    pub peak_bytes: u64,
    /// Live bytes left after the first round, above the new, empty mailbox: the blocks tokio
    /// keeps for reuse.
    pub first_round_net_bytes: i64,
    /// Live bytes left after the later rounds, above what the first round left: 0 means the
    /// mailbox is back at its baseline every time it drains.
    pub later_rounds_net_bytes: i64,
    /// Messages drained in all.
    pub drained: u64,
}

/// Fills a new unbounded mailbox with `n` messages and drains it, `1 + later_rounds` times,
/// measuring the first round and the later ones apart.
///
/// # Errors
///
/// From [`memprobe::Probe::start`].
pub fn fill_and_drain(n: u64, later_rounds: u32) -> memprobe::Result<Drained> {
    let mut mailbox = mpsc::unbounded_channel();
    let first = memprobe::Probe::start(memprobe::Scope::Thread)?;
    queue_unbounded(&mailbox, n);
    let mut drained = drain(&mut mailbox);
    let first = first.finish()?;
    let later = memprobe::Probe::start(memprobe::Scope::Thread)?;
    for _ in 0..later_rounds {
        queue_unbounded(&mailbox, n);
        drained += drain(&mut mailbox);
    }
    let later = later.finish()?;
    drop(mailbox);
    Ok(Drained {
        peak_bytes: first.allocs.peak_bytes,
        first_round_net_bytes: first.allocs.net_bytes,
        later_rounds_net_bytes: later.allocs.net_bytes,
        drained,
    })
}
