//! The 766 "Tiến độ giải quyết" score for a month, from either side's view, and the score
//! impact of one dossier (docs/domain.md §2–§3). Pure: the calendar and "now" are parameters.
//!
//! - A dossier **counts in month M** when it was formally received by M's end and had not
//!   closed before M began (received or handled in the period, or carried over in process).
//! - Its verdict in M is [`timeliness::judge`] with the period's end = M's last second.
//! - Score(M) = 20 × (early + on time + in process in time) ÷ counted.
//! - A dossier's **impact** = how the province's score in its month changes if the portal's
//!   view of it were corrected to the province's: ±20/N when it flips between good and bad,
//!   where N is the number of dossiers counted in that month.

use std::collections::HashMap;

use crate::calendar::{Calendar, CalendarError, StatutoryTime};
use crate::facts::{self, Bound};
use crate::model::{DossierCore, LocalTime, Pause, ProvincialDossier, Status, YearMonth};
use crate::timeliness::{self, Judgement, TimelinessInput, Verdict};

/// What the rule reads of a dossier besides its core: the status time, the clock-stopping
/// pauses and the number of supplement requests, with where each comes from (docs/domain.md
/// §2, "Facts from the status history").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SideFacts {
    /// When the current status began.
    pub status_since: Option<LocalTime>,
    /// The pauses to subtract (completed and open).
    pub pauses: Vec<Pause>,
    /// Supplement requests made so far.
    pub supplement_requests: u32,
}

/// The province's facts of `p` read at `bound`. Precedence, fact by fact:
/// - **status time**: the history's (when the current status was first observed; read
///   favourably, a status the first pull ever saw began no earlier than the reception), else
///   the row's `updated_at`;
/// - **pauses**: the history's completed pauses (those the due date does not already credit);
///   the open pause starts at the vendor's request time when the profile maps one (td's
///   `NgayYeuCauBoSung`), else at the history's, else at `paused_since` (the row's
///   `updated_at` or a paused lock state);
/// - **supplement requests**: the larger of the profile's count and the history's, else 1
///   while the status is 5.
pub fn provincial_facts(p: &ProvincialDossier, bound: Bound) -> SideFacts {
    let observed = p
        .observed
        .as_deref()
        .filter(|f| f.current_status() == p.core.status);
    let mut pauses: Vec<Pause> = observed.map_or_else(Vec::new, |f| f.clock_pauses(bound));
    let observed_open = observed.and_then(|f| f.open_pause());
    let vendor_open = p.paused_since.filter(|_| p.supplement_requests.is_some());
    match (vendor_open, observed_open) {
        (Some(start), Some(open)) if !open.due_extended => {
            if let Some(last) = pauses.last_mut().filter(|q| q.end.is_none()) {
                last.start = start;
            }
        }
        (Some(_), Some(_)) => {}
        (Some(start), None) => pauses.push(Pause { start, end: None }),
        (None, Some(_)) => {}
        (None, None) => pauses.extend(p.paused_since.map(|start| Pause { start, end: None })),
    }
    let observed_requests = observed.map_or(0, |f| f.supplement_requests);
    let supplement_requests = match p.supplement_requests {
        Some(n) => n.max(observed_requests),
        None if observed.is_some() => observed_requests,
        None => u32::from(p.core.status == Some(Status::SupplementRequested)),
    };
    // A status first seen by the first pull ever can have begun at any time before it (its
    // window is unbounded below): at the earliest, at reception.
    let since = |w: facts::Window| {
        let at = facts::end_at(w, bound);
        match p.core.received_at {
            Some(r) => at.max(r.min(w.latest)),
            None if at == LocalTime::MIN => w.latest,
            None => at,
        }
    };
    SideFacts {
        status_since: Some(
            observed
                .and_then(|f| f.status_since())
                .map_or(p.updated_at, since),
        ),
        pauses,
        supplement_requests,
    }
}

/// The province's own verdict on a dossier for the period ending at `period_end`.
pub fn judge_provincial(
    p: &ProvincialDossier,
    period_end: LocalTime,
    cal: &Calendar,
) -> Result<Judgement, CalendarError> {
    judge_provincial_at(p, period_end, cal, Bound::Estimate)
}

