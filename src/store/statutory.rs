//! The province's own received and due times per procedure, from which the statutory time of a
//! procedure the statutory-times file does not list is inferred (docs/domain.md §2,
//! [`crate::calendar::infer`]). Both queries are answered by the index
//! `provincial_dossier_procedure` (procedure, received, due; migration 11) alone.

use super::{rt, Result, Store};
use crate::calendar::{Calendar, Inference};
use crate::model::LocalTime;

/// The procedures with a received dossier that has no due date (what an inferred time
/// judges); `{only}` narrows it to one procedure.
const WITHOUT_DUE_SQL: &str = "
    SELECT DISTINCT procedure_code FROM provincial_dossier
    WHERE procedure_code IS NOT NULL AND received_at IS NOT NULL AND due_at IS NULL {only}
    ORDER BY procedure_code";

/// A procedure's latest received dossiers with both times.
const SAMPLE_SQL: &str = "
    SELECT received_at, due_at FROM provincial_dossier
    WHERE procedure_code = ?1 AND received_at IS NOT NULL AND due_at IS NOT NULL
    ORDER BY received_at DESC LIMIT ?2";

impl Store {
    /// The statutory times inferred from the stored dossiers ([`Calendar::infer_statutory_time`])
    /// for every procedure the calendar's file does not list and some of whose received
    /// dossiers have no due date (the only ones an inferred time judges), by procedure code;
    /// `only`: that procedure alone. Each reads its latest `calendar.infer_statutory_sample`
    /// received dossiers with both times. Empty when inference is off.
    ///
    /// One scan of the procedure index for the procedures, then one index range per procedure
    /// (measured at 1,000,000 dossiers in docs/performance.md): run once per reconciliation
    /// pass, per report, per dossier shown.
    pub fn infer_statutory_times(
        &self,
        cal: &Calendar,
        only: Option<&str>,
    ) -> Result<Vec<(String, Inference)>> {
        let settings = *cal.inference();
        if !settings.enabled() {
            return Ok(Vec::new());
        }
        let file = cal.statutory_times();
        let samples = self.read(|c| {
            let sql = WITHOUT_DUE_SQL.replace(
                "{only}",
                if only.is_some() {
                    "AND procedure_code = ?1"
                } else {
                    ""
                },
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let code_of = |r: &rusqlite::Row<'_>| r.get::<_, String>(0);
            let codes: Vec<String> = match only {
                Some(code) => stmt
                    .query_map([code], code_of)?
                    .collect::<rusqlite::Result<_>>()?,
                None => stmt
                    .query_map([], code_of)?
                    .collect::<rusqlite::Result<_>>()?,
            };
            let mut stmt = c.prepare_cached(SAMPLE_SQL)?;
            let mut out = Vec::new();
            for code in codes.into_iter().filter(|c| !file.contains(c)) {
                let pairs: Vec<(LocalTime, LocalTime)> = stmt
                    .query_map(rusqlite::params![code, settings.sample], |r| {
                        Ok(rt(r, "received_at")?.zip(rt(r, "due_at")?))
                    })?
                    .filter_map(|r| r.transpose())
                    .collect::<rusqlite::Result<_>>()?;
                out.push((code, pairs));
            }
            Ok(out)
        })?;
        Ok(samples
            .into_iter()
            .map(|(code, pairs)| {
                let inference = cal.infer_statutory_time(&pairs);
                (code, inference)
            })
            .collect())
    }

    /// `cal` with the statutory times inferred from the stored dossiers
    /// ([`Store::infer_statutory_times`]), and the outcomes (for the log).
    pub fn with_inferred_statutory_times(
        &self,
        cal: &Calendar,
        only: Option<&str>,
    ) -> Result<(Calendar, Vec<(String, Inference)>)> {
        let outcomes = self.infer_statutory_times(cal, only)?;
        Ok((cal.clone().with_inferences(&outcomes), outcomes))
    }
}
