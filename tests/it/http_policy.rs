//! The HTTP policy against local servers on 127.0.0.1:0. No assertion depends on how fast the
//! machine is: delays are checked through the client's counters, and elapsed time only as a
//! lower bound that the rate limiter guarantees.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use tthc_sync::http::{
    host_key, Body, FailReason, HttpClient, HttpError, HttpPolicy, JsonReply, Request,
};

/// One scripted reply; the last one repeats.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    delay: Duration,
}

fn reply(status: u16, body: &'static str) -> Reply {
    Reply {
        status,
        body,
        headers: Vec::new(),
        delay: Duration::ZERO,
    }
}

struct Script {
    replies: Mutex<VecDeque<Reply>>,
    hits: AtomicU32,
}

struct Server {
    url: String,
    script: Arc<Script>,
}

impl Server {
    fn hits(&self) -> u32 {
        self.script.hits.load(Ordering::SeqCst)
    }
}

async fn serve(replies: Vec<Reply>) -> Server {
    let script = Arc::new(Script {
        replies: Mutex::new(replies.into()),
        hits: AtomicU32::new(0),
    });
    let s = script.clone();
    let app = axum::Router::new().fallback(move || {
        let s = s.clone();
        async move {
            s.hits.fetch_add(1, Ordering::SeqCst);
            let r = {
                let mut q = s.replies.lock().unwrap();
                if q.len() > 1 {
                    q.pop_front().unwrap()
                } else {
                    q.front().cloned().unwrap()
                }
            };
            if !r.delay.is_zero() {
                tokio::time::sleep(r.delay).await;
            }
            let mut b = Response::builder().status(StatusCode::from_u16(r.status).unwrap());
            for (k, v) in &r.headers {
                b = b.header(*k, *v);
            }
            b.body(axum::body::Body::from(r.body)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        url: format!("http://{addr}/api/TraCuuHoSo"),
        script,
    }
}

/// A policy with tiny backoffs, no rate limit and a breaker that stays out of the way.
fn policy() -> HttpPolicy {
    HttpPolicy {
        connect_timeout_secs: 5.0,
        request_timeout_secs: 10.0,
        max_retries: 3,
        backoff_initial_ms: 1,
        backoff_max_ms: 4,
        jitter: 0.5,
        rate_per_second: 0.0,
        burst: 1,
        max_in_flight_per_host: 4,
        breaker_threshold: 100,
        ..HttpPolicy::default()
    }
}

fn get(url: &str) -> Request {
    Request {
        method: reqwest::Method::GET,
        url: url.to_string(),
        headers: Vec::new(),
        body: Body::None,
        label: "TraCuuHoSo".to_string(),
        key: None,
    }
}

/// A request the breaker knows by `key` (as a look-up is known by its dossier code).
fn keyed(url: &str, key: &str) -> Request {
    Request {
        key: Some(key.to_string()),
        ..get(url)
    }
}

/// A server that answers 502 on paths starting with `/bad` and `{}` elsewhere, counting hits.
async fn serve_by_path() -> (String, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            let status = if uri.path().starts_with("/bad") {
                StatusCode::BAD_GATEWAY
            } else {
                StatusCode::OK
            };
            let body = if status == StatusCode::OK {
                "{}"
            } else {
                "<html>502</html>"
            };
            Response::builder()
                .status(status)
                .body(axum::body::Body::from(body))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn server_error_then_ok_succeeds_after_one_retry() {
    let srv = serve(vec![reply(500, "oops"), reply(200, r#"{"error_code":0}"#)]).await;
    let client = HttpClient::new(&policy()).unwrap();
    let JsonReply { status, value } = client.send_json(&get(&srv.url)).await.unwrap();
    assert_eq!((status, value["error_code"].as_i64()), (200, Some(0)));
    assert_eq!(srv.hits(), 2);
    let stats = client.stats();
    let h = stats.host(&host_key(&srv.url)).unwrap();
    assert_eq!((h.requests, h.retries, h.give_ups), (2, 1, 0));
    assert_eq!(h.failures.get("http_500"), Some(&1));
}

#[tokio::test]
async fn always_503_gives_up_after_max_retries_plus_one_attempts() {
    let srv = serve(vec![reply(503, "busy")]).await;
    let client = HttpClient::new(&policy()).unwrap();
    let err = client.send_json(&get(&srv.url)).await.unwrap_err();
    match &err {
        HttpError::GaveUp { attempts, last, .. } => {
            assert_eq!(*attempts, 4);
            assert!(matches!(**last, HttpError::Status { status: 503, .. }));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.reason(), Some(FailReason::Status(503)));
    assert_eq!(srv.hits(), 4);
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert_eq!((h.requests, h.retries, h.give_ups), (4, 3, 1));
    assert!(!h.breaker_opened);
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let mut first = reply(429, "slow down");
    first.headers.push(("retry-after", "1"));
    let srv = serve(vec![first, reply(200, "{}")]).await;
    let client = HttpClient::new(&policy()).unwrap();
    client.send_json(&get(&srv.url)).await.unwrap();
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert_eq!(h.retry_after_honoured, 1);
    // The computed backoff would be ≤ 4 ms; Retry-After asked for 1 s.
    assert_eq!(h.last_backoff_ms, 1000);
    assert_eq!(srv.hits(), 2);
}

#[tokio::test]
async fn retry_after_is_capped() {
    let mut first = reply(503, "maintenance");
    first
        .headers
        .push(("retry-after", "Fri, 31 Dec 2100 23:59:59 GMT"));
    let srv = serve(vec![first, reply(200, "{}")]).await;
    let client = HttpClient::new(&HttpPolicy {
        retry_after_max_secs: 1,
        ..policy()
    })
    .unwrap();
    client.send_json(&get(&srv.url)).await.unwrap();
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert_eq!((h.retry_after_honoured, h.last_backoff_ms), (1, 1000));
}

#[tokio::test]
async fn other_4xx_are_returned_not_retried() {
    for status in [400, 401, 404] {
        let srv = serve(vec![reply(status, r#"{"message":"no"}"#)]).await;
        let client = HttpClient::new(&policy()).unwrap();
        let r = client.send_json(&get(&srv.url)).await.unwrap();
        assert_eq!(r.status, status);
        assert_eq!(r.value["message"], "no");
        assert_eq!(srv.hits(), 1, "{status}");
    }
    // A 4xx with an HTML body is an error, still not retried.
    let srv = serve(vec![reply(404, "<html>not found</html>")]).await;
    let client = HttpClient::new(&policy()).unwrap();
    let err = client.send_json(&get(&srv.url)).await.unwrap_err();
    assert!(
        matches!(err, HttpError::Status { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(srv.hits(), 1);
}

#[tokio::test]
async fn html_with_200_is_retried_then_gives_up_as_bad_body() {
    let srv = serve(vec![reply(200, "<html><body>Gateway error</body></html>")]).await;
    let client = HttpClient::new(&HttpPolicy {
        max_retries: 2,
        ..policy()
    })
    .unwrap();
    let err = client.send_json(&get(&srv.url)).await.unwrap_err();
    assert!(
        matches!(&err, HttpError::GaveUp { attempts: 3, last, .. }
            if matches!(**last, HttpError::BadBody { .. })),
        "{err:?}"
    );
    assert_eq!(err.reason(), Some(FailReason::BadBody));
    assert_eq!(srv.hits(), 3);
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert_eq!(h.failures.get("bad_body"), Some(&3));
}

#[tokio::test]
async fn slow_reply_is_a_transport_timeout() {
    let mut slow = reply(200, "{}");
    slow.delay = Duration::from_secs(30);
    let srv = serve(vec![slow]).await;
    let client = HttpClient::new(&HttpPolicy {
        request_timeout_secs: 0.2,
        max_retries: 1,
        ..policy()
    })
    .unwrap();
    let err = client.send_json(&get(&srv.url)).await.unwrap_err();
    match &err {
        HttpError::GaveUp { attempts, last, .. } => {
            assert_eq!(*attempts, 2);
            assert!(matches!(**last, HttpError::Transport { .. }), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.reason(), Some(FailReason::Timeout));
    assert_eq!(
        client.stats().hosts[&host_key(&srv.url)]
            .failures
            .get("timeout"),
        Some(&2)
    );
}

#[tokio::test]
async fn connection_reset_is_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepts = Arc::new(AtomicU32::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let n = a.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            if n == 0 {
                drop(sock); // accept, read, hang up without a reply
            } else {
                let body = r#"{"error_code":"00"}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        }
    });
    let url = format!("http://{addr}/api");
    let client = HttpClient::new(&policy()).unwrap();
    let r = client.send_json(&get(&url)).await.unwrap();
    assert_eq!(r.value["error_code"], "00");
    assert_eq!(accepts.load(Ordering::SeqCst), 2);
    let h = client.stats().hosts[&host_key(&url)].clone();
    assert_eq!(h.retries, 1);
    assert_eq!(h.failures.get("reset"), Some(&1), "{h:?}");
}

#[tokio::test]
async fn refused_connection_is_a_connect_failure() {
    // Bind and drop a listener so the port is (very likely) closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/api");
    let client = HttpClient::new(&HttpPolicy {
        max_retries: 1,
        ..policy()
    })
    .unwrap();
    let err = client.send_json(&get(&url)).await.unwrap_err();
    assert_eq!(err.reason(), Some(FailReason::Connect), "{err:?}");
}

/// A host that is down (every request fails): the breaker opens at the threshold's distinct
/// request, each of the ones before it having had its retries; then every call fails fast.
#[tokio::test]
async fn a_host_that_is_down_opens_the_breaker_after_threshold_requests_then_fails_fast() {
    let srv = serve(vec![reply(503, "down")]).await;
    let client = HttpClient::new(&HttpPolicy {
        breaker_threshold: 3,
        max_retries: 2,
        ..policy()
    })
    .unwrap();
    // Two different requests: each is retried in full, the breaker stays closed.
    for (n, key) in ["a", "b"].into_iter().enumerate() {
        let err = client.send_json(&keyed(&srv.url, key)).await.unwrap_err();
        assert!(
            matches!(err, HttpError::GaveUp { attempts: 3, .. }),
            "{err:?}"
        );
        assert_eq!(srv.hits(), 3 * (n as u32 + 1));
        assert!(!client.breaker_open(&srv.url));
    }
    // The third different request in a row opens it at its first failure.
    let err = client.send_json(&keyed(&srv.url, "c")).await.unwrap_err();
    assert!(
        matches!(err, HttpError::GaveUp { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(srv.hits(), 7);
    assert!(client.breaker_open(&srv.url));
    // A clone shares the breaker; nothing more reaches the server.
    let clone = client.clone();
    for c in [&client, &clone] {
        let err = c.send_json(&keyed(&srv.url, "d")).await.unwrap_err();
        assert!(
            matches!(&err, HttpError::CircuitOpen { failures: 3, .. }),
            "{err:?}"
        );
        assert!(err.is_circuit_open());
    }
    assert_eq!(srv.hits(), 7);
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert!(h.breaker_opened);
    assert_eq!(h.breaker_openings, 1);
    assert_eq!((h.breaker_rejected, h.give_ups), (2, 3));
    // A new run closes it.
    client.begin_run();
    assert!(!client.breaker_open(&srv.url));
    client.send_json(&keyed(&srv.url, "e")).await.unwrap_err();
    assert_eq!(srv.hits(), 10, "sent again, with its retries");
}

/// Why the breaker counts requests: one record the portal always fails (a gateway's 502 for
/// that code) never opens the breaker, whatever `max_retries` is, as long as other requests
/// get through between; two different failing requests in a row do.
#[tokio::test]
async fn one_request_that_always_fails_never_opens_the_breaker() {
    let (base, hits) = serve_by_path().await;
    let client = HttpClient::new(&HttpPolicy {
        breaker_threshold: 2,
        max_retries: 10,
        ..policy()
    })
    .unwrap();
    let bad = format!("{base}/bad/api");
    let ok = format!("{base}/api");
    // Its 11 attempts, and the same request again: one failure for the breaker.
    for _ in 0..3 {
        let err = client
            .send_json(&keyed(&bad, "000.00.11.H18-260310-0001"))
            .await;
        assert!(
            matches!(err, Err(HttpError::GaveUp { attempts: 11, .. })),
            "{err:?}"
        );
        assert!(!client.breaker_open(&bad));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 33);
    // Other dossiers read fine between its tries.
    for i in 0..5 {
        client
            .send_json(&keyed(&ok, &format!("ok-{i}")))
            .await
            .unwrap();
        let err = client
            .send_json(&keyed(&bad, "000.00.11.H18-260310-0001"))
            .await;
        assert!(matches!(err, Err(HttpError::GaveUp { .. })), "{err:?}");
    }
    assert!(!client.breaker_open(&bad));
    // Two different failing requests in a row: that is the threshold.
    let err = client
        .send_json(&keyed(&bad, "000.00.11.H18-260310-0002"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HttpError::GaveUp { attempts: 1, .. }),
        "{err:?}"
    );
    assert!(client.breaker_open(&ok), "one breaker per host");
    let h = client.stats().hosts[&host_key(&ok)].clone();
    assert_eq!((h.breaker_openings, h.breaker_rejected), (1, 0));
}

/// Without a key, the method, path, query and body name the request.
#[tokio::test]
async fn without_a_key_the_path_query_and_body_name_the_request() {
    let (base, _hits) = serve_by_path().await;
    let client = HttpClient::new(&HttpPolicy {
        breaker_threshold: 2,
        max_retries: 0,
        ..policy()
    })
    .unwrap();
    let page = |n: u32| get(&format!("{base}/bad/list?page={n}"));
    // The same page twice in a row: one request.
    for _ in 0..2 {
        client.send_json(&page(1)).await.unwrap_err();
    }
    assert!(!client.breaker_open(&base));
    // Another page: another request.
    client.send_json(&page(2)).await.unwrap_err();
    assert!(client.breaker_open(&base));
    // A body makes a request of its own too.
    client.begin_run();
    let post = |v: u32| Request {
        method: reqwest::Method::POST,
        body: Body::Json(serde_json::json!({ "month": v })),
        ..get(&format!("{base}/bad/scores"))
    };
    client.send_json(&post(10)).await.unwrap_err();
    client.send_json(&post(10)).await.unwrap_err();
    assert!(!client.breaker_open(&base));
    client.send_json(&post(11)).await.unwrap_err();
    assert!(client.breaker_open(&base));
}

/// Open, the breaker refuses requests for `breaker_cooldown_secs`; then one probe goes
/// through: a failed probe opens it again, a successful one closes it.
#[tokio::test]
async fn half_open_after_the_cooldown_a_probe_closes_or_reopens_it() {
    // Two failing requests open it, the first probe fails, the second succeeds.
    let srv = serve(vec![
        reply(503, "down"),
        reply(503, "down"),
        reply(503, "still down"),
        reply(200, "{}"),
    ])
    .await;
    let client = HttpClient::new(&HttpPolicy {
        breaker_threshold: 2,
        breaker_cooldown_secs: 1,
        max_retries: 0,
        ..policy()
    })
    .unwrap();
    for key in ["a", "b"] {
        client.send_json(&keyed(&srv.url, key)).await.unwrap_err();
    }
    assert!(client.breaker_open(&srv.url));
    let probe_at = client.breaker_probe_at(&srv.url).expect("open");
    let err = client.send_json(&keyed(&srv.url, "c")).await.unwrap_err();
    assert!(err.is_circuit_open(), "{err:?}");
    assert_eq!(srv.hits(), 2);

    tokio::time::sleep_until(probe_at).await;
    let err = client.send_json(&keyed(&srv.url, "c")).await.unwrap_err();
    assert!(
        matches!(err, HttpError::GaveUp { attempts: 1, .. }),
        "the probe was sent and failed: {err:?}"
    );
    assert_eq!(srv.hits(), 3);
    let again = client.breaker_probe_at(&srv.url).expect("open again");
    assert!(again > probe_at);
    assert!(client
        .send_json(&keyed(&srv.url, "d"))
        .await
        .unwrap_err()
        .is_circuit_open());

    tokio::time::sleep_until(again).await;
    client.send_json(&keyed(&srv.url, "d")).await.unwrap();
    assert!(!client.breaker_open(&srv.url), "the probe succeeded");
    client.send_json(&keyed(&srv.url, "e")).await.unwrap();
    assert_eq!(srv.hits(), 5);
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert_eq!(
        (h.breaker_openings, h.breaker_probes, h.breaker_rejected),
        (2, 2, 2)
    );
}

#[tokio::test]
async fn breaker_counts_consecutive_failures_only() {
    let ok = reply(200, "{}");
    let bad = reply(502, "bad gateway");
    let srv = serve(vec![
        bad.clone(),
        bad.clone(),
        ok.clone(),
        bad.clone(),
        bad.clone(),
        ok,
    ])
    .await;
    let client = HttpClient::new(&HttpPolicy {
        breaker_threshold: 3,
        ..policy()
    })
    .unwrap();
    client.send_json(&get(&srv.url)).await.unwrap();
    client.send_json(&get(&srv.url)).await.unwrap();
    assert!(!client.breaker_open(&srv.url));
    assert_eq!(srv.hits(), 6);
}

#[tokio::test]
async fn forbidden_counts_towards_the_breaker_without_retry() {
    let srv = serve(vec![reply(403, r#"{"message":"blocked"}"#)]).await;
    let client = HttpClient::new(&HttpPolicy {
        breaker_threshold: 2,
        ..policy()
    })
    .unwrap();
    for key in ["a", "b"] {
        let r = client.send_json(&keyed(&srv.url, key)).await.unwrap();
        assert_eq!(r.status, 403);
    }
    let err = client.send_json(&keyed(&srv.url, "c")).await.unwrap_err();
    assert!(err.is_circuit_open(), "{err:?}");
    assert_eq!(srv.hits(), 2);
}

#[tokio::test]
async fn rate_limit_is_per_host_and_shared_by_clones() {
    // 50/s with a burst of 2: 12 requests need at least 10 × 20 ms. Only a lower bound is
    // checked, which the limiter guarantees however fast or slow the machine is. The exact
    // 10/s, burst 2 → ≥ 1 s case runs on paused time in `http::limiter` unit tests.
    let srv = serve(vec![reply(200, "{}")]).await;
    let client = HttpClient::new(&HttpPolicy {
        rate_per_second: 50.0,
        burst: 2,
        ..policy()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let c = client.clone();
        let url = srv.url.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..6 {
                c.send_json(&get(&url)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(srv.hits(), 12);
    let h = client.stats().hosts[&host_key(&srv.url)].clone();
    assert_eq!(h.requests, 12);
    assert!(h.rate_wait_ms_total > 0);
}

#[test]
fn missing_ca_file_is_a_setup_error_naming_the_path() {
    let path = std::env::temp_dir().join("tthc-sync-no-such-dir/ca-bundle.pem");
    let err = HttpClient::new(&HttpPolicy {
        ca_file: Some(path.clone()),
        ..policy()
    })
    .err()
    .unwrap();
    assert!(matches!(&err, HttpError::Setup(m) if m.contains(&path.display().to_string())));
}

#[test]
fn ca_file_without_certificates_is_a_setup_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "this is not a certificate\n").unwrap();
    let err = HttpClient::new(&HttpPolicy {
        ca_file: Some(path.clone()),
        ..policy()
    })
    .err()
    .unwrap();
    assert!(
        matches!(&err, HttpError::Setup(m) if m.contains(&path.display().to_string())),
        "{err}"
    );
}

#[test]
fn invalid_policy_is_a_setup_error() {
    let err = HttpClient::new(&HttpPolicy {
        request_timeout_secs: -1.0,
        ..policy()
    })
    .err()
    .unwrap();
    assert!(
        matches!(&err, HttpError::Setup(m) if m.contains("request_timeout_secs")),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_url_is_not_retried() {
    let client = HttpClient::new(&policy()).unwrap();
    let err = client.send_json(&get("not a url")).await.unwrap_err();
    assert!(matches!(err, HttpError::Setup(_)), "{err:?}");
}
