//! XLSX: a sheet per section ("Tong hop", "Phu luc I", "Phu luc II", "Phu luc III"), bold
//! headers, set widths, real Excel dates (dd/mm/yyyy hh:mm), numbers as numbers.

use super::format::*;
use super::model::*;
use super::text::*;
use super::ReportError;
use crate::model::LocalTime;
use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format as XFormat, FormatAlign, FormatBorder, Workbook, Worksheet,
};

pub(crate) const SHEETS: [&str; 4] = ["Tong hop", "Phu luc I", "Phu luc II", "Phu luc III"];

struct Styles {
    title: XFormat,
    header: XFormat,
    text: XFormat,
    bold: XFormat,
    int: XFormat,
    score: XFormat,
    days: XFormat,
    date: XFormat,
}

impl Styles {
    fn new() -> Styles {
        let cell = XFormat::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top);
        Styles {
            title: XFormat::new().set_bold().set_font_size(13),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color("#EEF2F6"),
            text: cell.clone().set_text_wrap(),
            bold: cell.clone().set_bold(),
            int: cell.clone().set_num_format("#,##0"),
            score: cell.clone().set_num_format("0.00"),
            days: cell.clone().set_num_format("0.0"),
            date: cell.set_num_format("dd/mm/yyyy hh:mm"),
        }
    }
}

fn excel_time(t: &LocalTime) -> Result<ExcelDateTime, ReportError> {
    let bad = || ReportError::ExcelDate(*t);
    let year = u16::try_from(t.year()).map_err(|_| bad())?;
    ExcelDateTime::from_ymd(year, t.month() as u8, t.day() as u8)
        .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, t.second()))
        .map_err(|_| bad())
}

/// Writes a header row.
fn headers(ws: &mut Worksheet, row: u32, hs: &[&str], st: &Styles) -> Result<(), ReportError> {
    for (c, h) in hs.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, &st.header)?;
    }
    Ok(())
}

fn opt_num(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<f64>,
    f: &XFormat,
) -> Result<(), ReportError> {
    match v.filter(|v| v.is_finite()) {
        Some(v) => ws.write_number_with_format(row, col, v, f)?,
        None => ws.write_blank(row, col, f)?,
    };
    Ok(())
}

fn opt_date(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    t: &Option<LocalTime>,
    st: &Styles,
) -> Result<(), ReportError> {
    match t {
        Some(t) => ws.write_datetime_with_format(row, col, excel_time(t)?, &st.date)?,
        None => ws.write_blank(row, col, &st.date)?,
    };
    Ok(())
}

fn widths(ws: &mut Worksheet, w: &[f64]) -> Result<(), ReportError> {
    for (c, w) in w.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

pub(crate) fn render(r: &MonthlyReport) -> Result<Vec<u8>, ReportError> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    // Fixed document properties: the same report gives the same workbook.
    wb.set_properties(
        &DocProperties::new()
            .set_title(title(r))
            .set_author("tthc-sync")
            .set_creation_datetime(&excel_time(&r.generated_at)?),
    );

    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[0])?;
    summary(ws, r, &st)?;

    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[1])?;
    appendix_1(ws, r, &st)?;

    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[2])?;
    appendix_2(ws, r, &st)?;

    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[3])?;
    appendix_3(ws, r, &st)?;

    Ok(wb.save_to_buffer()?)
}

