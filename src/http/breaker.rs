//! The per-host circuit breaker, by request rather than by attempt. Pure state: the time is
//! passed in, so the rules are tested without a network or a clock.
//!
//! - A *request* is one [`super::HttpClient::send_json`] call, named by a key (the dossier
//!   code of a look-up, the unit and dates of a list, else a hash of the method, path, query
//!   and body). Its retries are not new failures: a request counts for the breaker once, at
//!   its first failed attempt.
//! - The breaker opens when `threshold` *distinct* requests have failed in a row (the
//!   *streak*): a failure of a key already in the streak does not lengthen it, and any success
//!   on the host empties it. So one dossier that always fails never opens it, while a host
//!   that is down opens it after `threshold` requests.
//! - Open, it refuses every request for `cooldown`; then it is *half-open*: one request (the
//!   probe) goes through, the others are still refused. The probe's success closes the
//!   breaker; its failure opens it for another `cooldown`.
//! - [`Breaker::reset`] closes it (a new run).

use std::time::Duration;

use tokio::time::Instant;

/// What the breaker says of a request about to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Admission {
    /// Closed: send it.
    Send,
    /// Half-open: send it as the one probe; report its outcome with `probe = true`.
    Probe,
    /// Open (or half-open with a probe in flight): do not send it. `failures`: the distinct
    /// requests that failed in a row when it opened.
    Refuse {
        /// Length of the streak that opened the breaker.
        failures: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Closed,
    /// Refusing until `until`; then the next request is the probe.
    Open {
        until: Instant,
    },
    /// A probe is in flight; every other request is refused.
    Probing,
}

/// One host's breaker.
#[derive(Debug)]
pub(super) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    /// Keys of the distinct requests that failed since the last success, in order.
    streak: Vec<u64>,
    /// Length of the streak when the breaker last opened.
    opened_after: u32,
    state: State,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` (≥ 1) distinct failed requests in a row
    /// and lets a probe through `cooldown` after opening.
    pub(super) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            streak: Vec::new(),
            opened_after: 0,
            state: State::Closed,
        }
    }

    /// Whether a request may be sent at `now` (a probe is marked in flight).
    pub(super) fn admit(&mut self, now: Instant) -> Admission {
        match self.state {
            State::Closed => Admission::Send,
            State::Open { until } if now >= until => {
                self.state = State::Probing;
                Admission::Probe
            }
            State::Open { .. } | State::Probing => Admission::Refuse {
                failures: self.opened_after,
            },
        }
    }

    /// The first failed attempt of the request `key` (or a failed probe). Returns true when
    /// this opened (or re-opened) the breaker.
    pub(super) fn failure(&mut self, key: u64, probe: bool, now: Instant) -> bool {
        if !self.streak.contains(&key) {
            self.streak.push(key);
        }
        let open_now = if probe {
            self.state == State::Probing
        } else {
            self.state == State::Closed && self.streak.len() >= self.threshold as usize
        };
        if open_now {
            self.opened_after = self.streak.len() as u32;
            self.state = State::Open {
                until: now + self.cooldown,
            };
        }
        open_now
    }

    /// A successful attempt (the host answered): the streak ends and the breaker closes.
    /// Returns true when it was not closed (a probe succeeded).
    pub(super) fn success(&mut self) -> bool {
        self.streak.clear();
        let was_open = self.state != State::Closed;
        self.state = State::Closed;
        was_open
    }

    /// A probe that ended without an outcome (its caller went away): the next request may
    /// probe at once.
    pub(super) fn probe_abandoned(&mut self, now: Instant) {
        if self.state == State::Probing {
            self.state = State::Open { until: now };
        }
    }

    /// Closed, streak empty (a new run).
    pub(super) fn reset(&mut self) {
        self.streak.clear();
        self.state = State::Closed;
    }

    /// True unless closed: requests are refused (or one probe is in flight).
    pub(super) fn is_open(&self) -> bool {
        self.state != State::Closed
    }

    /// When an open breaker lets its probe through (`None`: closed, or probing now).
    pub(super) fn probe_at(&self) -> Option<Instant> {
        match self.state {
            State::Open { until } => Some(until),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> (Breaker, Instant) {
        (Breaker::new(3, Duration::from_secs(60)), Instant::now())
    }

    #[test]
    fn one_request_failing_again_and_again_never_opens_it() {
        let (mut b, t) = breaker();
        for _ in 0..50 {
            assert_eq!(b.admit(t), Admission::Send);
            assert!(!b.failure(7, false, t));
        }
        assert!(!b.is_open());
    }

    #[test]
    fn distinct_failures_in_a_row_open_it_and_a_success_ends_the_streak() {
        let (mut b, t) = breaker();
        assert!(!b.failure(1, false, t));
        assert!(!b.failure(2, false, t));
        assert!(!b.failure(1, false, t), "a key already in the streak");
        b.success();
        assert!(!b.failure(3, false, t));
        assert!(!b.failure(4, false, t));
        assert!(b.failure(5, false, t), "three distinct in a row");
        assert!(b.is_open());
        assert_eq!(b.admit(t), Admission::Refuse { failures: 3 });
        // Failures of requests sent before it opened do not re-open it.
        assert!(!b.failure(6, false, t));
    }

    #[test]
    fn half_open_after_the_cooldown_one_probe_closes_or_reopens() {
        let (mut b, t) = breaker();
        for k in 1..=3 {
            b.failure(k, false, t);
        }
        let later = t + Duration::from_secs(59);
        assert_eq!(b.admit(later), Admission::Refuse { failures: 3 });
        assert_eq!(b.probe_at(), Some(t + Duration::from_secs(60)));
        let t1 = t + Duration::from_secs(60);
        assert_eq!(b.admit(t1), Admission::Probe);
        assert_eq!(
            b.admit(t1),
            Admission::Refuse { failures: 3 },
            "one probe at a time"
        );
        // The probe fails: open for another cooldown.
        assert!(b.failure(9, true, t1));
        assert_eq!(
            b.admit(t1 + Duration::from_secs(30)),
            Admission::Refuse { failures: 4 }
        );
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(b.admit(t2), Admission::Probe);
        assert!(b.success(), "the probe succeeded: closed");
        assert_eq!(b.admit(t2), Admission::Send);
        // The streak starts again from nothing.
        assert!(!b.failure(1, false, t2));
        assert!(!b.failure(2, false, t2));
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_request_probe() {
        let (mut b, t) = breaker();
        for k in 1..=3 {
            b.failure(k, false, t);
        }
        let t1 = t + Duration::from_secs(61);
        assert_eq!(b.admit(t1), Admission::Probe);
        b.probe_abandoned(t1);
        assert_eq!(b.admit(t1), Admission::Probe);
    }

    #[test]
    fn reset_closes_it() {
        let (mut b, t) = breaker();
        for k in 1..=3 {
            b.failure(k, false, t);
        }
        b.reset();
        assert_eq!(b.admit(t), Admission::Send);
        assert!(!b.failure(4, false, t), "the streak was emptied");
    }
}
