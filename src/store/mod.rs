//! The SQLite store: the only module that speaks SQL.
//!
//! WAL mode with a busy timeout, so other processes can read while the service writes.
//! Migrations are append-only (`schema::MIGRATIONS`, tracked in `PRAGMA user_version`).
//! A watermark only moves in the same transaction as the rows it covers.

mod dossier;
mod lock;
mod report;
mod schema;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

use crate::lifecycle::{Action, Existing, State};
use crate::model::{
    fmt_time, parse_stored_time, Channel, DossierCore, LocalTime, LookupOutcome, NationalDossier,
    ProvincialDossier, Status, YearMonth,
};
use crate::plan::Candidate;
use crate::reconcile::{Finding, Kind};
use crate::scoring::Tally;

pub use lock::RunLock;
pub use report::{PublishedScoreRow, ReportDiscrepancy, ReportDossier};
pub use schema::MIGRATIONS;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this program knows ({known}); upgrade tthc-sync")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How long a statement waits for another connection's lock before failing with "database is
/// locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the housekeeping checkpoint waits for readers, holding the write lock meanwhile.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(1);

pub struct Store {
    conn: Connection,
}

/// Counts of one provincial page stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageStats {
    pub rows: u64,
    pub new: u64,
    pub changed: u64,
}

/// Outcome of a run, as recorded in `sync_run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Partial,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }
}

/// What a finished run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunCounts {
    pub provincial_rows: u64,
    pub provincial_changed: u64,
    pub lookups: u64,
    pub lookup_errors: u64,
    pub opened: u64,
    pub reopened: u64,
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
}

/// One discrepancy as staff and tools see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiscrepancyRow {
    pub id: i64,
    pub dossier_id: String,
    pub dossier_code: String,
    pub kind: String,
    pub state: String,
    pub severity: String,
    pub score_impact: f64,
    pub period: Option<String>,
    pub agency_code: Option<String>,
    pub agency_name: Option<String>,
    pub provincial: String,
    pub national: String,
    pub first_seen: String,
    pub last_seen: String,
    /// Each side's timeliness verdict in `period`, and the rule version (when judged).
    pub provincial_verdict: Option<String>,
    pub national_verdict: Option<String>,
    pub rule_version: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct DiscrepancyFilter {
    pub states: Vec<State>,
    pub kind: Option<Kind>,
    pub agency: Option<String>,
}

/// One event of a discrepancy's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRow {
    pub at: String,
    pub event: String,
    pub actor: String,
    pub note: Option<String>,
    pub run_id: Option<i64>,
}

/// The stored national side of a dossier.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredNational {
    pub found: bool,
    pub dossier: NationalDossier,
    pub looked_up_at: LocalTime,
}

/// Counts by discrepancy action applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub opened: u64,
    pub reopened: u64,
    pub resolved: u64,
    pub refreshed: u64,
}

fn t(v: &Option<LocalTime>) -> Option<String> {
    v.as_ref().map(fmt_time)
}

fn rt(row: &Row<'_>, idx: &str) -> rusqlite::Result<Option<LocalTime>> {
    Ok(row
        .get::<_, Option<String>>(idx)?
        .and_then(|s| parse_stored_time(&s)))
}

fn status_of(code: Option<i64>) -> Option<Status> {
    code.and_then(|c| u8::try_from(c).ok())
        .and_then(Status::from_code)
}

