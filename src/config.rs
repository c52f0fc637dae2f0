//! Configuration: one TOML file, loaded and validated once into typed settings.
//!
//! Every key is documented in `config/tthc-sync.example.toml`. Secrets never live in the TOML:
//! each password is read from a file, a systemd credential or an environment variable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::calendar::{Calendar, OfficeHours};
use crate::http::HttpPolicy;

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

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
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
}

/// `[report]`: the monthly report the service writes.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Where the scheduled report is written; default `reports/` next to the database.
    pub out_dir: Option<PathBuf>,
}

/// `[service]`: what every command needs.
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

/// `[provincial]`: how to reach and read the province's one-stop system.
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
    /// The service account's login name on the provincial system.
    pub username: String,
    /// Password source: exactly one of these three ([`SecretRef`]). A file holding it.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A systemd credential name holding it.
    #[serde(default)]
    pub password_credential: Option<String>,
    /// An environment variable holding it.
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
    /// `[provincial.http]`: timeouts, retries, rate and circuit breaker for this host.
    #[serde(default)]
    pub http: HttpPolicy,
    /// A profile file used instead of the built-in `profile` (a copy of a preset, adapted).
    #[serde(default)]
    pub profile_file: Option<PathBuf>,
    /// `groupId` header value (site id), required by profiles that send it (opencps).
    #[serde(default)]
    pub group_id: Option<String>,
    /// `tenant` header value, required by profiles that send it (td).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Hours between sweeps: full pulls, ignoring the watermark, that catch what the
    /// newest-first incremental pull missed.
    #[serde(default = "default_sweep_hours")]
    pub sweep_hours: u32,
}

fn default_sweep_hours() -> u32 {
    24
}

impl ProvincialConfig {
    /// The profile in use: `profile_file` when set, else the built-in `profile`. Checks that
    /// every config key the profile's extra headers need is set.
    pub fn load_profile(&self) -> Result<crate::source::profile::Profile, ConfigError> {
        let profile = match &self.profile_file {
            Some(path) => crate::source::profile::Profile::from_file(path)
                .map_err(|e| invalid("provincial.profile_file", e.to_string()))?,
            None => crate::source::profile::Profile::builtin(&self.profile)
                .map_err(|e| invalid("provincial.profile", e.to_string()))?,
        };
        for (header, key) in &profile.extra_headers {
            if self.header_value(key).is_none_or(|v| v.trim().is_empty()) {
                return Err(invalid(
                    &format!("provincial.{key}"),
                    format!(
                        "required by profile {} (sent as header `{header}`)",
                        profile.name
                    ),
                ));
            }
        }
        Ok(profile)
    }

    /// The value of a config key named by a profile's `extra_headers`.
    pub fn header_value(&self, key: &str) -> Option<&str> {
        match key {
            "group_id" => self.group_id.as_deref(),
            "tenant" => self.tenant.as_deref(),
            _ => None,
        }
    }
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

/// `[national]`: how to reach the national portal's adapter, and how hard to use it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NationalConfig {
    /// Base URL of the portal's adapter; endpoints are appended to it.
    pub adapter_url: String,
    /// The login endpoint, appended to `adapter_url` (default `/api/auth`).
    #[serde(default = "default_auth_endpoint")]
    pub auth_endpoint: String,
    /// The endpoint of the integration services (`TraCuuHoSo`, `DanhSachHoSo`), appended to
    /// `adapter_url` (default `/api/integration`).
    #[serde(default = "default_integration_endpoint")]
    pub integration_endpoint: String,
    /// `dstcode` header: routing code of the gateway.
    pub dstcode: String,
    /// `madonvi`: the province's unit code on the portal.
    pub madonvi: String,
    /// The service account's login name on the adapter.
    pub username: String,
    /// Password source: exactly one of these three ([`SecretRef`]). A file holding it.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A systemd credential name holding it.
    #[serde(default)]
    pub password_credential: Option<String>,
    /// An environment variable holding it.
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
    /// A dossier with an open discrepancy or near its due date is looked up again at most this
    /// often ahead of the rest (keeps a backlog from eating the whole budget).
    #[serde(default = "default_recheck")]
    pub recheck_hours: u32,
    /// `DanhSachHoSo`: unit codes whose dossiers are listed each cycle (empty = off).
    #[serde(default)]
    pub list_units: Vec<String>,
    /// `DanhSachHoSo`: how many days back (by received date) each list covers.
    #[serde(default = "default_list_days")]
    pub list_days: u32,
    /// `[national.http]`: the adapter's HTTP policy; its rate is set by `lookups_per_second`.
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
fn default_recheck() -> u32 {
    4
}
fn default_list_days() -> u32 {
    30
}

/// `[reconcile]`: how two dates are compared and how often every dossier is re-judged.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileConfig {
    /// Dates that differ by no more than this are equal.
    pub date_tolerance_minutes: u32,
    /// Between full passes, a cycle re-examines only the dossiers whose either side changed
    /// since the last reconciliation. A full pass (every dossier; month tallies recounted)
    /// runs at least this often; 0 = every cycle.
    pub full_every_minutes: u32,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            date_tolerance_minutes: 5,
            full_every_minutes: 60,
        }
    }
}

