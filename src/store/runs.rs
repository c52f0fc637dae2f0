//! Runs (`sync_run`), watermarks (`watermark`) and housekeeping.

use std::time::Duration;

use rusqlite::{named_params, params, OptionalExtension, Transaction};
use serde::Serialize;

use super::{history, PullRecord, Result, Store, BUSY_TIMEOUT};
use crate::model::{fmt_time, parse_stored_time, LocalTime};

/// How long the housekeeping checkpoint waits for readers, holding the write lock meanwhile.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(1);

/// Outcome of a run, as recorded in `sync_run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every step completed (`sync --once` exits 0).
    Ok,
    /// Completed with give-ups (a page or look-ups that failed, a year with no holiday
    /// file), listed in the run's `problems`; what was stored is kept (exit 2).
    Partial,
    /// A step failed and the run stopped; the error is recorded (exit 1).
    Failed,
}

impl Outcome {
    /// The value stored in `sync_run.outcome`: `ok`, `partial` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }
}

/// One run as the web page's overview shows it: a row of `sync_run`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRow {
    /// The run's id.
    pub id: i64,
    /// The job: `sync`, `housekeeping`, `report` or `scores`.
    pub job: String,
    /// When it started (stored time text).
    pub started_at: String,
    /// When it finished (stored time text); `None` while running.
    pub finished_at: Option<String>,
    /// `running`, `ok`, `partial` or `failed`.
    pub outcome: String,
    /// One line per problem of a partial run.
    pub problems: Vec<String>,
    /// Why a failed run failed.
    pub error: Option<String>,
}

/// What a finished run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunCounts {
    /// Provincial rows read by the pull.
    pub provincial_rows: u64,
    /// Of those, dossiers new or changed (a new row hash).
    pub provincial_changed: u64,
    /// `TraCuuHoSo` look-ups made.
    pub lookups: u64,
    /// Look-ups that failed (an error, never "not found"): those dossiers keep their view.
    pub lookup_errors: u64,
    /// Discrepancies opened.
    pub opened: u64,
    /// Discrepancies reopened.
    pub reopened: u64,
    /// Discrepancies resolved automatically.
    pub resolved: u64,
    /// Why the run is partial: one line per give-up.
    pub problems: Vec<String>,
    /// Median age in seconds of the national view of active dossiers (`sync_run.freshness_p50_s`).
    pub freshness_p50_s: Option<i64>,
    /// 95th percentile of that age (`sync_run.freshness_p95_s`).
    pub freshness_p95_s: Option<i64>,
    /// Look-ups ÷ `national.lookups_per_cycle` (`sync_run.budget_used`).
    pub budget_used: Option<f64>,
    /// Rows read from `DanhSachHoSo` (not recorded on the run).
    pub listed: u64,
    /// Dossiers whose national look-ups have failed for longer than
    /// `national.lookup_failing_after_hours` at the run's end (`lookup_failing`; not recorded
    /// on the run).
    pub lookups_failing: u64,
    /// The provincial pulls of the run (recorded in `provincial_pull`): pages, rows, the
    /// reported totals, whether each reached the end.
    pub pulls: Vec<PullRecord>,
}

