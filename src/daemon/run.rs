//! `tthc-sync run`: the long-running service.
//!
//! Start-up: load and validate the config, build both portal clients, open the database
//! (which applies pending migrations), close runs a previous process abandoned, schedule the
//! configured jobs (a job missed while the service was down is due at once when
//! `daemon.run_missed_at_startup` says so), serve `/healthz` and `/metrics` when
//! `daemon.http_listen` is set, then send `READY=1`.
//!
//! The loop (`Service::run_loop`) starts due jobs, records finished ones, sends `WATCHDOG=1`
//! (it wakes at least every half `WATCHDOG_USEC`) and handles signals:
//!
//! - SIGHUP: `RELOADING=1`, re-read the file through the same code path as start-up
//!   (`Prepared::load`), apply it (schedules, clients, health limits, listen address) or keep
//!   the running one and log why, then `READY=1`.
//! - SIGTERM / SIGINT: `STOPPING=1`, stop scheduling, give the running job
//!   `daemon.stop_grace_seconds` to finish, else cancel it, and return.
//!
//! # Jobs
//!
//! What each job does is in [`super::jobs`]. Each job runs in its own task and holds the store
//! (one SQLite connection) while it runs, so jobs run one at a time; the scheduler keeps a job
//! from overlapping itself. Every run is a row in `sync_run` (`job` = the job's name), whose
//! last `ok` is what the start-up catch-up reads.
//!
//! Cancelling a job drops its future. That is safe by construction: the store's methods are
//! synchronous, so no SQLite transaction is ever open across an `.await`; a dropped job leaves
//! at most its `sync_run` row `running`, which is closed as failed ("interrupted") on the way
//! out, or by the next start-up if the process was killed.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, FixedOffset, TimeZone};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::task::{JoinHandle, JoinSet};

use super::health::{self, HealthSnapshot, SharedHealth};
use super::jobs::{self, Job, JobReport, JobRun};
use super::notify::Notifier;
use super::schedule::{parse_schedule, JobOutcome, JobSpec, Scheduler};
use crate::config::Config;
use crate::model::vn_offset;
use crate::model::LocalTime;
use crate::store::Store;
use crate::sync::{self, Clients};

/// The loop sleeps at most this long even when nothing is due (and no watchdog asks sooner).
const MAX_IDLE: Duration = Duration::from_secs(60);

/// A loaded configuration with what it takes to run it: clients built, schedules parsed.
struct Active {
    cfg: Config,
    clients: Clients,
    /// Give-ups per host already added to the health snapshot (the clients count for life).
    reported_http_errors: std::sync::Mutex<BTreeMap<String, u64>>,
}

impl Active {
    /// HTTP errors (calls given up) per host since the last call, over both clients.
    fn new_http_errors(&self) -> Vec<(String, u64)> {
        let mut now: BTreeMap<String, u64> = BTreeMap::new();
        for stats in [
            self.clients.provincial.http().stats(),
            self.clients.national.http().stats(),
        ] {
            for (host, s) in stats.hosts {
                *now.entry(host).or_default() += s.give_ups;
            }
        }
        let mut seen = self
            .reported_http_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for (host, n) in now {
            let before = seen.insert(host.clone(), n).unwrap_or(0);
            if n > before {
                out.push((host, n - before));
            }
        }
        out
    }
}

/// The result of reading a config file: everything checked, nothing applied yet.
struct Prepared {
    active: Arc<Active>,
    /// Configured jobs in run order, with their schedule text.
    jobs: Vec<(Job, String)>,
    http_addr: Option<SocketAddr>,
}

