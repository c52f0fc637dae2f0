//! Per-host token bucket on `tokio::time` (so tests can run it under `tokio::time::pause()`).
//!
//! Written here rather than taken from `governor`: governor keeps its own clock, which paused
//! tokio time cannot drive, and we also need a host-wide "not before" for `Retry-After`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// `rate` tokens per second, at most `burst` stored; `rate == 0` means unlimited.
/// A caller reserves a token at once (the count may go negative) and then sleeps until the
/// token would have existed, so waiters are served in the order they asked.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<BucketState>,
}

struct BucketState {
    tokens: f64,
    last: Instant,
    not_before: Option<Instant>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate: if rate.is_finite() && rate > 0.0 {
                rate
            } else {
                0.0
            },
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                last: Instant::now(),
                not_before: None,
            }),
        }
    }

    /// Takes one token, waiting as long as needed. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let now = Instant::now();
        let start = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let mut start = now;
            if self.rate > 0.0 {
                let refill = now.saturating_duration_since(s.last).as_secs_f64() * self.rate;
                s.tokens = (s.tokens + refill).min(self.burst);
                s.last = now;
                s.tokens -= 1.0;
                if s.tokens < 0.0 {
                    start = now + ceil_secs(-s.tokens / self.rate);
                }
            }
            if let Some(nb) = s.not_before {
                start = start.max(nb);
            }
            start
        };
        if start > now {
            tokio::time::sleep_until(start).await;
        }
        start - now
    }

    /// No request to this host starts before `at` (used for a honoured `Retry-After`).
    pub fn hold_until(&self, at: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.not_before = Some(s.not_before.map_or(at, |nb| nb.max(at)));
    }
}

/// Seconds to a `Duration`, rounded up to the next nanosecond so a wait is never short.
fn ceil_secs(secs: f64) -> Duration {
    Duration::from_nanos((secs * 1e9).ceil().min(u64::MAX as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rate_10_burst_2_twelve_tokens_take_a_second() {
        let bucket = TokenBucket::new(10.0, 2);
        let t0 = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..12 {
            waits.push(bucket.acquire().await);
        }
        assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(waits[1], Duration::ZERO);
        assert!(waits[2] >= Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn burst_refills_after_idle() {
        let bucket = TokenBucket::new(10.0, 3);
        for _ in 0..3 {
            assert_eq!(bucket.acquire().await, Duration::ZERO);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        // Refilled to the burst, not beyond it.
        for _ in 0..3 {
            assert_eq!(bucket.acquire().await, Duration::ZERO);
        }
        assert!(bucket.acquire().await > Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_rate_never_waits_but_honours_hold() {
        let bucket = TokenBucket::new(0.0, 1);
        for _ in 0..100 {
            assert_eq!(bucket.acquire().await, Duration::ZERO);
        }
        bucket.hold_until(Instant::now() + Duration::from_secs(2));
        assert!(bucket.acquire().await >= Duration::from_secs(2));
    }
}