/// `[daemon]`: what `tthc-sync run` schedules, and its health endpoint.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// The full sync cycle. 5-field crontab (seconds = 0) or 6/7-field cron, in +07:00.
    /// `sync` defaults to every 15 minutes and `housekeeping` to 02:30 daily; `report` and
    /// `scores` are unscheduled unless set. An empty string unschedules a job.
    pub sync_schedule: Option<String>,
    /// SQLite `PRAGMA optimize` and `wal_checkpoint(TRUNCATE)`.
    pub housekeeping_schedule: Option<String>,
    /// The monthly report job (see `daemon::jobs::run_report`).
    pub report_schedule: Option<String>,
    /// The published-scores job (see `daemon::jobs::run_scores`).
    pub scores_schedule: Option<String>,
    /// A job whose last success is older than its latest firing runs once at start-up.
    pub run_missed_at_startup: bool,
    /// Address of `/healthz` and `/metrics` (keep it on loopback); absent = not served.
    pub http_listen: Option<String>,
    /// `/healthz` answers 503 when the sync job's last success is older than this.
    pub sync_max_age_minutes: u32,
    /// On SIGTERM, a running job gets this long to finish before it is cancelled (its
    /// transaction in progress rolls back). Keep it below the unit's `TimeoutStopSec=`.
    pub stop_grace_seconds: u32,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            sync_schedule: Some("*/15 * * * *".into()),
            housekeeping_schedule: Some("30 2 * * *".into()),
            report_schedule: None,
            scores_schedule: None,
            run_missed_at_startup: true,
            http_listen: None,
            sync_max_age_minutes: 90,
            stop_grace_seconds: 25,
        }
    }
}

/// A schedule key's value, `None` when absent or empty.
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

impl DaemonConfig {
    /// `(job name, config key, schedule)` for every job, configured or not, in run order.
    pub fn schedules(&self) -> [(&'static str, &'static str, Option<&str>); 4] {
        [
            ("sync", "daemon.sync_schedule", set(&self.sync_schedule)),
            (
                "housekeeping",
                "daemon.housekeeping_schedule",
                set(&self.housekeeping_schedule),
            ),
            (
                "report",
                "daemon.report_schedule",
                set(&self.report_schedule),
            ),
            (
                "scores",
                "daemon.scores_schedule",
                set(&self.scores_schedule),
            ),
        ]
    }