impl Store {
    /// Records the start of a run of `job` (`sync`, `housekeeping`, …) as `running`, and
    /// returns its id.
    pub fn begin_run(&self, job: &str, started_at: LocalTime) -> Result<i64> {
        self.read(|c| {
            c.execute(
                "INSERT INTO sync_run (job, started_at, outcome) VALUES (?1, ?2, 'running')",
                params![job, fmt_time(&started_at)],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Records how run `run_id` ended: its outcome, counts and problems, and the error that
    /// stopped it if any. A failed run observed nothing: the facts derived from the history it
    /// stored are derived again in the same transaction (`provincial_facts`).
    pub fn finish_run(
        &self,
        run_id: i64,
        finished_at: LocalTime,
        outcome: Outcome,
        counts: &RunCounts,
        error: Option<&str>,
    ) -> Result<()> {
        let n = |v: u64| v as i64;
        self.write_shared(|c| {
            c.execute(
                "UPDATE sync_run SET finished_at = :finished_at, outcome = :outcome,
                    provincial_rows = :provincial_rows, provincial_changed = :provincial_changed,
                    lookups = :lookups, lookup_errors = :lookup_errors, opened = :opened,
                    reopened = :reopened, resolved = :resolved, problems = :problems,
                    error = :error
                 WHERE id = :id",
                named_params! {
                    ":id": run_id,
                    ":finished_at": fmt_time(&finished_at),
                    ":outcome": outcome.as_str(),
                    ":provincial_rows": n(counts.provincial_rows),
                    ":provincial_changed": n(counts.provincial_changed),
                    ":lookups": n(counts.lookups),
                    ":lookup_errors": n(counts.lookup_errors),
                    ":opened": n(counts.opened),
                    ":reopened": n(counts.reopened),
                    ":resolved": n(counts.resolved),
                    ":problems": serde_json::to_string(&counts.problems)
                        .unwrap_or_else(|_| "[]".into()),
                    ":error": error,
                },
            )?;
            if outcome == Outcome::Failed {
                history::refresh_facts_from_run(c, run_id)?;
            }
            Ok(())
        })
    }

    /// Runs left `running` by a process that died are closed as failed (and the facts derived
    /// from the history they stored derived again, in the same transaction: a failed run
    /// observed nothing).
    pub fn close_abandoned_runs(&self, now: LocalTime) -> Result<usize> {
        self.write_shared(|c| {
            let closed: Vec<i64> = c
                .prepare(
                    "UPDATE sync_run SET outcome = 'failed', finished_at = ?1,
                        error = 'interrupted: the process stopped before the run finished'
                     WHERE outcome = 'running' RETURNING id",
                )?
                .query_map(params![fmt_time(&now)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if let Some(&first) = closed.iter().min() {
                history::refresh_facts_from_run(c, first)?;
            }
            Ok(closed.len())
        })
    }

    /// When `job` last finished with outcome `ok` (table `sync_run`), if ever.
    pub fn last_success(&self, job: &str) -> Result<Option<LocalTime>> {
        let at = self.read(|c| {
            c.query_row(
                "SELECT max(finished_at) FROM sync_run WHERE job = ?1 AND outcome = 'ok'",
                params![job],
                |r| r.get::<_, Option<String>>(0),
            )
        })?;
        Ok(at.and_then(|s| parse_stored_time(&s)))
    }

    /// The last `limit` runs of every job, newest first.
    pub fn recent_runs(&self, limit: usize) -> Result<Vec<RunRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, job, started_at, finished_at, outcome, problems, error
                 FROM sync_run ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], |r| {
                let problems: String = r.get(5)?;
                Ok(RunRow {
                    id: r.get(0)?,
                    job: r.get(1)?,
                    started_at: r.get(2)?,
                    finished_at: r.get(3)?,
                    outcome: r.get(4)?,
                    problems: serde_json::from_str(&problems).unwrap_or_default(),
                    error: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    /// The last run's id, outcome and problems.
    pub fn last_run(&self) -> Result<Option<(i64, String, Vec<String>)>> {
        self.read(|c| {
            c.query_row(
                "SELECT id, outcome, problems FROM sync_run ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    let problems: String = r.get(2)?;
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        serde_json::from_str(&problems).unwrap_or_default(),
                    ))
                },
            )
            .optional()
        })
    }

    /// The watermark of `source` (how far its pull has read), if any.
    pub fn watermark(&self, source: &str) -> Result<Option<LocalTime>> {
        let value = self.read(|c| {
            c.query_row(
                "SELECT value FROM watermark WHERE source = ?1",
                params![source],
                |r| r.get::<_, String>(0),
            )
            .optional()
        })?;
        Ok(value.and_then(|s| parse_stored_time(&s)))
    }

    /// Maintenance: `PRAGMA optimize`, then `PRAGMA wal_checkpoint(TRUNCATE)`. Returns the
    /// checkpoint's `(busy, wal frames, frames checkpointed)`; `busy = 1` means a reader kept
    /// the WAL from being truncated this time (harmless; it is tried again next time).
    ///
    /// A TRUNCATE checkpoint holds the write lock while it waits (through the busy handler) for
    /// readers of older snapshots to finish, so with the usual 30 s busy timeout one long
    /// reader would lock every writer out for 30 s, and a writer with the same timeout could
    /// fail with "database is locked". The checkpoint therefore waits at most
    /// `CHECKPOINT_WAIT` (1 s), then settles for what it could copy (`busy = 1`).
    pub fn housekeeping(&self) -> Result<(i64, i64, i64)> {
        self.read(|c| {
            c.execute_batch("PRAGMA optimize;")?;
            c.busy_timeout(CHECKPOINT_WAIT)?;
            let result = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            });
            c.busy_timeout(BUSY_TIMEOUT)?;
            result
        })
    }
}

/// Moves the watermark of each `(source, value)` forward, in the transaction that stores the
/// rows it covers. Never back — except a mark later than `at` (the time of writing): a host
/// clock that ran ahead and was corrected left it there, where it would never come back and
/// would hide changes (`pull` detects such a mark and sweeps).
pub(super) fn advance_watermarks(
    tx: &Transaction<'_>,
    run_id: i64,
    at: &str,
    marks: &[(&str, LocalTime)],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO watermark (source, value, run_id, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source) DO UPDATE SET value = excluded.value,
            run_id = excluded.run_id, updated_at = excluded.updated_at
         WHERE excluded.value > watermark.value OR watermark.value > excluded.updated_at",
    )?;
    for (source, value) in marks {
        stmt.execute(params![source, fmt_time(value), run_id, at])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::at;

    #[test]
    fn last_success_is_the_latest_ok_run_of_that_job() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(store.last_success("sync").unwrap(), None);
        let c = RunCounts::default();
        // (job, finished at, outcome)
        let runs = [
            ("sync", "2026-11-27 10:00:00", Outcome::Ok),
            ("sync", "2026-11-27 10:15:00", Outcome::Partial),
            ("sync", "2026-11-27 10:30:00", Outcome::Failed),
            ("housekeeping", "2026-11-27 11:00:00", Outcome::Ok),
        ];
        for (job, finished, outcome) in runs {
            let id = store.begin_run(job, at(finished)).unwrap();
            store
                .finish_run(id, at(finished), outcome, &c, None)
                .unwrap();
        }
        store.begin_run("sync", at("2026-11-27 12:00:00")).unwrap();
        assert_eq!(
            store.last_success("sync").unwrap(),
            Some(at("2026-11-27 10:00:00"))
        );
        assert_eq!(
            store.last_success("housekeeping").unwrap(),
            Some(at("2026-11-27 11:00:00"))
        );
        assert_eq!(store.last_success("report").unwrap(), None);
        let (busy, _, _) = store.housekeeping().unwrap();
        assert_eq!(busy, 0);
        let ok: String = store
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn finish_run_records_every_count() {
        let store = Store::open_in_memory().unwrap();
        let id = store.begin_run("sync", at("2026-11-27 10:00:00")).unwrap();
        let counts = RunCounts {
            provincial_rows: 1,
            provincial_changed: 2,
            lookups: 3,
            lookup_errors: 4,
            opened: 5,
            reopened: 6,
            resolved: 7,
            problems: vec!["national: HTTP 503".into()],
            ..Default::default()
        };
        store
            .finish_run(
                id,
                at("2026-11-27 10:05:00"),
                Outcome::Partial,
                &counts,
                Some("why"),
            )
            .unwrap();
        let row: (String, String, [i64; 7], String, String) = store
            .conn()
            .query_row(
                "SELECT finished_at, outcome, provincial_rows, provincial_changed, lookups,
                        lookup_errors, opened, reopened, resolved, problems, error
                 FROM sync_run WHERE id = ?1",
                params![id],
                |r| {
                    let mut n = [0; 7];
                    for (i, v) in n.iter_mut().enumerate() {
                        *v = r.get(2 + i)?;
                    }
                    Ok((r.get(0)?, r.get(1)?, n, r.get(9)?, r.get(10)?))
                },
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "2026-11-27 10:05:00".to_string(),
                "partial".to_string(),
                [1, 2, 3, 4, 5, 6, 7],
                r#"["national: HTTP 503"]"#.to_string(),
                "why".to_string()
            )
        );
        assert_eq!(
            store.last_run().unwrap(),
            Some((id, "partial".into(), vec!["national: HTTP 503".into()]))
        );
    }
}
