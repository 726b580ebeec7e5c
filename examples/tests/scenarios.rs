//! Every scenario as tests that fail this repository's CI when it grows: its figures at one size
//! under `#[memprobe]` with a committed baseline, and its scaling fit with per-item limits and a
//! committed per-item baseline (`.memprobe/baselines/scenarios/`, written by
//! `MEMPROBE_UPDATE=1 cargo test -p memprobe-examples --test scenarios`).
//!
//! The exact per-item counts asserted here are the ones each scenario's structure explains (a
//! job's five allocations are its name, its two label values, its label table and its payload);
//! bytes are left to the limits and the baselines.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

use memprobe::baseline::{Baselines, Mode, Policy};
use memprobe::memprobe;
use memprobe::scaling::{PerItemLimits, Shape};
use memprobe::{Fit, Result};

/// Checks `fit` against `limits` and per-item baseline `name`, failing with the fit's table.
fn per_item(fit: &Fit, limits: Result<PerItemLimits>, name: &str) {
    let violations: Vec<String> = limits
        .expect("valid limits")
        .check(fit)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(violations.is_empty(), "{}\n{fit}", violations.join("\n"));
    let baselines = Baselines::for_crate(env!("CARGO_MANIFEST_DIR"), "scenarios");
    let policy = Policy::new("5%").unwrap().update_command(format!(
        "MEMPROBE_UPDATE=1 cargo test -p memprobe-examples --test scenarios -- {name}"
    ));
    let verdict = fit
        .check_baseline(&baselines, name, &policy, Mode::from_env())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!verdict.failed(), "{verdict}\n{fit}");
}

mod jobs {
    use super::*;
    use memprobe_examples::jobs;

    #[memprobe(fail_if_growth = "5%")]
    #[test]
    fn a_queue_of_200_jobs() {
        let queue = jobs::queue(200);
        assert_eq!(queue.len(), 200);
    }

    /// The same fit through the attribute: per-item limits and a per-item baseline
    /// (`jobs.per_job_attribute.per_item.toml`).
    #[memprobe(
        sizes = [10, 50, 100, 200],
        max_allocs_per_item = 5,
        max_bytes_per_item = "1 KiB",
        fail_if_growth = "5%"
    )]
    #[test]
    fn per_job_attribute(n: u64) -> std::collections::VecDeque<jobs::Job> {
        jobs::queue(n)
    }

    #[test]
    fn per_job() {
        let fit = jobs::fit().unwrap();
        // Its name, two label values, the label table and the payload; the queue is one more.
        assert_eq!(
            (fit.allocations.per_item, fit.allocations.fixed),
            (5.0, 1.0)
        );
        let one = memprobe::measure(|| jobs::create_job(1000, jobs::PAYLOAD_BYTES)).unwrap();
        assert_eq!(one.allocs.allocations(), 5);
        assert!(
            fit.alloc_bytes.per_item > jobs::PAYLOAD_BYTES as f64,
            "{fit}"
        );
        per_item(
            &fit,
            PerItemLimits::new()
                .max_allocs_per_item(5)
                .max_bytes_per_item("1 KiB")
                .map(PerItemLimits::require_linear),
            "jobs::per_job",
        );
    }
}

mod clients {
    use super::*;
    use memprobe_examples::clients::{self, BUFFER_BYTES, POOL_SIZE};

    #[memprobe(fail_if_growth = "5%")]
    #[test]
    fn a_registry_of_100_clients() {
        let shared = std::sync::Arc::new(clients::Config::example());
        assert_eq!(clients::registry(&shared, 100).len(), 100);
    }

    #[test]
    fn per_client() {
        let fit = clients::fit().unwrap();
        // The pool's buffers are most of it: 4 connections with two 8 KiB buffers each.
        let buffers = (POOL_SIZE * 2 * BUFFER_BYTES) as f64;
        assert!(fit.alloc_bytes.per_item > buffers, "{fit}");
        assert!(buffers / fit.alloc_bytes.per_item > 0.95, "{fit}");
        // The slope is what building one client allocates, counted on its own, plus its place in
        // the registry's Vec.
        let shared = std::sync::Arc::new(clients::Config::example());
        let one = memprobe::measure(|| {
            clients::new_client(clients::ConfigHandle::Shared(shared.clone()), POOL_SIZE)
        })
        .unwrap();
        assert_eq!(fit.allocations.per_item, one.allocs.allocations() as f64);
        let slot = std::mem::size_of::<clients::Client>() as u64;
        assert_eq!(
            fit.alloc_bytes.per_item,
            (one.allocs.alloc_bytes + slot) as f64
        );
        assert_eq!(fit.allocations.shape, Shape::Linear);
        per_item(
            &fit,
            PerItemLimits::new()
                .max_allocs_per_item(21)
                .max_bytes_per_item("66 KiB")
                .map(PerItemLimits::require_linear),
            "clients::per_client",
        );
    }
}

