//! What the monthly report reads (and the `agency` table it groups by). The report's logic is
//! in `report::build`, and the agency data file is read by `report::agencies`; this file only
//! speaks SQL.

use chrono::NaiveDate;
use rusqlite::params;

use super::pairs::{
    has_national, national_columns, provincial_columns, read_national, read_provincial,
};
use super::{set_opt_text, text_at, Result, Store, StoreError};
use crate::model::{
    fmt_time, is_well_formed_national_code, AgencyRecord, Channel, LocalTime, NationalDossier,
    ProvincialDossier,
};

/// One provincial dossier with the portal's view of it (when a look-up found it).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ReportDossier {
    pub provincial: ProvincialDossier,
    /// `None`: never looked up, not found, or the province's code is not one the portal can
    /// match.
    pub national: Option<NationalDossier>,
}

/// An open or acknowledged discrepancy, as the report needs it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ReportDiscrepancy {
    pub dossier_id: String,
    pub kind: String,
    pub score_impact: f64,
    pub period: Option<String>,
    pub provincial_value: String,
    pub national_value: String,
}

/// One row of `published_score`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PublishedScoreRow {
    pub api: String,
    pub year: i32,
    pub month: u32,
    pub unit_key: String,
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub tdgq_score: Option<f64>,
    pub max_score: Option<f64>,
}

const DATE: &str = "%Y-%m-%d";

columns! {
    /// What the report reads of a provincial dossier beyond [`provincial_columns`].
    mod label_columns {
        PROCEDURE_NAME = "p.procedure_name",
        CHANNEL = "p.channel",
        STATUS_LABEL = "p.status_label",
        HANDLER = "p.handler",
    }
}

/// Where each list starts in the report's SELECT.
const LABELS_AT: usize = provincial_columns::COUNT;
const NATIONAL_AT: usize = LABELS_AT + label_columns::COUNT;

/// [`label_columns`] from position `at` of `r` into a reused record.
fn read_labels(
    r: &rusqlite::Row<'_>,
    at: usize,
    p: &mut ProvincialDossier,
) -> rusqlite::Result<()> {
    use label_columns as c;
    set_opt_text(&mut p.procedure_name, r, at + c::PROCEDURE_NAME)?;
    p.channel = Channel::parse(text_at(r, at + c::CHANNEL)?.unwrap_or(""));
    set_opt_text(&mut p.status_label, r, at + c::STATUS_LABEL)?;
    set_opt_text(&mut p.handler, r, at + c::HANDLER)?;
    Ok(())
}

impl Store {
    /// Calls `f` for every provincial dossier received by `received_by`, with its national
    /// view, streaming (nothing is collected; one record is reused from row to row, its
    /// strings keeping their buffers). Raw JSON and row hashes are not read.
    pub(crate) fn for_each_report_dossier(
        &self,
        received_by: LocalTime,
        f: impl FnMut(&ReportDossier),
    ) -> Result<()> {
        self.for_each_report_dossier_in(received_by, i64::MIN, i64::MAX, f)
    }

