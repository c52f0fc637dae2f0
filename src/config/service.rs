//! How the service runs: `[service]`, `[report]`, `[reconcile]`, `[daemon]` and `[calendar]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{invalid, ConfigError};
use crate::calendar::{Calendar, InferenceSettings, OfficeHours};

/// `[report]`: the monthly report the service writes.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Where the scheduled report is written; default `reports/` next to the database.
    pub out_dir: Option<PathBuf>,
    /// `[report.document]`: the Office's choices for the official document.
    pub document: super::document::DocumentSettings,
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

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
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

/// `[calendar]`: working days and office hours (docs/domain.md §4).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// Directory of per-year holiday files (`2024.toml`, …); absent = the files built into
    /// the binary (2024–2026). A year with no file is an error, never assumed.
    pub holidays_dir: Option<PathBuf>,
    /// Office hours, `HH:MM-HH:MM` intervals in order.
    pub office_hours: Vec<String>,
    /// Statutory times of procedures (format of `config/statutory-times.toml`); absent = the
    /// file built into the binary (the demo world's procedures).
    pub statutory_times_file: Option<PathBuf>,
    /// Intake cut-off hours by procedure group (`HH:MM`; the group of a procedure is in the
    /// statutory-times file), `default` for every other group.
    pub cut_off_hours: BTreeMap<String, String>,
    /// Fewest dossiers of a procedure the file does not list (with received and due times)
    /// from which its statutory time is inferred; 0 = never inferred.
    pub infer_statutory_min_dossiers: u32,
    /// Share of them, in percent (51–100), that must give the same time.
    pub infer_statutory_min_percent: u32,
    /// How many of a procedure's dossiers are read: the latest received (at least
    /// `infer_statutory_min_dossiers`).
    pub infer_statutory_sample: u32,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            holidays_dir: None,
            office_hours: vec!["07:00-11:30".into(), "13:30-17:00".into()],
            statutory_times_file: None,
            cut_off_hours: [
                ("civil_status", "15:00"),
                ("certification", "15:00"),
                ("default", "17:00"),
            ]
            .into_iter()
            .map(|(g, h)| (g.to_string(), h.to_string()))
            .collect(),
            infer_statutory_min_dossiers: InferenceSettings::default().min_dossiers,
            infer_statutory_min_percent: InferenceSettings::default().min_percent,
            infer_statutory_sample: InferenceSettings::default().sample,
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
        let base = match &self.statutory_times_file {
            Some(file) => base.with_statutory_times(
                crate::calendar::StatutoryTimes::load_file(file)
                    .map_err(|e| invalid("calendar.statutory_times_file", e.to_string()))?,
            ),
            None => base,
        };
        let mut by_group = BTreeMap::new();
        let mut default = None;
        for (group, text) in &self.cut_off_hours {
            let hour = chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
                invalid(
                    "calendar.cut_off_hours",
                    format!("{group} = \"{text}\" is not an hour like \"15:00\""),
                )
            })?;
            if group == "default" {
                default = Some(hour);
            } else {
                by_group.insert(group.clone(), hour);
            }
        }
        let Some(default) = default else {
            return Err(invalid(
                "calendar.cut_off_hours",
                "no `default` hour (the cut-off of every other group, e.g. \"17:00\")",
            ));
        };
        let base = base.with_cut_offs(crate::calendar::CutOffs::new(by_group, default));
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
        Ok(base
            .with_office_hours(hours)
            .with_inference(self.inference()?))
    }

    /// `calendar.infer_statutory_*`, checked.
    fn inference(&self) -> Result<InferenceSettings, ConfigError> {
        if !(51..=100).contains(&self.infer_statutory_min_percent) {
            return Err(invalid(
                "calendar.infer_statutory_min_percent",
                "must be 51..=100 (more than half the dossiers, so they agree on one time)",
            ));
        }
        if self.infer_statutory_sample < self.infer_statutory_min_dossiers.max(1) {
            return Err(invalid(
                "calendar.infer_statutory_sample",
                "must be at least 1 and at least calendar.infer_statutory_min_dossiers",
            ));
        }
        Ok(InferenceSettings {
            min_dossiers: self.infer_statutory_min_dossiers,
            min_percent: self.infer_statutory_min_percent,
            sample: self.infer_statutory_sample,
        })
    }
}
