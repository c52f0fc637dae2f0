//! The data of one monthly report. Pure data: [`build`](mod@super::build) fills it from the
//! database, the renderers in the sibling modules turn it into files. Every timestamp is a [`LocalTime`] (+07:00).

use crate::model::LocalTime;
use chrono::NaiveDate;
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

/// Everything the monthly report shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// e.g. "Điện Biên".
    pub province: String,
    /// The month reported on.
    pub month: YearMonth,
    /// When it was built: the "now" of in-process verdicts while the month is running.
    pub generated_at: LocalTime,
    /// The month as the national portal sees it (recomputed from the national view).
    pub national_view: ScoreFigures,
    /// As the province's own records give it.
    pub provincial_view: ScoreFigures,
    /// The portal's published figure, when fetched.
    pub published_score: Option<f64>,
    /// National average, when known.
    pub national_average: Option<f64>,
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

    /// The previous month's score to compare the headline with, from the same source when
    /// possible: the published figure in `history` if the headline is published, else the
    /// national view of the previous month.
    pub fn previous_headline_score(&self) -> Option<f64> {
        let prev = self.month.previous();
        let from_history = self.history.iter().find(|p| p.month == prev);
        if self.published_score.is_some() {
            if let Some(p) = from_history.and_then(|p| p.published) {
                return Some(p);
            }
        }
        self.previous_month
            .as_ref()
            .and_then(|f| f.score)
            .or_else(|| from_history.and_then(|p| p.national_view))
    }

    /// A fixed, hand-built report (Vietnamese text, several agencies, an empty appendix, a month
    /// with nothing counted in the history). Used by the tests and for demos.
    pub fn example() -> MonthlyReport {
        let t = |y: i32, mo: u32, d: u32, h: u32, mi: u32| -> LocalTime {
            NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_opt(h, mi, 0))
                .expect("valid fixture time")
        };
        let ym = |year, month| YearMonth { year, month };
        let national_view = ScoreFigures::from_counts(310, 262, 9, 19, 0);
        let provincial_view = ScoreFigures::from_counts(315, 263, 3, 19, 0);
        // One dossier flipping between on time and overdue moves the score by 20/N
        // (docs/domain.md §3).
        let per_dossier = 20.0 / national_view.counted as f64;
        let mut history = Vec::new();
        let mut m = ym(2023, 9);
        let scores: [(Option<f64>, Option<f64>, Option<f64>); 12] = [
            (Some(17.8), Some(18.4), Some(17.8)),
            (Some(18.1), Some(18.9), Some(18.0)),
            (Some(18.6), Some(19.0), Some(18.6)),
            (Some(17.2), Some(18.5), Some(17.3)),
            (None, None, None), // Tết month in the fixture: nothing counted
            (Some(16.4), Some(18.2), Some(16.5)),
            (Some(17.9), Some(19.1), Some(17.9)),
            (Some(18.3), Some(19.2), None), // published figure not fetched
            (Some(18.8), Some(19.4), Some(18.8)),
            (Some(18.2), Some(19.3), Some(18.4)),
            (Some(18.6), Some(19.5), Some(18.6)),
            (national_view.score, provincial_view.score, Some(19.5)),
        ];
        for (n, p, pub_) in scores {
            history.push(MonthPoint {
                month: m,
                national_view: n,
                provincial_view: p,
                published: pub_,
            });
            m = if m.month == 12 {
                ym(m.year + 1, 1)
            } else {
                ym(m.year, m.month + 1)
            };
        }
        MonthlyReport {
            province: "Điện Biên".to_string(),
            month: ym(2024, 8),
            generated_at: t(2024, 9, 5, 8, 30),
            national_view,
            provincial_view,
            published_score: Some(19.5),
            national_average: Some(17.5),
            previous_month: Some(ScoreFigures::from_counts(290, 250, 40, 18, 2)),
            gap: vec![
                GapLine { kind: "closed_locally_open_nationally".into(), dossiers: 4, points: per_dossier * 4.0 },
                GapLine { kind: "timeliness_mismatch".into(), dossiers: 1, points: per_dossier },
                GapLine { kind: "due_date_mismatch".into(), dossiers: 1, points: per_dossier },
            ],
            history,
            appendix_1: vec![
                AgencyGroup {
                    agency_code: "000.00.12.H18".into(),
                    agency_name: "Sở Tài nguyên và Môi trường".into(),
                    rows: vec![
                        NationalOverdueRow {
                            dossier_code: "000.00.12.H18-240715-0012".into(),
                            procedure: "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất".into(),
                            received_at: t(2024, 7, 15, 9, 12),
                            due_at: Some(t(2024, 8, 12, 17, 0)),
                            national_status: "Đang xử lý".into(),
                            working_days_overdue: Some(14.0),
                        },
                        NationalOverdueRow {
                            dossier_code: "000.00.12.H18-240802-0031".into(),
                            procedure: "Đăng ký biến động quyền sử dụng đất".into(),
                            received_at: t(2024, 8, 2, 14, 40),
                            due_at: Some(t(2024, 8, 23, 11, 30)),
                            national_status: "Yêu cầu bổ sung giấy tờ".into(),
                            working_days_overdue: Some(5.5),
                        },
                    ],
                },
                AgencyGroup {
                    agency_code: "000.23.45.H18".into(),
                    agency_name: "UBND huyện Mường Ảng".into(),
                    rows: vec![NationalOverdueRow {
                        dossier_code: "000.23.45.H18-240805-0007".into(),
                        procedure: "Chứng thực bản sao từ bản chính \"giấy tờ, văn bản\" <do cơ quan có thẩm quyền cấp>".into(),
                        received_at: t(2024, 8, 5, 8, 5),
                        due_at: None,
                        national_status: "Được tiếp nhận".into(),
                        working_days_overdue: None,
                    }],
                },
            ],
            appendix_2: vec![
                AgencyGroup {
                    agency_code: "000.00.12.H18".into(),
                    agency_name: "Sở Tài nguyên và Môi trường".into(),
                    rows: vec![
                        ProvincialLateRow {
                            dossier_code: "000.00.12.H18-240701-0044".into(),
                            procedure: "Đăng ký đất đai, tài sản gắn liền với đất lần đầu".into(),
                            received_at: t(2024, 7, 1, 10, 0),
                            due_at: Some(t(2024, 8, 1, 17, 0)),
                            finished_at: Some(t(2024, 8, 6, 15, 20)),
                            category: "late".into(),
                            working_days_late: Some(3.0),
                            officials: vec!["Nguyễn Văn An".into(), "Lò Thị Bình".into()],
                        },
                        ProvincialLateRow {
                            dossier_code: "000.00.12.H18-240709-0002".into(),
                            procedure: "Đăng ký biến động quyền sử dụng đất".into(),
                            received_at: t(2024, 7, 9, 7, 45),
                            due_at: Some(t(2024, 8, 8, 17, 0)),
                            finished_at: Some(t(2024, 8, 9, 9, 0)),
                            category: "late".into(),
                            working_days_late: Some(0.25),
                            officials: vec!["Lò Thị Bình".into()],
                        },
                        ProvincialLateRow {
                            dossier_code: "000.00.12.H18-240715-0012".into(),
                            procedure: "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất".into(),
                            received_at: t(2024, 7, 15, 9, 12),
                            due_at: Some(t(2024, 8, 12, 17, 0)),
                            finished_at: None,
                            category: "in_process_overdue".into(),
                            working_days_late: Some(14.0),
                            officials: vec!["Quàng Văn Chiến".into()],
                        },
                    ],
                },
                AgencyGroup {
                    agency_code: "000.20.41.H18".into(),
                    agency_name: "UBND thành phố Điện Biên Phủ".into(),
                    rows: vec![ProvincialLateRow {
                        dossier_code: "000.20.41.H18-240820-0103".into(),
                        procedure: "Đăng ký khai sinh, kết hợp nhận cha, mẹ, con".into(),
                        received_at: t(2024, 8, 20, 15, 10),
                        due_at: Some(t(2024, 8, 21, 15, 10)),
                        finished_at: Some(t(2024, 8, 22, 9, 30)),
                        category: "late".into(),
                        working_days_late: Some(0.6),
                        officials: vec![],
                    }],
                },
            ],
            appendix_3: vec![
                SyncFaultRow {
                    dossier_code: "000.00.12.H18-240715-0031".into(),
                    agency_name: "Sở Tài nguyên và Môi trường".into(),
                    kind: "closed_locally_open_nationally".into(),
                    provincial_value: "10 (Đã trả kết quả) 09/08/2024 16:05".into(),
                    national_value: "4 (Đang xử lý)".into(),
                    points: per_dossier,
                },
                SyncFaultRow {
                    dossier_code: "000.23.45.H18-240801-0019".into(),
                    agency_name: "UBND huyện Mường Ảng".into(),
                    kind: "due_date_mismatch".into(),
                    provincial_value: "Hạn trả 30/08/2024 17:00 (đã gia hạn)".into(),
                    national_value: "Hạn trả 16/08/2024 17:00".into(),
                    points: per_dossier,
                },
            ],
        }
    }
}
