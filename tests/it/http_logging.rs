//! The HTTP policy's log lines, captured through `support::logs` (the test process is shared:
//! see there).

use axum::http::StatusCode;
use tthc_sync::http::{Body, HttpClient, HttpPolicy, Request};

use crate::support::logs::Capture;

#[test]
fn give_up_is_logged_once_without_secrets() {
    let logs = Capture::new("http=trace");
    let runtime = tokio::runtime::Builder::new_current_thread();
    logs.block_on(runtime, give_up(&logs));
}

async fn give_up(logs: &Capture) {
    let app = axum::Router::new().fallback(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/login", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = HttpClient::new(&HttpPolicy {
        max_retries: 2,
        backoff_initial_ms: 1,
        backoff_max_ms: 2,
        rate_per_second: 0.0,
        ..HttpPolicy::default()
    })
    .unwrap();
    let req = Request {
        method: reqwest::Method::POST,
        url: format!("{url}?session=tok-s3cret"),
        headers: vec![("Cookie".into(), "JSESSIONID=cookie-s3cret".into())],
        body: Body::Form(vec![("password".into(), "hunter2".into())]),
        label: "DangNhap".into(),
        // The breaker's key names the request (a dossier code): never logged either.
        key: Some("key-s3cret".into()),
    };
    client.send_json(&req).await.unwrap_err();
    let text = logs.take();
    let give_ups: Vec<&str> = text.lines().filter(|l| l.contains("giving up")).collect();
    assert_eq!(give_ups.len(), 1, "{text}");
    for field in [
        "host=",
        "call=DangNhap",
        "attempts=3",
        "reason=http_503",
        "WARN",
    ] {
        assert!(
            give_ups[0].contains(field),
            "{field} missing: {}",
            give_ups[0]
        );
    }
    for secret in ["s3cret", "hunter2"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}
