//! The history rows of both views of a dossier (`provincial_history`, `national_history`):
//! every change observed, for `tthc-sync dossier`; and the facts derived from the provincial
//! history for the on-time rule ([`crate::facts`]), kept in `provincial_facts`.
//!
//! `provincial_facts` holds, for every dossier whose history can tell more than its row (a
//! pause or closing status, or a due date moved: [`tells_more`]), the facts
//! [`facts::derive`] gives from that history, as JSON. It is derived, never edited: written in
//! the transaction that appends the dossier's history row ([`refresh_facts`], called by the
//! page store), rewritten when a run is closed as failed (a failed run observed nothing, which
//! changes the observation windows: [`refresh_facts_from_run`]), and filled from the existing
//! history by the migration that creates it ([`backfill_facts`]). Readers read the table; the
//! grouping of the whole history (`FACTS_SQL`) is left only to that backfill.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Params, Row};
use serde::Serialize;

use super::passes::Marks;
use super::{rt, status_of, Result, Store};
use crate::facts::{self, DossierFacts, Observation};
use crate::model::{parse_stored_time, LocalTime, ProvincialDossier};

/// The provincial history rows the facts are derived from, for the dossiers whose history can
/// tell more than their row (the condition of [`tells_more`], in SQL). Only the migration that
/// creates `provincial_facts` runs it ([`backfill_facts`]).
const FACTS_SQL: &str = "
    SELECT h.dossier_id, h.id, h.observed_at, h.run_id, h.status_code, h.updated_at, h.due_at
    FROM provincial_history h
    WHERE h.dossier_id IN (
        SELECT dossier_id FROM provincial_history
        GROUP BY dossier_id
        HAVING max(status_code IN (5, 6, 7, 8)) = 1 OR count(DISTINCT substr(due_at, 1, 10)) > 1
    )
    ORDER BY h.dossier_id, h.id";

/// Each run's previous run of the same job (its start): the observation before the one a
/// history row records (failed runs observed nothing). [`previous_run`] is the same for one
/// run.
const PREVIOUS_RUN_SQL: &str = "
    SELECT id, lag(started_at) OVER (PARTITION BY job ORDER BY id) AS previous
    FROM sync_run WHERE outcome <> 'failed'";

/// One dossier's history, oldest first, as the facts read it (by its index).
const DOSSIER_HISTORY_SQL: &str = "
    SELECT id, observed_at, run_id, status_code, updated_at, due_at
    FROM provincial_history WHERE dossier_id = ?1 ORDER BY id";

/// One history row as the facts read it.
struct FactsRow {
    id: i64,
    observed_at: LocalTime,
    run: Option<i64>,
    status_code: Option<i64>,
    changed_at: Option<LocalTime>,
    /// The stored text: the condition compares its date part as text, as `FACTS_SQL` does.
    due_at: Option<String>,
}

impl FactsRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<FactsRow> {
        Ok(FactsRow {
            id: r.get("id")?,
            observed_at: rt(r, "observed_at")?.unwrap_or_default(),
            run: r.get("run_id")?,
            status_code: r.get("status_code")?,
            changed_at: rt(r, "updated_at")?,
            due_at: r.get("due_at")?,
        })
    }

    fn observation(&self, previous_observation: Option<LocalTime>) -> Observation {
        Observation {
            observed_at: self.observed_at,
            previous_observation,
            status: status_of(self.status_code),
            changed_at: self.changed_at,
            due_at: self.due_at.as_deref().and_then(parse_stored_time),
        }
    }
}

/// Whether a dossier's history (oldest first) can tell more than its row: a pause or closing
/// status without a finish time of its own (5, 6, 7, 8) was seen, or the due date was seen on
/// more than one date. The same condition as `FACTS_SQL`'s.
fn tells_more(rows: &[FactsRow]) -> bool {
    let paused_or_closed = rows.iter().any(|r| matches!(r.status_code, Some(5..=8)));
    let mut dates = rows
        .iter()
        .filter_map(|r| r.due_at.as_deref())
        .map(|d| d.chars().take(10).collect::<String>());
    let moved = dates.next().is_some_and(|first| dates.any(|d| d != first));
    paused_or_closed || moved
}

