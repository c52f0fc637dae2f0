//! The one HTTP policy every portal client uses (provincial and national): timeouts, bounded
//! retries with exponential backoff and jitter, `Retry-After`, a per-host rate limit with an
//! explicit burst, a per-host circuit breaker, counters, and errors that say which host and
//! what went wrong.
//!
//! The circuit breaker counts failed *requests*, not attempts (`breaker`): a request's
//! retries are not new failures, and it opens only after `breaker_threshold` distinct requests
//! (different dossiers, pages, months) failed in a row with no success between, so one record
//! that always fails never shuts the host out. Open, it refuses requests for
//! `breaker_cooldown_secs`, then lets one probe through: its success closes it, its failure
//! opens it again. [`HttpClient::begin_run`] closes it.
//!
//! Retryable: transport errors (connect, timeout, reset, truncated body, a body over
//! `max_body_bytes`), HTTP 408, 429 and 5xx, and a 2xx whose body is not JSON. Never retried:
//! other 4xx (the caller decides, e.g. re-login on 401).
//!
//! Bodies are read as a stream (decompressed as they come) and stop at `max_body_bytes`: a
//! huge reply or a decompression bomb costs at most that much memory.
//!
//! TLS: certificates are always verified (rustls, built-in web PKI roots); `ca_file` adds a
//! PEM bundle to the roots. There is deliberately no way to accept invalid certificates.
//!
//! Logging: one `debug` event per attempt (host, call label, attempt, status, duration), one
//! `warn` per give-up and per breaker opening. Request bodies, headers and URLs' paths and
//! queries are never logged.

mod backoff;
mod body;
mod breaker;
mod error;
mod limiter;
mod stats;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

pub use backoff::{backoff, retry_after};
use body::read_capped;
use breaker::{Admission, Breaker};
use error::transport;
pub use error::HttpError;
use limiter::TokenBucket;
pub use stats::{FailReason, HostStats, HttpStats};

/// Settings of the HTTP policy (config section `[http]`, overridable per portal).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpPolicy {
    /// Seconds to wait for a TCP/TLS connection.
    pub connect_timeout_secs: f64,
    /// Seconds to wait for a whole reply.
    pub request_timeout_secs: f64,
    /// Retries after the first attempt for a retryable failure (at most 10).
    pub max_retries: u32,
    /// First backoff delay, in milliseconds; doubles on each retry up to `backoff_max_ms`.
    pub backoff_initial_ms: u64,
    /// Longest backoff delay, in milliseconds.
    pub backoff_max_ms: u64,
    /// Fraction (0..=1) by which a backoff delay is randomly shortened.
    pub jitter: f64,
    /// Requests per second per host; 0 means unlimited.
    pub rate_per_second: f64,
    /// Requests a host may receive at once before `rate_per_second` applies (≥ 1).
    pub burst: u32,
    /// Requests in flight at once per host (≥ 1).
    pub max_in_flight_per_host: u32,
    /// Distinct requests to a host that must fail in a row (no success between) for its
    /// breaker to open; a request counts once however often it is retried, and the same
    /// request failing again does not lengthen the streak. Open, every call fails fast.
    pub breaker_threshold: u32,
    /// HTTP statuses that count as failures for the breaker even though they are not retried
    /// (e.g. 403). Transport failures, non-JSON 2xx, 408, 429 and 5xx always count.
    pub breaker_statuses: Vec<u16>,
    /// Seconds an open breaker refuses requests; then one probe request goes through: its
    /// success closes the breaker, its failure opens it for this long again (1..=3600).
    pub breaker_cooldown_secs: u64,
    /// Longest `Retry-After` honoured, in seconds; longer requests are cut to this.
    pub retry_after_max_secs: u64,
    /// PEM bundle of extra CA certificates to trust (added to the built-in roots).
    pub ca_file: Option<PathBuf>,
    /// Largest reply body read, in bytes, counted after decompression; a longer one fails
    /// as `body_too_large` (retried like any other failure, never stored). `None`: the
    /// portal's default ([`NATIONAL_MAX_BODY_BYTES`] for the national adapter,
    /// [`LIST_MAX_BODY_BYTES`] for the provincial list and the scores).
    pub max_body_bytes: Option<u64>,
}