    /// The parsed `http_listen` address.
    pub fn http_addr(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        self.http_listen
            .as_deref()
            .map(|s| {
                s.parse().map_err(|e| {
                    invalid(
                        "daemon.http_listen",
                        format!("`{s}` is not an address:port such as 127.0.0.1:9464 ({e})"),
                    )
                })
            })
            .transpose()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (_, key, expr) in self.schedules() {
            if let Some(expr) = expr {
                crate::schedule::parse_schedule(expr).map_err(|e| invalid(key, e))?;
            }
        }
        self.http_addr()?;
        if self.sync_max_age_minutes == 0 {
            return Err(invalid("daemon.sync_max_age_minutes", "must be ≥ 1"));
        }
        if !(1..=300).contains(&self.stop_grace_seconds) {
            return Err(invalid("daemon.stop_grace_seconds", "must be 1..=300"));
        }
        Ok(())
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

/// `[calendar]`: working days and office hours (docs/domain.md §4).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// Directory of per-year holiday files (`2024.toml`, …); absent = the files built into
    /// the binary (2024–2026). A year with no file is an error, never assumed.
    pub holidays_dir: Option<PathBuf>,
    /// Office hours, `HH:MM-HH:MM` intervals in order.
    pub office_hours: Vec<String>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            holidays_dir: None,
            office_hours: vec!["07:00-11:30".into(), "13:30-17:00".into()],
        }
    }
}

impl CalendarConfig {
    /// Builds the calendar; errors name the key and the file.
    pub fn build(&self) -> Result<Calendar, ConfigError> {
        let base = match &self.holidays_dir {
            Some(dir) => Calendar::load_dir(dir)
                .map_err(|e| invalid("calendar.holidays_dir", e.to_string()))?,
            None => Calendar::builtin(),
        };
        let mut intervals = Vec::new();
        for text in &self.office_hours {
            let parsed = text.split_once('-').and_then(|(a, b)| {
                let t = |x: &str| chrono::NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
                Some((t(a)?, t(b)?))
            });
            match parsed {
                Some(iv) => intervals.push(iv),
                None => {
                    return Err(invalid(
                        "calendar.office_hours",
                        format!("`{text}` is not an interval like \"07:00-11:30\""),
                    ))
                }
            }
        }
        let hours = OfficeHours::new(intervals)
            .map_err(|e| invalid("calendar.office_hours", e.to_string()))?;
        Ok(base.with_office_hours(hours))
    }
}

impl NationalConfig {
    /// `sync_grace_minutes` as a duration.
    pub fn sync_grace(&self) -> Duration {
        Duration::from_secs(u64::from(self.sync_grace_minutes) * 60)
    }
    /// `due_soon_hours` as a duration.
    pub fn due_soon(&self) -> Duration {
        Duration::from_secs(u64::from(self.due_soon_hours) * 3600)
    }
    /// `recheck_hours` as a duration.
    pub fn recheck(&self) -> Duration {
        Duration::from_secs(u64::from(self.recheck_hours) * 3600)
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
        if profile.auth == crate::source::profile::AuthStyle::Oauth2Password {
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
        Ok(())
    }
}

/// Which generation of the published-score API to call (docs/domain.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoresApi {
    /// `POST <portal>/jsp/rest.jsp`, `report_tinh_766_service` (to 2025).
    Legacy,
    /// `POST <portal>/api/v1/reporting/evaluation/dvc-progress-tree` (2026).
    ProgressTree,
}

impl ScoresApi {
    /// The name used in the config and in `published_score.api`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScoresApi::Legacy => "legacy",
            ScoresApi::ProgressTree => "progress_tree",
        }
    }
    fn parse(s: &str) -> Option<ScoresApi> {
        [ScoresApi::Legacy, ScoresApi::ProgressTree]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// Section `[scores]`: where the published 766 scores are read.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoresConfig {
    /// `legacy` or `progress_tree`.
    pub api: String,
    /// Base URL of the portal (the API paths are appended to it).
    pub portal_url: String,
    /// Legacy: the province's `p_tinh_id`.
    #[serde(default)]
    pub province_id: Option<i64>,
    /// Legacy: `p_loaidonvi`, the kind of units listed.
    #[serde(default = "default_unit_type")]
    pub legacy_unit_type: i64,
    /// 2026: the province's `rootDepartmentId` (a UUID; they were re-created in 2026).
    #[serde(default)]
    pub root_department_id: Option<String>,
    /// Rows asked for per page.
    #[serde(default = "default_scores_page_size")]
    pub page_size: u32,
    /// `[scores.http]`: the portal's HTTP policy for these calls.
    #[serde(default)]
    pub http: HttpPolicy,
}

