//! "What does building a client cost?": the allocations and bytes of creating one HTTP-style
//! client through its builder, per client over many creations, by pool size, and what sharing the
//! configuration through an `Arc` instead of cloning it saves per client.
//!
//! Run: `cargo run --release -p memprobe-examples --bin client-cost` (add `-- --iters 100000` to
//! average over more clients; the default is 10000).
//!
//! The client is what a service builds per tenant or per upstream: a configuration (base URL,
//! user agent, default headers), a header map merged from it, and a pool of connections, each
//! with a read and a write buffer allocated up front. The figures are exact counts from the
//! counting allocator, the same ones a `#[memprobe(iters = ..., max_allocs = ...)]` test checks;
//! the last lines check a per-client budget with [`memprobe::Limits`] as CI would.

memprobe::global_allocator!(memprobe::jemalloc::Jemalloc);

mod common;

use memprobe::Limits;
use memprobe::probe::Iterations;
use memprobe::units::{Bytes, SignedBytes};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::ops::Deref;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "[--iters N]";

/// Connections per client unless a row says otherwise.
const POOL_SIZE: usize = 4;
/// Each connection's read and write buffer.
const BUFFER_BYTES: usize = 8 << 10;

/// What every client of one upstream shares.
#[derive(Debug, Clone)]
#[allow(dead_code)] // read by a real client's request path, which this example does not have
struct Config {
    base_url: String,
    user_agent: String,
    default_headers: Vec<(String, String)>,
    timeout: Duration,
}

impl Config {
    fn example() -> Self {
        Config {
            base_url: "https://api.example.invalid/v2".to_owned(),
            user_agent: "memprobe-example/0.1 (+https://example.invalid)".to_owned(),
            default_headers: vec![
                ("accept".to_owned(), "application/json".to_owned()),
                ("accept-encoding".to_owned(), "gzip, br".to_owned()),
                ("x-tenant".to_owned(), "acme-corp".to_owned()),
            ],
            timeout: Duration::from_secs(30),
        }
    }
}

/// How a client holds its configuration: its own deep copy, or a reference count on one copy.
enum ConfigHandle {
    Cloned(Config),
    Shared(Arc<Config>),
}

impl Deref for ConfigHandle {
    type Target = Config;

    fn deref(&self) -> &Config {
        match self {
            ConfigHandle::Cloned(config) => config,
            ConfigHandle::Shared(config) => config,
        }
    }
}

/// One pooled connection: its buffers are allocated when the pool is built, not per request.
#[allow(dead_code)]
struct Connection {
    read_buf: Vec<u8>,
    write_buf: Vec<u8>,
}

#[allow(dead_code)]
struct Client {
    config: ConfigHandle,
    headers: HashMap<String, String>,
    pool: Vec<Connection>,
}

impl Client {
    fn builder(config: ConfigHandle) -> ClientBuilder {
        ClientBuilder {
            config,
            pool_size: POOL_SIZE,
            buffer_bytes: BUFFER_BYTES,
            headers: Vec::new(),
        }
    }
}

struct ClientBuilder {
    config: ConfigHandle,
    pool_size: usize,
    buffer_bytes: usize,
    headers: Vec<(String, String)>,
}

impl ClientBuilder {
    fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections;
        self
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn build(self) -> Client {
        let config = &self.config;
        let mut headers =
            HashMap::with_capacity(config.default_headers.len() + 1 + self.headers.len());
        for (name, value) in &config.default_headers {
            headers.insert(name.clone(), value.clone());
        }
        headers.insert("user-agent".to_owned(), config.user_agent.clone());
        headers.extend(self.headers);
        let pool = (0..self.pool_size)
            .map(|_| Connection {
                read_buf: Vec::with_capacity(self.buffer_bytes),
                write_buf: Vec::with_capacity(self.buffer_bytes),
            })
            .collect();
        Client {
            config: self.config,
            headers,
            pool,
        }
    }
}

/// How the examples below build a client: one per-client header, as a caller would add.
fn new_client(config: ConfigHandle, pool_size: usize) -> Client {
    Client::builder(config)
        .pool_size(pool_size)
        .header("x-client", "client-cost")
        .build()
}

