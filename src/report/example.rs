//! A hand-built report of Điện Biên for August 2024 that reproduces the figures of the province's
//! own report of that month (docs/domain.md §3): published 19,5/20 (97,5 %), national average
//! 17,5/20 (87,5 %), July 93 %, 15 dossiers handled late in the provincial system. Everything
//! else (the dossiers, the agencies' rows, the recalculated figures, the officials' names) is
//! invented to be consistent with those figures: 2,000 dossiers counted (0,01 point each), 6
//! in process overdue on the portal of which 4 closed in the province, 6 sync faults worth
//! 0,06 point and 0,01 point the kinds do not explain. The tests render it in every format;
//! the demo pictures come from it.

use chrono::NaiveDate;

use super::model::*;
use crate::model::LocalTime;

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> LocalTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, 0))
        .expect("valid fixture time")
}

fn aug(d: u32, h: u32, mi: u32) -> LocalTime {
    t(2024, 8, d, h, mi)
}

fn jul(d: u32, h: u32, mi: u32) -> LocalTime {
    t(2024, 7, d, h, mi)
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

/// Phụ lục II: handled late.
fn late(
    code: &str,
    procedure: &str,
    (received_at, due_at, finished_at): (LocalTime, LocalTime, LocalTime),
    days: f64,
    officials: &[&str],
) -> ProvincialLateRow {
    ProvincialLateRow {
        dossier_code: code.into(),
        procedure: procedure.into(),
        received_at,
        due_at: Some(due_at),
        finished_at: Some(finished_at),
        category: "late".into(),
        working_days_late: Some(days),
        officials: names(officials),
    }
}

/// Phụ lục II: in process and overdue at the month's end.
fn open(
    code: &str,
    procedure: &str,
    (received_at, due_at): (LocalTime, LocalTime),
    days: f64,
    officials: &[&str],
) -> ProvincialLateRow {
    ProvincialLateRow {
        dossier_code: code.into(),
        procedure: procedure.into(),
        received_at,
        due_at: Some(due_at),
        finished_at: None,
        category: "in_process_overdue".into(),
        working_days_late: Some(days),
        officials: names(officials),
    }
}

/// Phụ lục I: in process and overdue on the portal.
fn national(
    code: &str,
    procedure: &str,
    (received_at, due_at): (LocalTime, LocalTime),
    status: &str,
    days: f64,
) -> NationalOverdueRow {
    NationalOverdueRow {
        dossier_code: code.into(),
        procedure: procedure.into(),
        received_at,
        due_at: Some(due_at),
        national_status: status.into(),
        working_days_overdue: Some(days),
    }
}

fn group<T>(code: &str, name: &str, rows: Vec<T>) -> AgencyGroup<T> {
    AgencyGroup {
        agency_code: code.into(),
        agency_name: name.into(),
        rows,
    }
}

const TNMT: (&str, &str) = ("000.21.31.H18", "Sở Tài nguyên và Môi trường");
const KHDT: (&str, &str) = ("000.23.31.H18", "Sở Kế hoạch và Đầu tư");
const GTVT: (&str, &str) = ("000.24.31.H18", "Sở Giao thông vận tải");
const TU_PHAP: (&str, &str) = ("000.01.31.H18", "Sở Tư pháp");
const DIEN_BIEN_PHU: (&str, &str) = ("000.40.31.H18", "UBND thành phố Điện Biên Phủ");
const TUAN_GIAO: (&str, &str) = ("000.45.31.H18", "UBND huyện Tuần Giáo");
const MUONG_ANG: (&str, &str) = ("000.48.31.H18", "UBND huyện Mường Ảng");

const GCN: &str =
    "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất";
const BIEN_DONG: &str =
    "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất";
const GIAO_DAT: &str = "Giao đất, cho thuê đất";

impl MonthlyReport {
    /// The fixed report of August 2024 described in this module's documentation.
    pub fn example() -> MonthlyReport {
        let ym = |year, month| YearMonth { year, month };
        let national_view = ScoreFigures::from_counts(1185, 779, 18, 12, 6);
        let provincial_view = ScoreFigures::from_counts(1190, 781, 15, 12, 2);
        // One dossier flipping between on time and overdue moves the score by 20/N
        // (docs/domain.md §3).
        let per_dossier = 20.0 / national_view.counted as f64;
        let previous_month = ScoreFigures::from_counts(1100, 760, 60, 20, 40);

        // September 2023 to August 2024: (national view, provincial view, published).
        let scores: [(Option<f64>, Option<f64>, Option<f64>); 12] = [
            (Some(17.8), Some(18.4), Some(17.8)),
            (Some(18.1), Some(18.9), Some(18.0)),
            (Some(18.6), Some(19.0), Some(18.6)),
            (Some(17.2), Some(18.5), Some(17.3)),
            (Some(16.4), Some(18.2), Some(16.5)),
            (None, None, None), // 02/2024 in the fixture: nothing counted
            (Some(17.9), Some(19.1), Some(17.9)),
            (Some(18.3), Some(19.2), None), // published figure not fetched
            (Some(18.8), Some(19.4), Some(18.8)),
            (Some(18.2), Some(19.3), Some(18.4)),
            (previous_month.score, Some(19.5), Some(18.6)),
            (national_view.score, provincial_view.score, Some(19.5)),
        ];
        let mut history = Vec::new();
        let mut m = ym(2023, 9);
        for (national_view, provincial_view, published) in scores {
            history.push(MonthPoint {
                month: m,
                national_view,
                provincial_view,
                published,
            });
            m = m.next();
        }

        let fault =
            |code: &str, (agency_code, agency_name): (&str, &str), kind: &str, p: &str, n: &str| {
                SyncFaultRow {
                    dossier_code: code.into(),
                    agency_code: agency_code.into(),
                    agency_name: agency_name.into(),
                    kind: kind.into(),
                    provincial_value: p.into(),
                    national_value: n.into(),
                    points: per_dossier,
                }
            };
        let closed = "closed_locally_open_nationally";

        MonthlyReport {
            province: "Điện Biên".to_string(),
            month: ym(2024, 8),
            generated_at: t(2024, 9, 5, 8, 30),
            frozen_at: None,
            national_view,
            provincial_view,
            published_score: Some(19.5),
            national_average: Some(17.5),
            national_rank: None,
            previous_month: Some(previous_month),
            gap: vec![
                GapLine { kind: closed.into(), dossiers: 4, points: per_dossier * 4.0 },
                GapLine { kind: "due_date_mismatch".into(), dossiers: 1, points: per_dossier },
                GapLine { kind: "timeliness_mismatch".into(), dossiers: 1, points: per_dossier },
            ],
            history,
            appendix_1: vec![
                group(TU_PHAP.0, TU_PHAP.1, vec![national(
                    "000.01.31.H18-240801-0015",
                    "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
                    (aug(1, 8, 15), aug(13, 8, 15)),
                    "Đang xử lý",
                    13.1,
                )]),
                group(TNMT.0, TNMT.1, vec![
                    national("000.21.31.H18-240715-0012", GCN, (jul(15, 9, 12), aug(12, 17, 0)), "Đang xử lý", 14.0),
                    national("000.21.31.H18-240722-0027", BIEN_DONG, (jul(22, 8, 0), aug(19, 17, 0)), "Đang xử lý", 9.0),
                    national("000.21.31.H18-240802-0031", BIEN_DONG, (aug(2, 14, 40), aug(23, 11, 30)), "Đang xử lý", 5.5),
                ]),
                group(DIEN_BIEN_PHU.0, DIEN_BIEN_PHU.1, vec![national(
                    "000.40.31.H18-240815-0066",
                    "Chứng thực bản sao từ bản chính \"giấy tờ, văn bản\" <do cơ quan có thẩm quyền cấp>",
                    (aug(15, 8, 5), aug(16, 8, 5)),
                    "Được tiếp nhận",
                    10.0,
                )]),
                group(TUAN_GIAO.0, TUAN_GIAO.1, vec![
                    national("000.45.31.H18-240719-0004", GIAO_DAT, (jul(19, 10, 30), aug(23, 10, 30)), "Đang xử lý", 5.2),
                ]),
            ],
            appendix_2: vec![
                group(TNMT.0, TNMT.1, vec![
                    late("000.21.31.H18-240701-0044", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", (jul(1, 10, 0), aug(1, 17, 0), aug(6, 15, 20)), 3.0, &["Nguyễn Văn An", "Lò Thị Bình"]),
                    late("000.21.31.H18-240709-0002", BIEN_DONG, (jul(9, 7, 45), aug(8, 17, 0), aug(9, 9, 0)), 0.25, &["Lò Thị Bình"]),
                    late("000.21.31.H18-240712-0019", "Cấp đổi giấy chứng nhận quyền sử dụng đất", (jul(12, 14, 30), aug(9, 17, 0), aug(14, 10, 15)), 2.4, &["Nguyễn Văn An"]),
                    open("000.21.31.H18-240715-0012", GCN, (jul(15, 9, 12), aug(12, 17, 0)), 14.0, &["Quàng Văn Chiến"]),
                    late("000.21.31.H18-240716-0008", BIEN_DONG, (jul(16, 8, 20), aug(13, 17, 0), aug(15, 16, 40)), 2.0, &["Lò Thị Bình"]),
                    late("000.21.31.H18-240805-0031", "Xóa đăng ký thế chấp quyền sử dụng đất", (aug(5, 9, 0), aug(8, 9, 0), aug(8, 15, 30)), 0.6, &["Lường Văn Dũng"]),
                ]),
                group(KHDT.0, KHDT.1, vec![
                    late("000.23.31.H18-240729-0005", "Đăng ký thành lập doanh nghiệp tư nhân", (jul(29, 10, 5), aug(1, 10, 5), aug(2, 9, 40)), 1.0, &["Vì Thị Hoa"]),
                    late("000.23.31.H18-240812-0014", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", (aug(12, 14, 0), aug(15, 14, 0), aug(16, 8, 10)), 0.3, &["Vì Thị Hoa"]),
                ]),
                group(GTVT.0, GTVT.1, vec![
                    late("000.24.31.H18-240806-0021", "Cấp đổi giấy phép lái xe", (aug(6, 8, 30), aug(13, 8, 30), aug(14, 11, 0)), 1.3, &["Tòng Văn Khánh"]),
                ]),
                group(DIEN_BIEN_PHU.0, DIEN_BIEN_PHU.1, vec![
                    late("000.40.31.H18-240710-0042", "Cấp giấy phép xây dựng nhà ở riêng lẻ", (jul(10, 9, 0), aug(7, 9, 0), aug(9, 16, 0)), 2.9, &["Đỗ Minh Long"]),
                    late("000.40.31.H18-240802-0117", "Đăng ký khai sinh, kết hợp nhận cha, mẹ, con", (aug(2, 15, 10), aug(5, 15, 10), aug(6, 9, 30)), 0.3, &["Đỗ Minh Long"]),
                    late("000.40.31.H18-240820-0103", "Đăng ký kết hôn", (aug(20, 15, 10), aug(21, 15, 10), aug(22, 9, 30)), 0.6, &[]),
                ]),
                group(TUAN_GIAO.0, TUAN_GIAO.1, vec![
                    late("000.45.31.H18-240801-0023", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", (aug(1, 14, 0), aug(5, 14, 0), aug(6, 10, 0)), 0.5, &["Cà Văn Hùng"]),
                    late("000.45.31.H18-240814-0027", "Cấp Giấy xác nhận tình trạng hôn nhân", (aug(14, 8, 0), aug(19, 8, 0), aug(20, 15, 0)), 1.8, &["Cà Văn Hùng"]),
                    open("000.45.31.H18-240719-0004", GIAO_DAT, (jul(19, 10, 30), aug(23, 10, 30)), 5.2, &["Cà Văn Hùng"]),
                ]),
                group(MUONG_ANG.0, MUONG_ANG.1, vec![
                    late("000.48.31.H18-240801-0011", "Đăng ký khai tử", (aug(1, 9, 0), aug(2, 9, 0), aug(2, 16, 30)), 0.9, &["Lò Văn Mạnh"]),
                    late("000.48.31.H18-240819-0006", "Cấp bản sao trích lục hộ tịch", (aug(19, 10, 0), aug(20, 10, 0), aug(21, 8, 0)), 0.8, &["Lò Văn Mạnh"]),
                ]),
            ],
            appendix_3: vec![
                fault("000.01.31.H18-240801-0015", TU_PHAP, closed, "10 (Đã trả kết quả) 12/08/2024 16:00", "4 (Đang xử lý)"),
                fault("000.21.31.H18-240722-0027", TNMT, closed, "10 (Đã trả kết quả) 16/08/2024 10:20", "4 (Đang xử lý)"),
                fault("000.21.31.H18-240802-0031", TNMT, closed, "9 (Đã xử lý xong) 21/08/2024 15:05", "4 (Đang xử lý)"),
                fault("000.23.31.H18-240805-0003", KHDT, "due_date_mismatch", "Hạn trả 30/08/2024 17:00 (đã gia hạn)", "Hạn trả 16/08/2024 17:00"),
                fault("000.40.31.H18-240815-0066", DIEN_BIEN_PHU, closed, "10 (Đã trả kết quả) 15/08/2024 16:05", "2 (Được tiếp nhận)"),
                fault("000.48.31.H18-240808-0012", MUONG_ANG, "timeliness_mismatch", "Đúng hạn", "Quá hạn"),
            ],
        }
    }
}