/// [`judge_provincial`] with the history's times read at `bound`.
pub fn judge_provincial_at(
    p: &ProvincialDossier,
    period_end: LocalTime,
    cal: &Calendar,
    bound: Bound,
) -> Result<Judgement, CalendarError> {
    let f = provincial_facts(p, bound);
    timeliness::judge(
        &TimelinessInput {
            core: &p.core,
            status_since: f.status_since,
            pauses: &f.pauses,
            supplement_requests: f.supplement_requests,
            statutory: statutory_time(&p.core, cal),
        },
        period_end,
        cal,
    )
}

/// The portal's verdict on its view `n` of the dossier `p`. The portal's look-up reply has no
/// status time: the province's status time stands in for it when both sides agree on the
/// status, or when the portal's status is a closing one (the closing push was due then); the
/// province's pauses and request count are used when both sides agree on the status.
pub fn judge_national(
    n: &DossierCore,
    p: &ProvincialDossier,
    period_end: LocalTime,
    cal: &Calendar,
) -> Result<Judgement, CalendarError> {
    judge_national_at(n, p, period_end, cal, Bound::Estimate)
}

/// [`judge_national`] with the province's history read at `bound`.
pub fn judge_national_at(
    n: &DossierCore,
    p: &ProvincialDossier,
    period_end: LocalTime,
    cal: &Calendar,
    bound: Bound,
) -> Result<Judgement, CalendarError> {
    let same_status = n.status.is_some() && n.status == p.core.status;
    let f = provincial_facts(p, bound);
    let pauses = if same_status { f.pauses } else { Vec::new() };
    timeliness::judge(
        &TimelinessInput {
            core: n,
            status_since: (same_status || n.status.is_some_and(Status::is_terminal))
                .then_some(f.status_since)
                .flatten(),
            pauses: &pauses,
            supplement_requests: if same_status {
                f.supplement_requests
            } else {
                u32::from(n.status == Some(Status::SupplementRequested))
            },
            statutory: national_statutory_time(n, p, cal),
        },
        period_end,
        cal,
    )
}

/// The statutory time of a dossier's procedure (docs/domain.md §2), used when it has no due
/// date: the file's (with the remote-commune extension when its receiving agency is a remote
/// one), else the inferred one ([`Calendar::statutory_time`]).
pub fn statutory_time(core: &DossierCore, cal: &Calendar) -> Option<StatutoryTime> {
    core.procedure_code
        .as_deref()
        .and_then(|c| cal.statutory_time(c, core.agency_code.as_deref()))
}

/// The statutory time the portal's view `n` of `p` is judged with: its procedure (else the
/// province's), the receiving agency as the province codes it (the remote-commune list is in
/// the province's codes).
pub fn national_statutory_time(
    n: &DossierCore,
    p: &ProvincialDossier,
    cal: &Calendar,
) -> Option<StatutoryTime> {
    let agency = p.core.agency_code.as_deref();
    [
        n.procedure_code.as_deref(),
        p.core.procedure_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|c| cal.statutory_time(c, agency))
}

/// Whether a verdict of `judge` flips between good and bad within the resolution of the
/// observed history (its favourable and unfavourable readings differ): such a verdict is
/// *uncertain*, and never makes a `timeliness_mismatch`.
pub fn is_uncertain(
    judge: impl Fn(Bound) -> Result<Judgement, CalendarError>,
) -> Result<bool, CalendarError> {
    let fav = judge(Bound::Favourable)?.verdict;
    let unf = judge(Bound::Unfavourable)?.verdict;
    Ok(fav.is_good() != unf.is_good() || fav.is_counted() != unf.is_counted())
}

/// Whether a dossier judged `j` at the end of `m` counts in `m`.
pub fn counts_in(j: &Judgement, received_at: Option<LocalTime>, m: YearMonth) -> bool {
    if !j.verdict.is_counted() {
        return false;
    }
    let Some(received) = received_at else {
        return false;
    };
    if received > m.end() {
        return false;
    }
    // Closed before the month began: handled in an earlier period.
    !(matches!(j.verdict, Verdict::Early | Verdict::OnTime | Verdict::Late)
        && j.end.is_some_and(|e| e < m.start()))
}