impl Prepared {
    /// The one code path for start-up and SIGHUP: `Config::load`, then the clients.
    fn load(path: &Path) -> anyhow::Result<Prepared> {
        let cfg = Config::load(path)?;
        let clients = Clients::new(&cfg)?;
        let jobs: Vec<(Job, String)> = cfg
            .daemon
            .schedules()
            .into_iter()
            .filter_map(|(name, _, expr)| {
                Some((Job::from_name(name).expect("known job"), expr?.to_owned()))
            })
            .collect();
        if jobs.is_empty() {
            bail!(
                "config key `daemon.sync_schedule`: no job is scheduled; set at least \
                 daemon.sync_schedule (e.g. \"*/15 * * * *\") in {}",
                path.display()
            );
        }
        let http_addr = cfg.daemon.http_addr()?;
        Ok(Prepared {
            active: Arc::new(Active {
                cfg,
                clients,
                reported_http_errors: Default::default(),
            }),
            jobs,
            http_addr,
        })
    }
}

/// What a finished job task hands back to the loop.
struct Done {
    job: Job,
    report: JobReport,
    lookups: u64,
    freshness: Option<health::Freshness>,
    open_by_kind: Option<Vec<(String, u64)>>,
    /// Dossiers whose national look-ups have failed for longer than
    /// `national.lookup_failing_after_hours` (recomputed after every job, like `open_by_kind`).
    lookups_failing: Option<u64>,
    pulls: Vec<crate::store::PullRecord>,
    active: Arc<Active>,
}

fn now_vn() -> DateTime<FixedOffset> {
    chrono::Utc::now().with_timezone(&vn_offset())
}

fn stored_to_instant(t: LocalTime) -> Option<DateTime<FixedOffset>> {
    vn_offset().from_local_datetime(&t).single()
}

/// `/healthz` limit of a job: `sync_max_age_minutes` for sync; for others twice the gap
/// between their next two firings, plus an hour.
fn max_age(job: Job, cfg: &Config, expr: &str, now: DateTime<FixedOffset>) -> Duration {
    if job == Job::Sync {
        return Duration::from_secs(u64::from(cfg.daemon.sync_max_age_minutes) * 60);
    }
    let gap = parse_schedule(expr)
        .ok()
        .and_then(|s| {
            let mut it = s.after(&now);
            let (a, b) = (it.next()?, it.next()?);
            (b - a).to_std().ok()
        })
        .unwrap_or(Duration::from_secs(86_400));
    gap * 2 + Duration::from_secs(3600)
}

fn notify(what: &str, result: std::io::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(target: "daemon", error = %e, "systemd notification {what} failed");
    }
}

/// Runs the service until SIGTERM or SIGINT. Errors before `READY=1` (config, database,
/// listen address) are returned; after that, problems are logged and the service goes on.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    let notifier = Notifier::from_env();
    let started = now_vn();
    // Signals first, so a SIGHUP/SIGTERM during start-up is not the default (fatal) action.
    let signals = Signals {
        term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
        hup: signal(SignalKind::hangup()).context("installing the SIGHUP handler")?,
    };
    let prepared = Prepared::load(config_path)?;
    let cfg = &prepared.active.cfg;
    let store = Store::open(&cfg.service.database)?;
    // Held for the service's life: no `sync --once` runs beside it.
    let _lock = crate::store::RunLock::acquire(&cfg.service.database)?;
    let closed = store.close_abandoned_runs(sync::local_now())?;
    if closed > 0 {
        tracing::warn!(target: "daemon", runs = closed,
            "closed runs left unfinished by a previous process as failed");
    }
    let health: SharedHealth = Arc::new(RwLock::new(HealthSnapshot::new(started)));
    let mut scheduler = Scheduler::new(vn_offset());
    for (job, expr) in &prepared.jobs {
        let last_success = store.last_success(job.name())?.and_then(stored_to_instant);
        let spec = JobSpec {
            name: job.name().to_owned(),
            schedule: parse_schedule(expr).map_err(anyhow::Error::msg)?,
            run_missed_at_startup: cfg.daemon.run_missed_at_startup,
            last_success,
        };
        let catch_up = scheduler.add_job(spec, started)?;
        health.write().unwrap_or_else(|e| e.into_inner()).set_job(
            job.name(),
            max_age(*job, cfg, expr, started),
            last_success,
        );
        let next = scheduler.job(job.name()).and_then(|j| j.next_due);
        tracing::info!(target: "daemon", job = job.name(), schedule = %expr, catch_up,
            next = next.map(|t| t.to_rfc3339()).unwrap_or_default(), "job scheduled");
    }
    let http = match prepared.http_addr {
        Some(addr) => Some(serve_health(addr, health.clone()).await?),
        None => None,
    };
    let web = match &prepared.active.cfg.web {
        Some(_) => Some(crate::web::start(Arc::new(prepared.active.cfg.clone())).await?),
        None => None,
    };
    let mut service = Service {
        path: config_path.to_path_buf(),
        notifier,
        active: prepared.active,
        store: Arc::new(tokio::sync::Mutex::new(store)),
        scheduler,
        health,
        http,
        _web: web,
        running: JoinSet::new(),
        task_jobs: HashMap::new(),
        last_status: "started".into(),
    };
    {
        let cfg = &service.active.cfg;
        tracing::info!(target: "daemon", config = %config_path.display(),
            database = %cfg.service.database.display(),
            http_listen = cfg.daemon.http_listen.as_deref().unwrap_or("off"),
            watchdog_ms = service.notifier.watchdog_interval().map(|d| d.as_millis() as u64),
            "service ready");
    }
    notify("READY=1", service.notifier.ready());
    service.status(format!("started; {}", service.next_line()));
    service.run_loop(signals).await
}

struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

struct HttpServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_health(addr: SocketAddr, health: SharedHealth) -> anyhow::Result<HttpServer> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("config key `daemon.http_listen`: cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(crate::serve::serve(
        listener,
        health::router(health),
        crate::serve::Limits::SERVICE,
    ));
    tracing::info!(target: "daemon", %addr, "serving /healthz and /metrics");
    Ok(HttpServer { addr, task })
}

struct Service {
    path: PathBuf,
    notifier: Notifier,
    active: Arc<Active>,
    store: Arc<tokio::sync::Mutex<Store>>,
    scheduler: Scheduler,
    health: SharedHealth,
    http: Option<HttpServer>,
    /// The review web page (`[web]`), served while this lives; a change of `[web]` takes
    /// effect at the next restart.
    _web: Option<crate::web::WebServer>,
    running: JoinSet<Done>,
    task_jobs: HashMap<tokio::task::Id, Job>,
    last_status: String,
}

impl Service {
    async fn run_loop(mut self, mut signals: Signals) -> anyhow::Result<()> {
        let watchdog = self.notifier.watchdog_interval();
        let mut next_ping = Instant::now();
        let stop_signal = loop {
            if let Some(every) = watchdog {
                if Instant::now() >= next_ping {
                    notify("WATCHDOG=1", self.notifier.watchdog());
                    next_ping = Instant::now() + every;
                }
            }
            for name in self.scheduler.due_jobs(now_vn()) {
                self.start(&name);
            }
            let mut nap = self
                .scheduler
                .next_wakeup()
                .map(|t| (t - now_vn()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(MAX_IDLE)
                .min(MAX_IDLE);
            if watchdog.is_some() {
                nap = nap.min(next_ping.saturating_duration_since(Instant::now()));
            }
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                Some(joined) = self.running.join_next_with_id(), if !self.running.is_empty() => {
                    self.finished(joined);
                }
                _ = signals.term.recv() => break "SIGTERM",
                _ = signals.int.recv() => break "SIGINT",
                _ = signals.hup.recv() => self.reload().await,
            }
        };
        self.shutdown(stop_signal, &mut signals, watchdog).await
    }

    fn start(&mut self, name: &str) {
        let Some(job) = Job::from_name(name) else {
            return;
        };
        let task = run_job(job, self.store.clone(), self.active.clone());
        let handle = self.running.spawn(task);
        self.task_jobs.insert(handle.id(), job);
    }

    fn finished(&mut self, joined: Result<(tokio::task::Id, Done), tokio::task::JoinError>) {
        let now = now_vn();
        let (job, report, lookups, freshness, open, failing, pulls, active) = match joined {
            Ok((id, done)) => {
                self.task_jobs.remove(&id);
                (
                    done.job,
                    done.report,
                    done.lookups,
                    done.freshness,
                    done.open_by_kind,
                    done.lookups_failing,
                    done.pulls,
                    Some(done.active),
                )
            }
            Err(e) => {
                let Some(job) = self.task_jobs.remove(&e.id()) else {
                    return;
                };
                let why = if e.is_cancelled() {
                    "cancelled".to_owned()
                } else {
                    format!("the job panicked: {e}")
                };
                tracing::error!(target: "daemon", job = job.name(), error = %why, "job failed");
                let report = JobReport {
                    outcome: JobOutcome::Failed,
                    summary: why,
                };
                (job, report, 0, None, None, None, Vec::new(), None)
            }
        };
        // A job removed by a reload while it ran is simply no longer scheduled.
        let _ = self.scheduler.finish(job.name(), now, report.outcome);
        {
            let mut h = self.health.write().unwrap_or_else(|e| e.into_inner());
            h.record_run(job.name(), report.outcome, now);
            h.national_lookups_total += lookups;
            h.record_pulls(&pulls);
            if freshness.is_some() {
                h.national_freshness = freshness;
            }
            if let Some(open) = open {
                h.open_discrepancies = open.into_iter().collect();
            }
            if failing.is_some() {
                h.national_lookups_failing = failing;
            }
            if let Some(active) = &active {
                for (host, n) in active.new_http_errors() {
                    *h.http_errors.entry(host).or_insert(0) += n;
                }
            }
        }
        let line = format!(
            "{} {} at {}: {}; {}",
            job.name(),
            report.outcome,
            now.format("%Y-%m-%d %H:%M:%S"),
            report.summary,
            self.next_line()
        );
        self.status(line);
    }

    /// `next sync 10:30:00, next housekeeping 02:30:00`
    fn next_line(&self) -> String {
        let parts: Vec<String> = self
            .scheduler
            .jobs()
            .iter()
            .map(|j| match j.next_due {
                Some(t) => format!("next {} {}", j.name, t.format("%Y-%m-%d %H:%M:%S")),
                None => format!("{}: no future firing", j.name),
            })
            .collect();
        parts.join(", ")
    }

    fn status(&mut self, line: String) {
        notify("STATUS=", self.notifier.status(&line));
        self.last_status = line;
    }

    /// SIGHUP: same code path as start-up; on any error the running configuration stays.
    async fn reload(&mut self) {
        notify("RELOADING=1", self.notifier.reloading());
        tracing::info!(target: "daemon", config = %self.path.display(), "SIGHUP: reloading the configuration");
        match self.prepare_reload().await {
            Ok(changed) => {
                let cfg = &self.active.cfg;
                tracing::info!(target: "daemon", config = %self.path.display(),
                    changed = %if changed.is_empty() { "nothing".to_owned() } else { changed.join(", ") },
                    sync_schedule = cfg.daemon.sync_schedule.as_deref().unwrap_or("off"),
                    lookups_per_cycle = cfg.national.lookups_per_cycle,
                    "configuration reloaded");
                let line = format!("configuration reloaded; {}", self.next_line());
                self.status(line);
            }
            Err(e) => {
                tracing::error!(target: "daemon", config = %self.path.display(), error = %format!("{e:#}"),
                    "reload failed; keeping the running configuration");
                let line = format!(
                    "reload failed, running the previous configuration: {e:#}; {}",
                    self.last_status
                );
                notify("STATUS=", self.notifier.status(&line));
            }
        }
        notify("READY=1", self.notifier.ready());
    }

    /// Loads, checks and applies the file; returns what changed.
    async fn prepare_reload(&mut self) -> anyhow::Result<Vec<String>> {
        let new = Prepared::load(&self.path)?;
        let old = &self.active.cfg;
        let cfg = &new.active.cfg;
        if cfg.service.database != old.service.database {
            bail!(
                "config key `service.database`: changed from {} to {}; a new database needs a \
                 restart (systemctl restart tthc-sync)",
                old.service.database.display(),
                cfg.service.database.display()
            );
        }
        // Everything that can fail is done before anything is applied.
        let new_http = if new.http_addr != self.http.as_ref().map(|h| h.addr)
            && cfg.daemon.http_listen != old.daemon.http_listen
        {
            match new.http_addr {
                Some(addr) => Some(Some(serve_health(addr, self.health.clone()).await?)),
                None => Some(None),
            }
        } else {
            None
        };
        let mut changed = Vec::new();
        for ((_, key, a), (_, _, b)) in old.daemon.schedules().iter().zip(cfg.daemon.schedules()) {
            if *a != b {
                changed.push((*key).to_owned());
            }
        }
        if old.daemon.http_listen != cfg.daemon.http_listen {
            changed.push("daemon.http_listen".into());
        }
        if old.web != cfg.web {
            tracing::warn!(target: "daemon",
                "[web] changed: the web page keeps its settings until the service restarts \
                 (systemctl restart tthc-sync)");
        }
        if old.daemon != cfg.daemon && changed.is_empty() {
            changed.push("daemon".into());
        }
        for (name, differs) in [
            ("service", old.service != cfg.service),
            ("provincial", old.provincial != cfg.provincial),
            ("national", old.national != cfg.national),
            ("reconcile", old.reconcile != cfg.reconcile),
        ] {
            if differs {
                changed.push(name.into());
            }
        }

        // Apply: schedules, health limits, clients, listener.
        let now = now_vn();
        let wanted: HashMap<Job, &String> = new.jobs.iter().map(|(j, e)| (*j, e)).collect();
        let current: Vec<String> = self
            .scheduler
            .jobs()
            .iter()
            .map(|j| j.name.clone())
            .collect();
        let mut h = self.health.write().unwrap_or_else(|e| e.into_inner());
        for name in current {
            let Some(job) = Job::from_name(&name) else {
                continue;
            };
            if !wanted.contains_key(&job) {
                let _ = self.scheduler.remove_job(&name);
                h.jobs.retain(|j| j.name != name);
                tracing::info!(target: "daemon", job = %name, "job unscheduled");
            }
        }
        for (job, expr) in &new.jobs {
            let schedule = parse_schedule(expr).map_err(anyhow::Error::msg)?;
            let old_expr = old
                .daemon
                .schedules()
                .into_iter()
                .find(|(n, _, _)| *n == job.name())
                .and_then(|(_, _, e)| e.map(str::to_owned));
            let mut last_success = None;
            if self.scheduler.job(job.name()).is_some() {
                if old_expr.as_deref() != Some(expr.as_str()) {
                    self.scheduler.set_schedule(job.name(), schedule, now)?;
                }
            } else {
                // A job may hold the store; then the new job's history is simply not shown
                // until its first run.
                last_success = self
                    .store
                    .try_lock()
                    .ok()
                    .and_then(|s| s.last_success(job.name()).ok().flatten())
                    .and_then(stored_to_instant);
                self.scheduler.add_job(
                    JobSpec {
                        name: job.name().to_owned(),
                        schedule,
                        run_missed_at_startup: false,
                        last_success,
                    },
                    now,
                )?;
            }
            h.set_job(job.name(), max_age(*job, cfg, expr, now), last_success);
            let next = self.scheduler.job(job.name()).and_then(|j| j.next_due);
            tracing::info!(target: "daemon", job = job.name(), schedule = %expr,
                next = next.map(|t| t.to_rfc3339()).unwrap_or_default(), "job scheduled");
        }
        drop(h);
        if let Some(server) = new_http {
            self.http = server;
        }
        self.active = new.active;
        Ok(changed)
    }

    async fn shutdown(
        mut self,
        signal_name: &str,
        signals: &mut Signals,
        watchdog: Option<Duration>,
    ) -> anyhow::Result<()> {
        notify("STOPPING=1", self.notifier.stopping());
        let grace = Duration::from_secs(u64::from(self.active.cfg.daemon.stop_grace_seconds));
        let running: Vec<&str> = self.task_jobs.values().map(|j| j.name()).collect();
        tracing::info!(target: "daemon", signal = signal_name, running = ?running,
            grace_s = grace.as_secs(), "stopping: no new jobs; waiting for the running one");
        notify(
            "STATUS=",
            self.notifier.status(&format!(
                "stopping ({signal_name}); waiting up to {}s for {running:?}",
                grace.as_secs()
            )),
        );
        let deadline = Instant::now() + grace;
        let mut cancelled = false;
        while !self.running.is_empty() {
            let wake = match watchdog {
                Some(every) => deadline.min(Instant::now() + every),
                None => deadline,
            };
            tokio::select! {
                Some(joined) = self.running.join_next_with_id() => self.finished(joined),
                _ = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() >= deadline {
                        cancelled = true;
                    } else {
                        notify("WATCHDOG=1", self.notifier.watchdog());
                    }
                }
                _ = signals.term.recv() => cancelled = true,
                _ = signals.int.recv() => cancelled = true,
            }
            if cancelled {
                let names: Vec<&str> = self.task_jobs.values().map(|j| j.name()).collect();
                tracing::warn!(target: "daemon", jobs = ?names,
                    "cancelling the running job; its open database transaction rolls back");
                self.running.abort_all();
                while let Some(joined) = self.running.join_next_with_id().await {
                    self.finished(joined);
                }
            }
        }
        if cancelled {
            let store = self.store.lock().await;
            match store.close_abandoned_runs(sync::local_now()) {
                Ok(n) => {
                    tracing::info!(target: "daemon", runs = n, "interrupted runs recorded as failed")
                }
                Err(e) => {
                    tracing::error!(target: "daemon", error = %e, "cannot record the interrupted run")
                }
            }
        }
        self.http = None;
        tracing::info!(target: "daemon", "stopped");
        Ok(())
    }
}

