//! One dossier as staff review it (`tthc-sync dossier CODE`): both views side by side, both
//! histories, each side's verdict under the national on-time rule ([`crate::timeliness`]) and
//! the dossier's discrepancies.
//!
//! A data type, not text: the CLI formats it (a table, or JSON as it serialises), and a web
//! page can serve it as it is. [`DossierView::load`] reads the dossier with per-dossier
//! queries; [`DossierView::new`] is the pure part that judges both sides.

use serde::{Serialize, Serializer};

use crate::calendar::Calendar;
use crate::model::{
    fmt_time, is_well_formed_national_code, LocalTime, NationalDossier, ProvincialDossier,
    YearMonth,
};
use crate::scoring;
use crate::store::{DiscrepancyRow, HistoryRow, LookupState, Store, StoreError, StoredNational};
use crate::timeliness::{Judgement, Verdict};

/// One dossier, both sides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DossierView {
    /// The province's view.
    pub provincial: ProvincialDossier,
    /// The portal's view, when the dossier was looked up (found or not); `None` when it never
    /// was, or its code is not a national code the portal could match.
    pub national: Option<NationalView>,
    /// Each side's verdict in the month the dossier's score impact counts in.
    pub timeliness: TimelinessView,
    /// Every change seen in the province's view, oldest first.
    pub provincial_history: Vec<HistoryRow>,
    /// Every look-up that changed the portal's view, oldest first (empty when never looked up).
    pub national_history: Vec<HistoryRow>,
    /// Every discrepancy of the dossier, whatever its state, largest score impact first.
    pub discrepancies: Vec<DiscrepancyRow>,
    /// Its national look-up state: the last try, and whether its look-ups keep failing (how
    /// many in a row, since when, the last error class); `None` when never looked up.
    pub lookup: Option<LookupState>,
}

/// The portal's view of a dossier as last looked up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NationalView {
    /// False: the look-up succeeded and the portal has no such dossier.
    pub found: bool,
    /// When the last successful look-up was made.
    #[serde(serialize_with = "stored_time")]
    pub looked_up_at: LocalTime,
    /// What the portal showed (empty when not found).
    pub dossier: NationalDossier,
}

impl From<StoredNational> for NationalView {
    fn from(n: StoredNational) -> NationalView {
        NationalView {
            found: n.found,
            looked_up_at: n.looked_up_at,
            dossier: n.dossier,
        }
    }
}

/// Both sides judged in one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelinessView {
    /// The month judged: the latest month either side counts the dossier in
    /// ([`scoring::discrepancy_month`]); its end, or now while it runs, is the period's end.
    #[serde(serialize_with = "iso_month")]
    pub period: YearMonth,
    /// The province's view judged.
    pub provincial: SideVerdict,
    /// `None` when the portal has no view of the dossier (never looked up, or not found).
    pub national: Option<SideVerdict>,
    /// What the province's status history says (status intervals as first observed, pauses,
    /// supplement requests, reschedulings, resolution; [`crate::facts`]), when the dossier's
    /// history can tell more than its row; `None` otherwise.
    pub provincial_facts: Option<crate::facts::DossierFacts>,
}

/// One side's verdict, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SideVerdict {
    /// The rule gave a verdict.
    Judged {
        /// The category in the period.
        verdict: Verdict,
        /// Working days past due; 0 when not late; `None` with no due time.
        working_days_late: Option<f64>,
        /// `nd61-2018` or `nd118-2025` ([`crate::timeliness::rule_version`]).
        rule_version: String,
        /// The statutory time the due time was computed from, with its source (the file, the
        /// file plus a remote-commune extension, or inferred from the province's dossiers),
        /// when the dossier has no due date; absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        statutory: Option<crate::calendar::StatutoryTime>,
    },
    /// The calendar could not judge it (e.g. a year with no holiday file).
    Unjudged {
        /// Why, naming the holiday file to add.
        error: String,
    },
}

impl<E: std::fmt::Display> From<Result<Judgement, E>> for SideVerdict {
    fn from(j: Result<Judgement, E>) -> SideVerdict {
        match j {
            Ok(j) => SideVerdict::Judged {
                verdict: j.verdict,
                working_days_late: j.working_days_late,
                rule_version: j.rule_version.to_string(),
                statutory: j.statutory,
            },
            Err(e) => SideVerdict::Unjudged {
                error: e.to_string(),
            },
        }
    }
}

