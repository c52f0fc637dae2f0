//! Pure delay arithmetic: exponential backoff with jitter, and `Retry-After` parsing.
//! No clock and no randomness of its own: "now" and the random draw are passed in.

use std::time::{Duration, SystemTime};

/// Backoff before retry number `retry` (1 for the first retry): `initial · 2^(retry-1)`,
/// capped at `max`, then shortened by up to `jitter` of itself (`draw` in `[0, 1)`).
/// The result never exceeds `max` and never goes below `(1 - jitter)` of the exponential value.
pub fn backoff(initial_ms: u64, max_ms: u64, retry: u32, jitter: f64, draw: f64) -> Duration {
    let shift = retry.saturating_sub(1).min(30);
    let exp = initial_ms.saturating_mul(1u64 << shift).min(max_ms);
    let factor = 1.0 - jitter.clamp(0.0, 1.0) * draw.clamp(0.0, 1.0);
    Duration::from_millis((exp as f64 * factor).round() as u64)
}

/// The delay a `Retry-After` header value asks for: either delta-seconds or an HTTP-date
/// (a date in the past means "now"). `None` when the value is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate rather than fail; the caller caps anyway.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_table() {
        // (initial, max, retry, jitter, draw, expected ms)
        let cases = [
            (100, 10_000, 1, 0.0, 0.9, 100),
            (100, 10_000, 2, 0.0, 0.9, 200),
            (100, 10_000, 4, 0.0, 0.9, 800),
            (100, 500, 4, 0.0, 0.9, 500),
            (100, 10_000, 1, 0.5, 0.0, 100),
            (100, 10_000, 1, 0.5, 1.0, 50),
            (100, 10_000, 3, 0.25, 0.5, 350),
            (1, u64::MAX, 200, 0.0, 0.0, 1 << 30),
        ];
        for (initial, max, retry, jitter, draw, want) in cases {
            assert_eq!(
                backoff(initial, max, retry, jitter, draw),
                Duration::from_millis(want),
                "initial={initial} max={max} retry={retry} jitter={jitter} draw={draw}"
            );
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let cases: [(&str, Option<u64>); 8] = [
            ("1", Some(1)),
            (" 120 ", Some(120)),
            ("0", Some(0)),
            ("Wed, 21 Oct 2015 07:28:30 GMT", Some(30)),
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(0)),
            ("-5", None),
            ("soon", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(
                retry_after(value, now),
                want.map(Duration::from_secs),
                "{value:?}"
            );
        }
    }
}
