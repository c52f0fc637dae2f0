//! The national on-time rule ("Tiến độ giải quyết", index 766, docs/domain.md §2): pure, no clock.
//!
//! [`judge`] gives one dossier's [`Verdict`] for a reporting period ending at `period_end`.
//!
//! - **Counted**: only formally received dossiers (status 2, 4–10 with a received time).
//!   Status 1, 3, an unmapped status or no received time → [`Verdict::NotCounted`].
//! - **End** (the closing time): for a terminal status (7, 8, 9, 10) `finished_at` (9) >
//!   `returned_at` (10) > `status_since`; with none of them, `period_end`. For status 5
//!   (supplement requested, applicant not back) the request time: the start of the latest open
//!   pause, else `status_since`. Status 2, 4, 6 (and 5 with no request time): in process, and
//!   the period's end is used as the end. Which fields are set does not decide closedness: a
//!   `finished_at` on a dossier whose status is 4 (re-opened, or stale data) is ignored.
//! - A closing time **after `period_end`** means the dossier was still open in that period: it
//!   is judged in process at `period_end` (so past periods can be recomputed).
//! - **Pauses** (supplement / payment: the caller passes only pauses that stop the clock) are
//!   clipped to `[received, end]`, merged where they overlap, measured in **working time**
//!   (office hours on working days, via the [`Calendar`]), and the effective end is the end
//!   moved back by that much working time. An open pause counts up to the end (for status 5
//!   the end *is* its start, so it adds nothing). This applies to in-process dossiers too:
//!   the period's end is "the end".
//! - **Due**: `due_at`; if absent, `received_at` + the procedure's statutory time
//!   ([`StatutoryTime::due_from`]: working days, working hours or calendar days). With neither,
//!   the verdict is [`Verdict::Unknown`]: never on time by default, outside the score.
//! - **Verdict**: more than one supplement request → late / in process overdue. Otherwise
//!   effective end ≤ due → on time (exactly at due is on time; one minute later is late).
//!   **Early** = on time and the effective end falls on an earlier calendar date than the due
//!   date (so finishing in the morning of the due date is on time, not early).
//! - `working_days_late` = working days from due to the effective end, 0 when not late.
//! - `rule_version`: `nd61-2018` for dossiers received before 2025-07-01, `nd118-2025` from
//!   then on (for an uncounted dossier without a received time: by `period_end`).
//!
//! Any date the computation touches in a year with no holiday file is an error
//! ([`CalendarError::YearNotCovered`]), never a guess.

use crate::calendar::{Calendar, CalendarError, StatutoryTime};
use crate::model::{DossierCore, LocalTime, Pause, Status};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// Rule version for dossiers received before 2025-07-01 (ND 61/2018, ND 107/2021).
pub const RULE_ND61: &str = "nd61-2018";
/// Rule version for dossiers received from 2025-07-01 (ND 118/2025).
pub const RULE_ND118: &str = "nd118-2025";

/// The rule version in force for a dossier received at `received`.
pub fn rule_version(received: LocalTime) -> &'static str {
    let switch = NaiveDate::from_ymd_opt(2025, 7, 1)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("valid time");
    if received < switch {
        RULE_ND61
    } else {
        RULE_ND118
    }
}

/// How the national portal classifies a dossier in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Handled before the due date (an earlier calendar date).
    Early,
    /// Handled on the due date, not after the due time.
    OnTime,
    /// Handled after the due time (or after more than one supplement request).
    Late,
    /// Not closed at the period's end, and the period's end is not past due.
    InProcessInTime,
    /// Not closed at the period's end, and past due.
    InProcessOverdue,
    /// Not formally received: outside the score.
    NotCounted,
    /// Received, but with no due date and no known statutory time: it cannot be judged, and
    /// is left out of the score rather than counted on time.
    Unknown,
}

impl Verdict {
    /// Every verdict, in the order reports list the categories.
    pub const ALL: [Verdict; 7] = [
        Verdict::Early,
        Verdict::OnTime,
        Verdict::Late,
        Verdict::InProcessInTime,
        Verdict::InProcessOverdue,
        Verdict::NotCounted,
        Verdict::Unknown,
    ];

