//! Sessions, CSRF tokens and the sign-in rate limit of the web page. Pure of I/O: "now" is
//! passed in; randomness comes from the operating system ([`random_token`]).
//!
//! Sessions live in memory: a restart of the service signs everyone out, which is acceptable
//! for a review page (and means no session secret is ever written to disk).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

use super::users::Role;

/// 32 random bytes from the operating system, base64url: a session id or a CSRF token.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator only fails when it cannot be reached at all (no
    // /dev/urandom, no getrandom(2)): then no secret can be made and nothing is served.
    if let Err(e) = getrandom::getrandom(&mut bytes) {
        panic!("the operating system gives no random bytes for a session token: {e}");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A signed-in user's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The user's name.
    pub user: String,
    /// The role at sign-in (re-read from the accounts file at every request).
    pub role: Role,
    /// The session's CSRF token, in every form and checked on every POST.
    pub csrf: String,
    /// When it ends.
    pub expires: Instant,
}

/// The sessions, by their random id (the cookie's value).
#[derive(Debug)]
pub struct Sessions {
    lifetime: Duration,
    map: Mutex<HashMap<String, Session>>,
}

/// The most sessions kept at once; a sign-in over it ends the oldest.
const MAX_SESSIONS: usize = 10_000;

impl Sessions {
    /// No session; each lasts `lifetime` from sign-in.
    pub fn new(lifetime: Duration) -> Sessions {
        Sessions {
            lifetime,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session lasts.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Opens a session for `user`; returns its id.
    pub fn create(&self, user: &str, role: Role, now: Instant) -> String {
        let id = random_token();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            id.clone(),
            Session {
                user: user.to_string(),
                role,
                csrf: random_token(),
                expires: now + self.lifetime,
            },
        );
        id
    }

    /// The live session with this id (an expired one is removed).
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session (sign-out, or its user was removed).
    pub fn remove(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Failed sign-ins allowed per account within [`LoginLimiter`]'s window.
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
/// Failed sign-ins allowed per client address within the window (several people may share
/// an office's address).
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// The window failed sign-ins are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The most accounts and addresses tracked at once (names tried that do not exist count too).
const MAX_TRACKED: usize = 50_000;

/// Failed sign-ins per account and per address: over either limit, a sign-in is refused
/// without checking the password until the oldest failure leaves the window.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    fn keys(user: &str, addr: IpAddr) -> [(String, usize); 2] {
        [
            (format!("u:{user}"), MAX_FAILURES_PER_ACCOUNT),
            (format!("a:{addr}"), MAX_FAILURES_PER_ADDRESS),
        ]
    }

    /// `Err(wait)` when `user` or `addr` has had too many failures lately.
    pub fn check(&self, user: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = Duration::ZERO;
        for (key, max) in Self::keys(user, addr) {
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW)
                {
                    q.pop_front();
                }
                if q.len() >= max {
                    if let Some(first) = q.front() {
                        wait = wait.max(FAILURE_WINDOW - now.duration_since(*first));
                    }
                }
            }
        }
        if wait > Duration::ZERO {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// Records a failed sign-in.
    pub fn fail(&self, user: &str, addr: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            });
        }
        for (key, max) in Self::keys(user, addr) {
            let q = map.entry(key).or_default();
            q.push_back(now);
            while q.len() > max {
                q.pop_front();
            }
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeed(&self, user: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&format!("u:{user}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_at_its_expiry_and_on_removal() {
        let s = Sessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let id = s.create("lan", Role::Operator, t0);
        let got = s.get(&id, t0 + Duration::from_secs(59)).unwrap();
        assert_eq!((got.user.as_str(), got.role), ("lan", Role::Operator));
        assert_eq!(got.csrf.len(), 43);
        assert_ne!(got.csrf, id);
        assert!(s.get(&id, t0 + Duration::from_secs(60)).is_none());
        assert!(s.get(&id, t0).is_none(), "an expired session is gone");
        let id = s.create("lan", Role::Viewer, t0);
        s.remove(&id);
        assert!(s.get(&id, t0).is_none());
        assert!(s.get("forged", t0).is_none());
    }

    #[test]
    fn failures_lock_an_account_and_an_address_for_the_window() {
        let l = LoginLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES_PER_ACCOUNT {
            assert!(l.check("lan", a, t0).is_ok(), "attempt {i}");
            l.fail("lan", a, t0);
        }
        // The account is locked from any address; another account from the same address is not.
        assert!(l.check("lan", b, t0).is_err());
        assert!(l.check("binh", a, t0).is_ok());
        let wait = l.check("lan", a, t0 + Duration::from_secs(60)).unwrap_err();
        assert_eq!(wait, FAILURE_WINDOW - Duration::from_secs(60));
        assert!(l.check("lan", a, t0 + FAILURE_WINDOW).is_ok());
        // An address trying many names is locked for every name.
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            l.fail(&format!("name{i}"), b, t0);
        }
        assert!(l.check("someone", b, t0).is_err());
        assert!(l.check("someone", a, t0).is_ok());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }
}
