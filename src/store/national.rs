//! The national side: the portal's views (`national_dossier`, `national_history`), the look-up
//! state the planner reads (`lookup_state`), and the rows of a `DanhSachHoSo` listing.

use std::collections::HashSet;

use rusqlite::{named_params, params, OptionalExtension, Row, Transaction};

use super::{rt, status_of, t, Result, Store};
use crate::model::{
    fmt_time, is_well_formed_national_code, DossierCore, LocalTime, LookupOutcome, NationalDossier,
};
use crate::plan::Candidate;

/// The stored national side of a dossier: a row of `national_dossier`, the portal's view as
/// of the last successful look-up or listing.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredNational {
    /// Whether the portal has the dossier: `false` after a successful reply with no rows (the
    /// only way a dossier is "not found", docs/domain.md §8).
    pub found: bool,
    /// The portal's view (only the look-up fields; empty apart from the code when not found).
    pub dossier: NationalDossier,
    /// The last successful look-up or listing (`last_lookup_at`).
    pub looked_up_at: LocalTime,
}

/// One look-up's result, to store.
#[derive(Clone, Debug)]
pub struct LookupResult {
    /// The provincial dossier looked up (`lookup_state.dossier_id`).
    pub dossier_id: String,
    /// The national code (`MaHoSo`) it was looked up by.
    pub code: String,
    /// When the look-up was made.
    pub at: LocalTime,
    /// `Ok((outcome, raw reply rows as JSON))`, or why it failed.
    pub result: std::result::Result<(LookupOutcome, String), LookupFailure>,
}

/// A look-up that was sent and failed. A look-up that was never sent (the circuit breaker
/// refused it, no session could be opened) is not stored at all.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupFailure {
    /// A short stable word (`lookup_state.last_error_class`): the HTTP reason (`http_502`,
    /// `timeout`, `bad_body`, `connect`, …), `portal_error` (an `error_code` in the reply) or
    /// `bad_reply` (a reply that could not be read).
    pub class: String,
    /// The error as the run reports it (`lookup_state.last_error`); names no secret and no
    /// citizen.
    pub message: String,
    /// Whether it counts as a failure of the dossier (`lookup_state.consecutive_failures`,
    /// which backs the dossier off): false when the portal itself was failing at the time.
    pub counted: bool,
}

impl Store {
    /// How many codes the portal's view holds as found, and as not found (a successful reply
    /// with no rows).
    pub fn national_count(&self) -> Result<(u64, u64)> {
        self.read(|c| {
            c.query_row(
                "SELECT coalesce(sum(found = 1), 0), coalesce(sum(found = 0), 0)
                 FROM national_dossier",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
        })
    }

    /// What the look-up planner needs of every dossier with a well-formed national code.
    pub fn lookup_candidates(&self) -> Result<(Vec<Candidate>, Vec<String>)> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT p.dossier_id, p.code, p.status_code, p.received_at, p.due_at,
                        p.last_changed, l.last_success_at,
                        CASE WHEN l.row_hash_seen IS p.row_hash THEN l.lookups_since_change
                             ELSE 0 END,
                        EXISTS (SELECT 1 FROM discrepancy d WHERE d.dossier_id = p.dossier_id
                                AND d.state IN ('open', 'acknowledged')) AS open_disc,
                        CASE WHEN l.code IS p.code THEN l.consecutive_failures ELSE 0 END,
                        l.last_attempt_at
                 FROM provincial_dossier p LEFT JOIN lookup_state l ON l.dossier_id = p.dossier_id
                 ORDER BY p.dossier_id",
            )?;
            let mut cands = Vec::new();
            let mut ids = Vec::new();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let code: String = r.get(1)?;
                if !is_well_formed_national_code(&code) {
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
                    failures: r.get::<_, Option<i64>>(9)?.unwrap_or(0) as u32,
                    last_failure_at: None,
                });
                let c = cands.last_mut().expect("just pushed");
                if c.failures > 0 {
                    c.last_failure_at = rt(r, "last_attempt_at")?;
                }
            }
            Ok((cands, ids))
        })
    }

    /// Stores the results of a batch of look-ups in one transaction. `results` holds, per
    /// dossier id and code, either the outcome with its raw reply, or the error.
    pub fn store_lookups(&mut self, run_id: i64, results: &[LookupResult]) -> Result<()> {
        self.write(|tx| {
            for r in results {
                store_lookup(tx, run_id, r)?;
            }
            Ok(())
        })
    }

    /// The portal's stored view of this national code, if it was ever successfully looked up
    /// or listed.
    pub fn national_by_code(&self, code: &str) -> Result<Option<StoredNational>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM national_dossier WHERE code = ?1",
                params![code],
                national_from_row,
            )
            .optional()
        })
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
        self.write(|tx| {
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
                    [] => upsert_national(tx, run_id, &nd.core.code, at, true, nd, raw)?,
                    ids => {
                        for id in ids {
                            store_lookup(
                                tx,
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
            Ok(())
        })
    }

    /// Which of `codes` some provincial dossier holds (as national code or key).
    pub fn provincial_codes_among(&self, codes: &[String]) -> Result<HashSet<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM provincial_dossier
                                WHERE national_code = ?1 OR code = ?1)",
            )?;
            let mut out = HashSet::new();
            for code in codes {
                if stmt.query_row(params![code], |r| r.get::<_, bool>(0))? {
                    out.insert(code.clone());
                }
            }
            Ok(out)
        })
    }

    /// The codes of active (open or acknowledged) `missing_on_provincial` discrepancies, with
    /// their ids and dossier ids: what a listing can show to be resolved.
    pub fn active_missing_on_provincial(&self) -> Result<Vec<(i64, String, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, dossier_id, dossier_code FROM discrepancy
                 WHERE kind = 'missing_on_provincial' AND state IN ('open', 'acknowledged')
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }
}

