//! Serving HTTP — the health endpoint (`daemon::health`) and the review web page (`web`) —
//! without letting its clients starve the service.
//!
//! `axum::serve` has no header-read timeout (hyper's needs a timer, which it does not set), no
//! idle timeout and no connection limit: a client that opens connections and sends nothing
//! holds a file descriptor each, for ever, until the process runs out of them and the sync
//! cannot open a socket or the database. [`serve`] is the same router behind its own accept
//! loop with three bounds ([`Limits`]):
//!
//! - a header-read timeout with hyper's timer set: a connection must send a whole request head
//!   within it, on a fresh connection and between keep-alive requests alike, or it is closed;
//! - a lifetime per connection: whatever it is doing (a client that never reads its reply), it
//!   is closed after this;
//! - a cap on open connections. A connection over the cap is not refused: the *oldest*
//!   connection is closed to make room — at once, unless a handler is answering a request on
//!   it, which then gets a short grace to finish — and the new one is served. So idle or
//!   half-sent connections can never lock a fresh `/healthz` out (a scraper's kept-alive
//!   connection may be among the oldest: its next request opens a new one). Connections still
//!   finishing count against a hard ceiling of twice the cap; at it, a new connection waits
//!   (up to twice the grace) for one of them to end, and is closed only if none does.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// The bounds [`serve`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// A request head (on a new connection, or the next one on a kept-alive connection) must
    /// arrive whole within this, or the connection is closed.
    pub header_read_timeout: Duration,
    /// A connection is closed after this, whatever it is doing.
    pub max_lifetime: Duration,
    /// Open connections; over it the oldest is closed to make room.
    pub max_connections: usize,
    /// How long an evicted connection whose request a handler is answering may take to finish
    /// it (an evicted connection with no handler running is closed at once).
    pub eviction_grace: Duration,
}

impl Limits {
    /// The service's bounds: a scraper sends its request at once and needs well under a second.
    pub(crate) const SERVICE: Limits = Limits {
        header_read_timeout: Duration::from_secs(10),
        max_lifetime: Duration::from_secs(60),
        max_connections: 32,
        eviction_grace: Duration::from_secs(1),
    };

    /// The review web page's bounds (`crate::web`): a person's browser keeps a few connections
    /// alive, a report download may take a while on a slow line.
    pub(crate) const WEB: Limits = Limits {
        header_read_timeout: Duration::from_secs(10),
        max_lifetime: Duration::from_secs(300),
        max_connections: 64,
        eviction_grace: Duration::from_secs(5),
    };
}

/// Serves `router` on `listener` until the returned future is dropped (which closes every
/// connection too).
pub(crate) async fn serve(listener: TcpListener, router: Router, limits: Limits) {
    serve_tls(listener, router, limits, None).await
}

/// [`serve`], each connection first through `tls` when given: its handshake must finish
/// within the header-read timeout, and counts against the lifetime and the cap like a request.
pub(crate) async fn serve_tls(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut tasks: JoinSet<u64> = JoinSet::new();
    // Open connections not yet told to close, oldest first (ids only grow).
    let mut open: BTreeMap<u64, oneshot::Sender<()>> = BTreeMap::new();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(id) = done {
                    open.remove(&id);
                }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors, most likely: wait a little instead of spinning.
                        tracing::warn!(target: "daemon", error = %e, "health endpoint: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if !make_room(&mut tasks, &mut open, 2 * limits.max_connections, limits.eviction_grace).await {
                    tracing::debug!(target: "daemon", %peer, "health endpoint: too many connections closing, new one closed");
                    drop(stream);
                    continue;
                }
                while open.len() >= limits.max_connections {
                    let Some((_, evict)) = open.pop_first() else { break };
                    let _ = evict.send(());
                }
                let (tx, rx) = oneshot::channel();
                let id = next_id;
                next_id += 1;
                open.insert(id, tx);
                let router = router.clone();
                match tls.clone() {
                    None => {
                        tasks.spawn(connection(stream, peer, router, limits, rx, id));
                    }
                    Some(acceptor) => {
                        tasks.spawn(async move {
                            let handshake = tokio::time::timeout(
                                limits.header_read_timeout,
                                acceptor.accept(stream),
                            );
                            match handshake.await {
                                Ok(Ok(stream)) => {
                                    connection(stream, peer, router, limits, rx, id).await
                                }
                                Ok(Err(e)) => {
                                    tracing::debug!(target: "daemon", %peer, error = %e, "TLS handshake failed");
                                    id
                                }
                                Err(_) => id,
                            }
                        });
                    }
                }
            }
        }
    }
}

/// Brings the connection tasks under `ceiling` before one more is started: reaps those that
/// have ended, then waits for more to end. Every task beyond the cap was told to close and ends
/// within `grace` (at once when no handler is running, which under load may still take a
/// scheduling round: a burst of accepts can outrun the evicted tasks' own exits), so the wait is
/// bounded; a new connection is refused only when none ended within twice that.
async fn make_room(
    tasks: &mut JoinSet<u64>,
    open: &mut BTreeMap<u64, oneshot::Sender<()>>,
    ceiling: usize,
    grace: Duration,
) -> bool {
    let reap = |done: Result<u64, tokio::task::JoinError>, open: &mut BTreeMap<u64, _>| {
        if let Ok(id) = done {
            open.remove(&id);
        }
    };
    while let Some(done) = tasks.try_join_next() {
        reap(done, open);
    }
    while tasks.len() >= ceiling {
        match tokio::time::timeout(2 * grace, tasks.join_next()).await {
            Ok(Some(done)) => reap(done, open),
            Ok(None) => break,
            Err(_) => return false,
        }
    }
    true
}

