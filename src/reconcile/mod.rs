//! Reconciliation: the provincial and national views of one dossier → findings.
//!
//! Pure: no clock, no network, no database. Each finding carries a kind from the stable
//! vocabulary of docs/domain.md §7, both sides' values, a severity and the score impact.
//!
//! One fault, one kind: the checks are ordered so that a single sync fault yields a single
//! finding (a status collapsed into 9 is `collapsed_status`, not also a finish-date mismatch;
//! a timeliness difference is only reported when no other finding on the dossier explains it).

mod failing;
mod kind;
mod listed;
mod severity;

pub use failing::{check_failing, lookup_failing, FailingLookup, FailingVerdict};
pub use kind::Kind;
pub use listed::{check_listed, missing_on_provincial, ListedVerdict};
pub use severity::{DateGap, Severity};

use std::collections::HashMap;

use serde::Serialize;

use crate::calendar::{Calendar, CalendarError, StatutoryTime};
use crate::carries::{Carries, DateField};
use crate::model::{
    fmt_time, is_well_formed_national_code, LocalTime, NationalDossier, ProvincialDossier,
    Reported, Status, YearMonth,
};
use crate::scoring::{self, Tally};
use crate::timeliness::Verdict;

/// One discrepancy seen now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The provincial dossier's stable id (the source's local id); `nat:<code>` for
    /// `missing_on_provincial`, which has none.
    pub dossier_id: String,
    /// The dossier code staff know it by (national code, else local code).
    pub dossier_code: String,
    /// What is wrong.
    pub kind: Kind,
    /// How urgent ([`Severity`]; docs/discrepancies.md): by kind and what it found, `Critical`
    /// when correcting the portal gains points.
    pub severity: Severity,
    /// Points of the 20-point Tiến độ score the province gains if the portal's view of this
    /// dossier were corrected (0 when timeliness does not flip).
    pub score_impact: f64,
    /// The month (YYYY-MM) the impact counts in.
    pub period: Option<String>,
    /// False when timeliness could not be judged: the stored impact and period are kept.
    pub impact_known: bool,
    /// Both sides' verdicts in `period` and the rule they were judged under.
    pub timeliness: Option<Timeliness>,
    /// The dossier's agency code as the province records it (for `missing_on_provincial`:
    /// the portal's handling unit, else the listed unit).
    pub agency_code: Option<String>,
    /// The dossier's agency name, from the same side as `agency_code`.
    pub agency_name: Option<String>,
    /// The province's value that disagrees, as shown to staff: a status with its label, a
    /// time, a code, `(trống)` for none, `không có` when the province has no such dossier.
    pub provincial: String,
    /// The portal's value, shown the same way (`không tìm thấy` when a look-up found no such
    /// dossier); empty for the provincial-only kinds.
    pub national: String,
}

/// A dossier's timeliness on each side, under the national rule (docs/domain.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Timeliness {
    /// The verdict on the province's view.
    pub provincial: Verdict,
    /// `None`: the portal does not have the dossier.
    pub national: Option<Verdict>,
    /// `timeliness::RULE_ND61` or `RULE_ND118`, by the date the dossier was received.
    pub rule_version: &'static str,
}

/// What is stored of the national side of one dossier.
#[derive(Clone, Debug, PartialEq)]
pub enum NationalSide<'a> {
    /// Never successfully looked up: pair checks are not possible.
    NotLookedUp,
    /// A successful reply with no rows, at this time.
    NotFound {
        /// When the look-up was made.
        at: LocalTime,
    },
    /// The portal's view, as of this look-up time.
    Found {
        /// The portal's view of the dossier.
        dossier: &'a NationalDossier,
        /// When the look-up was made.
        at: LocalTime,
    },
}

