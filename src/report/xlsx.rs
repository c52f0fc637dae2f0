//! XLSX: a sheet per section ("Tong hop", "Phu luc I", "Phu luc II", "Phu luc III"), bold
//! headers, set widths, real Excel dates (dd/mm/yyyy hh:mm), numbers as numbers.

use std::borrow::Borrow;

use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format as XFormat, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use super::columns::*;
use super::model::*;
use super::text::*;
use super::ReportError;
use crate::config::document::Wording;
use crate::model::LocalTime;

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

/// `x` rounded (half away from zero) to `decimals`, so that a cell holds the value it shows
/// and a sum in Excel adds what the reader sees.
fn rounded(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Decimals of a score or points cell (format `0.00`).
const SCORE_DECIMALS: i32 = 2;
/// Decimals of a working-days cell (format `0.0`).
const DAYS_DECIMALS: i32 = 1;

/// A number rounded to `decimals`, with its format; blank when unknown.
fn opt_num(
    ws: &mut Worksheet,
    (row, col): (u32, u16),
    v: Option<f64>,
    (f, decimals): (&XFormat, i32),
) -> Result<(), ReportError> {
    match v.filter(|v| v.is_finite()) {
        Some(v) => ws.write_number_with_format(row, col, rounded(v, decimals), f)?,
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

/// Writes one cell of `get`; `index` is the row's number (STT).
fn cell<R>(
    ws: &mut Worksheet,
    (row, col): (u32, u16),
    get: &Get<R>,
    index: usize,
    r: &R,
    st: &Styles,
) -> Result<(), ReportError> {
    match get {
        Get::Index => {
            ws.write_number_with_format(row, col, index as f64, &st.int)?;
        }
        Get::Text(f) | Get::Code(f) => {
            ws.write_string_with_format(row, col, f(r), &st.text)?;
        }
        Get::Coded { get, .. } => {
            ws.write_string_with_format(row, col, get(r).1, &st.text)?;
        }
        Get::Names(f) => {
            ws.write_string_with_format(row, col, f(r).join("; "), &st.text)?;
        }
        Get::Time(f) => opt_date(ws, row, col, &f(r), st)?,
        Get::Count(f) => {
            ws.write_number_with_format(row, col, f(r) as f64, &st.int)?;
        }
        Get::Days(f) => opt_num(ws, (row, col), f(r), (&st.days, DAYS_DECIMALS))?,
        Get::Points(f) | Get::SignedPoints(f) => {
            opt_num(ws, (row, col), Some(f(r)), (&st.score, SCORE_DECIMALS))?
        }
    }
    Ok(())
}

/// Writes `lines` in `columns` (those the workbook shows) from line `row` on, numbered from
/// 1; returns the line after the last.
fn rows<R, B: Borrow<R>>(
    ws: &mut Worksheet,
    mut row: u32,
    columns: &[Column<R>],
    lines: impl IntoIterator<Item = B>,
    st: &Styles,
) -> Result<u32, ReportError> {
    for (i, r) in lines.into_iter().enumerate() {
        for (c, column) in shown(columns, Target::Xlsx).enumerate() {
            cell(ws, (row, c as u16), &column.get, i + 1, r.borrow(), st)?;
        }
        row += 1;
    }
    Ok(row)
}

/// An appendix's sheet: column widths, the title, the headers on line 3 (frozen), then the
/// rows, or "no dossier"; returns the line after the last row.
fn appendix<R, B: Borrow<R>>(
    ws: &mut Worksheet,
    title: &str,
    columns: &[Column<R>],
    lines: impl IntoIterator<Item = B>,
    st: &Styles,
) -> Result<u32, ReportError> {
    for (c, column) in shown(columns, Target::Xlsx).enumerate() {
        if let Some(w) = column.width {
            ws.set_column_width(c as u16, w)?;
        }
    }
    ws.write_string_with_format(0, 0, title, &st.title)?;
    headers(ws, 2, &column_headers(columns, Target::Xlsx), st)?;
    ws.set_freeze_panes(3, 0)?;
    let end = rows(ws, 3, columns, lines, st)?;
    if end == 3 {
        ws.write_string(3, 0, NO_DOSSIER)?;
    }
    Ok(end)
}

pub(crate) fn render(r: &MonthlyReport, w: &Wording) -> Result<Vec<u8>, ReportError> {
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
    let columns = appendix_1();
    appendix(ws, APPENDIX_1_TITLE, &columns, lines(&r.appendix_1), &st)?;

    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[2])?;
    let columns = appendix_2();
    appendix(ws, APPENDIX_2_TITLE, &columns, lines(&r.appendix_2), &st)?;

    let ws = wb.add_worksheet();
    ws.set_name(SHEETS[3])?;
    let columns = appendix_3();
    let end = appendix(ws, &appendix_3_title(w), &columns, &r.appendix_3, &st)?;
    if !r.appendix_3.is_empty() {
        // The total line: its label beside the numbers, the sum under the points.
        let last = shown(&columns, Target::Xlsx).count() as u16 - 1;
        ws.write_string_with_format(end, 1, TOTAL, &st.bold)?;
        opt_num(
            ws,
            (end, last),
            Some(appendix_3_total(r)),
            (&st.score, SCORE_DECIMALS),
        )?;
    }

    Ok(wb.save_to_buffer()?)
}

fn summary(ws: &mut Worksheet, r: &MonthlyReport, st: &Styles) -> Result<(), ReportError> {
    for (c, w) in [44.0, 22.0, 22.0, 16.0].into_iter().enumerate() {
        ws.set_column_width(c as u16, w)?;
    }
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
    ws.write_string_with_format(row, 0, COUNTED.label, &st.bold)?;
    ws.write_number_with_format(row, 1, n.counted as f64, &st.int)?;
    ws.write_number_with_format(row, 2, p.counted as f64, &st.int)?;
    ws.write_number_with_format(row, 3, p.counted as f64 - n.counted as f64, &st.int)?;
    row += 1;
    ws.write_string_with_format(row, 0, out_of_20(SCORE), &st.bold)?;
    let score = (&st.score, SCORE_DECIMALS);
    opt_num(ws, (row, 1), n.score, score)?;
    opt_num(ws, (row, 2), p.score, score)?;
    opt_num(ws, (row, 3), score_gap(r), score)?;
    row += 2;

    let published = PUBLISHED_FIGURES
        .iter()
        .map(|f| (out_of_20(f.label), (f.get)(r)));
    let previous = (
        format!("Điểm tháng {} trên Cổng DVCQG (/20)", r.month.previous()),
        r.previous_headline_score(),
    );
    for (label, v) in published.chain([previous]) {
        ws.write_string_with_format(row, 0, label, &st.text)?;
        opt_num(ws, (row, 1), v, score)?;
        row += 1;
    }
    row += 1;

    ws.write_string_with_format(row, 0, "Giải thích chênh lệch điểm", &st.title)?;
    row += 1;
    let columns = gap();
    headers(ws, row, &column_headers(&columns, Target::Xlsx), st)?;
    row = rows(ws, row + 1, &columns, &r.gap, st)?;
    if let Some(rest) = gap_unexplained(r) {
        ws.write_string_with_format(row, 0, GAP_UNEXPLAINED, &st.text)?;
        ws.write_blank(row, 1, &st.text)?;
        ws.write_blank(row, 2, &st.int)?;
        opt_num(ws, (row, 3), Some(rest), score)?;
        row += 1;
    }
    let (dossiers, pts) = gap_total(r);
    ws.write_string_with_format(row, 0, TOTAL, &st.bold)?;
    ws.write_blank(row, 1, &st.text)?;
    ws.write_number_with_format(row, 2, dossiers as f64, &st.int)?;
    opt_num(ws, (row, 3), Some(pts), score)?;
    row += 2;

    ws.write_string_with_format(row, 0, "Điểm 12 tháng gần nhất", &st.title)?;
    row += 1;
    headers(ws, row, &HISTORY_HEADERS, st)?;
    row += 1;
    for p in &r.history {
        ws.write_string_with_format(row, 0, p.month.to_string(), &st.text)?;
        for (c, s) in HISTORY.iter().enumerate() {
            opt_num(ws, (row, c as u16 + 1), (s.month)(p), score)?;
        }
        row += 1;
    }
    Ok(())
}