/// Whether a dossier seen for the first time, in status `status_code`, can have facts: only
/// with a pause or closing status (one observation has one due date). The page store skips
/// [`refresh_facts`] for the others.
pub(super) fn first_row_tells_more(status_code: Option<i64>) -> bool {
    matches!(status_code, Some(5..=8))
}

/// The start of the run before `run_id` of the same job, as `PREVIOUS_RUN_SQL` gives it
/// (`None` for a failed or unknown run, or the first of its job), cached by run.
#[derive(Default)]
pub(super) struct PreviousRuns(HashMap<i64, Option<LocalTime>>);

impl PreviousRuns {
    fn of(&mut self, c: &Connection, run: Option<i64>) -> rusqlite::Result<Option<LocalTime>> {
        let Some(run) = run else { return Ok(None) };
        if let Some(&at) = self.0.get(&run) {
            return Ok(at);
        }
        let at = c
            .prepare_cached(
                "SELECT (SELECT p.started_at FROM sync_run p
                         WHERE p.job = r.job AND p.id < r.id AND p.outcome <> 'failed'
                         ORDER BY p.id DESC LIMIT 1)
                 FROM sync_run r WHERE r.id = ?1 AND r.outcome <> 'failed'",
            )?
            .query_row(params![run], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten()
            .and_then(|s| parse_stored_time(&s));
        self.0.insert(run, at);
        Ok(at)
    }
}

/// Derives the facts of `dossier_id` from its stored history and writes them to
/// `provincial_facts`, or removes its row there when its history tells no more than its row.
/// Called in the transaction that appended a history row of the dossier.
pub(super) fn refresh_facts(
    c: &Connection,
    dossier_id: &str,
    previous: &mut PreviousRuns,
) -> rusqlite::Result<()> {
    let rows: Vec<FactsRow> = c
        .prepare_cached(DOSSIER_HISTORY_SQL)?
        .query_map(params![dossier_id], FactsRow::read)?
        .collect::<rusqlite::Result<_>>()?;
    if !tells_more(&rows) {
        c.prepare_cached("DELETE FROM provincial_facts WHERE dossier_id = ?1")?
            .execute(params![dossier_id])?;
        return Ok(());
    }
    let mut observations = Vec::with_capacity(rows.len());
    for r in &rows {
        observations.push(r.observation(previous.of(c, r.run)?));
    }
    let last = rows.last().map_or(0, |r| r.id);
    write_facts(c, dossier_id, &facts::derive(&observations), last)
}

/// Upserts one dossier's facts (JSON) with the last history row they were derived from.
fn write_facts(
    c: &Connection,
    dossier_id: &str,
    f: &DossierFacts,
    history_id: i64,
) -> rusqlite::Result<()> {
    let json =
        serde_json::to_string(f).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    c.prepare_cached(
        "INSERT INTO provincial_facts (dossier_id, facts, history_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (dossier_id) DO UPDATE SET facts = excluded.facts,
            history_id = excluded.history_id",
    )?
    .execute(params![dossier_id, json, history_id])?;
    Ok(())
}

/// After the runs from `first_run` on were closed as failed (they observed nothing): derives
/// again the facts of every dossier with history from those runs or later, whose observation
/// windows change. Runs that store pages do not overlap (one writer), so those rows are the
/// newest of the history: it is read backwards until an earlier run. Returns how many dossiers
/// were derived again.
pub(super) fn refresh_facts_from_run(c: &Connection, first_run: i64) -> rusqlite::Result<usize> {
    let mut dossiers: Vec<String> = Vec::new();
    {
        let mut stmt =
            c.prepare_cached("SELECT dossier_id, run_id FROM provincial_history ORDER BY id DESC")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            match r.get::<_, Option<i64>>(1)? {
                Some(run) if run < first_run => break,
                Some(_) => dossiers.push(r.get(0)?),
                None => {}
            }
        }
    }
    dossiers.sort_unstable();
    dossiers.dedup();
    let mut previous = PreviousRuns::default();
    for d in &dossiers {
        refresh_facts(c, d, &mut previous)?;
    }
    Ok(dossiers.len())
}

