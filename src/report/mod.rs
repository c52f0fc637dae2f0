//! The province's monthly report "Tiến độ giải quyết TTHC trên Cổng DVCQG và danh sách các cơ
//! quan, đơn vị, địa phương giải quyết hồ sơ TTHC quá hạn", rendered from a [`MonthlyReport`] as
//! Markdown, one self-contained HTML page, DOCX, XLSX, or CSV (one file per section). Markdown
//! and HTML give two documents: the official one the Office signs (also DOCX) and the IT annex
//! (docs/report.md).
//!
//! Rendering is pure: no I/O, no clock; the same report always gives the same bytes.
//!
//! - [`model`]: the report's data; [`build`](mod@build): filling it from the store;
//!   [`agencies`]: the agencies in force in a month; [`crate::config::document`]: the
//!   Office's choices (`[report.document]`) and the wording in force on a date; `write`: rendering to files.
//! - `format`: Vietnamese numbers, dates and labels; `text`: the report's sentences and
//!   headings (Markdown, HTML and DOCX say the same thing); `columns`: every table's columns,
//!   one spec per table that every renderer iterates.
//! - The renderers: `markdown`, `html`, `docx`, `xlsx`, `csv`.

pub mod agencies;
pub mod build;
pub mod frozen;
pub mod model;

mod columns;
mod csv;
mod docx;
mod example;
mod format;
mod html;
mod markdown;
mod text;
mod write;
mod xlsx;

/// The snapshot check shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/it/support/snapshot.rs"]
mod snapshot;

#[cfg(test)]
mod tests;

pub use model::{
    score_of, AgencyGroup, GapLine, MonthPoint, MonthlyReport, NationalOverdueRow,
    ProvincialLateRow, Rank, ScoreFigures, SyncFaultRow, YearMonth, YearMonthParseError,
};

pub use crate::config::document::{DatedWording, DocumentSettings, Wording};
pub use build::{build, build_with_notes, BuildError, BuildNotes};
pub use format::{category_label_vi, fmt_fixed_vi, fmt_int_vi, fmt_time_vi, fmt_vi, kind_label_vi};
pub use write::{default_out_dir, month_report, write_month, write_report, WriteError};

use crate::model::LocalTime;
use std::fmt;
use std::str::FromStr;

/// A file format of the report (`tthc-sync report --format`, `[report] formats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Markdown (`md`), one file.
    Markdown,
    /// One self-contained HTML page (`html`), with the 12-month chart.
    Html,
    /// The official document as a Word file (`docx`), to edit and sign.
    Docx,
    /// One Markdown pack per agency with overdue dossiers (`packs`), for its explanation
    /// report.
    Packs,
    /// An Excel workbook (`xlsx`), a sheet per section.
    Xlsx,
    /// CSV (`csv`): four files, the summary and one per appendix.
    Csv,
}

impl Format {
    /// Every format, in the order of their names in messages.
    pub const ALL: [Format; 6] = [
        Format::Markdown,
        Format::Html,
        Format::Docx,
        Format::Packs,
        Format::Xlsx,
        Format::Csv,
    ];

    /// `md` (or `markdown`), `html`, `docx`, `packs`, `xlsx`, `csv`; case-insensitive.
    pub fn parse(s: &str) -> Result<Format, ReportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" | "htm" => Ok(Format::Html),
            "docx" => Ok(Format::Docx),
            "packs" | "pack" => Ok(Format::Packs),
            "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            _ => Err(ReportError::UnknownFormat(s.to_string())),
        }
    }

    /// The canonical name; the file extension except for `packs` (Markdown files).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Packs => "packs",
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

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A format name that is not one of `md`, `html`, `docx`, `packs`, `xlsx`, `csv`.
    #[error("unknown report format {0:?}: expected one of md, html, docx, packs, xlsx, csv")]
    UnknownFormat(String),
    /// The XLSX writer failed.
    #[error("cannot build the XLSX workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The DOCX file could not be assembled.
    #[error("cannot build the DOCX file: {0}")]
    Docx(String),
    /// A time outside the years Excel can show (a wrong date in the data).
    #[error("{0} cannot be written as an Excel date (years 1900–9999 only)")]
    ExcelDate(LocalTime),
}

/// Renders the report with the Office's `settings`. Returns `(file name, bytes)`:
/// - Markdown and HTML: two files, the official document (`….md`: the frame, sections 1–3,
///   Phụ lục I and II) and the IT annex for the agency in charge of the sync (`…-ky-thuat.md`:
///   the three scores, the gap by kind, Phụ lục III);
/// - DOCX: the official document, one file;
/// - packs: one Markdown file per agency with overdue dossiers (`…-don-vi-<agency code>.md`);
/// - XLSX: one workbook; CSV: four files (`…-tong-hop.csv`, `…-phu-luc-1.csv`,
///   `…-phu-luc-2.csv`, `…-phu-luc-3.csv`).
pub fn render(
    report: &MonthlyReport,
    format: Format,
    settings: &DocumentSettings,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let base = file_stem(report);
    let doc = text::Doc::new(report, settings);
    Ok(match format {
        Format::Markdown => vec![
            (format!("{base}.md"), markdown::render(&doc).into_bytes()),
            (
                format!("{base}-{ANNEX_SUFFIX}.md"),
                markdown::render_annex(&doc).into_bytes(),
            ),
        ],
        Format::Html => vec![
            (format!("{base}.html"), html::render(&doc).into_bytes()),
            (
                format!("{base}-{ANNEX_SUFFIX}.html"),
                html::render_annex(&doc).into_bytes(),
            ),
        ],
        Format::Docx => vec![(format!("{base}.docx"), docx::render(&doc)?)],
        Format::Packs => markdown::render_packs(&doc)
            .into_iter()
            .map(|(code, text)| {
                (
                    format!("{base}-don-vi-{}.md", file_safe(&code)),
                    text.into_bytes(),
                )
            })
            .collect(),
        Format::Xlsx => vec![(format!("{base}.xlsx"), xlsx::render(report, &doc.w)?)],
        Format::Csv => csv::render(report)
            .into_iter()
            .map(|(suffix, bytes)| (format!("{base}-{suffix}.csv"), bytes))
            .collect(),
    })
}

/// An agency code as a file-name part: letters, digits, `.`, `-` and `_` kept, anything else
/// `_` (no separator, no `..` path); `khong-ma` when empty.
fn file_safe(code: &str) -> String {
    let s: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('.').replace("..", "_");
    if s.is_empty() {
        "khong-ma".to_string()
    } else {
        s
    }
}

/// The file-name suffix of the IT annex (`bao-cao-tien-do-2024-08-ky-thuat.md`).
pub const ANNEX_SUFFIX: &str = "ky-thuat";

/// `bao-cao-tien-do-2024-08`.
pub fn file_stem(report: &MonthlyReport) -> String {
    format!("bao-cao-tien-do-{}", report.month.iso())
}
