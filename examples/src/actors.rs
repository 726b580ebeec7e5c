//! "How many bytes does one idle actor cost at 100,000 actors?", "what does a queued message
//! cost?", "does the mailbox go back to its baseline once drained?": actors on tokio with mpsc
//! mailboxes, measured by scaling fits.
//!
//! Run: `cargo run --release -p memprobe-examples --bin actors`.
//!
//! An idle actor is a spawned task waiting on an empty mailbox: its cost is the task (its future's
//! state and the runtime's header) plus the mailbox, which tokio allocates with its first block of
//! 32 message slots up front, so a large message type makes every idle mailbox large. A queued
//! message costs its slot (the message type's size, plus a block header every 32 messages) and
//! whatever it owns (here a 32-byte body). Draining a mailbox frees its blocks, or keeps a few for
//! reuse: the last lines measure what is left.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe_examples::actors;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "[--drain-messages N (default 10000)]";

fn main() -> ExitCode {
    common::exit("actors", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("actors", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let drain_messages = args.value::<u64>("--drain-messages")?.unwrap_or(10_000);
    args.finish()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "message type: {} B (a mailbox slot); {} B body per message\n",
        std::mem::size_of::<actors::Msg>(),
        actors::BODY_BYTES
    )?;
    for fit in [
        actors::idle_fit()?,
        actors::bounded_fit()?,
        actors::unbounded_fit()?,
    ] {
        writeln!(out, "{fit}")?;
    }
    let d = actors::fill_and_drain(drain_messages, 3)?;
    writeln!(
        out,
        "unbounded mailbox, {drain_messages} messages queued then drained: peak {}, left after draining {} (blocks kept for reuse); 3 more rounds: {} more",
        memprobe::units::Bytes(d.peak_bytes),
        memprobe::units::SignedBytes(d.first_round_net_bytes),
        memprobe::units::SignedBytes(d.later_rounds_net_bytes),
    )?;
    writeln!(
        out,
        "back at its baseline after draining: {}",
        if d.later_rounds_net_bytes == 0 {
            "yes"
        } else {
            "NO"
        }
    )?;
    Ok(u8::from(d.later_rounds_net_bytes != 0))
}