/// Fills `provincial_facts` from the whole stored history, grouped (`FACTS_SQL`): run by the
/// migration that creates the table, so an existing database has its facts at once. Returns
/// how many dossiers have facts.
pub(super) fn backfill_facts(c: &Connection) -> rusqlite::Result<usize> {
    let grouped = grouped_facts(c)?;
    for (dossier_id, (f, history_id)) in &grouped {
        write_facts(c, dossier_id, f, *history_id)?;
    }
    Ok(grouped.len())
}

/// The facts of every dossier whose history tells more than its row, derived from the whole
/// history in one grouping query, with the last history row of each.
fn grouped_facts(c: &Connection) -> rusqlite::Result<HashMap<String, (DossierFacts, i64)>> {
    let mut stmt = c.prepare(PREVIOUS_RUN_SQL)?;
    let previous: HashMap<i64, LocalTime> = stmt
        .query_map([], |r| Ok((r.get::<_, i64>("id")?, rt(r, "previous")?)))?
        .filter_map(|r| r.map(|(id, at)| at.map(|at| (id, at))).transpose())
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = c.prepare(FACTS_SQL)?;
    let rows: Vec<(String, FactsRow)> = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>("dossier_id")?, FactsRow::read(r)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = HashMap::new();
    for chunk in rows.chunk_by(|a, b| a.0 == b.0) {
        let observations: Vec<Observation> = chunk
            .iter()
            .map(|(_, r)| r.observation(r.run.and_then(|id| previous.get(&id).copied())))
            .collect();
        let last = chunk.last().map_or(0, |(_, r)| r.id);
        out.insert(chunk[0].0.clone(), (facts::derive(&observations), last));
    }
    Ok(out)
}

/// The stored facts `provincial_facts` holds for the dossiers `scope` (a condition on
/// `dossier_id`) selects, by dossier id.
fn stored_facts(
    c: &Connection,
    scope: &str,
    args: impl Params,
) -> rusqlite::Result<HashMap<String, Arc<DossierFacts>>> {
    let sql = format!("SELECT dossier_id, facts FROM provincial_facts WHERE {scope}");
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let dossier_id: String = r.get(0)?;
        let json = r.get_ref(1)?.as_str()?;
        let f: DossierFacts = serde_json::from_str(json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                Type::Text,
                format!(
                    "provincial_facts of dossier {dossier_id} is not the facts JSON this \
                     version writes ({e}); it is derived from provincial_history: delete the \
                     row and store the dossier's next change, or restore a backup"
                )
                .into(),
            )
        })?;
        out.insert(dossier_id, Arc::new(f));
    }
    Ok(out)
}