    /// [`Store::for_each_report_dossier`] for the provincial rows whose rowid is in
    /// `first..=last`, in rowid order (so consecutive ranges, in order, give the same
    /// sequence as the whole table).
    pub(crate) fn for_each_report_dossier_in(
        &self,
        received_by: LocalTime,
        first: i64,
        last: i64,
        mut f: impl FnMut(&ReportDossier),
    ) -> Result<()> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {}, {}, {}
                 FROM provincial_dossier p
                 LEFT JOIN national_dossier n ON n.code = p.national_code AND n.found = 1
                 WHERE p.rowid BETWEEN ?2 AND ?3
                   AND p.received_at IS NOT NULL AND p.received_at <= ?1",
                provincial_columns::SQL,
                label_columns::SQL,
                national_columns::SQL,
            ))?;
            debug_assert_eq!(stmt.column_count(), NATIONAL_AT + national_columns::COUNT);
            let mut rows = stmt.query(params![fmt_time(&received_by), first, last])?;
            let mut d = ReportDossier {
                provincial: ProvincialDossier::default(),
                national: None,
            };
            let mut spare = NationalDossier::default();
            while let Some(r) = rows.next()? {
                read_provincial(r, 0, &mut d.provincial)?;
                read_labels(r, LABELS_AT, &mut d.provincial)?;
                let has_national = has_national(r, NATIONAL_AT)?
                    && is_well_formed_national_code(&d.provincial.core.code);
                match (has_national, d.national.take()) {
                    (true, n) => {
                        let mut n = n.unwrap_or_else(|| std::mem::take(&mut spare));
                        read_national(r, NATIONAL_AT, &mut n)?;
                        d.national = Some(n);
                    }
                    (false, Some(n)) => spare = n,
                    (false, None) => {}
                }
                f(&d);
            }
            Ok(())
        })
    }

    /// Open and acknowledged discrepancies about the data: not `lookup_failing`, which is
    /// about a look-up the portal cannot answer and carries no points (it must not stand for a
    /// dossier's sync fault in Phụ lục III).
    pub(crate) fn report_discrepancies(&self) -> Result<Vec<ReportDiscrepancy>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT dossier_id, kind, score_impact, period, provincial_value, national_value
                 FROM discrepancy WHERE state IN ('open', 'acknowledged')
                    AND kind <> 'lookup_failing'
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ReportDiscrepancy {
                    dossier_id: r.get(0)?,
                    kind: r.get(1)?,
                    score_impact: r.get(2)?,
                    period: r.get(3)?,
                    provincial_value: r.get(4)?,
                    national_value: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Every published score row (a few hundred a year at most).
    pub(crate) fn all_published_scores(&self) -> Result<Vec<PublishedScoreRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT api, year, month, unit_key, unit_code, unit_name, tdgq_score, max_score
                 FROM published_score ORDER BY year, month, api, unit_key",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PublishedScoreRow {
                    api: r.get(0)?,
                    year: r.get(1)?,
                    month: r.get(2)?,
                    unit_key: r.get(3)?,
                    unit_code: r.get(4)?,
                    unit_name: r.get(5)?,
                    tdgq_score: r.get(6)?,
                    max_score: r.get(7)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Every row of the `agency` table.
    pub(crate) fn agencies(&self) -> Result<Vec<AgencyRecord>> {
        type Stored = (
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Stored> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT code, name, level, valid_from, valid_to, successor_code FROM agency
                 ORDER BY code, valid_from",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.collect()
        })?;
        let date = |s: String| {
            NaiveDate::parse_from_str(&s, DATE).map_err(|_| StoreError::BadValue {
                db: self.db.clone(),
                what: format!("agency table: bad date {s:?}"),
            })
        };
        rows.into_iter()
            .map(
                |(code, name, level, valid_from, valid_to, successor_code)| {
                    Ok(AgencyRecord {
                        code,
                        name,
                        level,
                        valid_from: date(valid_from)?,
                        valid_to: valid_to.map(date).transpose()?,
                        successor_code,
                    })
                },
            )
            .collect()
    }

    /// Inserts or updates agencies (keyed by code and valid_from) in one transaction; returns
    /// how many rows were written. `report::agencies::load_agencies_file` reads them from a
    /// data file.
    pub fn upsert_agencies(&mut self, records: &[AgencyRecord]) -> Result<usize> {
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "INSERT INTO agency (code, name, level, valid_from, valid_to, successor_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (code, valid_from) DO UPDATE SET name = excluded.name,
                    level = excluded.level, valid_to = excluded.valid_to,
                    successor_code = excluded.successor_code",
            )?;
            let mut n = 0;
            for a in records {
                n += stmt.execute(params![
                    a.code,
                    a.name,
                    a.level,
                    a.valid_from.format(DATE).to_string(),
                    a.valid_to.map(|d| d.format(DATE).to_string()),
                    a.successor_code
                ])?;
            }
            Ok(n)
        })
    }
}