/// The last month a dossier counts in on the province's side: the month it closed in, or the
/// month of `now` while it is in process.
pub fn impact_month(p: &ProvincialDossier, now: LocalTime, cal: &Calendar) -> YearMonth {
    let current = YearMonth::of(&now);
    match judge_provincial(p, now, cal) {
        Ok(j) if !j.verdict.is_in_process() => j.end.map(|e| YearMonth::of(&e)).unwrap_or(current),
        _ => current,
    }
}

/// The month a discrepancy's score impact counts in: the latest month either side counts the
/// dossier in. A dossier the province closed in October that the portal still shows open
/// costs points in the current month, not in October.
pub fn discrepancy_month(
    p: &ProvincialDossier,
    national: Option<&DossierCore>,
    now: LocalTime,
    cal: &Calendar,
) -> YearMonth {
    let provincial = impact_month(p, now, cal);
    let current = YearMonth::of(&now);
    let national = national.map(|n| match judge_national(n, p, now, cal) {
        Ok(j) if !j.verdict.is_in_process() => j.end.map(|e| YearMonth::of(&e)).unwrap_or(current),
        Ok(j) if j.verdict == Verdict::NotCounted => provincial,
        _ => current,
    });
    national.map_or(provincial, |n| n.max(provincial))
}

/// Counts of one month, one view: how many dossiers fell in each category. The provincial
/// view's tallies of the last full pass are stored (`month_tally`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Dossiers counted in the month: the denominator of the score (the sum of the five
    /// categories).
    pub counted: u64,
    /// Handled before the due date (trước hạn).
    pub early: u64,
    /// Handled by the due time (đúng hạn).
    pub on_time: u64,
    /// Handled after the due time (quá hạn).
    pub late: u64,
    /// Open at the period's end, not past due (đang xử lý trong hạn).
    pub in_process_in_time: u64,
    /// Open at the period's end, past due (đang xử lý quá hạn).
    pub in_process_overdue: u64,
}

impl Tally {
    /// Counts one dossier's verdict; `NotCounted` and `Unknown` change nothing.
    pub fn add(&mut self, v: Verdict) {
        self.counted += 1;
        match v {
            Verdict::Early => self.early += 1,
            Verdict::OnTime => self.on_time += 1,
            Verdict::Late => self.late += 1,
            Verdict::InProcessInTime => self.in_process_in_time += 1,
            Verdict::InProcessOverdue => self.in_process_overdue += 1,
            Verdict::NotCounted | Verdict::Unknown => self.counted -= 1,
        }
    }
    /// Adds another tally's counts (of the same month and view) to this one.
    pub fn merge(&mut self, o: &Tally) {
        self.counted += o.counted;
        self.early += o.early;
        self.on_time += o.on_time;
        self.late += o.late;
        self.in_process_in_time += o.in_process_in_time;
        self.in_process_overdue += o.in_process_overdue;
    }
    /// The numerator of the score: early + on time + in process in time.
    pub fn good(&self) -> u64 {
        self.early + self.on_time + self.in_process_in_time
    }
    /// 20 × good ÷ counted; `None` when nothing counts.
    pub fn score(&self) -> Option<f64> {
        (self.counted > 0).then(|| 20.0 * self.good() as f64 / self.counted as f64)
    }
}

/// Points the province gains in a month of `counted` dossiers if the portal's verdict
/// (`national`, `None` = the portal does not have the dossier) became the province's.
pub fn impact(provincial: Verdict, national: Option<Verdict>, month: &Tally) -> f64 {
    if !provincial.is_counted() || month.counted == 0 {
        return 0.0;
    }
    let n = month.counted as f64;
    let p_good = f64::from(u8::from(provincial.is_good()));
    match national {
        Some(v) if v.is_counted() => (p_good - f64::from(u8::from(v.is_good()))) * 20.0 / n,
        // Absent (or not counted) on the portal: adding it moves the score towards 20 or 0
        // by the dossier's weight against the month's ratio.
        _ => (p_good - month.good() as f64 / n) * 20.0 / (n + 1.0),
    }
}

