//! `/healthz` and `/metrics`.
//!
//! Rendering is pure: a plain [`HealthSnapshot`] (and, for `/healthz`, "now") in, status and
//! text out. The service keeps one snapshot behind an `Arc<RwLock<_>>`, updates it as jobs
//! finish, and serves it with [`router`]. Only the handlers read the clock.
//!
//! `/healthz` answers 200 when every job's last success is within its allowed age, 503
//! otherwise, with one line per job saying how old its last success is. A job that has not
//! succeeded since start-up is judged by the time since start-up, so a fresh start is healthy
//! until the first limit passes.
//!
//! `/metrics` is Prometheus text exposition format 0.0.4; every name starts with `tthc_sync_`.
//! Nothing in it identifies a citizen or a dossier: labels are job names, outcomes,
//! discrepancy kinds and host names.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, FixedOffset};

pub use super::schedule::JobOutcome;
use crate::store::PullRecord;

/// What `/healthz` needs to know about one job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobHealth {
    /// The job's name (`sync`, `housekeeping`, `report`, `scores`).
    pub name: String,
    /// How its last run in this process ended; `None` before the first.
    pub last_outcome: Option<JobOutcome>,
    /// Its last `ok` run: stored in the database at start-up, then this process's.
    pub last_success: Option<DateTime<FixedOffset>>,
    /// Unhealthy once the last success is older than this.
    pub max_age: Duration,
}

/// Percentiles of how far the national portal's view lags the provincial system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Freshness {
    /// The median age, in seconds, of the national view of active dossiers at the last sync
    /// (`sync_run.freshness_p50_s`).
    pub p50_seconds: f64,
    /// The 95th percentile of that age, in seconds.
    pub p95_seconds: f64,
}

/// Everything `/healthz` and `/metrics` show. Counters only grow during the process's life.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    /// When the service started (judges jobs that have not succeeded yet).
    pub started_at: DateTime<FixedOffset>,
    /// In configuration order.
    pub jobs: Vec<JobHealth>,
    /// Runs by (job, outcome).
    pub runs: BTreeMap<(String, JobOutcome), u64>,
    /// `TraCuuHoSo` look-ups made since start-up.
    pub national_lookups_total: u64,
    /// Open discrepancies by kind (a gauge: recomputed after each reconciliation).
    pub open_discrepancies: BTreeMap<String, u64>,
    /// The national view's age as the last sync measured it (also on its `sync_run` row);
    /// `None` until a sync has measured it, and then `/metrics` leaves its gauges out.
    pub national_freshness: Option<Freshness>,
    /// Dossiers whose national look-ups have failed for longer than
    /// `national.lookup_failing_after_hours` (a gauge, recomputed after each job); `None`
    /// until first counted, and then `/metrics` leaves it out.
    pub national_lookups_failing: Option<u64>,
    /// HTTP errors (after retries) by host.
    pub http_errors: BTreeMap<String, u64>,
    /// The last provincial pull by (source, mode): pages, rows, the reported total, whether
    /// it reached the end (gauges).
    pub last_pulls: BTreeMap<(String, String), PullRecord>,
    /// Provincial pulls by (mode, whether they reached the end) since start-up.
    pub pulls_total: BTreeMap<(String, bool), u64>,
}

impl HealthSnapshot {
    /// An empty snapshot of a service started at `started_at`: no jobs, every counter 0.
    pub fn new(started_at: DateTime<FixedOffset>) -> HealthSnapshot {
        HealthSnapshot {
            started_at,
            jobs: Vec::new(),
            runs: BTreeMap::new(),
            national_lookups_total: 0,
            open_discrepancies: BTreeMap::new(),
            national_freshness: None,
            national_lookups_failing: None,
            http_errors: BTreeMap::new(),
            last_pulls: BTreeMap::new(),
            pulls_total: BTreeMap::new(),
        }
    }

