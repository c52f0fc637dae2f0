//! The pair streams: every provincial dossier with its stored national view, in one join,
//! into reused records (the hot path of reconciliation, docs/performance.md); the column lists
//! they and the report read; and the second, read-only connection that lets a pass or the
//! report read the table in two halves on two threads.

use rusqlite::types::Type;
use rusqlite::{params, OpenFlags, Row};

use super::national::StoredNational;
use super::passes::Marks;
use super::{
    set_opt_text, set_text, status_of, time_at, top_pid, Result, Store, BUSY_TIMEOUT, CACHE_SIZE,
};
use crate::model::{LocalTime, NationalDossier, ProvincialDossier};

columns! {
    /// What both the pair stream and the report read of a provincial dossier (alias `p`), read
    /// by [`read_provincial`]. Not the labels (`procedure_name`, `channel`, `status_label`,
    /// `handler`: only the report reads them), `row_hash` or `raw_json`.
    pub(super) mod provincial_columns {
        DOSSIER_ID = "p.dossier_id",
        CODE = "p.code",
        NATIONAL_CODE = "p.national_code",
        LOCAL_CODE = "p.local_code",
        PROCEDURE_CODE = "p.procedure_code",
        AGENCY_CODE = "p.agency_code",
        AGENCY_NAME = "p.agency_name",
        STATUS_CODE = "p.status_code",
        STATUS_RAW = "p.status_raw",
        RECEIVED_AT = "p.received_at",
        DUE_AT = "p.due_at",
        FINISHED_AT = "p.finished_at",
        RETURNED_AT = "p.returned_at",
        HAS_DUE_DATE = "p.has_due_date",
        PAUSED_SINCE = "p.paused_since",
        SUPPLEMENT_REQUESTS = "p.supplement_requests",
        UPDATED_AT = "p.updated_at",
    }
}

columns! {
    /// What both the pair stream and the report read of the portal's view (alias `n`), read by
    /// [`read_national`]. `CODE` is NULL when the join found no view.
    pub(super) mod national_columns {
        CODE = "n.code",
        PROCEDURE_CODE = "n.procedure_code",
        STATUS_CODE = "n.status_code",
        STATUS_RAW = "n.status_raw",
        RECEIVED_AT = "n.received_at",
        DUE_AT = "n.due_at",
        FINISHED_AT = "n.finished_at",
        RETURNED_AT = "n.returned_at",
        UNIT_CODE = "n.unit_code",
        UNIT_NAME = "n.unit_name",
        DUPLICATE_ROWS = "n.duplicate_rows",
    }
}

columns! {
    /// What only the pair stream reads of the portal's view.
    mod look_up_columns {
        FOUND = "n.found",
        LAST_LOOKUP_AT = "n.last_lookup_at",
    }
}

/// [`provincial_columns`] from position `at` of `r` into a reused record (its strings keep
/// their buffers). The fields the list leaves out are not touched.
pub(super) fn read_provincial(
    r: &Row<'_>,
    at: usize,
    p: &mut ProvincialDossier,
) -> rusqlite::Result<()> {
    use provincial_columns as c;
    set_text(&mut p.local_id, r, at + c::DOSSIER_ID)?;
    set_text(&mut p.key, r, at + c::CODE)?;
    set_text(&mut p.core.code, r, at + c::NATIONAL_CODE)?;
    set_text(&mut p.local_code, r, at + c::LOCAL_CODE)?;
    set_opt_text(&mut p.core.procedure_code, r, at + c::PROCEDURE_CODE)?;
    set_opt_text(&mut p.core.agency_code, r, at + c::AGENCY_CODE)?;
    set_opt_text(&mut p.agency_name, r, at + c::AGENCY_NAME)?;
    p.core.status = status_of(r.get(at + c::STATUS_CODE)?);
    set_text(&mut p.core.status_raw, r, at + c::STATUS_RAW)?;
    p.core.received_at = time_at(r, at + c::RECEIVED_AT)?;
    p.core.due_at = time_at(r, at + c::DUE_AT)?;
    p.core.finished_at = time_at(r, at + c::FINISHED_AT)?;
    p.core.returned_at = time_at(r, at + c::RETURNED_AT)?;
    p.has_due_date = r.get(at + c::HAS_DUE_DATE)?;
    p.paused_since = time_at(r, at + c::PAUSED_SINCE)?;
    p.supplement_requests = r.get(at + c::SUPPLEMENT_REQUESTS)?;
    p.updated_at = time_at(r, at + c::UPDATED_AT)?.unwrap_or_default();
    Ok(())
}

/// Whether the join found a national view ([`national_columns`] at `at`).
pub(super) fn has_national(r: &Row<'_>, at: usize) -> rusqlite::Result<bool> {
    Ok(r.get_ref(at + national_columns::CODE)?.data_type() != Type::Null)
}

/// [`national_columns`] from position `at` of `r` into a reused record.
pub(super) fn read_national(
    r: &Row<'_>,
    at: usize,
    n: &mut NationalDossier,
) -> rusqlite::Result<()> {
    use national_columns as c;
    let core = &mut n.core;
    set_text(&mut core.code, r, at + c::CODE)?;
    set_opt_text(&mut core.procedure_code, r, at + c::PROCEDURE_CODE)?;
    core.status = status_of(r.get(at + c::STATUS_CODE)?);
    set_text(&mut core.status_raw, r, at + c::STATUS_RAW)?;
    core.received_at = time_at(r, at + c::RECEIVED_AT)?;
    core.due_at = time_at(r, at + c::DUE_AT)?;
    core.finished_at = time_at(r, at + c::FINISHED_AT)?;
    core.returned_at = time_at(r, at + c::RETURNED_AT)?;
    set_opt_text(&mut core.agency_code, r, at + c::UNIT_CODE)?;
    set_opt_text(&mut n.unit_name, r, at + c::UNIT_NAME)?;
    n.duplicate_rows = r.get(at + c::DUPLICATE_ROWS)?;
    Ok(())
}

