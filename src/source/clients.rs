//! Both portal clients, built once from the config.

use std::sync::Arc;

use super::national::NationalClient;
use super::provincial::ProvincialClient;
use super::SourceError;
use crate::config::{Config, ConfigError};

/// Both portal clients, built once from the config.
pub struct Clients {
    /// The province's one-stop system, through its vendor profile.
    pub provincial: ProvincialClient,
    /// The national portal's adapter; shared by the concurrent look-up tasks.
    pub national: Arc<NationalClient>,
}

/// Why the clients could not be built: the config (the profile, a password: the error names
/// the key) or a client (its HTTP settings).
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    /// The profile could not be loaded or a password could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A client could not be built from its HTTP settings (e.g. an unreadable `ca_file`).
    #[error(transparent)]
    Source(#[from] SourceError),
}

impl Clients {
    /// Loads the profile, reads both passwords and builds both clients.
    pub fn new(cfg: &Config) -> Result<Clients, ClientsError> {
        let profile = cfg.provincial.load_profile()?;
        let ppw = cfg.provincial.password().resolve("provincial.password_*")?;
        let npw = cfg.national.password().resolve("national.password_*")?;
        Ok(Clients {
            provincial: ProvincialClient::new(&cfg.provincial, profile, ppw)?,
            national: Arc::new(NationalClient::new(&cfg.national, npw)?),
        })
    }
}
