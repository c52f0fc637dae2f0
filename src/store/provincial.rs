//! The provincial side: storing the rows of a page (`provincial_dossier`, `provincial_history`
//! and the facts derived from it, `provincial_facts`; marks for reconciliation, the watermarks
//! they cover) and reading rows back.

use rusqlite::{named_params, params, OptionalExtension, Row, Transaction};

use super::{history, rt, status_of, t, top_pid, Result, Store};
use crate::model::{fmt_time, Channel, DossierCore, LocalTime, ProvincialDossier};

/// Counts of one provincial page stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageStats {
    /// Rows on the page.
    pub rows: u64,
    /// Dossiers stored for the first time.
    pub new: u64,
    /// Known dossiers whose row changed (a new row hash): history appended, marked for
    /// reconciliation.
    pub changed: u64,
}

impl Store {
    /// How many dossiers the provincial view holds.
    pub fn provincial_count(&self) -> Result<u64> {
        let n = self.read(|c| {
            c.query_row("SELECT count(*) FROM provincial_dossier", [], |r| {
                r.get::<_, i64>(0)
            })
        })?;
        Ok(n as u64)
    }

    /// Every provincial dossier, in key order.
    pub fn provincial_dossiers(&self) -> Result<Vec<ProvincialDossier>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT * FROM provincial_dossier ORDER BY dossier_id")?;
            let rows = stmt.query_map([], provincial_from_row)?;
            rows.collect()
        })
    }

    /// The provincial dossier known by `code`: its national code (or local code when it has
    /// none), its local code, or its provincial id.
    pub fn provincial_by_code(&self, code: &str) -> Result<Option<ProvincialDossier>> {
        self.read(|c| {
            c.query_row(
                "SELECT * FROM provincial_dossier WHERE code = ?1 OR local_code = ?1
                 OR dossier_id = ?1 LIMIT 1",
                params![code],
                provincial_from_row,
            )
            .optional()
        })
    }
}

