//! The HTTP policy's log lines, in a test binary of their own: a tracing subscriber set for one
//! test cannot see callsites that concurrent tests in the same process cached as disabled.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tthc_sync::http::{Body, HttpClient, HttpPolicy, Request};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn give_up_is_logged_once_without_secrets() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("http=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

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
    };
    client.send_json(&req).await.unwrap_err();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
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
