//! The discrepancy list as a file: CSV (the CLI's `discrepancies --format csv` and the web
//! page's export, through the one CSV writer [`crate::csv`]) and XLSX (the web page's export).
//! Text from outside goes through the formula-injection guard in both.

use crate::csv::{self, Csv};
use crate::store::DiscrepancyRow;

/// The columns of both files.
pub const HEADERS: [&str; 11] = [
    "id",
    "dossier_code",
    "kind",
    "state",
    "severity",
    "score_impact",
    "agency",
    "provincial",
    "national",
    "first_seen",
    "period",
];

/// The agency a discrepancy is listed under: its name, else its code.
pub fn agency(d: &DiscrepancyRow) -> String {
    d.agency_name
        .clone()
        .or(d.agency_code.clone())
        .unwrap_or_default()
}

fn cells(d: &DiscrepancyRow) -> [String; 11] {
    [
        d.id.to_string(),
        csv::text(&d.dossier_code).into_owned(),
        d.kind.clone(),
        d.state.clone(),
        d.severity.clone(),
        format!("{:.4}", d.score_impact),
        csv::text(&agency(d)).into_owned(),
        csv::text(&d.provincial).into_owned(),
        csv::text(&d.national).into_owned(),
        d.first_seen.clone(),
        d.period.clone().unwrap_or_default(),
    ]
}

/// The rows as CSV (RFC 4180), with a byte-order mark when `bom` (a file opened in Excel).
pub fn to_csv(rows: &[DiscrepancyRow], bom: bool) -> String {
    let mut out = if bom {
        Csv::with_bom(HEADERS)
    } else {
        Csv::new(HEADERS)
    };
    for d in rows {
        out.row(cells(d));
    }
    out.finish()
}

/// The rows as an XLSX workbook of one sheet (`Sai lệch`); the score impact is a number.
pub fn to_xlsx(rows: &[DiscrepancyRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Sai lệch")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, d) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, d.id as f64)?;
        for (c, cell) in cells(d).iter().enumerate().skip(1) {
            if c == 5 {
                sheet.write_number(r, 5, d.score_impact)?;
            } else {
                sheet.write_string(r, c as u16, cell)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}