impl DossierView {
    /// The dossier known by `code` (national code, local code or provincial id) as seen at
    /// `now`; `None` when the province's view has no such dossier.
    pub fn load(
        store: &Store,
        code: &str,
        now: LocalTime,
        cal: &Calendar,
    ) -> Result<Option<DossierView>, StoreError> {
        let Some(mut provincial) = store.provincial_by_code(code)? else {
            return Ok(None);
        };
        store.attach_facts(&mut provincial)?;
        let national = if is_well_formed_national_code(&provincial.core.code) {
            store.national_by_code(&provincial.core.code)?
        } else {
            None
        };
        // A dossier with no due date whose procedure the file does not list is judged with
        // the time inferred from the province's dossiers of that procedure (one scan).
        let inferred_cal;
        let cal = match provincial.core.procedure_code.as_deref() {
            Some(procedure)
                if (provincial.core.due_at.is_none()
                    || national
                        .as_ref()
                        .is_some_and(|n| n.found && n.dossier.core.due_at.is_none()))
                    && !cal.statutory_times().contains(procedure) =>
            {
                inferred_cal = store.with_inferred_statutory_times(cal, Some(procedure))?.0;
                &inferred_cal
            }
            _ => cal,
        };
        let provincial_history = store.provincial_history(&provincial.local_id)?;
        let national_history = if national.is_some() {
            store.national_history(&provincial.core.code)?
        } else {
            Vec::new()
        };
        let discrepancies = store.discrepancies_of_dossier(&provincial.local_id)?;
        let lookup = store.lookup_state(&provincial.local_id)?;
        let mut view = DossierView::new(
            provincial,
            national.map(NationalView::from),
            provincial_history,
            national_history,
            discrepancies,
            now,
            cal,
        );
        view.lookup = lookup;
        Ok(Some(view))
    }

    /// The view of what was read, both sides judged at `now` (pure); its look-up state is
    /// left `None` ([`DossierView::load`] reads it).
    pub fn new(
        provincial: ProvincialDossier,
        national: Option<NationalView>,
        provincial_history: Vec<HistoryRow>,
        national_history: Vec<HistoryRow>,
        discrepancies: Vec<DiscrepancyRow>,
        now: LocalTime,
        cal: &Calendar,
    ) -> DossierView {
        let found = national
            .as_ref()
            .filter(|n| n.found)
            .map(|n| &n.dossier.core);
        let period = scoring::discrepancy_month(&provincial, found, now, cal);
        let end = scoring::period_end(period, now);
        let timeliness = TimelinessView {
            period,
            provincial: scoring::judge_provincial(&provincial, end, cal).into(),
            national: found.map(|n| scoring::judge_national(n, &provincial, end, cal).into()),
            provincial_facts: provincial.observed.as_deref().cloned(),
        };
        DossierView {
            provincial,
            national,
            timeliness,
            provincial_history,
            national_history,
            discrepancies,
            lookup: None,
        }
    }

    /// The portal's view when it has the dossier.
    pub fn national_found(&self) -> Option<&NationalDossier> {
        self.national
            .as_ref()
            .filter(|n| n.found)
            .map(|n| &n.dossier)
    }
}

/// A time as the database stores it (`2026-11-20 10:00:00`).
fn stored_time<S: Serializer>(t: &LocalTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_time(t))
}