/// The period's end of month `m` as seen at `now`: the month's last second, or `now` while the
/// month is still running.
pub fn period_end(m: YearMonth, now: LocalTime) -> LocalTime {
    m.end().min(now)
}

/// Tallies of every month from the provincial view: each dossier counts in every month from
/// the one it was received in to the one it closed in (or now's).
pub fn month_tallies<'a>(
    dossiers: impl IntoIterator<Item = &'a ProvincialDossier>,
    now: LocalTime,
    cal: &Calendar,
) -> HashMap<YearMonth, Tally> {
    let mut out: HashMap<YearMonth, Tally> = HashMap::new();
    for p in dossiers {
        tally_dossier(p, now, cal, &mut out);
    }
    out
}

/// One dossier's share of [`month_tallies`], added to `tallies`: it counts in every month from
/// the one it was received in to its [`impact_month`] (a streaming caller tallies row by row).
pub fn tally_dossier(
    p: &ProvincialDossier,
    now: LocalTime,
    cal: &Calendar,
    tallies: &mut HashMap<YearMonth, Tally>,
) {
    let Some(received) = p.core.received_at else {
        return;
    };
    let last = impact_month(p, now, cal);
    let mut m = YearMonth::of(&received);
    for _ in 0..24 {
        if m > last {
            break;
        }
        if let Ok(j) = judge_provincial(p, period_end(m, now), cal) {
            if counts_in(&j, p.core.received_at, m) {
                tallies.entry(m).or_default().add(j.verdict);
            }
        }
        m = m.next();
    }
}