pub(super) fn store_rows(
    tx: &Transaction<'_>,
    run_id: i64,
    source: &str,
    observed_at: LocalTime,
    rows: &[(ProvincialDossier, String)],
) -> rusqlite::Result<PageStats> {
    let now = fmt_time(&observed_at);
    let mut stats = PageStats::default();
    // One upsert per row tells all three cases apart. It writes nothing when the stored hash
    // is the same (no row returned: only `last_seen` is then touched), and returns the rowid
    // of the row it inserted or changed. SQLite gives an inserted row a rowid above every
    // existing one (max + 1) and an update keeps the row's rowid, so a returned rowid above
    // the highest seen so far is a new row. `dossier_id` is TEXT: the rowid is not an alias.
    //
    // A row whose `raw_json` is '' was stored by a version before migration 7 and scrubbed: its
    // hash is of the old whole row. When every stored column is the same, its new hash and
    // allowlisted JSON replace the old quietly (`rehash`: no history, no mark, and the look-up
    // count carries over to the new hash); when a column differs, it is a change like any other.
    let mut top = top_pid(tx)?;
    let mut previous = history::PreviousRuns::default();
    let mut touch = tx.prepare_cached(
        "UPDATE provincial_dossier SET last_seen = ?2 WHERE dossier_id = ?1
         RETURNING raw_json = ''",
    )?;
    let mut rehash_seen = tx.prepare_cached(
        "UPDATE lookup_state SET row_hash_seen = ?2 WHERE dossier_id = ?1 AND row_hash_seen IS
            (SELECT row_hash FROM provincial_dossier WHERE dossier_id = ?1)",
    )?;
    let mut rehash = tx.prepare_cached(
        "UPDATE provincial_dossier SET row_hash = ?2, raw_json = ?3 WHERE dossier_id = ?1",
    )?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO provincial_dossier (dossier_id, code, national_code, local_code,
            procedure_code, procedure_name, agency_code, agency_name, channel, status_code,
            status_raw, status_label, received_at, due_at, finished_at, returned_at, has_due_date,
            paused_since, supplement_requests, handler, updated_at, row_hash, raw_json, source,
            first_seen, last_seen, last_changed)
         VALUES (:dossier_id, :code, :national_code, :local_code, :procedure_code,
            :procedure_name, :agency_code, :agency_name, :channel, :status_code, :status_raw,
            :status_label, :received_at, :due_at, :finished_at, :returned_at, :has_due_date,
            :paused_since, :supplement_requests, :handler, :updated_at, :row_hash, :raw_json,
            :source, :observed_at, :observed_at, :updated_at)
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
            AND (provincial_dossier.raw_json <> ''
                OR provincial_dossier.code IS NOT excluded.code
                OR provincial_dossier.national_code IS NOT excluded.national_code
                OR provincial_dossier.local_code IS NOT excluded.local_code
                OR provincial_dossier.procedure_code IS NOT excluded.procedure_code
                OR provincial_dossier.procedure_name IS NOT excluded.procedure_name
                OR provincial_dossier.agency_code IS NOT excluded.agency_code
                OR provincial_dossier.agency_name IS NOT excluded.agency_name
                OR provincial_dossier.channel IS NOT excluded.channel
                OR provincial_dossier.status_code IS NOT excluded.status_code
                OR provincial_dossier.status_raw IS NOT excluded.status_raw
                OR provincial_dossier.status_label IS NOT excluded.status_label
                OR provincial_dossier.received_at IS NOT excluded.received_at
                OR provincial_dossier.due_at IS NOT excluded.due_at
                OR provincial_dossier.finished_at IS NOT excluded.finished_at
                OR provincial_dossier.returned_at IS NOT excluded.returned_at
                OR provincial_dossier.has_due_date IS NOT excluded.has_due_date
                OR provincial_dossier.paused_since IS NOT excluded.paused_since
                OR provincial_dossier.supplement_requests IS NOT excluded.supplement_requests
                OR provincial_dossier.handler IS NOT excluded.handler
                OR provincial_dossier.updated_at IS NOT excluded.updated_at)
         RETURNING rowid",
    )?;
    let mut history = tx.prepare_cached(
        "INSERT INTO provincial_history (dossier_id, observed_at, run_id, status_code, status_raw,
            received_at, due_at, finished_at, returned_at, updated_at, row_hash)
         VALUES (:dossier_id, :observed_at, :run_id, :status_code, :status_raw, :received_at,
            :due_at, :finished_at, :returned_at, :updated_at, :row_hash)",
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
        let national_code = (!c.code.is_empty()).then_some(&c.code);
        let written: Option<i64> = upsert
            .query_row(
                named_params! {
                    ":dossier_id": d.local_id,
                    ":code": d.key,
                    ":national_code": national_code,
                    ":local_code": d.local_code,
                    ":procedure_code": c.procedure_code,
                    ":procedure_name": d.procedure_name,
                    ":agency_code": c.agency_code,
                    ":agency_name": d.agency_name,
                    ":channel": d.channel.as_str(),
                    ":status_code": status_code,
                    ":status_raw": c.status_raw,
                    ":status_label": d.status_label,
                    ":received_at": received_at,
                    ":due_at": due_at,
                    ":finished_at": finished_at,
                    ":returned_at": returned_at,
                    ":has_due_date": d.has_due_date,
                    ":paused_since": t(&d.paused_since),
                    ":supplement_requests": d.supplement_requests,
                    ":handler": d.handler,
                    ":updated_at": updated_at,
                    ":row_hash": d.row_hash,
                    ":raw_json": raw,
                    ":source": source,
                    ":observed_at": now,
                },
                |r| r.get(0),
            )
            .optional()?;
        let Some(rowid) = written else {
            let scrubbed: bool = touch.query_row(params![d.local_id, now], |r| r.get(0))?;
            if scrubbed {
                rehash_seen.execute(params![d.local_id, d.row_hash])?;
                rehash.execute(params![d.local_id, d.row_hash, raw])?;
            }
            continue;
        };
        let new = rowid > top;
        if new {
            top = rowid;
            stats.new += 1;
        } else {
            stats.changed += 1;
        }
        history.execute(named_params! {
            ":dossier_id": d.local_id,
            ":observed_at": now,
            ":run_id": run_id,
            ":status_code": status_code,
            ":status_raw": c.status_raw,
            ":received_at": received_at,
            ":due_at": due_at,
            ":finished_at": finished_at,
            ":returned_at": returned_at,
            ":updated_at": updated_at,
            ":row_hash": d.row_hash,
        })?;
        // The dossier's derived facts, with its history (a new dossier has one row: facts only
        // when it shows a pause or closing status).
        if !new || history::first_row_tells_more(status_code.map(i64::from)) {
            history::refresh_facts(tx, &d.local_id, &mut previous)?;
        }
        // A changed row's look-up count restarts by itself (`lookup_state.row_hash_seen`). A
        // new row needs no mark for the next reconciliation: that takes every row above the
        // highest rowid it last saw.
        if !new {
            rekey.execute(params![rowid, national_code, c.agency_code])?;
            mark_dirty.execute(params![rowid])?;
        }
    }
    Ok(stats)
}

