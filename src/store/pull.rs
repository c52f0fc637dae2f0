//! The provincial pull's records (`provincial_pull`: pages, rows, the reported totals, whether
//! the end was reached) and the sweep in progress (`sweep_cursor`), which moves in the same
//! transaction as the page of rows it covers.

use rusqlite::{named_params, params, OptionalExtension, Transaction};
use serde::Serialize;

use super::provincial::store_rows;
use super::runs::advance_watermarks;
use super::{PageStats, Result, Store};
use crate::model::{fmt_time, parse_stored_time, LocalTime, ProvincialDossier};

/// What one provincial pull read (a row of `provincial_pull`; shown in the run summary).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PullRecord {
    /// The pull's source, `provincial:<profile>`.
    pub source: String,
    /// `incremental` or `sweep`.
    pub mode: String,
    /// The first page read (0-based; above 0 when a sweep resumed).
    pub first_page: u32,
    /// Pages read.
    pub pages: u32,
    /// Pages fetched again because their reply contradicted itself.
    pub refetches: u32,
    /// Distinct dossiers read.
    pub rows_read: u64,
    /// Rows read again (rows moving between pages while the pull paged).
    pub duplicates: u64,
    /// The total the system reported on the pull's first page (None when the profile's
    /// paging gives none).
    pub total_at_start: Option<u64>,
    /// The total reported on the last page read.
    pub total_at_end: Option<u64>,
    /// The pull established the end of what it had to read (the last page, or the watermark).
    pub reached_end: bool,
    /// A sweep that reached the end: distinct dossiers of the source seen since the sweep
    /// began (over every run it took).
    pub sweep_rows: Option<u64>,
    /// A sweep that reached the end: whether the totals check passed (the sweep mark moved).
    pub sweep_complete: Option<bool>,
}

/// A sweep cut short (a failed page, `provincial.max_pages_per_run`, a stop): where the next
/// run continues it (`sweep_cursor`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepCursor {
    /// When the sweep began (the sweep mark it writes once complete).
    pub started_at: LocalTime,
    /// The first page not yet read.
    pub next_page: u32,
    /// The total the system reported on the sweep's first page.
    pub total_at_start: Option<u64>,
    /// The newest last-modified time read on the sweep's first run (the watermark it writes
    /// once complete), None when nothing readable was read yet.
    pub newest: Option<LocalTime>,
    /// Rows skipped as unreadable so far (the watermark does not move when any were).
    pub bad_rows: u64,
    /// Rows read twice so far (each is a row that moved from the unread part of the list to
    /// its front, or was inserted there: see `pull::sweep_shortfall`).
    pub duplicates: u64,
}

/// What a stored page does to the source's sweep cursor.
#[derive(Clone, Copy, Debug)]
pub enum CursorMove<'a> {
    /// Nothing (an incremental pull).
    Keep,
    /// The sweep continues from here.
    Set(&'a SweepCursor),
    /// The sweep completed or was abandoned.
    Clear,
}

impl Store {
    /// Stores one page of provincial rows (each with what may be stored of its raw row,
    /// `Profile::stored_json`) in one transaction,
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
        self.store_pull_page(run_id, source, observed_at, rows, &marks, CursorMove::Keep)
    }

    /// Stores one page of a pull in one transaction: the rows (as
    /// [`Store::store_provincial_page`]), the marks they complete (each moves as
    /// `advance_watermarks` says), and the sweep cursor.
    pub fn store_pull_page(
        &mut self,
        run_id: i64,
        source: &str,
        observed_at: LocalTime,
        rows: &[(ProvincialDossier, String)],
        marks: &[(&str, LocalTime)],
        cursor: CursorMove<'_>,
    ) -> Result<PageStats> {
        self.write(|tx| {
            let stats = store_rows(tx, run_id, source, observed_at, rows)?;
            let at = fmt_time(&observed_at);
            advance_watermarks(tx, run_id, &at, marks)?;
            move_cursor(tx, run_id, source, &at, cursor)?;
            Ok(stats)
        })
    }

    /// The sweep in progress for `source`, if one was cut short.
    pub fn sweep_cursor(&self, source: &str) -> Result<Option<SweepCursor>> {
        self.read(|c| {
            c.query_row(
                "SELECT started_at, next_page, total_at_start, newest, bad_rows, duplicates
                 FROM sweep_cursor WHERE source = ?1",
                params![source],
                |r| {
                    let started: String = r.get(0)?;
                    let newest: Option<String> = r.get(3)?;
                    Ok((
                        started,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        newest,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()
        })
        .map(|row| {
            row.and_then(|(started, next, total, newest, bad, dups)| {
                Some(SweepCursor {
                    started_at: parse_stored_time(&started)?,
                    next_page: u32::try_from(next).ok()?,
                    total_at_start: total.map(|t| t as u64),
                    newest: newest.as_deref().and_then(parse_stored_time),
                    bad_rows: bad as u64,
                    duplicates: dups as u64,
                })
            })
        })
    }

    /// Abandons the sweep in progress for `source` (a new one starts over).
    pub fn clear_sweep_cursor(&mut self, source: &str) -> Result<()> {
        self.write(|tx| move_cursor(tx, 0, source, "", CursorMove::Clear))
    }

    /// Dossiers of `source` read (stored or seen unchanged) at or after `since`.
    pub fn provincial_seen_since(&self, source: &str, since: LocalTime) -> Result<u64> {
        let n = self.read(|c| {
            c.query_row(
                "SELECT count(*) FROM provincial_dossier WHERE source = ?1 AND last_seen >= ?2",
                params![source, fmt_time(&since)],
                |r| r.get::<_, i64>(0),
            )
        })?;
        Ok(n as u64)
    }

    /// Records what one pull of run `run_id` read.
    pub fn record_pull(&self, run_id: i64, p: &PullRecord) -> Result<()> {
        let n = |v: u64| v as i64;
        self.read(|c| {
            c.execute(
                "INSERT INTO provincial_pull (run_id, source, mode, first_page, pages, refetches,
                    rows_read, duplicates, total_at_start, total_at_end, reached_end,
                    sweep_rows, sweep_complete)
                 VALUES (:run_id, :source, :mode, :first_page, :pages, :refetches, :rows_read,
                    :duplicates, :total_at_start, :total_at_end, :reached_end, :sweep_rows,
                    :sweep_complete)",
                named_params! {
                    ":run_id": run_id,
                    ":source": p.source,
                    ":mode": p.mode,
                    ":first_page": p.first_page,
                    ":pages": p.pages,
                    ":refetches": p.refetches,
                    ":rows_read": n(p.rows_read),
                    ":duplicates": n(p.duplicates),
                    ":total_at_start": p.total_at_start.map(n),
                    ":total_at_end": p.total_at_end.map(n),
                    ":reached_end": p.reached_end,
                    ":sweep_rows": p.sweep_rows.map(n),
                    ":sweep_complete": p.sweep_complete,
                },
            )
        })?;
        Ok(())
    }

    /// The pulls of run `run_id`, in the order they ran.
    pub fn pulls_of_run(&self, run_id: i64) -> Result<Vec<PullRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT source, mode, first_page, pages, refetches, rows_read, duplicates,
                        total_at_start, total_at_end, reached_end, sweep_rows, sweep_complete
                 FROM provincial_pull WHERE run_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![run_id], |r| {
                let u = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
                let o = |i: usize| r.get::<_, Option<i64>>(i).map(|v| v.map(|v| v as u64));
                Ok(PullRecord {
                    source: r.get(0)?,
                    mode: r.get(1)?,
                    first_page: r.get(2)?,
                    pages: r.get(3)?,
                    refetches: r.get(4)?,
                    rows_read: u(5)?,
                    duplicates: u(6)?,
                    total_at_start: o(7)?,
                    total_at_end: o(8)?,
                    reached_end: r.get(9)?,
                    sweep_rows: o(10)?,
                    sweep_complete: r.get(11)?,
                })
            })?;
            rows.collect()
        })
    }
}