fn default_unit_type() -> i64 {
    1
}
fn default_scores_page_size() -> u32 {
    100
}

impl ScoresConfig {
    /// The API named by `scores.api` (valid after [`Config::validate`]).
    pub fn api(&self) -> ScoresApi {
        ScoresApi::parse(&self.api).unwrap_or(ScoresApi::ProgressTree)
    }

    /// Checks the `[scores]` keys: the API name, the URL, the id the chosen API needs, the
    /// page size and the HTTP policy.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let Some(api) = ScoresApi::parse(&self.api) else {
            return Err(invalid(
                "scores.api",
                format!("`{}`: use \"legacy\" or \"progress_tree\"", self.api),
            ));
        };
        check_url("scores.portal_url", &self.portal_url)?;
        match api {
            ScoresApi::Legacy if self.province_id.is_none_or(|id| id <= 0) => {
                return Err(invalid(
                    "scores.province_id",
                    "api = \"legacy\" needs the province's p_tinh_id (a number > 0)",
                ))
            }
            ScoresApi::ProgressTree
                if self
                    .root_department_id
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty()) =>
            {
                return Err(invalid(
                    "scores.root_department_id",
                    "api = \"progress_tree\" needs the province's rootDepartmentId (a UUID)",
                ))
            }
            _ => {}
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(invalid("scores.page_size", "must be 1..=1000"));
        }
        self.http
            .validate("scores.http")
            .map_err(|message| invalid("scores.http", message))
    }
}

