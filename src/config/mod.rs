//! Configuration: one TOML file, loaded and validated once into typed settings.
//!
//! Every key is documented in `config/tthc-sync.example.toml`. Secrets never live in the TOML:
//! each password is read from a file, a systemd credential or an environment variable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub mod document;
mod portals;
mod secrets;
mod service;
mod web;

pub use portals::{NationalConfig, ProvincialConfig, ScoresApi, ScoresConfig};
pub use secrets::{credential_source, unit_files, SecretRef, UNIT_ENV};
pub use service::{CalendarConfig, DaemonConfig, ReconcileConfig, ReportConfig, ServiceConfig};
pub use web::WebConfig;

/// Where the service reads its config when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/tthc-sync/tthc-sync.toml";

/// Why the configuration cannot be used; every variant names the file or the key to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has an unknown key or a value of the wrong type.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message (it gives the line and the key).
        message: String,
    },
    /// A key's value is out of range, inconsistent with another, or names something that
    /// cannot be read (a secret, a profile or holiday file).
    #[error("config key `{key}`: {message}")]
    Invalid {
        /// The dotted key, e.g. `national.lookups_per_second`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The whole config file (`config/tthc-sync.example.toml`), one field per section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[service]`: the database and the province's name.
    pub service: ServiceConfig,
    /// `[provincial]`: the province's one-stop system.
    pub provincial: ProvincialConfig,
    /// `[national]`: the national portal's adapter.
    pub national: NationalConfig,
    /// `[reconcile]`: comparison tolerances and full passes.
    #[serde(default)]
    pub reconcile: ReconcileConfig,
    /// `[calendar]`: holiday files and office hours.
    #[serde(default)]
    pub calendar: CalendarConfig,
    /// `[daemon]`: the service's schedules and health endpoint.
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// The published 766 scores (`tthc-sync scores`); absent = not fetched.
    #[serde(default)]
    pub scores: Option<ScoresConfig>,
    /// `[report]`: where the scheduled report goes.
    #[serde(default)]
    pub report: ReportConfig,
    /// `[web]`: the review web page; absent = not served.
    #[serde(default)]
    pub web: Option<WebConfig>,
}

/// Checks that `url` (the value of `key`) is an https URL. Every portal URL carries
/// credentials (a Basic header, an OAuth form, a login body, a session), so `http://` is
/// refused unless the host is loopback (the simulators, a local TLS-terminating proxy).
pub(crate) fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => Ok(()),
        Ok(u) if u.scheme() == "http" && is_loopback(&u) => Ok(()),
        Ok(u) if u.scheme() == "http" => Err(invalid(
            key,
            format!(
                "`{url}` is http://: credentials would travel in clear; use https:// \
                 (http:// is allowed only for a loopback host such as 127.0.0.1)"
            ),
        )),
        Ok(u) => Err(invalid(
            key,
            format!("`{url}` has scheme {}; use https://", u.scheme()),
        )),
        Err(e) => Err(invalid(key, format!("`{url}` is not a URL: {e}"))),
    }
}

/// True when `u`'s host is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`.
fn is_loopback(u: &reqwest::Url) -> bool {
    let Some(host) = u.host_str() else {
        return false;
    };
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// The time between two sync cycles: the gap between the next two firings of
    /// `daemon.sync_schedule` (15 minutes when it is not scheduled). The look-up budget of a
    /// cycle is at most `national.lookups_per_second` × this.
    pub fn sync_cycle(&self) -> Duration {
        let fallback = Duration::from_secs(15 * 60);
        let Some(expr) = self.daemon.schedules()[0].2 else {
            return fallback;
        };
        let Ok(schedule) = crate::schedule::parse_schedule(expr) else {
            return fallback;
        };
        let mut next = schedule.upcoming(crate::model::vn_offset());
        match (next.next(), next.next()) {
            (Some(a), Some(b)) => (b - a).to_std().unwrap_or(fallback),
            _ => fallback,
        }
    }

    /// Loads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates TOML text (`path` only names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every key (URLs, ranges, one password source per side, the profile and its
    /// headers, the calendar, schedules); the first error names its key. [`Config::parse`]
    /// calls it: call it again after editing a `Config` in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.service.database.as_os_str().is_empty() {
            return Err(invalid("service.database", "must be a file path"));
        }
        let p = &self.provincial;
        let profile = p.load_profile()?;
        check_url("provincial.api_url", &p.api_url)?;
        if profile.auth == crate::profile::AuthStyle::Oauth2Password {
            match &p.sso_url {
                Some(u) => check_url("provincial.sso_url", u)?,
                None => {
                    return Err(invalid(
                        "provincial.sso_url",
                        format!("required by profile {}", profile.name),
                    ))
                }
            }
        }
        if p.username.is_empty() {
            return Err(invalid("provincial.username", "must not be empty"));
        }
        p.password().validate("provincial.password_*")?;
        if !(1..=1000).contains(&p.page_size) {
            return Err(invalid("provincial.page_size", "must be 1..=1000"));
        }
        if p.max_pages_per_run == 0 {
            return Err(invalid("provincial.max_pages_per_run", "must be ≥ 1"));
        }
        if p.sweep_hours == 0 {
            return Err(invalid("provincial.sweep_hours", "must be ≥ 1"));
        }
        let n = &self.national;
        check_url("national.adapter_url", &n.adapter_url)?;
        for (key, ep) in [
            ("national.auth_endpoint", &n.auth_endpoint),
            ("national.integration_endpoint", &n.integration_endpoint),
        ] {
            if !ep.starts_with('/') {
                return Err(invalid(key, format!("`{ep}` must start with /")));
            }
        }
        for (key, v) in [
            ("national.dstcode", &n.dstcode),
            ("national.madonvi", &n.madonvi),
            ("national.username", &n.username),
        ] {
            if v.is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        n.password().validate("national.password_*")?;
        self.calendar.build()?;
        if !(n.lookups_per_second.is_finite() && n.lookups_per_second > 0.0) {
            return Err(invalid(
                "national.lookups_per_second",
                "must be a number > 0",
            ));
        }
        if n.lookups_per_cycle == 0 {
            return Err(invalid("national.lookups_per_cycle", "must be ≥ 1"));
        }
        n.validate_list()?;
        n.validate_failing()?;
        if let Some(sc) = &self.scores {
            sc.validate()?;
        }
        for (key, h) in [("provincial.http", &p.http), ("national.http", &n.http)] {
            h.validate(key).map_err(|message| ConfigError::Invalid {
                key: key.to_string(),
                message,
            })?;
        }
        self.daemon.validate()?;
        if let Some(web) = &self.web {
            web.validate()?;
            if let (Ok(Some(health)), Ok(page)) = (self.daemon.http_addr(), web.listen_addr()) {
                if health == page && page.port() != 0 {
                    return Err(invalid(
                        "web.listen",
                        format!("`{page}` is daemon.http_listen too: give the page its own port"),
                    ));
                }
            }
        }
        self.report
            .document
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
