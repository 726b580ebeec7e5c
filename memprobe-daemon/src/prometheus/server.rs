//! The HTTP side of `--prometheus`: a `tiny_http` server on its own thread answering
//! `GET /metrics` with the exposition of the board, and 404 elsewhere. The thread reads the board
//! (retrying a slot the sampler is writing, never waiting on it), measures the daemon's own cost
//! and formats: all of the allocation and syscalls of a scrape happen here, off the sampling path.

use super::board::Board;
use super::exposition::{CONTENT_TYPE, render};
use anyhow::{Result, anyhow};
use std::net::SocketAddr;
use std::sync::Arc;

/// A running server; dropping it stops the thread.
pub(crate) struct Server {
    http: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The address bound (the port chosen when `:0` was asked).
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Binds `addr` and serves `board` from a new thread.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound (in use, not an address of this host, no permission).
    pub(crate) fn start(addr: SocketAddr, board: Arc<Board>) -> Result<Server> {
        let http = tiny_http::Server::http(addr).map_err(|e| {
            anyhow!(
                "--prometheus {addr}: cannot listen there ({e}): choose a free port, or :0 for any"
            )
        })?;
        let bound = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| anyhow!("--prometheus {addr}: the server bound no IP address"))?;
        let http = Arc::new(http);
        let serving = http.clone();
        let thread = std::thread::Builder::new()
            .name("memprobe-prometheus".into())
            .spawn(move || serve(&serving, &board))
            .map_err(|e| anyhow!("--prometheus: cannot start the server thread: {e}"))?;
        Ok(Server {
            http,
            thread: Some(thread),
            addr: bound,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(http: &tiny_http::Server, board: &Board) {
    for request in http.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("");
        let response = match (request.method(), path) {
            (tiny_http::Method::Get | tiny_http::Method::Head, "/metrics") => {
                let text = render(
                    &board.targets(),
                    board.missed(),
                    &crate::procfs::self_usage(),
                );
                tiny_http::Response::from_string(text).with_header(
                    tiny_http::Header::from_bytes(&b"Content-Type"[..], CONTENT_TYPE.as_bytes())
                        .expect("a valid header"),
                )
            }
            _ => tiny_http::Response::from_string(
                "memprobe-daemon serves only GET /metrics (Prometheus text format)\n",
            )
            .with_status_code(404),
        };
        // A scraper that hung up is its own business; the next request is served as usual.
        let _ = request.respond(response);
    }
}