/// One connection, to its end, its lifetime, or its eviction. Returns its id.
async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    evicted: oneshot::Receiver<()>,
    id: u64,
) -> u64
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // Whether a handler is answering a request on this connection right now.
    let busy = Arc::new(AtomicBool::new(false));
    let inner = TowerToHyperService::new(router);
    let flag = busy.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        // The peer's address, for handlers that need it (`axum::extract::ConnectInfo`).
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        flag.store(true, Ordering::Relaxed);
        let answer = hyper::service::Service::call(&inner, req);
        let flag = flag.clone();
        async move {
            let answer = answer.await;
            flag.store(false, Ordering::Relaxed);
            answer
        }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(target: "daemon", %peer, error = %e, "health endpoint: connection ended");
            }
        }
        Ok(()) = evicted => {
            tracing::debug!(target: "daemon", %peer, "health endpoint: connection cap reached, oldest connection closed");
            if busy.load(Ordering::Relaxed) {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(limits.eviction_grace, conn.as_mut()).await;
            }
        }
        () = tokio::time::sleep(limits.max_lifetime) => {
            tracing::debug!(target: "daemon", %peer, "health endpoint: connection lifetime reached");
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    fn limits(max_connections: usize) -> Limits {
        Limits {
            header_read_timeout: Duration::from_millis(300),
            max_lifetime: Duration::from_secs(3),
            max_connections,
            eviction_grace: Duration::from_millis(200),
        }
    }

    async fn start(limits: Limits) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/healthz", get(|| async { "ok\n" }));
        (addr, tokio::spawn(serve(listener, router, limits)))
    }

    /// Reads until the server closes the connection; the time it took, or None after 5 s.
    async fn closed_within(stream: &mut TcpStream) -> Option<Duration> {
        let start = Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
                Ok(Ok(_)) => continue,
                Err(_) => return None,
            }
        }
    }

    async fn healthz(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        out
    }

    #[tokio::test]
    async fn silent_slow_and_kept_alive_connections_are_closed_after_the_header_timeout() {
        let (addr, server) = start(limits(8)).await;
        // Sends nothing.
        let mut silent = TcpStream::connect(addr).await.unwrap();
        // Sends half a request head, then nothing (slowloris).
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost:")
            .await
            .unwrap();
        // One request kept alive, then idle.
        let mut kept = TcpStream::connect(addr).await.unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = kept.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        for (what, s) in [
            ("silent", &mut silent),
            ("slow", &mut slow),
            ("kept alive", &mut kept),
        ] {
            let t = closed_within(s)
                .await
                .unwrap_or_else(|| panic!("{what} never closed"));
            assert!(t < Duration::from_secs(2), "{what} closed after {t:?}");
        }
        server.abort();
    }

    #[tokio::test]
    async fn over_the_cap_the_oldest_connection_makes_room() {
        let (addr, server) = start(limits(4)).await;
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(TcpStream::connect(addr).await.unwrap());
        }
        held[0]
            .write_all(b"GET /healthz HTTP/1.1\r\nHost:")
            .await
            .unwrap();
        // A fifth: the server closes the oldest (half a request head, no handler running) at
        // once and answers.
        let answer = healthz(addr).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let t = closed_within(&mut held[0])
            .await
            .expect("the oldest closed");
        assert!(t < Duration::from_millis(250), "closed after {t:?}");
        // Far more than the cap, repeatedly: every fresh request is still answered.
        for _ in 0..3 {
            for _ in 0..20 {
                held.push(TcpStream::connect(addr).await.unwrap());
            }
            let answer = healthz(addr).await;
            assert!(answer.ends_with("ok\n"), "{answer}");
        }
        server.abort();
    }

    /// A burst of connections already queued by the kernel is accepted faster than evicted
    /// connections' tasks get to end (one thread here, so they run only when the loop yields):
    /// the fresh request at the end of the burst is still answered, not closed at the ceiling.
    #[tokio::test(flavor = "current_thread")]
    async fn a_burst_over_the_ceiling_still_answers_the_newest() {
        let (addr, server) = start(limits(4)).await;
        // Blocking connects: the handshakes complete in the kernel's backlog while the server
        // task has not run yet.
        let mut held = Vec::new();
        for _ in 0..40 {
            held.push(std::net::TcpStream::connect(addr).unwrap());
        }
        let answer = healthz(addr).await;
        assert!(answer.ends_with("ok\n"), "{answer}");
        drop(held);
        server.abort();
    }

    #[tokio::test]
    async fn a_connection_ends_at_its_lifetime_whatever_it_does() {
        let mut l = limits(4);
        l.max_lifetime = Duration::from_millis(500);
        l.header_read_timeout = Duration::from_secs(60);
        let (addr, server) = start(l).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        let t = closed_within(&mut s).await.expect("closed");
        assert!(t < Duration::from_secs(2), "closed after {t:?}");
        server.abort();
    }
}
