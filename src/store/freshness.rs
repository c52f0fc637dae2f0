//! The freshness figures of a run: how old the national view of active dossiers is
//! (`crate::freshness` computes the percentiles), recorded on `sync_run`.

use rusqlite::params;

use super::{Result, Store};
use crate::model::{is_well_formed_national_code, parse_stored_time, LocalTime};

impl Store {
    /// Age in seconds, at `now`, of the national view of every active provincial dossier (not
    /// terminal, well-formed national code): now − last successful look-up, or now − first seen
    /// when it never had one.
    pub fn view_ages(&self, now: LocalTime) -> Result<Vec<i64>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT p.national_code, coalesce(l.last_success_at, p.first_seen)
                 FROM provincial_dossier p LEFT JOIN lookup_state l ON l.dossier_id = p.dossier_id
                 WHERE p.status_code IS NULL OR p.status_code NOT IN (3, 7, 8, 9, 10)",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let code: Option<String> = r.get(0)?;
                if !code.is_some_and(|c| is_well_formed_national_code(&c)) {
                    continue;
                }
                if let Some(since) = r
                    .get::<_, Option<String>>(1)?
                    .and_then(|s| parse_stored_time(&s))
                {
                    out.push((now - since).num_seconds().max(0));
                }
            }
            Ok(out)
        })
    }

    /// Records a run's freshness figures (migration 3 columns).
    pub fn record_freshness(
        &self,
        run_id: i64,
        p50_s: Option<i64>,
        p95_s: Option<i64>,
        budget_used: Option<f64>,
    ) -> Result<()> {
        self.read(|c| {
            c.execute(
                "UPDATE sync_run SET freshness_p50_s = ?2, freshness_p95_s = ?3, budget_used = ?4
                 WHERE id = ?1",
                params![run_id, p50_s, p95_s, budget_used],
            )
        })?;
        Ok(())
    }
}