/// Default `national.http.max_body_bytes`: a look-up reply is a few rows, a unit's
/// `DanhSachHoSo` listing a few thousand (8 MiB).
pub const NATIONAL_MAX_BODY_BYTES: u64 = 8 << 20;
/// Default `provincial.http.max_body_bytes` and `scores.http.max_body_bytes`: a page of
/// up to a few hundred full rows (32 MiB).
pub const LIST_MAX_BODY_BYTES: u64 = 32 << 20;
/// Bounds of `max_body_bytes` (1 KiB to 1 GiB).
const MAX_BODY_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1 << 10..=1 << 30;

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            connect_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
            max_retries: 3,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
            jitter: 0.2,
            rate_per_second: 2.0,
            burst: 1,
            max_in_flight_per_host: 1,
            breaker_threshold: 5,
            breaker_statuses: vec![403, 429],
            breaker_cooldown_secs: 60,
            retry_after_max_secs: 120,
            ca_file: None,
            max_body_bytes: None,
        }
    }
}

impl HttpPolicy {
    /// Checks the values; each message names the config key under `key_prefix`
    /// (e.g. `national.http`). Does not touch `ca_file` (see [`HttpClient::new`]).
    pub fn validate(&self, key_prefix: &str) -> Result<(), String> {
        let key = |k: &str| {
            if key_prefix.is_empty() {
                k.to_string()
            } else {
                format!("{key_prefix}.{k}")
            }
        };
        let secs = |k: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 86_400.0 {
                Ok(())
            } else {
                Err(format!(
                    "{} must be a number of seconds > 0 and ≤ 86400, not {v}",
                    key(k)
                ))
            }
        };
        secs("connect_timeout_secs", self.connect_timeout_secs)?;
        secs("request_timeout_secs", self.request_timeout_secs)?;
        if self.max_retries > 10 {
            return Err(format!("{} must be ≤ 10", key("max_retries")));
        }
        if self.backoff_initial_ms == 0 {
            return Err(format!("{} must be ≥ 1", key("backoff_initial_ms")));
        }
        if self.backoff_max_ms < self.backoff_initial_ms {
            return Err(format!(
                "{} must be ≥ {} ({})",
                key("backoff_max_ms"),
                key("backoff_initial_ms"),
                self.backoff_initial_ms
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!(
                "{} must be between 0 and 1, not {}",
                key("jitter"),
                self.jitter
            ));
        }
        if !(self.rate_per_second.is_finite() && self.rate_per_second >= 0.0) {
            return Err(format!(
                "{} must be ≥ 0 (0 = unlimited), not {}",
                key("rate_per_second"),
                self.rate_per_second
            ));
        }
        if self.burst < 1 {
            return Err(format!("{} must be ≥ 1", key("burst")));
        }
        if self.max_in_flight_per_host < 1 {
            return Err(format!("{} must be ≥ 1", key("max_in_flight_per_host")));
        }
        if self.breaker_threshold < 1 {
            return Err(format!("{} must be ≥ 1", key("breaker_threshold")));
        }
        if let Some(s) = self
            .breaker_statuses
            .iter()
            .find(|s| !(400..=599).contains(*s))
        {
            return Err(format!(
                "{} holds {s}; only HTTP statuses 400..=599 are allowed",
                key("breaker_statuses")
            ));
        }
        if !(1..=3600).contains(&self.breaker_cooldown_secs) {
            return Err(format!(
                "{} must be 1..=3600 seconds, not {}",
                key("breaker_cooldown_secs"),
                self.breaker_cooldown_secs
            ));
        }
        if self.retry_after_max_secs < 1 {
            return Err(format!("{} must be ≥ 1", key("retry_after_max_secs")));
        }
        if let Some(n) = self
            .max_body_bytes
            .filter(|n| !MAX_BODY_BYTES_RANGE.contains(n))
        {
            return Err(format!(
                "{} must be between {} and {} bytes, not {n}",
                key("max_body_bytes"),
                MAX_BODY_BYTES_RANGE.start(),
                MAX_BODY_BYTES_RANGE.end()
            ));
        }
        if self
            .ca_file
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(format!("{} must not be empty", key("ca_file")));
        }
        Ok(())
    }
}

/// What to send.
#[derive(Clone, Debug)]
pub struct Request {
    /// GET or POST.
    pub method: reqwest::Method,
    /// The full URL; its host selects the limits, breaker and counters.
    pub url: String,
    /// Headers as `(name, value)`; never logged (they may carry a token).
    pub headers: Vec<(String, String)>,
    /// The body; never logged.
    pub body: Body,
    /// What the call is, for logs (e.g. `TraCuuHoSo`, `dossier page 3`). Never a secret.
    pub label: String,
    /// What the request is about, for the circuit breaker: requests with the same key are the
    /// same request (a dossier code for a look-up, a unit and dates for a list). `None`: the
    /// method, path, query and body. Never logged.
    pub key: Option<String>,
}