fn summary(ws: &mut Worksheet, r: &MonthlyReport, st: &Styles) -> Result<(), ReportError> {
    widths(ws, &[44.0, 22.0, 22.0, 16.0])?;
    ws.write_string_with_format(0, 0, "BÁO CÁO", &st.title)?;
    ws.write_string(1, 0, title(r))?;
    ws.write_string(2, 0, intro(r))?;

    let mut row = 4;
    ws.write_string_with_format(row, 0, section_1_heading(r), &st.title)?;
    row += 1;
    headers(ws, row, &COUNT_HEADERS, st)?;
    row += 1;
    for (label, n, p) in count_rows(r) {
        ws.write_string_with_format(row, 0, label, &st.text)?;
        ws.write_number_with_format(row, 1, n as f64, &st.int)?;
        ws.write_number_with_format(row, 2, p as f64, &st.int)?;
        ws.write_number_with_format(row, 3, p as f64 - n as f64, &st.int)?;
        row += 1;
    }
    let (n, p) = (&r.national_view, &r.provincial_view);
    ws.write_string_with_format(row, 0, "Tổng số hồ sơ được tính", &st.bold)?;
    ws.write_number_with_format(row, 1, n.counted as f64, &st.int)?;
    ws.write_number_with_format(row, 2, p.counted as f64, &st.int)?;
    ws.write_number_with_format(row, 3, p.counted as f64 - n.counted as f64, &st.int)?;
    row += 1;
    ws.write_string_with_format(row, 0, "Điểm tiến độ giải quyết (/20)", &st.bold)?;
    opt_num(ws, row, 1, n.score, &st.score)?;
    opt_num(ws, row, 2, p.score, &st.score)?;
    opt_num(ws, row, 3, score_gap(r), &st.score)?;
    row += 2;

    for (label, v) in [
        (
            "Điểm công bố trên Cổng DVCQG (/20)".to_string(),
            r.published_score,
        ),
        (
            "Điểm trung bình cả nước (/20)".to_string(),
            r.national_average,
        ),
        (
            format!("Điểm tháng {} trên Cổng DVCQG (/20)", r.month.previous()),
            r.previous_headline_score(),
        ),
    ] {
        ws.write_string_with_format(row, 0, label, &st.text)?;
        opt_num(ws, row, 1, v, &st.score)?;
        row += 1;
    }
    row += 1;

    ws.write_string_with_format(row, 0, "Giải thích chênh lệch điểm", &st.title)?;
    row += 1;
    headers(ws, row, &GAP_HEADERS, st)?;
    row += 1;
    for g in &r.gap {
        ws.write_string_with_format(row, 0, kind_label_vi(&g.kind), &st.text)?;
        ws.write_string_with_format(row, 1, &g.kind, &st.text)?;
        ws.write_number_with_format(row, 2, g.dossiers as f64, &st.int)?;
        ws.write_number_with_format(row, 3, g.points, &st.score)?;
        row += 1;
    }
    if let Some(rest) = gap_unexplained(r) {
        ws.write_string_with_format(row, 0, "Phần chênh lệch chưa giải thích được", &st.text)?;
        ws.write_blank(row, 1, &st.text)?;
        ws.write_blank(row, 2, &st.int)?;
        ws.write_number_with_format(row, 3, rest, &st.score)?;
        row += 1;
    }
    let (dossiers, pts) = gap_total(r);
    ws.write_string_with_format(row, 0, "Cộng", &st.bold)?;
    ws.write_blank(row, 1, &st.text)?;
    ws.write_number_with_format(row, 2, dossiers as f64, &st.int)?;
    ws.write_number_with_format(row, 3, pts, &st.score)?;
    row += 2;

    ws.write_string_with_format(row, 0, "Điểm 12 tháng gần nhất", &st.title)?;
    row += 1;
    headers(
        ws,
        row,
        &[
            "Tháng",
            "Cổng DVCQG (tính lại)",
            "Hệ thống của tỉnh",
            "Điểm công bố",
        ],
        st,
    )?;
    row += 1;
    for p in &r.history {
        ws.write_string_with_format(row, 0, p.month.to_string(), &st.text)?;
        opt_num(ws, row, 1, p.national_view, &st.score)?;
        opt_num(ws, row, 2, p.provincial_view, &st.score)?;
        opt_num(ws, row, 3, p.published, &st.score)?;
        row += 1;
    }
    Ok(())
}

fn appendix_1(ws: &mut Worksheet, r: &MonthlyReport, st: &Styles) -> Result<(), ReportError> {
    widths(ws, &[6.0, 34.0, 28.0, 50.0, 17.0, 17.0, 24.0, 12.0])?;
    ws.write_string_with_format(0, 0, APPENDIX_1_TITLE, &st.title)?;
    headers(
        ws,
        2,
        &[
            "STT",
            "Cơ quan, đơn vị",
            "Mã hồ sơ",
            "Thủ tục hành chính",
            "Ngày tiếp nhận",
            "Hạn trả kết quả",
            "Trạng thái trên Cổng DVCQG",
            "Số ngày làm việc quá hạn",
        ],
        st,
    )?;
    ws.set_freeze_panes(3, 0)?;
    let mut row = 3;
    let rows = r
        .appendix_1
        .iter()
        .flat_map(|g| g.rows.iter().map(move |x| (g, x)));
    for (i, (g, x)) in rows.enumerate() {
        ws.write_number_with_format(row, 0, (i + 1) as f64, &st.int)?;
        ws.write_string_with_format(row, 1, &g.agency_name, &st.text)?;
        ws.write_string_with_format(row, 2, &x.dossier_code, &st.text)?;
        ws.write_string_with_format(row, 3, &x.procedure, &st.text)?;
        ws.write_datetime_with_format(row, 4, excel_time(&x.received_at)?, &st.date)?;
        opt_date(ws, row, 5, &x.due_at, st)?;
        ws.write_string_with_format(row, 6, &x.national_status, &st.text)?;
        opt_num(ws, row, 7, x.working_days_overdue, &st.days)?;
        row += 1;
    }
    if row == 3 {
        ws.write_string(row, 0, NO_DOSSIER)?;
    }
    Ok(())
}

