//! Clients of the two portals. Each turns wire replies into the canonical model
//! (`crate::model`) through pure parsing functions, and talks HTTP only through
//! `crate::http`. [`Clients`] holds both, built once from the config.

pub mod clients;
pub mod national;
pub mod profile;
pub mod provincial;

pub use clients::{Clients, ClientsError};

/// Why a call to a portal failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    #[error("{portal}: login failed: {message}")]
    Login {
        portal: &'static str,
        message: String,
    },
    #[error("{portal}: {call}: the portal answered error {code}: {message}")]
    Portal {
        portal: &'static str,
        call: String,
        code: String,
        message: String,
    },
    #[error("{portal}: {call}: unexpected reply: {message}")]
    Reply {
        portal: &'static str,
        call: String,
        message: String,
    },
}