    /// Counts in the numerator of the score: early, on time, in process in time.
    pub fn is_good(self) -> bool {
        matches!(
            self,
            Verdict::Early | Verdict::OnTime | Verdict::InProcessInTime
        )
    }

    /// Counts in the denominator of the score (not [`Verdict::NotCounted`], not
    /// [`Verdict::Unknown`]).
    pub fn is_counted(self) -> bool {
        !matches!(self, Verdict::NotCounted | Verdict::Unknown)
    }

    /// Still open at the period's end.
    pub fn is_in_process(self) -> bool {
        matches!(self, Verdict::InProcessInTime | Verdict::InProcessOverdue)
    }

    /// The category as Vietnamese reports name it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Verdict::Early => "Giải quyết trước hạn",
            Verdict::OnTime => "Giải quyết đúng hạn",
            Verdict::Late => "Giải quyết quá hạn",
            Verdict::InProcessInTime => "Đang giải quyết trong hạn",
            Verdict::InProcessOverdue => "Đang giải quyết quá hạn",
            Verdict::NotCounted => "Không tính",
            Verdict::Unknown => "Không xác định được hạn giải quyết",
        }
    }

    /// Stable snake_case name (database, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Early => "early",
            Verdict::OnTime => "on_time",
            Verdict::Late => "late",
            Verdict::InProcessInTime => "in_process_in_time",
            Verdict::InProcessOverdue => "in_process_overdue",
            Verdict::NotCounted => "not_counted",
            Verdict::Unknown => "unknown",
        }
    }

    /// Inverse of [`Verdict::as_str`].
    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`judge`] reads of a dossier.
#[derive(Clone, Copy, Debug)]
pub struct TimelinessInput<'a> {
    /// Status, received_at, due_at, finished_at, returned_at.
    pub core: &'a DossierCore,
    /// When the current status was reached (the end for 7/8, or a terminal status with neither
    /// finished nor returned time; the request time for 5 with no open pause).
    pub status_since: Option<LocalTime>,
    /// Clock-stopping pauses (supplement / payment); `end: None` = still paused.
    pub pauses: &'a [Pause],
    /// Supplement requests made so far; more than one makes the dossier overdue.
    pub supplement_requests: u32,
    /// The procedure's statutory time, used when `due_at` is absent.
    pub statutory: Option<StatutoryTime>,
}

/// The verdict and what it was computed from (for reports and explanations).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    /// The category the dossier falls in for the period.
    pub verdict: Verdict,
    /// The end used: the closing time, or `period_end` for a dossier in process.
    pub end: Option<LocalTime>,
    /// The due time compared with: `due_at`, or received + statutory working days.
    pub effective_due: Option<LocalTime>,
    /// The statutory time `effective_due` was computed from (the dossier has no due date);
    /// its source says whether it was inferred (docs/domain.md §2). `None` with a due date.
    pub statutory: Option<StatutoryTime>,
    /// `end` moved back by the paused working time: what is compared with the due time.
    pub effective_end: Option<LocalTime>,
    /// Working days from due to effective end; 0 when not late; `None` with no due time.
    pub working_days_late: Option<f64>,
    /// [`RULE_ND61`] or [`RULE_ND118`], by [`rule_version`] of the received time (of
    /// `period_end` when there is none).
    pub rule_version: &'static str,
}

/// The closing time of a received dossier, if it closed (see the module doc).
fn closing_time(
    input: &TimelinessInput,
    status: Status,
    period_end: LocalTime,
) -> Option<LocalTime> {
    let core = input.core;
    if status.is_terminal() {
        return Some(
            core.finished_at
                .or(core.returned_at)
                .or(input.status_since)
                .unwrap_or(period_end),
        );
    }
    if status == Status::SupplementRequested {
        return input
            .pauses
            .iter()
            .filter(|p| p.end.is_none())
            .map(|p| p.start)
            .max()
            .or(input.status_since);
    }
    None
}