/// Tolerances (config section `[reconcile]` and `national.sync_grace_minutes`) and what the
/// provincial vendor carries (the profile's `[carries]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// A provincial change is only compared against a look-up made at least this long after it.
    pub sync_grace: chrono::Duration,
    /// Dates differing by no more than this are equal.
    pub date_tolerance: chrono::Duration,
    /// For which statuses the provincial vendor fills each date: an empty date it does not
    /// fill is unknown, and no date kind is opened on it.
    pub carries: Carries,
}

/// Which kinds a comparison decided (found or cleared) for one dossier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluated {
    /// Provincial-only kinds were evaluated.
    pub provincial: bool,
    /// Pair kinds were evaluated (a successful look-up made past the grace period).
    pub pair: bool,
    /// Timeliness was judged (`timeliness_mismatch`, score impacts): false when a date fell
    /// in a year with no holiday file. Then the stored impacts are kept, and an open
    /// `timeliness_mismatch` stays open.
    pub timeliness: bool,
    /// `lookup_failing` was decided: only by the look-up state (`check_failing`), never by a
    /// comparison of the two views.
    pub lookup: bool,
}

impl Evaluated {
    /// What a national list decides for a dossier it lists: pair kinds (its
    /// `missing_on_provincial`), nothing else.
    pub const LISTED: Evaluated = Evaluated {
        provincial: false,
        pair: true,
        timeliness: false,
        lookup: false,
    };

    /// What the look-up state decides for a dossier: its `lookup_failing`, nothing else.
    pub const LOOKUP: Evaluated = Evaluated {
        provincial: false,
        pair: false,
        timeliness: false,
        lookup: true,
    };

    /// Whether this comparison decided `kind`: only a decided kind may be opened or resolved.
    pub fn covers(self, kind: Kind) -> bool {
        if kind == Kind::LookupFailing {
            self.lookup
        } else if kind == Kind::TimelinessMismatch {
            self.pair && self.timeliness
        } else if kind.is_provincial_only() {
            self.provincial
        } else {
            self.pair
        }
    }
}

fn show_status(s: Option<Status>, raw: &str) -> String {
    match s {
        Some(s) => s.to_string(),
        None if raw.is_empty() => "(trống)".to_string(),
        None => format!("chưa ánh xạ: {raw}"),
    }
}

fn show_time(t: Option<LocalTime>) -> String {
    t.map(|t| fmt_time(&t)).unwrap_or_else(|| "(trống)".into())
}

/// What a date kind finds between the province's date (as its vendor carries it) and the
/// portal's: nothing when the province's date is unknown, both are empty, or they are within
/// `tol`.
fn date_gap(
    provincial: Reported<LocalTime>,
    national: Option<LocalTime>,
    tol: chrono::Duration,
) -> Option<DateGap> {
    match (provincial, national) {
        (Reported::Unknown, _) | (Reported::Absent, None) => None,
        (Reported::Absent, Some(_)) => Some(DateGap::ProvincialAbsent),
        (Reported::Value(_), None) => Some(DateGap::NationalAbsent),
        (Reported::Value(a), Some(b)) => ((a - b).abs() > tol).then_some(DateGap::Differs),
    }
}