fn appendix_2(ws: &mut Worksheet, r: &MonthlyReport, st: &Styles) -> Result<(), ReportError> {
    widths(
        ws,
        &[6.0, 34.0, 28.0, 50.0, 17.0, 17.0, 17.0, 22.0, 12.0, 36.0],
    )?;
    ws.write_string_with_format(0, 0, APPENDIX_2_TITLE, &st.title)?;
    headers(
        ws,
        2,
        &[
            "STT",
            "Cơ quan, đơn vị",
            "Mã hồ sơ",
            "Thủ tục hành chính",
            "Ngày tiếp nhận",
            "Hạn trả kết quả",
            "Ngày hoàn thành",
            "Phân loại",
            "Số ngày làm việc quá hạn",
            "Cán bộ xử lý (lập Phiếu xin lỗi)",
        ],
        st,
    )?;
    ws.set_freeze_panes(3, 0)?;
    let mut row = 3;
    let rows = r
        .appendix_2
        .iter()
        .flat_map(|g| g.rows.iter().map(move |x| (g, x)));
    for (i, (g, x)) in rows.enumerate() {
        ws.write_number_with_format(row, 0, (i + 1) as f64, &st.int)?;
        ws.write_string_with_format(row, 1, &g.agency_name, &st.text)?;
        ws.write_string_with_format(row, 2, &x.dossier_code, &st.text)?;
        ws.write_string_with_format(row, 3, &x.procedure, &st.text)?;
        ws.write_datetime_with_format(row, 4, excel_time(&x.received_at)?, &st.date)?;
        opt_date(ws, row, 5, &x.due_at, st)?;
        opt_date(ws, row, 6, &x.finished_at, st)?;
        ws.write_string_with_format(row, 7, category_label_vi(&x.category), &st.text)?;
        opt_num(ws, row, 8, x.working_days_late, &st.days)?;
        ws.write_string_with_format(row, 9, x.officials.join("; "), &st.text)?;
        row += 1;
    }
    if row == 3 {
        ws.write_string(row, 0, NO_DOSSIER)?;
    }
    Ok(())
}

fn appendix_3(ws: &mut Worksheet, r: &MonthlyReport, st: &Styles) -> Result<(), ReportError> {
    widths(ws, &[6.0, 28.0, 34.0, 40.0, 30.0, 34.0, 34.0, 12.0])?;
    ws.write_string_with_format(0, 0, APPENDIX_3_TITLE, &st.title)?;
    headers(ws, 2, &APPENDIX_3_HEADERS, st)?;
    ws.set_freeze_panes(3, 0)?;
    let mut row = 3;
    for (i, x) in r.appendix_3.iter().enumerate() {
        ws.write_number_with_format(row, 0, (i + 1) as f64, &st.int)?;
        ws.write_string_with_format(row, 1, &x.dossier_code, &st.text)?;
        ws.write_string_with_format(row, 2, &x.agency_name, &st.text)?;
        ws.write_string_with_format(row, 3, kind_label_vi(&x.kind), &st.text)?;
        ws.write_string_with_format(row, 4, &x.kind, &st.text)?;
        ws.write_string_with_format(row, 5, &x.provincial_value, &st.text)?;
        ws.write_string_with_format(row, 6, &x.national_value, &st.text)?;
        ws.write_number_with_format(row, 7, x.points, &st.score)?;
        row += 1;
    }
    if row == 3 {
        ws.write_string(row, 0, NO_DOSSIER)?;
    } else {
        ws.write_string_with_format(row, 1, "Cộng", &st.bold)?;
        ws.write_number_with_format(row, 7, appendix_3_total(r), &st.score)?;
    }
    Ok(())
}
