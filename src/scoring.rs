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

use crate::calendar::{Calendar, CalendarError};
use crate::model::{DossierCore, LocalTime, Pause, ProvincialDossier, Status, YearMonth};
use crate::timeliness::{self, Judgement, TimelinessInput, Verdict};

/// The clock-stopping pauses the provincial record tells of.
fn provincial_pauses(p: &ProvincialDossier) -> Vec<Pause> {
    p.paused_since
        .map(|start| vec![Pause { start, end: None }])
        .unwrap_or_default()
}

fn supplement_requests(p: &ProvincialDossier) -> u32 {
    p.supplement_requests
        .unwrap_or(if p.core.status == Some(Status::SupplementRequested) {
            1
        } else {
            0
        })
}

/// The province's own verdict on a dossier for the period ending at `period_end`.
pub fn judge_provincial(
    p: &ProvincialDossier,
    period_end: LocalTime,
    cal: &Calendar,
) -> Result<Judgement, CalendarError> {
    let pauses = provincial_pauses(p);
    timeliness::judge(
        &TimelinessInput {
            core: &p.core,
            status_since: Some(p.updated_at),
            pauses: &pauses,
            supplement_requests: supplement_requests(p),
            statutory_working_days: None,
        },
        period_end,
        cal,
    )
}

/// The portal's verdict on its view `n` of the dossier `p`. The portal's look-up reply has no
/// status time: the province's last change stands in for it when both sides agree on the
/// status, or when the portal's status is a closing one (the closing push was due then); the
/// province's pauses are used when both sides agree on the status.
pub fn judge_national(
    n: &DossierCore,
    p: &ProvincialDossier,
    period_end: LocalTime,
    cal: &Calendar,
) -> Result<Judgement, CalendarError> {
    let same_status = n.status.is_some() && n.status == p.core.status;
    let pauses = if same_status {
        provincial_pauses(p)
    } else {
        Vec::new()
    };
    timeliness::judge(
        &TimelinessInput {
            core: n,
            status_since: (same_status || n.status.is_some_and(Status::is_terminal))
                .then_some(p.updated_at),
            pauses: &pauses,
            supplement_requests: if same_status {
                supplement_requests(p)
            } else {
                u32::from(n.status == Some(Status::SupplementRequested))
            },
            statutory_working_days: None,
        },
        period_end,
        cal,
    )
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
    /// Counts one dossier's verdict; `NotCounted` changes nothing.
    pub fn add(&mut self, v: Verdict) {
        self.counted += 1;
        match v {
            Verdict::Early => self.early += 1,
            Verdict::OnTime => self.on_time += 1,
            Verdict::Late => self.late += 1,
            Verdict::InProcessInTime => self.in_process_in_time += 1,
            Verdict::InProcessOverdue => self.in_process_overdue += 1,
            Verdict::NotCounted => self.counted -= 1,
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
mod tests {
    use super::*;

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