#[cfg(test)]
mod history_cases {
    //! The rule fed from the status history: each case is a dossier's provincial history (the
    //! current row is its last observation) and the verdict expected.
    use super::*;
    use crate::facts::Observation;
    use std::sync::Arc;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// One observation: (observed at, status, the row's updated_at, due). The previous pull is
    /// five minutes before each observation.
    type Row = (&'static str, u8, &'static str, &'static str);

    struct Case {
        name: &'static str,
        history: &'static [Row],
        finished: Option<&'static str>,
        /// td's `NgayYeuCauBoSung` (profile-mapped request time), if the vendor gives it.
        vendor_request: Option<&'static str>,
        period_end: &'static str,
        expected: Verdict,
        uncertain: bool,
    }

    const D: &str = "2024-03-08 10:00";

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // Pause Tue 5/3 08:00 → Tue 12/3 08:00 (5 working days) subtracted once completed.
        Case { name: "completed supplement subtracted: on time", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-05 08:05", 5, "2024-03-05 08:00", D),
            ("2024-03-12 08:05", 4, "2024-03-12 08:00", D),
            ("2024-03-15 10:05", 9, "2024-03-15 10:00", D),
        ], finished: Some("2024-03-15 10:00"), vendor_request: None, period_end: "2024-03-31 23:59", expected: Verdict::OnTime, uncertain: false },
        Case { name: "completed supplement, still processing: in time", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-05 08:05", 5, "2024-03-05 08:00", D),
            ("2024-03-12 08:05", 4, "2024-03-12 08:00", D),
        ], finished: None, vendor_request: None, period_end: "2024-03-15 09:00", expected: Verdict::InProcessInTime, uncertain: false },
        Case { name: "vendor moved the due date at the end of the pause: not subtracted twice", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-05 08:05", 5, "2024-03-05 08:00", D),
            ("2024-03-12 08:05", 4, "2024-03-12 08:00", "2024-03-15 10:00"),
            ("2024-03-18 10:05", 9, "2024-03-18 10:00", "2024-03-15 10:00"),
        ], finished: Some("2024-03-18 10:00"), vendor_request: None, period_end: "2024-03-31 23:59", expected: Verdict::Late, uncertain: false },
        Case { name: "two supplement requests: late though before due", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-04 10:05", 5, "2024-03-04 10:00", D),
            ("2024-03-04 14:05", 4, "2024-03-04 14:00", D),
            ("2024-03-05 08:05", 5, "2024-03-05 08:00", D),
            ("2024-03-05 10:05", 4, "2024-03-05 10:00", D),
            ("2024-03-06 10:05", 9, "2024-03-06 10:00", D),
        ], finished: Some("2024-03-06 10:00"), vendor_request: None, period_end: "2024-03-31 23:59", expected: Verdict::Late, uncertain: false },
        Case { name: "withdrawn before due, edited after: ends when withdrawn", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-07 09:05", 7, "2024-03-07 09:00", D),
            ("2024-03-20 14:05", 7, "2024-03-20 14:00", D),
        ], finished: None, vendor_request: None, period_end: "2024-03-31 23:59", expected: Verdict::Early, uncertain: false },
        Case { name: "stopped within one pull interval of the due time: uncertain", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-08 10:02", 8, "2024-03-08 10:02", D),
        ], finished: None, vendor_request: None, period_end: "2024-03-31 23:59", expected: Verdict::Late, uncertain: true },
        Case { name: "supplement open: the vendor's request time wins", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-08 11:05", 5, "2024-03-08 11:00", D),
        ], finished: None, vendor_request: Some("2024-03-07 16:00"), period_end: "2024-03-31 23:59", expected: Verdict::Early, uncertain: false },
        Case { name: "supplement open, no vendor time: the history's", history: &[
            ("2024-03-04 08:05", 4, "2024-03-04 08:00", D),
            ("2024-03-08 11:05", 5, "2024-03-08 11:00", D),
            ("2024-03-09 11:05", 5, "2024-03-09 11:00", D),
        ], finished: None, vendor_request: None, period_end: "2024-03-31 23:59", expected: Verdict::Late, uncertain: false },
        // Received before the switch (nd61), a completed supplement across 1/7/2025.
        Case { name: "spanning 2025-07-01: pause subtracted under both versions", history: &[
            ("2025-06-27 08:05", 4, "2025-06-27 08:00", "2025-07-03 08:00"),
            ("2025-06-30 08:05", 5, "2025-06-30 08:00", "2025-07-03 08:00"),
            ("2025-07-02 08:05", 4, "2025-07-02 08:00", "2025-07-03 08:00"),
            ("2025-07-07 08:05", 9, "2025-07-07 08:00", "2025-07-03 08:00"),
        ], finished: Some("2025-07-07 08:00"), vendor_request: None, period_end: "2025-07-31 23:59", expected: Verdict::OnTime, uncertain: false },
    ];

    fn dossier(case: &Case) -> ProvincialDossier {
        let obs: Vec<Observation> = case
            .history
            .iter()
            .map(|&(o, s, u, d)| Observation {
                observed_at: t(o),
                previous_observation: Some(t(o) - chrono::Duration::minutes(5)),
                status: Status::from_code(s),
                changed_at: Some(t(u)),
                due_at: Some(t(d)),
            })
            .collect();
        let last = case.history.last().unwrap();
        let status = Status::from_code(last.1);
        let paused = matches!(
            status,
            Some(Status::SupplementRequested | Status::AwaitingPayment)
        );
        ProvincialDossier {
            core: DossierCore {
                status,
                received_at: Some(t(case.history[0].2)),
                due_at: Some(t(last.3)),
                finished_at: case.finished.map(t),
                ..DossierCore::default()
            },
            paused_since: paused.then(|| case.vendor_request.map_or(t(last.2), t)),
            supplement_requests: case.vendor_request.map(|_| 1),
            updated_at: t(last.2),
            observed: Some(Arc::new(crate::facts::derive(&obs))),
            ..ProvincialDossier::default()
        }
    }

    /// The first pull ever sees a dossier stopped and since edited: its row's `updated_at` is
    /// the edit (after the due time), the stop itself can have been at any time before, so the
    /// verdict is uncertain (read favourably: stopped at reception, early), never a mismatch.
    #[test]
    fn first_pull_ever_after_an_edit_is_uncertain() {
        let cal = Calendar::builtin();
        let obs = [Observation {
            observed_at: t("2024-03-20 14:05"),
            previous_observation: None,
            status: Some(Status::Stopped),
            changed_at: Some(t("2024-03-20 14:00")),
            due_at: Some(t(D)),
        }];
        let p = ProvincialDossier {
            core: DossierCore {
                status: Some(Status::Stopped),
                received_at: Some(t("2024-03-04 08:00")),
                due_at: Some(t(D)),
                ..DossierCore::default()
            },
            updated_at: t("2024-03-20 14:00"),
            observed: Some(Arc::new(crate::facts::derive(&obs))),
            ..ProvincialDossier::default()
        };
        let end = t("2024-03-31 23:59");
        let estimate = judge_provincial(&p, end, &cal).unwrap();
        assert_eq!(estimate.verdict, Verdict::Late);
        let fav = judge_provincial_at(&p, end, &cal, Bound::Favourable).unwrap();
        assert_eq!(
            fav.end,
            Some(t("2024-03-04 08:00")),
            "at the earliest, the reception"
        );
        assert!(is_uncertain(|b| judge_provincial_at(&p, end, &cal, b)).unwrap());
        // Seen by a later pull (the previous one bounds it), the same row is certain.
        let later = [Observation {
            previous_observation: Some(t("2024-03-20 12:05")),
            ..obs[0]
        }];
        let p = ProvincialDossier {
            observed: Some(Arc::new(crate::facts::derive(&later))),
            ..p
        };
        assert!(!is_uncertain(|b| judge_provincial_at(&p, end, &cal, b)).unwrap());
    }

    #[test]
    fn history_table() {
        let cal = Calendar::builtin();
        let mut failures = Vec::new();
        for case in CASES {
            let p = dossier(case);
            let end = t(case.period_end);
            let got = judge_provincial(&p, end, &cal).map(|j| j.verdict);
            let uncertain = is_uncertain(|b| judge_provincial_at(&p, end, &cal, b));
            if got.as_ref().ok() != Some(&case.expected)
                || uncertain.as_ref().ok() != Some(&case.uncertain)
            {
                failures.push(format!(
                    "{}: expected {:?} (uncertain {}), got {:?} (uncertain {:?})",
                    case.name, case.expected, case.uncertain, got, uncertain
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn without_history_the_row_stands_in() {
        let mut p = dossier(&CASES[4]);
        p.observed = None;
        let j = judge_provincial(&p, t("2024-03-31 23:59"), &Calendar::builtin()).unwrap();
        // The later edit's updated_at is taken as the withdrawal time: late.
        assert_eq!(j.verdict, Verdict::Late);
    }

    #[test]
    fn rule_version_follows_the_received_time() {
        let p = dossier(&CASES[8]);
        let j = judge_provincial(&p, t("2025-07-31 23:59"), &Calendar::builtin()).unwrap();
        assert_eq!(j.rule_version, crate::timeliness::RULE_ND61);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dossier with no due date is judged by its procedure's statutory time from the
    /// calendar's file; with an unlisted procedure it is unknown, and no tally counts it.
    #[test]
    fn no_due_date_uses_the_statutory_time_else_unknown() {
        let t = |s: &str| LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let cal = Calendar::builtin();
        let mut p = ProvincialDossier {
            core: DossierCore {
                procedure_code: Some("1.001193".into()), // 1 working day
                status: Some(Status::Resolved),
                received_at: Some(t("2024-03-08 10:00")),
                finished_at: Some(t("2024-03-11 10:30")),
                ..DossierCore::default()
            },
            updated_at: t("2024-03-11 10:30"),
            ..ProvincialDossier::default()
        };
        let end = t("2024-03-31 23:59");
        let j = judge_provincial(&p, end, &cal).unwrap();
        assert_eq!(j.verdict, Verdict::Late);
        assert_eq!(j.effective_due, Some(t("2024-03-11 10:00")));
        p.core.procedure_code = Some("9.999999".into());
        let j = judge_provincial(&p, end, &cal).unwrap();
        assert_eq!(j.verdict, Verdict::Unknown);
        let tallies = month_tallies([&p], end, &cal);
        assert!(tallies.values().all(|t| t.counted == 0));
    }

    /// The order a statutory time comes from: a due date > the file (+ the remote-commune
    /// extension of the province's receiving agency, on both sides) > inferred > unknown.
    #[test]
    fn statutory_time_sources_in_order() {
        use crate::calendar::{StatutorySource, StatutoryTime, StatutoryTimes, TimeUnit};
        let t = |s: &str| LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let file = StatutoryTimes::parse(
            "f.toml",
            "remote_agencies = [\"R\"]\n[[procedure]]\ncode = \"1.1\"\nlimit = 2\n\
             unit = \"working_days\"\nremote_extra = 3\n",
        )
        .unwrap();
        let inferred = StatutoryTime {
            limit: 4,
            unit: TimeUnit::WorkingDays,
            cut_off: None,
            source: StatutorySource::Inferred {
                dossiers: 30,
                agreeing: 25,
            },
        };
        let cal = Calendar::builtin()
            .with_statutory_times(file)
            .with_inferred([("9.9".to_string(), inferred)].into_iter().collect());
        // Received Friday 8/3/2024 10:00, finished Thursday 14/3 10:00: 4 working days.
        let dossier = |procedure: &str, agency: &str| ProvincialDossier {
            core: DossierCore {
                procedure_code: Some(procedure.into()),
                agency_code: Some(agency.into()),
                status: Some(Status::Resolved),
                received_at: Some(t("2024-03-08 10:00")),
                finished_at: Some(t("2024-03-14 10:00")),
                ..DossierCore::default()
            },
            updated_at: t("2024-03-14 10:00"),
            ..ProvincialDossier::default()
        };
        let end = t("2024-03-31 23:59");
        let judge = |p: &ProvincialDossier| judge_provincial(p, end, &cal).unwrap();

        let town = judge(&dossier("1.1", "TOWN"));
        assert_eq!(town.verdict, Verdict::Late);
        assert_eq!(
            town.statutory.map(|s| s.source),
            Some(StatutorySource::File)
        );

        let remote = dossier("1.1", "R");
        let j = judge(&remote);
        assert_eq!(j.verdict, Verdict::Early);
        assert_eq!(j.effective_due, Some(t("2024-03-15 10:00")));
        assert_eq!(
            j.statutory.map(|s| (s.limit, s.source)),
            Some((5, StatutorySource::FileRemote { extra: 3 }))
        );
        // The portal's view (its own unit code) is judged with the province's agency.
        let n = DossierCore {
            agency_code: Some("PORTAL-UNIT".into()),
            ..remote.core.clone()
        };
        let nj = judge_national(&n, &remote, end, &cal).unwrap();
        assert_eq!(nj.verdict, Verdict::Early);

        let j = judge(&dossier("9.9", "TOWN"));
        assert_eq!(j.verdict, Verdict::OnTime);
        assert!(j.statutory.is_some_and(|s| s.is_inferred()));

        // A due date wins over any statutory time, and the judgement names none.
        let mut with_due = dossier("9.9", "TOWN");
        with_due.core.due_at = Some(t("2024-03-13 10:00"));
        let j = judge(&with_due);
        assert_eq!((j.verdict, j.statutory), (Verdict::Late, None));

        assert_eq!(judge(&dossier("8.8", "TOWN")).verdict, Verdict::Unknown);
    }

    #[test]
    fn impact_signs() {
        let month = Tally {
            counted: 100,
            on_time: 90,
            late: 10,
            ..Default::default()
        };
        assert!(
            (impact(Verdict::OnTime, Some(Verdict::InProcessOverdue), &month) - 0.2).abs() < 1e-9
        );
        assert!((impact(Verdict::Late, Some(Verdict::OnTime), &month) + 0.2).abs() < 1e-9);
        assert_eq!(impact(Verdict::OnTime, Some(Verdict::Early), &month), 0.0);
        assert!(impact(Verdict::OnTime, None, &month) > 0.0);
        assert!(impact(Verdict::Late, None, &month) < 0.0);
        assert_eq!(
            impact(Verdict::NotCounted, Some(Verdict::Late), &month),
            0.0
        );
        assert_eq!(month.score(), Some(18.0));
    }
}
