//! Why an HTTP call failed ([`HttpError`]): the variants, their reasons for the run record
//! and metrics, and how a reqwest error becomes one (`transport`). An error names the host,
//! never a path, query, header or body sent.

use super::FailReason;

/// Why an HTTP call failed. Names the host (`host:port`), never a path, query, header or body
/// sent.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No usable reply: timeout, refused connection, untrusted certificate, reset, truncated
    /// body, a body over `max_body_bytes`. Retryable.
    #[error("{host}: {what}")]
    Transport {
        /// The host.
        host: String,
        /// What happened, starting with one of the fixed phrases [`HttpError::reason`] reads.
        what: String,
    },
    /// A retryable status (408, 429, 5xx), another non-2xx status whose body is not JSON, or
    /// a redirect out of the request's origin, which is not followed (neither retried).
    #[error("{host}: HTTP {status}: {excerpt}")]
    Status {
        /// The host.
        host: String,
        /// The HTTP status.
        status: u16,
        /// The start of the reply's body, whitespace collapsed, at most 120 characters and
        /// then its length (`crate::quote`).
        excerpt: String,
    },
    /// A 2xx reply whose body is not JSON (a proxy's HTML page, broken JSON). Retryable.
    #[error("{host}: reply is not JSON ({why}): {excerpt}")]
    BadBody {
        /// The host.
        host: String,
        /// The JSON parser's message.
        why: String,
        /// What the body is, never its content (e.g. `an HTML/XML page of 512 bytes`): a 2xx
        /// body may carry a token or citizens' rows.
        excerpt: String,
    },
    /// Every attempt failed with a retryable error.
    #[error("{host}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// The host.
        host: String,
        /// Attempts made (the first one and `max_retries` retries).
        attempts: u32,
        /// The last attempt's error.
        last: Box<HttpError>,
    },
    /// The host's circuit breaker is open: no request was sent.
    #[error(
        "{host}: circuit breaker open after {failures} different requests failed in a row; \
         requests to this host are refused until a probe succeeds"
    )]
    CircuitOpen {
        /// The host.
        host: String,
        /// Distinct requests that had failed in a row when it opened.
        failures: u32,
    },
    /// The client could not be built or the request could not be formed (invalid policy, an
    /// unreadable `ca_file`, an invalid URL).
    #[error("HTTP client setup: {0}")]
    Setup(String),
}

/// Prefixes of `HttpError::Transport::what`, one per [`FailReason`] of a transport failure.
pub(super) const WHAT_TIMEOUT: &str = "timed out";
pub(super) const WHAT_CONNECT: &str = "cannot connect";
pub(super) const WHAT_DNS: &str = "cannot resolve the host name";
pub(super) const WHAT_CERTIFICATE: &str = "TLS certificate not trusted";
pub(super) const WHAT_RESET: &str = "connection reset or closed";
pub(super) const WHAT_TRUNCATED: &str = "body truncated";
pub(super) const WHAT_TOO_LARGE: &str = "body too large";

impl HttpError {
    /// Whether another attempt may succeed (transport failures, non-JSON 2xx, 408, 429, 5xx).
    pub(super) fn retryable(&self) -> bool {
        match self {
            HttpError::Transport { .. } | HttpError::BadBody { .. } => true,
            HttpError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            HttpError::GaveUp { .. } | HttpError::CircuitOpen { .. } | HttpError::Setup(_) => false,
        }
    }

    /// Why the request failed, for the run record and metrics; for `GaveUp`, the reason of
    /// the last attempt. `None` for `CircuitOpen` and `Setup`.
    pub fn reason(&self) -> Option<FailReason> {
        match self {
            HttpError::Transport { what, .. } => Some(if what.starts_with(WHAT_TIMEOUT) {
                FailReason::Timeout
            } else if what.starts_with(WHAT_CERTIFICATE) {
                FailReason::Certificate
            } else if what.starts_with(WHAT_CONNECT) {
                FailReason::Connect
            } else if what.starts_with(WHAT_DNS) {
                FailReason::Dns
            } else if what.starts_with(WHAT_TRUNCATED) {
                FailReason::Truncated
            } else if what.starts_with(WHAT_TOO_LARGE) {
                FailReason::BodyTooLarge
            } else {
                FailReason::Reset
            }),
            HttpError::Status { status, .. } => Some(FailReason::Status(*status)),
            HttpError::BadBody { .. } => Some(FailReason::BadBody),
            HttpError::GaveUp { last, .. } => last.reason(),
            HttpError::CircuitOpen { .. } | HttpError::Setup(_) => None,
        }
    }

    /// The host (`host:port`) the error is about, if any.
    pub fn host(&self) -> Option<&str> {
        match self {
            HttpError::Transport { host, .. }
            | HttpError::Status { host, .. }
            | HttpError::BadBody { host, .. }
            | HttpError::GaveUp { host, .. }
            | HttpError::CircuitOpen { host, .. } => Some(host),
            HttpError::Setup(_) => None,
        }
    }

    /// True when the run should stop talking to this host (breaker open).
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, HttpError::CircuitOpen { .. })
    }
}

/// A reqwest error as `HttpError::Transport`, its `what` starting with the reason's prefix.
/// The URL is stripped (its query could carry a token).
pub(super) fn transport(host: &str, e: reqwest::Error, reading_body: bool) -> HttpError {
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    let prefix = if e.is_timeout() {
        WHAT_TIMEOUT
    } else if e.is_connect() && detail.contains("certificate") {
        // rustls: "invalid peer certificate: UnknownIssuer" (or NotValidForName, Expired…).
        WHAT_CERTIFICATE
    } else if e.is_connect() && detail.contains("dns error") {
        // hyper-util: "dns error: failed to lookup address information: …".
        WHAT_DNS
    } else if e.is_connect() {
        WHAT_CONNECT
    } else if reading_body {
        WHAT_TRUNCATED
    } else {
        WHAT_RESET
    };
    HttpError::Transport {
        host: host.to_string(),
        what: format!("{prefix}: {detail}"),
    }
}
