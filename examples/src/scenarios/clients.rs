//! HTTP-style clients as a service builds them per tenant or per upstream: a configuration (base
//! URL, user agent, default headers), a header map merged from it, and a pool of connections,
//! each with a read and a write buffer allocated up front. "What does one client cost?" at 1, 10,
//! 50 and 100 clients in a registry.

use memprobe::scaling::Scaling;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// The sizes teams try: 1, 10, 50 and 100 clients.
pub const SIZES: [u64; 4] = [1, 10, 50, 100];
/// Connections per client unless a row says otherwise.
pub const POOL_SIZE: usize = 4;
/// Each connection's read and write buffer.
pub const BUFFER_BYTES: usize = 8 << 10;

/// What every client of one upstream shares.
#[derive(Debug, Clone)]
#[allow(dead_code)] // read by a real client's request path, which this example does not have
pub struct Config {
    base_url: String,
    user_agent: String,
    default_headers: Vec<(String, String)>,
    timeout: Duration,
}

impl Config {
    /// A typical configuration: three default headers.
    pub fn example() -> Self {
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
pub enum ConfigHandle {
    /// A deep copy per client.
    Cloned(Config),
    /// One copy shared by every client.
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
pub struct Connection {
    read_buf: Vec<u8>,
    write_buf: Vec<u8>,
}

/// A client: its configuration, merged headers and connection pool.
#[allow(dead_code)]
pub struct Client {
    config: ConfigHandle,
    headers: HashMap<String, String>,
    pool: Vec<Connection>,
}

impl Client {
    /// A builder with [`POOL_SIZE`] connections of [`BUFFER_BYTES`] buffers.
    pub fn builder(config: ConfigHandle) -> ClientBuilder {
        ClientBuilder {
            config,
            pool_size: POOL_SIZE,
            buffer_bytes: BUFFER_BYTES,
            headers: Vec::new(),
        }
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    config: ConfigHandle,
    pool_size: usize,
    buffer_bytes: usize,
    headers: Vec<(String, String)>,
}

impl ClientBuilder {
    /// Connections in the pool.
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections;
        self
    }

    /// One more header on every request.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The client, its pool's buffers allocated.
    pub fn build(self) -> Client {
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

/// How the examples build a client: one per-client header, as a caller would add.
pub fn new_client(config: ConfigHandle, pool_size: usize) -> Client {
    Client::builder(config)
        .pool_size(pool_size)
        .header("x-client", "client-cost")
        .build()
}

/// A registry of `n` clients sharing one configuration, each with a [`POOL_SIZE`] pool.
pub fn registry(shared: &Arc<Config>, n: u64) -> Vec<Client> {
    (0..n)
        .map(|_| new_client(ConfigHandle::Shared(Arc::clone(shared)), POOL_SIZE))
        .collect()
}

/// The scaling run of [`registry`]: per client, with the RSS delta beside the exact counts.
pub fn scaling() -> Scaling {
    Scaling::new(SIZES).item("client").name("clients").rss(true)
}

/// Fits what a registry of `n` clients costs, per client (one shared configuration).
///
/// # Errors
///
/// From [`Scaling::run`].
pub fn fit() -> memprobe::Result<memprobe::Fit> {
    let shared = Arc::new(Config::example());
    scaling().run(|n| registry(&shared, n))
}
