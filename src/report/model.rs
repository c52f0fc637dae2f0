//! The data of one monthly report. Pure data: [`build`](mod@super::build) fills it from the
//! database, the renderers in the sibling modules turn it into files. Every timestamp is a [`LocalTime`] (+07:00).

use crate::model::LocalTime;
use serde::{Deserialize, Serialize};

pub use crate::model::{YearMonth, YearMonthParseError};

/// One view (national or provincial) of one month, by the rule of docs/domain.md §2–§3.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreFigures {
    /// Dossiers received or handled in the period (the denominator).
    pub counted: u64,
    /// Handled before the due date's calendar day (trước hạn).
    pub early: u64,
    /// Handled by the due time, on its day (đúng hạn).
    pub on_time: u64,
    /// Handled after the due time (quá hạn).
    pub late: u64,
    /// Not closed at the period's end, and not yet due then (đang xử lý trong hạn).
    pub in_process_in_time: u64,
    /// Not closed at the period's end and past due then (đang xử lý quá hạn).
    pub in_process_overdue: u64,
    /// `20 × (early + on_time + in_process_in_time) / counted`; `None` when `counted == 0`
    /// (no dossier: no score, rather than an invented 20/20).
    pub score: Option<f64>,
}

impl ScoreFigures {
    /// Builds the figures and computes the score from the counts (docs/domain.md §3).
    pub fn from_counts(
        early: u64,
        on_time: u64,
        late: u64,
        in_process_in_time: u64,
        in_process_overdue: u64,
    ) -> ScoreFigures {
        let counted = early + on_time + late + in_process_in_time + in_process_overdue;
        ScoreFigures {
            counted,
            early,
            on_time,
            late,
            in_process_in_time,
            in_process_overdue,
            score: score_of(early + on_time + in_process_in_time, counted),
        }
    }

    /// The score as a percentage of 20 (`score × 5`).
    pub fn percent(&self) -> Option<f64> {
        self.score.map(|s| s * 5.0)
    }
}

/// `20 × good / counted`, `None` when nothing was counted.
pub fn score_of(good: u64, counted: u64) -> Option<f64> {
    (counted > 0).then(|| 20.0 * good as f64 / counted as f64)
}

/// One line of the explanation of `provincial_view.score − national_view.score`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapLine {
    /// Discrepancy kind (docs/domain.md §7), e.g. `closed_locally_open_nationally`.
    pub kind: String,
    /// Distinct dossiers with an open or acknowledged discrepancy of this kind in the month.
    pub dossiers: u64,
    /// Points this kind costs the province on the national portal (positive: the national view
    /// is lower than the provincial one because of it).
    pub points: f64,
}

/// One month of the 12-month history chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthPoint {
    /// The month.
    pub month: YearMonth,
    /// The score recomputed from the portal's view, out of 20; `None` when nothing counted.
    pub national_view: Option<f64>,
    /// The score from the province's records, out of 20; `None` when nothing counted.
    pub provincial_view: Option<f64>,
    /// The portal's published score, out of 20; `None` when not fetched.
    pub published: Option<f64>,
}

/// Phụ lục I: a dossier in process and overdue on the national portal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NationalOverdueRow {
    /// The national dossier code (`MaHoSo`).
    pub dossier_code: String,
    /// The procedure's name as the province records it, else its code.
    pub procedure: String,
    /// Received at, as the portal has it (`NgayTiepNhan`).
    pub received_at: LocalTime,
    /// The portal's due date (`NgayHenTra`), else the one the rule computed; `None` when
    /// neither is known.
    pub due_at: Option<LocalTime>,
    /// The portal's status, as its Vietnamese label (or as the portal sent it when unknown).
    pub national_status: String,
    /// Working days past due at the period's end, pauses taken off (8 office hours = 1 day);
    /// `None` when there is no due date.
    pub working_days_overdue: Option<f64>,
}

/// Phụ lục II: a dossier handled late, or in process and overdue, on the provincial system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvincialLateRow {
    /// The code staff know the dossier by (the national code, else the local code).
    pub dossier_code: String,
    /// The procedure's name, else its code.
    pub procedure: String,
    /// Received at (`NgayTiepNhan`).
    pub received_at: LocalTime,
    /// The province's due date, else the one the rule computed; `None` when neither is known.
    pub due_at: Option<LocalTime>,
    /// The closing time the rule used (before pauses are taken off); `None` while in process.
    pub finished_at: Option<LocalTime>,
    /// `"late"` (handled late) or `"in_process_overdue"`.
    pub category: String,
    /// Working days from due to the effective end (the end less paused working time; 8
    /// office hours = 1 day), the period's end standing as the end while in process.
    pub working_days_late: Option<f64>,
    /// Officials who handled it (personal data: shown in the report only, never logged).
    pub officials: Vec<String>,
}