/// Where each list starts in the pair stream's SELECT.
const PAIR_NATIONAL_AT: usize = provincial_columns::COUNT;
const PAIR_LOOK_UP_AT: usize = PAIR_NATIONAL_AT + national_columns::COUNT;

impl Store {
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
        mut f: impl FnMut(&ProvincialDossier, Option<&StoredNational>),
    ) -> Result<()> {
        self.read(|c| {
            stream_pairs(
                c,
                "WHERE p.rowid BETWEEN ?1 AND ?2",
                params![first, last],
                &mut f,
            )
        })
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
        self.read(|c| {
            stream_pairs(
                c,
                "WHERE p.rowid IN (SELECT pid FROM reconcile_dirty WHERE id <= ?2 AND pid <= ?1)",
                params![top_pid, marks.last_id],
                &mut f,
            )?;
            stream_pairs(c, "WHERE p.rowid > ?1", params![top_pid], &mut f)
        })
    }

    /// Whether this SQLite keeps one page cache for all connections of the process, behind one
    /// mutex (built with `SQLITE_ENABLE_MEMORY_MANAGEMENT`).
    pub fn page_caches_shared(&self) -> Result<bool> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT 1 FROM pragma_compile_options
                 WHERE compile_options = 'ENABLE_MEMORY_MANAGEMENT'",
            )?
            .exists([])
        })
    }

    /// A second, read-only connection to the same database file, for a reader on another
    /// thread (`None` for an in-memory store). It takes no lock and runs no migration.
    pub fn reader(&self) -> Result<Option<Store>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        // The same page cache as the main connection (a pass seeks the national key index once
        // per row) — unless SQLite was built to share one page cache between connections
        // (`.cargo/config.toml` builds it otherwise), where a bigger cache only makes the two
        // threads wait longer on its mutex.
        let shared = self.page_caches_shared()?;
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            if !shared {
                conn.pragma_update(None, "cache_size", CACHE_SIZE)?;
            }
            Ok(conn)
        })
        .map_err(|e| self.error(e))?;
        Ok(Some(Store {
            conn,
            db: self.db.clone(),
        }))
    }

    /// The highest rowid of `provincial_dossier` (0 when empty).
    pub fn top_pid(&self) -> Result<i64> {
        self.read(top_pid)
    }

    /// Where to split a pass over `provincial_dossier` between two threads: the highest rowid
    /// of the first half, and a read-only connection for the second (`None` for a table under
    /// `min_rows` rows or an in-memory store). WAL lets the two read side by side; each half
    /// is its own read transaction (nothing else writes these tables during a run: the run
    /// lock).
    pub fn split_in_two(&self, min_rows: i64) -> Result<Option<(i64, Store)>> {
        let range: Option<(i64, i64)> = self.read(|c| {
            c.query_row(
                "SELECT min(rowid), max(rowid) FROM provincial_dossier",
                [],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )
        })?;
        match range {
            Some((lo, hi)) if hi - lo >= min_rows => {
                Ok(self.reader()?.map(|r| (lo + (hi - lo) / 2, r)))
            }
            _ => Ok(None),
        }
    }
}

/// The pair join of [`Store::for_each_pair`], restricted by `filter`, into reused records.
fn stream_pairs(
    conn: &rusqlite::Connection,
    filter: &str,
    args: impl rusqlite::Params,
    f: &mut impl FnMut(&ProvincialDossier, Option<&StoredNational>),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {}, {}, {}
         FROM provincial_dossier p
         LEFT JOIN national_dossier n ON n.code = p.national_code
         {filter}",
        provincial_columns::SQL,
        national_columns::SQL,
        look_up_columns::SQL,
    ))?;
    debug_assert_eq!(
        stmt.column_count(),
        PAIR_LOOK_UP_AT + look_up_columns::COUNT
    );
    let mut rows = stmt.query(args)?;
    let mut p = ProvincialDossier::default();
    let mut n = StoredNational {
        found: false,
        dossier: NationalDossier::default(),
        looked_up_at: LocalTime::default(),
    };
    while let Some(r) = rows.next()? {
        read_provincial(r, 0, &mut p)?;
        let has_national = has_national(r, PAIR_NATIONAL_AT)?;
        if has_national {
            read_national(r, PAIR_NATIONAL_AT, &mut n.dossier)?;
            n.found = r.get(PAIR_LOOK_UP_AT + look_up_columns::FOUND)?;
            n.looked_up_at =
                time_at(r, PAIR_LOOK_UP_AT + look_up_columns::LAST_LOOKUP_AT)?.unwrap_or_default();
        }
        f(&p, has_national.then_some(&n));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.cargo/config.toml` builds the bundled SQLite without memory management, which would
    /// put every connection's page cache behind one mutex (the two-thread passes wait on it).
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
    fn the_column_lists_number_their_columns_in_order() {
        assert_eq!(provincial_columns::DOSSIER_ID, 0);
        assert_eq!(
            provincial_columns::UPDATED_AT,
            provincial_columns::COUNT - 1
        );
        assert_eq!(
            provincial_columns::SQL
                .split(", ")
                .nth(provincial_columns::STATUS_RAW),
            Some("p.status_raw")
        );
        assert_eq!(
            national_columns::SQL
                .split(", ")
                .nth(national_columns::UNIT_NAME),
            Some("n.unit_name")
        );
        assert_eq!(
            national_columns::SQL.split(", ").count(),
            national_columns::COUNT
        );
    }
}