    /// Registers a job (or updates its `max_age` on reload). `last_success` is the value
    /// stored in the database, if any.
    pub fn set_job(
        &mut self,
        name: &str,
        max_age: Duration,
        last_success: Option<DateTime<FixedOffset>>,
    ) {
        match self.jobs.iter_mut().find(|j| j.name == name) {
            Some(job) => job.max_age = max_age,
            None => self.jobs.push(JobHealth {
                name: name.to_owned(),
                last_outcome: None,
                last_success,
                max_age,
            }),
        }
    }

    /// Records a finished run: counts it, and for a known job sets its last outcome and, when
    /// `Ok`, its last success to `finished_at`.
    pub fn record_run(
        &mut self,
        name: &str,
        outcome: JobOutcome,
        finished_at: DateTime<FixedOffset>,
    ) {
        *self.runs.entry((name.to_owned(), outcome)).or_insert(0) += 1;
        if let Some(job) = self.jobs.iter_mut().find(|j| j.name == name) {
            job.last_outcome = Some(outcome);
            if outcome == JobOutcome::Ok {
                job.last_success = Some(finished_at);
            }
        }
    }

    /// Records the provincial pulls of a sync run.
    pub fn record_pulls(&mut self, pulls: &[PullRecord]) {
        for p in pulls {
            *self
                .pulls_total
                .entry((p.mode.clone(), p.reached_end))
                .or_insert(0) += 1;
            self.last_pulls
                .insert((p.source.clone(), p.mode.clone()), p.clone());
        }
    }

    /// Counts an HTTP error against `host`.
    pub fn record_http_error(&mut self, host: &str) {
        *self.http_errors.entry(host.to_owned()).or_insert(0) += 1;
    }
}

/// `/healthz`: `(200, "ok\n...")` or `(503, "unhealthy: ...\n...")`, one line per job.
pub fn render_healthz(snapshot: &HealthSnapshot, now: DateTime<FixedOffset>) -> (u16, String) {
    let mut lines = Vec::with_capacity(snapshot.jobs.len());
    let mut stale = Vec::new();
    for job in &snapshot.jobs {
        let since = job.last_success.unwrap_or(snapshot.started_at);
        // A clock step backwards must not make anything look older than it is.
        let age = (now - since).to_std().unwrap_or(Duration::ZERO);
        let too_old = age > job.max_age;
        let what = match job.last_success {
            Some(t) => format!("last success {} ({} ago)", t.to_rfc3339(), human(age)),
            None => format!("no success since start-up ({} ago)", human(age)),
        };
        let last_run = job.last_outcome.map_or("none", JobOutcome::as_str);
        lines.push(format!(
            "job {}: {}{what}, limit {}, last run {last_run}",
            job.name,
            if too_old { "STALE: " } else { "" },
            human(job.max_age),
        ));
        if too_old {
            stale.push(job.name.as_str());
        }
    }
    let (status, head) = if stale.is_empty() {
        (200, "ok".to_owned())
    } else {
        (503, format!("unhealthy: stale {}", stale.join(", ")))
    };
    let mut body = head;
    body.push('\n');
    for line in lines {
        body.push_str(&line);
        body.push('\n');
    }
    (status, body)
}

/// `7260s` → `7260s (2h01m00s)`; short durations stay in seconds.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        return format!("{s}s");
    }
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{s}s ({h}h{m:02}m{sec:02}s)")
    } else {
        format!("{s}s ({m}m{sec:02}s)")
    }
}

