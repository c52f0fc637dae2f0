//! Clients of the two portals. Each turns wire replies into the canonical model
//! (`crate::model`) through pure parsing functions, and talks HTTP only through
//! `crate::http`. [`Clients`] holds both, built once from the config.

pub mod clients;
pub mod national;
pub mod provincial;

pub use clients::{Clients, ClientsError};

/// Why a call to a portal failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The HTTP call failed under the policy (transport, status, retries spent, breaker open).
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// No session could be opened because the login call itself failed under the HTTP policy
    /// (transport, status, retries spent, breaker open): nothing is known of the call the
    /// session was for.
    #[error("{portal}: no session (the login call failed): {source}")]
    Session {
        /// `provincial` or `national`.
        portal: &'static str,
        /// Why the login call failed.
        source: crate::http::HttpError,
    },
    /// The portal refused the service account's credentials, or the login reply had no
    /// token or session.
    #[error("{portal}: login failed: {message}")]
    Login {
        /// `provincial` or `national`.
        portal: &'static str,
        /// What the portal said (never the password).
        message: String,
    },
    /// The portal answered with an error code in its reply envelope (national: `error_code`
    /// other than 0).
    #[error("{portal}: {call}: the portal answered error {code}: {message}")]
    Portal {
        /// `provincial` or `national`.
        portal: &'static str,
        /// The operation, e.g. `TraCuuHoSo`.
        call: String,
        /// The portal's error code, as sent.
        code: String,
        /// The portal's message (often Vietnamese).
        message: String,
    },
    /// The reply could not be read: not the expected shape, a date in no known format, rows
    /// that do not match the code asked for.
    #[error("{portal}: {call}: unexpected reply: {message}")]
    Reply {
        /// `provincial` or `national`.
        portal: &'static str,
        /// The operation, e.g. `list` or `TraCuuHoSo`.
        call: String,
        /// What was wrong.
        message: String,
    },
}
