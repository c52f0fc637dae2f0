//! The history rows of both views of a dossier (`provincial_history`, `national_history`):
//! every change observed, for `tthc-sync dossier`.

use rusqlite::params;
use serde::Serialize;

use super::{Result, Store};

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
}
