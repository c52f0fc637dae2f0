//! Reply bodies are bounded: read as a stream, counted after
//! decompression, and a body over `max_body_bytes` fails as `body_too_large`, retried like any
//! other failure. Local servers on 127.0.0.1:0 serve a gzip bomb and a plain huge body.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::response::Response;
use tthc_sync::http::{host_key, Body, FailReason, HttpClient, HttpError, HttpPolicy, Request};

/// A server that answers every request with `body`, under `Content-Encoding: gzip` when
/// `gzip`; returns its URL and its hit counter.
async fn serve(body: Vec<u8>, gzip: bool) -> (String, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let body = Arc::new(body);
    let app = axum::Router::new().fallback(move || {
        let (h, body) = (h.clone(), body.clone());
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            let mut b = Response::builder()
                .status(200)
                .header("content-type", "application/json");
            if gzip {
                b = b.header("content-encoding", "gzip");
            }
            b.body(axum::body::Body::from(body.as_ref().clone()))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/api/TraCuuHoSo"), hits)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A JSON document of exactly `n` bytes: `{"result":"xxx…"}`.
fn json_of(n: usize) -> Vec<u8> {
    let mut v = b"{\"result\":\"".to_vec();
    v.resize(n - 2, b'x');
    v.extend_from_slice(b"\"}");
    v
}

fn client(cap: u64) -> HttpClient {
    HttpClient::new(&HttpPolicy {
        connect_timeout_secs: 5.0,
        request_timeout_secs: 30.0,
        max_retries: 2,
        backoff_initial_ms: 1,
        backoff_max_ms: 4,
        rate_per_second: 0.0,
        max_in_flight_per_host: 4,
        breaker_threshold: 100,
        max_body_bytes: Some(cap),
        ..HttpPolicy::default()
    })
    .unwrap()
}

fn get(url: &str) -> Request {
    Request {
        method: reqwest::Method::GET,
        url: url.to_string(),
        headers: Vec::new(),
        body: Body::None,
        label: "TraCuuHoSo".into(),
        key: None,
    }
}

/// The failure every attempt of a too-large reply ends with, checked: three attempts
/// (`max_retries` 2), the reason `body_too_large` in the error and the counters, and a
/// message that names the cap and the config key.
async fn assert_too_large(client: &HttpClient, url: &str, hits: &AtomicU32, cap: u64) {
    let err = client.send_json(&get(url)).await.unwrap_err();
    assert!(
        matches!(&err, HttpError::GaveUp { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.reason(), Some(FailReason::BodyTooLarge));
    assert_eq!(FailReason::BodyTooLarge.to_string(), "body_too_large");
    let text = err.to_string();
    assert!(
        text.contains(&format!("more than {cap} bytes")) && text.contains("max_body_bytes"),
        "{text}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "retried like any other failure"
    );
    let h = client.stats().hosts[&host_key(url)].clone();
    assert_eq!(h.failures.get("body_too_large"), Some(&3));
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_at_the_cap_after_decompression() {
    let cap = 1 << 20;
    // 24 MiB of JSON in about 24 KiB on the wire: under the cap compressed, far over it
    // decompressed (a real bomb is only larger; compressing one takes long in a debug build).
    // Read whole it would take 24 MiB; the client stops after 1 MiB.
    let bomb = gzip(&json_of(24 << 20));
    assert!(bomb.len() < cap as usize, "{} bytes compressed", bomb.len());
    let (url, hits) = serve(bomb, true).await;
    assert_too_large(&client(cap), &url, &hits, cap).await;

    // The same document, small enough decompressed, is read.
    let (url, _) = serve(gzip(&json_of(cap as usize)), true).await;
    let reply = client(cap).send_json(&get(&url)).await.unwrap();
    assert_eq!(
        reply.value["result"].as_str().unwrap().len(),
        cap as usize - 13
    );
}

#[tokio::test]
async fn a_plain_huge_body_fails_as_body_too_large() {
    let cap = 64 << 10;
    let (url, hits) = serve(json_of(8 << 20), false).await;
    assert_too_large(&client(cap), &url, &hits, cap).await;
    // A body of exactly the cap is read.
    let (url, _) = serve(json_of(cap as usize), false).await;
    client(cap).send_json(&get(&url)).await.unwrap();
}

#[test]
fn the_cap_is_checked_naming_the_key() {
    for bad in [0, 1023, (1 << 30) + 1] {
        let p = HttpPolicy {
            max_body_bytes: Some(bad),
            ..HttpPolicy::default()
        };
        let err = p.validate("national.http").unwrap_err();
        assert!(err.contains("national.http.max_body_bytes"), "{err}");
    }
}