/// Compares one dossier's two views. Returns the findings and what was evaluated.
pub fn compare(
    p: &ProvincialDossier,
    national: &NationalSide<'_>,
    s: &Settings,
) -> (Vec<Finding>, Evaluated) {
    let mut out = Vec::new();
    let mut push = |kind: Kind, gap: Option<DateGap>, provincial: String, national: String| {
        out.push(Finding {
            dossier_id: p.local_id.clone(),
            dossier_code: p.key.clone(),
            kind,
            severity: severity::of(kind, gap),
            score_impact: 0.0,
            period: None,
            impact_known: true,
            timeliness: None,
            agency_code: p.core.agency_code.clone(),
            agency_name: p.agency_name.clone(),
            provincial,
            national,
        })
    };
    let pc = &p.core;

    // Provincial-only checks.
    if pc.status.is_none() {
        push(
            Kind::UnmappedStatus,
            None,
            show_status(None, &pc.status_raw),
            String::new(),
        );
    }
    let code_ok = is_well_formed_national_code(&pc.code);
    if !code_ok {
        push(
            Kind::BadDossierCode,
            None,
            if pc.code.is_empty() {
                format!("(trống); mã tại tỉnh {}", p.local_code)
            } else {
                pc.code.clone()
            },
            String::new(),
        );
    }
    // Counted in the score on the province's side (status 2, 4–10): dates matter.
    let counted = pc.status.is_some_and(Status::is_received);
    let received = counted && pc.received_at.is_some();
    let national_due = match national {
        NationalSide::Found { dossier, .. } => dossier.core.due_at,
        _ => None,
    };
    if received
        && p.has_due_date
        && s.carries.reported(p, DateField::DueAt) == Reported::Absent
        && national_due.is_none()
    {
        push(
            Kind::MissingDueDate,
            None,
            "(trống)".into(),
            "(trống)".into(),
        );
    }

    // ND 118/2025: a dossier may be rescheduled only once (docs/domain.md §2).
    let reschedulings = p.observed.as_deref().map_or(0, |f| f.reschedulings);
    if reschedulings > 1
        && pc
            .received_at
            .is_some_and(|r| crate::timeliness::rule_version(r) == crate::timeliness::RULE_ND118)
    {
        push(
            Kind::RescheduledMoreThanOnce,
            None,
            format!("gia hạn {reschedulings} lần"),
            String::new(),
        );
    }

    // Pair checks: only against a successful look-up made past the grace period.
    let (nd, at) = match national {
        NationalSide::NotLookedUp => {
            return (
                out,
                Evaluated {
                    provincial: true,
                    pair: false,
                    timeliness: false,
                    lookup: false,
                },
            )
        }
        NationalSide::NotFound { at } => (None, *at),
        NationalSide::Found { dossier, at } => (Some(*dossier), *at),
    };
    let comparable = code_ok && at - p.updated_at >= s.sync_grace;
    let evaluated = Evaluated {
        provincial: true,
        pair: comparable,
        timeliness: comparable,
        lookup: false,
    };
    if !comparable {
        return (out, evaluated);
    }
    let Some(nd) = nd else {
        // Submitted-only (1) and rejected (3) dossiers need not be on the portal.
        if received {
            push(
                Kind::MissingOnNational,
                None,
                show_status(pc.status, &pc.status_raw),
                "không tìm thấy".into(),
            );
        }
        return (out, evaluated);
    };
    let nc = &nd.core;

    let status_finding = match (pc.status, nc.status) {
        (None, _) => None, // already unmapped_status
        (Some(ps), Some(Status::Resolved)) if ps.is_collapsible() => Some(Kind::CollapsedStatus),
        (Some(ps), ns) if ps.is_terminal() && !ns.is_some_and(Status::is_terminal) => {
            Some(Kind::ClosedLocallyOpenNationally)
        }
        (Some(ps), ns) if Some(ps) != ns => Some(Kind::StatusMismatch),
        _ => None,
    };
    if let Some(kind) = status_finding {
        push(
            kind,
            None,
            show_status(pc.status, &pc.status_raw),
            show_status(nc.status, &nc.status_raw),
        );
    }
    // The date kinds compare only what both sides carry, and only for a dossier the score
    // counts on the province's side: a refused (3) or not yet received (1) dossier has no date
    // the on-time rule reads, and an unmapped status says nothing of what its row carries
    // (docs/discrepancies.md). The portal's look-up carries every date.
    if !counted {
        return (out, evaluated);
    }
    let dates = [
        (
            Kind::FinishDateMismatch,
            DateField::FinishedAt,
            nc.finished_at,
        ),
        (Kind::DueDateMismatch, DateField::DueAt, nc.due_at),
        (
            Kind::ReceivedDateMismatch,
            DateField::ReceivedAt,
            nc.received_at,
        ),
    ];
    for (kind, field, national) in dates {
        // Finish times only when both sides agree on the status: otherwise the status finding
        // already explains the difference.
        if kind == Kind::FinishDateMismatch && status_finding.is_some() {
            continue;
        }
        if let Some(gap) = date_gap(s.carries.reported(p, field), national, s.date_tolerance) {
            push(
                kind,
                Some(gap),
                show_time(field.of(pc)),
                show_time(national),
            );
        }
    }
    (out, evaluated)
}

