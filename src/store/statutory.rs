//! The province's own received and due times per procedure, from which the statutory time of a
//! procedure the statutory-times file does not list is inferred (docs/domain.md §2,
//! [`crate::calendar::infer`]).

use std::collections::BTreeMap;

use rusqlite::types::ValueRef;

use super::{Result, Store};
use crate::calendar::{Calendar, Inference};
use crate::model::{parse_stored_time, LocalTime};

/// One scan of the table, newest first (a reverse rowid scan, no sort); `{only}` narrows it to
/// one procedure.
const SAMPLE_SQL: &str = "
    SELECT procedure_code, received_at, due_at FROM provincial_dossier
    WHERE procedure_code IS NOT NULL AND received_at IS NOT NULL {only}
    ORDER BY rowid DESC";

/// One procedure's dossiers, as the inference reads them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Sample {
    /// Received dossiers with no due date: what an inferred time would judge.
    without_due: u64,
    /// Received and due times of the latest dossiers first seen that have both.
    pairs: Vec<(LocalTime, LocalTime)>,
}

impl Store {
    /// The statutory times inferred from the stored dossiers ([`Calendar::infer_statutory_time`])
    /// for every procedure the calendar's file does not list and some of whose received
    /// dossiers have no due date (the only ones an inferred time judges), by procedure code;
    /// `only`: that procedure alone. Each reads the latest `calendar.infer_statutory_sample`
    /// dossiers first seen with both times. Empty when inference is off.
    ///
    /// One scan of `provincial_dossier` (three columns; the times of a listed procedure or of
    /// a procedure whose sample is full are not read): run once per reconciliation pass, per
    /// report, per dossier shown.
    pub fn infer_statutory_times(
        &self,
        cal: &Calendar,
        only: Option<&str>,
    ) -> Result<Vec<(String, Inference)>> {
        let settings = *cal.inference();
        if !settings.enabled() {
            return Ok(Vec::new());
        }
        let cap = usize::try_from(settings.sample).unwrap_or(usize::MAX);
        let file = cal.statutory_times();
        let samples = self.read(|c| {
            let mut by_code: BTreeMap<String, Sample> = BTreeMap::new();
            let sql = SAMPLE_SQL.replace(
                "{only}",
                if only.is_some() {
                    "AND procedure_code = ?1"
                } else {
                    ""
                },
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = match only {
                Some(code) => stmt.query([code])?,
                None => stmt.query([])?,
            };
            while let Some(r) = rows.next()? {
                let ValueRef::Text(code) = r.get_ref(0)? else {
                    continue;
                };
                let Ok(code) = std::str::from_utf8(code) else {
                    continue;
                };
                if file.contains(code) {
                    continue;
                }
                let sample = match by_code.get_mut(code) {
                    Some(s) => s,
                    None => by_code.entry(code.to_string()).or_default(),
                };
                let time = |i: usize| -> rusqlite::Result<Option<LocalTime>> {
                    Ok(match r.get_ref(i)? {
                        ValueRef::Text(t) => {
                            std::str::from_utf8(t).ok().and_then(parse_stored_time)
                        }
                        _ => None,
                    })
                };
                match r.get_ref(2)? {
                    ValueRef::Null => sample.without_due += 1,
                    _ if sample.pairs.len() >= cap => {}
                    _ => {
                        if let (Some(received), Some(due)) = (time(1)?, time(2)?) {
                            sample.pairs.push((received, due));
                        }
                    }
                }
            }
            Ok(by_code)
        })?;
        Ok(samples
            .into_iter()
            .filter(|(_, s)| s.without_due > 0)
            .map(|(code, s)| {
                let inference = cal.infer_statutory_time(&s.pairs);
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
