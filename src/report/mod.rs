//! The province's monthly report "Tiến độ giải quyết TTHC trên Cổng DVCQG và danh sách các cơ
//! quan, đơn vị, địa phương giải quyết hồ sơ TTHC quá hạn", rendered from a [`MonthlyReport`] as
//! Markdown, one self-contained HTML page, XLSX, or CSV (one file per section).
//!
//! Rendering is pure: no I/O, no clock; the same report always gives the same bytes.

pub mod agencies;
pub mod build;
pub mod model;

mod csv;
mod html;
mod markdown;
mod write;
mod xlsx;

pub use model::{
    score_of, AgencyGroup, GapLine, MonthPoint, MonthlyReport, NationalOverdueRow,
    ProvincialLateRow, ScoreFigures, SyncFaultRow, YearMonth, YearMonthParseError,
};

pub use build::{build, build_with_notes, BuildError, BuildNotes};
pub use write::{default_out_dir, write_month, write_report, WriteError};

use crate::model::LocalTime;
use std::fmt;
use std::str::FromStr;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Markdown,
    Html,
    Xlsx,
    Csv,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Markdown, Format::Html, Format::Xlsx, Format::Csv];

    /// `md` (or `markdown`), `html`, `xlsx`, `csv`; case-insensitive.
    pub fn parse(s: &str) -> Result<Format, ReportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" | "htm" => Ok(Format::Html),
            "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            _ => Err(ReportError::UnknownFormat(s.to_string())),
        }
    }

    /// The file extension (also the canonical name).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }
}

impl FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Format, ReportError> {
        Format::parse(s)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report format {0:?}: expected one of md, html, xlsx, csv")]
    UnknownFormat(String),
    #[error("cannot build the XLSX workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("{0} cannot be written as an Excel date (years 1900–9999 only)")]
    ExcelDate(LocalTime),
}

/// Renders the report. Returns `(file name, bytes)`: one file, or four for CSV
/// (`…-tong-hop.csv`, `…-phu-luc-1.csv`, `…-phu-luc-2.csv`, `…-phu-luc-3.csv`).
pub fn render(
    report: &MonthlyReport,
    format: Format,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let base = file_stem(report);
    Ok(match format {
        Format::Markdown => vec![(format!("{base}.md"), markdown::render(report).into_bytes())],
        Format::Html => vec![(format!("{base}.html"), html::render(report).into_bytes())],
        Format::Xlsx => vec![(format!("{base}.xlsx"), xlsx::render(report)?)],
        Format::Csv => csv::render(report)
            .into_iter()
            .map(|(suffix, bytes)| (format!("{base}-{suffix}.csv"), bytes))
            .collect(),
    })
}

/// `bao-cao-tien-do-2024-08`.
pub fn file_stem(report: &MonthlyReport) -> String {
    format!("bao-cao-tien-do-{}", report.month.iso())
}

/// Vietnamese label of a discrepancy kind (domain.md §7); unknown kinds fall back to the code.
pub fn kind_label_vi(kind: &str) -> &str {
    match kind {
        "missing_on_national" => "Chưa có trên Cổng DVCQG",
        "missing_on_provincial" => "Có trên Cổng DVCQG nhưng không có tại tỉnh",
        "status_mismatch" => "Trạng thái không khớp",
        "collapsed_status" => "Trạng thái bị gộp thành \"Đã xử lý xong\" trên Cổng DVCQG",
        "closed_locally_open_nationally" => "Đã kết thúc tại tỉnh, chưa kết thúc trên Cổng DVCQG",
        "due_date_mismatch" => "Hạn trả kết quả không khớp",
        "finish_date_mismatch" => "Ngày hoàn thành không khớp",
        "received_date_mismatch" => "Ngày tiếp nhận không khớp",
        "timeliness_mismatch" => "Đúng hạn tại tỉnh, quá hạn trên Cổng DVCQG (hoặc ngược lại)",
        "unmapped_status" => "Trạng thái chưa có trong bảng ánh xạ",
        "bad_dossier_code" => "Mã hồ sơ trống hoặc Cổng DVCQG không nhận ra",
        "missing_due_date" => "Thiếu hạn trả kết quả ở cả hai hệ thống",
        other => other,
    }
}