mod payloads {
    use super::*;
    use memprobe_examples::payloads::{self, Order};
    use std::sync::LazyLock;

    /// A 100 KB order and its JSON, built during the warm-up run.
    static ORDER: LazyLock<(Order, Vec<u8>)> = LazyLock::new(|| payloads::setup(100_000));

    #[memprobe(iters = 1, warmup = 1, fail_if_growth = "5%")]
    #[test]
    fn serialize_100_kb() {
        assert!(serde_json::to_vec(&ORDER.0).unwrap().len() <= 100_000);
    }

    #[memprobe(iters = 1, warmup = 1, fail_if_growth = "5%")]
    #[test]
    fn parse_100_kb() {
        let order: Order = serde_json::from_slice(&ORDER.1).unwrap();
        assert_eq!(order.items.len(), ORDER.0.items.len());
    }

    #[test]
    fn per_json_byte_serialized() {
        let fit = payloads::serialize_fit().unwrap();
        // The output Vec doubles from 128 bytes: one allocation, then log2(size / 128)
        // reallocations, so the count bends while the bytes grow in line with the payload.
        assert!(
            matches!(fit.allocations.shape, Shape::Bends { upward: false, .. }),
            "{fit}"
        );
        per_item(
            &fit,
            PerItemLimits::new().max_bytes_per_item("3 B"),
            "payloads::per_json_byte_serialized",
        );
    }

    #[test]
    fn per_json_byte_parsed() {
        let fit = payloads::parse_fit().unwrap();
        per_item(
            &fit,
            PerItemLimits::new()
                .max_bytes_per_item("2 B")
                .map(PerItemLimits::require_linear),
            "payloads::per_json_byte_parsed",
        );
    }
}

mod actors {
    use super::*;
    use memprobe_examples::actors;

    #[memprobe(iters = 1, warmup = 1, fail_if_growth = "5%")]
    #[test]
    fn a_thousand_idle_actors() {
        let runtime = actors::runtime();
        let senders = actors::spawn_idle(&runtime, 1000);
        assert_eq!(senders.len(), 1000);
    }

    #[memprobe(fail_if_growth = "5%")]
    #[test]
    fn ten_thousand_queued_messages() {
        let (tx, _rx) = actors::queue_bounded(10_000);
        assert_eq!(tx.max_capacity() - tx.capacity(), 10_000);
    }

    #[test]
    fn per_idle_actor() {
        let fit = actors::idle_fit().unwrap();
        // The task, its mailbox (the channel) and the mailbox's first block of 32 slots.
        assert_eq!(fit.allocations.per_item, 3.0);
        // The first block holds 32 messages whatever the bound: a big message type makes every
        // idle actor big.
        let block = 32.0 * std::mem::size_of::<actors::Msg>() as f64;
        assert!(fit.net_bytes.per_item > block, "{fit}");
        per_item(
            &fit,
            PerItemLimits::new()
                .max_net_per_item("2 KiB")
                .map(PerItemLimits::require_linear),
            "actors::per_idle_actor",
        );
    }

