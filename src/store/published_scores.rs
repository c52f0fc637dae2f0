//! The portal's published 766 scores (`published_score`), as `scores` fetches them.

use rusqlite::{named_params, params};
use serde::Serialize;

use super::{Result, Store};
use crate::model::{fmt_time, LocalTime, YearMonth};

/// One published row: a unit's (or the province's) scores for a month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedScore {
    /// `legacy` or `progress_tree`.
    pub api: String,
    /// The year of the month scored.
    pub year: i32,
    /// The month scored, 1–12.
    pub month: u32,
    /// The row key: the unit's id as the reply names it (`tinh:<ID>` for a legacy province).
    pub unit_key: String,
    /// The unit's code (`MA_COQUAN`), when the reply gives one.
    pub unit_code: Option<String>,
    /// The unit's name, when the reply gives one.
    pub unit_name: Option<String>,
    /// The province's own row (legacy: the configured `p_tinh_id`; 2026: the tree's parent).
    /// Not stored: read back as `false`.
    pub is_province: bool,
    /// Dossiers received in the month (2026 form, `totalReceived`).
    pub total_received: Option<i64>,
    /// Dossiers the portal counts on time (2026 form, `totalOnTime`).
    pub total_on_time: Option<i64>,
    /// Dossiers the portal counts overdue (2026 form, `totalOverdue`).
    pub total_overdue: Option<i64>,
    /// Dossiers completed (2026 form, `totalCompleted`).
    pub total_completed: Option<i64>,
    /// "Tiến độ giải quyết", out of `max_score` (20).
    pub tdgq_score: Option<f64>,
    /// The maximum of `tdgq_score`: 20 in the legacy form, `maxScore` in the 2026 form;
    /// `None` when the reply gives none (read as 20).
    pub max_score: Option<f64>,
    /// The whole 766 score out of 100 (legacy form, `TONG_SCORE`).
    pub total_score: Option<f64>,
    /// The unit's rank in the reply (legacy form, `ROW_STT`).
    pub rank: Option<i64>,
    /// The reply row as received.
    pub raw_json: String,
}

impl Store {
    /// Stores published score rows in one transaction, replacing a unit's earlier row for the
    /// same api and month.
    pub fn store_published_scores(
        &mut self,
        rows: &[PublishedScore],
        fetched_at: LocalTime,
    ) -> Result<usize> {
        let at = fmt_time(&fetched_at);
        self.write(|tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO published_score (api, year, month, unit_key, unit_code, unit_name,
                    total_received, total_on_time, total_overdue, total_completed, tdgq_score,
                    max_score, total_score, rank, raw_json, fetched_at)
                 VALUES (:api, :year, :month, :unit_key, :unit_code, :unit_name,
                    :total_received, :total_on_time, :total_overdue, :total_completed,
                    :tdgq_score, :max_score, :total_score, :rank, :raw_json, :fetched_at)
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
                upsert.execute(named_params! {
                    ":api": r.api,
                    ":year": r.year,
                    ":month": r.month,
                    ":unit_key": r.unit_key,
                    ":unit_code": r.unit_code,
                    ":unit_name": r.unit_name,
                    ":total_received": r.total_received,
                    ":total_on_time": r.total_on_time,
                    ":total_overdue": r.total_overdue,
                    ":total_completed": r.total_completed,
                    ":tdgq_score": r.tdgq_score,
                    ":max_score": r.max_score,
                    ":total_score": r.total_score,
                    ":rank": r.rank,
                    ":raw_json": r.raw_json,
                    ":fetched_at": at,
                })?;
            }
            Ok(rows.len())
        })
    }

    /// The stored published rows of one month and api, by unit key.
    pub fn published_scores(&self, api: &str, ym: YearMonth) -> Result<Vec<PublishedScore>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT api, year, month, unit_key, unit_code, unit_name, total_received,
                        total_on_time, total_overdue, total_completed, tdgq_score, max_score,
                        total_score, rank, raw_json
                 FROM published_score WHERE api = ?1 AND year = ?2 AND month = ?3
                 ORDER BY unit_key",
            )?;
            let rows = stmt.query_map(params![api, ym.year, ym.month], |r| {
                Ok(PublishedScore {
                    api: r.get("api")?,
                    year: r.get("year")?,
                    month: r.get("month")?,
                    unit_key: r.get("unit_key")?,
                    unit_code: r.get("unit_code")?,
                    unit_name: r.get("unit_name")?,
                    is_province: false,
                    total_received: r.get("total_received")?,
                    total_on_time: r.get("total_on_time")?,
                    total_overdue: r.get("total_overdue")?,
                    total_completed: r.get("total_completed")?,
                    tdgq_score: r.get("tdgq_score")?,
                    max_score: r.get("max_score")?,
                    total_score: r.get("total_score")?,
                    rank: r.get("rank")?,
                    raw_json: r.get("raw_json")?,
                })
            })?;
            rows.collect()
        })
    }
}