/// Vietnamese label of a Phụ lục II category (`late`, `in_process_overdue`).
pub fn category_label_vi(category: &str) -> &str {
    match category {
        "late" => "Đã giải quyết quá hạn",
        "in_process_overdue" => "Đang xử lý quá hạn",
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Vietnamese number and date formatting (decimal comma, '.' between thousands).

/// `x` rounded to at most `max_decimals`, trailing zeros dropped: 19.5 → "19,5", 93.0 → "93",
/// 1234.5 → "1.234,5".
pub fn fmt_vi(x: f64, max_decimals: usize) -> String {
    let s = fmt_fixed_vi(x, max_decimals);
    if s.contains(',') {
        s.trim_end_matches('0').trim_end_matches(',').to_string()
    } else {
        s
    }
}

/// `x` with exactly `decimals` decimals: (2.25, 1) → "2,3"; (3.0, 1) → "3,0".
pub fn fmt_fixed_vi(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    // Half away from zero, as people round (`format!` alone rounds 0.25 to "0.2").
    let factor = 10f64.powi(decimals.min(15) as i32);
    let rounded = (x.abs() * factor).round() / factor;
    let s = format!("{:.*}", decimals, rounded);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let negative = x < 0.0 && s.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&group_thousands(int));
    if let Some(f) = frac {
        out.push(',');
        out.push_str(f);
    }
    out
}

/// A count with '.' between thousands: 1234 → "1.234".
pub fn fmt_int_vi(n: u64) -> String {
    group_thousands(&n.to_string())
}

fn group_thousands(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A signed figure: "+0,2", "-0,03", "0".
pub(crate) fn fmt_signed_vi(x: f64, max_decimals: usize) -> String {
    let s = fmt_vi(x, max_decimals);
    if x > 0.0 && s != "0" {
        format!("+{s}")
    } else {
        s
    }
}

/// `05/09/2024 08:30`.
pub fn fmt_time_vi(t: &LocalTime) -> String {
    t.format("%d/%m/%Y %H:%M").to_string()
}

pub(crate) fn fmt_opt_time_vi(t: &Option<LocalTime>) -> String {
    t.as_ref()
        .map(fmt_time_vi)
        .unwrap_or_else(|| "—".to_string())
}

/// "19,5/20" or "—".
pub(crate) fn fmt_score(score: Option<f64>) -> String {
    match score {
        Some(s) => format!("{}/20", fmt_vi(s, 2)),
        None => "—".to_string(),
    }
}

/// "97,5%" (of a score out of 20) or "—".
pub(crate) fn fmt_percent_of_score(score: Option<f64>) -> String {
    match score {
        Some(s) => format!("{}%", fmt_vi(s * 5.0, 2)),
        None => "—".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// The text of the report, shared by Markdown and HTML so both say exactly the same thing.

/// A run of text, plain or bold.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Span {
    Text(String),
    Bold(String),
    /// A web address, shown as itself.
    Link(&'static str),
}

pub(crate) type Para = Vec<Span>;

fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

fn b(s: impl Into<String>) -> Span {
    Span::Bold(s.into())
}

pub(crate) const NATIONAL_PORTAL_URL: &str = "https://dichvucong.gov.vn";
pub(crate) const PROVINCIAL_SYSTEM_NAME: &str = "Hệ thống thông tin giải quyết TTHC của tỉnh";

pub(crate) fn title(r: &MonthlyReport) -> String {
    format!(
        "Tiến độ giải quyết TTHC trên Cổng dịch vụ công quốc gia và danh sách các cơ quan, đơn vị, \
         địa phương giải quyết hồ sơ TTHC quá hạn trong Tháng {}/{}",
        r.month.month, r.month.year
    )
}

/// "Tháng 8 năm 2024".
pub(crate) fn month_long(m: YearMonth) -> String {
    format!("Tháng {} năm {}", m.month, m.year)
}

pub(crate) fn intro(r: &MonthlyReport) -> String {
    format!(
        "Tỉnh {} — số liệu {}, lập lúc {}.",
        r.province,
        month_long(r.month),
        fmt_time_vi(&r.generated_at)
    )
}

pub(crate) fn section_1_heading(r: &MonthlyReport) -> String {
    format!(
        "1. Tiến độ, kết quả giải quyết TTHC {}",
        month_long(r.month)
    )
}

pub(crate) const SECTION_2_HEADING: &str = "2. Đánh giá chung";

fn score_spans(score: Option<f64>) -> Vec<Span> {
    match score {
        Some(_) => vec![
            b(fmt_score(score)),
            t(" điểm - đạt "),
            b(fmt_percent_of_score(score)),
        ],
        None => vec![t("chưa có điểm (không có hồ sơ nào được tính)")],
    }
}

/// The score three ways: published, recomputed from the national view, provincial.
pub(crate) fn section_1_bullets(r: &MonthlyReport) -> Vec<Para> {
    let m = month_long(r.month);
    let mut out = Vec::new();

    let mut p = vec![t(format!(
        "Trên Cổng Dịch vụ công quốc gia: {m}, tiến độ giải quyết thủ tục hành chính của tỉnh {} ",
        r.province
    ))];
    match r.published_score {
        Some(_) => {
            p.push(t("(điểm công bố) là "));
            p.extend(score_spans(r.published_score));
        }
        None => p.push(t("chưa lấy được điểm công bố")),
    }
    if let Some(avg) = r.national_average {
        p.push(t(format!(
            " (điểm trung bình cả nước Tháng {} là ",
            r.month.month
        )));
        p.extend(score_spans(Some(avg)));
        p.push(t(")"));
    }
    p.push(t(
        ". Văn phòng UBND tỉnh đã thống kê hồ sơ đang xử lý quá hạn trên Cổng Dịch vụ công quốc gia tại địa chỉ ",
    ));
    p.push(Span::Link(NATIONAL_PORTAL_URL));
    p.push(t(" (chi tiết tại Phụ lục I kèm theo);"));
    out.push(p);

    let mut p = vec![t(
        "Tính lại theo dữ liệu hồ sơ trên Cổng Dịch vụ công quốc gia: ",
    )];
    p.extend(score_spans(r.national_view.score));
    p.push(t(format!(
        " ({} hồ sơ được tính);",
        fmt_int_vi(r.national_view.counted)
    )));
    out.push(p);

    let mut p = vec![t(format!("Theo {PROVINCIAL_SYSTEM_NAME}: "))];
    p.extend(score_spans(r.provincial_view.score));
    p.push(t(format!(
        " ({} hồ sơ được tính). Các cơ quan, đơn vị, địa phương giải quyết hồ sơ thủ tục hành chính quá hạn trong {m} chi tiết tại Phụ lục II kèm theo.",
        fmt_int_vi(r.provincial_view.counted)
    )));
    out.push(p);
    out
}

/// Rows of the counts table: label, national view, provincial view.
pub(crate) fn count_rows(r: &MonthlyReport) -> Vec<(&'static str, u64, u64)> {
    let (n, p) = (&r.national_view, &r.provincial_view);
    vec![
        ("Trước hạn", n.early, p.early),
        ("Đúng hạn", n.on_time, p.on_time),
        ("Quá hạn", n.late, p.late),
        (
            "Đang xử lý trong hạn",
            n.in_process_in_time,
            p.in_process_in_time,
        ),
        (
            "Đang xử lý quá hạn",
            n.in_process_overdue,
            p.in_process_overdue,
        ),
    ]
}

pub(crate) const COUNT_HEADERS: [&str; 4] = [
    "Phân loại",
    "Cổng DVCQG (tính lại)",
    "Hệ thống của tỉnh",
    "Chênh lệch",
];

/// `provincial − national`, formatted with a sign.
pub(crate) fn count_diff(national: u64, provincial: u64) -> String {
    let d = provincial as i128 - national as i128;
    if d > 0 {
        format!("+{}", fmt_int_vi(d as u64))
    } else if d < 0 {
        format!("-{}", fmt_int_vi(d.unsigned_abs() as u64))
    } else {
        "0".to_string()
    }
}

/// Provincial minus national score, when both exist.
pub(crate) fn score_gap(r: &MonthlyReport) -> Option<f64> {
    Some(r.provincial_view.score? - r.national_view.score?)
}

pub(crate) fn gap_intro(r: &MonthlyReport) -> Para {
    match score_gap(r) {
        Some(g) => vec![
            t("Chênh lệch giữa điểm theo Hệ thống của tỉnh và điểm tính lại trên Cổng DVCQG: "),
            b(format!("{} điểm", fmt_signed_vi(g, 2))),
            t(if r.gap.is_empty() {
                ". Không ghi nhận sai lệch đồng bộ nào."
            } else {
                ", giải thích theo loại sai lệch đồng bộ:"
            }),
        ],
        None => vec![t(
            "Chưa so sánh được điểm giữa hai hệ thống (một bên không có hồ sơ được tính).",
        )],
    }
}

pub(crate) const GAP_HEADERS: [&str; 4] = ["Loại sai lệch", "Mã", "Số hồ sơ", "Điểm"];

/// Points of the gap not explained by the listed kinds (shown only when it matters).
pub(crate) fn gap_unexplained(r: &MonthlyReport) -> Option<f64> {
    let total: f64 = r.gap.iter().map(|g| g.points).sum();
    let rest = score_gap(r)? - total;
    (rest.abs() >= 0.005).then_some(rest)
}

pub(crate) fn gap_total(r: &MonthlyReport) -> (u64, f64) {
    (
        r.gap.iter().map(|g| g.dossiers).sum(),
        r.gap.iter().map(|g| g.points).sum(),
    )
}

/// "tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%".
fn change_phrase(current: f64, previous: f64, prev_month: YearMonth, same_year: bool) -> String {
    let (cur, prev) = (current * 5.0, previous * 5.0);
    let d = cur - prev;
    let month = if same_year {
        format!("Tháng {}", prev_month.month)
    } else {
        format!("Tháng {}/{}", prev_month.month, prev_month.year)
    };
    let rounded = (d * 100.0).round() / 100.0;
    let verb = if rounded > 0.0 {
        format!("tăng {}%", fmt_vi(d, 2))
    } else if rounded < 0.0 {
        format!("giảm {}%", fmt_vi(-d, 2))
    } else {
        "không thay đổi".to_string()
    };
    format!("{verb} so với tỉ lệ {month} đạt {}%", fmt_vi(prev, 2))
}

pub(crate) fn section_2_bullets(r: &MonthlyReport) -> Vec<Para> {
    let m = month_long(r.month);
    let mut out = Vec::new();

    let mut p = vec![t(format!(
        "Điểm đánh giá tiến độ giải quyết thủ tục hành chính của tỉnh trên Cổng Dịch vụ công quốc gia {m} "
    ))];
    match r.headline_score() {
        Some(cur) => {
            p.push(t("đạt "));
            p.push(b(fmt_percent_of_score(Some(cur))));
            match r.previous_headline_score() {
                Some(prev) => {
                    let pm = r.month.previous();
                    p.push(t(format!(
                        " {}.",
                        change_phrase(cur, prev, pm, pm.year == r.month.year)
                    )));
                }
                None => p.push(t(" (chưa có số liệu tháng trước để so sánh).")),
            }
        }
        None => p.push(t("chưa có (không có hồ sơ nào được tính).")),
    }
    out.push(p);

    let agencies = r.appendix_2.iter().filter(|g| !g.rows.is_empty()).count();
    let rows = r.appendix_2.iter().flat_map(|g| g.rows.iter());
    let late = rows.clone().filter(|x| x.category == "late").count() as u64;
    let open = rows.filter(|x| x.category != "late").count() as u64;
    if agencies == 0 {
        out.push(vec![t(format!(
            "Trên {PROVINCIAL_SYSTEM_NAME} {m} không có cơ quan, đơn vị nào có hồ sơ xử lý quá hạn."
        ))]);
    } else {
        out.push(vec![
            t(format!("Số lượng cơ quan, đơn vị có hồ sơ xử lý quá hạn trên {PROVINCIAL_SYSTEM_NAME} {m}: ")),
            b(format!("{} cơ quan, đơn vị", fmt_int_vi(agencies as u64))),
            t(format!(
                "; số hồ sơ đã giải quyết nhưng quá hạn của các cơ quan, đơn vị, địa phương trên toàn tỉnh trong Tháng {} có "
                , r.month.month
            )),
            b(format!("{} hồ sơ", fmt_int_vi(late))),
            t("; số hồ sơ đang xử lý quá hạn: "),
            b(format!("{} hồ sơ", fmt_int_vi(open))),
            t(" (Phụ lục II)."),
        ]);
    }

    let n1: usize = r.appendix_1.iter().map(|g| g.rows.len()).sum();
    let a1 = r.appendix_1.iter().filter(|g| !g.rows.is_empty()).count();
    if n1 == 0 {
        out.push(vec![t(
            "Trên Cổng Dịch vụ công quốc gia không có hồ sơ đang xử lý quá hạn.",
        )]);
    } else {
        out.push(vec![
            t("Trên Cổng Dịch vụ công quốc gia có "),
            b(format!("{} hồ sơ", fmt_int_vi(n1 as u64))),
            t(format!(
                " đang xử lý quá hạn của {} cơ quan, đơn vị (Phụ lục I).",
                fmt_int_vi(a1 as u64)
            )),
        ]);
    }

    let n3 = r.appendix_3.len() as u64;
    if n3 == 0 {
        out.push(vec![t(
            "Không có hồ sơ đúng hạn tại tỉnh nhưng bị tính quá hạn trên Cổng Dịch vụ công quốc gia.",
        )]);
    } else {
        let pts: f64 = r.appendix_3.iter().map(|x| x.points).sum();
        out.push(vec![
            b(format!("{} hồ sơ", fmt_int_vi(n3))),
            t(" đúng hạn tại tỉnh nhưng bị tính quá hạn trên Cổng Dịch vụ công quốc gia do lỗi đồng bộ, làm tỉnh mất khoảng "),
            b(format!("{} điểm", fmt_vi(pts, 2))),
            t(" (Phụ lục III); đề nghị Sở KH&CN/ Sở TT&TT kiểm tra đồng bộ."),
        ]);
    }
    out
}

pub(crate) const APPENDIX_1_TITLE: &str =
    "Phụ lục I. Danh sách hồ sơ đang xử lý quá hạn trên Cổng Dịch vụ công quốc gia";
pub(crate) const APPENDIX_2_TITLE: &str =
    "Phụ lục II. Danh sách cơ quan, đơn vị, địa phương giải quyết hồ sơ TTHC quá hạn trên Hệ thống thông tin giải quyết TTHC của tỉnh";
pub(crate) const APPENDIX_3_TITLE: &str =
    "Phụ lục III. Hồ sơ đúng hạn tại tỉnh nhưng quá hạn trên Cổng DVCQG — đề nghị Sở KH&CN/ Sở TT&TT kiểm tra đồng bộ";

pub(crate) const APPENDIX_1_HEADERS: [&str; 7] = [
    "STT",
    "Mã hồ sơ",
    "Thủ tục hành chính",
    "Ngày tiếp nhận",
    "Hạn trả kết quả",
    "Trạng thái trên Cổng DVCQG",
    "Số ngày làm việc quá hạn",
];
pub(crate) const APPENDIX_2_SUMMARY_HEADERS: [&str; 5] = [
    "STT",
    "Cơ quan, đơn vị, địa phương",
    "Số hồ sơ",
    "Đã giải quyết quá hạn",
    "Đang xử lý quá hạn",
];
pub(crate) const APPENDIX_2_HEADERS: [&str; 9] = [
    "STT",
    "Mã hồ sơ",
    "Thủ tục hành chính",
    "Ngày tiếp nhận",
    "Hạn trả kết quả",
    "Ngày hoàn thành",
    "Phân loại",
    "Số ngày làm việc quá hạn",
    "Cán bộ xử lý (lập Phiếu xin lỗi)",
];
pub(crate) const APPENDIX_3_HEADERS: [&str; 8] = [
    "STT",
    "Mã hồ sơ",
    "Cơ quan, đơn vị",
    "Loại sai lệch",
    "Mã sai lệch",
    "Giá trị tại tỉnh",
    "Giá trị trên Cổng DVCQG",
    "Điểm ảnh hưởng",
];

pub(crate) const NO_DOSSIER: &str = "Không có hồ sơ.";

/// "Sở Tài nguyên và Môi trường (000.00.12.H18): 2 hồ sơ".
pub(crate) fn agency_heading<T>(index: usize, g: &AgencyGroup<T>) -> String {
    let code = if g.agency_code.is_empty() {
        String::new()
    } else {
        format!(" ({})", g.agency_code)
    };
    format!(
        "{}. {}{}: {} hồ sơ",
        index + 1,
        g.agency_name,
        code,
        fmt_int_vi(g.rows.len() as u64)
    )
}

pub(crate) fn appendix_1_cells(i: usize, x: &NationalOverdueRow) -> [String; 7] {
    [
        (i + 1).to_string(),
        x.dossier_code.clone(),
        x.procedure.clone(),
        fmt_time_vi(&x.received_at),
        fmt_opt_time_vi(&x.due_at),
        x.national_status.clone(),
        fmt_days(x.working_days_overdue),
    ]
}

pub(crate) fn appendix_2_cells(i: usize, x: &ProvincialLateRow) -> [String; 9] {
    [
        (i + 1).to_string(),
        x.dossier_code.clone(),
        x.procedure.clone(),
        fmt_time_vi(&x.received_at),
        fmt_opt_time_vi(&x.due_at),
        fmt_opt_time_vi(&x.finished_at),
        category_label_vi(&x.category).to_string(),
        fmt_days(x.working_days_late),
        if x.officials.is_empty() {
            "—".to_string()
        } else {
            x.officials.join("; ")
        },
    ]
}

/// Appendix II per agency: (dossiers, handled late, in process overdue).
pub(crate) fn appendix_2_counts(g: &AgencyGroup<ProvincialLateRow>) -> (u64, u64, u64) {
    let late = g.rows.iter().filter(|x| x.category == "late").count() as u64;
    (g.rows.len() as u64, late, g.rows.len() as u64 - late)
}

/// Working days with one decimal: "3,0", "0,3"; "—" when unknown.
pub(crate) fn fmt_days(d: Option<f64>) -> String {
    d.map(|d| fmt_fixed_vi(d, 1))
        .unwrap_or_else(|| "—".to_string())
}

pub(crate) fn appendix_3_total(r: &MonthlyReport) -> f64 {
    r.appendix_3.iter().map(|x| x.points).sum()
}

/// The snapshot check shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/it/support/snapshot.rs"]
mod snapshot;

#[cfg(test)]
mod tests {
    //! Snapshot tests compare with `tests/it/snapshots/NAME.snap` (insta, through the helper
    //! the integration tests use); `INSTA_UPDATE=always` rewrites them after an intended change
    //! (then review the diff).
    use super::snapshot::check as check_snapshot;
    use super::*;
    use std::io::Read;

    /// The example with nothing in the appendices, no published figure, no previous month.
    fn quiet_example() -> MonthlyReport {
        let mut r = MonthlyReport::example();
        r.appendix_1.clear();
        r.appendix_2 = vec![AgencyGroup {
            agency_code: "000.00.05.H18".into(),
            agency_name: "Sở Tư pháp".into(),
            rows: vec![],
        }];
        r.appendix_3.clear();
        r.published_score = None;
        r.national_average = None;
        r.previous_month = None;
        r.history.clear();
        r.gap.clear();
        r.provincial_view = r.national_view.clone();
        r
    }

    fn one(r: &MonthlyReport, f: Format) -> (String, Vec<u8>) {
        let mut files = render(r, f).unwrap();
        assert_eq!(files.len(), 1);
        files.pop().unwrap()
    }

    #[test]
    fn markdown_snapshot() {
        let (name, bytes) = one(&MonthlyReport::example(), Format::Markdown);
        assert_eq!(name, "bao-cao-tien-do-2024-08.md");
        check_snapshot(&name, &bytes);
        let (_, quiet) = one(&quiet_example(), Format::Markdown);
        check_snapshot("quiet.md", &quiet);
    }

    #[test]
    fn markdown_says_what_the_province_writes() {
        let md = String::from_utf8(one(&MonthlyReport::example(), Format::Markdown).1).unwrap();
        for needle in [
            "### 1. Tiến độ, kết quả giải quyết TTHC Tháng 8 năm 2024",
            "là **19,5/20** điểm - đạt **97,5%** (điểm trung bình cả nước Tháng 8 là **17,5/20** điểm - đạt **87,5%**)",
            "đạt **97,5%** tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%.",
            "### 2. Đánh giá chung",
            "| Trước hạn | 310 | 315 | +5 |",
            "| Quá hạn | 9 | 3 | -6 |",
            "| Đã kết thúc tại tỉnh, chưa kết thúc trên Cổng DVCQG | `closed_locally_open_nationally` | 4 | +0,13 |",
            "**2 cơ quan, đơn vị**",
            "| 2 | 000.00.12.H18-240709-0002 |",
            "| Đã giải quyết quá hạn | 0,3 | Lò Thị Bình |",
            "Nguyễn Văn An; Lò Thị Bình",
            "## Phụ lục III. Hồ sơ đúng hạn tại tỉnh nhưng quá hạn trên Cổng DVCQG — đề nghị Sở KH&CN/ Sở TT&TT kiểm tra đồng bộ",
            // user text is escaped, not interpreted
            "Chứng thực bản sao từ bản chính \"giấy tờ, văn bản\" \\<do cơ quan có thẩm quyền cấp\\>",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
        // No unexplained remainder: the gap lines add up to the score difference.
        assert!(!md.contains("chưa giải thích"));
    }

    #[test]
    fn html_snapshot_and_self_contained() {
        let (name, bytes) = one(&MonthlyReport::example(), Format::Html);
        assert_eq!(name, "bao-cao-tien-do-2024-08.html");
        check_snapshot(&name, &bytes);
        let html = String::from_utf8(bytes).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">"));
        for forbidden in ["<script", "<link", " src=", "url(", "@import", "<img"] {
            assert!(
                !html.contains(forbidden),
                "external resource hint {forbidden:?}"
            );
        }
        assert!(html.contains("@page { size: A4"));
        assert!(html.contains("&quot;giấy tờ, văn bản&quot; &lt;do cơ quan có thẩm quyền cấp&gt;"));
        assert!(html.contains("<strong>19,5/20</strong> điểm - đạt <strong>97,5%</strong>"));
        // The chart: 12 month labels, the three series, the empty month marked, the gap
        // breaking the lines (two polylines per series with values around month 5).
        assert_eq!(html.matches("<svg ").count(), 1);
        for m in ["09/2023", "01/2024", "08/2024"] {
            assert!(html.contains(&format!(">{m}</text>")), "{m}");
        }
        for label in ["Cổng DVCQG (tính lại)", "Hệ thống của tỉnh", "Điểm công bố"]
        {
            assert!(html.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(html.contains(">không có số liệu</text>"));
        assert_eq!(
            html.matches("<polyline ").count(),
            7,
            "3 series broken at 02/2024; published also at 04/2024"
        );
        let (_, quiet) = one(&quiet_example(), Format::Html);
        check_snapshot("quiet.html", &quiet);
    }

    #[test]
    fn csv_snapshots() {
        let files = render(&MonthlyReport::example(), Format::Csv).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "bao-cao-tien-do-2024-08-tong-hop.csv",
                "bao-cao-tien-do-2024-08-phu-luc-1.csv",
                "bao-cao-tien-do-2024-08-phu-luc-2.csv",
                "bao-cao-tien-do-2024-08-phu-luc-3.csv",
            ]
        );
        for (name, bytes) in &files {
            assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name}: BOM");
            let text = std::str::from_utf8(&bytes[3..]).unwrap();
            assert!(text.ends_with("\r\n"));
            assert!(!text.replace("\r\n", "").contains('\n'), "{name}: bare LF");
            check_snapshot(name, bytes);
        }
        let p1 = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(p1.contains(
            ",\"Chứng thực bản sao từ bản chính \"\"giấy tờ, văn bản\"\" <do cơ quan có thẩm quyền cấp>\","
        ));
        // An empty appendix still has its header line.
        let quiet = render(&quiet_example(), Format::Csv).unwrap();
        assert_eq!(
            quiet[3].1,
            files[3].1[..files[3].1.iter().position(|&b| b == b'\n').unwrap() + 1]
        );
    }

    #[test]
    fn csv_quotes_and_neutralises_formulas() {
        assert_eq!(csv::field("a,b"), "\"a,b\"");
        assert_eq!(csv::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv::field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv::field("plain"), "plain");
        let mut r = quiet_example();
        r.appendix_3.push(SyncFaultRow {
            dossier_code: "=HYPERLINK(\"http://x\")".into(),
            agency_name: "@evil".into(),
            kind: "status_mismatch".into(),
            provincial_value: "-1".into(),
            national_value: "4".into(),
            points: -0.5,
        });
        let files = render(&r, Format::Csv).unwrap();
        let p3 = String::from_utf8(files[3].1[3..].to_vec()).unwrap();
        assert_eq!(
            p3.lines().nth(1).unwrap(),
            "1,\"'=HYPERLINK(\"\"http://x\"\")\",'@evil,status_mismatch,Trạng thái không khớp,'-1,4,-0.5"
        );
    }

    // -- XLSX: read the zip back and dump what a person would see.

    fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip");
        let mut out = Vec::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            out.push((f.name().to_string(), s));
        }
        out.sort();
        out
    }

    fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        Some(&tag[start..start + tag[start..].find('"')?])
    }

    fn unescape_xml(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    }

    fn shared_strings(xml: &str) -> Vec<String> {
        xml.split("<si>")
            .skip(1)
            .map(|si| {
                let t = &si[si.find("<t").unwrap()..];
                let body = &t[t.find('>').unwrap() + 1..t.find("</t>").unwrap()];
                unescape_xml(body)
            })
            .collect()
    }

    /// `A1 [s3] "text"` / `B6 [s4] 310` lines for every cell of a sheet.
    fn dump_cells(sheet: &str, strings: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for c in sheet.split("<c ").skip(1) {
            let tag_end = c.find('>').unwrap();
            let tag = format!(" {}", &c[..tag_end]);
            let r = attr(&tag, "r").unwrap();
            let s = attr(&tag, "s").unwrap_or("0");
            let v = if tag.ends_with('/') {
                String::new()
            } else {
                let v = &c[c.find("<v>").unwrap() + 3..c.find("</v>").unwrap()];
                match attr(&tag, "t") {
                    Some("s") => format!("{:?}", strings[v.parse::<usize>().unwrap()]),
                    _ => v.to_string(),
                }
            };
            out.push(format!("{r} [s{s}] {v}"));
        }
        out
    }

    #[test]
    fn xlsx_snapshot() {
        let (name, bytes) = one(&MonthlyReport::example(), Format::Xlsx);
        assert_eq!(name, "bao-cao-tien-do-2024-08.xlsx");
        let parts = unzip(&bytes);
        let get = |n: &str| {
            &parts
                .iter()
                .find(|(p, _)| p == n)
                .unwrap_or_else(|| panic!("{n}"))
                .1
        };
        let workbook = get("xl/workbook.xml");
        let names: Vec<&str> = workbook
            .split("<sheet ")
            .skip(1)
            .map(|s| attr(&format!(" {s}"), "name").unwrap().to_string())
            .map(|s| &*s.leak())
            .collect();
        assert_eq!(names, xlsx::SHEETS);
        assert!(get("xl/styles.xml").contains("formatCode=\"dd/mm/yyyy hh:mm\""));
        let strings = shared_strings(get("xl/sharedStrings.xml"));

        let mut dump = String::new();
        dump.push_str("# zip entries\n");
        for (p, _) in &parts {
            dump.push_str(p);
            dump.push('\n');
        }
        for (i, sheet) in xlsx::SHEETS.iter().enumerate() {
            dump.push_str(&format!("\n# {sheet}\n"));
            let cells = dump_cells(get(&format!("xl/worksheets/sheet{}.xml", i + 1)), &strings);
            for c in &cells {
                dump.push_str(c);
                dump.push('\n');
            }
        }
        check_snapshot("bao-cao-tien-do-2024-08.xlsx.txt", dump.as_bytes());

        // A few cells by meaning: numbers are numbers, dates are Excel serials.
        let s1 = dump_cells(get("xl/worksheets/sheet1.xml"), &strings);
        assert!(
            s1.iter()
                .any(|c| c.starts_with("B7 ") && c.ends_with(" 310")),
            "{s1:?}"
        );
        let s2 = dump_cells(get("xl/worksheets/sheet2.xml"), &strings);
        // 15/07/2024 09:12 = 45488 + (9×60+12)/1440
        let received = s2.iter().find(|c| c.starts_with("E4 ")).unwrap();
        let serial: f64 = received.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(
            (serial - (45488.0 + 552.0 / 1440.0)).abs() < 1e-6,
            "{received}"
        );
        let s4 = dump_cells(get("xl/worksheets/sheet4.xml"), &strings);
        assert!(s4
            .iter()
            .any(|c| c.contains("\"closed_locally_open_nationally\"")));

        // Same report, same bytes.
        assert_eq!(one(&MonthlyReport::example(), Format::Xlsx).1, bytes);
        // Empty appendices still give four sheets.
        let quiet = unzip(&one(&quiet_example(), Format::Xlsx).1);
        assert!(quiet.iter().any(|(p, _)| p == "xl/worksheets/sheet4.xml"));
    }

    #[test]
    fn every_format_renders_and_parses() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.extension()).unwrap(), f);
            assert!(!render(&MonthlyReport::example(), f).unwrap().is_empty());
        }
        assert_eq!(Format::parse(" Markdown ").unwrap(), Format::Markdown);
        let err = Format::parse("pdf").unwrap_err().to_string();
        assert!(
            err.contains("\"pdf\"") && err.contains("md, html, xlsx, csv"),
            "{err}"
        );
    }

    #[test]
    fn vietnamese_numbers() {
        assert_eq!(fmt_vi(19.5, 2), "19,5");
        assert_eq!(fmt_vi(93.0, 2), "93");
        assert_eq!(fmt_vi(97.4999, 2), "97,5");
        assert_eq!(fmt_vi(1234567.25, 2), "1.234.567,25");
        assert_eq!(fmt_vi(-0.001, 2), "0");
        assert_eq!(fmt_vi(-0.25, 2), "-0,25");
        assert_eq!(fmt_fixed_vi(3.0, 1), "3,0");
        assert_eq!(fmt_fixed_vi(0.25, 1), "0,3");
        assert_eq!(fmt_int_vi(0), "0");
        assert_eq!(fmt_int_vi(1000), "1.000");
        assert_eq!(fmt_int_vi(999), "999");
        assert_eq!(fmt_signed_vi(0.2, 2), "+0,2");
        assert_eq!(fmt_signed_vi(0.0001, 2), "0");
        assert_eq!(fmt_score(None), "—");
        assert_eq!(fmt_percent_of_score(Some(18.6)), "93%");
    }

    #[test]
    fn change_phrases() {
        let m = YearMonth {
            year: 2024,
            month: 7,
        };
        assert_eq!(
            change_phrase(19.5, 18.6, m, true),
            "tăng 4,5% so với tỉ lệ Tháng 7 đạt 93%"
        );
        assert_eq!(
            change_phrase(18.0, 18.6, m, true),
            "giảm 3% so với tỉ lệ Tháng 7 đạt 93%"
        );
        assert_eq!(
            change_phrase(18.6, 18.6, m, false),
            "không thay đổi so với tỉ lệ Tháng 7/2024 đạt 93%"
        );
    }

    #[test]
    fn year_month() {
        let m: YearMonth = "2024-08".parse().unwrap();
        assert_eq!(
            m,
            YearMonth {
                year: 2024,
                month: 8
            }
        );
        assert_eq!(m.to_string(), "08/2024");
        assert_eq!(m.iso(), "2024-08");
        assert_eq!(
            YearMonth {
                year: 2024,
                month: 1
            }
            .previous(),
            YearMonth {
                year: 2023,
                month: 12
            }
        );
        for bad in [
            "2024-13", "2024-00", "24-08", "2024/08", "2024-8x", "", "2024-",
        ] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
        assert_eq!("2024-8".parse::<YearMonth>().unwrap().month, 8);
    }

    #[test]
    fn score_is_none_without_dossiers() {
        let f = ScoreFigures::from_counts(0, 0, 0, 0, 0);
        assert_eq!(f.score, None);
        let f = ScoreFigures::from_counts(30, 8, 1, 1, 0);
        assert_eq!(f.counted, 40);
        assert!((f.score.unwrap() - 19.5).abs() < 1e-9);
        assert!((f.percent().unwrap() - 97.5).abs() < 1e-9);
    }

    #[test]
    fn kind_labels_cover_the_vocabulary() {
        let kinds = [
            "missing_on_national",
            "missing_on_provincial",
            "status_mismatch",
            "collapsed_status",
            "closed_locally_open_nationally",
            "due_date_mismatch",
            "finish_date_mismatch",
            "received_date_mismatch",
            "timeliness_mismatch",
            "unmapped_status",
            "bad_dossier_code",
            "missing_due_date",
        ];
        let mut labels: Vec<&str> = kinds.iter().map(|k| kind_label_vi(k)).collect();
        assert!(kinds.iter().zip(&labels).all(|(k, l)| k != l));
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), 12);
        assert_eq!(kind_label_vi("something_new"), "something_new");
    }

    #[test]
    fn unexplained_gap_is_shown() {
        let mut r = MonthlyReport::example();
        r.gap.pop();
        let md = String::from_utf8(one(&r, Format::Markdown).1).unwrap();
        assert!(
            md.contains("| Phần chênh lệch chưa giải thích được | — | — | +0,03 |"),
            "{md}"
        );
    }
}
