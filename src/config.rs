//! Configuration: one TOML file, loaded and validated once into typed settings.
//!
//! Every key is documented in `config/tthc-sync.example.toml`. Secrets never live in the TOML:
//! each password is read from a file, a systemd credential or an environment variable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::http::HttpPolicy;

pub const DEFAULT_PATH: &str = "/etc/tthc-sync/tthc-sync.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub service: ServiceConfig,
    pub provincial: ProvincialConfig,
    pub national: NationalConfig,
    #[serde(default)]
    pub reconcile: ReconcileConfig,
    #[serde(default)]
    pub report: ReportConfig,
}

/// `[report]`: the monthly report the service writes.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Where the scheduled report is written; default `reports/` next to the database.
    pub out_dir: Option<PathBuf>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Path of the SQLite database.
    pub database: PathBuf,
    /// Province name used in reports.
    #[serde(default = "default_province")]
    pub province_name: String,
}

fn default_province() -> String {
    "Điện Biên".to_string()
}

/// Where a secret comes from. Exactly one of the three must be set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretRef {
    /// A file holding the secret (trailing newline ignored).
    pub password_file: Option<PathBuf>,
    /// A systemd credential name (`LoadCredential=NAME:...`), read from `$CREDENTIALS_DIRECTORY`.
    pub password_credential: Option<String>,
    /// An environment variable holding the secret.
    pub password_env: Option<String>,
}

impl SecretRef {
    fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let n = [
            self.password_file.is_some(),
            self.password_credential.is_some(),
            self.password_env.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            return Err(invalid(
                key,
                "set exactly one of password_file, password_credential, password_env \
                 (passwords are never written in the config file itself)",
            ));
        }
        Ok(())
    }

    /// Reads the secret now. The error names the key and the place, never the secret.
    pub fn resolve(&self, key: &str) -> Result<String, ConfigError> {
        let read_file = |p: &Path| {
            std::fs::read_to_string(p)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| invalid(key, format!("cannot read {}: {e}", p.display())))
        };
        if let Some(p) = &self.password_file {
            return read_file(p);
        }
        if let Some(name) = &self.password_credential {
            let dir = std::env::var_os("CREDENTIALS_DIRECTORY").ok_or_else(|| {
                invalid(
                    key,
                    format!(
                        "credential `{name}` needs $CREDENTIALS_DIRECTORY \
                         (run under systemd with LoadCredential=)"
                    ),
                )
            })?;
            return read_file(&Path::new(&dir).join(name));
        }
        if let Some(var) = &self.password_env {
            return std::env::var(var)
                .map_err(|_| invalid(key, format!("environment variable {var} is not set")));
        }
        Err(invalid(key, "no password source"))
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProvincialConfig {
    /// Vendor profile: `igate` (default guess for Điện Biên), `opencps` or `td`.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Base URL of the dossier API.
    pub api_url: String,
    /// Base URL of the SSO (igate only).
    #[serde(default)]
    pub sso_url: Option<String>,
    /// OAuth2 client id (igate).
    #[serde(default = "default_client_id")]
    pub client_id: String,
    pub username: String,
    /// Password source: exactly one of these three.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub password_credential: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    /// Rows per page.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Re-read this many minutes before the watermark (late writes, clock skew).
    #[serde(default = "default_overlap")]
    pub overlap_minutes: u32,
    /// At most this many pages in one run; the run is partial when the cap is hit.
    #[serde(default = "default_max_pages")]
    pub max_pages_per_run: u32,
    #[serde(default)]
    pub http: HttpPolicy,
}