fn store_lookup(tx: &Transaction<'_>, run_id: i64, r: &LookupResult) -> rusqlite::Result<()> {
    let at = fmt_time(&r.at);
    match &r.result {
        Err(failure) => {
            // A counted failure lengthens the dossier's streak (it restarts when the code
            // changed); one that is not counted (the portal was failing) only records the try.
            tx.prepare_cached(
                "INSERT INTO lookup_state (dossier_id, code, last_attempt_at, last_outcome,
                    last_error, last_error_class, consecutive_failures, failing_since)
                 VALUES (:id, :code, :at, 'error', :error, :class, :counted,
                    CASE WHEN :counted THEN :at END)
                 ON CONFLICT (dossier_id) DO UPDATE SET code = excluded.code,
                    last_attempt_at = excluded.last_attempt_at, last_outcome = 'error',
                    last_error = excluded.last_error,
                    last_error_class = excluded.last_error_class,
                    consecutive_failures = CASE WHEN lookup_state.code IS excluded.code
                        THEN lookup_state.consecutive_failures ELSE 0 END
                        + excluded.consecutive_failures,
                    failing_since = CASE
                        WHEN lookup_state.code IS excluded.code
                             AND lookup_state.consecutive_failures > 0
                        THEN lookup_state.failing_since
                        ELSE excluded.failing_since END",
            )?
            .execute(named_params! {
                ":id": r.dossier_id,
                ":code": r.code,
                ":at": at,
                ":error": failure.message,
                ":class": failure.class,
                ":counted": i64::from(failure.counted),
            })?;
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
            // hash differs): counted here, so storing a changed row writes nothing here. A
            // success ends a failure streak.
            tx.prepare_cached(
                "INSERT INTO lookup_state (dossier_id, code, last_attempt_at, last_outcome,
                    last_error, last_success_at, lookups_since_change, row_hash_seen)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?3, 1,
                    (SELECT row_hash FROM provincial_dossier WHERE dossier_id = ?1))
                 ON CONFLICT (dossier_id) DO UPDATE SET code = excluded.code,
                    last_attempt_at = excluded.last_attempt_at,
                    last_outcome = excluded.last_outcome, last_error = NULL,
                    last_error_class = NULL, consecutive_failures = 0, failing_since = NULL,
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
) -> rusqlite::Result<()> {
    let at = fmt_time(&at);
    let c = &nd.core;
    let (status_code, received_at, due_at, finished_at, returned_at) = (
        c.status.map(|s| s.code()),
        t(&c.received_at),
        t(&c.due_at),
        t(&c.finished_at),
        t(&c.returned_at),
    );
    let changed = tx
        .prepare_cached(
            "INSERT INTO national_dossier (code, found, procedure_code, status_code, status_raw,
                received_at, due_at, finished_at, returned_at, unit_code, unit_name,
                duplicate_rows, raw_json, first_seen, last_lookup_at, last_changed)
             VALUES (:code, :found, :procedure_code, :status_code, :status_raw, :received_at,
                :due_at, :finished_at, :returned_at, :unit_code, :unit_name, :duplicate_rows,
                :raw_json, :at, :at, :at)
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
        .execute(named_params! {
            ":code": code,
            ":found": found,
            ":procedure_code": c.procedure_code,
            ":status_code": status_code,
            ":status_raw": c.status_raw,
            ":received_at": received_at,
            ":due_at": due_at,
            ":finished_at": finished_at,
            ":returned_at": returned_at,
            ":unit_code": c.agency_code,
            ":unit_name": nd.unit_name,
            ":duplicate_rows": nd.duplicate_rows,
            ":raw_json": raw,
            ":at": at,
        })?;
    tx.prepare_cached("UPDATE national_dossier SET last_lookup_at = ?2 WHERE code = ?1")?
        .execute(params![code, at])?;
    if changed > 0 {
        tx.prepare_cached(
            "INSERT INTO national_history (code, observed_at, run_id, found, status_code,
                    status_raw, received_at, due_at, finished_at, returned_at)
             VALUES (:code, :observed_at, :run_id, :found, :status_code, :status_raw,
                    :received_at, :due_at, :finished_at, :returned_at)",
        )?
        .execute(named_params! {
            ":code": code,
            ":observed_at": at,
            ":run_id": run_id,
            ":found": found,
            ":status_code": status_code,
            ":status_raw": c.status_raw,
            ":received_at": received_at,
            ":due_at": due_at,
            ":finished_at": finished_at,
            ":returned_at": returned_at,
        })?;
    }
    Ok(())
}

/// A `SELECT *` row of `national_dossier` (read by column name: not a hot path).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProvincialDossier;
    use crate::store::test_support::at;

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
}
