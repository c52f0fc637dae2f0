//! The one HTTP policy every portal client uses: timeouts, bounded retries with backoff,
//! and errors that say which host and what went wrong.
//!
//! Retryable: transport errors (connect, timeout, reset), HTTP 408, 429 and 5xx, and a 2xx
//! whose body is not the JSON the caller asked for. Never retried: other 4xx (the caller
//! decides, e.g. re-login on 401).

use std::time::Duration;

use serde::Deserialize;

/// Settings of the HTTP policy (config section `[http]`, overridable per portal).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpPolicy {
    /// Seconds to wait for a TCP/TLS connection.
    pub connect_timeout_secs: f64,
    /// Seconds to wait for a whole reply.
    pub request_timeout_secs: f64,
    /// Retries after the first attempt for a retryable failure.
    pub max_retries: u32,
    /// First backoff delay, in milliseconds; doubles on each retry up to `backoff_max_ms`.
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            connect_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
            max_retries: 3,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{host}: {what}")]
    Transport { host: String, what: String },
    #[error("{host}: HTTP {status}: {excerpt}")]
    Status {
        host: String,
        status: u16,
        excerpt: String,
    },
    #[error("{host}: reply is not JSON ({why}); starts with: {excerpt}")]
    BadBody {
        host: String,
        why: String,
        excerpt: String,
    },
    #[error("{host}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        host: String,
        attempts: u32,
        last: Box<HttpError>,
    },
    #[error("HTTP client setup: {0}")]
    Setup(String),
}

impl HttpError {
    fn retryable(&self) -> bool {
        match self {
            HttpError::Transport { .. } | HttpError::BadBody { .. } => true,
            HttpError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            HttpError::GaveUp { .. } | HttpError::Setup(_) => false,
        }
    }
}

/// What to send.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// What the call is, for logs (e.g. `TraCuuHoSo`, `dossier page 3`). Never a secret.
    pub label: String,
}

#[derive(Clone, Debug)]
pub enum Body {
    None,
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
}

/// A reply with a non-retryable status and a JSON body (the body is `Null` when empty).
#[derive(Clone, Debug)]
pub struct JsonReply {
    pub status: u16,
    pub value: serde_json::Value,
}

/// A client under the policy. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: HttpPolicy,
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_else(|| url.to_string())
}

fn excerpt(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl HttpClient {
    pub fn new(policy: &HttpPolicy) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs_f64(policy.connect_timeout_secs))
            .timeout(Duration::from_secs_f64(policy.request_timeout_secs))
            .user_agent(concat!("tthc-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Setup(e.to_string()))?;
        Ok(HttpClient {
            inner,
            policy: policy.clone(),
        })
    }

    /// Sends `req` under the policy and parses the reply as JSON. Retryable failures are
    /// retried with backoff; the last one is returned as [`HttpError::GaveUp`].
    pub async fn send_json(&self, req: &Request) -> Result<JsonReply, HttpError> {
        let host = host_of(&req.url);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = std::time::Instant::now();
            let result = self.attempt(req, &host).await;
            tracing::debug!(target: "http", host = %host, call = %req.label, attempt,
                ms = started.elapsed().as_millis() as u64,
                ok = result.is_ok(), "request");
            match result {
                Ok(r) => return Ok(r),
                Err(e) if e.retryable() && attempt <= self.policy.max_retries => {
                    let backoff = self
                        .policy
                        .backoff_initial_ms
                        .saturating_mul(1u64 << (attempt - 1).min(20))
                        .min(self.policy.backoff_max_ms);
                    tracing::warn!(target: "http", host = %host, call = %req.label, attempt,
                        error = %e, backoff_ms = backoff, "retrying");
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                Err(e) if e.retryable() => {
                    return Err(HttpError::GaveUp {
                        host,
                        attempts: attempt,
                        last: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn attempt(&self, req: &Request, host: &str) -> Result<JsonReply, HttpError> {
        let transport = |e: reqwest::Error| HttpError::Transport {
            host: host.to_string(),
            what: if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                format!("cannot connect: {e}")
            } else {
                format!("{e}")
            },
        };
        let mut rb = self.inner.request(req.method.clone(), &req.url);
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        rb = match &req.body {
            Body::None => rb,
            Body::Json(v) => rb.json(v),
            Body::Form(f) => rb.form(f),
        };
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(transport)?;
        if status == 408 || status == 429 || (500..600).contains(&status) {
            return Err(HttpError::Status {
                host: host.to_string(),
                status,
                excerpt: excerpt(&bytes),
            });
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(JsonReply {
                status,
                value: serde_json::Value::Null,
            });
        }
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(JsonReply { status, value }),
            Err(e) if (200..300).contains(&status) => Err(HttpError::BadBody {
                host: host.to_string(),
                why: e.to_string(),
                excerpt: excerpt(&bytes),
            }),
            Err(_) => Err(HttpError::Status {
                host: host.to_string(),
                status,
                excerpt: excerpt(&bytes),
            }),
        }
    }
}