/// `/metrics` in Prometheus text exposition format.
pub fn render_metrics(snapshot: &HealthSnapshot) -> String {
    let mut out = Exposition::default();

    out.family(
        "tthc_sync_start_time_seconds",
        "gauge",
        "When the service started, as a Unix timestamp.",
    );
    out.sample(
        "tthc_sync_start_time_seconds",
        &[],
        unix_seconds(snapshot.started_at),
    );

    out.family(
        "tthc_sync_job_runs_total",
        "counter",
        "Finished job runs by job and outcome (ok, partial, failed).",
    );
    let mut runs = snapshot.runs.clone();
    for job in &snapshot.jobs {
        for outcome in JobOutcome::ALL {
            runs.entry((job.name.clone(), outcome)).or_insert(0);
        }
    }
    for ((job, outcome), n) in &runs {
        out.sample(
            "tthc_sync_job_runs_total",
            &[("job", job), ("outcome", outcome.as_str())],
            *n as f64,
        );
    }

    out.family(
        "tthc_sync_job_last_outcome",
        "gauge",
        "1 for the outcome of the job's last run, 0 for the others.",
    );
    for job in &snapshot.jobs {
        if let Some(last) = job.last_outcome {
            for outcome in JobOutcome::ALL {
                out.sample(
                    "tthc_sync_job_last_outcome",
                    &[("job", &job.name), ("outcome", outcome.as_str())],
                    if outcome == last { 1.0 } else { 0.0 },
                );
            }
        }
    }

    out.family(
        "tthc_sync_job_last_success_timestamp_seconds",
        "gauge",
        "End of the job's last successful run, as a Unix timestamp.",
    );
    for job in &snapshot.jobs {
        if let Some(t) = job.last_success {
            out.sample(
                "tthc_sync_job_last_success_timestamp_seconds",
                &[("job", &job.name)],
                unix_seconds(t),
            );
        }
    }

    out.family(
        "tthc_sync_job_max_age_seconds",
        "gauge",
        "Age of the last success beyond which /healthz reports the job stale.",
    );
    for job in &snapshot.jobs {
        out.sample(
            "tthc_sync_job_max_age_seconds",
            &[("job", &job.name)],
            job.max_age.as_secs_f64(),
        );
    }

    out.family(
        "tthc_sync_national_lookups_total",
        "counter",
        "Look-ups made against the National Public Service Portal.",
    );
    out.sample(
        "tthc_sync_national_lookups_total",
        &[],
        snapshot.national_lookups_total as f64,
    );

    out.family(
        "tthc_sync_open_discrepancies",
        "gauge",
        "Open discrepancies between the provincial system and the national portal, by kind.",
    );
    for (kind, n) in &snapshot.open_discrepancies {
        out.sample("tthc_sync_open_discrepancies", &[("kind", kind)], *n as f64);
    }

    if let Some(f) = snapshot.national_freshness {
        out.family(
            "tthc_sync_national_view_freshness_p50_seconds",
            "gauge",
            "Median lag of the national portal's view behind the provincial system.",
        );
        out.sample(
            "tthc_sync_national_view_freshness_p50_seconds",
            &[],
            f.p50_seconds,
        );
        out.family(
            "tthc_sync_national_view_freshness_p95_seconds",
            "gauge",
            "95th percentile lag of the national portal's view behind the provincial system.",
        );
        out.sample(
            "tthc_sync_national_view_freshness_p95_seconds",
            &[],
            f.p95_seconds,
        );
    }

    if let Some(n) = snapshot.national_lookups_failing {
        out.family(
            "tthc_sync_national_lookups_failing",
            "gauge",
            "Dossiers whose national look-ups have failed for longer than national.lookup_failing_after_hours.",
        );
        out.sample("tthc_sync_national_lookups_failing", &[], n as f64);
    }
    render_pulls(&mut out, snapshot);

    out.family(
        "tthc_sync_http_errors_total",
        "counter",
        "HTTP requests that failed after retries, by host.",
    );
    for (host, n) in &snapshot.http_errors {
        out.sample("tthc_sync_http_errors_total", &[("host", host)], *n as f64);
    }

    out.text
}

