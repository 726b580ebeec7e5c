//! `watch --prometheus ADDR`: every watched target's latest figures and verdict served at
//! `/metrics` in the Prometheus text format, so the monitoring a fleet already runs can scrape
//! the daemon. Three rooms: [`board`] (the lock-free slots the sampler publishes into, one per
//! target), [`exposition`] (formatting the text format, a pure function) and [`server`] (the
//! `tiny_http` thread). The run loop holds an [`Exporter`] and publishes each tick into the
//! target's slot; the verdict is re-judged on its own schedule ([`VERDICT_EVERY`]), never per
//! sample.

pub(crate) mod board;
pub(crate) mod exposition;
pub(crate) mod server;

use anyhow::Result;
use board::Board;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often the verdict shown at `/metrics` is re-judged (the first time after one second).
pub(crate) const VERDICT_EVERY: Duration = Duration::from_secs(5);

/// The board and the server reading it.
pub(crate) struct Exporter {
    /// What the run loop publishes into.
    pub(crate) board: Arc<Board>,
    /// Held for its `Drop`, which stops the server thread.
    _server: server::Server,
}

impl Exporter {
    /// Binds `addr`, starts serving, and says where on stderr (unless `quiet`); an address that
    /// is not loopback is allowed and always named in a warning line.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub(crate) fn start(addr: SocketAddr, quiet: bool) -> Result<Exporter> {
        let board = Arc::new(Board::new());
        let server = server::Server::start(addr, board.clone())?;
        if !addr.ip().is_loopback() {
            eprintln!(
                "memprobe-daemon: warning: --prometheus {addr} is not a loopback address: the PIDs, command names and memory figures at /metrics are served to whoever can reach it"
            );
        }
        if !quiet {
            eprintln!(
                "memprobe-daemon: serving Prometheus metrics at http://{}/metrics",
                server.addr
            );
        }
        Ok(Exporter {
            board,
            _server: server,
        })
    }
}

/// Parses `--prometheus`: `HOST:PORT` (an IP address, or `localhost`), or a bare `PORT`, bound on
/// loopback (127.0.0.1).
///
/// # Errors
///
/// One line naming the flag and the accepted forms.
pub(crate) fn parse_addr(value: &str) -> Result<SocketAddr> {
    let v = value.trim();
    let parsed = if let Ok(port) = v.parse::<u16>() {
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    } else if let Some(port) = v.strip_prefix("localhost:") {
        port.parse::<u16>()
            .ok()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
    } else {
        v.parse::<SocketAddr>().ok()
    };
    parsed.ok_or_else(|| {
        anyhow::anyhow!(
            "--prometheus {value:?} is not an address: use HOST:PORT such as 127.0.0.1:9464 (port 0 picks a free one), or a port alone to bind on loopback"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(
            parse_addr("9464").unwrap(),
            "127.0.0.1:9464".parse().unwrap()
        );
        assert_eq!(
            parse_addr("localhost:0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse_addr("0.0.0.0:9464").unwrap(),
            "0.0.0.0:9464".parse().unwrap()
        );
        assert_eq!(parse_addr("[::1]:80").unwrap(), "[::1]:80".parse().unwrap());
        let e = parse_addr("example.org:80").unwrap_err().to_string();
        assert!(
            e.starts_with("--prometheus \"example.org:80\" is not an address: use HOST:PORT"),
            "{e}"
        );
    }
}