fn default_profile() -> String {
    "igate".into()
}
fn default_client_id() -> String {
    "web-onegate".into()
}
fn default_page_size() -> u32 {
    100
}
fn default_overlap() -> u32 {
    10
}
fn default_max_pages() -> u32 {
    5000
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NationalConfig {
    /// Base URL of the portal's adapter; endpoints are appended to it.
    pub adapter_url: String,
    #[serde(default = "default_auth_endpoint")]
    pub auth_endpoint: String,
    #[serde(default = "default_integration_endpoint")]
    pub integration_endpoint: String,
    /// `dstcode` header: routing code of the gateway.
    pub dstcode: String,
    /// `madonvi`: the province's unit code on the portal.
    pub madonvi: String,
    pub username: String,
    /// Password source: exactly one of these three.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub password_credential: Option<String>,
    #[serde(default)]
    pub password_env: Option<String>,
    /// Look-ups per second asked of the portal.
    #[serde(default = "default_lps")]
    pub lookups_per_second: f64,
    /// At most this many look-ups in one cycle.
    #[serde(default = "default_lpc")]
    pub lookups_per_cycle: usize,
    /// A provincial change younger than this may still be on its way to the portal.
    #[serde(default = "default_grace")]
    pub sync_grace_minutes: u32,
    /// Non-terminal dossiers this close to their due date are looked up first.
    #[serde(default = "default_due_soon")]
    pub due_soon_hours: u32,
    #[serde(default)]
    pub http: HttpPolicy,
}

fn default_auth_endpoint() -> String {
    "/api/auth".into()
}
fn default_integration_endpoint() -> String {
    "/api/integration".into()
}
fn default_lps() -> f64 {
    5.0
}
fn default_lpc() -> usize {
    3000
}
fn default_grace() -> u32 {
    60
}
fn default_due_soon() -> u32 {
    48
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileConfig {
    /// Dates that differ by no more than this are equal.
    pub date_tolerance_minutes: u32,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            date_tolerance_minutes: 5,
        }
    }
}

macro_rules! secret_accessor {
    ($t:ty) => {
        impl $t {
            /// Where this side's password comes from.
            pub fn password(&self) -> SecretRef {
                SecretRef {
                    password_file: self.password_file.clone(),
                    password_credential: self.password_credential.clone(),
                    password_env: self.password_env.clone(),
                }
            }
        }
    };
}
secret_accessor!(ProvincialConfig);
secret_accessor!(NationalConfig);

impl NationalConfig {
    pub fn sync_grace(&self) -> Duration {
        Duration::from_secs(u64::from(self.sync_grace_minutes) * 60)
    }
    pub fn due_soon(&self) -> Duration {
        Duration::from_secs(u64::from(self.due_soon_hours) * 3600)
    }
}

fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok(()),
        Ok(u) => Err(invalid(
            key,
            format!("`{url}` has scheme {}; use https://", u.scheme()),
        )),
        Err(e) => Err(invalid(key, format!("`{url}` is not a URL: {e}"))),
    }
}

impl Config {
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

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.service.database.as_os_str().is_empty() {
            return Err(invalid("service.database", "must be a file path"));
        }
        let p = &self.provincial;
        if let Err(e) = crate::source::profile::Profile::builtin(&p.profile) {
            return Err(invalid("provincial.profile", e.to_string()));
        }
        check_url("provincial.api_url", &p.api_url)?;
        if p.profile == "igate" {
            match &p.sso_url {
                Some(u) => check_url("provincial.sso_url", u)?,
                None => return Err(invalid("provincial.sso_url", "required by profile igate")),
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
        if !(n.lookups_per_second.is_finite() && n.lookups_per_second > 0.0) {
            return Err(invalid(
                "national.lookups_per_second",
                "must be a number > 0",
            ));
        }
        if n.lookups_per_cycle == 0 {
            return Err(invalid("national.lookups_per_cycle", "must be ≥ 1"));
        }
        for (key, h) in [("provincial.http", &p.http), ("national.http", &n.http)] {
            h.validate(key).map_err(|message| ConfigError::Invalid {
                key: key.to_string(),
                message,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = include_str!("../config/tthc-sync.example.toml");

    #[test]
    fn example_config_is_valid() {
        let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
        assert_eq!(cfg.provincial.profile, "igate");
    }

    #[test]
    fn errors_name_the_key() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "profile = \"igate\"",
                "profile = \"vnpt\"",
                "provincial.profile",
            ),
            ("page_size = 100", "page_size = 0", "provincial.page_size"),
            (
                "lookups_per_second = 5.0",
                "lookups_per_second = -1.0",
                "national.lookups_per_second",
            ),
            (
                "adapter_url = \"https://dichvucong.gov.vn/adapter\"",
                "adapter_url = \"ftp://x\"",
                "national.adapter_url",
            ),
        ];
        for (from, to, key) in cases {
            assert!(EXAMPLE.contains(from), "example lacks {from}");
            let text = EXAMPLE.replacen(from, to, 1);
            let err = Config::parse(&text, Path::new("x.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{err} should name {key}");
        }
    }

    #[test]
    fn unknown_key_and_inline_password_are_rejected() {
        let text = EXAMPLE.replacen("[national]", "[national]\npassword = \"hunter2\"", 1);
        let err = Config::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("password"), "{err}");
    }
}