/// Working time of the pauses within `[from, to]`, overlaps counted once.
fn paused_working_time(
    pauses: &[Pause],
    from: LocalTime,
    to: LocalTime,
    cal: &Calendar,
) -> Result<Duration, CalendarError> {
    let mut spans: Vec<(LocalTime, LocalTime)> = pauses
        .iter()
        .filter_map(|p| {
            let s = p.start.max(from);
            let e = p.end.unwrap_or(to).min(to);
            (e > s).then_some((s, e))
        })
        .collect();
    spans.sort();
    let mut total = Duration::zero();
    let mut current: Option<(LocalTime, LocalTime)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += cal.working_time_between(cs, ce)?;
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = current {
        total += cal.working_time_between(cs, ce)?;
    }
    Ok(total)
}

/// Judges one dossier for the period ending at `period_end` (see the module doc for the rule).
pub fn judge(
    input: &TimelinessInput,
    period_end: LocalTime,
    cal: &Calendar,
) -> Result<Judgement, CalendarError> {
    let core = input.core;
    let (status, received) = match (core.status, core.received_at) {
        (Some(status), Some(received)) if status.is_received() => (status, received),
        _ => {
            return Ok(Judgement {
                verdict: Verdict::NotCounted,
                end: None,
                effective_due: None,
                statutory: None,
                effective_end: None,
                working_days_late: None,
                rule_version: rule_version(core.received_at.unwrap_or(period_end)),
            })
        }
    };

    let closed_at = closing_time(input, status, period_end).filter(|&c| c <= period_end);
    let end = closed_at.unwrap_or(period_end);

    let paused = paused_working_time(input.pauses, received, end, cal)?;
    let effective_end = cal.sub_working_time(end, paused)?;

    let statutory = input.statutory.filter(|_| core.due_at.is_none());
    let effective_due = match (core.due_at, statutory) {
        (Some(due), _) => Some(due),
        (None, Some(time)) => Some(time.due_from(received, cal)?),
        (None, None) => None,
    };
    // Nothing to compare with: not judged, never on time by default. (More than one
    // supplement request would make it late whatever the due time.)
    if effective_due.is_none() && input.supplement_requests <= 1 {
        return Ok(Judgement {
            verdict: Verdict::Unknown,
            end: Some(end),
            effective_due: None,
            statutory: None,
            effective_end: Some(effective_end),
            working_days_late: None,
            rule_version: rule_version(received),
        });
    }

    let past_due = effective_due.is_some_and(|due| effective_end > due);
    let late = past_due || input.supplement_requests > 1;
    let verdict = match (closed_at.is_some(), late) {
        (true, true) => Verdict::Late,
        (true, false) if effective_due.is_some_and(|due| effective_end.date() < due.date()) => {
            Verdict::Early
        }
        (true, false) => Verdict::OnTime,
        (false, true) => Verdict::InProcessOverdue,
        (false, false) => Verdict::InProcessInTime,
    };

    let working_days_late = match effective_due {
        Some(due) if past_due => Some(cal.working_days_between(due, effective_end)?),
        Some(_) => Some(0.0),
        None => None,
    };

    Ok(Judgement {
        verdict,
        end: Some(end),
        effective_due,
        statutory,
        effective_end: Some(effective_end),
        working_days_late,
        rule_version: rule_version(received),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LocalTime {
        LocalTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// One row of the rule table. Times are "YYYY-MM-DD HH:MM".
    struct Case {
        name: &'static str,
        status: Option<Status>,
        received: Option<&'static str>,
        due: Option<&'static str>,
        finished: Option<&'static str>,
        returned: Option<&'static str>,
        since: Option<&'static str>,
        pauses: &'static [(&'static str, Option<&'static str>)],
        requests: u32,
        statutory: Option<u32>,
        period_end: &'static str,
        expected: Verdict,
    }

    /// Received Mon 2024-03-04 08:00, due Fri 2024-03-08 10:00, resolved; period = March 2024.
    const BASE: Case = Case {
        name: "",
        status: Some(Status::Resolved),
        received: Some("2024-03-04 08:00"),
        due: Some("2024-03-08 10:00"),
        finished: None,
        returned: None,
        since: None,
        pauses: &[],
        requests: 0,
        statutory: None,
        period_end: "2024-03-31 23:59",
        expected: Verdict::OnTime,
    };

    use Verdict::*;

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        Case { name: "finished exactly at due", finished: Some("2024-03-08 10:00"), expected: OnTime, ..BASE },
        Case { name: "finished one minute after due", finished: Some("2024-03-08 10:01"), expected: Late, ..BASE },
        Case { name: "finished earlier on the due date", finished: Some("2024-03-08 07:30"), expected: OnTime, ..BASE },
        Case { name: "finished the day before due", finished: Some("2024-03-07 16:00"), expected: Early, ..BASE },
        Case { name: "returned only (10)", status: Some(Status::Returned), returned: Some("2024-03-08 11:00"), expected: Late, ..BASE },
        Case { name: "finished wins over returned", status: Some(Status::Returned), finished: Some("2024-03-08 09:00"), returned: Some("2024-03-11 09:00"), expected: OnTime, ..BASE },
        Case { name: "stopped (8) ends at status time", status: Some(Status::Stopped), since: Some("2024-03-07 09:00"), expected: Early, ..BASE },
        Case { name: "withdrawn (7) after due", status: Some(Status::Withdrawn), since: Some("2024-03-11 10:00"), expected: Late, ..BASE },
        Case { name: "terminal with no time uses period end", status: Some(Status::Resolved), expected: Late, ..BASE },
        Case { name: "two supplement requests, finished before due", finished: Some("2024-03-06 10:00"), requests: 2, expected: Late, ..BASE },
        Case { name: "two supplement requests, still processing", status: Some(Status::Processing), requests: 2, period_end: "2024-03-05 17:00", expected: InProcessOverdue, ..BASE },
        Case { name: "one supplement request is not overdue", finished: Some("2024-03-06 10:00"), requests: 1, pauses: &[("2024-03-05 08:00", Some("2024-03-05 15:00"))], expected: Early, ..BASE },
        // Pause Tue 5/3 08:00 → Tue 12/3 08:00 = 5 working days, subtracted.
        Case { name: "supplement completed, pause subtracted: on time", finished: Some("2024-03-15 10:00"), requests: 1, pauses: &[("2024-03-05 08:00", Some("2024-03-12 08:00"))], expected: OnTime, ..BASE },
        Case { name: "supplement completed, pause subtracted: late", finished: Some("2024-03-15 10:01"), requests: 1, pauses: &[("2024-03-05 08:00", Some("2024-03-12 08:00"))], expected: Late, ..BASE },
        Case { name: "overlapping pauses counted once", finished: Some("2024-03-15 10:01"), requests: 1, pauses: &[("2024-03-05 08:00", Some("2024-03-12 08:00")), ("2024-03-06 08:00", Some("2024-03-07 08:00"))], expected: Late, ..BASE },
        Case { name: "supplement not completed, request before due", status: Some(Status::SupplementRequested), requests: 1, pauses: &[("2024-03-07 09:00", None)], expected: Early, ..BASE },
        Case { name: "supplement not completed, request after due", status: Some(Status::SupplementRequested), requests: 1, pauses: &[("2024-03-08 10:30", None)], expected: Late, ..BASE },
        Case { name: "supplement not completed, no pause row: status time", status: Some(Status::SupplementRequested), requests: 1, since: Some("2024-03-08 09:00"), expected: OnTime, ..BASE },
        Case { name: "supplement not completed, no time at all: in process", status: Some(Status::SupplementRequested), requests: 1, expected: InProcessOverdue, ..BASE },
        // Payment pause from Thu 7/3 08:00, still open: 23 working hours to Mon 11/3 17:00.
        Case { name: "awaiting payment, open pause subtracted", status: Some(Status::AwaitingPayment), pauses: &[("2024-03-07 08:00", None)], period_end: "2024-03-11 17:00", expected: InProcessInTime, ..BASE },
        Case { name: "no due date, statutory days over a weekend: at due", received: Some("2024-03-07 10:00"), due: None, statutory: Some(2), finished: Some("2024-03-11 10:00"), expected: OnTime, ..BASE },
        Case { name: "no due date, statutory days over a weekend: 1 min late", received: Some("2024-03-07 10:00"), due: None, statutory: Some(2), finished: Some("2024-03-11 10:01"), expected: Late, ..BASE },
        Case { name: "no due date, over Giỗ Tổ 2024", received: Some("2024-04-17 09:00"), due: None, statutory: Some(1), finished: Some("2024-04-19 08:00"), period_end: "2024-04-30 23:59", expected: OnTime, ..BASE },
        Case { name: "no due date, over Giỗ Tổ 2024, late", received: Some("2024-04-17 09:00"), due: None, statutory: Some(1), finished: Some("2024-04-19 09:30"), period_end: "2024-04-30 23:59", expected: Late, ..BASE },
        Case { name: "no due date, supplement subtracted", received: Some("2024-03-07 10:00"), due: None, statutory: Some(2), finished: Some("2024-03-12 10:00"), pauses: &[("2024-03-08 10:00", Some("2024-03-11 10:00"))], requests: 1, expected: OnTime, ..BASE },
        Case { name: "no due date and no statutory time: unknown", due: None, finished: Some("2024-05-31 10:00"), period_end: "2024-05-31 23:59", expected: Unknown, ..BASE },
        Case { name: "no due date and no statutory time, in process: unknown", status: Some(Status::Processing), due: None, expected: Unknown, ..BASE },
        Case { name: "no due date, no statutory time, two supplement requests: late", due: None, finished: Some("2024-03-06 10:00"), requests: 2, expected: Late, ..BASE },
        Case { name: "make-up Saturday 4/5/2024 is a working day", received: Some("2024-05-03 08:00"), due: None, statutory: Some(1), finished: Some("2024-05-06 08:00"), period_end: "2024-05-31 23:59", expected: Late, ..BASE },
        Case { name: "Tết 2024 week", received: Some("2024-02-07 10:00"), due: None, statutory: Some(2), finished: Some("2024-02-16 09:00"), period_end: "2024-02-29 23:59", expected: OnTime, ..BASE },
        Case { name: "Tết 2024 week, in process past due", status: Some(Status::Processing), received: Some("2024-02-07 10:00"), due: None, statutory: Some(2), period_end: "2024-02-29 23:59", expected: InProcessOverdue, ..BASE },
        Case { name: "Tết 2026 week", received: Some("2026-02-13 14:00"), due: None, statutory: Some(3), finished: Some("2026-02-24 16:00"), period_end: "2026-02-28 23:59", expected: Early, ..BASE },
        Case { name: "spans month boundary, in process in time", status: Some(Status::Processing), received: Some("2024-03-27 09:00"), due: Some("2024-04-03 09:00"), expected: InProcessInTime, ..BASE },
        Case { name: "in process at period end, overdue", status: Some(Status::Received), received: Some("2024-03-20 09:00"), due: Some("2024-03-27 09:00"), expected: InProcessOverdue, ..BASE },
        Case { name: "finished after period end: in process then", received: Some("2024-03-27 09:00"), due: Some("2024-04-03 09:00"), finished: Some("2024-04-02 09:00"), expected: InProcessInTime, ..BASE },
        Case { name: "finished_at ignored while status is processing", status: Some(Status::Processing), finished: Some("2024-03-06 09:00"), expected: InProcessOverdue, ..BASE },
        Case { name: "submitted (1) not counted", status: Some(Status::Submitted), expected: NotCounted, ..BASE },
        Case { name: "rejected (3) not counted", status: Some(Status::Rejected), since: Some("2024-03-04 09:00"), expected: NotCounted, ..BASE },
        Case { name: "unmapped status not counted", status: None, expected: NotCounted, ..BASE },
        Case { name: "no received time not counted", received: None, finished: Some("2024-03-06 09:00"), expected: NotCounted, ..BASE },
    ];

    fn run(case: &Case, cal: &Calendar) -> Result<Judgement, CalendarError> {
        let opt = |s: Option<&str>| s.map(t);
        let core = DossierCore {
            code: "000.00.11.H18-240304-0001".into(),
            status: case.status,
            received_at: opt(case.received),
            due_at: opt(case.due),
            finished_at: opt(case.finished),
            returned_at: opt(case.returned),
            ..DossierCore::default()
        };
        let pauses: Vec<Pause> = case
            .pauses
            .iter()
            .map(|&(s, e)| Pause {
                start: t(s),
                end: e.map(t),
            })
            .collect();
        let input = TimelinessInput {
            core: &core,
            status_since: opt(case.since),
            pauses: &pauses,
            supplement_requests: case.requests,
            statutory: case.statutory.map(|limit| StatutoryTime {
                limit,
                unit: crate::calendar::TimeUnit::WorkingDays,
                cut_off: None,
                source: crate::calendar::StatutorySource::File,
            }),
        };
        judge(&input, t(case.period_end), cal)
    }

    #[test]
    fn rule_table() {
        let cal = Calendar::builtin();
        let mut failures = Vec::new();
        for case in CASES {
            match run(case, &cal) {
                Ok(j) if j.verdict == case.expected => {}
                other => failures.push(format!(
                    "{}: expected {:?}, got {:?}",
                    case.name, case.expected, other
                )),
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn judgement_details() {
        let cal = Calendar::builtin();
        let by_name = |name: &str| {
            let case = CASES.iter().find(|c| c.name == name).unwrap();
            run(case, &cal).unwrap()
        };
        let j = by_name("finished one minute after due");
        assert_eq!(j.end, Some(t("2024-03-08 10:01")));
        assert!((j.working_days_late.unwrap() - 1.0 / 480.0).abs() < 1e-9);
        assert_eq!(j.rule_version, RULE_ND61);

        let j = by_name("withdrawn (7) after due");
        assert_eq!(j.working_days_late, Some(1.0));

        let j = by_name("supplement completed, pause subtracted: on time");
        assert_eq!(j.effective_end, Some(t("2024-03-08 10:00")));
        assert_eq!(j.working_days_late, Some(0.0));

        let j = by_name("no due date, over Giỗ Tổ 2024");
        assert_eq!(j.effective_due, Some(t("2024-04-19 09:00")));

        let j = by_name("spans month boundary, in process in time");
        assert_eq!(j.end, Some(t("2024-03-31 23:59")));

        let j = by_name("no due date and no statutory time: unknown");
        assert_eq!((j.effective_due, j.working_days_late), (None, None));

        let j = by_name("no received time not counted");
        assert_eq!((j.end, j.effective_due), (None, None));
    }

    #[test]
    fn rule_version_switches_on_2025_07_01() {
        assert_eq!(rule_version(t("2025-06-30 23:59")), RULE_ND61);
        assert_eq!(rule_version(t("2025-07-01 00:00")), RULE_ND118);
        let cal = Calendar::builtin();
        let case = Case {
            received: Some("2025-07-01 08:00"),
            due: Some("2025-07-03 08:00"),
            finished: Some("2025-07-02 08:00"),
            period_end: "2025-07-31 23:59",
            ..BASE
        };
        let j = run(&case, &cal).unwrap();
        assert_eq!((j.verdict, j.rule_version), (Early, RULE_ND118));
    }

    #[test]
    fn year_without_holiday_file_is_an_error() {
        let cal = Calendar::builtin();
        let case = Case {
            received: Some("2027-01-04 08:00"),
            due: None,
            statutory: Some(3),
            finished: Some("2027-01-06 08:00"),
            period_end: "2027-01-31 23:59",
            ..BASE
        };
        assert!(matches!(
            run(&case, &cal),
            Err(CalendarError::YearNotCovered { year: 2027 })
        ));
        // Late into a year with no file: the lateness cannot be measured either.
        let case = Case {
            status: Some(Status::Processing),
            received: Some("2026-12-21 08:00"),
            due: Some("2026-12-30 08:00"),
            period_end: "2027-01-31 23:59",
            ..BASE
        };
        assert!(matches!(
            run(&case, &cal),
            Err(CalendarError::YearNotCovered { year: 2027 })
        ));
    }

    #[test]
    fn verdict_names() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
            assert_eq!(
                serde_json::to_string(&v).unwrap(),
                format!("\"{}\"", v.as_str())
            );
            assert_eq!(v.is_counted(), !matches!(v, NotCounted | Unknown));
        }
        let good: Vec<_> = Verdict::ALL.into_iter().filter(|v| v.is_good()).collect();
        assert_eq!(good, vec![Early, OnTime, InProcessInTime]);
        assert_eq!(Verdict::parse("overdue"), None);
    }
}
