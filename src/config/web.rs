//! `[web]`: the review web page `tthc-sync run` serves (src/web/).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{invalid, ConfigError};

/// `[web]`: where the review page listens, who may sign in, how long a session lasts. The
/// section absent = the page is not served.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Address the page listens on; default `127.0.0.1:9465` (loopback: put a TLS reverse
    /// proxy in front, docs/deployment.md). A non-loopback address needs `tls_cert` and
    /// `tls_key`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The accounts file `tthc-sync user add|passwd|remove` manages (argon2 hashes, mode
    /// 0600). Read at every sign-in, so a change takes effect without a restart.
    pub users_file: PathBuf,
    /// A session ends this long after sign-in (1..=1440 minutes; default 480, a working day).
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u32,
    /// PEM certificate chain: with `tls_key`, the page is served over HTTPS itself (and may
    /// then listen on a non-loopback address).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// The reverse proxy's address: only a connection from it may name the client's address
    /// in `X-Forwarded-For` (for the sign-in rate limit and the log). Absent = no header is
    /// trusted.
    #[serde(default)]
    pub trusted_proxy: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:9465".into()
}

fn default_session_minutes() -> u32 {
    480
}

impl WebConfig {
    /// The parsed `web.listen` address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|e| {
            invalid(
                "web.listen",
                format!(
                    "`{}` is not an address:port such as 127.0.0.1:9465 ({e})",
                    self.listen
                ),
            )
        })
    }

    /// The parsed `web.trusted_proxy` address.
    pub fn trusted_proxy_addr(&self) -> Result<Option<std::net::IpAddr>, ConfigError> {
        self.trusted_proxy
            .as_deref()
            .map(|s| {
                s.parse().map_err(|e| {
                    invalid(
                        "web.trusted_proxy",
                        format!("`{s}` is not an IP address such as 127.0.0.1 ({e})"),
                    )
                })
            })
            .transpose()
    }

    /// How long a session lasts.
    pub fn session_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_minutes) * 60)
    }

    /// Whether the page is served over HTTPS itself (`tls_cert` and `tls_key` both set).
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let addr = self.listen_addr()?;
        if self.users_file.as_os_str().is_empty() {
            return Err(invalid("web.users_file", "must be a file path"));
        }
        if !(1..=1440).contains(&self.session_minutes) {
            return Err(invalid("web.session_minutes", "must be 1..=1440"));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err(invalid("web.tls_key", "required with web.tls_cert")),
            (None, Some(_)) => return Err(invalid("web.tls_cert", "required with web.tls_key")),
            _ => {}
        }
        if !addr.ip().is_loopback() && !self.tls() {
            return Err(invalid(
                "web.listen",
                format!(
                    "`{addr}` is not loopback and TLS is off: passwords and session cookies \
                     would travel in clear; set web.tls_cert and web.tls_key, or listen on \
                     127.0.0.1 behind a TLS reverse proxy (docs/deployment.md)"
                ),
            ));
        }
        self.trusted_proxy_addr()?;
        Ok(())
    }
}