/// A `SELECT *` row of `provincial_dossier` (read by column name: not a hot path).
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
        observed: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LookupOutcome, NationalDossier};
    use crate::store::test_support::at;
    use crate::store::LookupResult;

    fn count(store: &Store, sql: &str) -> i64 {
        store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// A row scrubbed by migration 7 (`raw_json` '', the hash of the old whole row) read again
    /// unchanged takes its new hash and JSON quietly: no history, no reconciliation mark, and
    /// its look-up count goes on (else every closed dossier would be looked up again after the
    /// upgrade). Read again changed, it is a change like any other.
    #[test]
    fn a_scrubbed_row_is_rehashed_quietly_unless_it_changed() {
        let mut store = Store::open_in_memory().unwrap();
        let t = at("2026-11-20 10:00:00");
        let mut rows = Vec::new();
        for i in 1..=2 {
            let mut p = ProvincialDossier {
                local_id: format!("d{i}"),
                key: format!("000.00.10.H18-261102-000{i}"),
                status_label: Some("Đang xử lý".into()),
                row_hash: format!("old-{i}"),
                updated_at: t,
                ..Default::default()
            };
            p.core.code = p.key.clone();
            p.core.status_raw = "4".into();
            rows.push(p);
        }
        let old: Vec<_> = rows
            .iter()
            .map(|p| (p.clone(), "{\"whole\":1}".to_string()))
            .collect();
        store.store_provincial_page(1, "p", t, &old, None).unwrap();
        for p in &rows {
            for _ in 0..2 {
                let found = NationalDossier {
                    core: p.core.clone(),
                    ..Default::default()
                };
                let result = Ok((LookupOutcome::Found(found), "[]".to_string()));
                let lookup = LookupResult {
                    dossier_id: p.local_id.clone(),
                    code: p.key.clone(),
                    at: t,
                    result,
                };
                store.store_lookups(1, &[lookup]).unwrap();
            }
        }
        // The upgrade's scrub (the migration found by its mark, whatever its number).
        let scrub = crate::store::MIGRATIONS
            .iter()
            .find(|m| {
                m.trim_start()
                    .starts_with(super::super::schema::SCRUBS_RAW_ROWS)
            })
            .unwrap();
        store.conn().execute_batch(scrub).unwrap();
        let history = count(&store, "SELECT count(*) FROM provincial_history");
        let marks = count(&store, "SELECT count(*) FROM reconcile_dirty");

        // d1 unchanged, d2 with a new status label; both with the new hash scheme.
        let mut new = Vec::new();
        for (i, p) in rows.iter().enumerate() {
            let mut p = p.clone();
            p.row_hash = format!("new-{}", i + 1);
            if i == 1 {
                p.status_label = Some("Có kết quả".into());
            }
            new.push((p, format!("{{\"kept\":{i}}}")));
        }
        let stats = store.store_provincial_page(2, "p", t, &new, None).unwrap();
        assert_eq!((stats.new, stats.changed), (0, 1), "only d2 changed");
        assert_eq!(
            count(&store, "SELECT count(*) FROM provincial_history"),
            history + 1
        );
        assert_eq!(
            count(&store, "SELECT count(*) FROM reconcile_dirty"),
            marks + 1
        );
        let stored: Vec<(String, String)> = store
            .conn()
            .prepare("SELECT row_hash, raw_json FROM provincial_dossier ORDER BY dossier_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            stored,
            [
                ("new-1".to_string(), "{\"kept\":0}".to_string()),
                ("new-2".to_string(), "{\"kept\":1}".to_string())
            ]
        );
        let counts: Vec<u32> = store
            .lookup_candidates()
            .unwrap()
            .0
            .iter()
            .map(|c| c.lookups_since_change)
            .collect();
        assert_eq!(counts, [2, 0], "d1's count carries over; d2 changed");
        // Read again: nothing changes any more.
        let stats = store.store_provincial_page(3, "p", t, &new, None).unwrap();
        assert_eq!((stats.new, stats.changed), (0, 0));
    }
}
