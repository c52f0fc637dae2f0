//! The health endpoint cannot starve the service: `tthc-sync run` (the real binary, against the
//! simulators) with far more idle and half-sent connections held open on `/healthz`'s port than
//! its cap (32, `serve::Limits::SERVICE`) still answers a fresh `/healthz`, keeps its
//! open descriptors bounded, and keeps syncing.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::daemon_run::{free_port, integrity_ok, wait_for, Fixture};

/// The service's connection cap (`serve::Limits::SERVICE.max_connections`).
const CAP: usize = 32;

/// Open descriptors of a process (Linux).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Opens `n` connections: every third sends half a request head, the others nothing.
async fn hold(port: u16, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        if i % 3 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost:")
                .await
                .unwrap();
        }
        held.push(s);
    }
    held
}

/// Polls the held connections until at least `want` of them have been closed by the service
/// (a read sees the end), or 10 s pass; drops the closed ones and returns how many they were.
async fn wait_closed_by_server(held: &mut Vec<TcpStream>, want: usize) -> usize {
    let start = Instant::now();
    let mut closed = 0;
    while closed < want && start.elapsed() < Duration::from_secs(10) {
        let mut still_open = Vec::with_capacity(held.len());
        for mut s in held.drain(..) {
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(20), s.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => closed += 1,
                _ => still_open.push(s),
            }
        }
        *held = still_open;
    }
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_over_the_cap_starve_neither_healthz_nor_the_sync() {
    let fx = Fixture::new(91).await;
    let port = free_port();
    fx.write(
        fx.config(20)
            .set("daemon.http_listen", format!("127.0.0.1:{port}"))
            .set("daemon.sync_max_age_minutes", 90),
    );
    let mut svc = fx.start(&[]);
    wait_for(&mut svc, "a first sync run", || fx.sync_runs() >= 1).await;
    // A fresh connection per request: a kept-alive idle one is among the oldest, which the
    // service closes to make room.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let healthz = format!("http://127.0.0.1:{port}/healthz");
    let answer = client.get(&healthz).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let fds_before = open_fds(svc.pid());

    // Five times the cap, held open.
    let mut held = hold(port, 5 * CAP).await;
    let started = Instant::now();
    let answer = client
        .get(&healthz)
        .send()
        .await
        .unwrap_or_else(|e| panic!("/healthz with {} connections held: {e}", held.len()));
    let took = started.elapsed();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(body.starts_with("ok\n"), "{body}");
    assert!(took < Duration::from_secs(2), "/healthz took {took:?}");

    // The service holds at most the cap (and connections it is closing), not one per client.
    let fds_holding = open_fds(svc.pid());
    assert!(
        fds_holding <= fds_before + 2 * CAP,
        "{fds_holding} descriptors open while {} connections are held (before: {fds_before})",
        held.len()
    );
    // The oldest are closed to make room, idle and half-sent alike.
    let n = held.len();
    let closed = wait_closed_by_server(&mut held, n - CAP).await;
    assert!(
        closed >= n - CAP,
        "only {closed} of {n} held connections closed by the service"
    );

    // Still holding (and adding more): a sync cycle runs, /healthz still answers.
    let runs = fx.sync_runs();
    held.extend(hold(port, 2 * CAP).await);
    wait_for(&mut svc, "a sync run while connections are held", || {
        fx.sync_runs() > runs
    })
    .await;
    held.extend(hold(port, 2 * CAP).await);
    let answer = client.get(&healthz).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(open_fds(svc.pid()) <= fds_before + 2 * CAP);
    eprintln!(
        "health endpoint: {n} connections held, /healthz answered in {took:?}, {closed} \
         closed by the service, descriptors {fds_before} before, {fds_holding} while holding"
    );

    svc.signal("TERM");
    let status = svc.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}; stderr:\n{}", svc.stderr());
    integrity_ok(&fx.db());
}