/// One job run, in its own task. Holds the store for the whole run.
async fn run_job(job: Job, store: Arc<tokio::sync::Mutex<Store>>, active: Arc<Active>) -> Done {
    let mut store = store.lock_owned().await;
    let t0 = Instant::now();
    tracing::info!(target: "daemon", job = job.name(), "job started");
    let JobRun {
        report,
        lookups,
        freshness,
        pulls,
    } = jobs::run(job, &mut store, &active.cfg, &active.clients).await;
    let open_by_kind = store.open_counts_by_kind().ok();
    let failing_since = sync::local_now() - active.cfg.national.lookup_failing_after();
    let lookups_failing = store.failing_lookup_count(failing_since).ok();
    drop(store);
    if report.outcome == JobOutcome::Failed {
        tracing::error!(target: "daemon", job = job.name(), outcome = %report.outcome,
            elapsed_ms = t0.elapsed().as_millis() as u64, summary = %report.summary, "job finished");
    } else {
        tracing::info!(target: "daemon", job = job.name(), outcome = %report.outcome,
            elapsed_ms = t0.elapsed().as_millis() as u64, summary = %report.summary, "job finished");
    }
    Done {
        job,
        report,
        lookups,
        freshness,
        open_by_kind,
        lookups_failing,
        pulls,
        active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vn(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_str(&format!("{s} +07:00"), "%Y-%m-%d %H:%M:%S %z").unwrap()
    }

    #[test]
    fn health_limits() {
        let example = include_str!("../../config/tthc-sync.example.toml");
        let cfg = Config::parse(example, Path::new("example.toml")).unwrap();
        let now = vn("2026-11-27 10:00:00");
        let h = |s: u64| Duration::from_secs(s * 3600);
        // (job, schedule, limit)
        let cases: &[(Job, &str, Duration)] = &[
            (Job::Sync, "*/15 * * * *", Duration::from_secs(90 * 60)),
            (Job::Housekeeping, "30 2 * * *", h(49)),
            (Job::Report, "0 6 1 * *", h(2 * 31 * 24 + 1)),
            (Job::Scores, "0 * * * *", h(3)),
            // no future firing: a day's gap is assumed
            (Job::Scores, "0 0 0 1 1 * 2020", h(49)),
        ];
        for (job, expr, want) in cases {
            assert_eq!(max_age(*job, &cfg, expr, now), *want, "{expr}");
        }
    }
}
