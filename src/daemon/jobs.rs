//! The service's jobs: what each scheduled job does, and how its run is recorded. The
//! scheduler, signals, systemd notifications and the service loop are in [`super::run`].
//!
//! - `sync`: one sync cycle, which records its own `sync_run` row with its
//!   counts.
//! - `housekeeping`: SQLite `PRAGMA optimize` and a WAL checkpoint.
//! - `report` ([`run_report`]): last month's report, every format, to `[report] out_dir`.
//! - `scores` ([`run_scores`]): the portal's published 766 scores of this month and the last.
//!
//! Every job other than `sync` runs inside its own `sync_run` row (`recorded`), `job` = the
//! job's name, so that each run's outcome is kept and the start-up catch-up can read the last
//! `ok`. The store's methods are synchronous: no SQLite transaction is open across an
//! `.await`, so a job cancelled by the service leaves at most its `sync_run` row `running`.

use std::sync::Arc;

use anyhow::Context;

use super::health::Freshness;
use super::schedule::JobOutcome;
use crate::config::Config;
use crate::model::LocalTime;
use crate::store::{Outcome, PullRecord, RunCounts, Store};
use crate::sync::{self, Clients, Clock};

/// What a job run reports back.
#[derive(Debug, Clone)]
pub struct JobReport {
    /// How the run ended.
    pub outcome: JobOutcome,
    /// One line for logs and `STATUS=`.
    pub summary: String,
}

/// The jobs the service can schedule, by the name of their `daemon.<name>_schedule` key and of
/// their `sync_run.job` rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Job {
    Sync,
    Housekeeping,
    Report,
    Scores,
}

impl Job {
    pub(super) fn from_name(name: &str) -> Option<Job> {
        match name {
            "sync" => Some(Job::Sync),
            "housekeeping" => Some(Job::Housekeeping),
            "report" => Some(Job::Report),
            "scores" => Some(Job::Scores),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Job::Sync => "sync",
            Job::Housekeeping => "housekeeping",
            Job::Report => "report",
            Job::Scores => "scores",
        }
    }
}

/// What one run of a job did.
pub(super) struct JobRun {
    pub report: JobReport,
    /// National look-ups made (sync only).
    pub lookups: u64,
    /// The national view's age after the run (sync only, when it was measured).
    pub freshness: Option<Freshness>,
    /// The provincial pulls of the run (sync only).
    pub pulls: Vec<PullRecord>,
}

/// Runs one job to its end and records it.
pub(super) async fn run(job: Job, store: &mut Store, cfg: &Config, clients: &Clients) -> JobRun {
    match job {
        Job::Sync => sync_cycle(store, cfg, clients).await,
        other => JobRun {
            report: recorded(other, store, cfg).await,
            lookups: 0,
            freshness: None,
            pulls: Vec::new(),
        },
    }
}

/// The `sync` job: one cycle (pull, look up, reconcile), recorded as a run by the cycle itself.
async fn sync_cycle(store: &mut Store, cfg: &Config, clients: &Clients) -> JobRun {
    let clock: Clock = Arc::new(sync::local_now);
    match sync::run_cycle(store, cfg, clients, &clock).await {
        Ok(r) => {
            // A month is frozen after a complete cycle only: its figures then include the
            // last pull and look-ups before the freeze.
            let frozen = if r.outcome == Outcome::Ok {
                freeze_closed_month(store, cfg, clock())
            } else {
                String::new()
            };
            let c = &r.counts;
            JobRun {
                lookups: c.lookups,
                pulls: c.pulls.clone(),
                freshness: c
                    .freshness_p50_s
                    .zip(c.freshness_p95_s)
                    .map(|(p50, p95)| Freshness {
                        p50_seconds: p50 as f64,
                        p95_seconds: p95 as f64,
                    }),
                report: JobReport {
                    outcome: job_outcome(r.outcome),
                    summary: format!(
                        "run {}: {} provincial rows ({} changed), {} look-ups ({} failed, {} \
                         dossiers failing too long), {} opened, {} reopened, {} resolved{}",
                        r.run_id,
                        c.provincial_rows,
                        c.provincial_changed,
                        c.lookups,
                        c.lookup_errors,
                        c.lookups_failing,
                        c.opened,
                        c.reopened,
                        c.resolved,
                        c.problems
                            .first()
                            .map(|p| format!("; {p}"))
                            .unwrap_or_default()
                    ) + &frozen,
                },
            }
        }
        Err(e) => JobRun {
            lookups: 0,
            freshness: None,
            pulls: Vec::new(),
            report: JobReport {
                outcome: JobOutcome::Failed,
                summary: e.to_string(),
            },
        },
    }
}

fn job_outcome(o: Outcome) -> JobOutcome {
    match o {
        Outcome::Ok => JobOutcome::Ok,
        Outcome::Partial => JobOutcome::Partial,
        Outcome::Failed => JobOutcome::Failed,
    }
}

fn store_outcome(o: JobOutcome) -> Outcome {
    match o {
        JobOutcome::Ok => Outcome::Ok,
        JobOutcome::Partial => Outcome::Partial,
        JobOutcome::Failed => Outcome::Failed,
    }
}