impl Request {
    /// The breaker's key of this request ([`Request::key`], else a hash of the method, path,
    /// query and body).
    fn breaker_key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match &self.key {
            Some(k) => {
                0u8.hash(&mut h);
                k.hash(&mut h);
            }
            None => {
                1u8.hash(&mut h);
                self.method.as_str().hash(&mut h);
                match reqwest::Url::parse(&self.url) {
                    Ok(u) => {
                        u.path().hash(&mut h);
                        u.query().hash(&mut h);
                    }
                    Err(_) => self.url.hash(&mut h),
                }
                match &self.body {
                    Body::None => {}
                    Body::Json(v) => v.to_string().hash(&mut h),
                    Body::Form(f) => f.hash(&mut h),
                }
            }
        }
        h.finish()
    }
}

/// A request's body.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body (GET).
    None,
    /// A JSON body (`Content-Type: application/json`).
    Json(serde_json::Value),
    /// A form body (`application/x-www-form-urlencoded`), as `(name, value)` pairs.
    Form(Vec<(String, String)>),
}

/// A reply with a non-retryable status and a JSON body (the body is `Null` when empty).
#[derive(Clone, Debug)]
pub struct JsonReply {
    /// The HTTP status: 2xx, or another status that is not retried (e.g. 401, 404) with a
    /// JSON or empty body; the caller decides.
    pub status: u16,
    /// The parsed body; `Null` when it was empty.
    pub value: serde_json::Value,
}

/// The key a host's limits, breaker and counters are kept under: `host:port`.
pub fn host_key(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| key_of(&u))
        .unwrap_or_else(|| "invalid-url".to_string())
}

fn key_of(u: &reqwest::Url) -> String {
    format!(
        "{}:{}",
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

/// What a body is, without its content: `an HTML page of 512 bytes`, `812 bytes`.
fn describe(bytes: &[u8]) -> String {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'<') => format!("an HTML/XML page of {} bytes", bytes.len()),
        Some(b'{') | Some(b'[') => format!("{} bytes of broken JSON", bytes.len()),
        _ => format!("{} bytes", bytes.len()),
    }
}

/// A non-2xx body, quoted bounded (an error page's text says what went wrong).
fn excerpt(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    crate::quote::bounded(&s, EXCERPT_CHARS)
}

/// Longest quote of a non-2xx body in an error, in characters.
const EXCERPT_CHARS: usize = 120;

/// One host's shared state: rate limit, in-flight limit, breaker and counters.
struct Host {
    bucket: TokenBucket,
    in_flight: tokio::sync::Semaphore,
    state: Mutex<HostState>,
}

struct HostState {
    breaker: Breaker,
    stats: HostStats,
}

