//! The review web page `tthc-sync run` serves on `[web] listen`: accounts ([`users`]).
//!
//! See docs/deployment.md for putting it behind a TLS reverse proxy.

pub mod users;