/// Runs a job other than sync inside its own `sync_run` row.
async fn recorded(job: Job, store: &mut Store, cfg: &Config) -> JobReport {
    let started = sync::local_now();
    let run_id = match store.begin_run(job.name(), started) {
        Ok(id) => id,
        Err(e) => {
            return JobReport {
                outcome: JobOutcome::Failed,
                summary: format!("cannot record the run: {e}"),
            }
        }
    };
    let result = match job {
        Job::Housekeeping => housekeeping(store),
        Job::Report => run_report(store, cfg, started).await,
        Job::Scores => run_scores(store, cfg, started).await,
        Job::Sync => unreachable!("sync records its own run"),
    };
    let report = result.unwrap_or_else(|e| JobReport {
        outcome: JobOutcome::Failed,
        summary: format!("{e:#}"),
    });
    let error = (report.outcome == JobOutcome::Failed).then_some(report.summary.as_str());
    if let Err(e) = store.finish_run(
        run_id,
        sync::local_now(),
        store_outcome(report.outcome),
        &RunCounts::default(),
        error,
    ) {
        tracing::error!(target: "daemon", job = job.name(), run_id, error = %e, "cannot record the run's end");
    }
    report
}

/// The `housekeeping` job (`daemon.housekeeping_schedule`): `PRAGMA optimize` and a WAL
/// checkpoint that truncates the WAL unless a reader is busy.
fn housekeeping(store: &Store) -> anyhow::Result<JobReport> {
    let (busy, wal_frames, checkpointed) = store.housekeeping()?;
    Ok(JobReport {
        outcome: JobOutcome::Ok,
        summary: if busy == 0 {
            format!(
                "optimized; WAL checkpointed ({checkpointed} of {wal_frames} frames) and truncated"
            )
        } else {
            "optimized; WAL not truncated (a reader was busy), retried next time".to_owned()
        },
    })
}

/// After a complete sync cycle: freezes the month that ended if no job froze it yet. A failure is
/// logged, not the sync's: the next job tries again. Returns what to add to the run's summary.
fn freeze_closed_month(store: &mut Store, cfg: &Config, now: LocalTime) -> String {
    let cal = match cfg.calendar.build() {
        Ok(c) => c,
        Err(e) => return format!("; month not frozen: {e}"),
    };
    match crate::report::frozen::freeze_closed_month(store, now, &cal, &cfg.service.province_name) {
        Ok(Some(m)) => format!("; month {} frozen", m.iso()),
        Ok(None) => String::new(),
        Err(e) => {
            tracing::warn!(target: "report", error = %e, "the month that ended could not be frozen; the next job tries again");
            format!("; month not frozen: {e}")
        }
    }
}

/// The monthly report job (`daemon.report_schedule`): writes the report of the month that
/// just ended (every format) to `[report] out_dir`. Scheduled early in a month, it gives the
/// office last month's report; the current month's is `tthc-sync report --month`.
pub async fn run_report(
    store: &mut Store,
    cfg: &Config,
    now: LocalTime,
) -> anyhow::Result<JobReport> {
    let month = crate::model::YearMonth::of(&now).previous();
    // The month that just ended is frozen first (if no sync froze it yet): its report then
    // reads the snapshot.
    crate::report::frozen::freeze_closed_month(
        store,
        now,
        &cfg.calendar.build()?,
        &cfg.service.province_name,
    )
    .with_context(|| format!("freezing {}", month.iso()))?;
    let files = crate::report::write_month(store, cfg, month, &crate::report::Format::ALL, now)
        .with_context(|| format!("monthly report of {}", month.iso()))?;
    Ok(JobReport {
        outcome: JobOutcome::Ok,
        summary: format!(
            "report {} written: {}",
            month.iso(),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The 766 score job (`daemon.scores_schedule`): fetches the portal's published scores of the
/// current month and of the previous one (its figure settles early in the new month).
pub async fn run_scores(
    store: &mut Store,
    cfg: &Config,
    now: LocalTime,
) -> anyhow::Result<JobReport> {
    let month = crate::model::YearMonth::of(&now);
    let mut lines = Vec::new();
    for m in [month.previous(), month] {
        let r = crate::scores::fetch_scores(store, cfg, m)
            .await
            .with_context(|| format!("published scores of {}", m.iso()))?;
        let tdgq = r
            .province
            .as_ref()
            .and_then(|p| p.tdgq_score)
            .map(|s| format!("{s:.2}"))
            .unwrap_or_else(|| "not published".into());
        lines.push(format!("{}: {} rows, TDGQ {tdgq}", r.month, r.rows));
    }
    Ok(JobReport {
        outcome: JobOutcome::Ok,
        summary: lines.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configurable_job_is_known() {
        let cfg = crate::config::DaemonConfig::default();
        for (name, key, _) in cfg.schedules() {
            let job = Job::from_name(name).expect(name);
            assert_eq!(job.name(), name);
            assert_eq!(key, format!("daemon.{name}_schedule"));
        }
        assert_eq!(Job::from_name("nope"), None);
    }
}
