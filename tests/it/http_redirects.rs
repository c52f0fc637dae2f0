//! Credentials never leave for another origin on a redirect: a redirect
//! from one local server to another (another port: another origin, as another host or http
//! after https would be) is not followed, so neither the `Authorization` header nor a 307's
//! re-sent login body reaches the second server; a redirect within the origin is followed.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::response::Response;
use tthc_sync::http::{Body, HttpClient, HttpError, HttpPolicy, Request};

/// What the target server saw: for each request, its `Authorization` header and body.
type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;

/// A server that redirects (`status`, `Location: to`) every request whose path is not
/// `/target`, and answers `/target` with JSON, recording what it saw.
async fn serve(status: u16, to: Option<String>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: String| {
            let (s, to) = (s.clone(), to.clone());
            async move {
                if uri.path() == "/target" {
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_string());
                    s.lock().unwrap().push((auth, body));
                    return Response::builder()
                        .status(200)
                        .body(axum::body::Body::from("{\"ok\":true}"))
                        .unwrap();
                }
                let to = to.unwrap_or_else(|| "/target".into());
                Response::builder()
                    .status(status)
                    .header("location", to)
                    .body(axum::body::Body::empty())
                    .unwrap()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), seen)
}

fn login(url: &str) -> Request {
    Request {
        method: reqwest::Method::POST,
        url: format!("{url}/api/tokens"),
        headers: vec![("Authorization".into(), "Basic c2VjcmV0OnNlY3JldA==".into())],
        body: Body::Form(vec![("password".into(), "PASSWORD-MARK".into())]),
        label: "token".into(),
        key: None,
    }
}

fn client() -> HttpClient {
    HttpClient::new(&HttpPolicy {
        rate_per_second: 0.0,
        max_retries: 2,
        backoff_initial_ms: 1,
        backoff_max_ms: 2,
        ..HttpPolicy::default()
    })
    .unwrap()
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let (target, seen) = serve(307, None).await;
    for status in [301, 302, 303, 307, 308] {
        let (origin, own) = serve(status, Some(format!("{target}/target"))).await;
        let err = client().send_json(&login(&origin)).await.unwrap_err();
        assert!(
            matches!(&err, HttpError::Status { status: s, .. } if *s == status),
            "{status}: {err:?}"
        );
        assert!(err.to_string().contains("redirect not followed"), "{err}");
        assert!(own.lock().unwrap().is_empty());
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "the other origin got {:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed() {
    let (origin, seen) = serve(307, None).await;
    let reply = client().send_json(&login(&origin)).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.value["ok"], true);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    // Within the origin, a 307 re-sends the request whole, as HTTP says.
    assert!(seen[0].0.is_some() && seen[0].1.contains("PASSWORD-MARK"));
}