/// Whether both sides count a dossier and disagree on good (early, on time, in process in
/// time) versus bad: what makes [`add_timeliness`] add a `timeliness_mismatch` when no other
/// pair finding explains it.
pub fn timeliness_differs(provincial: Verdict, national: Verdict) -> bool {
    provincial.is_counted() && national.is_counted() && provincial.is_good() != national.is_good()
}

/// Adds the timeliness view to one dossier's findings (docs/domain.md §2–§3): the score impact and
/// its month go on the first pair finding (so a dossier's impact is counted once), which
/// becomes critical when correcting the portal would gain points; and when the verdicts
/// differ with no other finding to explain it, a `timeliness_mismatch` is added.
pub fn add_timeliness(
    findings: &mut Vec<Finding>,
    p: &ProvincialDossier,
    evaluated: Evaluated,
    provincial: Verdict,
    national: Option<Verdict>,
    month: YearMonth,
    impact: f64,
) {
    if !evaluated.pair {
        return;
    }
    if let Some(f) = findings.iter_mut().find(|f| !f.kind.is_provincial_only()) {
        f.score_impact = impact;
        f.period = Some(month.iso());
        f.severity = severity::with_impact(f.severity, impact);
        return;
    }
    let Some(national) = national else {
        return;
    };
    if timeliness_differs(provincial, national) {
        findings.push(Finding {
            dossier_id: p.local_id.clone(),
            dossier_code: p.key.clone(),
            kind: Kind::TimelinessMismatch,
            severity: severity::with_impact(severity::of(Kind::TimelinessMismatch, None), impact),
            score_impact: impact,
            period: Some(month.iso()),
            impact_known: true,
            timeliness: None,
            agency_code: p.core.agency_code.clone(),
            agency_name: p.agency_name.clone(),
            provincial: provincial.label_vi().to_string(),
            national: national.label_vi().to_string(),
        });
    }
}

/// What [`assess`] needs besides the dossier: tolerances, the calendar, "now" and the
/// provincial month tallies (the denominators of score impacts).
pub struct Context<'a> {
    /// Grace period and date tolerance.
    pub settings: &'a Settings,
    /// Working days and office hours, for the verdicts.
    pub cal: &'a Calendar,
    /// The time of the comparison (the cycle's clock): the period's end while a month runs.
    pub now: LocalTime,
    /// The provincial month tallies of the last full pass, by month.
    pub tallies: &'a HashMap<YearMonth, Tally>,
}

/// One dossier's full assessment.
#[derive(Debug)]
pub struct Assessment {
    /// The discrepancies seen now, with their impacts.
    pub findings: Vec<Finding>,
    /// Which kinds were decided: an open discrepancy of a decided kind that is not among
    /// `findings` is resolved.
    pub evaluated: Evaluated,
    /// Timeliness could not be judged (a year with no holiday file): impacts left at 0.
    pub calendar_error: Option<CalendarError>,
}

