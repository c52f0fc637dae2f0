//! Queries of one dossier, for the dossier view ([`crate::dossier_view`]).

use rusqlite::params;

use super::{discrepancy_from_row, DiscrepancyRow, Result, Store};

impl Store {
    /// Every discrepancy of one dossier (by its provincial id), whatever its state, in the
    /// order of [`Store::discrepancies`]: largest score impact first. One indexed query (the
    /// `UNIQUE (dossier_id, kind)` index), not a scan of every discrepancy.
    pub fn discrepancies_of_dossier(&self, dossier_id: &str) -> Result<Vec<DiscrepancyRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, dossier_id, dossier_code, kind, state, severity, score_impact, period,
                    agency_code, agency_name, provincial_value, national_value, first_seen,
                    last_seen, provincial_verdict, national_verdict, rule_version
             FROM discrepancy WHERE dossier_id = ?1
             ORDER BY score_impact DESC, CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1
                      WHEN 'medium' THEN 2 ELSE 3 END, first_seen, id",
        )?;
        let rows = stmt.query_map(params![dossier_id], discrepancy_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DiscrepancyFilter;

    #[test]
    fn a_dossiers_discrepancies_in_every_state_and_no_others() {
        let store = Store::open_in_memory().unwrap();
        // (dossier, kind, state, severity, impact, first seen)
        let rows = [
            (
                "d1",
                "status_mismatch",
                "open",
                "medium",
                0.0,
                "2026-11-02 10:00:00",
            ),
            (
                "d1",
                "due_date_mismatch",
                "resolved",
                "high",
                0.0,
                "2026-11-01 10:00:00",
            ),
            (
                "d1",
                "closed_locally_open_nationally",
                "acknowledged",
                "critical",
                0.25,
                "2026-11-03 10:00:00",
            ),
            (
                "d2",
                "missing_on_national",
                "open",
                "high",
                0.5,
                "2026-11-01 09:00:00",
            ),
        ];
        for (dossier, kind, state, severity, impact, seen) in rows {
            store
                .conn()
                .execute(
                    "INSERT INTO discrepancy (dossier_id, dossier_code, kind, state, severity,
                        score_impact, provincial_value, national_value, first_seen, last_seen,
                        state_changed_at)
                     VALUES (?1, ?1, ?2, ?3, ?4, ?5, 'p', 'n', ?6, ?6, ?6)",
                    params![dossier, kind, state, severity, impact, seen],
                )
                .unwrap();
        }
        let d1 = store.discrepancies_of_dossier("d1").unwrap();
        let kinds: Vec<&str> = d1.iter().map(|d| d.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "closed_locally_open_nationally",
                "due_date_mismatch",
                "status_mismatch"
            ]
        );
        // The same rows, in the same order, as the filtered list of every discrepancy.
        let all: Vec<DiscrepancyRow> = store
            .discrepancies(&DiscrepancyFilter::default())
            .unwrap()
            .into_iter()
            .filter(|d| d.dossier_id == "d1")
            .collect();
        assert_eq!(d1, all);
        assert!(store.discrepancies_of_dossier("d3").unwrap().is_empty());
    }
}