impl Host {
    fn lock(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Shared {
    policy: HttpPolicy,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl Shared {
    fn host(&self, key: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key.to_string())
            .or_insert_with(|| {
                Arc::new(Host {
                    bucket: TokenBucket::new(self.policy.rate_per_second, self.policy.burst),
                    in_flight: tokio::sync::Semaphore::new(
                        self.policy.max_in_flight_per_host.max(1) as usize,
                    ),
                    state: Mutex::new(HostState {
                        breaker: Breaker::new(
                            self.policy.breaker_threshold,
                            Duration::from_secs(self.policy.breaker_cooldown_secs),
                        ),
                        stats: HostStats::default(),
                    }),
                })
            })
            .clone()
    }
}

/// A client under the policy. Cheap to clone; clones share the per-host rate limit, breaker
/// and counters. [`HttpClient::begin_run`] closes every breaker.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    shared: Arc<Shared>,
}

/// A failed attempt and the `Retry-After` delay its reply asked for, if any.
struct Failure {
    error: HttpError,
    retry_after: Option<Duration>,
}

impl HttpClient {
    /// A client under `policy`; its host table starts empty. Fails when the policy is
    /// invalid or `ca_file` cannot be read.
    pub fn new(policy: &HttpPolicy) -> Result<Self, HttpError> {
        policy.validate("http").map_err(HttpError::Setup)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs_f64(policy.connect_timeout_secs))
            .timeout(Duration::from_secs_f64(policy.request_timeout_secs))
            .user_agent(concat!("tthc-sync/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect_policy())
            .tls_built_in_root_certs(true);
        if let Some(path) = &policy.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                HttpError::Setup(format!("cannot read CA bundle {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                HttpError::Setup(format!(
                    "CA bundle {} is not valid PEM: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(HttpError::Setup(format!(
                    "CA bundle {} holds no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let inner = builder.build().map_err(|e| {
            HttpError::Setup(match &policy.ca_file {
                Some(p) => format!("{e} (with CA bundle {})", p.display()),
                None => e.to_string(),
            })
        })?;
        Ok(HttpClient {
            inner,
            shared: Arc::new(Shared {
                policy: policy.clone(),
                hosts: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A snapshot of the per-host counters.
    pub fn stats(&self) -> HttpStats {
        let hosts = self.shared.hosts.lock().unwrap_or_else(|p| p.into_inner());
        HttpStats {
            hosts: hosts
                .iter()
                .map(|(k, h)| (k.clone(), h.lock().stats.clone()))
                .collect(),
        }
    }

    /// Starts a new run: closes every breaker. Counters are cumulative and kept.
    pub fn begin_run(&self) {
        let hosts = self.shared.hosts.lock().unwrap_or_else(|p| p.into_inner());
        for h in hosts.values() {
            h.lock().breaker.reset();
        }
    }

    fn host_of(&self, url: &str) -> Option<Arc<Host>> {
        let key = host_key(url);
        let hosts = self.shared.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts.get(&key).cloned()
    }

    /// True when the breaker for `url`'s host is open (refusing requests, or waiting for its
    /// probe's outcome).
    pub fn breaker_open(&self, url: &str) -> bool {
        self.host_of(url)
            .is_some_and(|h| h.lock().breaker.is_open())
    }

    /// When the open breaker of `url`'s host lets a probe request through; `None` when it is
    /// closed or a probe is in flight.
    pub fn breaker_probe_at(&self, url: &str) -> Option<tokio::time::Instant> {
        self.host_of(url).and_then(|h| h.lock().breaker.probe_at())
    }

    /// Sends `req` under the policy and parses the reply as JSON. Retryable failures are
    /// retried with backoff; the last one is returned as [`HttpError::GaveUp`]. While the
    /// host's breaker is open, a request is refused without being sent
    /// ([`HttpError::CircuitOpen`]); a request already tried stops retrying
    /// ([`HttpError::GaveUp`]).
    pub async fn send_json(&self, req: &Request) -> Result<JsonReply, HttpError> {
        let policy = &self.shared.policy;
        let url = reqwest::Url::parse(&req.url)
            .map_err(|e| HttpError::Setup(format!("call {}: invalid URL: {e}", req.label)))?;
        let host_name = key_of(&url);
        let host = self.shared.host(&host_name);
        let key = req.breaker_key();
        // Whether this request already counted for the breaker (once, at its first failure).
        let mut counted = false;
        let mut last_error: Option<HttpError> = None;
        let mut attempt = 0u32;
        loop {
            let admission = {
                let mut st = host.lock();
                let a = st.breaker.admit(tokio::time::Instant::now());
                match a {
                    Admission::Refuse { .. } => st.stats.breaker_rejected += 1,
                    Admission::Probe => st.stats.breaker_probes += 1,
                    Admission::Send => {}
                }
                a
            };
            if let Admission::Refuse { failures } = admission {
                tracing::debug!(target: "http", host = %host_name, call = %req.label,
                    "refused: circuit breaker open");
                return Err(match last_error {
                    // Tried and failed before the breaker opened: it gives up.
                    Some(last) => {
                        host.lock().stats.give_ups += 1;
                        HttpError::GaveUp {
                            host: host_name,
                            attempts: attempt,
                            last: Box::new(last),
                        }
                    }
                    None => HttpError::CircuitOpen {
                        host: host_name,
                        failures,
                    },
                });
            }
            let probe = admission == Admission::Probe;
            let mut probe_guard = ProbeGuard {
                host: &host,
                pending: probe,
            };
            attempt += 1;
            let permit = host.in_flight.acquire().await;
            let waited = host.bucket.acquire().await;
            let started = tokio::time::Instant::now();
            let result = self.attempt(req, url.clone(), &host_name).await;
            drop(permit);
            let ms = started.elapsed().as_millis() as u64;
            match &result {
                Ok(r) => tracing::debug!(target: "http", host = %host_name, call = %req.label,
                    attempt, status = r.status, ms, "request"),
                Err(f) => tracing::debug!(target: "http", host = %host_name, call = %req.label,
                    attempt, reason = %f.error.reason().map(|r| r.to_string()).unwrap_or_default(),
                    ms, "request failed"),
            }

            // Book-keeping: counters and the breaker.
            let counts_as_failure = match &result {
                Ok(r) => policy.breaker_statuses.contains(&r.status),
                Err(f) => {
                    f.error.retryable()
                        || matches!(f.error, HttpError::Status { status, .. }
                            if policy.breaker_statuses.contains(&status))
                }
            };
            let reason = match &result {
                Ok(r) => FailReason::Status(r.status),
                Err(f) => f.error.reason().unwrap_or(FailReason::Reset),
            };
            let (opened_now, closed_now, still_open) = {
                let mut st = host.lock();
                st.stats.requests += 1;
                st.stats.rate_wait_ms_total += waited.as_millis() as u64;
                let (opened, closed) = if counts_as_failure {
                    *st.stats.failures.entry(reason.to_string()).or_default() += 1;
                    // A request counts once: its first failure (or a probe's).
                    let opened = if probe || !counted {
                        counted = true;
                        st.breaker.failure(key, probe, tokio::time::Instant::now())
                    } else {
                        false
                    };
                    if opened {
                        st.stats.breaker_opened = true;
                        st.stats.breaker_openings += 1;
                    }
                    (opened, false)
                } else {
                    (false, st.breaker.success())
                };
                probe_guard.pending = false;
                (opened, closed, st.breaker.is_open())
            };
            if opened_now {
                tracing::warn!(target: "http", host = %host_name, call = %req.label,
                    probe, last_reason = %reason, cooldown_secs = policy.breaker_cooldown_secs,
                    "circuit breaker open: requests to this host refused until a probe succeeds");
            } else if closed_now {
                tracing::info!(target: "http", host = %host_name, call = %req.label,
                    "circuit breaker closed: the host answered");
            }

            let failure = match result {
                Ok(r) => return Ok(r),
                Err(f) if !f.error.retryable() => return Err(f.error),
                Err(f) => f,
            };
            if still_open || attempt > policy.max_retries {
                host.lock().stats.give_ups += 1;
                tracing::warn!(target: "http", host = %host_name, call = %req.label,
                    attempts = attempt, reason = %reason, breaker_open = still_open,
                    "giving up");
                return Err(HttpError::GaveUp {
                    host: host_name,
                    attempts: attempt,
                    last: Box::new(failure.error),
                });
            }
            let honoured = failure
                .retry_after
                .map(|d| d.min(Duration::from_secs(policy.retry_after_max_secs)));
            let delay = honoured.unwrap_or_else(|| {
                backoff(
                    policy.backoff_initial_ms,
                    policy.backoff_max_ms,
                    attempt,
                    policy.jitter,
                    fastrand::f64(),
                )
            });
            {
                let mut st = host.lock();
                st.stats.retries += 1;
                st.stats.backoff_ms_total += delay.as_millis() as u64;
                st.stats.last_backoff_ms = delay.as_millis() as u64;
                if honoured.is_some() {
                    st.stats.retry_after_honoured += 1;
                }
            }
            if honoured.is_some() {
                // Clones talking to the same host wait too.
                host.bucket.hold_until(tokio::time::Instant::now() + delay);
            }
            last_error = Some(failure.error);
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        req: &Request,
        url: reqwest::Url,
        host: &str,
    ) -> Result<JsonReply, Failure> {
        let fail = |error| Failure {
            error,
            retry_after: None,
        };
        let mut rb = self.inner.request(req.method.clone(), url);
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        rb = match &req.body {
            Body::None => rb,
            Body::Json(v) => rb.json(v),
            Body::Form(f) => rb.form(f),
        };
        let resp = rb
            .send()
            .await
            .map_err(|e| fail(transport(host, e, false)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, SystemTime::now()));
        let cap = self
            .shared
            .policy
            .max_body_bytes
            .unwrap_or(NATIONAL_MAX_BODY_BYTES);
        let bytes = read_capped(resp, cap)
            .await
            .map_err(|e| fail(e.into_error(host, cap)))?;
        if (300..400).contains(&status) {
            // A redirect the policy did not follow: its body is not the portal's reply.
            return Err(fail(HttpError::Status {
                host: host.to_string(),
                status,
                excerpt: REDIRECT_REFUSED.to_string(),
            }));
        }
        if status == 408 || status == 429 || (500..600).contains(&status) {
            return Err(Failure {
                error: HttpError::Status {
                    host: host.to_string(),
                    status,
                    excerpt: excerpt(&bytes),
                },
                retry_after,
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
            // A 2xx body is the portal's data (a token, a session, citizens' rows): describe it,
            // never quote it into an error that reaches the logs and the run record.
            Err(e) if (200..300).contains(&status) => Err(fail(HttpError::BadBody {
                host: host.to_string(),
                why: e.to_string(),
                excerpt: describe(&bytes),
            })),
            Err(_) => Err(fail(HttpError::Status {
                host: host.to_string(),
                status,
                excerpt: excerpt(&bytes),
            })),
        }
    }
}

/// Marks a probe abandoned when its request ends without an outcome (the caller dropped the
/// future): the breaker must not wait for it forever.
struct ProbeGuard<'a> {
    host: &'a Host,
    pending: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.pending {
            self.host
                .lock()
                .breaker
                .probe_abandoned(tokio::time::Instant::now());
        }
    }
}

/// Redirects are followed only within the origin of the request (same scheme, host and
/// port), at most 5: never from https to http, never to another host. reqwest drops the
/// `Authorization` and `Cookie` headers on a cross-host redirect, but a 307/308 re-sends the
/// body — a login form or JSON with the password — and a header such as a session or a
/// `groupId` goes along; so a redirect out of the origin is not followed at all and the call
/// fails with its 3xx status ([`REDIRECT_REFUSED`]).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin || attempt.previous().len() > 5 {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// The excerpt of the error for a redirect that was not followed.
const REDIRECT_REFUSED: &str =
    "redirect not followed: only redirects within the same scheme, host and port are (check the URL in the config)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        HttpPolicy::default().validate("http").unwrap();
    }

    #[test]
    fn validate_names_the_key() {
        type Edit = fn(&mut HttpPolicy);
        let cases: [(Edit, &str); 14] = [
            (|p| p.burst = 0, "national.http.burst must be ≥ 1"),
            (
                |p| p.connect_timeout_secs = 0.0,
                "national.http.connect_timeout_secs",
            ),
            (
                |p| p.request_timeout_secs = f64::NAN,
                "national.http.request_timeout_secs",
            ),
            (|p| p.max_retries = 11, "national.http.max_retries"),
            (
                |p| p.backoff_initial_ms = 0,
                "national.http.backoff_initial_ms",
            ),
            (|p| p.backoff_max_ms = 1, "national.http.backoff_max_ms"),
            (|p| p.jitter = 1.5, "national.http.jitter"),
            (
                |p| p.rate_per_second = -1.0,
                "national.http.rate_per_second",
            ),
            (
                |p| p.breaker_threshold = 0,
                "national.http.breaker_threshold",
            ),
            (
                |p| p.breaker_statuses = vec![200],
                "national.http.breaker_statuses",
            ),
            (
                |p| p.retry_after_max_secs = 0,
                "national.http.retry_after_max_secs",
            ),
            (
                |p| p.max_in_flight_per_host = 0,
                "national.http.max_in_flight_per_host",
            ),
            (
                |p| p.breaker_cooldown_secs = 0,
                "national.http.breaker_cooldown_secs",
            ),
            (
                |p| p.breaker_cooldown_secs = 3601,
                "national.http.breaker_cooldown_secs",
            ),
        ];
        for (edit, want) in cases {
            let mut p = HttpPolicy::default();
            edit(&mut p);
            let err = p.validate("national.http").unwrap_err();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn new_keys_default_when_absent() {
        let p: HttpPolicy = toml::from_str("max_retries = 2\nburst = 4").unwrap();
        assert_eq!(p.max_retries, 2);
        assert_eq!(p.burst, 4);
        assert_eq!(p.rate_per_second, HttpPolicy::default().rate_per_second);
        assert!(toml::from_str::<HttpPolicy>("accept_invalid_certs = true").is_err());
    }

    #[test]
    fn reasons_of_errors() {
        let t = |what: &str| HttpError::Transport {
            host: "h:1".into(),
            what: what.into(),
        };
        assert_eq!(t("timed out: x").reason(), Some(FailReason::Timeout));
        assert_eq!(t("cannot connect: x").reason(), Some(FailReason::Connect));
        assert_eq!(
            t("TLS certificate not trusted: x").reason(),
            Some(FailReason::Certificate)
        );
        assert_eq!(t("body truncated: x").reason(), Some(FailReason::Truncated));
        assert_eq!(
            t("connection reset or closed: x").reason(),
            Some(FailReason::Reset)
        );
        assert_eq!(FailReason::Status(503).to_string(), "http_503");
    }
}