/// Page cache of each connection, in KiB (negative: SQLite's unit for a size).
const CACHE_SIZE: i64 = -65536;

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                return Err(StoreError::Open {
                    path: path.display().to_string(),
                    source: rusqlite::Error::InvalidPath(dir.to_path_buf()),
                });
            }
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let mut store = Store { conn };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// An in-memory store (tests, benchmarks).
    pub fn open_in_memory() -> Result<Store> {
        let mut store = Store {
            conn: Connection::open_in_memory()?,
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn configure(&mut self) -> Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // Every statement of a page store, a look-up batch and the lifecycle stays prepared.
        self.conn.set_prepared_statement_cache_capacity(64);
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .or_else(|e| {
                // In-memory databases answer "memory"; that is fine.
                if self.conn.path().is_none_or(|p| p.is_empty()) {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MiB of page cache (the default is 2 MiB): a million dossiers' key indexes are
        // written in random order, and with a small cache every insert re-reads index pages.
        self.conn.pragma_update(None, "cache_size", CACHE_SIZE)?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoint the WAL every 10,000 pages (~40 MB; SQLite's default is 1,000): a sync
        // cycle that changes rows spread over a large table dirties several pages per row, and
        // every checkpoint copies its pages back and syncs the file, so checkpointing ten
        // times less often saves most of those syncs. The file is cut back to 64 MiB after a
        // checkpoint; the housekeeping job truncates it.
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 10_000)?;
        self.conn
            .pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(target: "store", version = i + 1, "applied migration");
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Direct access for read-only queries in reports and tests.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    // ----- runs -------------------------------------------------------------------------------

    pub fn begin_run(&self, job: &str, started_at: LocalTime) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO sync_run (job, started_at, outcome) VALUES (?1, ?2, 'running')",
            params![job, fmt_time(&started_at)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(
        &self,
        run_id: i64,
        finished_at: LocalTime,
        outcome: Outcome,
        counts: &RunCounts,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_run SET finished_at = ?2, outcome = ?3, provincial_rows = ?4,
                provincial_changed = ?5, lookups = ?6, lookup_errors = ?7, opened = ?8,
                reopened = ?9, resolved = ?10, problems = ?11, error = ?12
             WHERE id = ?1",
            params![
                run_id,
                fmt_time(&finished_at),
                outcome.as_str(),
                counts.provincial_rows as i64,
                counts.provincial_changed as i64,
                counts.lookups as i64,
                counts.lookup_errors as i64,
                counts.opened as i64,
                counts.reopened as i64,
                counts.resolved as i64,
                serde_json::to_string(&counts.problems).unwrap_or_else(|_| "[]".into()),
                error,
            ],
        )?;
        Ok(())
    }

    /// Runs left `running` by a process that died are closed as failed.
    pub fn close_abandoned_runs(&self, now: LocalTime) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE sync_run SET outcome = 'failed', finished_at = ?1,
                error = 'interrupted: the process stopped before the run finished'
             WHERE outcome = 'running'",
            params![fmt_time(&now)],
        )?)
    }

    /// When `job` last finished with outcome `ok` (table `sync_run`), if ever.
    pub fn last_success(&self, job: &str) -> Result<Option<LocalTime>> {
        Ok(self
            .conn
            .query_row(
                "SELECT max(finished_at) FROM sync_run WHERE job = ?1 AND outcome = 'ok'",
                params![job],
                |r| r.get::<_, Option<String>>(0),
            )?
            .and_then(|s| parse_stored_time(&s)))
    }

    /// Maintenance: `PRAGMA optimize`, then `PRAGMA wal_checkpoint(TRUNCATE)`. Returns the
    /// checkpoint's `(busy, wal frames, frames checkpointed)`; `busy = 1` means a reader kept
    /// the WAL from being truncated this time (harmless; it is tried again next time).
    ///
    /// A TRUNCATE checkpoint holds the write lock while it waits (through the busy handler) for
    /// readers of older snapshots to finish, so with the usual 30 s busy timeout one long
    /// reader would lock every writer out for 30 s, and a writer with the same timeout could
    /// fail with "database is locked". The checkpoint therefore waits at most
    /// [`CHECKPOINT_WAIT`], then settles for what it could copy (`busy = 1`).
    pub fn housekeeping(&self) -> Result<(i64, i64, i64)> {
        self.conn.execute_batch("PRAGMA optimize;")?;
        self.conn.busy_timeout(CHECKPOINT_WAIT)?;
        let result = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            });
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(result?)
    }

    // ----- provincial side ----------------------------------------------------------------------

    pub fn watermark(&self, source: &str) -> Result<Option<LocalTime>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM watermark WHERE source = ?1",
                params![source],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|s| parse_stored_time(&s)))
    }

    /// Stores one page of provincial rows (with their PII-free raw JSON) in one transaction,
    /// appending history for every real change; moves the watermark of `source` to
    /// `watermark` in the same transaction when given.
    pub fn store_provincial_page(
        &mut self,
        run_id: i64,
        source: &str,
        observed_at: LocalTime,
        rows: &[(ProvincialDossier, String)],
        watermark: Option<LocalTime>,
    ) -> Result<PageStats> {
        let marks: Vec<(&str, LocalTime)> = watermark.map(|w| (source, w)).into_iter().collect();
        self.store_provincial_page_marks(run_id, source, observed_at, rows, &marks)
    }

    /// Like [`Store::store_provincial_page`], moving any number of marks (watermark rows, by
    /// source name) forward in the same transaction: e.g. the watermark and the last sweep.
    pub fn store_provincial_page_marks(
        &mut self,
        run_id: i64,
        source: &str,
        observed_at: LocalTime,
        rows: &[(ProvincialDossier, String)],
        marks: &[(&str, LocalTime)],
    ) -> Result<PageStats> {
        let tx = self.conn.transaction()?;
        let stats = store_rows(&tx, run_id, source, observed_at, rows)?;
        for (source, w) in marks {
            tx.execute(
                "INSERT INTO watermark (source, value, run_id, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source) DO UPDATE SET value = excluded.value,
                    run_id = excluded.run_id, updated_at = excluded.updated_at
                 WHERE excluded.value > watermark.value",
                params![source, fmt_time(w), run_id, fmt_time(&observed_at)],
            )?;
        }
        tx.commit()?;
        Ok(stats)
    }

    pub fn provincial_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM provincial_dossier", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    pub fn national_count(&self) -> Result<(u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(found = 1), 0), coalesce(sum(found = 0), 0) FROM national_dossier",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// Every provincial dossier, in key order.
    pub fn provincial_dossiers(&self) -> Result<Vec<ProvincialDossier>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM provincial_dossier ORDER BY dossier_id")?;
        let rows = stmt.query_map([], provincial_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn provincial_by_code(&self, code: &str) -> Result<Option<ProvincialDossier>> {
        Ok(self
            .conn
            .query_row(
                "SELECT * FROM provincial_dossier WHERE code = ?1 OR local_code = ?1
                 OR dossier_id = ?1 LIMIT 1",
                params![code],
                provincial_from_row,
            )
            .optional()?)
    }

    // ----- national side ----------------------------------------------------------------------

    /// What the look-up planner needs of every dossier with a well-formed national code.
    pub fn lookup_candidates(&self) -> Result<(Vec<Candidate>, Vec<String>)> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.dossier_id, p.code, p.status_code, p.received_at, p.due_at, p.last_changed,
                    l.last_success_at,
                    CASE WHEN l.row_hash_seen IS p.row_hash THEN l.lookups_since_change ELSE 0 END,
                    EXISTS (SELECT 1 FROM discrepancy d WHERE d.dossier_id = p.dossier_id
                            AND d.state IN ('open', 'acknowledged')) AS open_disc
             FROM provincial_dossier p LEFT JOIN lookup_state l ON l.dossier_id = p.dossier_id
             ORDER BY p.dossier_id",
        )?;
        let mut cands = Vec::new();
        let mut ids = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let code: String = r.get(1)?;
            if !crate::model::is_well_formed_national_code(&code) {
                continue;
            }
            ids.push(r.get::<_, String>(0)?);
            cands.push(Candidate {
                code,
                status: status_of(r.get(2)?),
                received_at: rt(r, "received_at")?,
                due_at: rt(r, "due_at")?,
                provincial_updated_at: rt(r, "last_changed")?.unwrap_or_default(),
                last_lookup_at: rt(r, "last_success_at")?,
                lookups_since_change: r.get::<_, i64>(7)? as u32,
                has_open_discrepancy: r.get(8)?,
            });
        }
        Ok((cands, ids))
    }

    /// Stores the results of a batch of look-ups in one transaction. `results` holds, per
    /// dossier id and code, either the outcome with its raw reply, or the error.
    pub fn store_lookups(&mut self, run_id: i64, results: &[LookupResult]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for r in results {
            store_lookup(&tx, run_id, r)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn national_by_code(&self, code: &str) -> Result<Option<StoredNational>> {
        Ok(self
            .conn
            .query_row(
                "SELECT * FROM national_dossier WHERE code = ?1",
                params![code],
                national_from_row,
            )
            .optional()?)
    }

    /// Every provincial dossier with its stored national view (looked up by its national
    /// code), streamed through `f` one at a time in storage order (not key order: ordering by
    /// key costs a seek per row): one join, no map of either side in memory. The records
    /// passed to `f` are reused between calls. Only what reconciliation reads is filled in:
    /// `procedure_name`, `channel`, `status_label`, `handler` and `row_hash` are left empty.
    pub fn for_each_pair(
        &self,
        f: impl FnMut(&ProvincialDossier, Option<&StoredNational>),
    ) -> Result<()> {
        self.for_each_pair_in(i64::MIN, i64::MAX, f)
    }

    /// [`Store::for_each_pair`] for the provincial rows whose rowid is in `first..=last`, in
    /// rowid order (consecutive ranges, in order, give the same sequence as the whole table).
    pub fn for_each_pair_in(
        &self,
        first: i64,
        last: i64,
        f: impl FnMut(&ProvincialDossier, Option<&StoredNational>),
    ) -> Result<()> {
        self.stream_pairs("WHERE p.rowid BETWEEN ?1 AND ?2", params![first, last], f)
    }

    /// [`Store::for_each_pair`] for the dossiers the next reconciliation must re-examine (the
    /// marks in `reconcile_dirty` up to `marks.last_id`, and every row above `top_pid`, the
    /// highest rowid the last pass saw), in rowid order, each once.
    pub fn for_each_changed_pair(
        &self,
        top_pid: i64,
        marks: &Marks,
        mut f: impl FnMut(&ProvincialDossier, Option<&StoredNational>),
    ) -> Result<()> {
        self.stream_pairs(
            "WHERE p.rowid IN (SELECT pid FROM reconcile_dirty WHERE id <= ?2 AND pid <= ?1)",
            params![top_pid, marks.last_id],
            &mut f,
        )?;
        self.stream_pairs("WHERE p.rowid > ?1", params![top_pid], &mut f)
    }

    /// The pair join of [`Store::for_each_pair`], restricted by `filter`, into reused records.
    fn stream_pairs(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
        mut f: impl FnMut(&ProvincialDossier, Option<&StoredNational>),
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT p.dossier_id, p.code, p.national_code, p.local_code, p.procedure_code,
                    NULL, p.agency_code, p.agency_name, '', p.status_code,
                    p.status_raw, NULL, p.received_at, p.due_at, p.finished_at,
                    p.returned_at, p.has_due_date, p.paused_since, p.supplement_requests,
                    NULL, p.updated_at, '',
                    n.code, n.found, n.procedure_code, n.status_code, n.status_raw,
                    n.received_at, n.due_at, n.finished_at, n.returned_at, n.unit_code,
                    n.unit_name, n.duplicate_rows, n.last_lookup_at
             FROM provincial_dossier p
             LEFT JOIN national_dossier n ON n.code = p.national_code
             {filter}"
        ))?;
        let mut rows = stmt.query(args)?;
        let mut p = ProvincialDossier::default();
        let mut n = StoredNational {
            found: false,
            dossier: NationalDossier::default(),
            looked_up_at: LocalTime::default(),
        };
        while let Some(r) = rows.next()? {
            read_pair_provincial(r, &mut p)?;
            let has_national = r.get_ref(22)?.data_type() != rusqlite::types::Type::Null;
            if has_national {
                read_pair_national(r, &mut n)?;
            }
            f(&p, has_national.then_some(&n));
        }
        Ok(())
    }

    /// Whether this SQLite keeps one page cache for all connections of the process, behind one
    /// mutex (built with `SQLITE_ENABLE_MEMORY_MANAGEMENT`).
    pub fn page_caches_shared(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM pragma_compile_options
                 WHERE compile_options = 'ENABLE_MEMORY_MANAGEMENT'",
            )?
            .exists([])?)
    }

    /// A second, read-only connection to the same database file, for a reader on another
    /// thread (`None` for an in-memory store). It takes no lock and runs no migration.
    pub fn reader(&self) -> Result<Option<Store>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_string(),
            source,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // The same page cache as the main connection (a pass seeks the national key index once
        // per row) — unless SQLite was built to share one page cache between connections
        // (`.cargo/config.toml` builds it otherwise), where a bigger cache only makes the two
        // threads wait longer on its mutex.
        if !self.page_caches_shared()? {
            conn.pragma_update(None, "cache_size", CACHE_SIZE)?;
        }
        Ok(Some(Store { conn }))
    }

    /// The highest rowid of `provincial_dossier` (0 when empty).
    pub fn top_pid(&self) -> Result<i64> {
        top_pid(&self.conn)
    }

    /// The marks for the next reconciliation as they stand now: the last one's id (a pass
    /// clears up to it, never a mark made while it ran) and how many dossiers at or below
    /// `top_pid` they name (rows above it are new, and taken anyway).
    pub fn reconcile_marks(&self, top_pid: i64) -> Result<Marks> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(id), 0),
                    (SELECT count(DISTINCT pid) FROM reconcile_dirty WHERE pid <= ?1)
             FROM reconcile_dirty",
            params![top_pid],
            |r| {
                Ok(Marks {
                    last_id: r.get(0)?,
                    dossiers: r.get::<_, i64>(1)?.max(0) as u64,
                })
            },
        )?)
    }

    /// What the last full reconciliation recorded: when, on what basis, the highest rowid
    /// reconciled since, and the month tallies it counted.
    pub fn last_full_pass(&self) -> Result<Option<FullPass>> {
        type Head = (String, String, i64, Option<String>);
        let head: Option<Head> = self
            .conn
            .query_row(
                "SELECT full_at, basis, top_pid, calendar_problem FROM reconcile_pass
                 WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((full_at, basis, top_pid, calendar_problem)) = head else {
            return Ok(None);
        };
        let Some(full_at) = parse_stored_time(&full_at) else {
            return Ok(None); // unreadable: the next pass is a full one and rewrites it
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT month, counted, early, on_time, late, in_process_in_time, in_process_overdue
             FROM month_tally",
        )?;
        let mut tallies = HashMap::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let month: String = r.get(0)?;
            let Ok(month) = month.parse::<YearMonth>() else {
                return Ok(None);
            };
            let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            tallies.insert(
                month,
                Tally {
                    counted: n(1)?,
                    early: n(2)?,
                    on_time: n(3)?,
                    late: n(4)?,
                    in_process_in_time: n(5)?,
                    in_process_overdue: n(6)?,
                },
            );
        }
        Ok(Some(FullPass {
            at: full_at,
            basis,
            top_pid,
            tallies,
            calendar_problem,
        }))
    }

    /// Where to split a pass over `provincial_dossier` between two threads: the highest rowid
    /// of the first half, and a read-only connection for the second (`None` for a table under
    /// `min_rows` rows or an in-memory store). WAL lets the two read side by side; each half
    /// is its own read transaction (nothing else writes these tables during a run: the run
    /// lock).
    pub fn split_in_two(&self, min_rows: i64) -> Result<Option<(i64, Store)>> {
        let range: Option<(i64, i64)> = self.conn.query_row(
            "SELECT min(rowid), max(rowid) FROM provincial_dossier",
            [],
            |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
        )?;
        match range {
            Some((lo, hi)) if hi - lo >= min_rows => {
                Ok(self.reader()?.map(|r| (lo + (hi - lo) / 2, r)))
            }
            _ => Ok(None),
        }
    }

    // ----- discrepancies ------------------------------------------------------------------------

    /// Every stored discrepancy, grouped by dossier id.
    pub fn existing_discrepancies(&self) -> Result<HashMap<String, Vec<Existing>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, dossier_id, kind, state FROM discrepancy")?;
        let mut out: HashMap<String, Vec<Existing>> = HashMap::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(2)?;
            let state: String = r.get(3)?;
            let (Some(kind), Some(state)) = (Kind::parse(&kind), State::parse(&state)) else {
                continue; // a kind from a newer version: leave it alone
            };
            out.entry(r.get(1)?).or_default().push(Existing {
                id: r.get(0)?,
                kind,
                state,
            });
        }
        Ok(out)
    }

    /// Applies lifecycle actions in one transaction, recording an event for each state change.
    pub fn apply_actions(
        &mut self,
        run_id: i64,
        now: LocalTime,
        actions: &[Action],
    ) -> Result<Applied> {
        self.apply_reconciliation(run_id, now, actions, None)
    }

    /// [`Store::apply_actions`] of a reconciliation pass, recording the pass in the same
    /// transaction: the marks it consumed are cleared, the highest rowid it saw is kept, and a
    /// full pass also keeps its time, basis and month tallies. A pass that fails before this
    /// leaves every mark for the next one.
    pub fn apply_reconciliation(
        &mut self,
        run_id: i64,
        now: LocalTime,
        actions: &[Action],
        pass: Option<&PassRecord>,
    ) -> Result<Applied> {
        let now_s = fmt_time(&now);
        let tx = self.conn.transaction()?;
        if let Some(pass) = pass {
            record_pass(&tx, run_id, &now_s, pass)?;
        }
        let mut applied = Applied::default();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO discrepancy (dossier_id, dossier_code, kind, state, severity,
                    score_impact, period, agency_code, agency_name, provincial_value,
                    national_value, first_seen, last_seen, state_changed_at,
                    provincial_verdict, national_verdict, rule_version)
                 VALUES (?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?11, ?12, ?13,
                    ?14)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE discrepancy SET dossier_code = ?2,
                    severity = CASE WHEN ?12 THEN ?3 ELSE severity END,
                    score_impact = CASE WHEN ?12 THEN ?4 ELSE score_impact END,
                    period = CASE WHEN ?12 THEN ?5 ELSE period END,
                    provincial_verdict = CASE WHEN ?12 THEN ?13 ELSE provincial_verdict END,
                    national_verdict = CASE WHEN ?12 THEN ?14 ELSE national_verdict END,
                    rule_version = CASE WHEN ?12 THEN ?15 ELSE rule_version END,
                    agency_code = ?6, agency_name = ?7, provincial_value = ?8,
                    national_value = ?9, last_seen = ?10,
                    state = CASE WHEN ?11 THEN 'open' ELSE state END,
                    state_changed_at = CASE WHEN ?11 THEN ?10 ELSE state_changed_at END
                 WHERE id = ?1",
            )?;
            let mut resolve = tx.prepare_cached(
                "UPDATE discrepancy SET state = 'resolved', state_changed_at = ?2 WHERE id = ?1",
            )?;
            let mut event = tx.prepare_cached(
                "INSERT INTO discrepancy_event (discrepancy_id, at, event, actor, note, run_id)
                 VALUES (?1, ?2, ?3, 'tthc-sync', NULL, ?4)",
            )?;
            for a in actions {
                match a {
                    Action::Open(f) => {
                        insert.execute(params![
                            f.dossier_id,
                            f.dossier_code,
                            f.kind.as_str(),
                            f.severity.as_str(),
                            f.score_impact,
                            f.period,
                            f.agency_code,
                            f.agency_name,
                            f.provincial,
                            f.national,
                            now_s,
                            verdict_of(f, true),
                            verdict_of(f, false),
                            f.timeliness.map(|t| t.rule_version)
                        ])?;
                        let id = tx.last_insert_rowid();
                        event.execute(params![id, now_s, "opened", run_id])?;
                        log_event("opened", f);
                        applied.opened += 1;
                    }
                    Action::Reopen { id, finding: f } | Action::Refresh { id, finding: f } => {
                        let reopen = matches!(a, Action::Reopen { .. });
                        // A refresh writes `last_seen`: the last comparison that saw it.
                        update.execute(params![
                            id,
                            f.dossier_code,
                            f.severity.as_str(),
                            f.score_impact,
                            f.period,
                            f.agency_code,
                            f.agency_name,
                            f.provincial,
                            f.national,
                            now_s,
                            reopen,
                            f.impact_known,
                            verdict_of(f, true),
                            verdict_of(f, false),
                            f.timeliness.map(|t| t.rule_version)
                        ])?;
                        if reopen {
                            event.execute(params![id, now_s, "reopened", run_id])?;
                            log_event("reopened", f);
                            applied.reopened += 1;
                        } else {
                            applied.refreshed += 1;
                        }
                    }
                    Action::AutoResolve { id, kind } => {
                        resolve.execute(params![id, now_s])?;
                        event.execute(params![id, now_s, "auto_resolved", run_id])?;
                        tracing::info!(target: "discrepancy", event = "resolved", id = *id,
                            kind = kind.as_str(), "discrepancy resolved");
                        applied.resolved += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    pub fn discrepancies(&self, f: &DiscrepancyFilter) -> Result<Vec<DiscrepancyRow>> {
        let mut sql = String::from(
            "SELECT id, dossier_id, dossier_code, kind, state, severity, score_impact, period,
                    agency_code, agency_name, provincial_value, national_value, first_seen,
                    last_seen, provincial_verdict, national_verdict, rule_version
             FROM discrepancy WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        if !f.states.is_empty() {
            let marks: Vec<String> = f
                .states
                .iter()
                .map(|s| {
                    args.push(s.as_str().to_string());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
        }
        if let Some(k) = f.kind {
            args.push(k.as_str().to_string());
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(a) = &f.agency {
            args.push(a.clone());
            sql.push_str(&format!(
                " AND (agency_code = ?{n} OR agency_name = ?{n})",
                n = args.len()
            ));
        }
        sql.push_str(" ORDER BY score_impact DESC, CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, first_seen, id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params_from_iter(args.iter()),
            discrepancy_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn discrepancy(&self, id: i64) -> Result<Option<DiscrepancyRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, dossier_id, dossier_code, kind, state, severity, score_impact, period,
                    agency_code, agency_name, provincial_value, national_value, first_seen,
                    last_seen, provincial_verdict, national_verdict, rule_version
             FROM discrepancy WHERE id = ?1",
                params![id],
                discrepancy_from_row,
            )
            .optional()?)
    }

    pub fn discrepancy_events(&self, id: i64) -> Result<Vec<EventRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, event, actor, note, run_id FROM discrepancy_event
             WHERE discrepancy_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![id], |r| {
            Ok(EventRow {
                at: r.get(0)?,
                event: r.get(1)?,
                actor: r.get(2)?,
                note: r.get(3)?,
                run_id: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A manual acknowledge or resolve by a staff member, with why.
    pub fn set_discrepancy_state(
        &mut self,
        id: i64,
        to: State,
        by: &str,
        note: &str,
        now: LocalTime,
    ) -> Result<()> {
        if by.trim().is_empty() {
            return Err(StoreError::Invalid(
                "--by must name who made the change".into(),
            ));
        }
        let tx = self.conn.transaction()?;
        let state: Option<String> = tx
            .query_row(
                "SELECT state FROM discrepancy WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(state) = state else {
            return Err(StoreError::NotFound(format!("no discrepancy with id {id}")));
        };
        if state == to.as_str() {
            return Err(StoreError::Invalid(format!(
                "discrepancy {id} is already {state}"
            )));
        }
        if to == State::Acknowledged && state == "resolved" {
            return Err(StoreError::Invalid(format!(
                "discrepancy {id} is resolved; it reopens by itself if the sync sees it again"
            )));
        }
        let event = match to {
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
            State::Open => return Err(StoreError::Invalid("cannot open by hand".into())),
        };
        let now_s = fmt_time(&now);
        tx.execute(
            "UPDATE discrepancy SET state = ?2, state_changed_at = ?3 WHERE id = ?1",
            params![id, to.as_str(), now_s],
        )?;
        tx.execute(
            "INSERT INTO discrepancy_event (discrepancy_id, at, event, actor, note, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            params![id, now_s, event, by, note],
        )?;
        // The next reconciliation looks at the dossier again (and reopens a discrepancy
        // resolved by hand that it still sees), whether it is a full pass or not.
        tx.execute(
            "INSERT INTO reconcile_dirty (pid)
             SELECT p.rowid FROM provincial_dossier p JOIN discrepancy d
               ON d.dossier_id = p.dossier_id WHERE d.id = ?1",
            params![id],
        )?;
        tx.commit()?;
        tracing::info!(target: "discrepancy", event, id, "discrepancy changed by hand");
        Ok(())
    }

    /// Open discrepancies counted by kind.
    pub fn open_counts_by_kind(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, count(*) FROM discrepancy WHERE state IN ('open', 'acknowledged')
             GROUP BY kind ORDER BY count(*) DESC, kind",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Agencies with the most open discrepancies.
    pub fn open_counts_by_agency(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT coalesce(agency_name, agency_code, '(không rõ)'), count(*) FROM discrepancy
             WHERE state IN ('open', 'acknowledged')
             GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The last run's id, outcome and problems.
    pub fn last_run(&self) -> Result<Option<(i64, String, Vec<String>)>> {
        Ok(self
            .conn
            .query_row(
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
            .optional()?)
    }
}

/// One observed change of one side of a dossier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    pub observed_at: String,
    pub status_code: Option<i64>,
    pub status_raw: Option<String>,
    pub due_at: Option<String>,
    pub finished_at: Option<String>,
    pub returned_at: Option<String>,
}

impl Store {
    /// Every change observed in the provincial view of a dossier, oldest first.
    pub fn provincial_history(&self, dossier_id: &str) -> Result<Vec<HistoryRow>> {
        self.history(
            "SELECT observed_at, status_code, status_raw, due_at, finished_at, returned_at
             FROM provincial_history WHERE dossier_id = ?1 ORDER BY id",
            dossier_id,
        )
    }

    /// Every change observed in the portal's view of a code, oldest first (`found = 0` rows
    /// have no status).
    pub fn national_history(&self, code: &str) -> Result<Vec<HistoryRow>> {
        self.history(
            "SELECT observed_at, CASE WHEN found = 1 THEN status_code END,
                    CASE WHEN found = 1 THEN status_raw ELSE 'không tìm thấy' END,
                    due_at, finished_at, returned_at
             FROM national_history WHERE code = ?1 ORDER BY id",
            code,
        )
    }

    fn history(&self, sql: &str, key: &str) -> Result<Vec<HistoryRow>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![key], |r| {
            Ok(HistoryRow {
                observed_at: r.get(0)?,
                status_code: r.get(1)?,
                status_raw: r.get(2)?,
                due_at: r.get(3)?,
                finished_at: r.get(4)?,
                returned_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// One look-up's result, to store.
#[derive(Clone, Debug)]
pub struct LookupResult {
    pub dossier_id: String,
    pub code: String,
    pub at: LocalTime,
    /// `Ok((outcome, raw reply rows as JSON))` or `Err(reason)`.
    pub result: std::result::Result<(LookupOutcome, String), String>,
}

/// A finding's provincial (`true`) or national verdict, as stored.
fn verdict_of(f: &Finding, provincial: bool) -> Option<&'static str> {
    let t = f.timeliness?;
    if provincial {
        Some(t.provincial.as_str())
    } else {
        Some(t.national.map_or("absent", |v| v.as_str()))
    }
}

fn log_event(event: &str, f: &Finding) {
    tracing::info!(target: "discrepancy", event, dossier = %f.dossier_code, kind = f.kind.as_str(),
        agency = f.agency_code.as_deref().unwrap_or(""), severity = f.severity.as_str(),
        impact = f.score_impact, "discrepancy {event}");
}

/// The highest rowid of `provincial_dossier` (0 when empty).
fn top_pid(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(rowid), 0) FROM provincial_dossier",
        [],
        |r| r.get(0),
    )?)
}

fn store_rows(
    tx: &Transaction<'_>,
    run_id: i64,
    source: &str,
    observed_at: LocalTime,
    rows: &[(ProvincialDossier, String)],
) -> Result<PageStats> {
    let now = fmt_time(&observed_at);
    let mut stats = PageStats::default();
    // One upsert per row tells all three cases apart. It writes nothing when the stored hash
    // is the same (no row returned: only `last_seen` is then touched), and returns the rowid
    // of the row it inserted or changed. SQLite gives an inserted row a rowid above every
    // existing one (max + 1) and an update keeps the row's rowid, so a returned rowid above
    // the highest seen so far is a new row. `dossier_id` is TEXT: the rowid is not an alias.
    let mut top = top_pid(tx)?;
    let mut touch =
        tx.prepare_cached("UPDATE provincial_dossier SET last_seen = ?2 WHERE dossier_id = ?1")?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO provincial_dossier (dossier_id, code, national_code, local_code,
            procedure_code, procedure_name, agency_code, agency_name, channel, status_code,
            status_raw, status_label, received_at, due_at, finished_at, returned_at, has_due_date,
            paused_since, supplement_requests, handler, updated_at, row_hash, raw_json, source,
            first_seen, last_seen, last_changed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?25, ?21)
         ON CONFLICT (dossier_id) DO UPDATE SET code = excluded.code,
            local_code = excluded.local_code,
            procedure_code = excluded.procedure_code, procedure_name = excluded.procedure_name,
            agency_name = excluded.agency_name,
            channel = excluded.channel, status_code = excluded.status_code,
            status_raw = excluded.status_raw, status_label = excluded.status_label,
            received_at = excluded.received_at, due_at = excluded.due_at,
            finished_at = excluded.finished_at, returned_at = excluded.returned_at,
            has_due_date = excluded.has_due_date, paused_since = excluded.paused_since,
            supplement_requests = excluded.supplement_requests, handler = excluded.handler,
            updated_at = excluded.updated_at, row_hash = excluded.row_hash,
            raw_json = excluded.raw_json, source = excluded.source,
            last_seen = excluded.last_seen, last_changed = excluded.updated_at
         WHERE provincial_dossier.row_hash IS NOT excluded.row_hash
         RETURNING rowid",
    )?;
    let mut history = tx.prepare_cached(
        "INSERT INTO provincial_history (dossier_id, observed_at, run_id, status_code, status_raw,
            received_at, due_at, finished_at, returned_at, updated_at, row_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut mark_dirty = tx.prepare_cached("INSERT INTO reconcile_dirty (pid) VALUES (?1)")?;
    // The indexed columns apart, and only when they differ: an UPDATE that assigns an indexed
    // column rewrites its index entry even to the same value (a random page written per
    // changed row, per index).
    let mut rekey = tx.prepare_cached(
        "UPDATE provincial_dossier SET national_code = ?2, agency_code = ?3
         WHERE rowid = ?1 AND (national_code IS NOT ?2 OR agency_code IS NOT ?3)",
    )?;
    for (d, raw) in rows {
        stats.rows += 1;
        let c = &d.core;
        let (received_at, due_at, finished_at, returned_at, updated_at) = (
            t(&c.received_at),
            t(&c.due_at),
            t(&c.finished_at),
            t(&c.returned_at),
            fmt_time(&d.updated_at),
        );
        let status_code = c.status.map(|s| s.code());
        let written: Option<i64> = upsert
            .query_row(
                params![
                    d.local_id,
                    d.key,
                    if c.code.is_empty() {
                        None
                    } else {
                        Some(&c.code)
                    },
                    d.local_code,
                    c.procedure_code,
                    d.procedure_name,
                    c.agency_code,
                    d.agency_name,
                    d.channel.as_str(),
                    status_code,
                    c.status_raw,
                    d.status_label,
                    received_at,
                    due_at,
                    finished_at,
                    returned_at,
                    d.has_due_date,
                    t(&d.paused_since),
                    d.supplement_requests,
                    d.handler,
                    updated_at,
                    d.row_hash,
                    raw,
                    source,
                    now,
                ],
                |r| r.get(0),
            )
            .optional()?;
        let Some(rowid) = written else {
            touch.execute(params![d.local_id, now])?;
            continue;
        };
        let new = rowid > top;
        if new {
            top = rowid;
            stats.new += 1;
        } else {
            stats.changed += 1;
        }
        history.execute(params![
            d.local_id,
            now,
            run_id,
            status_code,
            c.status_raw,
            received_at,
            due_at,
            finished_at,
            returned_at,
            updated_at,
            d.row_hash,
        ])?;
        // A changed row's look-up count restarts by itself (`lookup_state.row_hash_seen`). A
        // new row needs no mark for the next reconciliation: that takes every row above the
        // highest rowid it last saw.
        if !new {
            let national_code = (!c.code.is_empty()).then_some(&c.code);
            rekey.execute(params![rowid, national_code, c.agency_code])?;
            mark_dirty.execute(params![rowid])?;
        }
    }
    Ok(stats)
}

/// What a reconciliation pass leaves for the next one (see [`Store::apply_reconciliation`]).
#[derive(Clone, Debug, PartialEq)]
pub enum PassRecord {
    Full {
        basis: String,
        top_pid: i64,
        /// The marks as they stood before the pass read anything.
        marks: Marks,
        tallies: HashMap<YearMonth, Tally>,
        calendar_problem: Option<String>,
    },
    Changed {
        top_pid: i64,
        marks: Marks,
    },
}

/// The marks for reconciliation at one moment ([`Store::reconcile_marks`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    /// The id of the last mark (0: none).
    pub last_id: i64,
    /// Distinct dossiers marked, among the rows the last pass saw.
    pub dossiers: u64,
}

/// The last full reconciliation, as [`Store::last_full_pass`] reads it back.
#[derive(Clone, Debug, PartialEq)]
pub struct FullPass {
    pub at: LocalTime,
    pub basis: String,
    /// The highest provincial rowid reconciled by any pass since.
    pub top_pid: i64,
    pub tallies: HashMap<YearMonth, Tally>,
    /// Dossiers it could not judge (a year with no holiday file), as reported then.
    pub calendar_problem: Option<String>,
}

fn record_pass(tx: &Transaction<'_>, run_id: i64, now: &str, pass: &PassRecord) -> Result<()> {
    let (PassRecord::Full { marks, .. } | PassRecord::Changed { marks, .. }) = pass;
    // Only the marks the pass saw: one made meanwhile (a discrepancy resolved by hand while
    // the pass ran) is for the next pass.
    tx.execute(
        "DELETE FROM reconcile_dirty WHERE id <= ?1",
        params![marks.last_id],
    )?;
    match pass {
        PassRecord::Full {
            basis,
            top_pid,
            tallies,
            calendar_problem,
            ..
        } => {
            tx.execute(
                "INSERT INTO reconcile_pass (id, full_at, basis, top_pid, calendar_problem, run_id)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET full_at = excluded.full_at,
                    basis = excluded.basis, top_pid = excluded.top_pid,
                    calendar_problem = excluded.calendar_problem, run_id = excluded.run_id",
                params![now, basis, top_pid, calendar_problem, run_id],
            )?;
            tx.execute("DELETE FROM month_tally", [])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO month_tally (month, counted, early, on_time, late,
                    in_process_in_time, in_process_overdue, computed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (m, t) in tallies {
                let n = |v: u64| v as i64;
                ins.execute(params![
                    m.iso(),
                    n(t.counted),
                    n(t.early),
                    n(t.on_time),
                    n(t.late),
                    n(t.in_process_in_time),
                    n(t.in_process_overdue),
                    now
                ])?;
            }
        }
        PassRecord::Changed { top_pid, .. } => {
            tx.execute(
                "UPDATE reconcile_pass SET top_pid = max(top_pid, ?1) WHERE id = 1",
                params![top_pid],
            )?;
        }
    }
    Ok(())
}

fn store_lookup(tx: &Transaction<'_>, run_id: i64, r: &LookupResult) -> Result<()> {
    let at = fmt_time(&r.at);
    match &r.result {
        Err(reason) => {
            tx.prepare_cached(
                "INSERT INTO lookup_state (dossier_id, code, last_attempt_at, last_outcome, last_error)
                 VALUES (?1, ?2, ?3, 'error', ?4)
                 ON CONFLICT (dossier_id) DO UPDATE SET code = excluded.code,
                    last_attempt_at = excluded.last_attempt_at, last_outcome = 'error',
                    last_error = excluded.last_error",
                )?
                .execute(params![r.dossier_id, r.code, at, reason],
            )?;
        }
        Ok((outcome, raw)) => {
            let (found, nd) = match outcome {
                LookupOutcome::Found(nd) => (true, nd.clone()),
                LookupOutcome::NotFound => (false, NationalDossier::default()),
            };
            upsert_national(tx, run_id, &r.code, r.at, found, &nd, raw)?;
            // Every dossier paired with this view is re-examined by the next reconciliation
            // (even when the view did not change: a newer look-up can end a sync grace).
            tx.prepare_cached(
                "INSERT INTO reconcile_dirty (pid)
                 SELECT rowid FROM provincial_dossier WHERE dossier_id = ?1 OR national_code = ?2",
            )?
            .execute(params![r.dossier_id, r.code])?;
            // The count restarts when the provincial row changed since the count began (its
            // hash differs): counted here, so storing a changed row writes nothing here.
            tx.prepare_cached(
                "INSERT INTO lookup_state (dossier_id, code, last_attempt_at, last_outcome,
                    last_error, last_success_at, lookups_since_change, row_hash_seen)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?3, 1,
                    (SELECT row_hash FROM provincial_dossier WHERE dossier_id = ?1))
                 ON CONFLICT (dossier_id) DO UPDATE SET code = excluded.code,
                    last_attempt_at = excluded.last_attempt_at,
                    last_outcome = excluded.last_outcome, last_error = NULL,
                    last_success_at = excluded.last_success_at,
                    lookups_since_change = CASE
                        WHEN lookup_state.row_hash_seen IS excluded.row_hash_seen
                        THEN lookup_state.lookups_since_change + 1 ELSE 1 END,
                    row_hash_seen = excluded.row_hash_seen",
            )?
            .execute(params![
                r.dossier_id,
                r.code,
                at,
                if found { "found" } else { "not_found" }
            ])?;
        }
    }
    Ok(())
}

/// Stores a successful view of `code` (found or not) in `national_dossier`, with a history row
/// when it changed.
fn upsert_national(
    tx: &Transaction<'_>,
    run_id: i64,
    code: &str,
    at: LocalTime,
    found: bool,
    nd: &NationalDossier,
    raw: &str,
) -> Result<()> {
    let at = fmt_time(&at);
    let c = &nd.core;
    let changed = tx
        .prepare_cached(
            "INSERT INTO national_dossier (code, found, procedure_code, status_code, status_raw,
                received_at, due_at, finished_at, returned_at, unit_code, unit_name,
                duplicate_rows, raw_json, first_seen, last_lookup_at, last_changed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?14)
             ON CONFLICT (code) DO UPDATE SET found = excluded.found,
                procedure_code = excluded.procedure_code, status_code = excluded.status_code,
                status_raw = excluded.status_raw, received_at = excluded.received_at,
                due_at = excluded.due_at, finished_at = excluded.finished_at,
                returned_at = excluded.returned_at, unit_code = excluded.unit_code,
                unit_name = excluded.unit_name, duplicate_rows = excluded.duplicate_rows,
                raw_json = excluded.raw_json, last_changed = excluded.last_changed
             WHERE (national_dossier.found, national_dossier.status_code,
                    national_dossier.status_raw, national_dossier.received_at,
                    national_dossier.due_at, national_dossier.finished_at,
                    national_dossier.returned_at, national_dossier.unit_code,
                    national_dossier.procedure_code, national_dossier.unit_name,
                    national_dossier.duplicate_rows)
               IS NOT (excluded.found, excluded.status_code, excluded.status_raw,
                    excluded.received_at, excluded.due_at, excluded.finished_at,
                    excluded.returned_at, excluded.unit_code, excluded.procedure_code,
                    excluded.unit_name, excluded.duplicate_rows)",
        )?
        .execute(params![
            code,
            found,
            c.procedure_code,
            c.status.map(|s| s.code()),
            c.status_raw,
            t(&c.received_at),
            t(&c.due_at),
            t(&c.finished_at),
            t(&c.returned_at),
            c.agency_code,
            nd.unit_name,
            nd.duplicate_rows,
            raw,
            at
        ])?;
    tx.prepare_cached("UPDATE national_dossier SET last_lookup_at = ?2 WHERE code = ?1")?
        .execute(params![code, at])?;
    if changed > 0 {
        tx.prepare_cached(
            "INSERT INTO national_history (code, observed_at, run_id, found, status_code,
                    status_raw, received_at, due_at, finished_at, returned_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            code,
            at,
            run_id,
            found,
            c.status.map(|s| s.code()),
            c.status_raw,
            t(&c.received_at),
            t(&c.due_at),
            t(&c.finished_at),
            t(&c.returned_at)
        ])?;
    }
    Ok(())
}

fn text_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| match e {
        rusqlite::types::FromSqlError::InvalidType => rusqlite::Error::InvalidColumnType(
            i,
            String::new(),
            r.get_ref(i)
                .map(|v| v.data_type())
                .unwrap_or(rusqlite::types::Type::Null),
        ),
        other => rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            Box::new(other),
        ),
    })
}

/// Overwrites `dst` with the text at `i` (NULL = empty), reusing its buffer.
fn set_text(dst: &mut String, r: &Row<'_>, i: usize) -> rusqlite::Result<()> {
    dst.clear();
    dst.push_str(text_at(r, i)?.unwrap_or(""));
    Ok(())
}

/// Overwrites `dst` with the text at `i`, reusing its buffer.
fn set_opt_text(dst: &mut Option<String>, r: &Row<'_>, i: usize) -> rusqlite::Result<()> {
    match (text_at(r, i)?, dst.as_mut()) {
        (None, _) => *dst = None,
        (Some(v), Some(d)) => {
            d.clear();
            d.push_str(v);
        }
        (Some(v), None) => *dst = Some(v.to_string()),
    }
    Ok(())
}

fn time_at(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<LocalTime>> {
    Ok(text_at(r, i)?.and_then(parse_stored_time))
}

/// Columns 0–21 of [`Store::for_each_pair`]'s query into a reused record.
fn read_pair_provincial(r: &Row<'_>, p: &mut ProvincialDossier) -> rusqlite::Result<()> {
    set_text(&mut p.local_id, r, 0)?;
    set_text(&mut p.key, r, 1)?;
    set_text(&mut p.core.code, r, 2)?;
    set_text(&mut p.local_code, r, 3)?;
    set_opt_text(&mut p.core.procedure_code, r, 4)?;
    set_opt_text(&mut p.procedure_name, r, 5)?;
    set_opt_text(&mut p.core.agency_code, r, 6)?;
    set_opt_text(&mut p.agency_name, r, 7)?;
    p.channel = Channel::parse(text_at(r, 8)?.unwrap_or(""));
    p.core.status = status_of(r.get(9)?);
    set_text(&mut p.core.status_raw, r, 10)?;
    set_opt_text(&mut p.status_label, r, 11)?;
    p.core.received_at = time_at(r, 12)?;
    p.core.due_at = time_at(r, 13)?;
    p.core.finished_at = time_at(r, 14)?;
    p.core.returned_at = time_at(r, 15)?;
    p.has_due_date = r.get(16)?;
    p.paused_since = time_at(r, 17)?;
    p.supplement_requests = r.get(18)?;
    set_opt_text(&mut p.handler, r, 19)?;
    p.updated_at = time_at(r, 20)?.unwrap_or_default();
    set_text(&mut p.row_hash, r, 21)?;
    Ok(())
}

/// Columns 22–34 of [`Store::for_each_pair`]'s query into a reused record.
fn read_pair_national(r: &Row<'_>, n: &mut StoredNational) -> rusqlite::Result<()> {
    let c = &mut n.dossier.core;
    set_text(&mut c.code, r, 22)?;
    n.found = r.get(23)?;
    set_opt_text(&mut c.procedure_code, r, 24)?;
    c.status = status_of(r.get(25)?);
    set_text(&mut c.status_raw, r, 26)?;
    c.received_at = time_at(r, 27)?;
    c.due_at = time_at(r, 28)?;
    c.finished_at = time_at(r, 29)?;
    c.returned_at = time_at(r, 30)?;
    set_opt_text(&mut c.agency_code, r, 31)?;
    set_opt_text(&mut n.dossier.unit_name, r, 32)?;
    n.dossier.duplicate_rows = r.get(33)?;
    n.looked_up_at = time_at(r, 34)?.unwrap_or_default();
    Ok(())
}

fn provincial_from_row(r: &Row<'_>) -> rusqlite::Result<ProvincialDossier> {
    Ok(ProvincialDossier {
        key: r.get("code")?,
        core: DossierCore {
            code: r
                .get::<_, Option<String>>("national_code")?
                .unwrap_or_default(),
            procedure_code: r.get("procedure_code")?,
            agency_code: r.get("agency_code")?,
            status: status_of(r.get("status_code")?),
            status_raw: r.get("status_raw")?,
            received_at: rt(r, "received_at")?,
            due_at: rt(r, "due_at")?,
            finished_at: rt(r, "finished_at")?,
            returned_at: rt(r, "returned_at")?,
        },
        local_id: r.get("dossier_id")?,
        local_code: r.get("local_code")?,
        procedure_name: r.get("procedure_name")?,
        agency_name: r.get("agency_name")?,
        channel: Channel::parse(&r.get::<_, String>("channel")?),
        has_due_date: r.get("has_due_date")?,
        status_label: r.get("status_label")?,
        paused_since: rt(r, "paused_since")?,
        supplement_requests: r.get("supplement_requests")?,
        handler: r.get("handler")?,
        updated_at: rt(r, "updated_at")?.unwrap_or_default(),
        row_hash: r.get("row_hash")?,
    })
}

fn national_from_row(r: &Row<'_>) -> rusqlite::Result<StoredNational> {
    Ok(StoredNational {
        found: r.get("found")?,
        dossier: NationalDossier {
            core: DossierCore {
                code: r.get("code")?,
                procedure_code: r.get("procedure_code")?,
                agency_code: r.get("unit_code")?,
                status: status_of(r.get("status_code")?),
                status_raw: r
                    .get::<_, Option<String>>("status_raw")?
                    .unwrap_or_default(),
                received_at: rt(r, "received_at")?,
                due_at: rt(r, "due_at")?,
                finished_at: rt(r, "finished_at")?,
                returned_at: rt(r, "returned_at")?,
            },
            unit_name: r.get("unit_name")?,
            duplicate_rows: r.get("duplicate_rows")?,
        },
        looked_up_at: rt(r, "last_lookup_at")?.unwrap_or_default(),
    })
}

fn discrepancy_from_row(r: &Row<'_>) -> rusqlite::Result<DiscrepancyRow> {
    Ok(DiscrepancyRow {
        id: r.get(0)?,
        dossier_id: r.get(1)?,
        dossier_code: r.get(2)?,
        kind: r.get(3)?,
        state: r.get(4)?,
        severity: r.get(5)?,
        score_impact: r.get(6)?,
        period: r.get(7)?,
        agency_code: r.get(8)?,
        agency_name: r.get(9)?,
        provincial: r.get(10)?,
        national: r.get(11)?,
        first_seen: r.get(12)?,
        last_seen: r.get(13)?,
        provincial_verdict: r.get(14)?,
        national_verdict: r.get(15)?,
        rule_version: r.get(16)?,
    })
}

// ----- published scores, listed national rows, freshness (issue 4) ----------------------------

impl Store {
    /// Stores published score rows in one transaction, replacing a unit's earlier row for the
    /// same api and month.
    pub fn store_published_scores(
        &mut self,
        rows: &[crate::scores::PublishedScore],
        fetched_at: LocalTime,
    ) -> Result<usize> {
        let at = fmt_time(&fetched_at);
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO published_score (api, year, month, unit_key, unit_code, unit_name,
                    total_received, total_on_time, total_overdue, total_completed, tdgq_score,
                    max_score, total_score, rank, raw_json, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (api, year, month, unit_key) DO UPDATE SET
                    unit_code = excluded.unit_code, unit_name = excluded.unit_name,
                    total_received = excluded.total_received,
                    total_on_time = excluded.total_on_time,
                    total_overdue = excluded.total_overdue,
                    total_completed = excluded.total_completed,
                    tdgq_score = excluded.tdgq_score, max_score = excluded.max_score,
                    total_score = excluded.total_score, rank = excluded.rank,
                    raw_json = excluded.raw_json, fetched_at = excluded.fetched_at",
            )?;
            for r in rows {
                upsert.execute(params![
                    r.api,
                    r.year,
                    r.month,
                    r.unit_key,
                    r.unit_code,
                    r.unit_name,
                    r.total_received,
                    r.total_on_time,
                    r.total_overdue,
                    r.total_completed,
                    r.tdgq_score,
                    r.max_score,
                    r.total_score,
                    r.rank,
                    r.raw_json,
                    at
                ])?;
            }
        }
        tx.commit()?;
        Ok(rows.len())
    }

    /// The stored published rows of one month and api, by unit key.
    pub fn published_scores(
        &self,
        api: &str,
        ym: crate::model::YearMonth,
    ) -> Result<Vec<crate::scores::PublishedScore>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT api, year, month, unit_key, unit_code, unit_name, total_received,
                    total_on_time, total_overdue, total_completed, tdgq_score, max_score,
                    total_score, rank, raw_json
             FROM published_score WHERE api = ?1 AND year = ?2 AND month = ?3 ORDER BY unit_key",
        )?;
        let rows = stmt.query_map(params![api, ym.year, ym.month], |r| {
            Ok(crate::scores::PublishedScore {
                api: r.get(0)?,
                year: r.get(1)?,
                month: r.get(2)?,
                unit_key: r.get(3)?,
                unit_code: r.get(4)?,
                unit_name: r.get(5)?,
                is_province: false,
                total_received: r.get(6)?,
                total_on_time: r.get(7)?,
                total_overdue: r.get(8)?,
                total_completed: r.get(9)?,
                tdgq_score: r.get(10)?,
                max_score: r.get(11)?,
                total_score: r.get(12)?,
                rank: r.get(13)?,
                raw_json: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Stores the rows of one successful `DanhSachHoSo` reply in one transaction: each is a
    /// successful view of its dossier (`national_dossier`, history on change), and a provincial
    /// dossier holding that code gets its look-up state updated as by a look-up.
    pub fn store_listed(
        &mut self,
        run_id: i64,
        at: LocalTime,
        rows: &[(NationalDossier, String)],
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (nd, raw) in rows {
            let ids: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT dossier_id FROM provincial_dossier WHERE national_code = ?1",
                )?;
                let ids = stmt.query_map(params![nd.core.code], |r| r.get(0))?;
                ids.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let result = Ok((LookupOutcome::Found(nd.clone()), raw.clone()));
            match ids.as_slice() {
                [] => upsert_national(&tx, run_id, &nd.core.code, at, true, nd, raw)?,
                ids => {
                    for id in ids {
                        store_lookup(
                            &tx,
                            run_id,
                            &LookupResult {
                                dossier_id: id.clone(),
                                code: nd.core.code.clone(),
                                at,
                                result: result.clone(),
                            },
                        )?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Which of `codes` some provincial dossier holds (as national code or key).
    pub fn provincial_codes_among(
        &self,
        codes: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM provincial_dossier WHERE national_code = ?1 OR code = ?1)",
        )?;
        let mut out = std::collections::HashSet::new();
        for c in codes {
            if stmt.query_row(params![c], |r| r.get::<_, bool>(0))? {
                out.insert(c.clone());
            }
        }
        Ok(out)
    }

    /// The codes of active (open or acknowledged) `missing_on_provincial` discrepancies, with
    /// their ids and dossier ids.
    pub fn active_missing_on_provincial(&self) -> Result<Vec<(i64, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, dossier_id, dossier_code FROM discrepancy
             WHERE kind = 'missing_on_provincial' AND state IN ('open', 'acknowledged')
             ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Age in seconds, at `now`, of the national view of every active provincial dossier (not
    /// terminal, well-formed national code): now − last successful look-up, or now − first seen
    /// when it never had one.
    pub fn view_ages(&self, now: LocalTime) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.national_code, coalesce(l.last_success_at, p.first_seen)
             FROM provincial_dossier p LEFT JOIN lookup_state l ON l.dossier_id = p.dossier_id
             WHERE p.status_code IS NULL OR p.status_code NOT IN (3, 7, 8, 9, 10)",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let code: Option<String> = r.get(0)?;
            if !code.is_some_and(|c| crate::model::is_well_formed_national_code(&c)) {
                continue;
            }
            if let Some(since) = r
                .get::<_, Option<String>>(1)?
                .and_then(|s| parse_stored_time(&s))
            {
                out.push((now - since).num_seconds().max(0));
            }
        }
        Ok(out)
    }

    /// Records a run's freshness figures (migration 3 columns).
    pub fn record_freshness(
        &self,
        run_id: i64,
        p50_s: Option<i64>,
        p95_s: Option<i64>,
        budget_used: Option<f64>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_run SET freshness_p50_s = ?2, freshness_p95_s = ?3, budget_used = ?4
             WHERE id = ?1",
            params![run_id, p50_s, p95_s, budget_used],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod run_tests {
    use super::*;

    fn at(s: &str) -> LocalTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// `.cargo/config.toml` builds the bundled SQLite without memory management, which would
    /// put every connection's page cache behind one mutex (the two-thread passes wait on it).
    #[test]
    fn the_lookup_count_restarts_when_the_provincial_row_changes() {
        let mut store = Store::open_in_memory().unwrap();
        let mut p = ProvincialDossier {
            local_id: "d1".into(),
            key: "000.00.10.H18-261102-0001".into(),
            row_hash: "h1".into(),
            ..Default::default()
        };
        p.core.code = p.key.clone();
        let t = at("2026-11-20 10:00:00");
        let count = |store: &Store| store.lookup_candidates().unwrap().0[0].lookups_since_change;
        let look_up = |store: &mut Store| {
            let found = NationalDossier {
                core: p.core.clone(),
                ..Default::default()
            };
            store
                .store_lookups(
                    1,
                    &[LookupResult {
                        dossier_id: "d1".into(),
                        code: p.key.clone(),
                        at: t,
                        result: Ok((LookupOutcome::Found(found), "[]".into())),
                    }],
                )
                .unwrap();
        };
        store
            .store_provincial_page(1, "p", t, &[(p.clone(), "{}".into())], None)
            .unwrap();
        assert_eq!(count(&store), 0);
        look_up(&mut store);
        look_up(&mut store);
        assert_eq!(count(&store), 2);
        p.row_hash = "h2".into();
        store
            .store_provincial_page(1, "p", t, &[(p.clone(), "{}".into())], None)
            .unwrap();
        assert_eq!(count(&store), 0, "the row changed");
        look_up(&mut store);
        assert_eq!(count(&store), 1);
    }

    #[test]
    fn bundled_sqlite_keeps_each_connections_page_cache_apart() {
        let store = Store::open_in_memory().unwrap();
        assert!(
            !store.page_caches_shared().unwrap(),
            "SQLite built with ENABLE_MEMORY_MANAGEMENT: .cargo/config.toml's LIBSQLITE3_FLAGS \
             were not applied"
        );
    }

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
}