fn move_cursor(
    tx: &Transaction<'_>,
    run_id: i64,
    source: &str,
    at: &str,
    cursor: CursorMove<'_>,
) -> rusqlite::Result<()> {
    match cursor {
        CursorMove::Keep => {}
        CursorMove::Clear => {
            tx.execute(
                "DELETE FROM sweep_cursor WHERE source = ?1",
                params![source],
            )?;
        }
        CursorMove::Set(c) => {
            tx.execute(
                "INSERT INTO sweep_cursor (source, started_at, next_page, total_at_start,
                    newest, bad_rows, duplicates, run_id, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (source) DO UPDATE SET started_at = excluded.started_at,
                    next_page = excluded.next_page, total_at_start = excluded.total_at_start,
                    newest = excluded.newest, bad_rows = excluded.bad_rows,
                    duplicates = excluded.duplicates,
                    run_id = excluded.run_id, updated_at = excluded.updated_at",
                params![
                    source,
                    fmt_time(&c.started_at),
                    c.next_page,
                    c.total_at_start.map(|t| t as i64),
                    c.newest.as_ref().map(fmt_time),
                    c.bad_rows as i64,
                    c.duplicates as i64,
                    run_id,
                    at
                ],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::at;

    #[test]
    fn cursor_and_pull_records_round_trip() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.sweep_cursor("p").unwrap(), None);
        let c = SweepCursor {
            started_at: at("2026-11-27 10:00:00"),
            next_page: 7,
            total_at_start: Some(1500),
            newest: Some(at("2026-11-27 09:59:00")),
            bad_rows: 1,
            duplicates: 4,
        };
        let t = at("2026-11-27 10:05:00");
        store
            .store_pull_page(1, "p", t, &[], &[], CursorMove::Set(&c))
            .unwrap();
        assert_eq!(store.sweep_cursor("p").unwrap(), Some(c));
        assert_eq!(store.sweep_cursor("q").unwrap(), None);
        store
            .store_pull_page(1, "p", t, &[], &[("p:sweep", t)], CursorMove::Clear)
            .unwrap();
        assert_eq!(store.sweep_cursor("p").unwrap(), None);
        assert_eq!(store.watermark("p:sweep").unwrap(), Some(t));

        let rec = PullRecord {
            source: "p".into(),
            mode: "sweep".into(),
            first_page: 6,
            pages: 9,
            refetches: 2,
            rows_read: 850,
            duplicates: 3,
            total_at_start: Some(1500),
            total_at_end: Some(1503),
            reached_end: true,
            sweep_rows: Some(1500),
            sweep_complete: Some(true),
        };
        store.record_pull(4, &rec).unwrap();
        let other = PullRecord {
            mode: "incremental".into(),
            ..Default::default()
        };
        store.record_pull(4, &other).unwrap();
        assert_eq!(store.pulls_of_run(4).unwrap(), vec![rec, other]);
        assert!(store.pulls_of_run(5).unwrap().is_empty());
    }
}