    #[test]
    fn per_queued_message_bounded_and_unbounded_alike() {
        let bounded = actors::bounded_fit().unwrap();
        let unbounded = actors::unbounded_fit().unwrap();
        // One body per message, and a block of 32 slots every 32 messages (a step every 32, so
        // the slope is within a hair of 1/32).
        assert!(
            (bounded.allocations.per_item - (1.0 + 1.0 / 32.0)).abs() < 1e-4,
            "{bounded}"
        );
        assert_eq!(bounded.alloc_bytes.per_item, unbounded.alloc_bytes.per_item);
        assert_eq!(bounded.allocations.per_item, unbounded.allocations.per_item);
        let slot_and_body = (std::mem::size_of::<actors::Msg>() + actors::BODY_BYTES) as f64;
        assert!(bounded.net_bytes.per_item > slot_and_body, "{bounded}");
        assert!(
            bounded.net_bytes.per_item < slot_and_body + 2.0,
            "{bounded}"
        );
        for (fit, name) in [
            (&bounded, "actors::per_message_bounded"),
            (&unbounded, "actors::per_message_unbounded"),
        ] {
            per_item(
                fit,
                PerItemLimits::new()
                    .max_bytes_per_item("80 B")
                    .map(PerItemLimits::require_linear),
                name,
            );
        }
    }

    #[test]
    fn the_mailbox_is_back_at_its_baseline_after_draining() {
        for n in [10_000, 100_000] {
            let d = actors::fill_and_drain(n, 3).unwrap();
            assert_eq!(d.drained, 4 * n);
            assert_eq!(d.later_rounds_net_bytes, 0, "{n} messages: {d:?}");
            // What the first round leaves is the few blocks tokio keeps for reuse, not a share of
            // what the mailbox held.
            assert!(d.first_round_net_bytes > 0, "{d:?}");
            assert!(
                d.first_round_net_bytes as u64 * 100 < d.peak_bytes,
                "{n} messages: {d:?}"
            );
        }
        let (small, large) = (
            actors::fill_and_drain(10_000, 0).unwrap(),
            actors::fill_and_drain(100_000, 0).unwrap(),
        );
        assert_eq!(small.first_round_net_bytes, large.first_round_net_bytes);
    }
}

mod hot_path {
    use super::*;
    use memprobe_examples::hot_path::{
        self, Header, MAX_HEADERS, RESPONSE_HEADERS, SAMPLE_REQUEST,
    };
    use std::cell::RefCell;
    use std::hint::black_box;

    thread_local! {
        /// The connection's response buffer, reused across responses.
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    #[memprobe(iters = 1000, warmup = 10, max_allocs = 0, fail_if_growth = "0%")]
    #[test]
    fn parse_does_not_allocate() {
        let mut headers = [Header::default(); MAX_HEADERS];
        let head = hot_path::parse(black_box(SAMPLE_REQUEST), &mut headers).unwrap();
        assert_eq!((head.method, head.headers.len()), ("GET", 5));
    }

    #[memprobe(iters = 1000, warmup = 10, max_allocs = 0, fail_if_growth = "0%")]
    #[test]
    fn encode_into_a_reused_buffer_does_not_allocate() {
        BUF.with_borrow_mut(|buf| {
            hot_path::encode_into(buf, 200, "OK", &RESPONSE_HEADERS, black_box(1234)).unwrap();
            assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
        });
    }

    #[memprobe(
        iters = 1000,
        warmup = 10,
        max_allocs = 1,
        max_bytes = "150 B",
        fail_if_growth = "0%"
    )]
    #[test]
    fn encode_allocates_exactly_once() {
        let head = hot_path::encode(200, "OK", &RESPONSE_HEADERS, black_box(1234)).unwrap();
        assert_eq!(head.capacity(), head.len());
    }

    #[test]
    fn per_call() {
        let parse = hot_path::parse_fit().unwrap();
        let encode_into = hot_path::encode_into_fit().unwrap();
        let encode = hot_path::encode_fit().unwrap();
        for fit in [&parse, &encode_into] {
            assert_eq!(fit.allocations.per_item, 0.0, "{fit}");
            assert_eq!(fit.alloc_bytes.per_item, 0.0, "{fit}");
        }
        // The reused buffer grows once per run: its first response is the fixed cost.
        assert!(encode_into.allocations.fixed >= 1.0, "{encode_into}");
        assert_eq!(encode.allocations.per_item, 1.0);
        for (fit, name, allocs) in [
            (&parse, "hot_path::per_call_parse", 0),
            (&encode_into, "hot_path::per_call_encode_into", 0),
            (&encode, "hot_path::per_call_encode", 1),
        ] {
            per_item(
                fit,
                PerItemLimits::new()
                    .max_allocs_per_item(allocs)
                    .max_bytes_per_item("150 B")
                    .map(PerItemLimits::require_linear),
                name,
            );
        }
    }
}
