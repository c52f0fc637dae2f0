//! Counters for metrics, per host. Cheap: one small mutex per host.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Why one attempt failed (the `failures` key in [`HostStats`], the `reason` in logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// An HTTP status counted as a failure (408, 429, 5xx, or one of `breaker_statuses`).
    Status(u16),
    /// No reply within `request_timeout_secs` (or no connection within `connect_timeout_secs`).
    Timeout,
    /// The TCP/TLS connection could not be made (refused, unreachable).
    Connect,
    /// The host name could not be resolved (DNS).
    Dns,
    /// The server's TLS certificate was not trusted (unknown issuer, wrong name, expired).
    Certificate,
    /// The connection was reset or closed before a reply head arrived.
    Reset,
    /// The connection broke while the body was being read.
    Truncated,
    /// A 2xx whose body is not JSON (e.g. a gateway's HTML error page).
    BadBody,
    /// A reply body longer than the client's `max_body_bytes` (after decompression).
    BodyTooLarge,
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Status(s) => write!(f, "http_{s}"),
            FailReason::Timeout => f.write_str("timeout"),
            FailReason::Connect => f.write_str("connect"),
            FailReason::Dns => f.write_str("dns"),
            FailReason::Certificate => f.write_str("tls_certificate"),
            FailReason::Reset => f.write_str("reset"),
            FailReason::Truncated => f.write_str("truncated"),
            FailReason::BadBody => f.write_str("bad_body"),
            FailReason::BodyTooLarge => f.write_str("body_too_large"),
        }
    }
}

/// Counters for one host (`host:port`) over the client's life (one run).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HostStats {
    /// Attempts sent (first tries and retries).
    pub requests: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Failed attempts by reason (`http_503`, `timeout`, `connect`, `reset`, `truncated`,
    /// `bad_body`).
    pub failures: BTreeMap<String, u64>,
    /// Calls that gave up (retries exhausted, or the breaker opened while they retried).
    pub give_ups: u64,
    /// The circuit breaker opened for this host at least once.
    pub breaker_opened: bool,
    /// Times the breaker opened (a failed probe opens it again).
    pub breaker_openings: u64,
    /// Probe requests let through by a half-open breaker.
    pub breaker_probes: u64,
    /// Calls refused without a request because the breaker was open.
    pub breaker_rejected: u64,
    /// Retries whose delay came from a `Retry-After` header.
    pub retry_after_honoured: u64,
    /// Sum and last of the delays slept before retries, in milliseconds.
    pub backoff_ms_total: u64,
    /// The delay slept before the latest retry, in milliseconds.
    pub last_backoff_ms: u64,
    /// Time spent waiting for the rate limiter, in milliseconds.
    pub rate_wait_ms_total: u64,
}

/// A snapshot of all hosts' counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HttpStats {
    /// Each host's counters, by `host:port`.
    pub hosts: BTreeMap<String, HostStats>,
}

impl HttpStats {
    /// Counters for `host` (`host:port`, see [`super::host_key`]).
    pub fn host(&self, host: &str) -> Option<&HostStats> {
        self.hosts.get(host)
    }
}