/// The first half of [`assess`], for one dossier: its findings, and — when the pair was
/// compared — both verdicts in the month its impact counts in. Needs no month tallies, so a
/// streaming caller can run it as the rows go by and [`finish`] once the tallies are complete.
#[derive(Debug)]
pub struct Prepared {
    /// The findings of [`compare`], impacts not yet priced.
    pub findings: Vec<Finding>,
    /// Which kinds were decided; `timeliness` is false when a verdict failed.
    pub evaluated: Evaluated,
    /// Provincial and national verdicts in `month` (national `None`: not on the portal).
    pub verdicts: Option<(Verdict, Option<Verdict>)>,
    /// The rule the verdicts were judged under.
    pub rule_version: &'static str,
    /// The month the impact counts in ([`scoring::discrepancy_month`]); the month of `now`
    /// when the pair was not compared.
    pub month: YearMonth,
    /// Why the verdicts could not be judged (a year with no holiday file), if so.
    pub calendar_error: Option<CalendarError>,
    /// The verdicts differ, but one of them flips within the resolution of the observed
    /// status history ([`scoring::is_uncertain`]): no `timeliness_mismatch` is made of it.
    pub uncertain: bool,
    /// The statutory time inferred from the province's dossiers that the provincial and the
    /// national verdict were judged with, if so (the dossier has no due date and its
    /// procedure is not in the file): a `timeliness_mismatch` says so.
    pub inferred: (Option<StatutoryTime>, Option<StatutoryTime>),
}

impl Prepared {
    /// Whether [`finish`] can produce a finding (a discrepancy already stored for the dossier
    /// can also lead to an action: the caller knows that).
    pub fn may_find(&self) -> bool {
        !self.findings.is_empty()
            || matches!(self.verdicts, Some((pv, Some(nv))) if timeliness_differs(pv, nv))
    }
}

/// [`compare`], then the verdicts of both sides for the month the impact counts in
/// ([`scoring::discrepancy_month`]).
pub fn prepare(
    p: &ProvincialDossier,
    national: &NationalSide<'_>,
    settings: &Settings,
    cal: &Calendar,
    now: LocalTime,
) -> Prepared {
    let (findings, mut evaluated) = compare(p, national, settings);
    let mut month = YearMonth::of(&now);
    let mut verdicts = None;
    let mut rule_version = crate::timeliness::rule_version(p.core.received_at.unwrap_or(now));
    let mut calendar_error = None;
    let mut uncertain = false;
    let mut inferred = (None, None);
    if evaluated.pair {
        let national_core = match national {
            NationalSide::Found { dossier, .. } => Some(&dossier.core),
            _ => None,
        };
        month = scoring::discrepancy_month(p, national_core, now, cal);
        let end = scoring::period_end(month, now);
        let judged = scoring::judge_provincial(p, end, cal).and_then(|pj| {
            rule_version = pj.rule_version;
            inferred.0 = pj.statutory.filter(StatutoryTime::is_inferred);
            let nj = match national_core {
                Some(n) => {
                    let nj = scoring::judge_national(n, p, end, cal)?;
                    inferred.1 = nj.statutory.filter(StatutoryTime::is_inferred);
                    Some(nj.verdict)
                }
                None => None,
            };
            if let Some(n) = national_core.filter(|_| p.observed.is_some()) {
                if nj.is_some_and(|nv| timeliness_differs(pj.verdict, nv)) {
                    uncertain =
                        scoring::is_uncertain(|b| scoring::judge_provincial_at(p, end, cal, b))?
                            || scoring::is_uncertain(|b| {
                                scoring::judge_national_at(n, p, end, cal, b)
                            })?;
                }
            }
            Ok((pj.verdict, nj))
        });
        match judged {
            Ok(v) => verdicts = Some(v),
            Err(e) => {
                evaluated.timeliness = false;
                calendar_error = Some(e);
            }
        }
    }
    Prepared {
        findings,
        evaluated,
        verdicts,
        rule_version,
        month,
        calendar_error,
        uncertain,
        inferred,
    }
}

/// What a verdict's text adds when it was judged with an inferred statutory time: the time,
/// not the count of dossiers behind it (that changes with every new dossier; the finding
/// should not).
pub fn inferred_note(t: &StatutoryTime) -> String {
    format!(
        " (hạn suy ra từ hồ sơ của tỉnh: {} {})",
        t.limit,
        t.unit.label_vi()
    )
}

