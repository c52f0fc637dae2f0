//! The systemd notify protocol (`sd_notify(3)`), written directly on a Unix datagram socket.
//!
//! [`Notifier::from_env`] reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`. When the
//! process was not started by systemd (no `NOTIFY_SOCKET`), every method is a no-op returning
//! `Ok(())`, so the same code runs from a terminal, in tests and under systemd.
//!
//! Typical use in `tthc-sync run`:
//!
//! ```no_run
//! use tthc_sync::daemon::notify::Notifier;
//! let notifier = Notifier::from_env();
//! // ... config loaded, database opened, migrations applied ...
//! notifier.ready().ok();
//! if let Some(every) = notifier.watchdog_interval() {
//!     // the scheduler loop calls notifier.watchdog() at least this often
//!     let _ = every;
//! }
//! // on SIGHUP: notifier.reloading(), re-read config, then notifier.ready()
//! // on SIGTERM: notifier.stopping(), finish or roll back, exit
//! ```
//!
//! Environment variables are read but never modified (changing the environment of a running
//! multi-threaded process is unsound); `tthc-sync` does not spawn children that could inherit
//! them by accident.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::time::Duration;

/// Sends state changes to systemd. Cheap to share by reference; all methods take `&self`.
#[derive(Debug)]
pub struct Notifier {
    target: Option<Target>,
    watchdog_usec: Option<u64>,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    addr: SocketAddr,
    /// As given (`/run/systemd/notify` or `@name`), for messages.
    display: String,
}

impl Notifier {
    /// A notifier that never sends anything (not running under systemd).
    pub fn disabled() -> Notifier {
        Notifier {
            target: None,
            watchdog_usec: None,
        }
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment.
    ///
    /// Never fails: without `NOTIFY_SOCKET`, or with one that cannot be used (logged as a
    /// warning), the result is [`Notifier::disabled`] for notifications. The watchdog interval
    /// is only reported when `WATCHDOG_PID` is absent or equals this process's id.
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok();
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        let mut notifier = match socket.as_deref() {
            None | Some("") => Notifier::disabled(),
            Some(path) => Notifier::with_socket(path).unwrap_or_else(|e| {
                tracing::warn!(
                    notify_socket = path,
                    error = %e,
                    "NOTIFY_SOCKET is set but unusable; systemd notifications disabled"
                );
                Notifier::disabled()
            }),
        };
        notifier.watchdog_usec =
            parse_watchdog(usec.as_deref(), pid.as_deref(), std::process::id());
        notifier
    }

    /// A notifier sending to `path`: a filesystem path (`/run/systemd/notify`) or an abstract
    /// socket name written `@name`. No watchdog interval; see [`Notifier::with_watchdog`].
    ///
    /// Used by [`Notifier::from_env`] and by tests, which bind their own socket.
    pub fn with_socket(path: &str) -> io::Result<Notifier> {
        let addr = if let Some(name) = path.strip_prefix('@') {
            SocketAddr::from_abstract_name(name.as_bytes())?
        } else if path.starts_with('/') {
            SocketAddr::from_pathname(Path::new(path))?
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "notify socket {path:?} is neither an absolute path nor an abstract name (@...)"
                ),
            ));
        };
        let socket = UnixDatagram::unbound()?;
        Ok(Notifier {
            target: Some(Target {
                socket,
                addr,
                display: path.to_owned(),
            }),
            watchdog_usec: None,
        })
    }

    /// Sets the watchdog timeout as systemd would pass it in `WATCHDOG_USEC`.
    pub fn with_watchdog(mut self, timeout: Duration) -> Notifier {
        let usec = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        self.watchdog_usec = (usec > 0).then_some(usec);
        self
    }

    /// Whether notifications are actually sent somewhere.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often to call [`Notifier::watchdog`]: half of `WATCHDOG_USEC`, as `sd_watchdog_enabled(3)`
    /// recommends. `None` when systemd does not watch this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog_usec
            .map(|usec| Duration::from_micros(usec / 2))
    }

    /// `READY=1`: start-up (or a reload) is complete.
    pub fn ready(&self) -> io::Result<()> {
        self.send("READY=1\n")
    }

    /// `WATCHDOG=1`: the main loop is alive.
    pub fn watchdog(&self) -> io::Result<()> {
        self.send("WATCHDOG=1\n")
    }

    /// `STATUS=...`: one line shown by `systemctl status`. Newlines are replaced by spaces,
    /// since the protocol is one assignment per line.
    pub fn status(&self, text: &str) -> io::Result<()> {
        let one_line: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        self.send(&format!("STATUS={one_line}\n"))
    }

    /// `STOPPING=1`: shutdown has begun.
    pub fn stopping(&self) -> io::Result<()> {
        self.send("STOPPING=1\n")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (required by `Type=notify-reload`). Send
    /// [`Notifier::ready`] once the new configuration is in effect (or the old one kept).
    pub fn reloading(&self) -> io::Result<()> {
        if self.target.is_none() {
            return Ok(());
        }
        let now = sd_notify::NotifyState::monotonic_usec_now()?;
        self.send(&format!("RELOADING=1\n{now}\n"))
    }

    /// `EXTEND_TIMEOUT_USEC=...`: ask for more time for the current start-up or stop.
    pub fn extend_timeout(&self, by: Duration) -> io::Result<()> {
        self.send(&format!("EXTEND_TIMEOUT_USEC={}\n", by.as_micros()))
    }

    fn send(&self, message: &str) -> io::Result<()> {
        let Some(target) = &self.target else {
            return Ok(());
        };
        let sent = target
            .socket
            .send_to_addr(message.as_bytes(), &target.addr)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("sending to notify socket {}: {e}", target.display),
                )
            })?;
        if sent != message.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!(
                    "short write to notify socket {}: {sent} of {} bytes",
                    target.display,
                    message.len()
                ),
            ));
        }
        Ok(())
    }
}