/// The provincial pulls' families: the last pull per (source, mode), and pulls by whether they
/// reached the end.
fn render_pulls(out: &mut Exposition, snapshot: &HealthSnapshot) {
    type Gauge = fn(&PullRecord) -> Option<f64>;
    let gauges: [(&str, &str, Gauge); 4] = [
        (
            "tthc_sync_provincial_pull_pages",
            "Pages the last provincial pull read, by source and mode (incremental, sweep).",
            |p| Some(f64::from(p.pages)),
        ),
        (
            "tthc_sync_provincial_pull_rows",
            "Distinct dossiers the last provincial pull read.",
            |p| Some(p.rows_read as f64),
        ),
        (
            "tthc_sync_provincial_pull_reported_total",
            "The list's total the provincial system reported at the last pull's end (absent \
             when the profile's paging gives none).",
            |p| p.total_at_end.map(|t| t as f64),
        ),
        (
            "tthc_sync_provincial_pull_reached_end",
            "1 when the last provincial pull established the end of what it had to read, 0 when \
             it stopped short (a failed page, the page limit).",
            |p| Some(if p.reached_end { 1.0 } else { 0.0 }),
        ),
    ];
    for (name, help, value) in gauges {
        out.family(name, "gauge", help);
        for ((source, mode), p) in &snapshot.last_pulls {
            if let Some(v) = value(p) {
                out.sample(name, &[("source", source), ("mode", mode)], v);
            }
        }
    }
    out.family(
        "tthc_sync_provincial_pulls_total",
        "counter",
        "Provincial pulls by mode and whether they reached the end (yes, no).",
    );
    for ((mode, end), n) in &snapshot.pulls_total {
        let end = if *end { "yes" } else { "no" };
        out.sample(
            "tthc_sync_provincial_pulls_total",
            &[("mode", mode), ("reached_end", end)],
            *n as f64,
        );
    }
}

fn unix_seconds(t: DateTime<FixedOffset>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", escape_label_value(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", format_value(value));
    }
}

/// HELP text: backslash and line feed are escaped.
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Label values: backslash, double quote and line feed are escaped.
fn escape_label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Prometheus spells the special values `NaN`, `+Inf`, `-Inf`.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        v.to_string()
    }
}

/// The snapshot shared between the service (writer) and the HTTP handlers (readers).
pub type SharedHealth = Arc<RwLock<HealthSnapshot>>;