/// The second half of [`assess`]: the score impact (against the month's provincial tally)
/// and `timeliness_mismatch`. When timeliness could not be judged, the findings say so
/// (`impact_known` false) and stored impacts are kept.
pub fn finish(
    pre: Prepared,
    p: &ProvincialDossier,
    tallies: &HashMap<YearMonth, Tally>,
) -> Assessment {
    let mut findings = pre.findings;
    match pre.verdicts {
        Some((pv, nv)) => {
            let tally = tallies.get(&pre.month).copied().unwrap_or_default();
            let impact = scoring::impact(pv, nv, &tally);
            // An uncertain difference is no timeliness finding (nor a reason to keep one).
            let nv_compared = nv.filter(|_| !pre.uncertain);
            add_timeliness(
                &mut findings,
                p,
                pre.evaluated,
                pv,
                nv_compared,
                pre.month,
                impact,
            );
            // A verdict judged with an inferred statutory time says so.
            for f in findings
                .iter_mut()
                .filter(|f| f.kind == Kind::TimelinessMismatch)
            {
                if let Some(t) = &pre.inferred.0 {
                    f.provincial.push_str(&inferred_note(t));
                }
                if let Some(t) = &pre.inferred.1 {
                    f.national.push_str(&inferred_note(t));
                }
            }
            let t = Timeliness {
                provincial: pv,
                national: nv,
                rule_version: pre.rule_version,
            };
            for f in findings.iter_mut().filter(|f| !f.kind.is_provincial_only()) {
                f.timeliness = Some(t);
            }
        }
        None if pre.calendar_error.is_some() => {
            for f in findings.iter_mut() {
                f.impact_known = false;
            }
        }
        None => {}
    }
    Assessment {
        findings,
        evaluated: pre.evaluated,
        calendar_error: pre.calendar_error,
    }
}

