//! Frozen months (`frozen_month`, `frozen_month_fault`): a closed month's report as it stood
//! when it was frozen. The report module builds and reads the snapshot (`report::frozen`);
//! this file only stores it.

use rusqlite::{named_params, params, OptionalExtension};

use super::{Result, Store};
use crate::model::{fmt_time, LocalTime, YearMonth};

/// A month's snapshot as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct FrozenMonthRow {
    /// The month.
    pub month: YearMonth,
    /// When it was frozen (`YYYY-MM-DDTHH:MM:SS+07:00`).
    pub frozen_at: String,
    /// The portal's published score, out of 20, when known then.
    pub published_score: Option<f64>,
    /// The score recalculated from the national view, out of 20.
    pub national_view_score: Option<f64>,
    /// The score from the province's records, out of 20.
    pub provincial_view_score: Option<f64>,
    /// The national average, out of 20, when published then.
    pub national_average: Option<f64>,
    /// Dossiers counted in the national view.
    pub counted_national: u64,
    /// Dossiers counted in the provincial view.
    pub counted_provincial: u64,
    /// The whole report as JSON.
    pub report_json: String,
    /// The dossiers whose sync faults explained the month's gap (Phụ lục III).
    pub faults: Vec<FrozenFault>,
}

/// One dossier of a frozen month's Phụ lục III.
#[derive(Clone, Debug, PartialEq)]
pub struct FrozenFault {
    /// The code staff know the dossier by.
    pub dossier_code: String,
    /// The agency's code in force in the month.
    pub agency_code: String,
    /// The agency's name in force in the month.
    pub agency_name: String,
    /// The discrepancy kind.
    pub kind: String,
    /// The province's value.
    pub provincial_value: String,
    /// The portal's value.
    pub national_value: String,
    /// Points of the month's score it cost.
    pub points: f64,
}

impl Store {
    /// Stores `row` unless its month is already frozen (a frozen month is never
    /// overwritten); returns whether it was stored.
    pub fn freeze_month(&mut self, row: &FrozenMonthRow) -> Result<bool> {
        let month = row.month.iso();
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT INTO frozen_month (month, frozen_at, published_score, national_view_score,
                    provincial_view_score, national_average, counted_national, counted_provincial,
                    report_json)
                 VALUES (:month, :frozen_at, :published, :national, :provincial, :average,
                    :counted_national, :counted_provincial, :json)
                 ON CONFLICT (month) DO NOTHING",
                named_params! {
                    ":month": month,
                    ":frozen_at": row.frozen_at,
                    ":published": row.published_score,
                    ":national": row.national_view_score,
                    ":provincial": row.provincial_view_score,
                    ":average": row.national_average,
                    ":counted_national": row.counted_national as i64,
                    ":counted_provincial": row.counted_provincial as i64,
                    ":json": row.report_json,
                },
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            let mut ins = tx.prepare_cached(
                "INSERT INTO frozen_month_fault (month, dossier_code, agency_code, agency_name,
                    kind, provincial_value, national_value, points)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for f in &row.faults {
                ins.execute(params![
                    month,
                    f.dossier_code,
                    f.agency_code,
                    f.agency_name,
                    f.kind,
                    f.provincial_value,
                    f.national_value,
                    f.points
                ])?;
            }
            Ok(true)
        })
    }

    /// The snapshot of `month`: `(frozen_at, report_json)`; `None` when it is not frozen.
    pub fn frozen_month(&self, month: YearMonth) -> Result<Option<(String, String)>> {
        self.read(|c| {
            c.query_row(
                "SELECT frozen_at, report_json FROM frozen_month WHERE month = ?1",
                params![month.iso()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }

    /// Whether `month` is frozen (an existence check: the snapshot itself is not read).
    pub fn is_frozen(&self, month: YearMonth) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM frozen_month WHERE month = ?1)",
                params![month.iso()],
                |r| r.get(0),
            )
        })
    }

    /// Whether a sync cycle finished complete (`ok`) by `t`: the database saw the portals
    /// before then.
    pub fn synced_by(&self, t: LocalTime) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM sync_run
                    WHERE job = 'sync' AND outcome = 'ok' AND finished_at <= ?1)",
                params![fmt_time(&t)],
                |r| r.get(0),
            )
        })
    }

    /// The frozen months, oldest first.
    pub fn frozen_months(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT month FROM frozen_month ORDER BY month")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }
}