/// One observed change of one side of a dossier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    /// When tthc-sync saw the change (stored time text): a pull or look-up time, not when
    /// the change was made.
    pub observed_at: String,
    /// The national status code 1–10 (docs/domain.md §1); `None` when unmapped, or on the
    /// portal's side when it did not have the dossier.
    pub status_code: Option<i64>,
    /// The status exactly as the source wrote it.
    pub status_raw: Option<String>,
    /// The due date (`NgayHenTra`) then.
    pub due_at: Option<String>,
    /// The processing-finished time (`NgayKetThucXuLy`) then.
    pub finished_at: Option<String>,
    /// The result-returned time (`NgayTra`) then.
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
            "SELECT observed_at, CASE WHEN found = 1 THEN status_code END AS status_code,
                    CASE WHEN found = 1 THEN status_raw ELSE 'không tìm thấy' END AS status_raw,
                    due_at, finished_at, returned_at
             FROM national_history WHERE code = ?1 ORDER BY id",
            code,
        )
    }

    /// The [`HistoryRow`]s `sql` selects for `key` (read by column name: a few rows).
    fn history(&self, sql: &str, key: &str) -> Result<Vec<HistoryRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![key], |r| {
                Ok(HistoryRow {
                    observed_at: r.get("observed_at")?,
                    status_code: r.get("status_code")?,
                    status_raw: r.get("status_raw")?,
                    due_at: r.get("due_at")?,
                    finished_at: r.get("finished_at")?,
                    returned_at: r.get("returned_at")?,
                })
            })?;
            rows.collect()
        })
    }

    /// The facts of every provincial dossier whose history can tell more than its row, by
    /// dossier id (`provincial_facts`): what a full pass attaches.
    pub fn provincial_facts(&self) -> Result<HashMap<String, Arc<DossierFacts>>> {
        self.read(|c| stored_facts(c, "1 = 1", params![]))
    }

    /// [`Store::provincial_facts`] for the dossiers a pass over the changed ones reads
    /// ([`Store::for_each_changed_pair`] with the same `top_pid` and `marks`).
    pub fn changed_provincial_facts(
        &self,
        top_pid: i64,
        marks: &Marks,
    ) -> Result<HashMap<String, Arc<DossierFacts>>> {
        self.read(|c| {
            stored_facts(
                c,
                "dossier_id IN (SELECT dossier_id FROM provincial_dossier WHERE rowid > ?1
                     OR rowid IN (SELECT pid FROM reconcile_dirty WHERE id <= ?2 AND pid <= ?1))",
                params![top_pid, marks.last_id],
            )
        })
    }

    /// Attaches the stored facts of one dossier to `p` (a single dossier's view:
    /// `tthc-sync dossier`).
    pub fn attach_facts(&self, p: &mut ProvincialDossier) -> Result<()> {
        let mut map = self.read(|c| stored_facts(c, "dossier_id = ?1", params![p.local_id]))?;
        p.observed = map.remove(&p.local_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::store::test_support::at;

    /// One pull of run `job` at `time` storing `p` in `status` with `updated_at`.
    fn pull(store: &mut Store, time: &str, status: Status, updated: &str, hash: &str) {
        let run = store.begin_run("sync", at(time)).unwrap();
        let mut p = ProvincialDossier {
            local_id: "d1".into(),
            key: "000.00.10.H18-240304-0001".into(),
            row_hash: hash.into(),
            updated_at: at(updated),
            ..Default::default()
        };
        p.core.code = p.key.clone();
        p.core.status = Some(status);
        p.core.status_raw = status.code().to_string();
        let rows = vec![(p, "{}".to_string())];
        store
            .store_provincial_page(run, "p", at(time), &rows, None)
            .unwrap();
    }

    /// The history as stored gives the completed pause, bounded below by the previous pull,
    /// and a later edit does not move the status time.
    #[test]
    fn facts_from_the_stored_history() {
        let mut store = Store::open_in_memory().unwrap();
        pull(
            &mut store,
            "2024-03-04 08:05:00",
            Status::Processing,
            "2024-03-04 08:00:00",
            "a",
        );
        // A pull that saw nothing new.
        store.begin_run("sync", at("2024-03-05 07:55:00")).unwrap();
        pull(
            &mut store,
            "2024-03-05 08:05:00",
            Status::SupplementRequested,
            "2024-03-05 08:00:00",
            "b",
        );
        pull(
            &mut store,
            "2024-03-12 08:05:00",
            Status::Processing,
            "2024-03-12 08:00:00",
            "c",
        );
        pull(
            &mut store,
            "2024-03-13 08:05:00",
            Status::Processing,
            "2024-03-13 08:00:00",
            "d",
        );
        let all = store.provincial_facts().unwrap();
        let f = all.get("d1").expect("a dossier with a pause has facts");
        assert_eq!(f.supplement_requests, 1);
        let pause = f.pauses[0];
        assert_eq!(pause.start.earliest, at("2024-03-05 07:55:00"));
        assert_eq!(pause.start.latest, at("2024-03-05 08:00:00"));
        assert_eq!(pause.end.unwrap().latest, at("2024-03-12 08:00:00"));
        assert_eq!(f.status_since().unwrap().latest, at("2024-03-12 08:00:00"));

        let mut p = store.provincial_by_code("d1").unwrap().unwrap();
        store.attach_facts(&mut p).unwrap();
        assert_eq!(p.observed.as_deref(), Some(f.as_ref()));
    }

    /// One dossier's state in a pull: (id, status, updated_at, due_at).
    type Seen<'a> = (&'a str, Status, &'a str, &'a str);

    /// A page of rows stored by run `run` at `time` (each row's hash is its state, so a
    /// repeated state is no change).
    fn page(store: &mut Store, run: i64, time: &str, rows: &[Seen]) {
        let rows: Vec<(ProvincialDossier, String)> = rows
            .iter()
            .map(|&(id, status, updated, due)| {
                let mut p = ProvincialDossier {
                    local_id: id.into(),
                    key: format!("000.00.10.H18-240304-{id}"),
                    row_hash: format!("{status:?}-{updated}-{due}"),
                    updated_at: at(updated),
                    ..Default::default()
                };
                p.core.code = p.key.clone();
                p.core.status = Some(status);
                p.core.status_raw = status.code().to_string();
                p.core.due_at = Some(at(due));
                (p, "{}".to_string())
            })
            .collect();
        store
            .store_provincial_page(run, "p", at(time), &rows, None)
            .unwrap();
    }

    /// The facts as the grouping of the whole history gives them (what readers used to run).
    fn grouped(store: &Store) -> HashMap<String, DossierFacts> {
        grouped_facts(store.conn())
            .unwrap()
            .into_iter()
            .map(|(id, (f, _))| (id, f))
            .collect()
    }

    /// The facts `provincial_facts` holds.
    fn stored(store: &Store) -> HashMap<String, DossierFacts> {
        store
            .provincial_facts()
            .unwrap()
            .into_iter()
            .map(|(id, f)| (id, f.as_ref().clone()))
            .collect()
    }

    /// Several pulls of several dossiers (a completed pause, a due date moved, a closing
    /// status seen first, a dossier without facts), a run of another job between them, a run
    /// that fails after storing a page and one left running by a process that died: after
    /// every step the facts kept at ingest are the ones the grouped history gives.
    #[test]
    fn facts_kept_at_ingest_equal_the_grouped_history() {
        use crate::store::{Outcome, RunCounts};
        let mut store = Store::open_in_memory().unwrap();
        let due = "2024-03-15 17:00:00";
        let check = |store: &Store, step: &str| {
            let (kept, derived) = (stored(store), grouped(store));
            assert_eq!(kept, derived, "after {step}");
            kept
        };
        let finish = |store: &Store, run: i64, time: &str, outcome: Outcome| {
            store
                .finish_run(run, at(time), outcome, &RunCounts::default(), None)
                .unwrap();
        };

        let r1 = store.begin_run("sync", at("2024-03-04 08:00:00")).unwrap();
        page(
            &mut store,
            r1,
            "2024-03-04 08:05:00",
            &[
                ("d1", Status::Processing, "2024-03-04 07:30:00", due),
                ("d2", Status::Processing, "2024-03-04 07:40:00", due),
                ("d3", Status::Received, "2024-03-04 07:50:00", due),
                ("d4", Status::Withdrawn, "2024-03-04 07:55:00", due),
            ],
        );
        finish(&store, r1, "2024-03-04 08:06:00", Outcome::Ok);
        assert_eq!(check(&store, "the first pull").len(), 1, "d4 only");

        // Another job's run between two pulls is not the previous observation.
        let report = store
            .begin_run("report", at("2024-03-05 06:00:00"))
            .unwrap();
        finish(&store, report, "2024-03-05 06:01:00", Outcome::Ok);
        let r2 = store.begin_run("sync", at("2024-03-05 08:00:00")).unwrap();
        page(
            &mut store,
            r2,
            "2024-03-05 08:05:00",
            &[
                (
                    "d1",
                    Status::SupplementRequested,
                    "2024-03-05 07:30:00",
                    due,
                ),
                (
                    "d2",
                    Status::Processing,
                    "2024-03-05 07:40:00",
                    "2024-03-18 17:00:00",
                ),
                ("d3", Status::Processing, "2024-03-05 07:50:00", due),
            ],
        );
        finish(&store, r2, "2024-03-05 08:06:00", Outcome::Ok);
        let kept = check(&store, "a pause and a due date moved");
        assert_eq!(kept.len(), 3, "d1, d2, d4");
        assert_eq!(
            kept["d1"].pauses[0].start.earliest,
            at("2024-03-04 08:00:00"),
            "bounded by the previous sync run, not the report"
        );

        // A run that stores a page, then fails: it observed nothing.
        let r3 = store.begin_run("sync", at("2024-03-06 08:00:00")).unwrap();
        page(
            &mut store,
            r3,
            "2024-03-06 08:05:00",
            &[("d1", Status::Processing, "2024-03-06 07:30:00", due)],
        );
        let before_failing = check(&store, "a page of a run still running");
        finish(&store, r3, "2024-03-06 08:10:00", Outcome::Failed);
        let after_failing = check(&store, "the run failed");
        assert_ne!(
            before_failing["d1"], after_failing["d1"],
            "the failed run's observation lost its lower bound"
        );

        // The next run's previous observation is the last run that did not fail.
        let r4 = store.begin_run("sync", at("2024-03-07 08:00:00")).unwrap();
        page(
            &mut store,
            r4,
            "2024-03-07 08:05:00",
            &[
                ("d1", Status::Resolved, "2024-03-07 07:30:00", due),
                (
                    "d3",
                    Status::SupplementRequested,
                    "2024-03-07 07:50:00",
                    due,
                ),
            ],
        );
        finish(&store, r4, "2024-03-07 08:06:00", Outcome::Partial);
        check(&store, "a pull after the failed run");

        // A run left running by a process that died, with a page stored, closed at restart.
        let r5 = store.begin_run("sync", at("2024-03-08 08:00:00")).unwrap();
        page(
            &mut store,
            r5,
            "2024-03-08 08:05:00",
            &[("d3", Status::Processing, "2024-03-08 07:50:00", due)],
        );
        check(&store, "a page of a run that will be abandoned");
        assert_eq!(
            store
                .close_abandoned_runs(at("2024-03-09 07:00:00"))
                .unwrap(),
            1
        );
        let last = check(&store, "the abandoned run closed");
        assert_eq!(last.len(), 4, "d1, d2, d3, d4");
        assert_eq!(last["d3"].supplement_requests, 1);
        assert_eq!(last["d2"].reschedulings, 1);
    }

    /// A database at the migration before `provincial_facts`, with history, gets the table
    /// filled on upgrade: the facts the grouped history gives.
    #[test]
    fn the_upgrade_derives_the_facts_of_the_existing_history() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let derives = crate::store::MIGRATIONS
            .iter()
            .position(|m| {
                m.trim_start()
                    .starts_with(super::super::schema::DERIVES_PROVINCIAL_FACTS)
            })
            .unwrap();
        let due = "2024-03-15 17:00:00";
        {
            let mut store = Store::open(&db).unwrap();
            for (day, status) in [
                (4, Status::Processing),
                (5, Status::SupplementRequested),
                (6, Status::Processing),
                (7, Status::Resolved),
            ] {
                let time = format!("2024-03-{day:02} 08:00:00");
                let run = store.begin_run("sync", at(&time)).unwrap();
                let updated = format!("2024-03-{day:02} 07:30:00");
                page(
                    &mut store,
                    run,
                    &format!("2024-03-{day:02} 08:05:00"),
                    &[
                        ("d1", status, &updated, due),
                        ("d2", Status::Processing, "2024-03-04 07:00:00", due),
                    ],
                );
            }
            // Back to the schema before the table (which held nothing more than the history).
            store
                .conn()
                .execute_batch("DROP TABLE provincial_facts")
                .unwrap();
            store
                .conn()
                .pragma_update(None, "user_version", derives as i64)
                .unwrap();
        }
        let store = Store::open(&db).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            crate::store::MIGRATIONS.len() as i64
        );
        let kept = stored(&store);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["d1"]);
        assert_eq!(kept, grouped(&store));
        assert_eq!(kept["d1"].pauses.len(), 1);
    }
}