impl NationalConfig {
    /// Checks `national.list_units` and `national.list_days`.
    fn validate_list(&self) -> Result<(), ConfigError> {
        if self.list_units.iter().any(|u| u.trim().is_empty()) {
            return Err(invalid("national.list_units", "holds an empty unit code"));
        }
        if !self.list_units.is_empty() && !(1..=366).contains(&self.list_days) {
            return Err(invalid("national.list_days", "must be 1..=366"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = include_str!("../config/tthc-sync.example.toml");

    /// The example with each `(from, to)` edit applied (the first occurrence of `from`) is
    /// rejected, and the error names `key`.
    fn assert_error_names(edits: &[(&str, &str)], key: &str) {
        let mut text = EXAMPLE.to_string();
        for (from, to) in edits {
            assert!(text.contains(from), "example lacks {from}");
            text = text.replacen(from, to, 1);
        }
        let err = Config::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{err} should name {key}");
    }

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
            assert_error_names(&[(from, to)], key);
        }
    }

    #[test]
    fn daemon_section() {
        let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
        assert_eq!(cfg.daemon.sync_schedule.as_deref(), Some("*/15 * * * *"));
        assert_eq!(cfg.daemon.report_schedule, None);
        assert_eq!(
            cfg.daemon.http_addr().unwrap(),
            Some("127.0.0.1:9464".parse().unwrap())
        );
        // Without the section: valid, sync and housekeeping on their defaults, nothing served.
        let start = EXAMPLE.find("\n[daemon]").unwrap();
        let without = &EXAMPLE[..start];
        let cfg = Config::parse(without, Path::new("x.toml")).unwrap();
        assert_eq!(cfg.daemon, DaemonConfig::default());
        let scheduled: Vec<&str> = cfg
            .daemon
            .schedules()
            .iter()
            .filter(|(_, _, s)| s.is_some())
            .map(|(job, _, _)| *job)
            .collect();
        assert_eq!(scheduled, ["sync", "housekeeping"]);
        assert_eq!(cfg.daemon.http_addr().unwrap(), None);
        // An empty schedule unschedules a job.
        let text = EXAMPLE.replacen(
            "housekeeping_schedule = \"30 2 * * *\"",
            "housekeeping_schedule = \"\"",
            1,
        );
        let cfg = Config::parse(&text, Path::new("x.toml")).unwrap();
        assert!(cfg.daemon.schedules()[1].2.is_none());
        // (from, to, key the error must name)
        let cases: &[(&str, &str, &str)] = &[
            (
                "sync_schedule = \"*/15 * * * *\"",
                "sync_schedule = \"every now and then\"",
                "daemon.sync_schedule",
            ),
            (
                "housekeeping_schedule = \"30 2 * * *\"",
                "housekeeping_schedule = \"99 2 * * *\"",
                "daemon.housekeeping_schedule",
            ),
            (
                "# report_schedule = \"0 6 1 * *\"",
                "report_schedule = \"0 6 1 *\"",
                "daemon.report_schedule",
            ),
            (
                "http_listen = \"127.0.0.1:9464\"",
                "http_listen = \"localhost\"",
                "daemon.http_listen",
            ),
            (
                "sync_max_age_minutes = 90",
                "sync_max_age_minutes = 0",
                "daemon.sync_max_age_minutes",
            ),
            (
                "stop_grace_seconds = 25",
                "stop_grace_seconds = 0",
                "daemon.stop_grace_seconds",
            ),
        ];
        for (from, to, key) in cases {
            assert_error_names(&[(from, to)], key);
        }
    }

    #[test]
    fn scores_section_is_optional_and_its_errors_name_the_key() {
        let cfg = Config::parse(EXAMPLE, Path::new("example.toml")).unwrap();
        let sc = cfg.scores.expect("the example has [scores]");
        assert_eq!(sc.api(), ScoresApi::ProgressTree);
        assert!(
            cfg.national.list_units.is_empty(),
            "DanhSachHoSo is off by default"
        );
        // The section is the file's last: cut it off.
        let start = EXAMPLE.find("\n[scores]").unwrap();
        let without = &EXAMPLE[..start];
        assert!(Config::parse(without, Path::new("x.toml"))
            .unwrap()
            .scores
            .is_none());
        let progress_tree = "api = \"progress_tree\"";
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[(progress_tree, "api = \"v3\"")], "scores.api"),
            (
                &[
                    (progress_tree, "api = \"legacy\""),
                    ("province_id = 11", "province_id = 0"),
                ],
                "scores.province_id",
            ),
            (
                &[(
                    "root_department_id = \"00000000-0000-0000-0000-000000000000\"",
                    "root_department_id = \" \"",
                )],
                "scores.root_department_id",
            ),
            (
                &[(
                    "portal_url = \"https://dichvucong.gov.vn\"",
                    "portal_url = \"dichvucong\"",
                )],
                "scores.portal_url",
            ),
            (
                &[(
                    "page_size = 100\n\n[scores.http]",
                    "page_size = 0\n\n[scores.http]",
                )],
                "scores.page_size",
            ),
            (
                &[
                    ("list_units = []", "list_units = [\"000.01.31.H18\"]"),
                    ("list_days = 30", "list_days = 0"),
                ],
                "national.list_days",
            ),
            (
                &[("list_units = []", "list_units = [\"\"]")],
                "national.list_units",
            ),
        ];
        for (edits, key) in cases {
            assert_error_names(edits, key);
        }
    }

    #[test]
    fn profile_headers_and_profile_file_are_checked() {
        let text = EXAMPLE.replacen("profile = \"igate\"", "profile = \"opencps\"", 1);
        let err = Config::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("provincial.group_id"), "{err}");
        let ok = text.replacen("[provincial]\n", "[provincial]\ngroup_id = \"35\"\n", 1);
        Config::parse(&ok, Path::new("x.toml")).unwrap();
        let text = EXAMPLE.replacen("profile = \"igate\"", "profile = \"td\"", 1);
        let err = Config::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("provincial.tenant"), "{err}");
        let text = EXAMPLE.replacen(
            "[provincial]\n",
            "[provincial]\nprofile_file = \"/nonexistent/my-igate.toml\"\n",
            1,
        );
        let err = Config::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("provincial.profile_file") && err.contains("my-igate.toml"),
            "{err}"
        );
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