/// `GET /healthz` and `GET /metrics`. Serve it with `axum::serve` on the configured address.
pub fn router(shared: SharedHealth) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn healthz(State(shared): State<SharedHealth>) -> Response {
    let now = chrono::Utc::now().fixed_offset();
    let (status, body) = {
        // A writer that panicked leaves a usable snapshot; keep serving it.
        let snapshot = shared.read().unwrap_or_else(|e| e.into_inner());
        render_healthz(&snapshot, now)
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn metrics(State(shared): State<SharedHealth>) -> Response {
    let body = {
        let snapshot = shared.read().unwrap_or_else(|e| e.into_inner());
        render_metrics(&snapshot)
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vn(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_str(&format!("{s} +07:00"), "%Y-%m-%d %H:%M:%S %z").unwrap()
    }

    const HOUR: Duration = Duration::from_secs(3600);

    fn snapshot() -> HealthSnapshot {
        let mut s = HealthSnapshot::new(vn("2026-11-27 08:00:00"));
        s.set_job("provincial-sync", HOUR, Some(vn("2026-11-27 09:30:00")));
        s.set_job("national-sync", 2 * HOUR, None);
        s
    }

    #[test]
    fn healthz_cases() {
        // (now, expected status, fragments the body must contain)
        let cases: &[(&str, u16, &[&str])] = &[
            (
                "2026-11-27 10:00:00",
                200,
                &[
                    "ok\n",
                    "job provincial-sync: last success 2026-11-27T09:30:00+07:00 (1800s (30m00s) ago), limit 3600s (1h00m00s), last run none\n",
                    "job national-sync: no success since start-up (7200s (2h00m00s) ago), limit 7200s (2h00m00s), last run none\n",
                ],
            ),
            (
                "2026-11-27 10:30:01",
                503,
                &[
                    "unhealthy: stale provincial-sync, national-sync\n",
                    "job provincial-sync: STALE: last success 2026-11-27T09:30:00+07:00 (3601s (1h00m01s) ago)",
                    "job national-sync: STALE: no success since start-up (9001s (2h30m01s) ago)",
                ],
            ),
            // clock stepped back before the last success: age 0, healthy
            ("2026-11-27 07:00:00", 200, &["ok\n", "(0s ago)"]),
        ];
        let s = snapshot();
        for (now, status, fragments) in cases {
            let (got_status, body) = render_healthz(&s, vn(now));
            assert_eq!(got_status, *status, "at {now}:\n{body}");
            for f in *fragments {
                assert!(body.contains(f), "at {now}, body lacks {f:?}:\n{body}");
            }
        }
    }

    #[test]
    fn healthz_follows_recorded_runs() {
        let mut s = snapshot();
        let now = vn("2026-11-27 11:00:00");
        assert_eq!(render_healthz(&s, now).0, 503);
        s.record_run("provincial-sync", JobOutcome::Ok, vn("2026-11-27 10:55:00"));
        s.record_run(
            "national-sync",
            JobOutcome::Partial,
            vn("2026-11-27 10:56:00"),
        );
        let (status, body) = render_healthz(&s, now);
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            body,
            "unhealthy: stale national-sync\n\
             job provincial-sync: last success 2026-11-27T10:55:00+07:00 (300s (5m00s) ago), limit 3600s (1h00m00s), last run ok\n\
             job national-sync: STALE: no success since start-up (10800s (3h00m00s) ago), limit 7200s (2h00m00s), last run partial\n"
        );
        s.record_run("national-sync", JobOutcome::Ok, vn("2026-11-27 10:58:00"));
        assert_eq!(render_healthz(&s, now).0, 200);
    }

    #[test]
    fn no_jobs_is_healthy() {
        let s = HealthSnapshot::new(vn("2026-11-27 08:00:00"));
        assert_eq!(
            render_healthz(&s, vn("2030-01-01 00:00:00")),
            (200, "ok\n".into())
        );
    }

    #[test]
    fn metrics_exposition() {
        let mut s = snapshot();
        s.record_run("provincial-sync", JobOutcome::Ok, vn("2026-11-27 10:00:00"));
        s.record_run("provincial-sync", JobOutcome::Ok, vn("2026-11-27 10:05:00"));
        s.record_run(
            "national-sync",
            JobOutcome::Failed,
            vn("2026-11-27 10:06:00"),
        );
        s.national_lookups_total = 1234;
        s.open_discrepancies.insert("missing_on_national".into(), 7);
        s.open_discrepancies.insert("status_mismatch".into(), 2);
        s.national_freshness = Some(Freshness {
            p50_seconds: 120.5,
            p95_seconds: 3600.0,
        });
        s.national_lookups_failing = Some(3);
        s.record_http_error("dichvucong.gov.vn");
        s.record_http_error("dichvucong.gov.vn");
        let pull = |mode: &str, pages, rows, total, end| PullRecord {
            source: "provincial:igate".into(),
            mode: mode.into(),
            pages,
            rows_read: rows,
            total_at_end: total,
            reached_end: end,
            ..PullRecord::default()
        };
        s.record_pulls(&[pull("sweep", 9, 400, Some(1500), true)]);
        s.record_pulls(&[
            pull("incremental", 1, 50, None, true),
            pull("sweep", 3, 150, Some(1500), false),
        ]);
        let text = render_metrics(&s);
        let expected = r#"# HELP tthc_sync_start_time_seconds When the service started, as a Unix timestamp.
# TYPE tthc_sync_start_time_seconds gauge
tthc_sync_start_time_seconds 1795741200
# HELP tthc_sync_job_runs_total Finished job runs by job and outcome (ok, partial, failed).
# TYPE tthc_sync_job_runs_total counter
tthc_sync_job_runs_total{job="national-sync",outcome="ok"} 0
tthc_sync_job_runs_total{job="national-sync",outcome="partial"} 0
tthc_sync_job_runs_total{job="national-sync",outcome="failed"} 1
tthc_sync_job_runs_total{job="provincial-sync",outcome="ok"} 2
tthc_sync_job_runs_total{job="provincial-sync",outcome="partial"} 0
tthc_sync_job_runs_total{job="provincial-sync",outcome="failed"} 0
# HELP tthc_sync_job_last_outcome 1 for the outcome of the job's last run, 0 for the others.
# TYPE tthc_sync_job_last_outcome gauge
tthc_sync_job_last_outcome{job="provincial-sync",outcome="ok"} 1
tthc_sync_job_last_outcome{job="provincial-sync",outcome="partial"} 0
tthc_sync_job_last_outcome{job="provincial-sync",outcome="failed"} 0
tthc_sync_job_last_outcome{job="national-sync",outcome="ok"} 0
tthc_sync_job_last_outcome{job="national-sync",outcome="partial"} 0
tthc_sync_job_last_outcome{job="national-sync",outcome="failed"} 1
# HELP tthc_sync_job_last_success_timestamp_seconds End of the job's last successful run, as a Unix timestamp.
# TYPE tthc_sync_job_last_success_timestamp_seconds gauge
tthc_sync_job_last_success_timestamp_seconds{job="provincial-sync"} 1795748700
# HELP tthc_sync_job_max_age_seconds Age of the last success beyond which /healthz reports the job stale.
# TYPE tthc_sync_job_max_age_seconds gauge
tthc_sync_job_max_age_seconds{job="provincial-sync"} 3600
tthc_sync_job_max_age_seconds{job="national-sync"} 7200
# HELP tthc_sync_national_lookups_total Look-ups made against the National Public Service Portal.
# TYPE tthc_sync_national_lookups_total counter
tthc_sync_national_lookups_total 1234
# HELP tthc_sync_open_discrepancies Open discrepancies between the provincial system and the national portal, by kind.
# TYPE tthc_sync_open_discrepancies gauge
tthc_sync_open_discrepancies{kind="missing_on_national"} 7
tthc_sync_open_discrepancies{kind="status_mismatch"} 2
# HELP tthc_sync_national_view_freshness_p50_seconds Median lag of the national portal's view behind the provincial system.
# TYPE tthc_sync_national_view_freshness_p50_seconds gauge
tthc_sync_national_view_freshness_p50_seconds 120.5
# HELP tthc_sync_national_view_freshness_p95_seconds 95th percentile lag of the national portal's view behind the provincial system.
# TYPE tthc_sync_national_view_freshness_p95_seconds gauge
tthc_sync_national_view_freshness_p95_seconds 3600
# HELP tthc_sync_national_lookups_failing Dossiers whose national look-ups have failed for longer than national.lookup_failing_after_hours.
# TYPE tthc_sync_national_lookups_failing gauge
tthc_sync_national_lookups_failing 3
# HELP tthc_sync_provincial_pull_pages Pages the last provincial pull read, by source and mode (incremental, sweep).
# TYPE tthc_sync_provincial_pull_pages gauge
tthc_sync_provincial_pull_pages{source="provincial:igate",mode="incremental"} 1
tthc_sync_provincial_pull_pages{source="provincial:igate",mode="sweep"} 3
# HELP tthc_sync_provincial_pull_rows Distinct dossiers the last provincial pull read.
# TYPE tthc_sync_provincial_pull_rows gauge
tthc_sync_provincial_pull_rows{source="provincial:igate",mode="incremental"} 50
tthc_sync_provincial_pull_rows{source="provincial:igate",mode="sweep"} 150
# HELP tthc_sync_provincial_pull_reported_total The list's total the provincial system reported at the last pull's end (absent when the profile's paging gives none).
# TYPE tthc_sync_provincial_pull_reported_total gauge
tthc_sync_provincial_pull_reported_total{source="provincial:igate",mode="sweep"} 1500
# HELP tthc_sync_provincial_pull_reached_end 1 when the last provincial pull established the end of what it had to read, 0 when it stopped short (a failed page, the page limit).
# TYPE tthc_sync_provincial_pull_reached_end gauge
tthc_sync_provincial_pull_reached_end{source="provincial:igate",mode="incremental"} 1
tthc_sync_provincial_pull_reached_end{source="provincial:igate",mode="sweep"} 0
# HELP tthc_sync_provincial_pulls_total Provincial pulls by mode and whether they reached the end (yes, no).
# TYPE tthc_sync_provincial_pulls_total counter
tthc_sync_provincial_pulls_total{mode="incremental",reached_end="yes"} 1
tthc_sync_provincial_pulls_total{mode="sweep",reached_end="no"} 1
tthc_sync_provincial_pulls_total{mode="sweep",reached_end="yes"} 1
# HELP tthc_sync_http_errors_total HTTP requests that failed after retries, by host.
# TYPE tthc_sync_http_errors_total counter
tthc_sync_http_errors_total{host="dichvucong.gov.vn"} 2
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn every_metric_line_is_well_formed() {
        let mut s = snapshot();
        s.record_run(
            "weird \"job\"\\\nname",
            JobOutcome::Ok,
            vn("2026-11-27 10:00:00"),
        );
        s.open_discrepancies.insert("a\"b".into(), 1);
        let text = render_metrics(&s);
        for line in text.lines() {
            if line.starts_with('#') {
                let mut parts = line.splitn(4, ' ');
                assert!(matches!(parts.next(), Some("#")), "{line}");
                assert!(matches!(parts.next(), Some("HELP" | "TYPE")), "{line}");
                assert!(parts.next().unwrap().starts_with("tthc_sync_"), "{line}");
            } else {
                assert!(line.starts_with("tthc_sync_"), "{line}");
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok(), "{line}");
            }
        }
    }

    #[test]
    fn escaping() {
        // (input, label value escaped, HELP escaped)
        let cases: &[(&str, &str, &str)] = &[
            ("plain", "plain", "plain"),
            ("Sở Tư pháp", "Sở Tư pháp", "Sở Tư pháp"),
            ("a\"b", "a\\\"b", "a\"b"),
            ("a\\b", "a\\\\b", "a\\\\b"),
            ("a\nb", "a\\nb", "a\\nb"),
            ("\\\"\n", "\\\\\\\"\\n", "\\\\\"\\n"),
        ];
        for (input, label, help) in cases {
            assert_eq!(escape_label_value(input), *label, "label {input:?}");
            assert_eq!(escape_help(input), *help, "help {input:?}");
        }
        let mut s = HealthSnapshot::new(vn("2026-11-27 08:00:00"));
        s.record_http_error("evil\"host\\\n");
        assert!(render_metrics(&s)
            .contains("tthc_sync_http_errors_total{host=\"evil\\\"host\\\\\\n\"} 1\n"));
    }

    #[test]
    fn special_float_values() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (1.5, "1.5"),
            (1764205200.0, "1764205200"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(*v), *want);
        }
    }

    use std::future::IntoFuture;

    async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").expect("HTTP response");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase(), body.to_owned())
    }

    #[tokio::test]
    async fn router_serves_healthz_and_metrics() {
        let now = chrono::Utc::now().fixed_offset();
        let mut snapshot = HealthSnapshot::new(now - chrono::Duration::days(10));
        snapshot.set_job("fresh", HOUR, Some(now));
        snapshot.set_job("old", HOUR, Some(now - chrono::Duration::days(2)));
        let shared = Arc::new(RwLock::new(snapshot));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(axum::serve(listener, router(shared.clone())).into_future());

        let (status, head, body) = get(addr, "/healthz").await;
        assert_eq!(status, 503, "{body}");
        assert!(
            head.contains("content-type: text/plain; charset=utf-8"),
            "{head}"
        );
        assert!(body.starts_with("unhealthy: stale old\n"), "{body}");
        assert!(body.contains("job old: STALE: last success"), "{body}");

        shared
            .write()
            .unwrap()
            .set_job("old", Duration::from_secs(30 * 86400), None);
        let (status, _, body) = get(addr, "/healthz").await;
        assert_eq!(status, 200, "{body}");

        shared.write().unwrap().national_lookups_total = 42;
        let (status, head, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
            "{head}"
        );
        assert!(
            body.contains("\ntthc_sync_national_lookups_total 42\n"),
            "{body}"
        );
        assert!(body.contains("tthc_sync_job_max_age_seconds{job=\"old\"} 2592000\n"));

        let (status, _, _) = get(addr, "/nope").await;
        assert_eq!(status, 404);
        server.abort();
    }
}
