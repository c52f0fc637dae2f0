//! The portals' sections: `[provincial]`, `[national]` and `[scores]`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{check_url, invalid, ConfigError};
use crate::http::HttpPolicy;

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
    /// Keycloak realm of the SSO (igate): the token endpoint is
    /// `<sso_url>/auth/realms/<realm>/protocol/openid-connect/token`.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// The service account's login name on the provincial system.
    pub username: String,
    /// Password source: exactly one of these three ([`SecretRef`](super::SecretRef)). A file holding it.
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
    /// At most this many pages in one pull; the run is partial when the cap is hit, and a
    /// sweep cut short continues in the next run.
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
    pub fn load_profile(&self) -> Result<crate::profile::Profile, ConfigError> {
        let profile = match &self.profile_file {
            Some(path) => crate::profile::Profile::from_file(path)
                .map_err(|e| invalid("provincial.profile_file", e.to_string()))?,
            None => crate::profile::Profile::builtin(&self.profile)
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
fn default_realm() -> String {
    "digo".into()
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
    /// Password source: exactly one of these three ([`SecretRef`](super::SecretRef)). A file holding it.
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
    /// After a failed look-up, minutes before the dossier is tried again; the wait doubles
    /// with each further failure in a row, up to `lookup_backoff_max_hours`, and a failing
    /// dossier comes after every other one due (docs/domain.md §8).
    #[serde(default = "default_lookup_backoff")]
    pub lookup_backoff_minutes: u32,
    /// The longest wait, in hours, between two tries of a dossier whose look-ups keep failing.
    #[serde(default = "default_lookup_backoff_max")]
    pub lookup_backoff_max_hours: u32,
    /// A dossier whose look-ups have failed for longer than this many hours is reported: the
    /// discrepancy `lookup_failing`, `tthc-sync lookups --failing`, `/metrics` and the run's
    /// summary.
    #[serde(default = "default_lookup_failing_after")]
    pub lookup_failing_after_hours: u32,
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
fn default_lookup_backoff() -> u32 {
    15
}
fn default_lookup_backoff_max() -> u32 {
    24
}
fn default_lookup_failing_after() -> u32 {
    24
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

    /// The look-up planner's settings: the grace, due-soon, recheck and failure back-off keys.
    pub fn plan_settings(&self) -> crate::plan::PlanSettings {
        crate::plan::PlanSettings {
            sync_grace: self.sync_grace(),
            due_soon: self.due_soon(),
            recheck: self.recheck(),
            failure_backoff: Duration::from_secs(u64::from(self.lookup_backoff_minutes) * 60),
            failure_backoff_max: Duration::from_secs(
                u64::from(self.lookup_backoff_max_hours) * 3600,
            ),
        }
    }

    /// `lookup_failing_after_hours` as a duration: how long a dossier's look-ups fail before
    /// it is reported.
    pub fn lookup_failing_after(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.lookup_failing_after_hours))
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
    /// The API named by `scores.api` (valid after [`Config::validate`](super::Config::validate)).
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
    pub(super) fn validate_list(&self) -> Result<(), ConfigError> {
        if self.list_units.iter().any(|u| u.trim().is_empty()) {
            return Err(invalid("national.list_units", "holds an empty unit code"));
        }
        if !self.list_units.is_empty() && !(1..=366).contains(&self.list_days) {
            return Err(invalid("national.list_days", "must be 1..=366"));
        }
        Ok(())
    }

    /// Checks the failing look-ups' keys: `lookup_backoff_minutes`, `lookup_backoff_max_hours`
    /// and `lookup_failing_after_hours`.
    pub(super) fn validate_failing(&self) -> Result<(), ConfigError> {
        if !(1..=1440).contains(&self.lookup_backoff_minutes) {
            return Err(invalid(
                "national.lookup_backoff_minutes",
                "must be 1..=1440 (minutes)",
            ));
        }
        if !(1..=720).contains(&self.lookup_backoff_max_hours)
            || u64::from(self.lookup_backoff_max_hours) * 60
                < u64::from(self.lookup_backoff_minutes)
        {
            return Err(invalid(
                "national.lookup_backoff_max_hours",
                format!(
                    "must be 1..=720 (hours) and at least national.lookup_backoff_minutes ({} \
                     minutes)",
                    self.lookup_backoff_minutes
                ),
            ));
        }
        if !(1..=720).contains(&self.lookup_failing_after_hours) {
            return Err(invalid(
                "national.lookup_failing_after_hours",
                "must be 1..=720 (hours)",
            ));
        }
        Ok(())
    }
}
