//! The history rows of both views of a dossier (`provincial_history`, `national_history`):
//! every change observed, for `tthc-sync dossier`; and the facts derived from the provincial
//! history for the on-time rule ([`crate::facts`]).

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{params, Params};
use serde::Serialize;

use super::passes::Marks;
use super::{rt, status_of, Result, Store};
use crate::facts::{self, DossierFacts, Observation};
use crate::model::{LocalTime, ProvincialDossier};

/// The provincial history rows the facts are derived from, for the dossiers whose history can
/// tell more than their row: a pause or closing status without a finish time of its own (5, 6,
/// 7, 8), or a due date moved to another day. `{scope}` is an extra condition on
/// `dossier_id`.
const FACTS_SQL: &str = "
    SELECT h.dossier_id, h.observed_at, h.run_id, h.status_code, h.updated_at, h.due_at
    FROM provincial_history h
    WHERE h.dossier_id IN (
        SELECT dossier_id FROM provincial_history
        WHERE {scope}
        GROUP BY dossier_id
        HAVING max(status_code IN (5, 6, 7, 8)) = 1 OR count(DISTINCT substr(due_at, 1, 10)) > 1
    )
    ORDER BY h.dossier_id, h.id";

/// Each run's previous run of the same job (its start): the observation before the one a
/// history row records (failed runs observed nothing).
const PREVIOUS_RUN_SQL: &str = "
    SELECT id, lag(started_at) OVER (PARTITION BY job ORDER BY id) AS previous
    FROM sync_run WHERE outcome <> 'failed'";

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

    /// The facts of every provincial dossier whose history can tell more than its row (see
    /// `FACTS_SQL`), by dossier id: what a full pass attaches.
    pub fn provincial_facts(&self) -> Result<HashMap<String, Arc<DossierFacts>>> {
        self.facts_where("1 = 1", params![])
    }

    /// [`Store::provincial_facts`] for the dossiers a pass over the changed ones reads
    /// ([`Store::for_each_changed_pair`] with the same `top_pid` and `marks`).
    pub fn changed_provincial_facts(
        &self,
        top_pid: i64,
        marks: &Marks,
    ) -> Result<HashMap<String, Arc<DossierFacts>>> {
        self.facts_where(
            "dossier_id IN (SELECT dossier_id FROM provincial_dossier WHERE rowid > ?1
                 OR rowid IN (SELECT pid FROM reconcile_dirty WHERE id <= ?2 AND pid <= ?1))",
            params![top_pid, marks.last_id],
        )
    }

    /// Attaches the facts of one dossier's stored history to `p` (a single dossier's view:
    /// `tthc-sync dossier`).
    pub fn attach_facts(&self, p: &mut ProvincialDossier) -> Result<()> {
        let mut map = self.facts_where("dossier_id = ?1", params![p.local_id])?;
        p.observed = map.remove(&p.local_id);
        Ok(())
    }

    fn facts_where(
        &self,
        scope: &str,
        args: impl Params,
    ) -> Result<HashMap<String, Arc<DossierFacts>>> {
        let sql = FACTS_SQL.replace("{scope}", scope);
        let rows: Vec<(String, Observation)> = self.read(|c| {
            let mut stmt = c.prepare_cached(PREVIOUS_RUN_SQL)?;
            let previous: HashMap<i64, LocalTime> = stmt
                .query_map([], |r| Ok((r.get::<_, i64>("id")?, rt(r, "previous")?)))?
                .filter_map(|r| r.map(|(id, at)| at.map(|at| (id, at))).transpose())
                .collect::<rusqlite::Result<_>>()?;
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(args, |r| {
                let observed_at = rt(r, "observed_at")?.unwrap_or_default();
                let run: Option<i64> = r.get("run_id")?;
                Ok((
                    r.get::<_, String>("dossier_id")?,
                    Observation {
                        observed_at,
                        previous_observation: run.and_then(|id| previous.get(&id).copied()),
                        status: status_of(r.get("status_code")?),
                        changed_at: rt(r, "updated_at")?,
                        due_at: rt(r, "due_at")?,
                    },
                ))
            })?;
            rows.collect()
        })?;
        let mut out = HashMap::new();
        for chunk in rows.chunk_by(|a, b| a.0 == b.0) {
            let observations: Vec<Observation> = chunk.iter().map(|(_, o)| *o).collect();
            out.insert(chunk[0].0.clone(), Arc::new(facts::derive(&observations)));
        }
        Ok(out)
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
}
