//! What the monthly report reads (and the `agency` table it groups by). The report's logic is
//! in `report::build`; this file only speaks SQL.

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::params;

use super::{
    read_pair_provincial, set_opt_text, set_text, status_of, time_at, Result, Store, StoreError,
};
use crate::model::{
    fmt_time, is_well_formed_national_code, LocalTime, NationalDossier, ProvincialDossier,
};
use crate::report::agencies::{parse_agencies, AgencyRecord};

/// One provincial dossier with the portal's view of it (when a look-up found it).
#[derive(Clone, Debug, PartialEq)]
pub struct ReportDossier {
    pub provincial: ProvincialDossier,
    /// `None`: never looked up, not found, or the province's code is not one the portal can
    /// match.
    pub national: Option<NationalDossier>,
}

/// An open or acknowledged discrepancy, as the report needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportDiscrepancy {
    pub dossier_id: String,
    pub kind: String,
    pub score_impact: f64,
    pub period: Option<String>,
    pub provincial_value: String,
    pub national_value: String,
}

/// One row of `published_score`.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedScoreRow {
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

/// Columns 22–32 of [`Store::for_each_report_dossier`]'s query into a reused record.
fn read_report_national(r: &rusqlite::Row<'_>, n: &mut NationalDossier) -> rusqlite::Result<()> {
    let c = &mut n.core;
    set_text(&mut c.code, r, 22)?;
    set_opt_text(&mut c.procedure_code, r, 23)?;
    c.status = status_of(r.get(24)?);
    set_text(&mut c.status_raw, r, 25)?;
    c.received_at = time_at(r, 26)?;
    c.due_at = time_at(r, 27)?;
    c.finished_at = time_at(r, 28)?;
    c.returned_at = time_at(r, 29)?;
    set_opt_text(&mut c.agency_code, r, 30)?;
    set_opt_text(&mut n.unit_name, r, 31)?;
    n.duplicate_rows = r.get(32)?;
    Ok(())
}

impl Store {
    /// Calls `f` for every provincial dossier received by `received_by`, with its national
    /// view, streaming (nothing is collected; one record is reused from row to row, its
    /// strings keeping their buffers). Raw JSON is not read.
    pub fn for_each_report_dossier(
        &self,
        received_by: LocalTime,
        f: impl FnMut(&ReportDossier),
    ) -> Result<()> {
        self.for_each_report_dossier_in(received_by, i64::MIN, i64::MAX, f)
    }

    /// [`Store::for_each_report_dossier`] for the provincial rows whose rowid is in
    /// `first..=last`, in rowid order (so consecutive ranges, in order, give the same
    /// sequence as the whole table).
    pub fn for_each_report_dossier_in(
        &self,
        received_by: LocalTime,
        first: i64,
        last: i64,
        mut f: impl FnMut(&ReportDossier),
    ) -> Result<()> {
        // Columns 0–21 as in `Store::for_each_pair` (read by position, not by name).
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.dossier_id, p.code, p.national_code, p.local_code, p.procedure_code,
                    p.procedure_name, p.agency_code, p.agency_name, p.channel, p.status_code,
                    p.status_raw, p.status_label, p.received_at, p.due_at, p.finished_at,
                    p.returned_at, p.has_due_date, p.paused_since, p.supplement_requests,
                    p.handler, p.updated_at, '' AS row_hash,
                    n.code, n.procedure_code, n.status_code, n.status_raw, n.received_at,
                    n.due_at, n.finished_at, n.returned_at, n.unit_code, n.unit_name,
                    n.duplicate_rows
             FROM provincial_dossier p
             LEFT JOIN national_dossier n ON n.code = p.national_code AND n.found = 1
             WHERE p.rowid BETWEEN ?2 AND ?3
               AND p.received_at IS NOT NULL AND p.received_at <= ?1",
        )?;
        let mut rows = stmt.query(params![fmt_time(&received_by), first, last])?;
        let mut d = ReportDossier {
            provincial: ProvincialDossier::default(),
            national: None,
        };
        let mut spare = NationalDossier::default();
        while let Some(r) = rows.next()? {
            read_pair_provincial(r, &mut d.provincial)?;
            let has_national = r.get_ref(22)?.data_type() != rusqlite::types::Type::Null
                && is_well_formed_national_code(&d.provincial.core.code);
            match (has_national, d.national.take()) {
                (true, n) => {
                    let mut n = n.unwrap_or_else(|| std::mem::take(&mut spare));
                    read_report_national(r, &mut n)?;
                    d.national = Some(n);
                }
                (false, Some(n)) => spare = n,
                (false, None) => {}
            }
            f(&d);
        }
        Ok(())
    }

    /// Open and acknowledged discrepancies.
    pub fn report_discrepancies(&self) -> Result<Vec<ReportDiscrepancy>> {
        let mut stmt = self.conn.prepare(
            "SELECT dossier_id, kind, score_impact, period, provincial_value, national_value
             FROM discrepancy WHERE state IN ('open', 'acknowledged') ORDER BY id",
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
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every published score row (a few hundred a year at most).
    pub fn all_published_scores(&self) -> Result<Vec<PublishedScoreRow>> {
        let mut stmt = self.conn.prepare(
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
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every row of the `agency` table.
    pub fn agencies(&self) -> Result<Vec<AgencyRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT code, name, level, valid_from, valid_to, successor_code FROM agency
             ORDER BY code, valid_from",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        let date = |s: String| {
            NaiveDate::parse_from_str(&s, DATE)
                .map_err(|_| StoreError::Invalid(format!("agency table: bad date {s:?}")))
        };
        while let Some(r) = rows.next()? {
            let code: String = r.get(0)?;
            out.push(AgencyRecord {
                code,
                name: r.get(1)?,
                level: r.get(2)?,
                valid_from: date(r.get(3)?)?,
                valid_to: r.get::<_, Option<String>>(4)?.map(date).transpose()?,
                successor_code: r.get(5)?,
            });
        }
        Ok(out)
    }

    /// Inserts or updates agencies (keyed by code and valid_from) in one transaction; returns
    /// how many rows were written.
    pub fn upsert_agencies(&mut self, records: &[AgencyRecord]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO agency (code, name, level, valid_from, valid_to, successor_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (code, valid_from) DO UPDATE SET name = excluded.name,
                    level = excluded.level, valid_to = excluded.valid_to,
                    successor_code = excluded.successor_code",
            )?;
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
        }
        tx.commit()?;
        Ok(n)
    }

    /// Loads an agency data file (`config/agencies/*.toml`) into the `agency` table.
    pub fn load_agencies_file(&mut self, path: &Path) -> Result<usize> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::Invalid(format!("cannot read agency file {}: {e}", path.display()))
        })?;
        let records = parse_agencies(&text)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", path.display())))?;
        self.upsert_agencies(&records)
    }
}
