//! Running as a long-lived systemd service.
//!
//! Three small, independent pieces that `tthc-sync run` wires together:
//!
//! - [`notify`]: the systemd notify protocol (`READY=1`, `WATCHDOG=1`, `STATUS=`, `STOPPING=1`,
//!   `RELOADING=1`), a silent no-op when the process is not started by systemd.
//! - [`schedule`]: which job is due when. Pure: "now" is always passed in, no clock, no I/O.
//! - [`health`]: `/healthz` and `/metrics` rendered from a plain [`health::HealthSnapshot`],
//!   plus the small axum router that serves them, served by `crate::serve` with a
//!   header-read timeout, a lifetime per connection and a connection cap.
//!
//! The scheduler loop itself is the one that sends `WATCHDOG=1` (every
//! [`notify::Notifier::watchdog_interval`]), so a wedged loop is caught by systemd.
//! [`run`] is that wiring: the `tthc-sync run` service; [`jobs`] is what its jobs do (sync,
//! housekeeping, the monthly report, the published scores).
//! The unit file, sysusers and tmpfiles snippets live in `systemd/`; see `docs/deployment.md`.

pub mod health;
pub mod jobs;
pub mod notify;
pub mod run;
pub mod schedule;