fn main() -> ExitCode {
    common::exit("client-cost", run())
}

fn run() -> common::Result<u8> {
    let mut args = common::Args::from_env("client-cost", USAGE);
    if args.wants_help() {
        args.print_help()?;
        return Ok(0);
    }
    let iters = args.value::<u64>("--iters")?.unwrap_or(10_000);
    args.finish()?;
    let mut out = std::io::stdout().lock();

    let config = Config::example();
    let shared = Arc::new(config.clone());
    let cloned = || ConfigHandle::Cloned(config.clone());
    let arc = || ConfigHandle::Shared(Arc::clone(&shared));

    // One creation, the full report: net bytes are what one client holds while it lives.
    let one = memprobe::measure(|| new_client(cloned(), POOL_SIZE))?;
    writeln!(
        out,
        "one client (cloned config, {POOL_SIZE} connections x 2 x {}): {} allocations, {} allocated, holds {}",
        Bytes(BUFFER_BYTES as u64),
        one.allocs.allocations(),
        Bytes(one.allocs.alloc_bytes),
        SignedBytes(one.allocs.net_bytes),
    )?;
    writeln!(out, "{one}")?;

    // Many creations: per-client figures, cloned against shared configuration.
    let iterations = Iterations::new(iters).warmup(10);
    let per_cloned = memprobe::measure_iters(iterations, || new_client(cloned(), POOL_SIZE))?;
    let per_shared = memprobe::measure_iters(iterations, || new_client(arc(), POOL_SIZE))?;
    writeln!(out, "per client, over {iters} creations:")?;
    for (label, report) in [("cloned config", &per_cloned), ("Arc<Config>", &per_shared)] {
        let per = report.per_iteration();
        writeln!(
            out,
            "  {label:<14} {:>6.2} allocations  {:>10} allocated  {:>8.0} ns",
            per.allocations,
            Bytes(per.alloc_bytes.round() as u64).to_string(),
            per.duration_ns,
        )?;
    }
    let (c, s) = (per_cloned.per_iteration(), per_shared.per_iteration());
    writeln!(
        out,
        "  sharing the config saves {:.2} allocations and {} per client",
        c.allocations - s.allocations,
        Bytes((c.alloc_bytes - s.alloc_bytes).round() as u64),
    )?;

    // The pool dominates the bytes; the header map and strings dominate the allocation count.
    writeln!(out, "by pool size (Arc<Config>):")?;
    writeln!(
        out,
        "  {:>11} {:>12} {:>12}",
        "connections", "allocations", "allocated"
    )?;
    for pool_size in [0, 1, 4, 16] {
        let report = memprobe::measure_iters(iterations, || new_client(arc(), pool_size))?;
        let per = report.per_iteration();
        writeln!(
            out,
            "  {pool_size:>11} {:>12.2} {:>12}",
            per.allocations,
            Bytes(per.alloc_bytes.round() as u64).to_string()
        )?;
    }

    // Clients kept alive: what a registry of 1000 clients (one per tenant) holds.
    for (label, handle) in [
        ("cloned config", &cloned as &dyn Fn() -> ConfigHandle),
        ("Arc<Config>", &arc),
    ] {
        let kept = memprobe::measure(|| {
            (0..1000)
                .map(|_| new_client(handle(), POOL_SIZE))
                .collect::<Vec<_>>()
        })?;
        writeln!(
            out,
            "1000 live clients ({label}) hold {} in {} allocations",
            SignedBytes(kept.allocs.net_bytes),
            kept.allocs.allocations(),
        )?;
    }

    // A per-client budget, as a CI check would hold it: the shared client fits, the cloned one
    // does not, and the violation says by how much.
    let budget = Limits::new().max_allocs(22).max_bytes("66 KiB")?;
    for (label, report) in [("cloned config", &per_cloned), ("Arc<Config>", &per_shared)] {
        let violations = budget.check(report);
        if violations.is_empty() {
            writeln!(
                out,
                "budget (22 allocations, 66 KiB per client), {label}: within"
            )?;
        }
        for violation in violations {
            writeln!(
                out,
                "budget (22 allocations, 66 KiB per client), {label}: {violation}"
            )?;
        }
    }
    black_box(&shared);
    Ok(0)
}