/// Phụ lục III: counted overdue nationally although handled on time in the province.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncFaultRow {
    /// The code staff know the dossier by.
    pub dossier_code: String,
    /// The agency's code, as in force in the report's month (the dossier's own when unknown);
    /// empty in a report frozen before the field existed.
    #[serde(default)]
    pub agency_code: String,
    /// The agency's name, as in force in the report's month.
    pub agency_name: String,
    /// The discrepancy kind that explains it; `timeliness_mismatch` when no discrepancy is
    /// recorded yet (e.g. looked up within the grace period).
    pub kind: String,
    /// The province's value, as the discrepancy shows it (or the province's verdict).
    pub provincial_value: String,
    /// The portal's value, as the discrepancy shows it (or the portal's verdict).
    pub national_value: String,
    /// Points of the month's score regained if the portal were corrected (docs/domain.md §3).
    pub points: f64,
}

/// Rows of one agency (as in force in the report's period, docs/domain.md §5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgencyGroup<T> {
    /// The agency's code, as in force in the month (or the dossier's own when unknown).
    pub agency_code: String,
    /// The agency's name.
    pub agency_name: String,
    /// Its rows, by dossier code.
    pub rows: Vec<T>,
}

/// The province's place among the provinces the portal published for a month, by "Tiến độ
/// giải quyết" (docs/domain.md §3): 1 + the provinces with a strictly higher score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rank {
    /// The province's position, from 1.
    pub position: u32,
    /// The provinces with a published score that month.
    pub of: u32,
}

/// Everything the monthly report shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// e.g. "Điện Biên".
    pub province: String,
    /// The month reported on.
    pub month: YearMonth,
    /// When the report was produced: the "now" of in-process verdicts while the month is
    /// running, and the date of the document (the units and the agency in charge of the sync
    /// named in it are those in force on that day). A frozen month read back keeps its
    /// figures and takes the time it is read.
    pub generated_at: LocalTime,
    /// For a frozen month (docs/domain.md §3, "Frozen months"), when its figures were fixed;
    /// `None` for a report built from the database as it is now.
    #[serde(default)]
    pub frozen_at: Option<LocalTime>,
    /// The month as the national portal sees it (recomputed from the national view).
    pub national_view: ScoreFigures,
    /// As the province's own records give it.
    pub provincial_view: ScoreFigures,
    /// The portal's published figure, out of 20; `None` while the portal has not published the
    /// month (or it was not fetched): the report then says "chưa công bố" and shows the
    /// recalculated score only as provisional ("tạm tính").
    pub published_score: Option<f64>,
    /// The national average of the month, out of 20: the mean of every province's published
    /// score (the legacy API's ranking of provinces); `None` when not published.
    pub national_average: Option<f64>,
    /// The province's rank among the published provinces; `None` when not published.
    #[serde(default)]
    pub national_rank: Option<Rank>,
    /// National view of the previous month.
    pub previous_month: Option<ScoreFigures>,
    /// What explains `national_view.score` vs `provincial_view.score`.
    pub gap: Vec<GapLine>,
    /// Last 12 months, oldest first.
    pub history: Vec<MonthPoint>,
    /// In process and overdue on the national portal.
    pub appendix_1: Vec<AgencyGroup<NationalOverdueRow>>,
    /// Handled late / in process overdue on the provincial system.
    pub appendix_2: Vec<AgencyGroup<ProvincialLateRow>>,
    /// Counted overdue nationally although handled on time in the province (for the IT office).
    pub appendix_3: Vec<SyncFaultRow>,
}

impl MonthlyReport {
    /// The headline score of the month: the portal's published figure when fetched, else the
    /// score recomputed from the national view.
    pub fn headline_score(&self) -> Option<f64> {
        self.published_score.or(self.national_view.score)
    }

    /// The previous month's score to compare the headline with, from the same source: the
    /// previous month's published figure if the headline is published (`None` when that month
    /// was not published: a published score is never compared with a recalculated one), else
    /// the national view of the previous month.
    pub fn previous_headline_score(&self) -> Option<f64> {
        let prev = self.month.previous();
        let point = self.history.iter().find(|p| p.month == prev);
        if self.published_score.is_some() {
            return point.and_then(|p| p.published);
        }
        self.previous_month
            .as_ref()
            .and_then(|f| f.score)
            .or_else(|| point.and_then(|p| p.national_view))
    }

    /// Whether the month was not over when the report was produced (and it is not a frozen
    /// month): its figures are provisional and the document says so in its title.
    pub fn is_provisional(&self) -> bool {
        self.frozen_at.is_none() && self.generated_at <= self.month.end()
    }
}