/// The whole of reconciliation for one dossier: [`prepare`] then [`finish`].
pub fn assess(p: &ProvincialDossier, national: &NationalSide<'_>, ctx: &Context<'_>) -> Assessment {
    finish(
        prepare(p, national, ctx.settings, ctx.cal, ctx.now),
        p,
        ctx.tallies,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{self, Observation};
    use crate::model::{DossierCore, NationalDossier, Status};
    use std::sync::Arc;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn settings() -> Settings {
        Settings {
            sync_grace: chrono::Duration::minutes(60),
            date_tolerance: chrono::Duration::minutes(5),
            carries: Default::default(),
        }
    }

    /// A dossier in process whose due date the history saw at each of `dues` in turn.
    fn rescheduled(received: &str, dues: &[&str]) -> ProvincialDossier {
        let obs: Vec<Observation> = dues
            .iter()
            .enumerate()
            .map(|(i, d)| Observation {
                observed_at: t(received) + chrono::Duration::hours(i as i64 + 1),
                previous_observation: None,
                status: Some(Status::Processing),
                changed_at: None,
                due_at: Some(t(d)),
            })
            .collect();
        ProvincialDossier {
            local_id: "d1".into(),
            key: "000.00.10.H18-250701-0001".into(),
            core: DossierCore {
                code: "000.00.10.H18-250701-0001".into(),
                status: Some(Status::Processing),
                received_at: Some(t(received)),
                due_at: dues.last().map(|d| t(d)),
                ..Default::default()
            },
            has_due_date: true,
            updated_at: t(received),
            observed: Some(Arc::new(facts::derive(&obs))),
            ..Default::default()
        }
    }

    fn kinds(p: &ProvincialDossier) -> Vec<Kind> {
        let (findings, _) = compare(p, &NationalSide::NotLookedUp, &settings());
        findings.into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_second_rescheduling_is_a_finding_from_2025_07_01() {
        let twice = ["2025-07-08 10:00", "2025-07-10 10:00", "2025-07-14 10:00"];
        assert_eq!(
            kinds(&rescheduled("2025-07-01 08:00", &twice)),
            vec![Kind::RescheduledMoreThanOnce]
        );
        let once = ["2025-07-08 10:00", "2025-07-10 10:00"];
        assert!(kinds(&rescheduled("2025-07-01 08:00", &once)).is_empty());
        // Received before ND 118/2025 took effect: no such limit.
        let before = ["2025-06-30 10:00", "2025-07-02 10:00", "2025-07-04 10:00"];
        assert!(kinds(&rescheduled("2025-06-27 08:00", &before)).is_empty());
    }

    /// Stopped in the province, first seen two minutes after the due time with the pull
    /// before it three minutes before: late by the estimate, on time read favourably. The
    /// portal has it stopped with a finish time before due (on time). The province's vendor
    /// writes no finish time for 8 (`[carries]`), so no date kind explains the difference:
    /// only the uncertainty keeps it from being a `timeliness_mismatch`.
    #[test]
    fn an_uncertain_verdict_is_never_a_timeliness_mismatch() {
        let obs = [
            Observation {
                observed_at: t("2024-03-04 08:05"),
                previous_observation: None,
                status: Some(Status::Processing),
                changed_at: Some(t("2024-03-04 08:00")),
                due_at: Some(t("2024-03-08 10:00")),
            },
            Observation {
                observed_at: t("2024-03-08 10:02"),
                previous_observation: Some(t("2024-03-08 09:57")),
                status: Some(Status::Stopped),
                changed_at: Some(t("2024-03-08 10:02")),
                due_at: Some(t("2024-03-08 10:00")),
            },
        ];
        let mut p = ProvincialDossier {
            local_id: "d2".into(),
            key: "000.00.10.H18-240304-0002".into(),
            core: DossierCore {
                code: "000.00.10.H18-240304-0002".into(),
                status: Some(Status::Stopped),
                received_at: Some(t("2024-03-04 08:00")),
                due_at: Some(t("2024-03-08 10:00")),
                ..Default::default()
            },
            has_due_date: true,
            updated_at: t("2024-03-08 10:02"),
            observed: Some(Arc::new(facts::derive(&obs))),
            ..Default::default()
        };
        let n = NationalDossier {
            core: DossierCore {
                finished_at: Some(t("2024-03-08 09:00")),
                ..p.core.clone()
            },
            ..Default::default()
        };
        let side = NationalSide::Found {
            dossier: &n,
            at: t("2024-03-20 08:00"),
        };
        let cal = Calendar::builtin();
        let now = t("2024-03-31 12:00");
        let tallies = HashMap::new();
        let mut s = settings();
        s.carries.finished_at = crate::carries::Carried::statuses(&[9, 10]).unwrap();
        let run = |p: &ProvincialDossier| {
            let pre = prepare(p, &side, &s, &cal, now);
            let uncertain = pre.uncertain;
            let kinds: Vec<Kind> = finish(pre, p, &tallies)
                .findings
                .into_iter()
                .map(|f| f.kind)
                .collect();
            (uncertain, kinds)
        };
        let (uncertain, found) = run(&p);
        assert!(uncertain);
        assert!(found.is_empty(), "{found:?}");
        // Observed an hour after the due time instead: certainly late, the difference stands.
        let mut late = obs;
        late[1].observed_at = t("2024-03-08 11:05");
        late[1].previous_observation = Some(t("2024-03-08 11:00"));
        late[1].changed_at = Some(t("2024-03-08 11:05"));
        p.updated_at = t("2024-03-08 11:05");
        p.observed = Some(Arc::new(facts::derive(&late)));
        let (uncertain, found) = run(&p);
        assert!(!uncertain);
        assert_eq!(found, vec![Kind::TimelinessMismatch]);
    }
}