/// A month as `2026-11`.
fn iso_month<S: Serializer>(m: &YearMonth, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.iso())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Action;
    use crate::model::{DossierCore, LookupOutcome, Status};
    use crate::reconcile::{Finding, Kind, Severity};
    use crate::store::LookupResult;

    fn at(s: &str) -> LocalTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// A dossier the province returned early; `code` is its national code.
    fn returned_early(id: &str, code: &str) -> ProvincialDossier {
        ProvincialDossier {
            key: code.into(),
            core: DossierCore {
                code: code.into(),
                status: Some(Status::Returned),
                status_raw: "10".into(),
                received_at: Some(at("2026-11-02 08:00:00")),
                due_at: Some(at("2026-11-10 17:00:00")),
                finished_at: Some(at("2026-11-05 10:00:00")),
                returned_at: Some(at("2026-11-05 10:00:00")),
                ..Default::default()
            },
            local_id: id.into(),
            local_code: format!("HS-{id}"),
            has_due_date: true,
            updated_at: at("2026-11-05 10:00:00"),
            row_hash: format!("hash-{id}"),
            ..Default::default()
        }
    }

    fn finding(p: &ProvincialDossier, kind: Kind) -> Finding {
        Finding {
            dossier_id: p.local_id.clone(),
            dossier_code: p.key.clone(),
            kind,
            severity: Severity::High,
            score_impact: 0.1,
            period: Some("2026-11".into()),
            impact_known: true,
            timeliness: None,
            agency_code: None,
            agency_name: None,
            provincial: "10 (Đã trả kết quả)".into(),
            national: "4 (Đang xử lý)".into(),
        }
    }

    #[test]
    fn both_sides_histories_verdicts_and_only_this_dossiers_discrepancies() {
        let now = at("2026-11-20 10:00:00");
        let cal = Calendar::builtin();
        let mut store = Store::open_in_memory().unwrap();
        let p1 = returned_early("d1", "000.00.10.H18-261102-0001");
        let p2 = returned_early("d2", "000.00.10.H18-261102-0002");
        let rows = [(p1.clone(), "{}".into()), (p2.clone(), "{}".into())];
        store
            .store_provincial_page(1, "p", now, &rows, None)
            .unwrap();
        // The portal still has d1 in process: overdue since the 10th.
        let mut stale = p1.core.clone();
        stale.status = Some(Status::Processing);
        stale.status_raw = "4".into();
        stale.finished_at = None;
        stale.returned_at = None;
        let look_up = LookupResult {
            dossier_id: "d1".into(),
            code: p1.key.clone(),
            at: now,
            result: Ok((
                LookupOutcome::Found(NationalDossier {
                    core: stale,
                    ..Default::default()
                }),
                "[]".into(),
            )),
        };
        store.store_lookups(1, &[look_up]).unwrap();
        store
            .apply_actions(
                1,
                now,
                &[
                    Action::Open(finding(&p1, Kind::ClosedLocallyOpenNationally)),
                    Action::Open(finding(&p2, Kind::MissingOnNational)),
                ],
            )
            .unwrap();

        // By national code, local code or provincial id: the same dossier.
        for code in [p1.key.as_str(), "HS-d1", "d1"] {
            let v = DossierView::load(&store, code, now, &cal).unwrap().unwrap();
            assert_eq!(v.provincial, p1, "{code}");
        }
        let v = DossierView::load(&store, &p1.key, now, &cal)
            .unwrap()
            .unwrap();
        let national = v.national_found().expect("looked up and found");
        assert_eq!(national.core.status, Some(Status::Processing));
        assert_eq!(v.provincial_history.len(), 1);
        assert_eq!(v.national_history.len(), 1);
        assert_eq!(v.national_history[0].status_code, Some(4));
        assert_eq!(
            v.discrepancies
                .iter()
                .map(|d| (d.dossier_id.as_str(), d.kind.as_str()))
                .collect::<Vec<_>>(),
            [("d1", "closed_locally_open_nationally")]
        );
        assert_eq!(v.timeliness.period, YearMonth::of(&now));
        let verdict = |s: &SideVerdict| match s {
            SideVerdict::Judged { verdict, .. } => *verdict,
            SideVerdict::Unjudged { error } => panic!("{error}"),
        };
        assert_eq!(verdict(&v.timeliness.provincial), Verdict::Early);
        let n = v.timeliness.national.as_ref().expect("national judged");
        assert_eq!(verdict(n), Verdict::InProcessOverdue);
        let SideVerdict::Judged {
            working_days_late, ..
        } = n
        else {
            unreachable!()
        };
        assert!(working_days_late.is_some_and(|d| d > 0.0), "{n:?}");

        // The JSON tools read: the month and the look-up time as text.
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["timeliness"]["period"], "2026-11");
        assert_eq!(json["timeliness"]["provincial"]["verdict"], "early");
        assert_eq!(
            json["timeliness"]["national"]["verdict"],
            "in_process_overdue"
        );
        assert_eq!(json["national"]["looked_up_at"], "2026-11-20 10:00:00");
        assert_eq!(json["national"]["found"], true);
        assert_eq!(json["discrepancies"].as_array().unwrap().len(), 1);

        // Never looked up: no national side, no national verdict, no discrepancy.
        let v = DossierView::load(&store, "d2", now, &cal).unwrap().unwrap();
        assert_eq!(v.national, None);
        assert!(v.national_history.is_empty());
        assert_eq!(v.timeliness.national, None);
        assert_eq!(v.discrepancies.len(), 1);
        assert_eq!(
            serde_json::to_value(&v).unwrap()["national"],
            serde_json::Value::Null
        );

        assert_eq!(DossierView::load(&store, "nope", now, &cal).unwrap(), None);
    }

    #[test]
    fn a_look_up_that_found_nothing_has_no_national_verdict() {
        let now = at("2026-11-20 10:00:00");
        let p = returned_early("d1", "000.00.10.H18-261102-0001");
        let national = NationalView {
            found: false,
            looked_up_at: now,
            dossier: NationalDossier::default(),
        };
        let v = DossierView::new(
            p,
            Some(national),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            now,
            &Calendar::builtin(),
        );
        assert!(v.national.as_ref().is_some_and(|n| !n.found));
        assert_eq!(v.national_found(), None);
        assert_eq!(v.timeliness.national, None);
        assert!(matches!(
            v.timeliness.provincial,
            SideVerdict::Judged {
                verdict: Verdict::Early,
                ..
            }
        ));
    }

    #[test]
    fn a_year_without_a_holiday_file_is_reported_not_guessed() {
        let now = at("2031-03-20 10:00:00");
        let mut p = returned_early("d1", "000.00.10.H18-310302-0001");
        p.core.received_at = Some(at("2031-03-02 08:00:00"));
        p.core.due_at = Some(at("2031-03-10 17:00:00"));
        // Late: how late is counted in working days, which needs 2031's holidays.
        p.core.finished_at = Some(at("2031-03-14 10:00:00"));
        p.core.returned_at = p.core.finished_at;
        let v = DossierView::new(
            p,
            None,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            now,
            &Calendar::builtin(),
        );
        match &v.timeliness.provincial {
            SideVerdict::Unjudged { error } => assert!(error.contains("2031"), "{error}"),
            judged => panic!("judged without a 2031 holiday file: {judged:?}"),
        }
        let json = serde_json::to_value(&v).unwrap();
        assert!(json["timeliness"]["provincial"]["error"].is_string());
    }
}