/// `WATCHDOG_USEC` applies to us when it parses to a positive number and `WATCHDOG_PID` is
/// absent or names this process.
fn parse_watchdog(usec: Option<&str>, pid: Option<&str>, my_pid: u32) -> Option<u64> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    match pid {
        None => Some(usec),
        Some(p) => (p.trim().parse::<u32>().ok()? == my_pid).then_some(usec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).expect("datagram");
        String::from_utf8(buf[..n].to_vec()).expect("utf-8")
    }

    #[test]
    fn sends_exact_datagrams_to_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::with_socket(path.to_str().unwrap()).unwrap();
        assert!(n.is_enabled());

        n.ready().unwrap();
        n.watchdog().unwrap();
        n.status("syncing national portal\nsecond line").unwrap();
        n.stopping().unwrap();
        n.extend_timeout(Duration::from_secs(10)).unwrap();

        assert_eq!(recv(&server), "READY=1\n");
        assert_eq!(recv(&server), "WATCHDOG=1\n");
        assert_eq!(
            recv(&server),
            "STATUS=syncing national portal second line\n"
        );
        assert_eq!(recv(&server), "STOPPING=1\n");
        assert_eq!(recv(&server), "EXTEND_TIMEOUT_USEC=10000000\n");
    }

    #[test]
    fn reloading_carries_monotonic_usec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::with_socket(path.to_str().unwrap()).unwrap();
        n.reloading().unwrap();
        let msg = recv(&server);
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines.len(), 2, "{msg:?}");
        assert_eq!(lines[0], "RELOADING=1");
        let usec = lines[1].strip_prefix("MONOTONIC_USEC=").expect(&msg);
        assert!(usec.parse::<u64>().unwrap() > 0, "{msg:?}");
        assert!(msg.ends_with('\n'));
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        let name = format!("tthc-sync-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::with_socket(&format!("@{name}")).unwrap();
        n.ready().unwrap();
        assert_eq!(recv(&server), "READY=1\n");
    }

    #[test]
    fn disabled_notifier_is_a_silent_no_op() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        n.ready().unwrap();
        n.watchdog().unwrap();
        n.status("x").unwrap();
        n.stopping().unwrap();
        n.reloading().unwrap();
        assert_eq!(n.watchdog_interval(), None);
    }

    #[test]
    fn relative_socket_path_is_rejected() {
        let err = Notifier::with_socket("run/notify").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("run/notify"), "{err}");
    }

    #[test]
    fn send_error_names_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nobody-listens.sock");
        let n = Notifier::with_socket(path.to_str().unwrap()).unwrap();
        let err = n.ready().unwrap_err();
        assert!(err.to_string().contains("nobody-listens.sock"), "{err}");
    }

    #[test]
    fn watchdog_interval_is_half_the_timeout() {
        let n = Notifier::disabled().with_watchdog(Duration::from_secs(60));
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(30)));
        let n = Notifier::disabled().with_watchdog(Duration::ZERO);
        assert_eq!(n.watchdog_interval(), None);
    }

    #[test]
    fn watchdog_env_parsing() {
        /// (WATCHDOG_USEC, WATCHDOG_PID, our pid, expected)
        type Case = (Option<&'static str>, Option<&'static str>, u32, Option<u64>);
        let cases: &[Case] = &[
            (None, None, 42, None),
            (Some("60000000"), None, 42, Some(60_000_000)),
            (Some("60000000"), Some("42"), 42, Some(60_000_000)),
            (Some("60000000"), Some("43"), 42, None),
            (Some("60000000"), Some("garbage"), 42, None),
            (Some("0"), None, 42, None),
            (Some("-5"), None, 42, None),
            (Some("soon"), None, 42, None),
            (Some(" 1000 "), Some(" 42 "), 42, Some(1000)),
        ];
        for &(usec, pid, me, want) in cases {
            assert_eq!(
                parse_watchdog(usec, pid, me),
                want,
                "usec={usec:?} pid={pid:?}"
            );
        }
    }
}
